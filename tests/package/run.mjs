// End-to-end check of the npm package as a user gets it:
//   1. `npm pack` pkg/ and `npm install` the tarball into a fresh project in os.tmpdir();
//   2. a Node ESM script (`import`) and a CommonJS script (`require`) round-trip a record;
//   3. webpack 5 (the repo's copy, JS API) bundles a browser entry from that project
//      (experiments.asyncWebAssembly), served on 127.0.0.1 and run in headless Chromium
//      through playwright-core: records through TransformStreams, hash checked with WebCrypto.
// Exits non-zero on any failure; removes its temporary files, server and browser.
//
//   node tests/package/run.mjs
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { launchChromium } from '../../chain/chromium.mjs';
import { ROOT } from '../support/helpers.mjs';

const PKG = path.join(ROOT, 'pkg');
const requireRoot = createRequire(path.join(ROOT, 'package.json'));
const DEADLINE_MS = 110_000;

const started = Date.now();
const log = (...a) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s]`, ...a);

// ------------------------------------------------------------- clean-up

let tmp;
let server;
let browser;
let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  if (browser) await browser.close().catch(() => {});
  if (server) await new Promise((r) => server.close(r));
  if (tmp && !process.env.KEEP_PKG_TEST) fs.rmSync(tmp, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => { cleanup().finally(() => process.exit(130)); });
}

function run(cmd, args, { cwd, env, timeout = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { child.kill('SIGKILL'); }, timeout);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${signal ?? code})\n${stdout}\n${stderr}`));
    });
  });
}

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
  log(`ok - ${message}`);
}

// ---------------------------------------------------- the test project

const NODE_SHARED = String.raw`
const SEG = 4096;
function segmentsFor(len, keyLen = 16) {
  const first = SEG - (1 + keyLen + 7) - 16;
  return len <= first ? 1 : 1 + Math.ceil((len - first) / (SEG - 16));
}
async function roundTrip(ehr, crypto, label) {
  const key = ehr.generateRecordKey();
  const ad = ehr.recordAssociatedData({ hospital: 'Package Hospital', time: 1714000000 });
  const data = crypto.randomBytes(200000 + 3);
  // push/finish, in uneven pieces
  const enc = new ehr.RecordEncryptor(key, ad, { segmentSize: SEG });
  const parts = [];
  for (let i = 0; i < data.length; i += 10007) parts.push(enc.push(data.subarray(i, i + 10007)));
  parts.push(enc.finish());
  const ct = Buffer.concat(parts);
  const sha = crypto.createHash('sha256').update(ct).digest();
  if (!Buffer.from(enc.hash).equals(sha)) throw new Error(label + ': eh differs from SHA-256(ciphertext)');
  if (ct.length !== 24 + data.length + 16 * segmentsFor(data.length)) throw new Error(label + ': ciphertext length');
  const dec = new ehr.RecordDecryptor(key, ad, { segmentSize: SEG, expectedHash: sha });
  const pt = Buffer.concat([dec.push(ct), dec.finish()]);
  if (!pt.equals(data)) throw new Error(label + ': plaintext differs');
  // TransformStreams
  const enc2 = new ehr.RecordEncryptor(key, ad, { segmentSize: SEG });
  const dec2 = new ehr.RecordDecryptor(key, ad, { segmentSize: SEG });
  const chunks = [];
  for await (const c of new Blob([data]).stream().pipeThrough(enc2.transform()).pipeThrough(dec2.transform())) chunks.push(c);
  if (!Buffer.concat(chunks).equals(data)) throw new Error(label + ': stream plaintext differs');
  if (!Buffer.from(dec2.hash).equals(Buffer.from(enc2.hash))) throw new Error(label + ': stream hashes differ');
  // a typed error crosses the boundary
  const bad = Buffer.from(ct); bad[SEG * 3 + 5] ^= 1;
  try { new ehr.RecordDecryptor(key, ad, { segmentSize: SEG }).push(bad); throw new Error(label + ': tampering not detected'); }
  catch (e) { if (!(e instanceof ehr.EhrchainError) || e.name !== 'EhrchainError' || e.code !== 'SegmentTampered') throw e; }
  // the facade's own errors: no public constructor, use after free
  try { new ehr.Key(); throw new Error(label + ': new Key() constructed'); }
  catch (e) { if (!(e instanceof ehr.EhrchainError) || e.code !== 'NotConstructible') throw e; }
  const k = ehr.Key.generate();
  if (ehr.recoverMessage(data.subarray(0, 10), k.signMessage(data.subarray(0, 10))) !== k.address) throw new Error(label + ': signatures');
  k.free();
  k.free();
  try { k.address; throw new Error(label + ': used after free'); }
  catch (e) { if (!(e instanceof ehr.EhrchainError) || e.code !== 'ObjectFreed') throw e; }
  console.log(label + ' OK ' + JSON.stringify({ bytes: data.length, segments: segmentsFor(data.length), eh: sha.toString('hex') }));
}
`;

