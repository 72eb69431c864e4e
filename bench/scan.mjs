#!/usr/bin/env node
// Scan benchmark (not a test): how long a doctor needs to find his one
// authorisation among N on chain (paper Alg 5 steps 6-8).
//
// Starts a throw-away Hardhat node (chain/testchain.mjs), deploys the registry
// (chain/deploy.js), posts N random authorisations for other doctors plus one
// for the target doctor (locally signed with signTransaction, one transaction
// per sender per JSON-RPC batch, several senders), then times
//   (a) fetching every Authorised log with eth_getLogs, paged by block ranges;
//   (b) scanAuthorisations over them in Node.js (pkg/node, wasm);
//   (c) the same scan in headless Chromium (pkg/web, served on loopback),
//       the authorisation tests per second against @noble/curves' ECDH
//       alone, and scanInbox end to end (eth_getLogs from the node through
//       fetch included) with 1 and N Web Workers;
//   (d) the native CLI `target/release/ehrchain chain scan` (its own
//       eth_getLogs included), if that binary has the subcommand.
// Prints a JSON summary; exits 1 unless every scanner found exactly the one.
//
//   node bench/scan.mjs [--events 10000] [--page 1000] [--senders 19]
//                       [--no-chromium] [--no-native]
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { ethers } from 'ethers';
import { startChain } from '../chain/testchain.mjs';
import { CHAIN_ID, HARDHAT_KEYS, fees, nonceOf, getLogsPaged } from '../chain/rpc.mjs';
import { launchChromium } from '../chain/chromium.mjs';

