// Helpers for the record server's tests (the generic ones, hex, keys, the
// typed-error assertions, are tests/support/helpers.mjs): the real `ehrchain-server` process
// on a loopback port, a throw-away Hardhat chain with the registry deployed by
// the CLI, the CLI for records and chain calls, the npm package (pkg/node) for
// certificates, masks and signed requests, and a small HTTP client on
// node:http (so a test can cut a connection in the middle of a body).
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ROOT, h0x, sha256, loadPackage } from '../support/helpers.mjs';

export { ROOT };
export const CLI = process.env.EHRCHAIN_BIN ?? path.join(ROOT, 'target', 'release', 'ehrchain');
export const SERVER = process.env.EHRCHAIN_SERVER_BIN ?? path.join(ROOT, 'target', 'release', 'ehrchain-server');
export const ehr = loadPackage();

/** The filing secret every test upload is made with, and its commitment
 * SHA-256("ehrchain/v1/filing" ‖ F), computed here with node:crypto. */
export const FILING_SECRET = h0x(Buffer.alloc(32, 0x46));
export const FILING = h0x(sha256(Buffer.concat([Buffer.from('ehrchain/v1/filing'), Buffer.alloc(32, 0x46)])));

/** Checks that the prebuilt binaries and package exist; says how to build them. */
export function checkPrerequisites() {
  const missing = [];
  if (!fs.existsSync(CLI)) missing.push(`${CLI} (bash scripts/build-bins.sh)`);
  if (!fs.existsSync(SERVER)) missing.push(`${SERVER} (bash scripts/build-bins.sh)`);
  if (!fs.existsSync(path.join(ROOT, '.tmp', 'contracts', 'EhrRegistry.json'))) missing.push('.tmp/contracts/EhrRegistry.json (node chain/compile.js)');
  if (missing.length) throw new Error(`build these first:\n  ${missing.join('\n  ')}`);
}

/** Runs the CLI; resolves {stdout, stderr}; rejects with the CLI's error line. */
export function cli(args, { input } = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(CLI, args, { cwd: ROOT, maxBuffer: 1 << 26, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const e = new Error(`ehrchain ${args.join(' ')} failed: ${stderr.trim()}`);
        e.stderr = stderr;
        e.code = err.code;
        reject(e);
      } else resolve({ stdout, stderr });
    });
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

/** The chain-facing CLI calls the tests need. */
export function chainCli(rpcUrl, registry) {
  const base = ['chain', '--rpc', rpcUrl];
  const json = async (args, opts) => JSON.parse((await cli([...base, ...args], opts)).stdout);
  return {
    register: (certJson, secret) => json(['register', '--registry', registry, '--secret', secret], { input: certJson }),
    revoke: (serial, secret) => json(['revoke', '--registry', registry, '--secret', secret, '--serial', String(serial)]),
    /** Anchors as the certified doctor `secret` (certificate `serial`) for
     * `patient`; resolves {txId, eh, serial, commitment, anchorSalt, ...}. */
    anchor: (eh, time, secret, serial, patient) => json(['anchor', '--registry', registry, '--secret', secret, '--eh', eh,
      '--time', String(time), '--type', 'scan', '--serial', String(serial), '--patient', patient]),
    markDeleted: (eh, secret) => json(['delete', '--registry', registry, '--secret', secret, '--eh', eh]),
    status: (eh) => json(['status', '--registry', registry, '--eh', eh]),
    ehOf: async (txId) => (await cli([...base, 'eh', '--registry', registry, '--tx', txId])).stdout.trim(),
  };
}

/** Deploys the registry with the CLI (the deployer is the authority). */
export async function deployRegistry(rpcUrl, secret) {
  const { stdout } = await cli(['chain', '--rpc', rpcUrl, 'deploy', '--secret', secret]);
  return JSON.parse(stdout);
}

const servers = new Set();
process.on('exit', () => {
  for (const s of servers) {
    try {
      s.child.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
});

/**
 * Starts `ehrchain-server` with `env` (EHR_* variables) on a free loopback
 * port and waits until it logs "listening". Returns {url, port, child, logs(),
 * stop(signal), kill(), exited}.
 */
export async function startServer(env, { timeoutMs = 20_000 } = {}) {
  const child = spawn(SERVER, [], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, EHR_LISTEN: '127.0.0.1:0', EHR_LOG: 'info', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const entry = { child };
  servers.add(entry);
  let log = '';
  const lines = [];
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    servers.delete(entry);
    resolve({ code, signal });
  }));
  const listening = new Promise((resolve, reject) => {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      log += chunk;
      let i;
      while ((i = log.indexOf('\n')) >= 0) {
        const line = log.slice(0, i);
        log = log.slice(i + 1);
        lines.push(line);
        try {
          const j = JSON.parse(line);
          if (j.message === 'listening') resolve(j.listen);
        } catch {
          /* not JSON */
        }
      }
    });
    exited.then(({ code, signal }) => reject(new Error(`server exited (code ${code}, signal ${signal}):\n${lines.join('\n')}`)));
    setTimeout(() => reject(new Error(`server did not listen within ${timeoutMs} ms:\n${lines.join('\n')}`)), timeoutMs);
  });
  const listen = await listening;
  const port = Number(listen.split(':').pop());
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    child,
    exited,
    logs: () => lines.slice(),
    stop: async (signal = 'SIGTERM') => {
      child.kill(signal);
      return exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      return exited;
    },
  };
}

// Idle connections are closed here after 5 s, before the server closes
// them at its 10 s header timeout, so a request rarely meets a connection
// the server is closing; `request` covers the rest of that race.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64, timeout: 5_000 });

