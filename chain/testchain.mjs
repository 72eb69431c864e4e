// A throw-away local chain for tests: spawns `node_modules/.bin/hardhat node`
// on a free port, waits until it answers eth_chainId, and makes sure it dies.
//
//   import { startChain } from '../../chain/testchain.mjs';
//   const chain = await startChain();          // or startChain({ port: 8600 })
//   chain.rpcUrl                                 // 'http://127.0.0.1:<port>'
//   await chain.rpc('eth_blockNumber')           // JSON-RPC client (chain/rpc.mjs)
//   await chain.stop();
//
// Cleanup is layered: stop() kills the node's process group (SIGTERM, then
// SIGKILL after a grace period); a process 'exit' hook and SIGINT/SIGTERM/SIGHUP
// handlers kill any chain still running; and the child itself exits when its
// stdin pipe from this process closes (chain/orphan-guard.cjs), which covers a
// parent killed with SIGKILL.
//
// The node's output goes to .tmp/chain/hardhat-<port>.log, deleted by a clean
// stop() unless { keepLog: true }; its tail is quoted when start-up fails.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { killGroup, exitHooks } from './processes.mjs';
import { jsonRpc } from './rpc.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const HARDHAT_BIN = path.join(ROOT, 'node_modules', '.bin', 'hardhat');
const GUARD = path.join(ROOT, 'chain', 'orphan-guard.cjs');
const LOG_DIR = path.join(ROOT, '.tmp', 'chain');

/** Chains started by this process and not yet stopped. */
const live = new Set();

const installHooks = exitHooks(
  function* () {
    for (const c of live) yield c.child;
  },
  { afterSignalKill: () => live.clear() },
);

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function chainIdAt(rpcUrl) {
  return Number(BigInt(await jsonRpc(rpcUrl, { timeoutMs: 2000 })('eth_chainId')));
}

function tail(file, lines = 30) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Spawns one Hardhat node and waits for it; rejects if it exits or times out.
 * @returns {Promise<{child: import('node:child_process').ChildProcess, logFile: string, chainId: number}>}
 */
async function spawnOnce(port, timeoutMs) {
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const logFile = path.join(LOG_DIR, `hardhat-${port}.log`);
  const logFd = fs.openSync(logFile, 'w');
  const child = spawn(
    process.execPath,
    ['--require', GUARD, HARDHAT_BIN, 'node', '--port', String(port), '--hostname', '127.0.0.1'],
    {
      cwd: ROOT,
      detached: true, // own process group: killed as a group, spared a terminal's ^C
      stdio: ['pipe', logFd, logFd],
      env: {
        ...process.env,
        EHRCHAIN_ORPHAN_GUARD: '1',
        HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true',
        FORCE_COLOR: '0',
        NO_COLOR: '1',
      },
    },
  );
  fs.closeSync(logFd);
  // Neither the child nor its stdin pipe keep this process alive; the exit hook kills it.
  child.unref();
  child.stdin.unref?.();
  child.stdin.on('error', () => {});

  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let done = false;
  exited.then(() => {
    done = true;
  });
  const rpcUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (done) {
      const { code, signal } = await exited;
      const err = new Error(`hardhat node exited during start-up (code ${code}, signal ${signal}); log ${logFile}:\n${tail(logFile)}`);
      err.addressInUse = /EADDRINUSE|address already in use/i.test(tail(logFile, 200));
      throw err;
    }
    try {
      const chainId = await chainIdAt(rpcUrl);
      return { child, logFile, chainId, exited };
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      killGroup(child, 'SIGKILL');
      throw new Error(`hardhat node did not answer eth_chainId at ${rpcUrl} within ${timeoutMs} ms; log ${logFile}:\n${tail(logFile)}`);
    }
    await sleep(100);
  }
}

/**
 * Starts a fresh Hardhat node (chainId 31337, automine, the 20 well-known
 * unlocked test accounts; see hardhat.config.js).
 * @param {object} [opts]
 * @param {number} [opts.port] port to listen on (default: a free one)
 * @param {number} [opts.timeoutMs=60000] start-up timeout
 * @param {boolean} [opts.keepLog=false] keep the node's log after a clean stop
 * @returns {Promise<{rpcUrl: string, rpc: ReturnType<typeof jsonRpc>, port: number, chainId: number, pid: number, logFile: string, stop: () => Promise<void>}>}
 */
export async function startChain({ port, timeoutMs = 60_000, keepLog = false } = {}) {
  installHooks();
  const attempts = port ? 1 : 5; // a free port can be taken between probe and bind: retry
  let lastErr;
  for (let i = 0; i < attempts; i++) {
    const p = port || (await freePort());
    let started;
    try {
      started = await spawnOnce(p, timeoutMs);
    } catch (e) {
      lastErr = e;
      if (e.addressInUse && !port) continue;
      throw e;
    }
    const { child, logFile, chainId, exited } = started;
    const entry = { child };
    live.add(entry);
    let stopping;
    const stop = () => {
      stopping ??= (async () => {
        live.delete(entry);
        child.stdin.destroy(); // the guard exits on EOF too
        killGroup(child, 'SIGTERM');
        const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
        if (!keepLog) fs.rmSync(logFile, { force: true });
      })();
      return stopping;
    };
    const rpcUrl = `http://127.0.0.1:${p}`;
    return { rpcUrl, rpc: jsonRpc(rpcUrl), port: p, chainId, pid: child.pid, logFile, stop };
  }
  throw lastErr;
}