const ESM_SCRIPT = `import * as ehr from 'ehrchain';
import { RecordEncryptor, Key } from 'ehrchain';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
${NODE_SHARED}
const resolved = fileURLToPath(import.meta.resolve('ehrchain'));
if (!resolved.endsWith('/node_modules/ehrchain/node/ehrchain.js')) throw new Error('ESM resolved ' + resolved);
if (typeof RecordEncryptor !== 'function' || typeof Key.generate !== 'function') throw new Error('named exports');
console.log('resolved ' + resolved);
await roundTrip(ehr, crypto, 'esm');
`;

const CJS_SCRIPT = `'use strict';
const ehr = require('ehrchain');
const crypto = require('node:crypto');
${NODE_SHARED}
const resolved = require.resolve('ehrchain');
if (!resolved.endsWith('/node_modules/ehrchain/node/ehrchain.js')) throw new Error('CJS resolved ' + resolved);
console.log('resolved ' + resolved);
roundTrip(ehr, crypto, 'cjs').catch((e) => { console.error(e); process.exit(1); });
`;

const BROWSER_ENTRY = String.raw`
import * as ehr from 'ehrchain';

const SEG = 4096;
const eq = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
async function collect(readable) {
  const chunks = [];
  const reader = readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return { bytes: out, chunks: chunks.length };
}
const webSha256 = async (b) => new Uint8Array(await crypto.subtle.digest('SHA-256', b));

async function main() {
  const checks = {};
  const key = ehr.generateRecordKey();
  const ad = ehr.recordAssociatedData({ hospital: 'Browser Hospital', time: 1714000000 });
  const data = new Uint8Array(1024 * 1024 + 12345);
  for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
  const segments = 1 + Math.ceil((data.length - (SEG - 24 - 16)) / (SEG - 16));

  // Encrypt: Blob stream through the encryptor's TransformStream.
  const enc = new ehr.RecordEncryptor(key, ad, { segmentSize: SEG });
  const { bytes: ct, chunks } = await collect(new Blob([data]).stream().pipeThrough(enc.transform()));
  const eh = await webSha256(ct);
  checks.ciphertextLength = ct.length === 24 + data.length + 16 * segments;
  checks.severalChunks = chunks > 1;
  checks.hashEqualsWebCrypto = enc.hash !== undefined && eq(enc.hash, eh);

  // Decrypt: ciphertext stream through the decryptor, with the anchored hash.
  const dec = new ehr.RecordDecryptor(key, ad, { segmentSize: SEG, expectedHash: eh });
  const { bytes: pt } = await collect(new Blob([ct]).stream().pipeThrough(dec.transform()));
  checks.plaintextEqual = eq(pt, data);
  checks.decryptorHash = dec.hash !== undefined && eq(dec.hash, eh);

  // Both transforms chained.
  const enc2 = new ehr.RecordEncryptor(key, ad, { segmentSize: SEG });
  const dec2 = new ehr.RecordDecryptor(key, ad, { segmentSize: SEG });
  const { bytes: pt2 } = await collect(new Blob([data]).stream().pipeThrough(enc2.transform()).pipeThrough(dec2.transform()));
  checks.chainedPlaintextEqual = eq(pt2, data) && eq(dec2.hash, enc2.hash);

  // Damage is reported with its code.
  const bad = ct.slice();
  bad[SEG * 10 + 7] ^= 1;
  try {
    await collect(new Blob([bad]).stream().pipeThrough(new ehr.RecordDecryptor(key, ad, { segmentSize: SEG }).transform()));
    checks.tamperDetected = false;
  } catch (e) {
    checks.tamperDetected = e instanceof ehr.EhrchainError && e.name === 'EhrchainError' && e.code === 'SegmentTampered';
  }
  try {
    await collect(new Blob([ct.subarray(0, SEG * 10)]).stream().pipeThrough(new ehr.RecordDecryptor(key, ad, { segmentSize: SEG }).transform()));
    checks.truncationDetected = false;
  } catch (e) {
    checks.truncationDetected = e.name === 'EhrchainError' && e.code === 'Truncated';
  }

  // The record worker, bundled by webpack from the package's own
  // new Worker(new URL('./worker.js', import.meta.url)): a Blob encrypted
  // off the main thread, decrypted off it again against eh, damage coded.
  checks.workersSupported = ehr.recordWorkersSupported();
  window.__step = 'worker encrypt';
  const job = ehr.encryptInWorker(new Blob([data]), { key, associatedData: ad, segmentSize: SEG });
  const { bytes: wct } = await collect(job.output);
  window.__step = 'worker encrypt: done';
  const { hash: wh } = await job.done;
  checks.workerHash = eq(wh, await webSha256(wct));
  window.__step = 'worker decrypt';
  const back = ehr.decryptInWorker(new Blob([wct]), { key, associatedData: ad, segmentSize: SEG, expectedHash: wh });
  const { bytes: wpt } = await collect(back.output);
  window.__step = 'worker decrypt: done';
  checks.workerRoundTrip = eq(wpt, data) && eq((await back.done).hash, wh);
  window.__step = 'worker decrypt of a tampered record';
  const badJob = ehr.decryptInWorker(new Blob([bad]), { key, associatedData: ad, segmentSize: SEG });
  // The job runs as its output is read (backpressure): read it, then see done.
  await collect(badJob.output).catch(() => {});
  checks.workerTamperCode = await badJob.done.then(() => 'ok', (e) => e.code) === 'SegmentTampered';
  // A stream source (size unknown): the record worker hashes on its nested
  // hash worker, started from the bundled worker chunk's own URL.
  window.__step = 'worker encrypt of a stream, hashed on the hash worker';
  const streamJob = ehr.encryptInWorker(new Blob([data]).stream(), { key, associatedData: ad, segmentSize: SEG });
  const { bytes: sct } = await collect(streamJob.output);
  const streamDone = await streamJob.done;
  checks.workerHashThread = streamDone.hashThread === true && eq(streamDone.hash, await webSha256(sct));
  window.__step = 'after the worker';

  // Accounts and ECIES work in the browser too (crypto.getRandomValues).
  const k = ehr.Key.generate();
  const msg = data.subarray(0, 32);
  checks.signature = ehr.recoverMessage(msg, k.signMessage(msg)) === k.address;
  checks.ecies = eq(ehr.eciesOpen(k, ehr.eciesSeal(k.publicKey(), msg)), msg);
  checks.uncompressedKey = k.publicKey({ uncompressed: true }).length === 65;
  k.free();
  try { k.address; checks.objectFreed = false; } catch (e) { checks.objectFreed = e instanceof ehr.EhrchainError && e.code === 'ObjectFreed'; }
  try { new ehr.Key(); checks.notConstructible = false; } catch (e) { checks.notConstructible = e instanceof ehr.EhrchainError && e.code === 'NotConstructible'; }
  try { enc.transform(); checks.streamInUse = false; } catch (e) { checks.streamInUse = e instanceof ehr.EhrchainError && e.code === 'StreamInUse'; }

  const ok = Object.values(checks).every((v) => v === true);
  return { ok, checks, bytes: data.length, segments, eh: hex(eh) };
}

main().then(
  (r) => { window.__result = r; },
  (e) => { window.__result = { ok: false, error: String((e && e.stack) || e), code: e && e.code }; },
);
`;

