// One console page loaded again and again in Debian's chromium, for
// scripts/bench-console: DOMContentLoaded of each load (from the
// navigation's start), and every request the page made that went anywhere
// but the console itself.
//
// Usage: node bench/page-load.mjs URL COOKIE LOADS
//   COOKIE  name=value of a signed-in session
// Prints one line: RESULT median_ms max_ms foreign_requests
import { chromium } from "playwright-core";

const [url, cookie, loads = "10"] = process.argv.slice(2);
if (!url || !cookie) throw new Error("usage: page-load.mjs URL COOKIE LOADS");
const origin = new URL(url).origin;
const [name, value] = cookie.split(/=(.*)/s);

const browser = await chromium.launch({
  executablePath: process.env.HELPDESK_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run"],
});
const foreign = new Set();
const times = [];
try {
  for (let i = 0; i < Number(loads); i++) {
    // A fresh context each time: nothing cached, as a first visit.
    const context = await browser.newContext();
    await context.addCookies([{ name, value, url: origin, httpOnly: true, sameSite: "Strict" }]);
    const page = await context.newPage();
    page.on("request", (r) => {
      const u = new URL(r.url());
      if (u.origin !== origin && u.protocol !== "data:" && u.protocol !== "blob:") foreign.add(r.url());
    });
    const res = await page.goto(url, { waitUntil: "domcontentloaded" });
    if (res.status() !== 200) throw new Error(`${url} answered ${res.status()}`);
    const dcl = await page.evaluate(() => {
      const nav = performance.getEntriesByType("navigation")[0];
      return nav.domContentLoadedEventEnd - nav.startTime;
    });
    times.push(dcl);
    await context.close();
  }
} finally {
  await browser.close();
}
times.sort((a, b) => a - b);
for (const u of foreign) console.error(`a request to another origin: ${u}`);
console.log(`RESULT ${times[Math.floor(times.length / 2)].toFixed(1)} ${times[times.length - 1].toFixed(1)} ${foreign.size}`);
