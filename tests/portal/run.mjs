#!/usr/bin/env node
// The portal's end-to-end harness: starts the whole environment
// (scripts/devenv.mjs: chain, registry with two hospitals listed, two record
// servers, the built portal) on ports of its own, then runs the flows of
// tests/portal/flows.mjs in headless Chromium (Debian's /usr/bin/chromium
// through playwright-core) and headless Firefox ESR (puppeteer-core over
// WebDriver BiDi), offline, with the test wallet tests/portal/provider.js
// injected into every page before the portal's code.
//
//   node tests/portal/run.mjs [chromium] [firefox] [--flow NAME]… [--no-build] [--keep-env] [--scale]
//   (--scale: the record servers in their scaled configuration, scripts/dev.sh --scale)
//
// Flows and the browsers they run in: see FLOWS in flows.mjs. One line per
// flow and browser: "ok   chromium smoke (12.3 s)" / "FAIL firefox smoke: …" /
// "skip …: why". Exit code 1 on any failure.
//
// Screenshots: docs/screenshots/<browser>-<flow>-<name>.jpg (committed, so a reviewer can look without running anything; refreshed by each run)
// (PORTAL_SCREENSHOTS=DIR to move them). Ports: free ones, unless
// PORTAL_TEST_CHAIN_PORT, PORTAL_TEST_SERVER_PORT (and +1), PORTAL_TEST_PORTAL_PORT
// fix them. Logs: .tmp/portal-test/run-<pid>/ (removed when every flow passed).
// Chromium: each person is a context of one browser (an off-the-record profile), or with
// PORTAL_CHROMIUM_PROFILES=persistent (bench/portal.mjs) a browser with an on-disk profile of its own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEnv, DEV_ACCOUNTS, ROOT } from '../../scripts/devenv.mjs';
import { launchChromium, CHROMIUM, CHROMIUM_ARGS } from '../../chain/chromium.mjs';
import { freePort } from '../../chain/testchain.mjs'; // startEnv refuses a port taken since
import { FLOWS } from './flows.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const FIREFOX = process.env.FIREFOX || '/usr/bin/firefox-esr';
const AXE = path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');
export const SCREENSHOTS = path.resolve(ROOT, process.env.PORTAL_SCREENSHOTS || 'docs/screenshots');
const PROVIDER_SOURCE = fs.readFileSync(path.join(HERE, 'provider.js'), 'utf8');

/** The init script that installs the test wallet with `options` ({ rpcUrl, chainId, account, … }). */
export function walletScript(options) {
  const fn = PROVIDER_SOURCE.replace(/^\s*\/\/.*$/gm, '').trim().replace(/;\s*$/, '');
  return `(${fn})(${JSON.stringify(options)});`;
}

// Reports CSP violations as console errors in every browser (Firefox over
// BiDi does not report them as console messages by itself).
const CSP_REPORTER = `window.addEventListener('securitypolicyviolation', (e) =>
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- one person at a browser: a page in a profile of its own, with a wallet ----

/**
 * What flows use. Both browsers give the same interface:
 *   actor.goto(hashOrPath)            opens the portal (`#doctor`, `/`, …)
 *   actor.click(role, name)           clicks the element of that ARIA role and accessible name (string: exact; RegExp)
 *   actor.fill(label, value)          types into the field labelled `label` (string or RegExp)
 *   actor.setFiles(label, file)       picks a file for the file input labelled `label`
 *   actor.has(role, name)             resolves whether such an element is on the page now
 *   actor.waitFor(role, name, ms)     waits until one is visible
 *   actor.waitForText(text|re, ms)    waits until the page's visible text contains it
 *   actor.text()                      the page's visible text
 *   actor.evaluate(fn, arg)           runs fn(arg) in the page
 *   actor.wallet(method, ...args)     calls window.__testWallet[method](...args) (setAccount, rejectNext, setChainId, …)
 *   actor.screenshot(name)            writes SCREENSHOTS/<browser>-<flow>-<name>.jpg
 *   actor.axe(name)                   runs axe-core; records violations (serious/critical fail the flow)
 *   actor.errors                      console errors, page errors and CSP violations so far
 *   actor.page                        the raw playwright / puppeteer page
 */