const require = createRequire(import.meta.url);
const ehr = require('../pkg/node/ehrchain.js');
const { deploy } = require('../chain/deploy.js');
const { Key, MaskKey, Scanner, authoriseTx, signTransaction, scanAuthorisations, authorisedTopic, decodeRegistryLogs, generateAnchorSalt } = ehr;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const flag = (name) => argv.includes(`--${name}`);
const EVENTS = Number(arg('events', 10_000)); // authorisations for other doctors
const PAGE = Number(arg('page', 1000)); // blocks per eth_getLogs request
const SENDERS = Math.min(19, Math.max(1, Number(arg('senders', 19)))); // Hardhat accounts 1..19
for (const [n, v] of [['events', EVENTS], ['page', PAGE]]) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${n} must be a positive integer`);
}

const log = (...a) => console.error('[scan-bench]', ...a);
const seconds = (t0) => (performance.now() - t0) / 1000;
const round = (x, d = 3) => (x == null ? x : Number(x.toFixed(d)));
const hex = (b) => ethers.hexlify(b).slice(2); // no test helper: benchmarks import nothing from tests/

const chain = await startChain();
// chain.rpc: node:http without keep-alive (chain/rpc.mjs), so that no pooled
// socket goes stale while this process prepares thousands of transactions.
const { rpcUrl, rpc } = chain;
const summary = { events: 0 };
let exitCode = 0;
try {
  const d = await deploy({ rpcUrl, out: false });
  d.provider.destroy();
  const iface = new ethers.Interface(d.abi);
  log(`registry ${d.registry} at block ${d.block} on ${rpcUrl}`);

  // ---------------------------------------------------------------- prepare
  // The target doctor, a pool of other doctors, the senders (Hardhat accounts 1..SENDERS).
  const target = Key.generate();
  const others = Array.from({ length: 256 }, () => {
    const k = Key.generate();
    const pk = k.publicKey();
    k.free();
    return pk;
  });
  const senders = Array.from({ length: SENDERS }, (_, i) => Key.fromBytes(ethers.getBytes(HARDHAT_KEYS[i + 1])));
  const accounts = (await rpc('eth_accounts')).map((a) => ethers.getAddress(a));
  senders.forEach((s, i) => {
    if (s.address !== accounts[i + 1]) throw new Error(`derived key ${i + 1} is not the node's account`);
  });
  const nonces = await Promise.all(senders.map((s) => nonceOf(rpc, s.address)));
  const fee = await fees(rpc);

  const total = EVENTS + 1;
  const targetIndex = crypto.randomInt(total);
  const TARGET_HOSPITAL = 'Target Hospital';
  const TARGET_TIME = 1_700_000_000 + targetIndex;
  let t0 = performance.now();
  const raws = new Array(total);
  let targetTxHash;
  // One patient signs every grant (the scan cost does not depend on who signed).
  const patient = Key.generate();
  const record = (hospital, time) => ({ hospital, time, eh: crypto.randomBytes(32), anchorSalt: generateAnchorSalt(), recordType: 'bench' });
  for (let i = 0; i < total; i++) {
    const mk = MaskKey.generate();
    const parts = i === targetIndex
      ? mk.authorise(target.publicKey(), record(TARGET_HOSPITAL, TARGET_TIME), patient)
      : mk.authorise(others[i % others.length], record(`Hospital ${i % 97}`, 1_600_000_000 + i), patient);
    mk.free();
    const req = authoriseTx(d.registry, parts);
    const s = i % SENDERS;
    const signed = signTransaction(senders[s], { chainId: CHAIN_ID, nonce: nonces[s]++, gas: 100_000, ...fee, to: req.to, data: req.data });
    raws[i] = signed.raw;
    if (i === targetIndex) targetTxHash = signed.hash;
  }
  summary.prepareSeconds = round(seconds(t0));
  log(`prepared ${total} signed authorisations in ${summary.prepareSeconds} s`);

  // ---------------------------------------------------------------- post
  // One JSON-RPC batch holds one transaction per sender (the node handles a
  // batch's requests concurrently and cannot queue a nonce gap when automining).
  t0 = performance.now();
  for (let b = 0; b < total; b += SENDERS) {
    await rpc.batch(raws.slice(b, b + SENDERS).map((raw) => ['eth_sendRawTransaction', [raw]]));
    if ((b / SENDERS) % 100 === 0) log(`posted ${Math.min(b + SENDERS, total)}/${total}`);
  }
  summary.postSeconds = round(seconds(t0));
  const count = iface.decodeFunctionResult('authorisationCount',
    await rpc('eth_call', [{ to: d.registry, data: iface.encodeFunctionData('authorisationCount') }, 'latest']))[0];
  if (count !== BigInt(total)) throw new Error(`authorisationCount ${count}, expected ${total} (a transaction failed)`);
  const targetReceipt = await rpc('eth_getTransactionReceipt', [targetTxHash]);
  if (!targetReceipt || targetReceipt.status !== '0x1') throw new Error('the target authorisation was not mined');
  const latest = Number(BigInt(await rpc('eth_blockNumber')));
  summary.blocks = latest - d.block + 1;
  log(`posted in ${summary.postSeconds} s (${Math.round(total / summary.postSeconds)} tx/s); ${summary.blocks} blocks`);

  // ---------------------------------------------------------------- (a) eth_getLogs
  t0 = performance.now();
  const { logs, requests } = await getLogsPaged(rpc, { address: d.registry, topics: [authorisedTopic()] }, d.block, PAGE);
  summary.getLogsSeconds = round(seconds(t0));
  summary.getLogsRequests = requests;
  summary.pageBlocks = PAGE;
  summary.events = logs.length;
  if (logs.length !== total) throw new Error(`eth_getLogs returned ${logs.length} logs, expected ${total}`);
  const json = JSON.stringify(logs);
  summary.logsJsonMiB = round(json.length / 2 ** 20, 2);
  // The seq numbers continue without gaps across pages.
  const seqs = decodeRegistryLogs(d.registry, logs).map((e) => e.seq);
  if (!seqs.every((s, i) => s === i)) throw new Error('Authorised seq numbers are not 0..N-1');
  log(`eth_getLogs: ${logs.length} logs in ${requests} requests, ${summary.getLogsSeconds} s`);

  const targetSeq = seqs[logs.findIndex((l) => l.transactionHash === targetTxHash)];
  const check = (who, found) => {
    const ok = found.length === 1 && found[0].seq === targetSeq && found[0].transactionHash === targetTxHash;
    if (!ok) {
      exitCode = 1;
      log(`FAIL: ${who} found ${found.length} (expected exactly seq ${targetSeq}, tx ${targetTxHash})`);
    }
    return found.length;
  };

  // ---------------------------------------------------------------- (b) Node.js
  const scanner = new Scanner(target);
  t0 = performance.now();
  const found = scanAuthorisations(scanner, d.registry, logs);
  summary.nodeScanSeconds = round(seconds(t0));
  summary.found = check('node', found);
  if (found.length === 1) {
    const pass = scanner.open(found[0]);
    if (pass.hospital !== TARGET_HOSPITAL || pass.time !== TARGET_TIME || pass.patient !== patient.address) {
      exitCode = 1;
      log('FAIL: the opened pass names another record');
    }
    pass.free();
  }
  // A stranger's scan over the same logs finds nothing.
  const stranger = new Scanner(Key.generate());
  if (scanAuthorisations(stranger, d.registry, logs).length !== 0) {
    exitCode = 1;
    log('FAIL: a stranger found an authorisation');
  }
  summary.nodeEventsPerSecond = Math.round(total / summary.nodeScanSeconds);
  // For scale: the same logs through the JSON and ABI decoding alone (no curve arithmetic).
  t0 = performance.now();
  decodeRegistryLogs(d.registry, logs);
  summary.nodeDecodeOnlySeconds = round(seconds(t0));
  log(`node scan: ${summary.nodeScanSeconds} s, found ${summary.found}`);

  // ---------------------------------------------------------------- (c) Chromium
  if (flag('no-chromium')) {
    log('chromium: skipped (--no-chromium)');
  } else {
    const r = await chromiumScan({ registry: d.registry, secretHex: hex(target.exportSecret()), json, rpcUrl, fromBlock: d.block });
    summary.chromiumScanSeconds = round(r.scanMs / 1000);
    summary.chromiumFetchParseSeconds = round(r.fetchParseMs / 1000);
    summary.chromiumFound = check('chromium', r.found);
    summary.chromium = r.version;
    log(`chromium scan: ${summary.chromiumScanSeconds} s (fetch + JSON.parse ${summary.chromiumFetchParseSeconds} s), found ${summary.chromiumFound}`);
    // The doctor's inbox end to end: scanInbox, eth_getLogs from the node included.
    for (const { workers, blocksPerRequest, ms, found } of r.inbox) {
      const pages = blocksPerRequest ? `, pages of ${blocksPerRequest} blocks` : '';
      summary[`chromiumInbox${workers}Workers${blocksPerRequest ? `Pages${blocksPerRequest}` : ''}Seconds`] = round(ms / 1000);
      check(`chromium scanInbox, ${workers} workers${pages}`, found);
      log(`chromium scanInbox with ${workers} worker(s)${pages}, eth_getLogs included: ${round(ms / 1000)} s`);
    }
    // Two rates: scanAuthorisations over the whole page (what the inbox
    // does: sifted, view tags tested in one batch), and scanner.matches
    // called once per decoded event.
    const pagedPerSecond = r.events / (r.scanMs / 1000);
    summary.chromiumPageTestsPerSecond = Math.round(pagedPerSecond);
    summary.chromiumTagTestsPerSecond = Math.round(r.testsPerSecond);
    summary.chromiumNobleEcdhPerSecond = Math.round(r.nobleEcdhPerSecond);
    summary.chromiumPageTestsOverNobleEcdh = round(pagedPerSecond / r.nobleEcdhPerSecond, 2);
    summary.chromiumTestsOverNobleEcdh = round(r.testsPerSecond / r.nobleEcdhPerSecond, 2);
    log(`chromium: @noble/curves ECDH alone ${summary.chromiumNobleEcdhPerSecond}/s; authorisation tests ${summary.chromiumPageTestsPerSecond}/s over a page (scanAuthorisations: ${summary.chromiumPageTestsOverNobleEcdh}x), ${summary.chromiumTagTestsPerSecond}/s one scanner.matches call each (${summary.chromiumTestsOverNobleEcdh}x)`);
  }

  // ---------------------------------------------------------------- (d) native CLI
  const bin = path.join(ROOT, 'target', 'release', 'ehrchain');
  if (flag('no-native')) {
    log('native: skipped (--no-native)');
  } else if (!fs.existsSync(bin)) {
    summary.nativeSkipped = 'no target/release/ehrchain';
    log(`native: skipped (${bin} not built)`);
  } else {
    const probe = spawnSync(bin, ['chain', 'scan', '--help'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      summary.nativeSkipped = 'target/release/ehrchain has no `chain scan` subcommand (built before it; rebuild with cargo build --release)';
      log(`native: skipped: ${summary.nativeSkipped}; it said: ${(probe.stderr || '').trim().split('\n')[0]}`);
    } else {
      t0 = performance.now();
      const run = spawnSync(bin, ['chain', 'scan', '--rpc', rpcUrl, '--registry', d.registry,
        '--protocol-secret', hex(target.exportSecret()), '--from-block', String(d.block)], { encoding: 'utf8', maxBuffer: 64 << 20 });
      summary.nativeScanSeconds = round(seconds(t0));
      if (run.status !== 0) {
        exitCode = 1;
        summary.nativeError = (run.stderr || '').trim();
        log(`FAIL: native scan exited ${run.status}: ${summary.nativeError}`);
      } else {
        const lines = run.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
        const nf = lines.map((l) => ({ seq: l.seq, transactionHash: l.txHash }));
        summary.nativeFound = check('native', nf);
        summary.nativeIncludesGetLogs = true;
        log(`native scan (eth_getLogs included): ${summary.nativeScanSeconds} s, found ${summary.nativeFound}`);
      }
    }
  }
  summary.senders = SENDERS;
} catch (e) {
  exitCode = 1;
  log(`error: ${e.stack || e.message}`);
} finally {
  await chain.stop();
}
console.log(JSON.stringify(summary, null, 2));
process.exitCode = exitCode;

