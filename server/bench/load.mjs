// Load benchmark of the record server (not a test): access-request latency
// (p50/p99) and throughput at 10 and 100 concurrent clients, and upload and
// download throughput of a 512 MiB record with the server's RSS sampled.
//
//   bash server/bench/load.sh            (or: node server/bench/load.mjs)
//
// Environment:
//   BENCH_CHAIN     hardhat | stub | both (default both). "hardhat": a real
//                   Hardhat node with the registry deployed (every access
//                   request makes two eth_calls to it); "stub": a minimal
//                   JSON-RPC server in this process answering certificateStatus
//                   and recordStatus at once, to measure the server itself.
//   BENCH_REQUESTS  access requests per concurrency level (default 2000)
//   BENCH_RECORD_MIB size of the transfer record (default 512)
//   BENCH_SERVER_LOG file to write the servers' own log to (with
//                   BENCH_SERVER_ENV='{"EHR_LOG":"info"}': a line per request
//                   with its time in the server).
//   BENCH_STORAGE   embedded | scaled | both (default both). "embedded": one
//                   server on SQLite + files; "scaled": PostgreSQL and S3
//                   (s3s-fs, chain/services.mjs) with two server instances,
//                   the client taking them in turn (its own round robin).
// Prints a table and writes .tmp/bench/server-load.json. CPU is counted per
// decision for the server, for the chain node and storage services, and for
// this process (the load client); "machine limit" is cores × 1000 ms over
// their sum: the rate at which this machine's CPU would be spent. Traffic goes to
// 127.0.0.1 only; every loop is bounded.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startChain } from '../../chain/testchain.mjs';
import { startPostgres, startS3 } from '../../chain/services.mjs';
import { HARDHAT_KEYS, ROOT, h0x, unhex, sha256, nowSecs } from '../../tests/support/helpers.mjs';
import {
  ehr, checkPrerequisites, chainCli, deployRegistry,
  startServer, request, tempDir, FILING, FILING_SECRET,
} from '../../tests/server/helpers.mjs';

const HOSPITAL = 'Bench Hospital';
const MiB = 1 << 20;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const RECORD_MIB = Number(process.env.BENCH_RECORD_MIB ?? 512);
const MODES = (process.env.BENCH_CHAIN ?? 'both') === 'both' ? ['stub', 'hardhat'] : [process.env.BENCH_CHAIN];
const STORAGES = (process.env.BENCH_STORAGE ?? 'both') === 'both' ? ['embedded', 'scaled'] : [process.env.BENCH_STORAGE];
const [AUTHORITY_KEY, ANCHOR_KEY] = HARDHAT_KEYS;

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const fmt = (n, d = 1) => Number(n).toFixed(d);

/** VmRSS of `pids` in MiB, summed. */
function rssMiB(pids) {
  let sum = 0;
  for (const pid of [pids].flat()) {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    sum += m ? Number(m[1]) / 1024 : NaN;
  }
  return sum;
}

/** CPU seconds (user + system) `pids` have used so far, summed. */
function cpuSecs(pids) {
  let sum = 0;
  for (const pid of [pids].flat()) {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    sum += (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  }
  return sum;
}

/** CPU seconds used so far by every process of the process groups `pgids`. */
function groupCpuSecs(pgids) {
  const groups = new Set(pgids.filter(Boolean));
  let sum = 0;
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const fields = fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1].split(' ');
      if (groups.has(Number(fields[2]))) sum += (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      /* exited meanwhile */
    }
  }
  return sum;
}

/** CPU seconds this process (the load client, and the stub chain if any) has used. */
const clientCpuSecs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Samples RSS every 50 ms while `fn` runs; returns [result, maxMiB]. */
async function sampled(pid, fn) {
  let max = rssMiB(pid);
  const timer = setInterval(() => {
    max = Math.max(max, rssMiB(pid));
  }, 50);
  try {
    const r = await fn();
    return [r, Math.max(max, rssMiB(pid))];
  } finally {
    clearInterval(timer);
  }
}