const INDEX_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>ehrchain package test</title></head>
<body><script src="main.js"></script></body></html>
`;

// ------------------------------------------------------------------ steps

async function packAndInstall() {
  if (!fs.existsSync(path.join(PKG, 'package.json'))) {
    log('pkg/ missing: building it (scripts/build-pkg.sh)');
    await run('bash', [path.join(ROOT, 'scripts', 'build-pkg.sh')], { cwd: ROOT, timeout: 30 * 60_000 });
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ehrchain-pkg-'));
  const packDir = path.join(tmp, 'pack');
  const proj = path.join(tmp, 'project');
  fs.mkdirSync(packDir);
  fs.mkdirSync(path.join(proj, 'src'), { recursive: true });
  const npmEnv = {
    npm_config_cache: path.join(tmp, 'npm-cache'),
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
  };

  const { stdout } = await run('npm', ['pack', PKG, '--pack-destination', packDir, '--json', '--loglevel=error'], { cwd: tmp, env: npmEnv });
  const [info] = JSON.parse(stdout);
  const tarball = path.join(packDir, info.filename);
  check(fs.existsSync(tarball), `npm pack wrote ${info.filename} (${info.size} bytes)`);
  const files = info.files.map((f) => f.path).sort();
  for (const f of ['package.json', 'README.md', 'node/ehrchain.js', 'node/glue.js', 'node/glue_bg.wasm', 'node/ehrchain.d.ts',
    'bundler/ehrchain.js', 'bundler/glue_bg.js', 'bundler/glue_bg.wasm', 'bundler/ehrchain.d.ts',
    'web/ehrchain.js', 'web/glue_bg.wasm', 'web/ehrchain.d.ts']) {
    check(files.includes(f), `tarball contains ${f}`);
  }

  fs.writeFileSync(path.join(proj, 'package.json'), JSON.stringify({
    name: 'ehrchain-consumer', version: '0.0.0', private: true, description: 'temporary', license: 'MIT',
  }, null, 2));
  await run('npm', ['install', tarball, '--no-audit', '--no-fund', '--offline', '--ignore-scripts', '--loglevel=error'],
    { cwd: proj, env: npmEnv });
  const installed = JSON.parse(fs.readFileSync(path.join(proj, 'node_modules', 'ehrchain', 'package.json'), 'utf8'));
  check(installed.name === 'ehrchain' && installed.version === info.version, `installed ehrchain@${installed.version} from the tarball`);
  const deps = JSON.parse(fs.readFileSync(path.join(proj, 'package.json'), 'utf8')).dependencies;
  check(deps && deps.ehrchain && deps.ehrchain.startsWith('file:'), `project depends on ${deps && deps.ehrchain}`);
  return proj;
}

async function nodeScripts(proj) {
  fs.writeFileSync(path.join(proj, 'esm.mjs'), ESM_SCRIPT);
  fs.writeFileSync(path.join(proj, 'cjs.cjs'), CJS_SCRIPT);
  // NODE_PATH cleared so that nothing outside the project can be picked up.
  const env = { NODE_PATH: '' };
  for (const script of ['esm.mjs', 'cjs.cjs']) {
    const { stdout } = await run(process.execPath, [script], { cwd: proj, env });
    const label = script.startsWith('esm') ? 'esm' : 'cjs';
    console.log(stdout.trimEnd().replace(/^/gm, `    ${label}| `));
    check(stdout.includes(`${label} OK `), `Node ${label.toUpperCase()} import of 'ehrchain' round-trips a record`);
  }
}

// A TypeScript user of the package: `tsc --strict` must accept correct use
// (types resolved through the package's `exports` → `types`) and reject a
// wrong argument type, so the declarations are real, not `any`.
const TS_GOOD = `import { Key, RecordEncryptor, RecordDecryptor, MaskKey, Scanner, generateRecordKey,
  recordAssociatedData, anchorRecordTx, anchorCommitment, generateAnchorSalt, errorCodes, EhrchainError,
  decodeRegistryLogs, decodeRegistryRevert, confirmGrant,
  type TxRequest, type MaskedRecord, type GrantRecord, type OpenedGrant, type RegistryEvent,
  type ErrorCode, type BytesLike, type LogLike } from "ehrchain";