class Actor {
  constructor({ browserName, flow, label, account, page, impl }) {
    Object.assign(this, { browserName, flow, label, account, page, impl });
    this.errors = [];
    this.axeFindings = [];
  }
  async goto(where = '/') {
    const url = where.startsWith('#') ? `${this.flow.env.portalUrl}/${where}` : new URL(where, this.flow.env.portalUrl).href;
    await this.impl.goto(url);
  }
  click(role, name, opts) { return this.impl.click(role, name, opts); }
  fill(label, value) { return this.impl.fill(label, value); }
  setFiles(label, file) { return this.impl.setFiles(label, file); }
  has(role, name) { return this.impl.has(role, name); }
  waitFor(role, name, ms = 15_000) { return this.impl.waitFor(role, name, ms); }
  text() { return this.evaluate(() => document.body ? document.body.innerText : ''); }
  evaluate(fn, arg) { return this.impl.evaluate(fn, arg); }
  async waitForText(text, ms = 15_000) {
    const deadline = Date.now() + ms;
    const test = (t) => (text instanceof RegExp ? text.test(t) : t.includes(text));
    let last = '';
    while (Date.now() < deadline) {
      last = await this.text().catch(() => '');
      if (test(last)) return last;
      await sleep(150);
    }
    throw new Error(`${this.label}: the page never showed ${text} within ${ms} ms; it shows:\n${last.slice(0, 1500)}`);
  }
  wallet(method, ...args) {
    return this.evaluate(([m, a]) => {
      const w = window.__testWallet;
      if (typeof w[m] === 'function') return w[m](...a);
      if (a.length) w[m] = a[0];
      return JSON.parse(JSON.stringify(w[m] ?? null));
    }, [method, args]);
  }
  async screenshot(name) {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    const file = path.join(SCREENSHOTS, `${this.browserName}-${this.flow.name}-${name}.jpg`);
    await this.impl.screenshot(file);
    this.flow.screenshots.push(path.relative(ROOT, file));
    return file;
  }
  /** axe-core on the current page; resolves the violations (all impacts). */
  async axe(name) {
    // Not addScriptTag: the portal's CSP (script-src 'self') refuses an injected
    // inline script, and that refusal would itself be a console error. The
    // automation channel's evaluation is not subject to the page's CSP.
    const present = await this.evaluate(() => typeof window.axe === 'object');
    if (!present) await this.impl.evaluateSource(fs.readFileSync(AXE, 'utf8'));
    const violations = await this.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1).join('; ')}`),
      }));
    });
    for (const v of violations) this.axeFindings.push({ view: name, ...v });
    return violations;
  }
}

function roleFinderSource() {
  // In-page element lookup by ARIA role and accessible name, for Firefox (puppeteer's
  // ::-p-aria takes no regular expression). A simplified accessible-name computation:
  // aria-labelledby, aria-label, <label>, alt/title/placeholder, then the text.
  return function find(role, name, isRegex, all) {
    const ROLES = {
      button: 'button, [role=button], input[type=button], input[type=submit], input[type=reset], summary',
      link: 'a[href], [role=link]',
      textbox: 'input:not([type]), input[type=text], input[type=email], input[type=search], input[type=url], input[type=tel], input[type=number], input[type=password], textarea, [role=textbox]',
      combobox: 'select, [role=combobox]',
      checkbox: 'input[type=checkbox], [role=checkbox]',
      radio: 'input[type=radio], [role=radio]',
      heading: 'h1, h2, h3, h4, h5, h6, [role=heading]',
      tab: '[role=tab]',
      navigation: 'nav, [role=navigation]',
      main: 'main, [role=main]',
      region: 'section[aria-label], section[aria-labelledby], [role=region]',
      status: '[role=status], output',
      alert: '[role=alert]',
      listitem: 'li, [role=listitem]',
      row: 'tr, [role=row]',
      table: 'table, [role=table]',
      dialog: 'dialog, [role=dialog]',
      progressbar: 'progress, [role=progressbar]',
      img: 'img, [role=img]',
      file: 'input[type=file]',
    };
    const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
    const nameOf = (el) => {
      const by = el.getAttribute('aria-labelledby');
      if (by) return norm(by.split(/\s+/).map((id) => document.getElementById(id)?.textContent || '').join(' '));
      if (el.getAttribute('aria-label')) return norm(el.getAttribute('aria-label'));
      if (el.labels && el.labels.length) return norm([...el.labels].map((l) => l.textContent).join(' '));
      if (el.tagName === 'INPUT' && ['button', 'submit', 'reset'].includes(el.type)) return norm(el.value);
      if (el.alt) return norm(el.alt);
      if (['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName)) return norm(el.title || el.placeholder);
      return norm(el.textContent) || norm(el.title);
    };
    const visible = (el) => {
      if (el.type === 'file') return true;
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden';
    };
    const re = isRegex ? new RegExp(name[0], name[1]) : null;
    const out = [...document.querySelectorAll(ROLES[role] || `[role=${role}]`)].filter((el) => {
      if (!visible(el)) return false;
      const n = nameOf(el);
      return re ? re.test(n) : n === norm(name);
    });
    return all ? out : out[0] || null;
  }.toString();
}

function chromiumImpl(page) {
  const locate = (role, name) => (role === 'file'
    ? page.getByLabel(name).first()
    : page.getByRole(role, { name, exact: typeof name === 'string' }).first());
  return {
    goto: (url) => page.goto(url, { waitUntil: 'load' }),
    click: (role, name, { timeout = 15_000 } = {}) => locate(role, name).click({ timeout }),
    fill: (label, value) => page.getByLabel(label).first().fill(value, { timeout: 15_000 }),
    setFiles: (label, file) => page.getByLabel(label).first().setInputFiles(file, { timeout: 15_000 }),
    has: async (role, name) => (await locate(role, name).count()) > 0 && locate(role, name).isVisible(),
    waitFor: (role, name, ms) => locate(role, name).waitFor({ state: 'visible', timeout: ms }),
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    evaluateSource: (src) => page.evaluate(src),
    screenshot: (file) => page.screenshot({ path: file, fullPage: true, type: 'jpeg', quality: 70 }),
  };
}

function firefoxImpl(page) {
  const finder = roleFinderSource();
  const handle = async (role, name) => {
    const isRegex = name instanceof RegExp;
    const n = isRegex ? [name.source, name.flags] : name;
    const h = await page.evaluateHandle(`(${finder})(${JSON.stringify(role)}, ${JSON.stringify(n)}, ${isRegex}, false)`);
    const el = h.asElement();
    if (!el) await h.dispose();
    return el;
  };
  const waitHandle = async (role, name, ms) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const el = await handle(role, name);
      if (el) return el;
      if (Date.now() > deadline) throw new Error(`no ${role} named ${name} within ${ms} ms`);
      await sleep(150);
    }
  };
  const field = async (label) => {
    for (const role of ['textbox', 'combobox', 'file', 'checkbox']) {
      const el = await handle(role, label);
      if (el) return el;
    }
    return null;
  };
  // Every actor is a tab of one window: input goes to the actor's tab brought to
  // the front (a background tab does not render, and BiDi input waits for it).
  const front = () => page.bringToFront();
  return {
    goto: (url) => page.goto(url, { waitUntil: 'load' }),
    click: async (role, name, { timeout = 15_000 } = {}) => {
      const el = await waitHandle(role, name, timeout);
      await front();
      await el.click();
    },
    fill: async (label, value) => {
      await front();
      const deadline = Date.now() + 15_000;
      let el;
      while (!(el = await field(label))) {
        if (Date.now() > deadline) throw new Error(`no field labelled ${label}`);
        await sleep(150);
      }
      // Long values (codes, certificates, handoffs) are set at once, then their last
      // character typed: key by key over BiDi takes seconds per kilobyte.
      const head = value.length > 64 ? value.slice(0, -1) : '';
      await el.evaluate((e, v) => {
        e.value = v;
        e.dispatchEvent(new Event('input', { bubbles: true }));
      }, head);
      await el.type(value.slice(head.length));
    },
    setFiles: async (label, file) => {
      const el = await waitHandle('file', label, 15_000);
      await front();
      await el.uploadFile(file);
    },
    has: async (role, name) => !!(await handle(role, name)),
    waitFor: async (role, name, ms) => { await waitHandle(role, name, ms); },
    evaluate: (fn, arg) => page.evaluate(fn, arg),
    evaluateSource: (src) => page.evaluate(src),
    screenshot: (file) => page.screenshot({ path: file, fullPage: true, type: 'jpeg', quality: 70 }),
  };
}

/** A browser: `newActor({ label, account, walletOptions })` gives a fresh profile with one page. */
async function openBrowser(name, env) {
  const walletFor = (account, extra = {}) => walletScript({ rpcUrl: env.rpcUrl, chainId: `0x${env.chainId.toString(16)}`, account, ...extra });
  if (name === 'chromium' && process.env.PORTAL_CHROMIUM_PROFILES === 'persistent') {
    // A browser with an on-disk profile per person (bench/portal.mjs): a
    // context of one browser is an off-the-record profile, where Chromium
    // keeps the origin-private file system in the browser process's memory.
    const { chromium } = await import('playwright-core');
    const profiles = [];
    const contexts = [];
    return {
      name,
      async newPage(account, walletOptions) {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-profile-'));
        profiles.push(dir);
        // PORTAL_BENCH_ISOLATES: a DevTools port too (its number in the profile's
        // DevToolsActivePort), for the bench's per-isolate memory (cdp.mjs).
        const args = process.env.PORTAL_BENCH_ISOLATES ? [...CHROMIUM_ARGS, '--remote-debugging-port=0'] : CHROMIUM_ARGS;
        const context = await chromium.launchPersistentContext(dir, {
          executablePath: CHROMIUM, headless: true, args, viewport: { width: 1280, height: 900 }, acceptDownloads: true,
        });
        await context.addInitScript({ content: CSP_REPORTER });
        await context.addInitScript({ content: walletFor(account, walletOptions) });
        contexts.push(context);
        const page = context.pages()[0] ?? await context.newPage();
        return { page, impl: chromiumImpl(page), close: () => context.close(), profileDir: dir };
      },
      close: async () => {
        await Promise.all(contexts.splice(0).map((c) => c.close().catch(() => {})));
        for (const dir of profiles.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (name === 'chromium') {
    const browser = await launchChromium();
    return {
      name,
      async newPage(account, walletOptions) {
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        await context.addInitScript({ content: CSP_REPORTER });
        await context.addInitScript({ content: walletFor(account, walletOptions) });
        const page = await context.newPage();
        return { page, impl: chromiumImpl(page), close: () => context.close() };
      },
      close: () => browser.close(),
    };
  }
  if (name === 'firefox') {
    const puppeteer = (await import('puppeteer-core')).default;
    // Downloads go to a folder of this run without asking (flows read them back: flow.downloadDir).
    const downloadDir = path.join(ROOT, '.tmp', 'portal-test', `downloads-${process.pid}`);
    fs.rmSync(downloadDir, { recursive: true, force: true });
    fs.mkdirSync(downloadDir, { recursive: true });
    const browser = await puppeteer.launch({
      browser: 'firefox', executablePath: FIREFOX, headless: true, protocol: 'webDriverBiDi',
      extraPrefsFirefox: {
        'app.update.enabled': false, 'browser.shell.checkDefaultBrowser': false,
        'browser.download.dir': downloadDir, 'browser.download.folderList': 2, 'browser.download.useDownloadDir': true,
        'browser.download.always_ask_before_handling_new_types': false, 'browser.download.manager.showWhenStarting': false,
        'browser.helperApps.neverAsk.saveToDisk': 'application/octet-stream', 'browser.download.start_downloads_in_tmp_dir': false,
      },
    });
    return {
      name,
      downloadDir,
      async newPage(account, walletOptions) {
        const context = await browser.createBrowserContext();
        const page = await context.newPage();
        await page.setViewport({ width: 1280, height: 900 });
        await page.evaluateOnNewDocument(CSP_REPORTER);
        await page.evaluateOnNewDocument(walletFor(account, walletOptions));
        return { page, impl: firefoxImpl(page), close: () => context.close() };
      },
      close: async () => {
        await browser.close();
        fs.rmSync(downloadDir, { recursive: true, force: true });
      },
    };
  }
  throw new Error(`unknown browser ${name} (chromium, firefox)`);
}

/** The context a flow gets: the environment, the accounts, and actors on demand. */
function flowContext(flowName, browser, env) {
  const actors = [];
  const flow = {
    name: flowName,
    env,
    browser: browser.name,
    downloadDir: browser.downloadDir, // Firefox: where its downloads land

    accounts: Object.fromEntries(DEV_ACCOUNTS.map((a) => [a.role.split(' (')[0].replace(/\s+/g, '_'), a])),
    screenshots: [],
    actors,
    notes: [],
    note: (m) => flow.notes.push(m),
    /** A person with a browser profile of their own and the test wallet on `account`. */
    async actor(label, account, walletOptions = {}) {
      const { page, impl, close, profileDir } = await browser.newPage(account, walletOptions);
      const a = new Actor({ browserName: browser.name, flow, label, account, page, impl });
      a.close = close;
      a.profileDir = profileDir; // Chromium's on-disk profiles (PORTAL_CHROMIUM_PROFILES=persistent)
      page.on('console', (m) => {
        if (m.type() !== 'error') return;
        const where = (typeof m.location === 'function' ? m.location()?.url : '') || '';
        // The browser's own favicon probe is not the portal's request.
        if (/\/favicon\.ico$/.test(where)) return;
        a.errors.push(`console: ${m.text()}${where ? ` (${where})` : ''}`);
      });
      page.on('pageerror', (e) => a.errors.push(`page error: ${e && e.message ? e.message : e}`));
      actors.push(a);
      return a;
    },
  };
  return flow;
}

// ---- main ----

async function main() {
  const args = process.argv.slice(2);
  const take = (flag) => {
    const out = [];
    for (let i; (i = args.indexOf(flag)) >= 0;) out.push(args.splice(i, 2)[1]);
    return out;
  };
  const only = take('--flow');
  const noBuild = args.includes('--no-build');
  const keepEnv = args.includes('--keep-env');
  const scale = args.includes('--scale'); // the servers' scaled configuration (PostgreSQL, S3, two instances each)
  const browsers = args.filter((a) => !a.startsWith('--'));
  const wanted = browsers.length ? browsers : ['chromium', 'firefox'];
  for (const f of only) if (!FLOWS.some((x) => x.name === f)) throw new Error(`unknown flow ${f} (${FLOWS.map((x) => x.name).join(', ')})`);

  // Free ports by default (several runs may share the machine); fixed ones on request.
  const port = async (name) => Number(process.env[name]) || freePort();
  const serverPort = Number(process.env.PORTAL_TEST_SERVER_PORT);
  const started = Date.now();
  const dataDir = path.join('.tmp', 'portal-test', `run-${process.pid}`);
  const env = await startEnv({
    chainPort: await port('PORTAL_TEST_CHAIN_PORT'),
    serverPorts: serverPort ? [serverPort, serverPort + 1] : [await freePort(), await freePort()],
    portalPort: await port('PORTAL_TEST_PORTAL_PORT'),
    dataDir,
    build: !noBuild,
    portalRoot: process.env.PORTAL_ROOT || undefined, // another build to test (no webpack run)
    quiet: !process.env.VERBOSE,
    scale,
    // The bench's records above the servers' default limit (1 GiB).
    serverEnv: process.env.PORTAL_TEST_MAX_RECORD_SIZE ? { EHR_MAX_RECORD_SIZE: process.env.PORTAL_TEST_MAX_RECORD_SIZE } : {},
  });
  console.log(`environment up in ${((Date.now() - started) / 1000).toFixed(1)} s: portal ${env.portalUrl}, chain ${env.rpcUrl}, registry ${env.registry}${env.directoryListed ? '' : ' (hospitals NOT listed: no listHospital)'}`);

  const results = [];
  try {
    for (const spec of FLOWS) {
      if (only.length ? !only.includes(spec.name) : spec.manual) continue;
      if (!spec.browsers) {
        // A flow without a browser (e.g. the static server's own checks).
        const t = Date.now();
        const flow = { name: spec.name, env, notes: [], note(m) { this.notes.push(m); } };
        try {
          await spec.run(flow);
          results.push({ ok: true, line: `ok   ${spec.name} (${((Date.now() - t) / 1000).toFixed(1)} s)${flow.notes.length ? ` — ${flow.notes.join('; ')}` : ''}` });
        } catch (e) {
          results.push({ ok: false, line: `FAIL ${spec.name}: ${e.message}` });
        }
        console.log(results.at(-1).line);
        continue;
      }
      for (const bname of wanted) {
        if (!spec.browsers.includes(bname)) continue;
        const t = Date.now();
        const browser = await openBrowser(bname, env);
        const flow = flowContext(spec.name, browser, env);
        // This flow's screenshots of an earlier run go; other flows' stay.
        if (fs.existsSync(SCREENSHOTS)) {
          for (const f of fs.readdirSync(SCREENSHOTS)) if (f.startsWith(`${bname}-${spec.name}-`)) fs.rmSync(path.join(SCREENSHOTS, f));
        }
        let outcome;
        try {
          const skip = await spec.run(flow);
          const problems = [];
          for (const a of flow.actors) {
            for (const e of a.errors) problems.push(`${a.label}: ${e}`);
            for (const v of a.axeFindings) {
              const line = `axe ${v.impact} ${v.id} on ${v.view} (${a.label}): ${v.help}\n      ${v.nodes.join('\n      ')}`;
              if (v.impact === 'serious' || v.impact === 'critical') problems.push(line);
              else flow.notes.push(line);
            }
          }
          if (typeof skip === 'string') outcome = { ok: true, line: `skip ${bname} ${spec.name}: ${skip}` };
          else if (problems.length) outcome = { ok: false, line: `FAIL ${bname} ${spec.name}: ${problems.length} problem(s)\n    ${problems.join('\n    ')}` };
          else outcome = { ok: true, line: `ok   ${bname} ${spec.name} (${((Date.now() - t) / 1000).toFixed(1)} s, ${flow.screenshots.length} screenshots)` };
        } catch (e) {
          const errs = flow.actors.flatMap((a) => a.errors.map((x) => `${a.label}: ${x}`));
          outcome = { ok: false, line: `FAIL ${bname} ${spec.name}: ${e.stack || e.message}${errs.length ? `\n    errors seen:\n    ${errs.join('\n    ')}` : ''}` };
          for (const a of flow.actors) {
            await a.screenshot(`failure-${a.label.replace(/\W+/g, '_')}`).catch(() => {});
          }
        } finally {
          await browser.close().catch(() => {});
        }
        results.push(outcome);
        console.log(outcome.line);
        for (const n of flow.notes) console.log(`     note: ${n}`);
      }
    }
  } finally {
    if (keepEnv) {
      console.log(`--keep-env: the environment stays up (portal ${env.portalUrl}); Ctrl-C stops it`);
      await new Promise(() => {});
    }
    await env.stop();
  }
  const failed = results.filter((r) => !r.ok).length;
  if (!failed) fs.rmSync(path.join(ROOT, dataDir), { recursive: true, force: true });
  else console.log(`logs kept in ${dataDir}/`);
  console.log(`portal e2e: ${results.length - failed}/${results.length} passed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${path.relative(ROOT, SCREENSHOTS)}/`);
  return failed ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then((code) => process.exit(code), (e) => {
    console.error(`FAIL harness: ${e.stack || e.message}`);
    process.exit(1);
  });
}