/** A JSON-RPC stub answering the registry's two views: every serial registered to `doctor`, every record anchored by him (at block 1, for ever). */
function startStubChain(doctorAddress) {
  const word = (hexNoPrefix) => hexNoPrefix.padStart(64, '0');
  const doctorWord = word(doctorAddress.slice(2).toLowerCase());
  const certStatus = '0x' + doctorWord + word('0') + word('ffffffffff') + word('0') + word('0');
  // anchored, anchoredBy, serial, anchoredAt, commitment, recordTime, deleted, deletedAt
  const recStatus = '0x' + word('1') + doctorWord + word('1') + word('10') + word('0') + word('0') + word('0') + word('0');
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const j = JSON.parse(body);
      let result = '0x';
      if (j.method === 'eth_call') {
        const sel = j.params[0].data.slice(0, 10);
        result = sel === '0x71502d48' ? certStatus : sel === '0x7188c863' ? recStatus : '0x';
      } else if (j.method === 'eth_chainId') result = '0x7a69';
      else if (j.method === 'eth_blockNumber') result = '0x1';
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ jsonrpc: '2.0', id: j.id, result }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    rpcUrl: `http://127.0.0.1:${server.address().port}`,
    stop: () => new Promise((r) => server.close(r)),
  })));
}

/** Runs `bodies` as access requests from `concurrency` clients; returns latency stats. */
async function accessLoad(bases, bodies, concurrency) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const urls = [bases].flat().map((b) => new URL(`${b}/v1/access`));
  let turn = 0;
  const one = (body) => new Promise((resolve, reject) => {
    const u = urls[turn++ % urls.length];
    const t0 = process.hrtime.bigint();
    const req = http.request({ method: 'POST', hostname: u.hostname, port: u.port, path: u.pathname, agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    });
    req.on('error', reject);
    req.end(body);
  });
  const queue = bodies.slice();
  const lat = [];
  let errors = 0;
  const t0 = Date.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (queue.length) {
      const r = await one(queue.shift());
      if (r.status === 200) lat.push(r.ms);
      else errors++;
    }
  }));
  const wall = (Date.now() - t0) / 1000;
  agent.destroy();
  lat.sort((a, b) => a - b);
  return { concurrency, requests: bodies.length, errors, p50: pct(lat, 50), p99: pct(lat, 99), max: lat.at(-1), rps: bodies.length / wall };
}

/** Uploads the file in 8 MiB parts over 4 connections (taking `bases` in turn); returns MB/s. */
async function uploadFile(bases, file, size, eh) {
  bases = [bases].flat();
  const base = bases[0];
  const partSize = 8 * MiB;
  const c = await request('POST', `${base}/v1/uploads`, { body: { eh, size, partSize, filing: FILING } });
  if (c.status !== 201) throw new Error(`create: ${c.status} ${c.body}`);
  const fd = fs.openSync(file, 'r');
  const queue = [...Array(c.json.parts).keys()];
  const t0 = Date.now();
  await Promise.all(Array.from({ length: 4 }, async () => {
    const buf = Buffer.alloc(partSize);
    while (queue.length) {
      const n = queue.shift();
      const len = fs.readSync(fd, buf, 0, partSize, n * partSize);
      const r = await request('PUT', `${bases[n % bases.length]}/v1/uploads/${c.json.uploadId}/parts/${n}`, { body: buf.subarray(0, len) });
      if (r.status !== 200) throw new Error(`part ${n}: ${r.status} ${r.body}`);
    }
  }));
  const partsDone = Date.now();
  const done = await request('POST', `${base}/v1/uploads/${c.json.uploadId}/complete`, { timeoutMs: 600_000 });
  if (done.status !== 200) throw new Error(`complete: ${done.status} ${done.body}`);
  fs.closeSync(fd);
  const end = Date.now();
  return { partsMBps: size / MiB / ((partsDone - t0) / 1000), completeSecs: (end - partsDone) / 1000, totalMBps: size / MiB / ((end - t0) / 1000) };
}

