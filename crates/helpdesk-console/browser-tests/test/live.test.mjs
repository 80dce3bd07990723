// The console live: what the API records shows without a reload, through
// either replica, and an event's attempts as they happen.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { join } from "node:path";
import * as lark from "@larksuiteoapi/node-sdk";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { startDemo, startReplica, launch, admin, shots, accessible, ticketImage, sha256 } from "../lib/harness.mjs";

/// Runs a copied curl in a shell, with `env`; its stdout as bytes.
async function run(curl, env = {}) {
  const { stdout } = await promisify(execFile)("sh", ["-c", `${curl} --silent --show-error`],
    { env: { ...process.env, ...env }, encoding: "buffer", maxBuffer: 64 << 20 });
  return stdout;
}

let server, replica, browser, context;

before(async () => {
  // Quick retries, for the 500, 500, 200 receiver: on both replicas, as
  // either may deliver.
  const quick = ["--event-retry-schedule", "100ms,100ms,100ms"];
  server = await startDemo(quick);
  replica = await startReplica(server.dir, quick);
  browser = await launch();
  context = await browser.newContext();
  // Each page notes when its stream is open, and keeps a mark a reload
  // would wipe.
  await context.addInitScript(() => {
    window.__mark = Math.random();
    document.addEventListener("htmx:sseOpen", () => { window.__sseOpen = true; });
  });
  const page = await context.newPage();
  await page.goto(server.link);
  await page.close();
});

after(async () => {
  await browser?.close();
  replica?.stop();
  server?.stop();
});

/// The official Node SDK as the demo's app, against `base`.
const sdk = (base) => new lark.Client({
  appId: server.demo.app_id,
  appSecret: server.demo.app_secret,
  helpDeskId: server.demo.helpdesk_id,
  helpDeskToken: server.demo.helpdesk_token,
  domain: base,
  loggerLevel: lark.LoggerLevel.error,
});

async function post(base, text) {
  const res = await sdk(base).helpdesk.v1.ticketMessage.create(
    { path: { ticket_id: server.demo.ticket_id }, data: { msg_type: "text", content: JSON.stringify({ text }) } },
    lark.withHelpDeskCredential(),
  );
  assert.equal(res.code, 0, JSON.stringify(res));
  return res.data.message_id;
}

/// The numbers of the attempts an event's page lists, in order.
const attemptNumbers = (page) =>
  page.locator("#attempts > li.attempt").evaluateAll((items) => items.map((li) => li.dataset.attempt));

async function opened(path) {
  const page = await context.newPage();
  await page.goto(`${server.url}${path}`);
  await page.waitForFunction(() => window.__sseOpen === true);
  return { page, mark: await page.evaluate(() => window.__mark) };
}

/// Posts through `base` and waits, at most 1 s from the SDK's answer, for
/// the message on the open ticket page.
async function appearsWithinASecond(page, base, text) {
  const messageId = await post(base, text);
  const posted = Date.now();
  await page.locator(`#m-${messageId}`).waitFor({ state: "visible", timeout: 1000 });
  const took = Date.now() - posted;
  assert.ok(took <= 1000, `the message took ${took} ms to show`);
  assert.match(await page.locator(`#m-${messageId} pre.content`).innerText(), new RegExp(text));
  return took;
}

test("a message posted through the SDK appears within 1 s without a reload, also through a second replica", async () => {
  const { page, mark } = await opened(`/tickets/${server.demo.ticket_id}`);
  const before = await page.locator("#timeline > li").count();

  const here = await appearsWithinASecond(page, server.demo.base_url, "posted through the first replica");
  const there = await appearsWithinASecond(page, replica.base, "posted through the second replica");
  console.log(`# shown ${here} ms after the first replica answered, ${there} ms after the second`);

  assert.equal(await page.locator("#timeline > li").count(), before + 2, "each shows once");
  assert.match(await page.locator("#live-say").innerText(), /New message/, "the live region says so");
  assert.equal(await page.evaluate(() => window.__mark), mark, "the page was not reloaded");
  await page.screenshot({ path: join(shots, "ticket-live.png"), fullPage: true });
  await accessible(page, "a ticket page after live messages");

  // An image's curl, copied, run as printed: ticket_images' bytes.
  const postMsg = server.demo.messages.find((m) => m.message_type === "post");
  const copyButton = page.locator(`#m-${postMsg.message_id} button.copy-curl`).nth(1);
  await copyButton.click();
  const curl = await copyButton.getAttribute("data-copied");
  assert.match(curl, /^curl .*ticket_images\?ticket_id=/);
  const tokenRes = await fetch(`${server.demo.base_url}/open-apis/auth/v3/tenant_access_token/internal`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ app_id: server.demo.app_id, app_secret: server.demo.app_secret }),
  });
  const bytes = await run(curl, {
    TOKEN: (await tokenRes.json()).tenant_access_token,
    HELPDESK_CREDENTIAL: Buffer.from(`${server.demo.helpdesk_id}:${server.demo.helpdesk_token}`).toString("base64"),
  });
  assert.equal(sha256(bytes), sha256(await ticketImage(server.demo, postMsg.message_id, 1)), "the copied curl fetches index 1");

  // The front page's activity lists both.
  const front = await opened("/");
  const third = await post(replica.base, "posted while the front page is open");
  await front.page.locator(`#activity a[href$="#m-${third}"]`).waitFor({ timeout: 1000 });
  await front.page.screenshot({ path: join(shots, "index-live.png"), fullPage: true });
  await accessible(front.page, "the front page with live activity");
  await front.page.close();
  await page.close();
});