/**
 * One HTTP request. Resolves {status, headers, body (Buffer), json (parsed or
 * undefined)}. `body` may be a Buffer or string; `chunked: true` sends it
 * without Content-Length.
 *
 * Sent once more, on a new connection, only if it went out on a kept-alive
 * connection that the server had just closed as idle (its header timeout)
 * and no answer began: the server never read it. This is the race Node's
 * documentation describes for `request.reusedSocket`; a browser retries
 * such a request the same way. Any other failure is the caller's.
 */
export function request(method, url, options = {}) {
  return requestOnce(method, url, options).catch((e) => {
    if (e.staleConnection) return requestOnce(method, url, options);
    throw e;
  });
}

function requestOnce(method, url, { body, headers = {}, chunked = false, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const h = { ...headers };
    let data = body;
    if (data !== undefined && typeof data === 'object' && !Buffer.isBuffer(data) && !(data instanceof Uint8Array)) {
      data = JSON.stringify(data);
      h['content-type'] ??= 'application/json';
    }
    if (data !== undefined && !chunked) h['content-length'] = Buffer.byteLength(data);
    let answered = false;
    const req = http.request({ method, hostname: u.hostname, port: u.port, path: u.pathname + u.search, headers: h, agent }, (res) => {
      answered = true;
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        let json;
        if ((res.headers['content-type'] ?? '').includes('application/json')) {
          try {
            json = JSON.parse(buf.toString('utf8'));
          } catch {
            /* leave undefined */
          }
        }
        resolve({ status: res.statusCode, headers: res.headers, body: buf, json });
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', (e) => {
      e.staleConnection = req.reusedSocket && !answered && e.code === 'ECONNRESET';
      reject(e);
    });
    if (data !== undefined) req.end(data);
    else req.end();
  });
}

/**
 * Sends the first `sendBytes` of a `total`-byte PUT body, then destroys the
 * socket (a connection cut mid-body). Resolves once the socket is closed.
 */
export function cutUpload(url, data, sendBytes) {
  return new Promise((resolve) => {
    const u = new URL(url);
    const req = http.request({
      method: 'PUT',
      hostname: u.hostname,
      port: u.port,
      path: u.pathname,
      headers: { 'content-length': data.length },
      agent: false,
    });
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.write(data.subarray(0, sendBytes), () => {
      setTimeout(() => req.destroy(), 150);
    });
  });
}

/**
 * GETs `url`, keeps the first `keepBytes` bytes of the body, then destroys the
 * socket (a download cut mid-way). Resolves {status, headers, body}.
 */
export function cutDownload(url, keepBytes) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.get({ hostname: u.hostname, port: u.port, path: u.pathname + u.search, agent: false }, (res) => {
      const chunks = [];
      let got = 0;
      res.on('data', (c) => {
        if (got >= keepBytes) return;
        const take = c.subarray(0, keepBytes - got);
        chunks.push(take);
        got += take.length;
        if (got >= keepBytes) {
          req.destroy();
          resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) });
        }
      });
      res.on('error', () => {});
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', (e) => (e.code === 'ECONNRESET' ? undefined : reject(e)));
  });
}

/** Creates an upload, PUTs every part (`parallel` at a time, in scrambled order), completes. */
export async function uploadRecord(base, ct, { partSize = 8 << 20, parallel = 2, eh, authorization } = {}) {
  const claimed = eh ?? h0x(sha256(ct));
  const body = { eh: claimed, size: ct.length, partSize, filing: FILING };
  if (authorization !== undefined) body.authorization = JSON.parse(authorization);
  const created = await request('POST', `${base}/v1/uploads`, { body });
  if (created.status !== 201) throw new Error(`create upload: ${created.status} ${created.body}`);
  const { uploadId, parts } = created.json;
  const order = [...Array(parts).keys()].reverse();
  const queue = order.slice();
  const worker = async () => {
    while (queue.length) {
      const n = queue.shift();
      const part = ct.subarray(n * partSize, Math.min(ct.length, (n + 1) * partSize));
      const r = await request('PUT', `${base}/v1/uploads/${uploadId}/parts/${n}`, { body: part });
      if (r.status !== 200) throw new Error(`part ${n}: ${r.status} ${r.body}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  const done = await request('POST', `${base}/v1/uploads/${uploadId}/complete`);
  return { uploadId, parts, complete: done, eh: claimed };
}

/** A fresh temporary directory under the OS's. */
export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Every file under `dir`, recursively. */
export function filesUnder(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

/**
 * Runs the server's audit-verify on a data directory's `audit.log`, or with
 * `{databaseUrl}` on a scaled setup's PostgreSQL; resolves {code, report, stderr}.
 */
export function auditVerify(source) {
  const args = typeof source === 'string' ? ['--data-dir', source] : ['--database-url', source.databaseUrl];
  return new Promise((resolve) => {
    execFile(SERVER, ['audit-verify', ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      let report;
      try {
        report = JSON.parse(stdout);
      } catch {
        /* none */
      }
      resolve({ code: err ? err.code : 0, report, stderr });
    });
  });
}

/** Dumps the SQLite tables (via Python's sqlite3) as {table: {columns, rows (hex blobs)}}. */
export function dumpDb(file) {
  const script = `
import sqlite3, sys, json
c = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)
out = {}
for (t,) in c.execute("select name from sqlite_master where type='table'"):
    cur = c.execute('select * from "%s"' % t)
    cols = [d[0] for d in cur.description]
    rows = [[v.hex() if isinstance(v, bytes) else v for v in r] for r in cur.fetchall()]
    out[t] = {'columns': cols, 'rows': rows}
print(json.dumps(out))
`;
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', script, file], { encoding: 'utf8', maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      if (err) reject(new Error(stderr));
      else resolve(JSON.parse(stdout));
    });
  });
}