const key: Uint8Array = generateRecordKey();
const enc = new RecordEncryptor(key, recordAssociatedData({ hospital: "St Mary", time: 1700000000 }), { segmentSize: 4096 });
const ts: TransformStream<Uint8Array, Uint8Array> = enc.transform();
const dec = new RecordDecryptor(key, new Uint8Array(), { expectedHash: enc.hash });
const hexKey: BytesLike = "0x" + "11".repeat(16);
const fromHex = new RecordEncryptor(hexKey, new Uint8Array());
const doctor: Key = Key.generate();
const scanner = new Scanner(doctor);
const kt = MaskKey.generate();
const masked: MaskedRecord = kt.mask({ hospital: "St Mary", time: 1700000000, txId: new Uint8Array(32), recordKey: key });
const patient: Key = Key.generate();
const record: GrantRecord = { hospital: "St Mary", time: 1700000000, eh: new Uint8Array(32), anchorSalt: generateAnchorSalt(), recordType: "lab" };
const trans = kt.authorise(doctor.publicKey(), record, patient);
const mine: boolean = scanner.matches(trans);
const opened: OpenedGrant = scanner.open(trans);
const patientAddress: string = opened.patient;
const answers = { recordStatus: "0x", certificateStatus: "0x" };
function confirm() { return confirmGrant(opened, answers).doctor; }
const commitment: Uint8Array = anchorCommitment({ ...record, doctor: doctor.address, patient: patient.address });
const tx: TxRequest = anchorRecordTx("0x5FbDB2315678afecb367f032d93F642f64180aa3", { eh: record.eh, commitment, recordTime: 1, serial: 7 });
function events(logs: readonly LogLike[]): RegistryEvent[] {
  return decodeRegistryLogs("0x5FbDB2315678afecb367f032d93F642f64180aa3", logs, { skipForeign: true });
}
// A scoped key: freed at the end of the block.
function scoped(): string {
  using k = Key.generate();
  return k.address;
}
// A caller branches on the typed error code, and on the class.
function advice(e: unknown): string {
  if (!(e instanceof EhrchainError)) return String(e);
  const reverted = decodeRegistryRevert(e);
  if (reverted?.revert) return reverted.revert.name;
  switch (e.code) {
    case "HashMismatch": return "the record does not match its anchor";
    case "SegmentTampered": return "the record was altered";
    case "ObjectFreed": return "freed";
    case "StreamInUse": return "one stream per object";
    case "TimeInMilliseconds": return "seconds, not Date.now()";
    default: return e.message;
  }
}
opened.free();
const codes: ErrorCode[] = errorCodes();
export { ts, dec, fromHex, masked, mine, tx, advice, codes, patientAddress, events, scoped, confirm };
`;
const TS_BAD_CODE = `import type { EhrchainError } from "ehrchain";
export function f(e: EhrchainError) { switch (e.code) { case "NoSuchCode": return 1; default: return 0; } }
`;
// Wrong uses the declarations must refuse, each with its TypeScript error code.
const TS_BAD = [
  ['a number where bytes are expected', 'TS2345', `import { RecordEncryptor } from "ehrchain";
