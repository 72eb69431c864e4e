// The portal's end-to-end flows, run by tests/portal/run.mjs. Each flow is
// { name, browsers, run(flow) }: `browsers` lists where it runs (none: a flow
// without a browser); `run` throws on failure, or resolves a string to report
// the flow skipped (with why). A flow gets:
//
//   flow.env        the environment (scripts/devenv.mjs startEnv: rpcUrl, registry,
//                   authority, hospitals [{name, endpoint}], portalUrl, config, …)
//   flow.accounts   Hardhat's dev accounts by role: health_authority, doctor_A,
//                   doctor_B, doctor_C, patient ({ address, privateKey })
//   flow.actor(label, address, walletOptions?)  a person: a fresh browser profile
//                   with the test wallet (provider.js) on `address`; see run.mjs's
//                   Actor for what it can do (click by role and name, fill by
//                   label, screenshots, axe, wallet controls)
//   flow.note(text) a line printed under the flow's result
//
// After `run`, the harness fails the flow on any console error, page error or
// CSP violation of any actor and on any serious/critical axe violation.
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { AbiCoder, id as eventId } from 'ethers';
import { serve } from '../../www/serve.mjs';
import { ROOT } from '../../scripts/devenv.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The portal's views (hash routes: www/README.md "Roles and flows"). */
export const VIEWS = ['wallet', 'authority', 'doctor', 'inbox', 'patient'];

function check(cond, message) {
  if (!cond) throw new Error(message);
}

/** A pattern matching `address` as the portal may show it: in full or shortened (0x1234…abcd). */
export function addressPattern(address) {
  const a = address.toLowerCase();
  return new RegExp(`${a}|${a.slice(0, 6)}\\s*(?:…|\\.\\.\\.)\\s*${a.slice(-4)}`, 'i');
}

/** Waits until the portal has rendered something in <main>. */
async function rendered(actor, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    // The mounted view (not index.html's static "Loading the portal…").
    const n = await actor.evaluate(() => document.querySelector('main [data-view]')?.innerText.trim().length ?? 0).catch(() => 0);
    if (n > 0) return;
    await sleep(150);
  }
  throw new Error(`${actor.label}: <main> stayed empty for ${ms} ms`);
}

/** Opens a view by its hash route and waits for it to render. */
export async function openView(actor, view) {
  await actor.goto(`#${view}`);
  await rendered(actor);
  await sleep(300); // the view's first reads (chain, config) settle
}

/**
 * Connects the test wallet through the portal's own controls (the #wallet
 * view's connect button; a wallet chooser's "Test Wallet" entry if one is
 * offered) and waits until the page shows the account.
 */
export async function connectWallet(actor) {
  await openView(actor, 'wallet');
  await actor.click('button', /connect/i);
  // A chooser of the EIP-6963 wallets, if the portal shows one.
  if (await actor.has('button', /test wallet/i).catch(() => false)) await actor.click('button', /test wallet/i);
  await actor.waitForText(addressPattern(actor.account));
  const requests = await actor.wallet('requests');
  check(requests.some((r) => r.method === 'eth_requestAccounts' && r.ok), 'the portal never asked the wallet for accounts (eth_requestAccounts)');
}

// ---- serve: the static server's own checks (no browser) ----

/**
 * One HTTP/1.1 request over a bare socket: the path is sent byte for byte as
 * written (no URL normalisation, backslashes and all). Resolves { status, headers, body }.
 */
function rawRequest(origin, rawPath, method = 'GET', extraHeaders = {}) {
  const u = new URL(origin);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(u.port), u.hostname);
    const chunks = [];
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', reject);
    sock.on('end', () => {
      const raw = Buffer.concat(chunks);
      const split = raw.indexOf('\r\n\r\n');
      const head = raw.subarray(0, split).toString('latin1').split('\r\n');
      const status = Number(head[0].split(' ')[1]);
      const headers = {};
      for (const line of head.slice(1)) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status, headers, body: raw.subarray(split + 4) });
    });
    const extra = Object.entries(extraHeaders).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    sock.write(`${method} ${rawPath} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\n${extra}\r\n`, 'latin1');
  });
}

