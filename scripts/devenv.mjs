#!/usr/bin/env node
// The whole local environment of the portal, in one process: a Hardhat node,
// the registry contract with two hospitals listed in its on-chain directory,
// two hospital record servers, and the portal (www/dist) with its
// /config.json. scripts/dev.sh runs it after building; the portal's
// end-to-end tests (tests/portal/run.mjs) import it.
//
//   node scripts/devenv.mjs [--smoke] [--no-build | --rebuild]
//
//   import { startEnv } from './scripts/devenv.mjs';
//   const env = await startEnv({ chainPort: 8645, portalPort: 8180, serverPorts: [8800, 8801] });
//   env.portalUrl, env.rpcUrl, env.registry, env.hospitals, …
//   await env.stop();
//
// Nothing is built here except the portal bundle: target/release/ehrchain-server
// and pkg/ must exist (scripts/dev.sh builds them first).
//
// The portal bundle is rebuilt (webpack, `build: true`) only when it is stale:
// when www/dist/.devenv-built is missing or older than a file of www/ (other
// than www/dist and README.md), pkg/, webpack.config.js or tsconfig*.json at
// the root. `build: 'always'` (CLI --rebuild) rebuilds anyway; `build: false`
// (CLI --no-build) serves www/dist as it is.
//
// Every process started runs in its own process group and is killed on
// stop(), on this process's exit and on SIGINT/SIGTERM/SIGHUP; if this
// process is killed with SIGKILL the chain exits when its stdin pipe closes
// (chain/orphan-guard.cjs) and the record servers get SIGKILL from the kernel
// (`setpriv --pdeathsig KILL`, where setpriv exists).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { serve } from '../www/serve.mjs';
import { jsonRpc, HARDHAT_KEYS } from '../chain/rpc.mjs';
import { killGroup, exitHooks } from '../chain/processes.mjs';
import { startPostgres, startS3, roundRobin, createDatabase } from '../chain/services.mjs';
import { freePort } from '../chain/testchain.mjs';

const require = createRequire(import.meta.url);
const { ethers } = require('ethers');
const { deploy } = require('../chain/deploy.js');

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HARDHAT_BIN = path.join(ROOT, 'node_modules', '.bin', 'hardhat');
const WEBPACK_BIN = path.join(ROOT, 'node_modules', '.bin', 'webpack');
const GUARD = path.join(ROOT, 'chain', 'orphan-guard.cjs');
const SERVER_BIN = process.env.EHRCHAIN_SERVER_BIN || path.join(ROOT, 'target', 'release', 'ehrchain-server');
const DIST = path.join(ROOT, 'www', 'dist');
const BUILD_STAMP = path.join(DIST, '.devenv-built');

/** The two hospitals of the local directory, in the order of `serverPorts`. */
export const HOSPITALS = ["St Mary's Hospital", 'Royal Free Hospital'];

/** Hardhat's well-known test accounts the portal uses (public keys: local chains only). */
export const DEV_ACCOUNTS = [
  { index: 0, role: 'health authority (registry authority, deployer)' },
  { index: 1, role: 'doctor A' },
  { index: 2, role: 'doctor B' },
  { index: 3, role: 'doctor C' },
  { index: 4, role: 'patient' },
].map((a) => ({ ...a, privateKey: HARDHAT_KEYS[a.index], address: ethers.computeAddress(HARDHAT_KEYS[a.index]) }));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const slug = (name) => name.toLowerCase().replace(/['’]/g, '').replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

function tail(file, lines = 25) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Resolves true if something already listens on 127.0.0.1:port (or the port cannot be bound). */
function portBusy(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(true));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(false)));
  });
}

async function ensureFree(port, what, knob) {
  if (await portBusy(port)) {
    throw new Error(`port ${port} (for ${what}) is already in use on 127.0.0.1: stop what listens there (another dev environment?) or set ${knob}`);
  }
}

// ---- child processes -------------------------------------------------------

/** Processes started by this module and not yet reaped. */
const live = new Set();

// On a signal: stop the environments in order first, then kill whatever is
// left, and die of the signal as we would have, unless someone else handles it.
const installHooks = exitHooks(() => live, {
  beforeSignalKill: () => Promise.all([...envs].map((e) => e.stop().catch(() => {}))),
  raiseOnlyIfUnhandled: true,
});

