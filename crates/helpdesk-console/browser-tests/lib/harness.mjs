// A demo server with its console, and Debian's chromium driven by
// playwright-core (never a downloaded browser).
import { spawn, execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, readFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { chromium } from "playwright-core";
import AxeBuilder from "@axe-core/playwright";
import assert from "node:assert/strict";

const bin = process.env.HELPDESK_BIN;
if (!bin) throw new Error("HELPDESK_BIN names the helpdesk binary: run ./scripts/test");

/// Where screenshots go: kept as artifacts of the run.
export const shots = process.env.HELPDESK_SCREENSHOTS ?? join(process.cwd(), "screenshots");
mkdirSync(shots, { recursive: true });

export const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");

/// `helpdesk serve --demo` with its console on a free port; resolves once
/// both are up, with the console URL, the sign-in link and demo.json.
/// `args`: more `serve` flags.
export async function startDemo(args = []) {
  const dir = mkdtempSync(join(tmpdir(), "helpdesk-console-"));
  const child = spawn(bin, ["serve", "--demo", "--data-dir", dir, "--listen", "127.0.0.1:0",
    "--console-listen", "127.0.0.1:0", "--exit-with-parent", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  child.stdout.on("data", (d) => { out += d; });
  child.stderr.on("data", (d) => { err += d; });
  for (let i = 0; i < 600; i++) {
    const console_ = out.match(/^helpdesk console on (\S+)$/m);
    const link = err.match(/(http:\/\/\S+\/login\?token=[0-9a-f]+)/);
    if (console_ && link) {
      const demo = JSON.parse(readFileSync(join(dir, "demo.json"), "utf8"));
      return { child, dir, url: console_[1], link: link[1], demo, stop: () => child.kill("SIGTERM") };
    }
    if (child.exitCode !== null) throw new Error(`helpdesk serve exited: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  throw new Error(`the console never started: ${out} ${err}`);
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.HELPDESK_CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run"],
  });
}

/// ticket_images as an app calls it, with demo.json's credentials.
export async function ticketImage(demo, msgId, index) {
  const tokenRes = await fetch(`${demo.base_url}/open-apis/auth/v3/tenant_access_token/internal`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ app_id: demo.app_id, app_secret: demo.app_secret }),
  });
  const { tenant_access_token: token } = await tokenRes.json();
  const credential = Buffer.from(`${demo.helpdesk_id}:${demo.helpdesk_token}`).toString("base64");
  const q = new URLSearchParams({ ticket_id: demo.ticket_id, msg_id: msgId, index: String(index) });
  const res = await fetch(`${demo.base_url}/open-apis/helpdesk/v1/ticket_images?${q}`, {
    headers: { authorization: `Bearer ${token}`, "x-lark-helpdesk-authorization": credential },
  });
  if (res.status !== 200) throw new Error(`ticket_images answered ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/// A second replica on the demo's data dir (no console of its own), with
/// more `serve` flags in `args`; resolves with its API base URL once it
/// listens.
export async function startReplica(dir, args = []) {
  const child = spawn(bin, ["serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--exit-with-parent", ...args],
    { stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  child.stdout.on("data", (d) => { out += d; });
  child.stderr.on("data", (d) => { err += d; });
  for (let i = 0; i < 600; i++) {
    const listening = out.match(/^helpdesk listening on (\S+)$/m);
    if (listening) return { child, base: listening[1], stop: () => child.kill("SIGTERM") };
    if (child.exitCode !== null) throw new Error(`the replica exited: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  throw new Error(`the replica never started: ${out} ${err}`);
}

/// `helpdesk admin` on the demo's data dir; its JSON answer.
export async function admin(dir, ...args) {
  const { stdout } = await promisify(execFile)(bin, ["admin", "--data-dir", dir, ...args]);
  return JSON.parse(stdout);
}

/// Fails when axe finds a serious or critical violation on `page`.
export async function accessible(page, label) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help}`), [], label);
}