async function serveFlow(flow) {
  const { portalUrl, config, rpcUrl, hospitals } = flow.env;
  // Directory traversal and hidden files, every spelling.
  const refused = [
    '/../package.json', '/../../etc/passwd', '/%2e%2e/package.json', '/%2E%2E/%2E%2E/etc/passwd',
    '/..%2fpackage.json', '/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/..\\package.json', '/%5c..%5cpackage.json',
    '/.%2e/package.json', '/%252e%252e/package.json', '/index.html%00.js', '//etc/passwd', '/./index.html',
    '/.devenv-built', '/%2edevenv-built', '/nonexistent.js', '/index.html/', '/%zz',
  ];
  for (const p of refused) {
    const r = await rawRequest(portalUrl, p);
    check(r.status === 404 || r.status === 400, `GET ${p}: HTTP ${r.status} (expected 404)`);
    check(!/"name"\s*:\s*"ehrchain|root:x:0/.test(r.body.toString()), `GET ${p} leaked a file`);
  }
  // A symlink that leaves the root.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'serve-'));
  fs.writeFileSync(path.join(tmp, 'index.html'), '<!doctype html><html></html>');
  fs.symlinkSync(path.join(ROOT, 'package.json'), path.join(tmp, 'out.json'));
  fs.mkdirSync(path.join(tmp, 'sub'));
  fs.writeFileSync(path.join(tmp, 'sub', 'index.html'), '<!doctype html><html>sub</html>');
  const s = await serve({ root: tmp, port: 0 });
  try {
    check((await rawRequest(s.url, '/out.json')).status === 404, 'a symlink out of the root was served');
    check((await rawRequest(s.url, '/sub/')).body.toString().includes('sub'), '/sub/ did not serve sub/index.html');
    check((await rawRequest(s.url, '/sub')).status === 404, 'a directory without a slash was not a 404');
    check((await rawRequest(s.url, '/config.json')).status === 404, '/config.json without a config was not a 404');
  } finally {
    await s.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  // What is served, and how.
  const index = await rawRequest(portalUrl, '/');
  check(index.status === 200 && /^text\/html/.test(index.headers['content-type']), `GET /: ${index.status} ${index.headers['content-type']}`);
  for (const [h, v] of [['cache-control', 'no-cache'], ['x-content-type-options', 'nosniff']]) {
    check(index.headers[h] === v, `GET /: ${h} = ${index.headers[h]}`);
  }
  const csp = index.headers['content-security-policy'] || '';
  for (const d of ["script-src 'self' 'wasm-unsafe-eval'", "worker-src 'self' blob:", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"]) {
    check(csp.includes(d), `CSP lacks ${d}: ${csp}`);
  }
  const connect = /connect-src ([^;]*)/.exec(csp)?.[1] || '';
  for (const o of [rpcUrl, ...hospitals.map((h) => h.endpoint)]) check(connect.includes(new URL(o).origin), `connect-src lacks ${o}: ${connect}`);
  check(!csp.includes("'unsafe-inline'") && !csp.includes("'unsafe-eval'"), `CSP allows unsafe-*: ${csp}`);
  const cfg = await rawRequest(portalUrl, '/config.json');
  check(/^application\/json/.test(cfg.headers['content-type']), `config.json type ${cfg.headers['content-type']}`);
  check(JSON.stringify(JSON.parse(cfg.body)) === JSON.stringify(config), `config.json = ${cfg.body}`);
  check((await rawRequest(portalUrl, '/', 'POST')).status === 405, 'POST / was not 405');
  check((await rawRequest(portalUrl, '/', 'HEAD')).status === 200, 'HEAD / was not 200');
  // The bundle's files: types, and the service worker's scope header.
  const dist = flow.env.portalRoot;
  const files = fs.existsSync(dist) ? fs.readdirSync(dist) : [];
  const types = { '.js': /^text\/javascript/, '.wasm': /^application\/wasm$/, '.css': /^text\/css/, '.html': /^text\/html/ };
  let checked = 0;
  for (const f of files) {
    const want = types[path.extname(f)];
    if (!want || f.startsWith('.')) continue;
    const r = await rawRequest(portalUrl, `/${encodeURIComponent(f)}`, 'HEAD');
    check(r.status === 200 && want.test(r.headers['content-type']), `/${f}: ${r.status} ${r.headers['content-type']}`);
    if (f === 'sw.js') check(r.headers['service-worker-allowed'] === '/', 'sw.js lacks Service-Worker-Allowed: /');
    checked++;
  }
  check((await rawRequest(portalUrl, '/', 'GET', { 'If-None-Match': index.headers.etag })).status === 304, 'If-None-Match did not give 304');
  flow.note(`${refused.length} traversal/hidden paths refused, ${checked} bundle files typed`);
}

// ---- smoke: every view renders, the wallet connects, no console error, axe clean ----

async function smokeFlow(flow) {
  const authority = await flow.actor('authority', flow.env.authority);
  await authority.goto('/');
  await rendered(authority);
  await authority.screenshot('home');
  await connectWallet(authority);
  for (const view of VIEWS) {
    await openView(authority, view);
    await authority.screenshot(view);
    const violations = await authority.axe(view);
    flow.note(`${view}: ${violations.length ? violations.map((v) => `${v.impact} ${v.id}`).join(', ') : 'axe clean'}`);
  }
  // A reload keeps the connection (the wallet shares the account without a prompt).
  await authority.goto('#wallet');
  await rendered(authority);
  await authority.waitForText(addressPattern(authority.account));
}

// ---- full: the paper's flow through the portal (issue #13) ----
//
// authority certifies doctors A, B and C; A creates a 32 MiB record at St
// Mary's; the patient files it and grants B; B's inbox finds, downloads,
// verifies and decrypts it, bytes equal; C finds nothing; then a tampered
// ciphertext, B revoked, a rejected signature, and an upload cut at 50 %
// that resumes. Steps use the accessible names of www/README.md's "Test
// hooks" sections; a step whose view is not there yet makes the flow report
// "skip" with the first missing piece, so the flow grows with the portal.

/** A file of `size` pseudo-random bytes (seeded), written once under .tmp/; resolves {file, sha256}. */
export function testFile(size, name = `record-${size}.bin`) {
  const file = path.join(ROOT, '.tmp', 'portal-test', name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (!fs.existsSync(file) || fs.statSync(file).size !== size) {
    const out = fs.openSync(file, 'w');
    let counter = 0;
    for (let written = 0; written < size;) {
      const block = crypto.createHash('sha512').update(`ehrchain portal test ${counter++}`).digest();
      const chunk = Buffer.concat(Array.from({ length: 1024 }, (_, i) => crypto.createHash('sha512').update(block).update(String(i)).digest()));
      const n = Math.min(chunk.length, size - written);
      fs.writeSync(out, chunk, 0, n);
      written += n;
    }
    fs.closeSync(out);
  }
  return { file, sha256: sha256Of(file), size };
}

// ---- full: helpers ----

/** The text of a hex digest of `file`'s bytes. */
function sha256Of(file) {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(8 << 20);
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * Polls `fn(arg)` in the page until it returns something truthy; resolves
 * that. On timeout the error names `what` and quotes the error boxes shown.
 */
async function until(actor, what, fn, arg, ms = 15_000) {
  const deadline = Date.now() + ms;
  if (process.env.PORTAL_DEBUG) process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${actor.label}: ${what}\n`);
  for (;;) {
    const value = await actor.evaluate(fn, arg).catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) {
      const boxes = await actor.evaluate(() => [...document.querySelectorAll('[data-testid=error], [data-testid=fetch-error]')]
        .map((e) => `[${e.dataset.code}] ${e.innerText.replace(/\s+/g, ' ')}`).join(' | ')).catch(() => '');
      throw new Error(`${actor.label}: ${what} did not happen within ${ms} ms${boxes ? `; the page shows: ${boxes}` : ''}`);
    }
    await sleep(150);
  }
}

/** Waits for the element with data-testid `id` (under `within`, a CSS selector) and resolves its text, once `test` accepts it. */
function testIdText(actor, id, { within = 'body', test = /\S/, ms = 15_000 } = {}) {
  return until(actor, `"${id}" showing ${test}`, ([sel, tid, src, flags]) => {
    const el = document.querySelector(`${sel} [data-testid="${tid}"]`);
    const text = el ? (el.value !== undefined && el.tagName !== 'LI' ? el.value || el.innerText : el.innerText) : null;
    return text && new RegExp(src, flags).test(text) ? text : null;
  }, [within, id, test.source, test.flags], ms);
}

/**
 * Waits for an error box (`error` or `fetch-error` test id) under `within`
 * and checks its code is one of `codes` and it says something in plain
 * words (a title and what to do). Resolves { code, text }.
 */
async function expectErrorBox(actor, codes, { within = 'body', id = 'error', ms = 20_000 } = {}) {
  const found = await until(actor, `an error box (${codes.join(' or ')})`, ([sel, tid]) => {
    const box = document.querySelector(`${sel} [data-testid="${tid}"]`);
    return box ? { code: box.dataset.code, title: box.querySelector('.error-title')?.innerText || '', text: box.innerText } : null;
  }, [within, id], ms);
  check(codes.includes(found.code), `${actor.label}: the error box says ${found.code} ("${found.title}"), expected ${codes.join(' or ')}`);
  check(found.title.length > 10 && !/something went wrong/i.test(found.title), `${actor.label}: the ${found.code} error has no plain explanation: "${found.text}"`);
  return found;
}

/**
 * Runs `step`, during which the page is expected to log errors (an error
 * box logs what it shows; a refused request is logged by the browser).
 * Errors matching `patterns` are dropped; any other still fails the flow.
 */
async function expectingErrors(actor, patterns, step) {
  const before = actor.errors.length;
  const result = await step();
  await sleep(200); // late console messages of the step
  const during = actor.errors.splice(before);
  const unexpected = during.filter((e) => !patterns.some((p) => p.test(e)));
  actor.errors.push(...unexpected);
  check(during.length > unexpected.length || patterns.length === 0, `${actor.label}: the expected failure logged nothing (${patterns.join(', ')})`);
  return result;
}

/** Chooses the option whose text contains `text` in the select labelled exactly `label` (in the page: works in both browsers). */
async function choose(actor, label, text) {
  const ok = await actor.evaluate(([l, t]) => {
    const lab = [...document.querySelectorAll('label')].find((x) => x.textContent.trim() === l);
    const select = lab && document.getElementById(lab.htmlFor);
    const option = select && [...select.options].find((o) => o.textContent.includes(t));
    if (!option) return false;
    select.value = option.value;
    select.dispatchEvent(new Event('change', { bubbles: true }));
    return true;
  }, [label, text]);
  check(ok, `${actor.label}: no option "${text}" in the select "${label}"`);
}

/** Clicks the button named `name` inside the element matching `within` (in the page: both browsers). */
async function clickWithin(actor, within, name) {
  await until(actor, `a button "${name}" in ${within}`, ([sel, n]) => {
    const b = [...document.querySelectorAll(`${sel} button`)].find((x) => x.textContent.trim() === n && !x.disabled);
    if (!b) return false;
    b.click();
    return true;
  }, [within, name]);
}

/** Copies with the page's Copy button `name` and resolves what reached the clipboard (Chromium: clipboard permission granted). */
async function copied(actor, name) {
  await actor.evaluate(() => navigator.clipboard.writeText(''));
  await actor.click('button', name);
  return until(actor, `the clipboard filled by "${name}"`, () => navigator.clipboard.readText().then((t) => t || null));
}

/** Unlocks the doctor (or inbox) view if it is locked: the wallet signs the unlock message. */
async function unlockDoctor(actor) {
  const drawn = () => (document.querySelector('[data-testid="unlock-status"]') ? 'locked' : document.querySelector('main [data-view] h2') ? 'unlocked' : null);
  if (await until(actor, 'the view drawn', drawn, undefined, 20_000) === 'locked') await actor.click('button', 'Unlock');
  await until(actor, 'the view unlocked', () => !document.querySelector('[data-testid="unlock-status"]') && !!document.querySelector('main [data-view] h2'));
}

/** The data-stage of the stored record `id` in the doctor's pending list. */
function stageOf(actor, id) {
  return actor.evaluate((rid) => document.querySelector(`[data-testid="pending-record"][data-record="${rid}"]`)?.dataset.stage ?? null, id);
}

/**
 * The latest grant of a `type` record in the inbox, once checked against the
 * chain: { seq, state, summary, sel } (`sel`: a CSS selector of its item).
 */
function confirmedGrant(actor, type) {
  return until(actor, `a ${type} grant in the inbox`, (t) => {
    const g = [...document.querySelectorAll('[data-testid="grant"][data-state]')].reverse()
      .find((x) => x.querySelector('[data-testid="grant-summary"]')?.textContent.startsWith(`${t} from`));
    return g ? { seq: g.dataset.seq, state: g.dataset.state, summary: g.innerText, sel: `[data-testid="grant"][data-seq="${g.dataset.seq}"]` } : null;
  }, type, 30_000);
}

/**
 * Records in the page every text the record's status line and progress bars
 * show from now on (a MutationObserver: nothing is missed between polls).
 * `seenTexts` resolves { status: [...], encrypt: [...], upload: [...] }.
 */
function watchTexts(actor) {
  return actor.evaluate(() => {
    const seen = { status: [], encrypt: [], upload: [] };
    const add = (list, text) => { if (text && list.at(-1) !== text) list.push(text); };
    const take = () => {
      add(seen.status, document.querySelector('[data-testid="record-output"] [data-testid="record-status"]')?.textContent);
      for (const phase of ['encrypt', 'upload']) {
        add(seen[phase], document.querySelector(`[data-testid="${phase}-progress"] [data-testid="progress-text"]`)?.textContent);
      }
    };
    window.__seenTexts?.observer.disconnect();
    const observer = new MutationObserver(take);
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
    window.__seenTexts = { seen, observer };
  });
}

/** What `watchTexts` recorded. */
function seenTexts(actor) {
  return actor.evaluate(() => window.__seenTexts.seen);
}

/** Flips one byte in the middle of the file (a second call restores it). */
function flipByte(file) {
  const fd = fs.openSync(file, 'r+');
  try {
    const at = Math.floor(fs.fstatSync(fd).size / 2);
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, at);
    b[0] ^= 0x5a;
    fs.writeSync(fd, b, 0, 1, at);
  } finally {
    fs.closeSync(fd);
  }
}

/** A record server's stored ciphertext of `eh` (a file, or an S3 object in the scaled setup: scripts/devenv.mjs). */
function blobPath(hospital, eh) {
  return hospital.recordFile(eh);
}

/** A save picker for the page backed by OPFS (`saved/<name>`), so the File System Access path runs headless. */
const OPFS_PICKER = `window.showSaveFilePicker = async ({ suggestedName } = {}) => {
  const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('saved', { create: true });
  window.__pickedName = suggestedName || 'record.bin';
  return dir.getFileHandle(window.__pickedName, { create: true });
};`;

/** The OPFS-saved file's { name, size, sha256 } (null if absent). */
function opfsSaved(actor) {
  return actor.evaluate(async () => {
    const name = window.__pickedName;
    if (!name) return null;
    try {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('saved');
      const file = await (await dir.getFileHandle(name)).getFile();
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
      return { name, size: file.size, sha256: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('') };
    } catch {
      return null;
    }
  });
}

/** Removes what the OPFS picker saved, so the next save starts clean. */
function clearOpfsSaved(actor) {
  return actor.evaluate(async () => {
    await (await navigator.storage.getDirectory()).removeEntry('saved', { recursive: true }).catch(() => {});
    window.__pickedName = undefined;
  });
}

/** Flow timings, printed as one note. */
function stopwatch(flow) {
  let last = Date.now();
  const laps = [];
  return {
    lap(name) {
      const t = Date.now();
      laps.push(`${name} ${((t - last) / 1000).toFixed(1)} s`);
      last = t;
    },
    report() { flow.note(`timings: ${laps.join(', ')}`); },
  };
}

// ---- full: the steps ----

/** Everyone (or the `labels` given) opens the portal in a profile of their own and connects the test wallet. */
async function people(flow, labels = ['authority', 'doctor A', 'doctor B', 'doctor C', 'patient']) {
  const { health_authority, doctor_A, doctor_B, doctor_C, patient } = flow.accounts;
  const accounts = { authority: health_authority, 'doctor A': doctor_A, 'doctor B': doctor_B, 'doctor C': doctor_C, patient };
  const list = labels.map((label) => [label, accounts[label]]);
  const out = {};
  await Promise.all(list.map(async ([label, account]) => {
    const actor = await flow.actor(label, account.address);
    if (flow.browser === 'chromium') {
      await actor.page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: flow.env.portalUrl });
      if (label === 'doctor B') await actor.page.addInitScript({ content: OPFS_PICKER });
    }
    await connectWallet(actor);
    out[label] = actor;
  }));
  return out;
}

// ---- the keyboard: Tab, Shift+Tab, typing, Enter and Space only (Chromium) ----

/**
 * What has keyboard focus: { tag, name (its label, aria-label or text),
 * testid, drawn (a visible focus indicator: an outline or a box shadow),
 * value (of a field), disabled }; tag "BODY" when focus is on nothing.
 */
function focused(actor) {
  return actor.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return { tag: 'BODY', name: '', testid: '', drawn: false };
    const s = getComputedStyle(el);
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
    const shadow = s.boxShadow !== '' && s.boxShadow !== 'none';
    const name = (el.labels?.[0]?.textContent || el.getAttribute('aria-label') || el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 80);
    const value = el.tagName === 'SELECT' ? el.selectedOptions[0]?.textContent ?? '' : el.value;
    return { tag: el.tagName, name, testid: el.dataset.testid || '', drawn: outline || shadow, value, disabled: !!el.disabled };
  });
}

/** Checks that keyboard focus is on something, drawn visibly; resolves what `focused` says. */
async function focusShown(actor, where) {
  const f = await focused(actor);
  check(f.tag !== 'BODY', `${actor.label}: ${where}: keyboard focus fell to <body>`);
  check(f.drawn, `${actor.label}: ${where}: the focused ${f.tag} "${f.name}" has no visible focus (outline and box-shadow none)`);
  return f;
}

/** Presses Tab (Shift+Tab with `back`) until `want(focused)`; every stop on the way must show its focus. */
async function tabTo(actor, what, want, { back = false, max = 40 } = {}) {
  for (let i = 0; i < max; i++) {
    await actor.page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const f = await focusShown(actor, `${back ? 'Shift+Tab' : 'Tab'} towards ${what}`);
    if (want(f)) return f;
  }
  throw new Error(`${actor.label}: ${what} cannot be reached with ${back ? 'Shift+Tab' : 'Tab'} (${max} presses)`);
}

/** Tabs to the field labelled `label` and types `text` into it, key by key. */
async function typeInto(actor, label, text) {
  const f = await tabTo(actor, `the field "${label}"`, (x) => x.name === label && ['INPUT', 'TEXTAREA'].includes(x.tag));
  check(f.value === '', `${actor.label}: the field "${label}" is not empty: ${f.value}`);
  await actor.page.keyboard.type(text);
  check((await focused(actor)).value === text, `${actor.label}: "${label}" does not hold what was typed`);
}

/** With a select focused, presses ArrowDown / ArrowUp until the chosen option's text contains `text`. */
async function chooseByKeys(actor, text) {
  for (const key of ['ArrowUp', 'ArrowDown']) {
    for (let i = 0; i < 20; i++) {
      const f = await focused(actor);
      check(f.tag === 'SELECT', `${actor.label}: focus left the select (${f.tag} "${f.name}")`);
      if (f.value.includes(text)) return;
      const before = f.value;
      await actor.page.keyboard.press(key);
      if ((await focused(actor)).value === before) break; // the end of the list that way
    }
  }
  throw new Error(`${actor.label}: no option "${text}" reached with the arrow keys`);
}

/**
 * Step 1 with the keyboard only (issue #13: "keyboard-usable with labelled
 * controls"): the authority goes from the page's top through the nav to her
 * view, tabs to each field of the certify form and types the doctor's code,
 * picks the hospital with the arrow keys and presses Enter on "Certify
 * doctor"; focus moves to the outcome, Tab reaches "Copy certificate" and
 * Space copies it (announced); Shift+Tab goes back to the form, emptied.
 * The doctor then tabs to the certificate field, types it, and presses
 * Enter on "Save certificate"; focus moves to the certificate's state line.
 * No click and no fill: every stop on the way shows its focus.
 */
async function certifyByKeyboard(flow, authority, doctor, hospital, code) {
  const keys = authority.page.keyboard;
  await authority.goto('#wallet');
  await authority.page.reload({ waitUntil: 'load' }); // a fresh page: Tab starts at its top
  await rendered(authority);
  const skip = await tabTo(authority, 'the skip link', (f) => f.tag === 'A', { max: 1 });
  check(skip.name === 'Skip to the page content', `${authority.label}: the first Tab stop is "${skip.name}"`);
  await tabTo(authority, 'the nav link "Health authority"', (f) => f.tag === 'A' && f.name === 'Health authority', { max: 6 });
  await keys.press('Enter');
  await until(authority, 'the authority view loaded', () => location.hash === '#authority' && !!document.querySelector('[data-view="authority"] form') &&
    !document.querySelector('[data-testid="authority-loading"]'), undefined, 20_000);
  const main = await focusShown(authority, 'after following the nav link');
  check(main.tag === 'MAIN', `${authority.label}: after the nav link, focus is on ${main.tag} "${main.name}", not on the page's content`);
  await typeInto(authority, "Doctor's code", code);
  const select = await tabTo(authority, 'the select "Hospital"', (f) => f.tag === 'SELECT');
  check(select.name === 'Hospital', `${authority.label}: the field after the code is "${select.name}"`);
  await chooseByKeys(authority, hospital);
  const days = await tabTo(authority, 'the field "Valid for (days)"', (f) => f.tag === 'INPUT');
  check(days.name === 'Valid for (days)' && days.value === '365', `${authority.label}: the next field is "${days.name}" = ${days.value}`);
  const serial = await tabTo(authority, 'the field "Certificate number"', (f) => f.tag === 'INPUT');
  check(serial.name === 'Certificate number' && /^\d+$/.test(serial.value), `${authority.label}: the next field is "${serial.name}" = ${serial.value}`);
  await tabTo(authority, 'the button "Certify doctor"', (f) => f.tag === 'BUTTON' && f.name === 'Certify doctor');
  await keys.press('Enter');
  const outcome = await testIdText(authority, 'certify-outcome', { test: /registered/, ms: 30_000 });
  check(outcome.includes(`Certificate ${serial.value} `), `${authority.label}: the outcome names another certificate: ${outcome}`);
  const after = await until(authority, 'focus on the outcome', async () => document.activeElement?.dataset.testid === 'certify-outcome', undefined, 5_000)
    .then(() => focusShown(authority, 'after "Certify doctor"'));
  check(after.testid === 'certify-outcome', `${authority.label}: after certifying, focus is on ${after.tag} "${after.name}"`);
  const certificate = (await testIdText(authority, 'certificate-json', { test: /^\s*\{/ })).trim();
  await tabTo(authority, 'the button "Copy certificate"', (f) => f.tag === 'BUTTON' && f.name === 'Copy certificate', { max: 3 });
  await authority.evaluate(() => navigator.clipboard.writeText(''));
  await keys.press('Space');
  check(await until(authority, 'the certificate copied', () => navigator.clipboard.readText().then((t) => t || null)) === certificate, 'Space on "Copy certificate" copied something else');
  await until(authority, 'the copy announced', () => document.querySelector('[data-testid="announcer"]')?.textContent === 'Copied.', undefined, 5_000);
  const back = await tabTo(authority, 'the button "Certify doctor" again', (f) => f.tag === 'BUTTON' && f.name === 'Certify doctor', { back: true, max: 3 });
  check(!back.disabled, `${authority.label}: "Certify doctor" stays disabled`);
  check(await authority.evaluate(() => {
    const label = [...document.querySelectorAll('label')].find((l) => l.textContent === "Doctor's code");
    return document.getElementById(label.htmlFor).value === '';
  }), `${authority.label}: the doctor's code stays in the form after certifying`);
  await authority.screenshot('02k-authority-certified-keyboard');

  // The doctor, on a fresh page, unlocks and stores his certificate.
  await doctor.goto('#doctor');
  await doctor.page.reload({ waitUntil: 'load' });
  await rendered(doctor);
  await tabTo(doctor, 'the button "Unlock"', (f) => f.tag === 'BUTTON' && f.name === 'Unlock', { max: 8 });
  await doctor.page.keyboard.press('Enter');
  await until(doctor, 'the doctor view unlocked', () => !!document.querySelector('[data-testid="doctor-code"]'), undefined, 20_000);
  const unlocked = await focusShown(doctor, 'after "Unlock"');
  check(unlocked.tag === 'H2', `${doctor.label}: after unlocking, focus is on ${unlocked.tag} "${unlocked.name}", not on the unlocked view's first heading`);
  await typeInto(doctor, 'Certificate (JSON)', certificate);
  await tabTo(doctor, 'the button "Save certificate"', (f) => f.tag === 'BUTTON' && f.name === 'Save certificate', { max: 3 });
  await doctor.page.keyboard.press('Enter');
  await testIdText(doctor, 'certificate-status', { test: /^Certified at/, ms: 20_000 });
  const saved = await until(doctor, 'focus on the certificate state', async () => document.activeElement?.dataset.testid === 'certificate-status', undefined, 5_000)
    .catch(() => null).then(() => focusShown(doctor, 'after "Save certificate"'));
  check(saved.testid === 'certificate-status', `${doctor.label}: after saving the certificate, focus is on ${saved.tag} "${saved.name}"`);
  return Number(serial.value);
}

/**
 * Step 1: the doctor unlocks and copies his code; the authority certifies him
 * at `hospital`; he saves his certificate. With `keyboard` (Chromium) the
 * authority's and the doctor's part after the code are done with the
 * keyboard only (certifyByKeyboard). Resolves its serial.
 */
async function certify(flow, authority, doctor, hospital, shot, { keyboard = false } = {}) {
  await openView(doctor, 'doctor');
  await unlockDoctor(doctor);
  const shown = (await testIdText(doctor, 'doctor-code', { test: /^ehrchain-doctor:/ })).trim();
  const code = flow.browser === 'chromium' ? (await copied(doctor, 'Copy doctor code')).trim() : shown;
  check(code === shown, `${doctor.label}: the copied doctor code differs from the one shown`);
  check(code.toLowerCase().includes(doctor.account.toLowerCase()), `${doctor.label}: the doctor code does not name his account`);
  if (shot) await doctor.screenshot(`01-doctor-code-${shot}`);

  if (keyboard) {
    const serial = await certifyByKeyboard(flow, authority, doctor, hospital, code);
    check(await testIdText(authority, `certificate-status-${serial}`, { test: /valid/ }), `certificate ${serial} is not listed as valid`);
    const status = await testIdText(doctor, 'certificate-status', { test: /^Certified at/ });
    check(status.includes(hospital), `${doctor.label}: "${status}" does not name ${hospital}`);
    return serial;
  }

  await openView(authority, 'authority');
  await until(authority, 'the authority view loaded', () => !document.querySelector('[data-testid="authority-loading"]'), undefined, 20_000);
  await authority.fill("Doctor's code", code);
  await choose(authority, 'Hospital', hospital);
  await authority.click('button', 'Certify doctor');
  const outcome = await testIdText(authority, 'certify-outcome', { test: /registered/, ms: 30_000 });
  const serial = Number(/Certificate (\d+)/.exec(outcome)?.[1]);
  const certificate = (await testIdText(authority, 'certificate-json', { test: /^\s*\{/ })).trim();
  check(JSON.parse(certificate), 'the certificate is not JSON');
  check(await testIdText(authority, `certificate-status-${serial}`, { test: /valid/ }), `certificate ${serial} is not listed as valid`);
  if (shot) {
    await authority.screenshot(`02-authority-certified-${shot}`);
    await authority.axe('authority');
  }

  await doctor.fill('Certificate (JSON)', certificate);
  await doctor.click('button', 'Save certificate');
  const status = await testIdText(doctor, 'certificate-status', { test: /^Certified at/, ms: 20_000 });
  check(status.includes(hospital), `${doctor.label}: "${status}" does not name ${hospital}`);
  check(await doctor.evaluate(() => document.querySelector('[data-testid="certificate-status"]').classList.contains('ok')), 'certificate-status lacks class ok');
  return serial;
}

/** The patient unlocks and copies her patient code. */
async function patientCode(flow, patient) {
  await openView(patient, 'patient');
  await patient.click('button', 'Unlock my records');
  const shown = (await testIdText(patient, 'patient-code', { test: /^ehrchain-patient:/ })).trim();
  const code = flow.browser === 'chromium' ? (await copied(patient, 'Copy my patient code')).trim() : shown;
  check(code === shown, 'the copied patient code differs from the one shown');
  await patient.screenshot('03-patient-code');
  await patient.axe('patient (unlocked)');
  return code;
}

/**
 * Holds the record's third upload part back (Chromium: on localhost the
 * upload is over in a blink) until `take(name)` has screenshot the upload in
 * progress. Set up before "Create record"; null in Firefox.
 */
async function holdUpload(doctor) {
  if (!doctor.page.route) return null;
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  const handlers = [];
  const route = (r) => {
    const handled = (async () => {
      if (/\/parts\/2$/.test(r.request().url())) await held;
      await r.continue().catch(() => {}); // a reload may have cancelled it
    })();
    handlers.push(handled);
    return handled;
  };
  await doctor.page.route('**/v1/uploads/*/parts/*', route);
  return {
    async take(name) {
      try {
        await testIdText(doctor, 'progress-text', { within: '[data-testid="upload-progress"]', test: /^\d+\.\d of \d+\.\d MB, \d+ MB\/s/, ms: 60_000 });
        await doctor.screenshot(`${name}-uploading`);
      } finally {
        release();
        await Promise.all(handlers);
        await doctor.page.unroute('**/v1/uploads/*/parts/*', route);
      }
    },
  };
}

/**
 * Step 2: the doctor creates a record of `file` for the patient; checks the
 * encryption and upload progress (bars with MB and speed) and the sealed
 * handoff. Resolves { handoff, id }.
 */
async function createRecord(flow, doctor, code, file, { type = 'radiology', shot } = {}) {
  await doctor.fill('Patient code', code);
  await doctor.fill('Record type', type);
  await doctor.setFiles('Record file', file.file);
  await watchTexts(doctor);
  const hold = shot && file.size > 16 << 20 ? await holdUpload(doctor) : null;
  await doctor.click('button', 'Create record');
  await hold?.take(shot);
  const handoff = await testIdText(doctor, 'handoff', { within: '[data-testid="record-output"]', test: /^0x[0-9a-f]{200,}$/, ms: 120_000 });
  const status = await testIdText(doctor, 'record-status');
  check(/Done/.test(status), `the record status ends "${status}"`);
  // Both browsers have sync access handles in workers: the ciphertext went through the OPFS writer worker.
  const writer = await doctor.evaluate(() => document.documentElement.dataset.opfsWriter);
  check(writer === 'worker', `the ciphertext was written to OPFS by "${writer}", not by the writer worker`);
  const seen = await seenTexts(doctor);
  const mb = (file.size / 1e6).toFixed(1);
  for (const stage of [/Encrypting the file/, /Sign the upload request/, /Uploading the encrypted record/, /Confirm the registration/, /Sealing the handoff/, /^Done/]) {
    check(seen.status.some((t) => stage.test(t)), `the status line never said ${stage}: ${seen.status.join(' | ')}`);
  }
  check(seen.encrypt.some((t) => new RegExp(`^\\d+\\.\\d of ${mb} MB`).test(t)), `no encryption progress in MB: ${seen.encrypt.join(' | ')}`);
  check(seen.upload.some((t) => /^\d+\.\d of \d+\.\d MB/.test(t)), `no upload progress in MB: ${seen.upload.join(' | ')}`);
  check(seen.upload.some((t) => /MB\/s/.test(t)), `the upload progress never gave a speed: ${seen.upload.join(' | ')}`);
  check(/^(\d+\.\d) of \1 MB/.test(seen.upload.at(-1)), `the upload progress did not end complete: ${seen.upload.at(-1)}`);
  const id = await until(doctor, 'the record listed done', () => document.querySelector('[data-testid="pending-record"][data-stage="done"]')?.dataset.record);
  return { handoff, id };
}

/** One JSON-RPC call to the test chain. */
async function rpc(flow, method, params = []) {
  const res = await fetch(flow.env.rpcUrl, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = await res.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

/**
 * Step 3: the patient opens the handoff, files it with the hospital, grants
 * `doctor` — through the hospital's relayer (the default) or, with
 * `viaRelay: false`, from her own account — and checks the grant's sender
 * on chain. Resolves the record's eh.
 */
async function fileAndGrant(flow, patient, handoff, doctorA, doctorB, hospital, type, { viaRelay = true } = {}) {
  await patient.fill('Record from your doctor', `\n  ${handoff.slice(0, 100)}\n${handoff.slice(100)}  `); // as pasted from an e-mail
  await patient.click('button', 'Open record');
  check((await testIdText(patient, 'record-hospital', { ms: 30_000 })).trim() === hospital, 'the record names another hospital');
  check((await testIdText(patient, 'record-type')).trim() === type, 'the record type differs');
  check(addressPattern(doctorA.account).test(await testIdText(patient, 'record-doctor')), 'the record does not name doctor A');
  await patient.screenshot('05-patient-opened');
  await patient.axe('patient (record opened)');
  await patient.click('button', `File it with ${hospital}`);
  await testIdText(patient, 'file-outcome', { test: new RegExp(`filed with ${hospital}`), ms: 30_000 });
  check((await testIdText(patient, 'record-state')).trim() === 'filed', 'the record is not listed as filed');
  const eh = await patient.evaluate(() => document.querySelector('[data-testid="record-row"]').dataset.eh);
  await choose(patient, 'Record', `, ${type}`);
  await patient.fill("Or the doctor's account address", doctorB.account);
  const relayLabel = "Send it through the record's hospital (recommended)";
  const relayChecked = () => patient.evaluate((text) => {
    const label = [...document.querySelectorAll('label')].find((l) => l.textContent.trim() === text);
    return label ? document.getElementById(label.htmlFor)?.checked : undefined;
  }, relayLabel);
  check(await relayChecked() === true, 'the relay option is not offered, or not the default');
  if (!viaRelay) {
    await patient.click('checkbox', relayLabel);
    check(await relayChecked() === false, 'the relay option did not untick');
  }
  await patient.click('button', 'Grant access');
  await testIdText(patient, 'grant-outcome', { test: /can now see/, ms: 30_000 });
  const row = await testIdText(patient, 'grant-row', { test: addressPattern(doctorB.account) });
  check(viaRelay ? row.includes(`${hospital}'s relay`) : row.includes('your account'), `the grant row does not say who sent it: ${row}`);
  // On chain: the authorisation's sender is the hospital's relayer, never the patient (or her, when she chose so).
  const txHash = await patient.evaluate(() => document.querySelector('[data-testid="grant-row"] td[title]')?.title);
  const tx = await rpc(flow, 'eth_getTransactionByHash', [txHash]);
  check(tx && tx.to.toLowerCase() === flow.env.registry.toLowerCase(), `the grant ${txHash} is not a registry transaction`);
  const fromPatient = tx.from.toLowerCase() === patient.account.toLowerCase();
  check(viaRelay ? !fromPatient : fromPatient, `the grant was sent by ${tx.from} (patient ${patient.account}, relay ${viaRelay})`);
  await patient.screenshot('06-patient-granted');
  await patient.axe('patient (granted)');
  return eh;
}

/** B's inbox: opens `where` (a path with `#inbox`), unlocks, waits for the confirmed grant. */
async function openInbox(doctor, where, type) {
  await doctor.goto(where);
  await unlockDoctor(doctor);
  const grant = await confirmedGrant(doctor, type);
  check(grant.state === 'confirmed', `the grant is ${grant.state}: ${grant.summary}`);
  await testIdText(doctor, 'scan-status', { test: /Scan complete/, ms: 30_000 });
  return grant;
}

/** "Get record" of the grant `sel`, until "Save record" is offered. */
async function getRecord(doctor, sel) {
  await clickWithin(doctor, sel, 'Get record');
  await testIdText(doctor, 'fetch-status', { within: sel, test: /Press Save record within \d+ min/, ms: 30_000 });
}

/** The service-worker download path (Chromium: playwright's download event): resolves { download, file } or the failure. */
async function saveByDownload(doctor, sel, expectOk = true) {
  const downloaded = doctor.page.waitForEvent('download', { timeout: 60_000 });
  await clickWithin(doctor, sel, 'Save record');
  const download = await downloaded;
  check(/^radiology-\d{4}-\d\d-\d\d-[0-9a-f]{8}\.bin$/.test(download.suggestedFilename()), `download named ${download.suggestedFilename()}`);
  check(/\/download\/[0-9a-f]{32}$/.test(download.url()), `download from ${download.url()}`);
  const failure = await download.failure();
  if (!expectOk) return { failure };
  check(!failure, `the download failed: ${failure}`);
  const file = path.join(ROOT, '.tmp', 'portal-test', `saved-${process.pid}-${download.suggestedFilename()}`);
  await download.saveAs(file);
  return { file };
}

// ---- the portal's IndexedDB: what it keeps, sealed ----

/** The registry's `Authorised` event of grant `seq`: { txHash, r } (lower-case hex, no 0x). */
async function authorisedEvent(flow, seq) {
  const topics = [eventId('Authorised(uint256,bytes1,bytes,bytes,bytes)'), `0x${BigInt(seq).toString(16).padStart(64, '0')}`];
  const logs = await rpc(flow, 'eth_getLogs', [{ address: flow.env.registry, fromBlock: '0x0', toBlock: 'latest', topics }]);
  check(logs.length === 1, `${logs.length} Authorised events of seq ${seq}`);
  const [, r] = AbiCoder.defaultAbiCoder().decode(['bytes1', 'bytes', 'bytes', 'bytes'], logs[0].data);
  return { txHash: logs[0].transactionHash.slice(2).toLowerCase(), r: r.slice(2).toLowerCase() };
}

/**
 * Everything the page's IndexedDB store holds (database "ehrchain-portal",
 * store "kv"), read raw: [{ key, sealed (the value is bytes), text (the value
 * as JSON, bytes as hex, bigints as n:…) }].
 */
function rawStore(actor) {
  return actor.evaluate(async () => {
    const req = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
    const db = await req(indexedDB.open('ehrchain-portal'));
    try {
      const kv = db.transaction('kv').objectStore('kv');
      const [keys, values] = await Promise.all([req(kv.getAllKeys()), req(kv.getAll())]);
      const hex = (u8) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');
      return keys.map((key, i) => ({
        key: String(key),
        sealed: values[i] instanceof Uint8Array,
        text: JSON.stringify(values[i], (_k, v) => (v instanceof Uint8Array ? hex(v) : typeof v === 'bigint' ? `n:${v}` : v)),
      }));
    } finally {
      db.close();
    }
  });
}

/**
 * Spoils every saved inbox match in the raw store: its sealed bytes are
 * copied to another slot of the inbox (moved: the associated data names the
 * old key), and one byte of the original is flipped (altered). Resolves the
 * keys of both, for every match.
 */
function spoilInboxMatches(actor) {
  return actor.evaluate(async () => {
    const req = (r) => new Promise((resolve, reject) => { r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
    const db = await req(indexedDB.open('ehrchain-portal'));
    try {
      const kv = db.transaction('kv', 'readwrite').objectStore('kv');
      const keys = (await req(kv.getAllKeys())).map(String).filter((k) => /\/inbox\/match\//.test(k));
      const spoilt = [];
      for (const [i, key] of keys.entries()) {
        const value = await req(kv.get(key));
        const moved = key.replace(/[0-9a-f]{24}$/, `${'f'.repeat(22)}${String(i).padStart(2, '0')}`);
        await req(kv.put(value, moved));
        const altered = new Uint8Array(value);
        altered[altered.length - 20] ^= 1;
        await req(kv.put(altered, key));
        spoilt.push(key, moved);
      }
      return spoilt;
    } finally {
      db.close();
    }
  });
}

/** Checks that none of `needles` (lower-case hex) appears in `actor`'s store, in a key or a value; `what` names them. */
async function storeHides(actor, needles, what) {
  const entries = await rawStore(actor);
  for (const e of entries) {
    const key = e.key.toLowerCase();
    const text = e.text.toLowerCase();
    for (const [name, hex] of Object.entries(needles)) {
      check(!key.includes(hex), `${actor.label}'s store names ${what}'s ${name} in a key: ${e.key}`);
      check(!text.includes(hex), `${actor.label}'s store holds ${what}'s ${name} in clear at ${e.key}`);
    }
  }
  return entries;
}

/**
 * After B's first scan: the portal's IndexedDB holds the grant's match
 * sealed (no transaction hash, R or seq in clear, in a key or a value; the
 * match's key a random slot name), and so do the patient's and doctor A's
 * stores for what links them to the record, the patient or the grant. A
 * reload lists the grant again from the store (read back through the seal:
 * the scan finds nothing new). Then every sealed match, altered in place,
 * and a copy of it moved to another slot (its associated data names its
 * key) do not open: the inbox says so in plain words and does not scan, and
 * "Forget the saved inbox and scan again" finds the grant again from the
 * chain. (In Firefox after Chromium, B's inbox also holds Chromium's grant:
 * the chain is shared.)
 */
async function sealedInbox(flow, { doctorB, patient, doctorA }, type, eh) {
  const { seq } = await confirmedGrant(doctorB, type);
  const { txHash, r } = await authorisedEvent(flow, seq);
  const b = doctorB.account.toLowerCase();
  const entries = await storeHides(doctorB, { 'transaction hash': txHash, R: r }, 'the grant');
  const matches = entries.filter((e) => e.key.startsWith(`${b}/inbox/match/`));
  check(matches.length >= 1, `B's store keeps no inbox match: ${entries.map((e) => e.key).join(', ')}`);
  for (const m of matches) {
    check(m.sealed, `B's inbox match ${m.key} is stored in clear: ${m.text.slice(0, 120)}`);
    check(/\/inbox\/match\/[0-9a-f]{24}$/.test(m.key), `B's inbox match key ${m.key} is not a random slot name`);
  }
  for (const e of entries) {
    check(!/"seq"|"authorisation"|"viewTag"/.test(e.text), `B's store holds a match in clear at ${e.key}: ${e.text.slice(0, 120)}`);
    check(!e.key.endsWith(String(seq).padStart(12, '0')), `B's store names the grant's seq in a key: ${e.key}`);
  }
  check(entries.some((e) => e.key === `${b}/inbox/scannedTo` && !e.sealed && /^\d+$/.test(e.text)), 'B\'s scanned block is not stored (in clear, a number)');
  const plain = (hex) => hex.replace(/^0x/, '').toLowerCase();
  const patientEntries = await storeHides(patient, { eh: plain(eh), 'grant transaction hash': txHash, "doctor B's account": plain(doctorB.account) }, "the patient's record and grant");
  check(patientEntries.some((e) => e.sealed) && patientEntries.every((e) => e.sealed), `the patient's store holds values in clear: ${patientEntries.filter((e) => !e.sealed).map((e) => e.key).join(', ')}`);
  await storeHides(doctorA, { eh: plain(eh), "the patient's account": plain(patient.account) }, "A's record");

  // A reload lists the grant from the store, opened.
  await doctorB.page.reload({ waitUntil: 'load' });
  await rendered(doctorB);
  await unlockDoctor(doctorB);
  check((await confirmedGrant(doctorB, type)).seq === seq, 'after a reload the inbox lists another grant');
  const again = await testIdText(doctorB, 'scan-status', { test: /Scan complete/, ms: 30_000 });
  check(/nothing new since the last scan \(\d+ grants? listed below\)/.test(again), `after a reload the grant was not read back from the store: "${again}"`);

  // An altered sealed match, and a sealed match moved to another slot, do not open.
  const edited = await spoilInboxMatches(doctorB);
  check(edited.length === 2 * matches.length, `${edited.length / 2} of B's ${matches.length} inbox matches spoilt`);
  // The error box logs the error (Firefox over BiDi shows an Error argument as "JSHandle@error").
  await expectingErrors(doctorB, [/StoredSecretUnreadable|does not open|OperationError|JSHandle@error/i], async () => {
    await doctorB.page.reload({ waitUntil: 'load' });
    await rendered(doctorB);
    await unlockDoctor(doctorB);
    const e = await expectErrorBox(doctorB, ['StoredSecretUnreadable'], { within: '[data-view="inbox"]' });
    check(/could not be opened/.test(e.title) && /scans the blockchain again from the start/.test(e.text), `the unreadable inbox reads: ${e.text}`);
  });
  const status = await testIdText(doctorB, 'scan-status', { test: /could not be opened/ });
  check(status === `${edited.length} saved grants of your inbox could not be opened, so the scan did not start.`, `the scan status reads: ${status}`);
  check(await doctorB.evaluate(() => [...document.querySelectorAll('button')].find((x) => x.textContent === 'Scan for new grants')?.disabled === true),
    'the scan is offered although the saved inbox does not open');
  check(await doctorB.evaluate(() => document.querySelectorAll('[data-testid="grant"]').length) === 0, 'an unreadable match is listed');
  await doctorB.screenshot('e7-inbox-unreadable');
  await doctorB.axe('inbox (saved inbox unreadable)');
  await clickWithin(doctorB, '[data-testid="error"]', 'Forget the saved inbox and scan again');
  check((await confirmedGrant(doctorB, type)).seq === seq, 'the rescan from the start lists another grant');
  const rescanned = await testIdText(doctorB, 'scan-status', { test: /Scan complete/, ms: 30_000 });
  check(/Scan complete: \d+ new grants? for you\./.test(rescanned), `the rescan reads: "${rescanned}"`);
  check(await doctorB.evaluate(() => !document.querySelector('[data-testid="error"]')), 'the error stays after the rescan');
  const after = await storeHides(doctorB, { 'transaction hash': txHash, R: r }, 'the grant');
  const slots = after.filter((e) => e.key.startsWith(`${b}/inbox/match/`));
  check(slots.length === matches.length && slots.every((m) => m.sealed && !edited.includes(m.key)),
    `after forgetting, B's inbox keeps ${slots.map((m) => m.key).join(', ')} (before: ${matches.length} slots)`);
}

/** Step 4 (B): both save paths, with a refused signature retried on the way. */
async function doctorGetsRecord(flow, doctorB, original, watch) {
  const { portalUrl } = flow.env;
  // The service-worker download, with the wallet refusing the first access signature (6c).
  const grant = await openInbox(doctorB, `${portalUrl}/?save=download#inbox`, 'radiology');
  const { sel } = grant;
  check(/radiology from St Mary's Hospital/.test(grant.summary), `grant summary: ${grant.summary}`);
  check(/Scan complete: \d+ new grants? for you/.test(await testIdText(doctorB, 'scan-status')), 'the first scan does not count the new grant');
  check(addressPattern(flow.accounts.patient.address).test(grant.summary), 'the grant does not name the patient');
  check(await doctorB.evaluate(() => [...document.querySelectorAll('[data-testid="grant-summary"]')].filter((g) => g.textContent.startsWith('radiology from')).length) === 1,
    'B sees more than one radiology grant');
  await doctorB.screenshot('07-inbox-grant');
  await doctorB.axe('inbox (grant)');
  await doctorB.wallet('rejectNext', 'eth_signTypedData_v4');
  await expectingErrors(doctorB, [/UserRejected|rejected|4001/i], async () => {
    await clickWithin(doctorB, sel, 'Get record');
    const e = await expectErrorBox(doctorB, ['UserRejected'], { within: `${sel} [data-testid="fetch-output"]` });
    check(/declined/.test(e.title) && /Try again/.test(e.text), `the refusal reads: ${e.text}`);
  });
  check((await doctorB.evaluate((s) => document.querySelector(`${s} [data-testid="fetch-status"]`).textContent, sel)) === '', 'a stale status stays above the refusal');
  await doctorB.screenshot('e1-inbox-signature-rejected');
  await doctorB.axe('inbox (signature rejected)');
  await clickWithin(doctorB, `${sel} [data-testid="fetch-output"]`, 'Try again');
  await testIdText(doctorB, 'fetch-status', { within: sel, test: /Press Save record within \d+ min/, ms: 30_000 });
  const { file } = await saveByDownload(doctorB, sel);
  await testIdText(doctorB, 'fetch-status', { within: sel, test: /^Saved "radiology-.*matches its registration/, ms: 60_000 });
  check(fs.statSync(file).size === original.size, `the downloaded record is ${fs.statSync(file).size} bytes, not ${original.size}`);
  check(sha256Of(file) === original.sha256, 'the downloaded record differs from the original (SHA-256)');
  fs.rmSync(file);
  await doctorB.screenshot('08-inbox-saved-download');
  watch.lap('B saved (service-worker download)');

  // The File System Access path (a picker backed by OPFS).
  await openInbox(doctorB, `${portalUrl}/#inbox`, 'radiology');
  await clearOpfsSaved(doctorB);
  await getRecord(doctorB, sel);
  await clickWithin(doctorB, sel, 'Save record');
  const saved = await testIdText(doctorB, 'fetch-status', { within: sel, test: /^Saved "|not saved/, ms: 60_000 });
  check(/^Saved "/.test(saved), `B's save through the picker: ${saved}`);
  const opfs = await opfsSaved(doctorB);
  check(opfs && opfs.size === original.size && opfs.sha256 === original.sha256, `the record saved through the picker differs: ${JSON.stringify(opfs)}`);
  await doctorB.screenshot('09-inbox-saved-picker');
  await doctorB.axe('inbox (saved)');
  watch.lap('B saved (picker)');
  return sel;
}

/** Step 6a: a ciphertext flipped on the server is refused on both save paths, and nothing complete is saved. */
async function tamperedRecord(flow, doctorB, blob, sel) {
  const refused = [/EhrchainError|SegmentTampered|HashMismatch|altered|fingerprint/i];
  flipByte(blob);
  try {
    await clearOpfsSaved(doctorB);
    await getRecord(doctorB, sel);
    await expectingErrors(doctorB, refused, async () => {
      await clickWithin(doctorB, sel, 'Save record');
      const e = await expectErrorBox(doctorB, ['SegmentTampered', 'HashMismatch'], { within: sel, id: 'fetch-error', ms: 60_000 });
      check(/changed or damaged|fingerprint/.test(e.title) && /tell the hospital/.test(e.text), `the tamper error reads: ${e.text}`);
    });
    check(/not saved/.test(await testIdText(doctorB, 'fetch-status', { within: sel })), 'the status does not say the record was not saved');
    check(!(await doctorB.evaluate((s) => document.querySelector(`${s} [data-testid="fetch-status"]`).classList.contains('ok'), sel)), 'the failed save is shown as a success (class ok)');
    const left = await opfsSaved(doctorB);
    check(!left || left.size === 0, `a tampered save left a file of ${left?.size} bytes`);
    await doctorB.screenshot('e2-inbox-tampered-picker');
    await doctorB.axe('inbox (tampered)');

    // The service-worker path: the browser's download fails.
    await openInbox(doctorB, `${flow.env.portalUrl}/?save=download#inbox`, 'radiology');
    await getRecord(doctorB, sel);
    await expectingErrors(doctorB, refused, async () => {
      const { failure } = await saveByDownload(doctorB, sel, false);
      check(failure, 'the download of a tampered record did not fail');
      await expectErrorBox(doctorB, ['SegmentTampered', 'HashMismatch'], { within: sel, id: 'fetch-error', ms: 60_000 });
    });
    await doctorB.screenshot('e3-inbox-tampered-download');
  } finally {
    flipByte(blob); // restored
  }
}

/** Step 6b: the authority revokes B; B's next "Get record" is refused by the hospital. */
async function revokedDoctor(authority, doctorB, serial, sel) {
  await openView(authority, 'authority');
  await until(authority, 'the authority view loaded', () => !document.querySelector('[data-testid="authority-loading"]'), undefined, 20_000);
  await authority.click('button', `Revoke certificate ${serial}`);
  await authority.screenshot('10-authority-revoke-confirm');
  await authority.click('button', `Yes, revoke certificate ${serial}`);
  await testIdText(authority, `certificate-status-${serial}`, { test: /^revoked$/, ms: 30_000 });
  await authority.screenshot('11-authority-revoked');
  await authority.axe('authority (revoked)');
  await expectingErrors(doctorB, [/CertificateRevoked|revoked|403/i], async () => {
    await clickWithin(doctorB, sel, 'Get record');
    const e = await expectErrorBox(doctorB, ['CertificateRevoked'], { within: `${sel} [data-testid="fetch-output"]` });
    check(/revoked/i.test(e.title), `the revocation reads: ${e.text}`);
  });
  await doctorB.screenshot('e4-inbox-revoked');
  await doctorB.axe('inbox (revoked)');
}

/** Step 5: C's inbox scans the whole chain and finds nothing. */
async function emptyInbox(doctorC) {
  await openView(doctorC, 'inbox');
  await unlockDoctor(doctorC);
  await testIdText(doctorC, 'scan-status', { test: /Scan complete: no records are shared with you/, ms: 30_000 });
  const empty = await testIdText(doctorC, 'inbox-empty', { test: /No records are shared with you/ });
  check(empty, 'no empty-inbox line');
  check(await doctorC.evaluate(() => document.querySelectorAll('[data-testid="grant"]').length) === 0, 'C sees a grant');
  await doctorC.screenshot('12-inbox-empty');
  await doctorC.axe('inbox (empty)');
}

/**
 * Step 6d: an upload whose part PUTs fail after half of them: the UI says
 * so while it retries, then stops with Resume; resumed, only the missing
 * parts are sent and the record is anchored.
 */
async function cutUpload(flow, doctorA, code, file) {
  const page = doctorA.page;
  const puts = [];
  const passed = new Set();
  let cut = true;
  const route = (r) => {
    const n = Number(/\/parts\/(\d+)/.exec(r.request().url())[1]);
    puts.push(n);
    if (cut && passed.size >= 2 && !passed.has(n)) return r.abort('connectionrefused').catch(() => {});
    if (cut) passed.add(n);
    return r.continue().catch(() => {});
  };
  await page.route('**/v1/uploads/*/parts/*', route);
  try {
    await expectingErrors(doctorA, [/ERR_CONNECTION_REFUSED|ServerUnreachable|Failed to fetch|could not be reached/i], async () => {
      await doctorA.fill('Patient code', code);
      await doctorA.fill('Record type', 'radiology');
      await doctorA.setFiles('Record file', file.file);
      await doctorA.click('button', 'Create record');
      await testIdText(doctorA, 'record-status', { test: /does not answer.*trying again/i, ms: 60_000 });
      await doctorA.screenshot('e5-doctor-upload-retrying');
      const e = await expectErrorBox(doctorA, ['ServerUnreachable'], { within: '[data-testid="record-output"]', ms: 90_000 });
      check(/Resume/.test(e.text), `the cut upload offers no Resume: ${e.text}`);
    });
  } finally {
    cut = false;
  }
  await doctorA.screenshot('e6-doctor-upload-cut');
  await doctorA.axe('doctor (upload cut)');
  const progressText = await testIdText(doctorA, 'progress-text', { within: '[data-testid="record-output"]' });
  check(/^\d+\.\d of \d+\.\d MB; stopped$/.test(progressText), `the stopped upload's progress reads: ${progressText}`);
  check(/^Not finished.*press Resume/.test(await testIdText(doctorA, 'record-status')), 'the status line does not say the record is not finished');
  const beforeResume = puts.length;
  await clickWithin(doctorA, '[data-testid="record-output"]', 'Resume');
  await testIdText(doctorA, 'handoff', { within: '[data-testid="record-output"]', test: /^0x[0-9a-f]{200,}$/, ms: 90_000 });
  await page.unroute('**/v1/uploads/*/parts/*', route);
  const resent = puts.slice(beforeResume);
  check(resent.length >= 1, 'the resume sent no part');
  check(![...passed].some((n) => resent.includes(n)), `the resume sent acknowledged parts ${[...passed].join(',')} again: ${resent.join(',')}`);
  await doctorA.screenshot('13-doctor-resumed-done');
}

/** Step 6d (closed tab): the page reloads mid-upload; after unlocking, Resume in the pending list completes the record. */
async function reloadMidUpload(flow, doctorA, code, file) {
  const page = doctorA.page;
  let seen = 0;
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  const route = async (r) => {
    if (++seen <= 2) return r.continue().catch(() => {});
    await held; // hangs until the reload cancelled it
    return r.abort('connectionreset').catch(() => {});
  };
  await page.route('**/v1/uploads/*/parts/*', route);
  await doctorA.fill('Patient code', code);
  await doctorA.fill('Record type', 'radiology');
  await doctorA.setFiles('Record file', file.file);
  await doctorA.click('button', 'Create record');
  const deadline = Date.now() + 60_000;
  while (seen < 3 && Date.now() < deadline) await sleep(100);
  check(seen >= 3, 'the upload never reached its third part');
  await expectingErrors(doctorA, [/ERR_|network|Failed to fetch|AbortError|cancel/i], async () => {
    await page.reload({ waitUntil: 'load' });
    release();
    await page.unroute('**/v1/uploads/*/parts/*', route);
  }).catch(() => {}); // the reload may cancel quietly
  await rendered(doctorA);
  await unlockDoctor(doctorA);
  const item = '[data-testid="pending-record"][data-stage="uploading"]';
  const id = await until(doctorA, 'the interrupted upload listed', (sel) => document.querySelector(sel)?.dataset.record, item, 20_000);
  check(/Upload not finished: Resume/.test(await testIdText(doctorA, 'pending-stage', { within: item })), 'the pending stage sentence');
  await doctorA.screenshot('14-doctor-pending-after-reload');
  await doctorA.axe('doctor (pending)');
  await doctorA.click('button', /^Resume radiology/);
  await until(doctorA, 'the resumed record done', async (rid) => document.querySelector(`[data-testid="pending-record"][data-record="${rid}"]`)?.dataset.stage === 'done', id, 90_000);
  await doctorA.screenshot('15-doctor-pending-done');
}

/**
 * The patient deletes her record: the confirm step says what becomes
 * public; her wallet sends the tombstone (the first attempt rejected: the
 * step stays retryable); the chain marks it deleted by her; the hospital's
 * copy is gone.
 */
async function patientDeletes(flow, patient, hospital, eh) {
  await openView(patient, 'patient');
  await testIdText(patient, 'record-state', { test: /^filed$/, ms: 30_000 });
  await patient.click('button', /^Delete record /);
  check(/public on the blockchain/.test(await patient.evaluate(() => document.querySelector('.confirm')?.innerText ?? '')),
    'the confirm step does not say the deletion is public');
  await patient.screenshot('16-patient-delete-confirm');
  await patient.axe('patient (delete confirm)');
  await patient.wallet('rejectNext', 'eth_sendTransaction');
  await expectingErrors(patient, [/4001|rejected/i], async () => {
    await patient.click('button', /^Yes, delete record /);
    await expectErrorBox(patient, ['UserRejected', '4001']);
  });
  check(fs.existsSync(blobPath(hospital, eh)), 'the copy went before the tombstone');
  await patient.click('button', 'Try again');
  await testIdText(patient, 'delete-outcome', { test: /deleted/, ms: 30_000 });
  await testIdText(patient, 'record-state', { test: /^deleted$/ });
  await patient.screenshot('17-patient-deleted');
  const status = await rpc(flow, 'eth_call', [{ to: flow.env.registry, data: '0x7188c863' + eh.replace(/^0x/, '') }, 'latest']);
  check(BigInt('0x' + status.slice(2 + 64 * 6, 2 + 64 * 7)) === 1n, 'the chain does not mark the record deleted');
  const logs = await rpc(flow, 'eth_getLogs', [{ address: flow.env.registry, fromBlock: '0x0', topics: [null, '0x' + eh.replace(/^0x/, '')] }]);
  const deletion = logs.find((l) => l.topics.length === 3 && l.topics[2].toLowerCase().endsWith(patient.account.slice(2).toLowerCase()));
  check(deletion, 'no RecordDeleted event by the patient');
  check(!fs.existsSync(blobPath(hospital, eh)), `the hospital still keeps ${blobPath(hospital, eh)}`);
}

/** The whole flow in Chromium (issue #13). */
async function fullChromium(flow) {
  const watch = stopwatch(flow);
  const stMarys = flow.env.hospitals[0];
  const royalFree = flow.env.hospitals[1];
  const big = testFile(32 << 20);
  const who = await people(flow);
  watch.lap('connect 5 wallets');

  // 1. Certify A, B and C.
  await certify(flow, who.authority, who['doctor A'], stMarys.name, 'A');
  const serialB = await certify(flow, who.authority, who['doctor B'], royalFree.name, 'B');
  await certify(flow, who.authority, who['doctor C'], royalFree.name, undefined, { keyboard: true });
  await who['doctor A'].screenshot('04-doctor-certified');
  await who['doctor A'].axe('doctor (certified)');
  watch.lap('certify A, B, C');

  // 2. A creates a 32 MiB record for the patient.
  const code = await patientCode(flow, who.patient);
  const { handoff } = await createRecord(flow, who['doctor A'], code, big, { shot: '04b-doctor' });
  await who['doctor A'].screenshot('04c-doctor-handoff');
  await who['doctor A'].axe('doctor (handoff)');
  check(await copied(who['doctor A'], 'Copy handoff') === handoff, 'the copied handoff differs');
  check(await who['doctor A'].evaluate(async () => {
    const names = [];
    for await (const name of (await navigator.storage.getDirectory()).keys()) names.push(name);
    return !names.some((n) => n.endsWith('.ehr'));
  }), 'the ciphertext stayed in OPFS after the handoff');
  watch.lap('create 32 MiB record');

  // 3. The patient files it and grants B.
  const eh = await fileAndGrant(flow, who.patient, handoff, who['doctor A'], who['doctor B'], stMarys.name, 'radiology');
  const blob = blobPath(stMarys, eh);
  check(fs.existsSync(blob), `St Mary's server has no blob at ${blob}`);
  check(!fs.existsSync(blobPath(royalFree, eh)), 'the record is at the Royal Free too');
  watch.lap('file and grant');

  // 4. B gets it, both save paths (6c on the way); 5. C finds nothing.
  const grant = await doctorGetsRecord(flow, who['doctor B'], big, watch);
  await sealedInbox(flow, { doctorB: who['doctor B'], patient: who.patient, doctorA: who['doctor A'] }, 'radiology', eh);
  watch.lap('sealed inbox');
  await emptyInbox(who['doctor C']);
  watch.lap('C empty');

  // 6. Error states.
  await tamperedRecord(flow, who['doctor B'], blob, grant);
  watch.lap('tampered');
  await revokedDoctor(who.authority, who['doctor B'], serialB, grant);
  watch.lap('revoked');
  await cutUpload(flow, who['doctor A'], code, big);
  watch.lap('upload cut and resumed');
  await reloadMidUpload(flow, who['doctor A'], code, big);
  watch.lap('reload mid-upload and resumed');
  await patientDeletes(flow, who.patient, stMarys, eh);
  watch.lap('patient deletes');
  watch.report();
}

/** A file in `dir` complete at `size` bytes (Firefox writes a .part file first); resolves its path. */
async function downloaded(dir, size, ms = 60_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const names = fs.readdirSync(dir);
    const done = names.find((n) => !n.endsWith('.part') && fs.statSync(path.join(dir, n)).size === size && !names.includes(`${n}.part`));
    if (done) return path.join(dir, done);
    if (Date.now() > deadline) {
      const seen = names.map((n) => `${n} (${fs.statSync(path.join(dir, n)).size} bytes)`).join(', ');
      throw new Error(`no complete download of ${size} bytes in ${dir} within ${ms} ms: ${seen || 'empty'}`);
    }
    await sleep(200);
  }
}

/** The flow's key steps in Firefox: certify, a small record, file, grant, the inbox's service-worker download, bytes equal. */
async function fullFirefox(flow) {
  const watch = stopwatch(flow);
  const [stMarys, royalFree] = flow.env.hospitals;
  const small = testFile(3 << 20);
  const who = await people(flow, ['authority', 'doctor A', 'doctor B', 'patient']);
  watch.lap('connect 4 wallets');
  await certify(flow, who.authority, who['doctor A'], stMarys.name, 'A');
  await certify(flow, who.authority, who['doctor B'], royalFree.name);
  watch.lap('certify A, B');
  const code = await patientCode(flow, who.patient);
  const { handoff } = await createRecord(flow, who['doctor A'], code, small, { type: 'cardiology' });
  await who['doctor A'].screenshot('04c-doctor-handoff');
  await who['doctor A'].axe('doctor (handoff)');
  watch.lap('create 3 MiB record');
  const eh = await fileAndGrant(flow, who.patient, handoff, who['doctor A'], who['doctor B'], stMarys.name, 'cardiology', { viaRelay: false });
  watch.lap('file and grant');
  const doctorB = who['doctor B'];
  // Firefox has no save picker: the portal saves through its service worker by itself.
  const grant = await openInbox(doctorB, `${flow.env.portalUrl}/#inbox`, 'cardiology');
  check(/cardiology from St Mary's Hospital/.test(grant.summary), `grant summary: ${grant.summary}`);
  await doctorB.screenshot('07-inbox-grant');
  await doctorB.axe('inbox (grant)');
  await getRecord(doctorB, grant.sel);
  await clickWithin(doctorB, grant.sel, 'Save record');
  await testIdText(doctorB, 'fetch-status', { within: grant.sel, test: /^Saved "cardiology-.*matches its registration/, ms: 60_000 });
  const file = await downloaded(flow.downloadDir, small.size);
  check(/^cardiology-\d{4}-\d\d-\d\d-[0-9a-f]{8}\.bin$/.test(path.basename(file)), `download named ${path.basename(file)}`);
  check(sha256Of(file) === small.sha256, 'the downloaded record differs from the original (SHA-256)');
  await doctorB.screenshot('08-inbox-saved-download');
  watch.lap('B saved (service-worker download)');
  await sealedInbox(flow, { doctorB, patient: who.patient, doctorA: who['doctor A'] }, 'cardiology', eh);
  watch.lap('sealed inbox');
  watch.report();
}

/** The full flow: everything in Chromium, the key steps in Firefox. */
function fullFlow(flow) {
  return flow.browser === 'firefox' ? fullFirefox(flow) : fullChromium(flow);
}

// ---- wallet: the wallet states a person meets (issue #13 item 1) ----

/** Connects `actor` through the portal's button for the test wallet, expecting success. */
async function connectAgain(actor) {
  await actor.click('button', /^Connect Test Wallet/);
  await actor.waitForText(addressPattern(actor.account));
}

/**
 * No wallet at all; a rejected and a pending connection request; the
 * wallet on another network (switch), on a network it does not know
 * (4902, then add); the account changed and the wallet locked while the
 * patient's records are unlocked. Each state shows a plain sentence.
 */
async function walletFlow(flow) {
  const { patient, doctor_A: other } = flow.accounts;
  // 1. A browser without any wallet.
  const none = await flow.actor('no wallet', patient.address, { absent: true });
  await openView(none, 'wallet');
  const missing = await testIdText(none, 'no-wallet', { test: /./ });
  check(/no wallet/i.test(missing) && /install/i.test(missing), `the no-wallet state reads: ${missing}`);
  await none.screenshot('w1-no-wallet');
  await none.axe('wallet (none)');

  // 2. The connection request rejected, then already pending in the wallet; then accepted.
  const p = await flow.actor('patient', patient.address);
  await openView(p, 'wallet');
  await p.wallet('rejectNext', 'eth_requestAccounts');
  await expectingErrors(p, [/4001|rejected|declined/i], async () => {
    await p.click('button', /^Connect Test Wallet/);
    const e = await expectErrorBox(p, ['UserRejected', '4001']);
    check(/declined/i.test(e.title), `the rejection reads: ${e.text}`);
  });
  await p.screenshot('w2-connect-rejected');
  await p.wallet('pendingNext', 'eth_requestAccounts');
  await expectingErrors(p, [/32002|pending/i], async () => {
    await p.click('button', /^Connect Test Wallet/);
    const e = await expectErrorBox(p, ['RequestPending', '-32002']);
    check(/already/i.test(e.title) && /open your wallet/i.test(e.text), `the pending request reads: ${e.text}`);
  });
  await p.screenshot('w3-connect-pending');
  await connectAgain(p);

  // 3. The wallet moves to another network: the portal says so and switches it back.
  await p.wallet('setChainId', '0x1');
  await testIdText(p, 'wrong-chain', { test: /./ });
  await p.screenshot('w4-wrong-chain');
  await p.axe('wallet (wrong chain)');
  await p.click('button', /^Switch to /);
  await until(p, 'the wallet back on the local chain', () => !document.querySelector('[data-testid="wrong-chain"]')?.textContent.trim(), undefined, 15_000);
  check(await p.wallet('chainId') === '0x7a69', 'the wallet did not switch back to the local chain');

  // 4. A wallet that does not know the local chain: switch answers 4902, the portal adds it.
  const fresh = await flow.actor('patient (new wallet)', patient.address, { chainId: '0x1', fresh: true });
  await openView(fresh, 'wallet');
  await connectAgain(fresh);
  await testIdText(fresh, 'wrong-chain', { test: /./ });
  await fresh.click('button', /^Switch to /);
  await until(fresh, 'the local chain added and chosen', () => !document.querySelector('[data-testid="wrong-chain"]')?.textContent.trim(), undefined, 15_000);
  const asked = (await fresh.wallet('requests')).map((r) => `${r.method}:${r.ok ? 'ok' : r.error?.code}`);
  check(asked.includes('wallet_switchEthereumChain:4902') && asked.includes('wallet_addEthereumChain:ok'), `the wallet saw: ${asked.join(', ')}`);

  // 5. The account changes while the records are unlocked: they lock; the page says so.
  await openView(p, 'patient');
  await p.click('button', 'Unlock my records');
  await testIdText(p, 'patient-code', { test: /^ehrchain-patient:/ });
  await p.wallet('setAccount', other.address);
  await until(p, 'the records locked', () => /records locked/.test(document.querySelector('[data-testid="wallet-status"]')?.textContent ?? ''), undefined, 15_000);
  check(!(await p.evaluate(() => document.querySelector('[data-testid="patient-code"]')?.textContent)), 'the old account\'s patient code stays on the page');
  check(addressPattern(other.address).test(await testIdText(p, 'wallet-status')), 'the header does not show the new account');
  await p.screenshot('w5-account-changed');

  // 6. The wallet locks: the page shows no account and asks to unlock.
  await p.evaluate(() => { window.__testWallet.locked = true; });
  await until(p, 'the page without account', () => /not connected|locked/i.test(document.querySelector('[data-testid="wallet-status"]')?.textContent ?? ''), undefined, 15_000);
  await p.screenshot('w6-wallet-locked');
}

// ---- bench: the issue's timings and the page's memory (not part of the test run) ----

const mb = (bytes) => (bytes / 1e6).toFixed(0);
const signed = (bytes) => `${bytes >= 0 ? '+' : ''}${mb(bytes)}`;

/**
 * The proportional set size (PSS, bytes) of every Chromium process this
 * Node process started, by `<person> <process type>` (the person: the label
 * `labels` gives the browser's --user-data-dir; the type: browser, renderer,
 * gpu-process, utility:NetworkService, utility:StorageService, zygote, …),
 * and their sum: the browsers' memory, all their pages and workers included.
 */
function chromiumPss(labels = new Map()) {
  const children = new Map();
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const ppid = Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(pid));
    } catch { /* gone */ }
  }
  let total = 0;
  const byKey = {};
  const walk = (pid, person) => {
    for (const child of children.get(pid) ?? []) {
      let who = person;
      try {
        const cmdline = fs.readFileSync(`/proc/${child}/cmdline`, 'utf8');
        if (cmdline.includes('chromium')) {
          const dir = /--user-data-dir=([^\0]+)/.exec(cmdline)?.[1];
          if (who === undefined) who = (dir && labels.get(dir)) || 'chromium';
          const pss = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${child}/smaps_rollup`, 'utf8'));
          if (pss) {
            total += Number(pss[1]) * 1024;
            const type = /--type=([a-z-]+)/.exec(cmdline)?.[1] ?? 'browser';
            const sub = /--utility-sub-type=([\w.]+)/.exec(cmdline)?.[1];
            const key = `${who} ${sub ? `${type}:${sub.split('.').at(-1)}` : type}`;
            byKey[key] = (byKey[key] ?? 0) + Number(pss[1]) * 1024;
          }
        }
      } catch { /* gone */ }
      walk(child, who);
    }
  };
  walk(process.pid, undefined);
  return { total, byKey };
}

/**
 * Samples chromiumPss() every 200 ms until stopped. Resolves { base, peak,
 * phases, grew, isolates }: bytes; `phases` the peak under each status line
 * `phase()` gave (its first words), when given; `grew` each process's own
 * peak above its level at the start ([key, bytes], largest first, those
 * above 10 MB); with `watch` (cdp.mjs's isolateWatch) the peak JS heap and
 * ArrayBuffer memory of each isolate of that browser; with `gc` a full
 * garbage collection in each of its isolates after each sample, every
 * 200 ms (to tell garbage from live memory).
 */
function memorySampler({ phase, labels, watch, gc } = {}) {
  const start = chromiumPss(labels);
  const base = start.total;
  let peak = base;
  let current = 'start';
  const phases = {};
  const peaks = { ...start.byKey };
  let busy = false;
  const tick = () => {
    const now = chromiumPss(labels);
    peak = Math.max(peak, now.total);
    for (const [k, v] of Object.entries(now.byKey)) peaks[k] = Math.max(peaks[k] ?? 0, v);
    phases[current] = Math.max(phases[current] ?? 0, now.total);
    if (phase) phase().then((p) => { if (p) current = p; }, () => {});
    if (watch && !busy) {
      busy = true;
      // Sampled before collecting: the peak is what accumulates in a tick.
      watch.sample().then(() => (gc ? watch.collect() : undefined)).catch(() => {}).finally(() => { busy = false; });
    }
  };
  const timer = setInterval(tick, 200);
  return {
    async stop() {
      clearInterval(timer);
      tick();
      const grew = Object.entries(peaks).map(([k, v]) => [k, v - (start.byKey[k] ?? 0)]).filter(([, d]) => d > 10e6).sort((a, b) => b[1] - a[1]);
      return {
        base, peak, grew,
        isolates: watch ? await watch.stop() : undefined,
        phases: Object.entries(phases).map(([k, v]) => `${k} +${mb(v - base)}`).join(', '),
      };
    },
  };
}

/** "doctor B renderer +180, …" for a sampler's `grew`. */
const byProcess = (grew) => grew.map(([k, d]) => `${k} ${signed(d)}`).join(', ') || 'none above 10 MB';
/** "page #inbox heap 12 buffers 3, …" (MB, peaks) for a sampler's `isolates`. */
const byIsolate = (isolates) => Object.entries(isolates ?? {}).map(([k, v]) => `${k}: heap ${mb(v.heap)}, buffers ${mb(v.buffers)}`).join('; ');

/** Whether the OPFS file `saved/<picked name>` (the bench's picker) has the record's size and its bytes at 16 places (the first and last 64 KiB among them). */
async function opfsSavedMatches(actor, file) {
  const places = Array.from({ length: 16 }, (_, i) => Math.floor((file.size - 65536) * i / 15));
  const got = await actor.evaluate(async (at) => {
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('saved');
    const f = await (await dir.getFileHandle(window.__pickedName)).getFile();
    const hex = async (o) => Array.from(new Uint8Array(await f.slice(o, o + 65536).arrayBuffer()), (b) => b.toString(16).padStart(2, '0')).join('');
    return { size: f.size, samples: await Promise.all(at.map(hex)) };
  }, places);
  if (got.size !== file.size) return false;
  const fd = fs.openSync(file.file, 'r');
  try {
    return places.every((o, i) => {
      const buf = Buffer.alloc(65536);
      fs.readSync(fd, buf, 0, 65536, o);
      return buf.toString('hex') === got.samples[i];
    });
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The figures issue #13 asks for, per size (PORTAL_BENCH_MIB, default
 * "32,512"): the time from the file chosen (Create record pressed) to the
 * record anchored (its handoff shown), and from the grant found (listed in
 * B's inbox) to the file saved (the download complete and verified); the
 * Chromium processes' peak memory above their level before each step. The
 * save goes through the service-worker download, or the File System Access
 * path (a picker backed by OPFS), or each in turn (PORTAL_BENCH_SAVE =
 * download | picker | download,picker). Run by bench/portal.mjs, which
 * documents the other switches.
 */
async function benchFlow(flow) {
  const sizes = (process.env.PORTAL_BENCH_MIB || '32,512').split(',').map(Number);
  const saves = (process.env.PORTAL_BENCH_SAVE || 'download').split(',');
  for (const s of saves) check(['download', 'picker'].includes(s), `PORTAL_BENCH_SAVE: ${s} is not download or picker`);
  const detail = !!process.env.PORTAL_BENCH_BY_PROCESS;
  const [stMarys, royalFree] = flow.env.hospitals;
  const who = await people(flow, ['authority', 'doctor A', 'doctor B', 'patient']);
  const labels = new Map(Object.entries(who).filter(([, a]) => a.profileDir).map(([label, a]) => [a.profileDir, label]));
  await certify(flow, who.authority, who['doctor A'], stMarys.name);
  await certify(flow, who.authority, who['doctor B'], royalFree.name);
  const code = await patientCode(flow, who.patient);
  const [doctorA, doctorB] = [who['doctor A'], who['doctor B']];
  const isolates = process.env.PORTAL_BENCH_ISOLATES ? (await import('./cdp.mjs')).isolateWatch : undefined;
  const gc = !!process.env.PORTAL_BENCH_GC;
  const table = [];
  for (const mib of sizes) {
    const file = testFile(mib * 2 ** 20);
    const type = `bench ${mib} MiB`;
    await openView(doctorA, 'wallet'); // a fresh doctor view: no handoff of the last record on it
    await openView(doctorA, 'doctor');
    check(!(await doctorA.evaluate(() => document.querySelector('[data-testid="handoff"]')?.textContent)), 'an old handoff is still shown');
    await doctorA.fill('Patient code', code);
    await doctorA.fill('Record type', type);
    await doctorA.setFiles('Record file', file.file);
    const status = () => doctorA.evaluate(() => document.querySelector('[data-testid="record-output"] [data-testid="record-status"]')?.textContent.split(' ').slice(0, 2).join(' '));
    let watch = isolates && doctorA.profileDir ? await isolates(doctorA.profileDir) : undefined;
    let memory = memorySampler({ phase: status, labels, watch, gc });
    let t = Date.now();
    await doctorA.click('button', 'Create record');
    // The handoff, or the error box that says why there will be none.
    const handoff = await until(doctorA, 'the handoff (or an error)', () => {
      const out = document.querySelector('[data-testid="record-output"]');
      const box = out?.querySelector('[data-testid="error"]');
      if (box) return `error [${box.dataset.code}] ${box.innerText.replace(/\s+/g, ' ')}`;
      const text = out?.querySelector('[data-testid="handoff"]')?.value;
      return text && /^0x[0-9a-f]{200,}$/.test(text) ? text : null;
    }, undefined, 30 * 60_000);
    check(handoff.startsWith('0x'), `the ${mib} MiB record was not created: ${handoff}`);
    const create = (Date.now() - t) / 1000;
    const createMem = await memory.stop();
    // A fresh patient view: the last record's details must not stand in for this one's.
    await openView(who.patient, 'wallet');
    await openView(who.patient, 'patient');
    await fileAndGrant(flow, who.patient, handoff, doctorA, doctorB, stMarys.name, type);
    const row = { mib, create, createMem, saves: {} };
    table.push(row);
    let line = `${mib} MiB: file chosen -> anchored ${create.toFixed(1)} s (${(file.size / 1e6 / create).toFixed(0)} MB/s), ` +
      `browser memory +${mb(createMem.peak - createMem.base)} MB (peak ${mb(createMem.peak)} MB)`;
    if (detail) line += `, by step (MB): ${createMem.phases}; by process (MB): ${byProcess(createMem.grew)}`;
    if (createMem.isolates) line += `; doctor A's isolates at their peaks (MB)${gc ? ', collected every 200 ms' : ''}: ${byIsolate(createMem.isolates)}`;

    for (const how of saves) {
      await openView(doctorB, 'wallet'); // the inbox view mounts again and scans for the new grant
      const grant = await openInbox(doctorB, `${flow.env.portalUrl}/${how === 'download' ? '?save=download' : ''}#inbox`, type);
      if (how === 'picker') await clearOpfsSaved(doctorB);
      watch = isolates && doctorB.profileDir ? await isolates(doctorB.profileDir) : undefined;
      memory = memorySampler({ labels, watch, gc });
      t = Date.now();
      await getRecord(doctorB, grant.sel);
      let saved;
      if (how === 'download') {
        const downloaded = doctorB.page.waitForEvent('download', { timeout: 30 * 60_000 });
        await clickWithin(doctorB, grant.sel, 'Save record');
        const download = await downloaded;
        saved = path.join(ROOT, '.tmp', 'portal-test', `bench-${process.pid}-${mib}.bin`);
        const failure = await download.failure();
        check(!failure, `the download failed: ${failure}`);
        await download.saveAs(saved);
        await download.delete();
      } else {
        await clickWithin(doctorB, grant.sel, 'Save record');
      }
      const outcome = await testIdText(doctorB, 'fetch-status', { within: grant.sel, test: /^Saved "|not saved/, ms: 30 * 60_000 });
      check(/^Saved "/.test(outcome), `the ${mib} MiB save (${how}): ${outcome}`);
      const fetch = (Date.now() - t) / 1000;
      const fetchMem = await memory.stop();
      if (saved) {
        check(fs.statSync(saved).size === file.size && sha256Of(saved) === file.sha256, `the saved ${mib} MiB record differs from the original`);
        fs.rmSync(saved);
      } else {
        check(await opfsSavedMatches(doctorB, file), `the ${mib} MiB record saved through the picker differs from the original`);
        await clearOpfsSaved(doctorB);
      }
      row.saves[how] = { fetch, fetchMem };
      line += `; grant found -> saved (${how}) ${fetch.toFixed(1)} s (${(file.size / 1e6 / fetch).toFixed(0)} MB/s), ` +
        `browser memory +${mb(fetchMem.peak - fetchMem.base)} MB (peak ${mb(fetchMem.peak)} MB)`;
      if (detail) line += `, by process (MB): ${byProcess(fetchMem.grew)}`;
      if (fetchMem.isolates) line += `; doctor B's isolates at their peaks (MB)${gc ? ', collected every 200 ms' : ''}: ${byIsolate(fetchMem.isolates)}`;
    }
    console.log(`[bench] ${line}`);
    flow.note(line);
  }
  // One row per size: the figures above side by side.
  const head = ['size', 'create s', 'create +MB', ...saves.flatMap((how) => [`${how} s`, `${how} +MB`, ...(detail ? [`${how}: largest growth (MB)`] : [])])];
  const rows = table.map((r) => [`${r.mib} MiB`, r.create.toFixed(1), mb(r.createMem.peak - r.createMem.base),
    ...saves.flatMap((how) => {
      const s = r.saves[how];
      return [s.fetch.toFixed(1), mb(s.fetchMem.peak - s.fetchMem.base), ...(detail ? [s.fetchMem.grew.slice(0, 2).map(([k, d]) => `${k} ${signed(d)}`).join(', ')] : [])];
    })]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const format = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(['[bench] browser memory above its level before each step (PSS of every Chromium process):',
    format(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(format)].join('\n'));
}

// ---- closed tab: a streamed download whose page is closed is marked failed ----
//
// The download service worker (sw.js) is fed by the page over a port. A
// page announces a download, feeds one chunk and then holds (as a page does
// while it waits for the network), the browser starts the download, and the
// page is closed: the worker must error the response so that the browser
// marks the download failed, instead of leaving it "in progress" forever.

async function closedTabFlow(flow) {
  const doctor = await flow.actor('closed-tab', flow.env.authority);
  await doctor.goto('/?save=download#inbox');
  await rendered(doctor);
  const page = doctor.page;
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
  const id = await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    const channel = new MessageChannel();
    const id = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
    window.closedTabPulls = 0;
    const ready = new Promise((resolve) => {
      channel.port1.onmessage = (e) => {
        if (e.data?.type === 'ready') resolve();
        if (e.data?.type === 'pull') {
          window.closedTabPulls += 1;
          // One chunk, then nothing more: the page "waits for the network".
          if (window.closedTabPulls === 1) channel.port1.postMessage({ type: 'chunk', data: new Uint8Array(1024) });
        }
      };
    });
    window.closedTabPort = channel.port1;
    reg.active.postMessage({ type: 'download', id, filename: 'held.bin', size: 1 << 20 }, [channel.port2]);
    await ready;
    return id;
  });
  const downloaded = page.waitForEvent('download', { timeout: 30_000 });
  await page.evaluate((id) => {
    const frame = document.createElement('iframe');
    frame.hidden = true;
    frame.src = `/download/${id}`;
    document.body.append(frame);
  }, id);
  const download = await downloaded;
  await page.waitForFunction(() => window.closedTabPulls >= 2, null, { timeout: 30_000 });
  await page.close();
  const outcome = await Promise.race([
    download.failure().then((f) => f ?? 'completed'),
    new Promise((resolve) => setTimeout(() => resolve('still in progress after 30 s'), 30_000)),
  ]);
  check(outcome !== 'completed' && !/^still in progress/.test(outcome), `the download of a closed page: ${outcome}`);
  flow.note(`the download of a closed page failed: ${outcome}`);
}

export const FLOWS = [
  { name: 'serve', run: serveFlow },
  { name: 'smoke', browsers: ['chromium', 'firefox'], run: smokeFlow },
  { name: 'full', browsers: ['chromium', 'firefox'], run: fullFlow },
  { name: 'wallet', browsers: ['chromium'], run: walletFlow },
  { name: 'closed-tab', browsers: ['chromium'], run: closedTabFlow },
  // Only when named (`--flow bench`): a benchmark, not a test (bench/portal.mjs).
  { name: 'bench', browsers: ['chromium'], manual: true, run: benchFlow },
];