test("an event answered 500, 500, 200 shows three attempts with their bodies; Redeliver adds a fourth, live", async () => {
  const bodies = [];
  const answers = [500, 500, 200];
  let eventId = null;
  const ids = [];
  const receiver = http.createServer((req, res) => {
    let data = "";
    req.on("data", (d) => { data += d; });
    req.on("end", () => {
      const doc = JSON.parse(data);
      if (doc.type === "url_verification") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ challenge: doc.challenge }));
        return;
      }
      if (doc.header?.event_type !== "helpdesk.ticket_message.created_v1") {
        res.writeHead(200);
        res.end("ignored");
        return;
      }
      eventId ??= doc.header.event_id;
      ids.push(doc.header.event_id);
      const status = answers[bodies.length] ?? 200;
      const body = `answer ${bodies.length + 1}: ${status}`;
      bodies.push(body);
      res.writeHead(status, { "content-type": "text/plain", "x-receiver": "browser-test" });
      res.end(body);
    });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${receiver.address().port}/events`;
  try {
    await admin(server.dir, "app", "events", "--app", server.demo.app_id, "--url", url);
    const c = sdk(server.demo.base_url);
    const sub = await c.helpdesk.v1.event.subscribe(
      { data: { events: [{ type: "helpdesk.ticket_message", subtype: "ticket_message.created_v1" }] } },
      lark.withHelpDeskCredential(),
    );
    assert.equal(sub.code, 0, JSON.stringify(sub));
    await post(server.demo.base_url, "an event for the receiver");
    for (let i = 0; i < 200 && bodies.length < 3; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(bodies.length, 3, "the receiver was asked three times");

    const { page, mark } = await opened(`/events/${eventId}`);
    const attempts = page.locator("#attempts > li.attempt");
    // The third attempt's outcome may still be committing.
    await attempts.nth(2).waitFor({ timeout: 2000 });
    assert.deepEqual(await attemptNumbers(page), ["1", "2", "3"], `the receiver saw ${JSON.stringify(ids)}`);
    for (let i = 0; i < 3; i++) {
      assert.equal(await attempts.nth(i).locator(".status").innerText(), String(answers[i]));
      assert.equal(await attempts.nth(i).locator("pre.body").innerText(), bodies[i]);
    }
    await page.screenshot({ path: join(shots, "event.png"), fullPage: true });

    // A stream that starts before what the page shows (as when an attempt
    // commits between the page's read of the feed's head and of the
    // attempts) brings each attempt again: the page keeps one of each.
    const overlap = await context.newPage();
    await overlap.route(`**/events/${eventId}`, async (route) => {
      const res = await route.fetch();
      await route.fulfill({ response: res, body: (await res.text()).replace(/&amp;after=\d+/, "&amp;after=0") });
    });
    await overlap.goto(`${server.url}/events/${eventId}`);
    await overlap.waitForFunction(() => window.__sseOpen === true);
    await overlap.waitForTimeout(500);
    assert.deepEqual(await attemptNumbers(overlap), ["1", "2", "3"], "each attempt once, though the stream replayed them");
    await overlap.close();

    await page.getByRole("button", { name: "Redeliver" }).click();
    await attempts.nth(3).waitFor({ timeout: 3000 });
    assert.equal(await attempts.count(), 4);
    assert.equal(await attempts.nth(3).locator("pre.body").innerText(), bodies[3]);
    assert.equal(await page.locator("#attempt-count").innerText(), "4");
    assert.equal(await page.evaluate(() => window.__mark), mark, "the page was not reloaded");
    assert.match(await page.locator("#live-say").innerText(), /Attempt 4 answered HTTP 200/);
    await page.screenshot({ path: join(shots, "event-redelivered.png"), fullPage: true });
    await accessible(page, "an event's page");

    // Copy as curl: the event, sealed afresh, to the receiver.
    const copy = page.getByRole("button", { name: "Copy as curl" });
    await copy.click();
    const curl = await copy.getAttribute("data-copied");
    assert.ok(curl.startsWith(`curl -X POST '${url}'`), curl);
    const answer = (await run(curl)).toString();
    assert.equal(answer, "answer 5: 200", "the receiver answered the copied curl");
    assert.equal(bodies.length, 5);
    assert.deepEqual(ids, Array(5).fill(eventId), "every attempt and the curl carry one event_id");
    await page.close();
  } finally {
    await admin(server.dir, "app", "events", "--app", server.demo.app_id, "--url", "").catch(() => {});
    receiver.close();
  }
});
