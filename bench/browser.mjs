#!/usr/bin/env node
// Browser benchmark (not a test): serves the repository on loopback, opens
// bench/browser.html in headless Chromium (Debian's, via playwright-core) and
// prints MB/s of encrypt+hash and verify+decrypt for a 256 MiB record streamed
// through the package's TransformStreams, the stealth-tag tests per second,
// and the page's peak memory (JS heap + wasm memory, sampled in the page) and
// the renderer processes' peak RSS (sampled from /proc).
//
//   bash scripts/build-pkg.sh && node bench/browser.mjs [--mib 256] [--events 2000] [--gc]
//
// --gc exposes gc() to the page, which collects every 16 MiB: the sampled
// heap is then the live set rather than uncollected garbage.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium } from "../chain/chromium.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const mib = Number(arg("mib", 256));
const events = Number(arg("events", 2000));
const gc = process.argv.includes("--gc");
const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  const file = path.join(root, path.normalize(url.pathname));
  if (!file.startsWith(root) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { "content-type": types[path.extname(file)] || "application/octet-stream" });
  fs.createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const port = server.address().port;

function rendererRssMiB() {
  let max = 0;
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!cmd.includes("chromium") || !cmd.includes("--type=renderer")) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
      if (rss) max = Math.max(max, Number(rss[1]) / 1024);
    } catch { /* process ended */ }
  }
  return max;
}

const browser = await launchChromium({
  extraArgs: ["--enable-precise-memory-info", ...(gc ? ["--js-flags=--expose-gc"] : [])],
});
let peakRss = 0;
const rssTimer = setInterval(() => { peakRss = Math.max(peakRss, rendererRssMiB()); }, 100);
try {
  const page = await browser.newPage();
  // A page error ends the run at once (instead of waiting out the timeout).
  page.on("pageerror", (e) => {
    console.error("page error:", e.message);
    page.evaluate((m) => { window.__bench ??= { error: m }; }, e.message).catch(() => {});
  });
  await page.goto(`http://127.0.0.1:${port}/bench/browser.html?mib=${mib}&events=${events}`);
  await page.waitForFunction(() => window.__bench, null, { timeout: 15 * 60 * 1000, polling: 500 });
  const result = await page.evaluate(() => window.__bench);
  result.peakRendererRssMiB = Math.round(peakRss);
  result.browser = browser.version();
  result.forcedGc = gc;
  console.log(JSON.stringify(result, null, 2));
  if (result.error || !result.plaintextOk || result.tagMatchesFound !== 1) process.exitCode = 1;
} finally {
  clearInterval(rssTimer);
  await browser.close();
  server.close();
}