/**
 * Serves the repository (and the logs from memory) on loopback, opens a blank
 * page in headless Chromium, imports pkg/web there and times scanAuthorisations.
 */
async function chromiumScan({ registry, secretHex, json, rpcUrl, fromBlock }) {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/__scan/logs.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(json);
      return;
    }
    if (url.pathname === '/__scan/') {
      // @noble/curves 2 imports its own @noble/hashes 2 by bare name.
      const map = { imports: { '@noble/hashes/': '/node_modules/@noble/curves/node_modules/@noble/hashes/' } };
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><meta charset="utf-8"><title>scan bench</title><script type="importmap">${JSON.stringify(map)}</script>`);
      return;
    }
    const file = path.join(ROOT, path.normalize(url.pathname));
    if (!file.startsWith(ROOT + path.sep) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => log('page error:', e.message));
    await page.goto(`http://127.0.0.1:${server.address().port}/__scan/`);
    const out = await page.evaluate(async ({ registry, secretHex, rpcUrl, fromBlock }) => {
      const m = await import('/pkg/web/ehrchain.js');
      await m.default();
      const secret = Uint8Array.from(secretHex.match(/../g), (h) => parseInt(h, 16));
      const scanner = new m.Scanner(m.Key.fromBytes(secret));
      let t = performance.now();
      const logs = await (await fetch('/__scan/logs.json')).json();
      const fetchParseMs = performance.now() - t;
      t = performance.now();
      const found = m.scanAuthorisations(scanner, registry, logs);
      const scanMs = performance.now() - t;
      // Authorisation tests per second, against @noble/curves' ECDH alone over the same R.
      const events = m.decodeRegistryLogs(registry, logs);
      t = performance.now();
      for (const e of events) scanner.matches(e);
      const testsPerSecond = events.length / ((performance.now() - t) / 1000);
      const { secp256k1 } = await import('/node_modules/@noble/curves/secp256k1.js');
      const nobleN = Math.min(events.length, 2000);
      // Warmed up first, as the wasm scanner was by the scan above: the
      // figure is noble's steady rate, not its first calls' JIT tiers.
      for (let i = 0; i < Math.min(events.length, 300); i++) secp256k1.getSharedSecret(secret, events[i].r);
      t = performance.now();
      for (let i = 0; i < nobleN; i++) secp256k1.getSharedSecret(secret, events[i].r);
      const nobleEcdhPerSecond = nobleN / ((performance.now() - t) / 1000);
      // scanInbox end to end against the node, with 1 and N workers.
      const provider = {
        async request({ method, params = [] }) {
          const res = await fetch(rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
          const body = await res.json();
          if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code });
          return body.result;
        },
      };
      const key = m.Key.fromBytes(secret);
      const inbox = [];
      const n = Math.max(2, navigator.hardwareConcurrency || 2);
      // The default pages, then pages of 1,000 blocks (fetching the next
      // page overlaps with testing this one).
      for (const [workers, blocksPerRequest] of [[0], [1], [n], [n, 1000]]) {
        t = performance.now();
        const hits = [];
        for await (const e of m.scanInbox(key, { registry, provider, fromBlock, workers, blocksPerRequest })) {
          if (e.kind === 'match') hits.push({ seq: e.authorisation.seq, transactionHash: e.authorisation.transactionHash });
        }
        inbox.push({ workers, blocksPerRequest, ms: performance.now() - t, found: hits });
      }
      return { fetchParseMs, scanMs, events: logs.length, testsPerSecond, nobleEcdhPerSecond, inbox, found: found.map((f) => ({ seq: f.seq, transactionHash: f.transactionHash })) };
    }, { registry, secretHex, rpcUrl, fromBlock });
    out.version = browser.version();
    return out;
  } finally {
    await browser.close();
    server.close();
  }
}