export const enc = new RecordEncryptor(42, new Uint8Array());
`],
  ['the old positional segment size', 'TS2559', `import { RecordEncryptor } from "ehrchain";
export const enc = new RecordEncryptor(new Uint8Array(16), new Uint8Array(), 4096);
`],
  ['the old positional anchorRecordTx', 'TS2554', `import { anchorRecordTx } from "ehrchain";
export const tx = anchorRecordTx("0x5FbDB2315678afecb367f032d93F642f64180aa3", new Uint8Array(32), new Uint8Array(32), 1, 7);
`],
  ['a misspelt option', 'TS2561', `import { RecordDecryptor } from "ehrchain";
export const dec = new RecordDecryptor(new Uint8Array(16), new Uint8Array(), { expectedhash: new Uint8Array(32) });
`],
  ['new Key()', 'TS2673', `import { Key } from "ehrchain";
export const k = new Key();
`],
];

async function typeCheck(proj) {
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'esnext',
    '--moduleResolution', 'bundler', '--lib', 'es2022,dom,esnext.disposable', '--skipLibCheck', 'false'];
  fs.writeFileSync(path.join(proj, 'good.ts'), TS_GOOD);
  await run(process.execPath, [tsc, ...args, 'good.ts'], { cwd: proj });
  check(true, 'tsc --strict accepts typed use of the package (options objects, BytesLike hex, using, instanceof EhrchainError)');
  for (const [i, [what, code, source]] of TS_BAD.entries()) {
    const file = `bad${i}.ts`;
    fs.writeFileSync(path.join(proj, file), source);
    let output = 'accepted';
    try {
      await run(process.execPath, [tsc, ...args, file], { cwd: proj });
    } catch (e) {
      output = String(e && e.message);
    }
    check(output.includes(code), `tsc --strict refuses ${what} (${code})${output.includes(code) ? '' : `: ${output.slice(0, 400)}`}`);
  }
  fs.writeFileSync(path.join(proj, 'badcode.ts'), TS_BAD_CODE);
  let refusedCode = false;
  try {
    await run(process.execPath, [tsc, ...args, 'badcode.ts'], { cwd: proj });
  } catch (e) {
    // TS2678: type '"NoSuchCode"' is not comparable to type 'ErrorCode'.
    refusedCode = String(e && e.message).includes('TS2678');
  }
  check(refusedCode, 'tsc --strict refuses a switch on an error code that does not exist');
  // No export is typed `any`: every return and parameter type is declared.
  for (const build of ['bundler', 'node', 'web']) {
    const dts = fs.readFileSync(path.join(proj, 'node_modules', 'ehrchain', build, 'ehrchain.d.ts'), 'utf8');
    // The web build also declares the raw wasm exports (`InitOutput`, wasm-bindgen's
    // internal ABI of numbers and handles); the API is everything else.
    const code = dts.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')
      .replace(/export interface InitOutput \{[\s\S]*?\n\}/, '');
    const anys = code.split('\n').filter((l) => /\bany\b/.test(l));
    check(anys.length === 0, `${build}/ehrchain.d.ts declares no \`any\`${anys.length ? `: ${anys.join(' | ')}` : ''}`);
  }
}

