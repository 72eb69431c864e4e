// The services of the record server's scaled configuration (server/README.md
// "Several instances"), started for tests, benchmarks and `scripts/dev.sh
// --scale`, each a throw-away instance in its own directory:
//
//   import { startPostgres, startS3, roundRobin } from './services.mjs';
//   const pg = await startPostgres();   // pg.url: postgres://ehr@127.0.0.1:<port>/postgres
//   const s3 = await startS3();         // s3.env: the EHR_S3_* variables of a fresh bucket
//   const lb = await roundRobin([urlA, urlB]);   // lb.url: one name for both instances
//   await lb.close(); await s3.stop(); await pg.stop();
//
// PostgreSQL refuses to run as root: as root its binaries run as Debian's
// `postgres` user. Each service runs under a small shell guard that stops it
// when this process's pipe to the guard closes, so a test killed with SIGKILL
// leaves no server behind; stop() and an exit hook stop it otherwise.
// `scripts/setup.sh` installs both (Debian's postgresql, s3s-fs from crates.io).
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { killGroup, exitHooks } from './processes.mjs';
import { freePort } from './testchain.mjs';

const live = new Set();
const installHooks = exitHooks(() => live, { afterSignalKill: () => live.clear() });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs `cmd args` under a guard that kills it when our stdin pipe closes. */
function guarded(cmd, args, { uid, gid, logFile, cwd } = {}) {
  installHooks();
  const script = '"$@" & c=$!; trap \'kill -TERM $c 2>/dev/null; wait $c\' EXIT; read -r _ || true';
  const log = fs.openSync(logFile, 'a');
  const child = spawn('bash', ['-c', script, 'guard', cmd, ...args], {
    detached: true,
    stdio: ['pipe', log, log],
    uid,
    gid,
    cwd,
  });
  fs.closeSync(log);
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

async function stopGuarded(child, timeoutMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.stdin.end(); // the guard stops the service and waits for it
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

function tail(file, lines = 20) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** The directory of PostgreSQL's server binaries (the newest installed). */
export function postgresBin() {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).filter((v) => fs.existsSync(path.join(base, v, 'bin', 'initdb'))) : [];
  if (!versions.length) throw new Error('PostgreSQL is not installed: run scripts/setup.sh (apt-get install postgresql)');
  versions.sort((a, b) => Number(b) - Number(a));
  return path.join(base, versions[0], 'bin');
}

/**
 * A throw-away PostgreSQL cluster on a free loopback port (trust
 * authentication for the superuser `ehr`, on loopback only).
 * @param {{dir?: string, port?: number}} [opts] dir: where the cluster lives (a fresh temporary one by default, removed by stop())
 * @returns {Promise<{url: string, port: number, dir: string, logFile: string, stop: () => Promise<void>}>}
 */
export async function startPostgres({ dir, port } = {}) {
  const bin = postgresBin();
  const own = !dir;
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'ehr-pg-'));
  fs.mkdirSync(dir, { recursive: true });
  let ids = {};
  if (process.getuid?.() === 0) {
    ids = {
      uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
      gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
    };
    fs.chownSync(dir, ids.uid, ids.gid);
    try {
      execFileSync('test', ['-w', dir], { ...ids, stdio: 'ignore' });
    } catch {
      throw new Error(`PostgreSQL's user cannot reach ${dir} (a parent directory is private): give a directory under a world-readable one, or none`);
    }
  }
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  fs.writeFileSync(logFile, '');
  if (ids.uid !== undefined) fs.chownSync(logFile, ids.uid, ids.gid);
  if (!fs.existsSync(path.join(data, 'PG_VERSION'))) {
    execFileSync(path.join(bin, 'initdb'), ['-D', data, '-U', 'ehr', '-A', 'trust', '-E', 'UTF8', '--no-instructions'], {
      ...ids,
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  }
  port ??= await freePort();
  const child = guarded(path.join(bin, 'postgres'), ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', dir,
    '-c', 'max_connections=200'], { ...ids, logFile, cwd: dir });
  const url = `postgres://ehr@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`PostgreSQL exited:\n${tail(logFile)}`);
    try {
      execFileSync(path.join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'ehr', '-q'], { stdio: 'ignore' });
      break;
    } catch {
      if (Date.now() > deadline) {
        await stopGuarded(child);
        throw new Error(`PostgreSQL did not start within 30 s:\n${tail(logFile)}`);
      }
      await sleep(100);
    }
  }
  return {
    url,
    port,
    dir,
    logFile,
    pgid: child.pid, // the guard's process group: the cluster's every process
    stop: async () => {
      await stopGuarded(child);
      if (own) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Creates database `name` (letters, digits, `_`) in the cluster at `url`;
 * resolves the new database's URL.
 */
export async function createDatabase(url, name) {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name ${JSON.stringify(name)}: use a-z, 0-9 and _`);
  execFileSync(path.join(postgresBin(), 'psql'), [url, '-q', '-v', 'ON_ERROR_STOP=1', '-c', `CREATE DATABASE ${name}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** The `s3s-fs` binary (on PATH or in ~/.cargo/bin). */
export function s3sBin() {
  for (const p of (process.env.PATH ?? '').split(':').concat(path.join(os.homedir(), '.cargo', 'bin'))) {
    const f = path.join(p, 's3s-fs');
    if (p && fs.existsSync(f)) return f;
  }
  throw new Error('s3s-fs is not installed: run scripts/setup.sh (cargo install s3s-fs --version 0.14.1 --features binary)');
}

/**
 * A throw-away S3-compatible server (s3s-fs) on a free loopback port, with
 * one empty bucket and a random key pair.
 * @param {{dir?: string, port?: number, bucket?: string}} [opts]
 * @returns {Promise<{endpoint: string, bucket: string, env: Record<string, string>, dir: string, stop: () => Promise<void>}>}
 */
export async function startS3({ dir, port, bucket = 'ehr-records' } = {}) {
  const own = !dir;
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'ehr-s3-'));
  const root = path.join(dir, 'root');
  fs.mkdirSync(path.join(root, bucket), { recursive: true }); // s3s-fs: a bucket is a directory
  const accessKey = `ehr${crypto.randomBytes(6).toString('hex')}`;
  const secretKey = crypto.randomBytes(24).toString('hex');
  port ??= await freePort();
  const logFile = path.join(dir, 's3s-fs.log');
  const child = guarded(s3sBin(), ['--host', '127.0.0.1', '--port', String(port), '--access-key', accessKey, '--secret-key', secretKey, root],
    { logFile, cwd: dir });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`s3s-fs exited:\n${tail(logFile)}`);
    const up = await new Promise((resolve) => {
      const req = http.get(endpoint, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) {
      await stopGuarded(child);
      throw new Error(`s3s-fs did not start within 20 s:\n${tail(logFile)}`);
    }
    await sleep(100);
  }
  return {
    endpoint,
    bucket,
    dir,
    pgid: child.pid,
    env: {
      EHR_S3_ENDPOINT: endpoint,
      EHR_S3_BUCKET: bucket,
      EHR_S3_REGION: 'us-east-1',
      EHR_S3_ACCESS_KEY_ID: accessKey,
      EHR_S3_SECRET_ACCESS_KEY: secretKey,
    },
    stop: async () => {
      await stopGuarded(child);
      if (own) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** How long the proxy keeps an idle upstream connection (below the servers' 10 s header timeout). */
const IDLE_UPSTREAM_MS = 5_000;

/**
 * A round-robin HTTP reverse proxy on loopback: each request goes to the next
 * of `targets` (base URLs), with the client's address appended to
 * `X-Forwarded-For` (run the servers with EHR_TRUST_FORWARDED_FOR=true).
 * Bodies stream both ways.
 * @param {string[]} targets
 * @param {{port?: number}} [opts]
 * @returns {Promise<{url: string, port: number, close: () => Promise<void>}>}
 */
export async function roundRobin(targets, { port = 0 } = {}) {
  let next = 0;
  // An idle upstream connection is closed here after 5 s, before an
  // instance closes it at its 10 s header timeout (EHR_HEADER_TIMEOUT_SECS):
  // a request sent on a connection the instance is closing at that moment
  // would fail as a 502.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256, timeout: IDLE_UPSTREAM_MS });
  const server = http.createServer((req, res) => {
    const target = new URL(targets[next++ % targets.length]);
    const headers = { ...req.headers };
    const peer = req.socket.remoteAddress ?? '';
    headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${peer}` : peer;
    const up = http.request({ hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ code: 'Unavailable', message: 'the record server instance did not answer; try again' }));
      } else res.destroy();
    });
    req.pipe(up);
    req.on('aborted', () => up.destroy());
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = server.address().port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
      agent.destroy();
    }),
  };
}
