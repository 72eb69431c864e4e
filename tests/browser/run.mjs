#!/usr/bin/env node
// The package's browser tests: serves the repository on loopback (a secure
// context, so WebCrypto exists), opens tests/browser/page.html, which runs
// the isomorphic cases of tests/support/{engines,workers}.mjs against the
// no-bundler build (pkg/web), in headless Chromium (Debian's, through
// playwright-core) and headless Firefox ESR (through puppeteer-core over
// WebDriver BiDi). No browser is downloaded.
//
//   node tests/browser/run.mjs [chromium] [firefox] [--only text]
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { launchChromium } from '../../chain/chromium.mjs';
import { inboxWorld } from '../support/inbox.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = process.argv.slice(2);
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? args.splice(onlyAt, 2)[1] : undefined;
const browsers = args.length ? args : ['chromium', 'firefox'];
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';

/**
 * A static file server for the repository, on a free loopback port, which
 * also takes the test page's reports (`POST /__report?run=ID`, one JSON
 * message each: `{ result }` per case, then `{ done }`).
 */
export async function serveRepository() {
  const runs = new Map();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (req.method === 'POST' && url.pathname === '/__report') {
      const run = runs.get(url.searchParams.get('run'));
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        if (run) run.take(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(run ? 204 : 404).end();
      });
      return;
    }
    const file = path.join(root, path.normalize(decodeURIComponent(url.pathname)));
    if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream', 'cache-control': 'no-store' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  /**
   * A new run: its id for the page's query, and `finished(ms)`, the page's
   * results once it reports `done` (or, after `ms`, an error naming the
   * last case that reported).
   */
  function expectRun() {
    const id = Math.random().toString(36).slice(2);
    const results = [];
    let end;
    const ended = new Promise((resolve) => { end = resolve; });
    runs.set(id, { take: (m) => (m.result ? results.push(m.result) : end(results)) });
    async function finished(ms) {
      let timer;
      const late = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(
          `the page did not finish in ${ms / 1000} s; last case reported: ${results.at(-1)?.name ?? 'none'}`)), ms);
      });
      try {
        return await Promise.race([ended, late]);
      } finally {
        clearTimeout(timer);
        runs.delete(id);
      }
    }
    return { id, finished };
  }
  return { server, origin: `http://127.0.0.1:${server.address().port}`, expectRun };
}

/** How long the page may take to run every case. */
const PAGE_MS = 600_000;

async function inChromium(url, run) {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url);
    return { results: await run.finished(PAGE_MS), errors };
  } finally {
    await browser.close();
  }
}

async function inFirefox(url, run) {
  const puppeteer = (await import('puppeteer-core')).default;
  const browser = await puppeteer.launch({
    browser: 'firefox', executablePath: FIREFOX, headless: true, protocol: 'webDriverBiDi',
    extraPrefsFirefox: { 'app.update.enabled': false, 'browser.shell.checkDefaultBrowser': false },
  });
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url);
    return { results: await run.finished(PAGE_MS), errors };
  } finally {
    await browser.close();
  }
}

if (!fs.existsSync(path.join(root, 'pkg', 'web', 'ehrchain.js'))) {
  console.error('pkg/ is missing: run scripts/build-pkg.sh');
  process.exit(1);
}
const { server, origin, expectRun } = await serveRepository();
let failed = 0;
// A chain with grants for the inbox cases (skipped with --only if they are not selected).
let world;
let inbox = '';
if (!only || 'inbox: scanInbox'.includes(only) || only.startsWith('inbox')) {
  const ehr = createRequire(import.meta.url)(path.join(root, 'pkg', 'node', 'ehrchain.js'));
  world = await inboxWorld(ehr);
  const expected = await world.post({ mine: 3, others: 40 });
  inbox = `inbox=${encodeURIComponent(JSON.stringify({
    rpcUrl: world.rpcUrl, registry: world.registry, fromBlock: world.deployBlock, events: 43, expected,
    doctorSecret: Buffer.from(world.doctor.exportSecret()).toString('hex'),
  }))}`;
}
try {
  for (const name of browsers) {
    const run = { chromium: inChromium, firefox: inFirefox }[name];
    if (!run) throw new Error(`unknown browser ${name} (chromium, firefox)`);
    const expected = expectRun();
    const query = [`run=${expected.id}`, only ? `only=${encodeURIComponent(only)}` : '', inbox].filter(Boolean).join('&');
    const url = `${origin}/tests/browser/page.html?${query}`;
    const started = Date.now();
    const { results, errors } = await run(url, expected);
    for (const r of results) {
      console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${name}: ${r.name}${r.ok ? ` (${Math.round(r.ms)} ms)` : `\n${r.error}`}`);
      if (!r.ok) failed += 1;
    }
    for (const e of errors) console.log(`page error in ${name}: ${e}`);
    if (results.length === 0) { console.log(`FAIL ${name}: no case ran`); failed += 1; }
    console.log(`${name}: ${results.filter((r) => r.ok).length}/${results.length} passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
} finally {
  server.close();
  await world?.close();
}
process.exit(failed ? 1 : 0);