async function webpackBuild(proj) {
  fs.writeFileSync(path.join(proj, 'src', 'browser.js'), BROWSER_ENTRY);
  fs.writeFileSync(path.join(proj, 'index.html'), INDEX_HTML);
  const webpack = requireRoot('webpack');
  const dist = path.join(proj, 'dist');
  const config = {
    mode: 'production',
    target: 'web',
    context: proj,
    entry: './src/browser.js',
    output: { path: dist, filename: 'main.js', clean: true },
    experiments: { asyncWebAssembly: true },
    // Resolve 'ehrchain' from the temporary project only (never the repo).
    resolve: { modules: [path.join(proj, 'node_modules')] },
    performance: { hints: false },
    devtool: false,
  };
  const stats = await new Promise((resolve, reject) => {
    webpack(config, (err, s) => (err ? reject(err) : resolve(s)));
  });
  const json = stats.toJson({ all: false, errors: true, warnings: true, assets: true, modules: true });
  if (stats.hasErrors()) throw new Error(`webpack errors:\n${json.errors.map((e) => e.message).join('\n')}`);
  for (const w of json.warnings) log(`webpack warning: ${w.message.split('\n')[0]}`);
  const assets = json.assets.map((a) => a.name);
  log(`webpack ${webpack.version} assets: ${json.assets.map((a) => `${a.name} (${a.size} B)`).join(', ')}`);
  check(assets.some((a) => a.endsWith('.wasm')), 'webpack emitted the .wasm module');
  check(assets.filter((a) => a.endsWith('.js')).length >= 2, 'webpack emitted the record worker as its own chunk');
  const fromProject = json.modules.some((m) => (m.name || '').includes('node_modules/ehrchain/bundler/glue_bg'));
  check(fromProject, "webpack bundled 'ehrchain' (bundler build) from the project's node_modules");
  fs.copyFileSync(path.join(proj, 'index.html'), path.join(dist, 'index.html'));
  return dist;
}

function serve(dir) {
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm' };
  server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const name = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    const file = path.join(dir, name);
    if (!file.startsWith(dir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

async function browserRun(dist) {
  const port = await serve(dist);
  const url = `http://127.0.0.1:${port}/`;
  browser = await launchChromium({ timeoutMs: 30_000 });
  const page = await browser.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
  await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
  await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 60_000 }).catch(async () => {
    const step = await page.evaluate(() => window.__step).catch(() => undefined);
    throw new Error(`no window.__result in the page (last step: ${step})\n${problems.join('\n')}`);
  });
  const result = await page.evaluate(() => window.__result);
  log(`browser (${browser.version()}) result: ${JSON.stringify(result)}`);
  for (const p of problems) log(`browser: ${p}`);
  check(result.ok === true, 'webpack bundle round-trips a record through TransformStreams in Chromium; hash equals WebCrypto SHA-256');
  check(problems.length === 0, 'no page errors or failed requests');
}

// ------------------------------------------------------------------- main

const deadline = setTimeout(() => {
  console.error(`FAIL: exceeded ${DEADLINE_MS / 1000}s`);
  cleanup().finally(() => process.exit(1));
}, DEADLINE_MS);

try {
  const proj = await packAndInstall();
  await nodeScripts(proj);
  await typeCheck(proj);
  const dist = await webpackBuild(proj);
  await browserRun(dist);
  log('PASS');
} catch (e) {
  console.error(`FAIL: ${e && e.stack ? e.stack : e}`);
  process.exitCode = 1;
} finally {
  clearTimeout(deadline);
  await cleanup();
}
