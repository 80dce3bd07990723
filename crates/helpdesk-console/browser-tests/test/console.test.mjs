// The inspector console in a real browser, on the demo.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startDemo, launch, ticketImage, sha256, shots, accessible } from "../lib/harness.mjs";

let server, browser, context;

before(async () => {
  server = await startDemo();
  browser = await launch();
  context = await browser.newContext();
  const page = await context.newPage();
  const res = await page.goto(server.link);
  assert.equal(new URL(page.url()).pathname, "/", "the sign-in drops the token");
  assert.equal(res.status(), 200);
  await page.close();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

const post = () => server.demo.messages.find((m) => m.message_type === "post");

test("the post's second thumbnail opens a lightbox with ticket_images' index 1, by keyboard too", async () => {
  const page = await context.newPage();
  await page.goto(`${server.url}/tickets/${server.demo.ticket_id}`);
  const thumbs = page.locator(`#m-${post().message_id} a.thumb`);
  assert.equal(await thumbs.count(), post().images.length);
  const second = thumbs.nth(1);
  await second.focus();
  await page.keyboard.press("Enter");
  const dialog = page.locator("#lightbox");
  await dialog.waitFor({ state: "visible" });
  const src = await page.locator("#lightbox-img").getAttribute("src");
  const shown = await page.evaluate(async (u) => {
    const r = await fetch(u);
    return Array.from(new Uint8Array(await r.arrayBuffer()));
  }, src);
  const api = await ticketImage(server.demo, post().message_id, 1);
  assert.equal(sha256(Buffer.from(shown)), sha256(api), "the lightbox shows ticket_images index 1");
  assert.equal(sha256(api), post().images[1].sha256, "and that is demo.json's image");
  await page.screenshot({ path: join(shots, "lightbox.png") });

  await page.keyboard.press("ArrowRight");
  assert.match(await page.locator("#lightbox-img").getAttribute("src"), /\/images\/2$/);
  await page.keyboard.press("ArrowLeft");
  assert.match(await page.locator("#lightbox-img").getAttribute("src"), /\/images\/1$/);
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden" });
  assert.equal(
    await page.evaluate(() => document.activeElement?.getAttribute("href")),
    await second.getAttribute("href"),
    "focus returns to the thumbnail that opened it",
  );
  await page.close();
});

test("on a screen of two pixels per CSS pixel, thumbnails are the 400 px rendering", async () => {
  const sharp = await browser.newContext({ deviceScaleFactor: 2 });
  await sharp.addCookies(await context.cookies());
  const page = await sharp.newPage();
  await page.goto(`${server.url}/tickets/${server.demo.ticket_id}`);
  const img = page.locator(`#m-${post().message_id} a.thumb img`).first();
  await img.scrollIntoViewIfNeeded();
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
  assert.match(await img.evaluate((el) => el.currentSrc), /\/thumb\?w=400$/);
  await sharp.close();
});

/// The demo FAQ's page, as the FAQs page links it.
async function demoFaqPath() {
  const page = await context.newPage();
  await page.goto(`${server.url}/faqs`);
  const href = await page.locator('main a[href^="/faqs/"]').first().getAttribute("href");
  await page.close();
  return href;
}

test("the demo FAQ's answer shows its two images, and its lightbox their originals", async () => {
  const page = await context.newPage();
  await page.goto(`${server.url}${await demoFaqPath()}`);
  const thumbs = page.locator("#faq-images a.thumb");
  assert.equal(await thumbs.count(), 2);
  await thumbs.nth(1).focus();
  await page.keyboard.press("Enter");
  await page.locator("#lightbox").waitFor({ state: "visible" });
  await page.keyboard.press("ArrowLeft");
  const src = await page.locator("#lightbox-img").getAttribute("src");
  const shown = await page.evaluate(async (u) => {
    const r = await fetch(u);
    return Array.from(new Uint8Array(await r.arrayBuffer()));
  }, src);
  // The FAQ's first image is the demo's login-error.png, the image message's.
  const image = server.demo.messages.find((m) => m.message_type === "image").images[0];
  assert.equal(sha256(Buffer.from(shown)), image.sha256);
  await page.keyboard.press("Escape");
  await page.close();
});

test("no page has a serious or critical accessibility violation", async () => {
  const pages = {
    faqs: "/faqs",
    faq: await demoFaqPath(),
    tenants: "/",
    tenant: `/tenants/${server.demo.tenant_key}`,
    ticket: `/tickets/${server.demo.ticket_id}`,
    events: "/events",
    "not-found": "/tickets/7000000000000000000",
  };
  for (const [name, path] of Object.entries(pages)) {
    const page = await context.newPage();
    await page.goto(`${server.url}${path}`);
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
    await accessible(page, `${name} (${path})`);
    await page.close();
  }
  // Signed out: the sign-in page.
  const fresh = await browser.newContext();
  const page = await fresh.newPage();
  const res = await page.goto(`${server.url}/`);
  assert.equal(res.status(), 401);
  await page.screenshot({ path: join(shots, "sign-in.png") });
  await accessible(page, "the sign-in page");
  await fresh.close();
});

/// The files of a zip whose entries are stored (as the console writes
/// them), read from its central directory.
function unzipStored(buf) {
  const end = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(end >= 0, "an end of central directory");
  const count = buf.readUInt16LE(end + 10);
  let at = buf.readUInt32LE(end + 16);
  const files = new Map();
  for (let i = 0; i < count; i++) {
    assert.equal(buf.readUInt32LE(at), 0x02014b50);
    assert.equal(buf.readUInt16LE(at + 10), 0, "stored");
    const size = buf.readUInt32LE(at + 24);
    const nameLen = buf.readUInt16LE(at + 28);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.subarray(at + 46, at + 46 + nameLen).toString();
    const localName = buf.readUInt16LE(local + 26);
    const localExtra = buf.readUInt16LE(local + 28);
    const start = local + 30 + localName + localExtra;
    files.set(name, buf.subarray(start, start + size));
    at += 46 + nameLen;
  }
  return files;
}

test("the ticket's zip holds every image of demo.json, byte for byte, with the export's manifest", async () => {
  const page = await context.newPage();
  await page.goto(`${server.url}/tickets/${server.demo.ticket_id}`);
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "download all (zip)" }).click(),
  ]);
  const { readFile } = await import("node:fs/promises");
  const files = unzipStored(await readFile(await download.path()));
  const manifest = JSON.parse(files.get("manifest.json").toString());
  assert.equal(manifest.ticket_id, server.demo.ticket_id);
  const want = server.demo.messages.flatMap((m) => m.images.map((i) => i.sha256));
  assert.deepEqual(manifest.images.map((i) => i.sha256), want, "every image, in order");
  for (const entry of manifest.images) {
    const bytes = files.get(entry.file_name);
    assert.ok(bytes, `${entry.file_name} is in the zip`);
    assert.equal(sha256(bytes), entry.sha256, entry.file_name);
    assert.equal(bytes.length, entry.size);
  }
  await page.close();
});