/** Downloads `url` to nowhere, hashing; returns {MBps, eh}. */
function download(url) {
  return new Promise((resolve, reject) => {
    const h = crypto.createHash('sha256');
    const t0 = Date.now();
    let n = 0;
    http.get(url, { agent: false }, (res) => {
      res.on('data', (c) => {
        h.update(c);
        n += c.length;
      });
      res.on('end', () => resolve({ MBps: n / MiB / ((Date.now() - t0) / 1000), eh: h0x(h.digest()), bytes: n }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function runMode(mode, storage, recordFile, recordSize, recordEh) {
  const authorityKey = ehr.Key.fromBytes(unhex(AUTHORITY_KEY));
  // The doctor both anchors the records (only a certified doctor may) and asks for them.
  const doctor = ehr.Key.fromBytes(unhex(ANCHOR_KEY));
  const patient = ehr.Key.generate().address;
  const protocol = ehr.Key.generate();
  let chain;
  let registry;
  let authority;
  if (mode === 'hardhat') {
    chain = await startChain();
    const d = await deployRegistry(chain.rpcUrl, AUTHORITY_KEY);
    registry = d.registry;
    authority = d.authority;
  } else {
    chain = await startStubChain(doctor.address);
    registry = '0x' + '42'.repeat(20);
    authority = authorityKey.address;
  }
  const certJson = ehr.issueCertificate(authorityKey, { doctor: doctor.address, protocolKey: protocol.publicKey(), hospital: HOSPITAL, validFrom: nowSecs() - 60, validUntil: nowSecs() + 86400, serial: 1 });
  const c = mode === 'hardhat' ? chainCli(chain.rpcUrl, registry) : null;
  if (c) await c.register(certJson, AUTHORITY_KEY);
  const dataDir = tempDir('ehr-bench-');
  const servers = [];
  const services = [];
  const out = { mode, storage, access: [], transfer: null };
  try {
    let shared = {};
    if (storage === 'scaled') {
      const [pg, s3] = await Promise.all([startPostgres(), startS3()]);
      services.push(pg, s3);
      shared = { EHR_DATABASE_URL: pg.url, ...s3.env };
    }
    const start = (i) => startServer({
      ...shared,
      EHR_DATA_DIR: path.join(dataDir, `server-${i}`), EHR_RPC_URL: chain.rpcUrl, EHR_REGISTRY: registry, EHR_AUTHORITY: authority,
      EHR_HOSPITAL: HOSPITAL, EHR_RATE_LIMIT_PER_SEC: '0', EHR_OPEN_UPLOADS: 'true',
      EHR_MAX_CONNECTIONS_PER_IP: '0', EHR_CHAIN_HEAD_MAX_AGE_MS: process.env.BENCH_HEAD_MAX_AGE_MS ?? '0', EHR_LOG: 'warn,ehrchain_server::start=info', EHR_MAX_RECORD_SIZE: String(2 ** 31), ...(process.env.BENCH_SERVER_ENV ? JSON.parse(process.env.BENCH_SERVER_ENV) : {}),
    });
    servers.push(await start(0));
    if (storage === 'scaled') servers.push(await start(1));
    const server = servers[0];
    const bases = servers.map((x) => x.url);
    const pid = servers.map((x) => x.child.pid);
    // A small record to request.
    const small = crypto.randomBytes(100_000);
    const smallEh = h0x(sha256(small));
    const sc = await request('POST', `${server.url}/v1/uploads`, { body: { eh: smallEh, size: small.length, filing: FILING } });
    await request('PUT', `${server.url}/v1/uploads/${sc.json.uploadId}/parts/0`, { body: small });
    await request('POST', `${server.url}/v1/uploads/${sc.json.uploadId}/complete`);
    if (c) await c.anchor(smallEh, nowSecs(), ANCHOR_KEY, 1, patient);
    // With EHR_CHAIN_HEAD_MAX_AGE_MS > 0 the server may decide at the block before the anchor for that long.
    await new Promise((r) => setTimeout(r, Number(process.env.BENCH_HEAD_MAX_AGE_MS ?? 0) + 50));
    const x = crypto.randomBytes(32);
    await request('POST', `${server.url}/v1/index`, { body: { x: h0x(x), z: h0x(crypto.randomBytes(32)), k: h0x(crypto.randomBytes(16)), eh: smallEh, filingSecret: FILING_SECRET } });

    const rssIdle = rssMiB(pid);
    for (const concurrency of [10, 100]) {
      const bodies = Array.from({ length: REQUESTS }, () => ehr.signAccessRequest(doctor, certJson, { hospital: HOSPITAL, w: x, now: nowSecs(), ttl: 600 }));
      await accessLoad(bases, bodies.slice(0, 50), Math.min(concurrency, 10)).catch(() => {}); // warm-up (consumes 50)
      const groups = [chain.pid, ...services.map((x) => x.pgid)];
      const [cpu0, others0, client0] = [cpuSecs(pid), groupCpuSecs(groups), clientCpuSecs()];
      const [r, rss] = await sampled(pid, () => accessLoad(bases, bodies.slice(50), concurrency));
      const perRequest = (secs) => (secs * 1000) / r.requests;
      out.access.push({
        ...r,
        rssMaxMiB: rss,
        serverCpuMsPerRequest: perRequest(cpuSecs(pid) - cpu0),
        // The chain node and the storage services (PostgreSQL, s3s-fs), and the load client.
        servicesCpuMsPerRequest: perRequest(groupCpuSecs(groups) - others0),
        clientCpuMsPerRequest: perRequest(clientCpuSecs() - client0),
      });
    }

    // The transfer record: upload in parts, complete, then download it whole.
    const [up, rssUp] = await sampled(pid, () => uploadFile(bases, recordFile, recordSize, recordEh));
    if (c) await c.anchor(recordEh, nowSecs(), ANCHOR_KEY, 1, patient);
    await new Promise((r) => setTimeout(r, Number(process.env.BENCH_HEAD_MAX_AGE_MS ?? 0) + 50));
    const bx = crypto.randomBytes(32);
    await request('POST', `${server.url}/v1/index`, { body: { x: h0x(bx), z: h0x(crypto.randomBytes(32)), k: h0x(crypto.randomBytes(16)), eh: recordEh, filingSecret: FILING_SECRET } });
    const granted = await request('POST', `${server.url}/v1/access`, { body: Buffer.from(ehr.signAccessRequest(doctor, certJson, { hospital: HOSPITAL, w: bx, now: nowSecs(), ttl: 600 })), headers: { 'content-type': 'application/json' } });
    if (granted.status !== 200) throw new Error(`access: ${granted.status} ${granted.body}`);
    const [down, rssDown] = await sampled(pid, () => download(bases.at(-1) + granted.json.download));
    if (down.eh !== recordEh || down.bytes !== recordSize) throw new Error('download does not match the record');
    out.transfer = { sizeMiB: recordSize / MiB, upload: up, downloadMBps: down.MBps, rssIdleMiB: rssIdle, rssMaxUploadMiB: rssUp, rssMaxDownloadMiB: rssDown };
  } finally {
    if (process.env.BENCH_SERVER_LOG) fs.writeFileSync(process.env.BENCH_SERVER_LOG, servers.flatMap((x) => x.logs()).join('\n'));
    await Promise.all(servers.map((x) => x.stop()));
    await Promise.all(services.map((x) => x.stop()));
    await chain.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return out;
}

async function main() {
  checkPrerequisites();
  const work = tempDir('ehr-bench-rec-');
  const recordFile = path.join(work, 'record');
  const size = RECORD_MIB * MiB + 12345;
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(recordFile, 'w');
  for (let left = size; left > 0;) {
    const chunk = crypto.randomBytes(Math.min(left, 4 * MiB));
    h.update(chunk);
    fs.writeSync(fd, chunk);
    left -= chunk.length;
  }
  fs.closeSync(fd);
  const eh = h0x(h.digest());
  const results = [];
  try {
    for (const storage of STORAGES) {
      for (const mode of MODES) {
        process.stderr.write(`[bench] storage: ${storage}, chain: ${mode}\n`);
        results.push(await runMode(mode, storage, recordFile, size, eh));
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const lines = [
    `ehrchain-server load benchmark — ${os.cpus().length} cores, ${fmt(os.totalmem() / 2 ** 30, 0)} GiB, node ${process.version}`,
    '',
    '| storage | chain | clients | requests | errors | p50 ms | p99 ms | max ms | req/s | server CPU ms/req | chain + storage CPU ms/req | client CPU ms/req | machine limit req/s | server RSS max MiB |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of results) {
    for (const a of r.access) lines.push(`| ${r.storage} | ${r.mode} | ${a.concurrency} | ${a.requests} | ${a.errors} | ${fmt(a.p50)} | ${fmt(a.p99)} | ${fmt(a.max)} | ${fmt(a.rps, 0)} | ${fmt(a.serverCpuMsPerRequest, 2)} | ${fmt(a.servicesCpuMsPerRequest, 2)} | ${fmt(a.clientCpuMsPerRequest, 2)} | ${fmt((os.cpus().length * 1000) / (a.serverCpuMsPerRequest + a.servicesCpuMsPerRequest + a.clientCpuMsPerRequest), 0)} | ${fmt(a.rssMaxMiB)} |`);
  }
  lines.push('', '| storage | chain | record MiB | upload parts MB/s | complete s | upload total MB/s | download MB/s | RSS idle MiB | RSS max upload MiB | RSS max download MiB |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    const t = r.transfer;
    lines.push(`| ${r.storage} | ${r.mode} | ${fmt(t.sizeMiB, 0)} | ${fmt(t.upload.partsMBps, 0)} | ${fmt(t.upload.completeSecs, 2)} | ${fmt(t.upload.totalMBps, 0)} | ${fmt(t.downloadMBps, 0)} | ${fmt(t.rssIdleMiB)} | ${fmt(t.rssMaxUploadMiB)} | ${fmt(t.rssMaxDownloadMiB)} |`);
  }
  // The native rate of what each decision verifies offline (two ECDSA
  // recoveries: certificate and request), on one core, after the load.
  const rateBin = process.env.BENCH_VERIFY_RATE_BIN ?? path.join(ROOT, 'target', 'release', 'examples', 'verify_rate');
  let native = null;
  if (fs.existsSync(rateBin)) {
    native = JSON.parse(execFileSync(rateBin, ['2'], { encoding: 'utf8' }));
    lines.push('', `native offline verification (2 signature recoveries per decision), 1 thread: ${fmt(native.verificationsPerSec, 0)} decisions/s (${fmt(native.recoveriesPerSec, 0)} recoveries/s); 2 cores: ~${fmt(2 * native.verificationsPerSec, 0)} decisions/s`,
      `with the certificate cache warm (1 recovery per decision, what the server does for a doctor it has seen), 1 thread: ${fmt(native.cachedVerificationsPerSec, 0)} decisions/s; 2 cores: ~${fmt(2 * native.cachedVerificationsPerSec, 0)} decisions/s`);
  }
  results.push({ nativeVerification: native });
  console.log(lines.join('\n'));
  const outDir = path.join(ROOT, '.tmp', 'bench');
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'server-load.json'), JSON.stringify(results, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