let setprivOk;
function hasSetpriv() {
  setprivOk ??= fs.existsSync('/usr/bin/setpriv');
  return setprivOk;
}

/**
 * Spawns a long-running child in its own process group, output to `logFile`.
 * @returns {{child, exited: Promise<{code, signal}>, stop: (graceMs?) => Promise<void>}}
 */
function startProcess(cmd, args, { env, logFile, guard = false, pdeathsig = false }) {
  installHooks();
  const logFd = fs.openSync(logFile, 'w');
  let file = cmd;
  let argv = args;
  if (pdeathsig && hasSetpriv()) {
    file = '/usr/bin/setpriv';
    argv = ['--pdeathsig', 'KILL', cmd, ...args];
  }
  const child = spawn(file, argv, {
    cwd: ROOT,
    detached: true, // own process group; a terminal's Ctrl-C reaches only us, and we stop them in order
    stdio: [guard ? 'pipe' : 'ignore', logFd, logFd],
    env,
  });
  fs.closeSync(logFd);
  child.unref();
  if (child.stdin) {
    child.stdin.unref?.();
    child.stdin.on('error', () => {});
  }
  live.add(child);
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }),
  );
  child.once('error', () => live.delete(child));
  let stopping;
  const stop = (graceMs = 5000) => {
    stopping ??= (async () => {
      child.stdin?.destroy();
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };
  return { child, exited, stop, logFile };
}

/** Polls `probe()` until it resolves truthy; fails early if the process exits. */
async function waitUntil(what, proc, probe, timeoutMs) {
  let done = null;
  proc.exited.then((r) => {
    done = r;
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (done) {
      throw new Error(`${what} exited during start-up (code ${done.code}, signal ${done.signal}); log ${path.relative(ROOT, proc.logFile)}:\n${tail(proc.logFile)}`);
    }
    try {
      const v = await probe();
      if (v) return v;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} did not come up within ${timeoutMs / 1000} s; log ${path.relative(ROOT, proc.logFile)}:\n${tail(proc.logFile)}`);
    }
    await sleep(150);
  }
}

// ---- the portal bundle -------------------------------------------------------

function newestMtime(p, skip = () => false) {
  let newest = 0;
  let st;
  try {
    st = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  for (const e of fs.readdirSync(p, { withFileTypes: true })) {
    const q = path.join(p, e.name);
    if (skip(q)) continue;
    newest = Math.max(newest, e.isDirectory() ? newestMtime(q, skip) : fs.statSync(q).mtimeMs);
  }
  return newest;
}

/** Why the bundle must be rebuilt, or null when www/dist is up to date. */
export function portalStaleReason() {
  if (!fs.existsSync(path.join(DIST, 'index.html'))) return 'www/dist/index.html is missing';
  if (!fs.existsSync(BUILD_STAMP)) return 'www/dist was not built by devenv';
  const built = fs.statSync(BUILD_STAMP).mtimeMs;
  const inputs = [
    ['www/', newestMtime(path.join(ROOT, 'www'), (q) => q === DIST || q.endsWith(`${path.sep}README.md`) || q.endsWith(`${path.sep}serve.mjs`))],
    ['pkg/', newestMtime(path.join(ROOT, 'pkg'))],
    ['webpack.config.js', newestMtime(path.join(ROOT, 'webpack.config.js'))],
    ...fs.readdirSync(ROOT).filter((f) => /^tsconfig.*\.json$/.test(f)).map((f) => [f, newestMtime(path.join(ROOT, f))]),
  ];
  const newer = inputs.filter(([, t]) => t > built).map(([n]) => n);
  return newer.length ? `${newer.join(', ')} changed since the last build` : null;
}

/** Runs webpack; resolves its output lines. Prints the bundle-size line(s) through `log`. */
async function buildPortal(log) {
  if (!fs.existsSync(path.join(ROOT, 'webpack.config.js'))) {
    throw new Error('cannot build the portal: webpack.config.js is not there (yet); pass build: false / --no-build to serve an existing www/dist');
  }
  if (!fs.existsSync(path.join(ROOT, 'pkg', 'package.json'))) {
    throw new Error('cannot build the portal: pkg/ is missing (run scripts/build-pkg.sh)');
  }
  const started = Date.now();
  const out = await new Promise((resolve, reject) => {
    const child = spawn(WEBPACK_BIN, ['--config', 'webpack.config.js'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
    });
    let text = '';
    child.stdout.on('data', (c) => (text += c));
    child.stderr.on('data', (c) => (text += c));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(text);
      else reject(new Error(`webpack failed (exit ${code}):\n${text.trimEnd()}`));
    });
  });
  const lines = out.split('\n');
  const sizeLines = lines.filter((l) => /bundle|gzip/i.test(l));
  for (const l of sizeLines.length ? sizeLines : lines.filter(Boolean).slice(-1)) log(/^portal/i.test(l.trim()) ? l.trim() : `portal: ${l.trim()}`);
  for (const l of lines.filter((l) => /\bWARNING\b/.test(l))) log(`portal: ${l.trim()}`);
  fs.writeFileSync(BUILD_STAMP, `${new Date().toISOString()}\n`);
  log(`portal built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

// ---- the environment -----------------------------------------------------------

/** Environments started and not yet stopped (for the signal handlers). */
const envs = new Set();

/**
 * Starts the chain, the registry (two hospitals listed), two record servers and the portal.
 * @param {object} [opts]
 * @param {number} [opts.chainPort=8545]
 * @param {number} [opts.portalPort=8080]
 * @param {number[]} [opts.serverPorts=[8700, 8701]] one per hospital of HOSPITALS
 * @param {string} [opts.dataDir='.tmp/dev'] relative to the repository root; its servers/ and logs are wiped
 * @param {boolean|'always'} [opts.build=true] rebuild the portal when stale / always / never
 * @param {string} [opts.portalRoot] serve this directory instead of www/dist (no build)
 * @param {boolean} [opts.quiet=false] no progress lines on stderr
 * @param {Record<string, string>} [opts.serverEnv] more settings for both record servers (e.g. `EHR_MAX_RECORD_SIZE` for the bench's largest records)
 * @param {boolean} [opts.scale=false] the scaled configuration: PostgreSQL and an S3-compatible server
 *   (chain/services.mjs), and per hospital two server instances (one database and one key prefix
 *   per hospital) behind a round-robin proxy on the hospital's port
 * @returns {Promise<{rpcUrl: string, chainId: number, registry: string, authority: string, deployBlock: number,
 *   hospitals: {name: string, endpoint: string, port: number, log: string}[], portalUrl: string, config: object,
 *   directoryListed: boolean, abi: object[], dataDir: string, logs: object, stop: () => Promise<void>}>}
 */
export async function startEnv({
  chainPort = 8545,
  portalPort = 8080,
  serverPorts = [8700, 8701],
  dataDir = '.tmp/dev',
  build = true,
  portalRoot,
  quiet = false,
  serverEnv = {},
  scale = false,
} = {}) {
  const log = quiet ? () => {} : (m) => process.stderr.write(`[devenv] ${m}\n`);
  if (serverPorts.length !== HOSPITALS.length) throw new Error(`serverPorts: one port per hospital (${HOSPITALS.length})`);
  const dir = path.resolve(ROOT, dataDir);
  if (dir === ROOT || ROOT.startsWith(dir + path.sep) || dir === path.parse(dir).root) {
    throw new Error(`dataDir ${dataDir} would wipe the repository; pick a directory under it such as .tmp/dev`);
  }
  if (!fs.existsSync(SERVER_BIN)) {
    throw new Error(`${path.relative(ROOT, SERVER_BIN)} is missing: bash scripts/build-bins.sh`);
  }

  // Refuse busy ports before starting anything.
  const ports = [
    [chainPort, 'the chain', 'chainPort / CHAIN_PORT'],
    ...serverPorts.map((p, i) => [p, `the record server of ${HOSPITALS[i]}`, 'serverPorts / SERVER_PORT']),
    [portalPort, 'the portal', 'portalPort / PORTAL_PORT'],
  ];
  const seen = new Set();
  for (const [p, what, knob] of ports) {
    if (seen.has(p)) throw new Error(`port ${p} is given twice (${what})`);
    seen.add(p);
    await ensureFree(p, what, knob);
  }

  // Portal bundle first: a broken build should not leave a chain running.
  const root = portalRoot ? path.resolve(ROOT, portalRoot) : DIST;
  if (!portalRoot) {
    const reason = build === 'always' ? 'rebuild requested' : build ? portalStaleReason() : null;
    if (reason) {
      log(`building the portal (${reason}): webpack --config webpack.config.js`);
      await buildPortal(log);
    } else if (build) {
      log('portal: www/dist is up to date (not rebuilt)');
    }
  }
  if (!fs.existsSync(path.join(root, 'index.html'))) {
    throw new Error(`${path.relative(ROOT, root)}/index.html is missing: build the portal (without --no-build)`);
  }

  // Wipe what a previous run left: the chain starts empty, so do the stores.
  fs.mkdirSync(dir, { recursive: true });
  const serversDir = path.join(dir, 'servers');
  fs.rmSync(serversDir, { recursive: true, force: true });
  for (const f of fs.readdirSync(dir)) if (f.endsWith('.log')) fs.rmSync(path.join(dir, f), { force: true });

  const procs = [];
  const proxies = [];
  const services = [];
  let portal;
  let stopped;
  const stop = () => {
    stopped ??= (async () => {
      envs.delete(env);
      await portal?.close();
      await Promise.all(proxies.map((p) => p.close()));
      // Servers first (they read the chain while shutting down), the chain last.
      await Promise.all(procs.filter((p) => p.name !== 'chain').map((p) => p.stop()));
      await Promise.all(procs.filter((p) => p.name === 'chain').map((p) => p.stop()));
      await Promise.all(services.map((s) => s.stop()));
    })();
    return stopped;
  };
  const env = { stop };
  envs.add(env);

  try {
    // 1. The chain (its port checked again: the build may have taken a while).
    await ensureFree(chainPort, 'the chain', 'chainPort / CHAIN_PORT');
    const rpcUrl = `http://127.0.0.1:${chainPort}`;
    const chainLog = path.join(dir, 'chain.log');
    log(`starting the local chain on ${rpcUrl} (log ${path.relative(ROOT, chainLog)})`);
    const chain = startProcess(process.execPath, ['--require', GUARD, HARDHAT_BIN, 'node', '--hostname', '127.0.0.1', '--port', String(chainPort)], {
      logFile: chainLog,
      guard: true,
      env: { ...process.env, EHRCHAIN_ORPHAN_GUARD: '1', HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true', FORCE_COLOR: '0', NO_COLOR: '1' },
    });
    chain.name = 'chain';
    procs.push(chain);
    const rpc = jsonRpc(rpcUrl, { timeoutMs: 2000 });
    // Our node's own log must say it listens: an answer on the port alone could
    // come from another node that took the port since the check above.
    const chainId = await waitUntil('the hardhat node', chain, async () =>
      /Started HTTP and WebSocket JSON-RPC server at/.test(fs.readFileSync(chainLog, 'utf8')) && Number(BigInt(await rpc('eth_chainId'))), 60_000);

    // 2. The registry, deployed from account #0 (the authority).
    const d = await deploy({ rpcUrl, out: path.join(dir, 'deployment.json') });
    const { registry, authority, block: deployBlock, abi } = d;
    log(`registry ${registry} (authority ${authority}, block ${deployBlock})`);

    // 3. The hospitals in the on-chain directory.
    const hospitals = HOSPITALS.map((name, i) => ({ name, port: serverPorts[i], endpoint: `http://127.0.0.1:${serverPorts[i]}` }));
    let directoryListed = false;
    try {
      if (abi.some((f) => f.type === 'function' && f.name === 'listHospital')) {
        const signer = await d.provider.getSigner(0);
        const contract = new ethers.Contract(registry, abi, signer);
        for (const h of hospitals) {
          const tx = await contract.listHospital(h.name, h.endpoint);
          const receipt = await tx.wait();
          if (!receipt || receipt.status !== 1) throw new Error(`listHospital(${JSON.stringify(h.name)}) failed (tx ${tx.hash})`);
          log(`listed ${JSON.stringify(h.name)} → ${h.endpoint} (tx ${tx.hash})`);
        }
        directoryListed = true;
      } else {
        log('WARNING: the registry ABI has no listHospital(string,string) yet: the hospitals are NOT listed in the on-chain directory');
      }
    } finally {
      d.provider.destroy();
    }

    // 4. The portal's configuration and origins.
    const portalUrl = `http://127.0.0.1:${portalPort}`;
    const origins = [portalUrl, `http://localhost:${portalPort}`];
    const config = { chainId, chainName: 'ehrchain local chain', rpcUrl, registry, deployBlock, authority };

    // 5. The record servers: no upload token, no open uploads (doctors sign upload requests).
    //    Scaled: PostgreSQL and S3 first, then two instances per hospital behind a proxy.
    const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('EHR_')));
    fs.mkdirSync(serversDir, { recursive: true });
    let pg;
    let s3;
    if (scale) {
      const servicesDir = path.join(serversDir, 'services');
      log(`scaled: starting PostgreSQL and s3s-fs (data under ${path.relative(ROOT, servicesDir)})`);
      [pg, s3] = await Promise.all([
        startPostgres({ dir: path.join(servicesDir, 'postgres') }),
        startS3({ dir: path.join(servicesDir, 's3') }),
      ]);
      services.push(pg, s3);
    }
    const instances = [];
    for (const h of hospitals) {
      const i = hospitals.indexOf(h);
      await ensureFree(h.port, `the record server of ${h.name}`, 'serverPorts / SERVER_PORT');
      const shared = scale
        ? { EHR_DATABASE_URL: await createDatabase(pg.url, slug(h.name).replace(/-/g, '_')), ...s3.env, EHR_S3_PREFIX: `${slug(h.name)}/`, EHR_TRUST_FORWARDED_FOR: 'true' }
        : {};
      const count = scale ? 2 : 1;
      h.instances = [];
      for (let j = 0; j < count; j++) {
        const data = path.join(serversDir, scale ? `${slug(h.name)}-${j + 1}` : slug(h.name));
        fs.mkdirSync(data, { recursive: true });
        const port = scale ? await freePort() : h.port;
        const logFile = path.join(dir, scale ? `${slug(h.name)}-${j + 1}.log` : `${slug(h.name)}.log`);
        if (j === 0) h.dataDir = data;
        log(`starting the record server of ${h.name}${scale ? ` (instance ${j + 1})` : ''} on 127.0.0.1:${port} (log ${path.relative(ROOT, logFile)})`);
        // Each server relays patients' grants (POST /v1/relay/authorise) from
        // its own funded account: Hardhat's #18 and #19, scaled #16 to #19
        // (one account per instance: two processes would race for its nonces).
        const relayerKey = HARDHAT_KEYS[(scale ? 16 : 18) + count * i + j];
        const p = startProcess(SERVER_BIN, [], {
          logFile,
          pdeathsig: true,
          env: {
            ...baseEnv,
            ...serverEnv,
            ...shared,
            EHR_LISTEN: `127.0.0.1:${port}`,
            EHR_DATA_DIR: data,
            EHR_RPC_URL: rpcUrl,
            EHR_REGISTRY: registry,
            EHR_AUTHORITY: authority,
            EHR_HOSPITAL: h.name,
            EHR_ALLOWED_ORIGINS: origins.join(','),
            EHR_SHUTDOWN_GRACE_SECS: '2',
            ...(relayerKey ? { EHR_RELAYER_KEY: relayerKey } : {}),
          },
        });
        p.name = `${h.name}#${j + 1}`;
        procs.push(p);
        const endpoint = `http://127.0.0.1:${port}`;
        h.instances.push({ endpoint, log: logFile });
        instances.push({ what: `the record server of ${h.name}${scale ? ` (instance ${j + 1})` : ''}`, proc: p, endpoint });
      }
      h.log = h.instances[0].log;
      // Where the ciphertext of `eh` lands (tests read it back or damage it):
      // server/src/store/fs.rs's file, or in the bucket (s3s-fs keeps an
      // object as a file named by its key) the copy of the record's first
      // part that its manifest names (server/src/store/s3.rs's layout).
      h.recordFile = (eh) => {
        const hex = eh.replace(/^0x/, '').toLowerCase();
        if (!scale) return path.join(h.dataDir, 'blobs', 'records', hex.slice(0, 2), hex);
        const dir = path.join(s3.dir, 'root', s3.bucket, `${slug(h.name)}`, 'records', hex);
        const manifest = path.join(dir, 'manifest');
        if (!fs.existsSync(manifest)) return manifest; // no record: a path that does not exist
        return path.join(dir, JSON.parse(fs.readFileSync(manifest, 'utf8')).upload, '0'.repeat(10));
      };
    }
    await Promise.all(
      instances.map(({ what, proc, endpoint }) =>
        waitUntil(what, proc, async () => {
          const r = await fetch(`${endpoint}/healthz`, { signal: AbortSignal.timeout(2000) });
          if (!(r.ok && (await r.json()).chain === 'ok')) return false;
          // Still ours? A server that could not bind exits at once, and the
          // answer came from someone else's.
          await sleep(300);
          return proc.child.exitCode === null && proc.child.signalCode === null;
        }, 30_000),
      ),
    );
    if (scale) {
      for (const h of hospitals) {
        await ensureFree(h.port, `the proxy of ${h.name}`, 'serverPorts / SERVER_PORT');
        proxies.push(await roundRobin(h.instances.map((x) => x.endpoint), { port: h.port }));
        log(`${h.name}: ${h.endpoint} → round robin over ${h.instances.map((x) => x.endpoint).join(', ')}`);
      }
    }

    // 6. The portal.
    await ensureFree(portalPort, 'the portal', 'portalPort / PORTAL_PORT');
    portal = await serve({ root, port: portalPort, host: '127.0.0.1', config, connectSrc: [rpcUrl, ...hospitals.map((h) => h.endpoint)] });
    log(`portal: serving ${path.relative(ROOT, root)} at ${portal.url}`);

    return Object.assign(env, {
      rpcUrl,
      chainId,
      registry,
      authority,
      deployBlock,
      hospitals,
      portalUrl,
      portalRoot: root,
      origins,
      config,
      abi,
      directoryListed,
      dataDir: dir,
      logs: { chain: chainLog, ...Object.fromEntries(hospitals.map((h) => [h.name, h.instances[0].log])) },
      scaled: scale ? { postgres: pg.url, s3: s3.endpoint, bucket: s3.bucket } : null,
      stop,
    });
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * Checks that everything answers: the chain, the registry's code, both servers'
 * /healthz, the portal's index.html and config.json, and (when listed) the
 * directory. Resolves a list of "ok …" lines; throws on the first failure.
 */
export async function smokeCheck(env) {
  const lines = [];
  const rpc = jsonRpc(env.rpcUrl, { timeoutMs: 5000 });
  const blockNumber = Number(BigInt(await rpc('eth_blockNumber')));
  const code = await rpc('eth_getCode', [env.registry, 'latest']);
  if (!code || code === '0x') throw new Error(`no contract code at ${env.registry}`);
  lines.push(`chain ${env.rpcUrl}: block ${blockNumber}, registry code ${(code.length - 2) / 2} bytes`);
  for (const h of env.hospitals) {
    const r = await fetch(`${h.endpoint}/healthz`);
    const body = await r.json();
    if (!r.ok || body.status !== 'ok' || body.chain !== 'ok') throw new Error(`${h.name} /healthz: HTTP ${r.status} ${JSON.stringify(body)}`);
    lines.push(`${h.name} ${h.endpoint}/healthz: ${JSON.stringify(body)}`);
  }
  const index = await fetch(`${env.portalUrl}/`);
  const html = await index.text();
  if (!index.ok || !/text\/html/.test(index.headers.get('content-type')) || !/<html/i.test(html)) {
    throw new Error(`portal ${env.portalUrl}/: HTTP ${index.status} ${index.headers.get('content-type')}`);
  }
  lines.push(`portal ${env.portalUrl}/: index.html ${html.length} bytes`);
  const cfg = await (await fetch(`${env.portalUrl}/config.json`)).json();
  if (JSON.stringify(cfg) !== JSON.stringify(env.config)) throw new Error(`config.json differs: ${JSON.stringify(cfg)}`);
  lines.push(`portal ${env.portalUrl}/config.json: ${JSON.stringify(cfg)}`);
  const endpointFn = env.abi.find((f) => f.type === 'function' && f.name === 'hospitalEndpoint' && f.inputs.length === 1);
  if (env.directoryListed && endpointFn) {
    const iface = new ethers.Interface(env.abi);
    for (const h of env.hospitals) {
      const data = iface.encodeFunctionData('hospitalEndpoint', [h.name]);
      const [endpoint] = iface.decodeFunctionResult('hospitalEndpoint', await rpc('eth_call', [{ to: env.registry, data }, 'latest']));
      if (endpoint !== h.endpoint) throw new Error(`hospitalEndpoint(${JSON.stringify(h.name)}) = ${JSON.stringify(endpoint)}, expected ${h.endpoint}`);
    }
    lines.push(`directory: hospitalEndpoint() answers both hospitals`);
  } else {
    lines.push(`directory: ${env.directoryListed ? 'listed (no hospitalEndpoint view to read it back)' : 'NOT listed (the ABI has no listHospital yet)'}`);
  }
  return lines;
}

/** The banner printed by the CLI. */
export function banner(env) {
  const pad = (s, n) => s + ' '.repeat(Math.max(1, n - s.length));
  return [
    '',
    'ehrchain development environment',
    '',
    `  Open ${env.portalUrl} in Chrome or Firefox   (the portal; ${env.origins[1]} works too)`,
    '',
    `  chain (JSON-RPC)   ${env.rpcUrl}   chainId ${env.chainId} (0x${env.chainId.toString(16)}), "${env.config.chainName}", automine`,
    `  registry           ${env.registry}   deployed in block ${env.deployBlock}`,
    `  authority          ${env.authority}   (account #0)`,
    '  record servers',
    ...env.hospitals.flatMap((h) => h.instances.length === 1
      ? [`    ${pad(JSON.stringify(h.name), 24)}${h.endpoint}   log ${path.relative(process.cwd(), h.instances[0].log)}`]
      : [`    ${pad(JSON.stringify(h.name), 24)}${h.endpoint}   round robin over:`,
        ...h.instances.map((x) => `    ${pad('', 24)}  ${x.endpoint}   log ${path.relative(process.cwd(), x.log)}`)]),
    ...(env.scaled ? [`  scaled storage     PostgreSQL ${env.scaled.postgres} (a database per hospital), S3 ${env.scaled.s3} bucket ${env.scaled.bucket}`] : []),
    `  directory          ${env.directoryListed ? 'both hospitals listed on chain' : 'NOT listed (no listHospital in the contract yet)'}`,
    `  chain log          ${path.relative(process.cwd(), env.logs.chain)}`,
    '',
    "  Wallet accounts to import (Hardhat's well-known test keys: PUBLIC, for this local chain only,",
    '  never send real funds to them). In the wallet add the network above first (the portal offers to).',
    ...DEV_ACCOUNTS.map((a) => `    #${a.index} ${pad(a.role, 50)}${a.address}\n       key ${a.privateKey}`),
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}

// ---- CLI ---------------------------------------------------------------------------

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const usage = 'usage: node scripts/devenv.mjs [--smoke] [--scale] [--no-build | --rebuild]\n' +
    '  env: CHAIN_PORT (8545), SERVER_PORT (8700; the second server +1), PORTAL_PORT (8080)';
  for (const a of args) {
    if (!['--smoke', '--scale', '--no-build', '--rebuild'].includes(a)) {
      console.error(a === '-h' || a === '--help' ? usage : `unknown argument ${a}\n${usage}`);
      process.exit(a === '-h' || a === '--help' ? 0 : 2);
    }
  }
  const num = (name, dflt) => {
    const v = process.env[name];
    if (v === undefined || v === '') return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0 || n > 65535) {
      console.error(`${name}=${v} is not a port`);
      process.exit(2);
    }
    return n;
  };
  const serverPort = num('SERVER_PORT', 8700);
  let env;
  try {
    env = await startEnv({
      chainPort: num('CHAIN_PORT', 8545),
      portalPort: num('PORTAL_PORT', 8080),
      serverPorts: [serverPort, serverPort + 1],
      build: args.includes('--no-build') ? false : args.includes('--rebuild') ? 'always' : true,
      scale: args.includes('--scale'),
    });
  } catch (e) {
    console.error(`[devenv] ${e.message}`);
    process.exit(1);
  }
  process.stderr.write(banner(env));
  if (args.includes('--smoke')) {
    let code = 0;
    try {
      for (const l of await smokeCheck(env)) console.error(`[devenv] ok ${l}`);
      console.error('[devenv] smoke check ok');
    } catch (e) {
      console.error(`[devenv] smoke check FAILED: ${e.message}`);
      code = 1;
    }
    await env.stop();
    process.exit(code);
  }
  // Stay up until a signal (the hooks stop everything and exit); keep the loop alive.
  setInterval(() => {}, 1 << 30);
}
