// EhrRegistry on a fresh local Hardhat node: every function, every refusal,
// every event's fields, who may anchor (certified doctors only, within their
// validity), paging of authorisations by block range, and a table of the gas
// each call uses (printed, not asserted).
//
//   node --test tests/contract/
import { test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { ethers } from 'ethers';
import { encrypt, decrypt } from 'eciesjs';
import { startChain } from '../../chain/testchain.mjs';
import { CHAIN_ID, ROOT } from '../support/helpers.mjs';

const require = createRequire(import.meta.url);
const { compile } = require('../../chain/compile.js');
const { deploy } = require('../../chain/deploy.js');

/** Every test gets a timeout, so that a stuck RPC fails the run instead of hanging it. */
const test = (name, fn) => nodeTest(name, { timeout: 60_000 }, fn);

const execFileP = promisify(execFile);

const ZERO32 = ethers.ZeroHash;
/** Every access pass is padded to this many bytes before ECIES. */
const PASS_LEN = 512;
/** ECIES overhead (eciesjs default): 65-byte ephemeral key, 16-byte nonce, 16-byte tag. */
const ECIES_OVERHEAD = 65 + 16 + 16;
/** The only C1 length the registry accepts: 97 + 512 = 609. */
const C1_LEN = ECIES_OVERHEAD + PASS_LEN;
/** Order of the secp256k1 group. */
const CURVE_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

// ---------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------

let chain; // { rpcUrl, stop }
let provider; // ethers.JsonRpcProvider
let artifact; // { abi, bytecode }
let iface; // ethers.Interface of EhrRegistry
let registry; // ethers.Contract (read-only)
let deployment; // { registry, authority, chainId, block }
let accounts; // addresses of the node's unlocked accounts
let deployer, authority, doctor, doctor2, stranger; // JsonRpcSigners
let hospital; // JsonRpcSigner: the hospital server, which sees every eh before it is anchored
let doctors = []; // JsonRpcSigners of accounts[10..14], for certificates made by single tests
const relayers = []; // JsonRpcSigners that post authorisations

/** gas table rows: label -> { gas: bigint[], note } */
const gasTable = new Map();

function recordGas(label, gasUsed, note = '') {
  if (!gasTable.has(label)) gasTable.set(label, { gas: [], note });
  gasTable.get(label).gas.push(BigInt(gasUsed));
}

/** Sends a contract call from `signer`, waits for its receipt, records its gas. */
async function send(label, signer, method, args, note) {
  const tx = await registry.connect(signer)[method](...args);
  const receipt = await tx.wait();
  assert.equal(receipt.status, 1, `${method} failed`);
  if (label) recordGas(label, receipt.gasUsed, note);
  return receipt;
}

/** The registry's events in a receipt, decoded. */
function eventsOf(receipt) {
  return receipt.logs
    .filter((l) => l.address.toLowerCase() === deployment.registry.toLowerCase())
    .map((l) => ({ log: l, parsed: iface.parseLog(l) }));
}

/** The single event of a receipt, checked by name. */
function onlyEvent(receipt, name) {
  const evs = eventsOf(receipt);
  assert.equal(evs.length, 1, `expected exactly one event, got ${evs.map((e) => e.parsed?.name)}`);
  assert.equal(evs[0].parsed.name, name);
  return evs[0];
}

/** Extracts the revert data of a failed call/estimate/send, or undefined. */
function revertData(err) {
  for (const d of [err?.data, err?.info?.error?.data, err?.error?.data, err?.info?.error?.data?.data]) {
    if (typeof d === 'string' && d.startsWith('0x')) return d;
    if (d && typeof d.data === 'string') return d.data;
  }
  return undefined;
}

/** Asserts that `promise` rejects with the registry's custom error `name` (and `args`). */
async function rejectsWith(promise, name, args) {
  await assert.rejects(promise, (err) => {
    const data = revertData(err);
    const parsed = err.revert ?? (data ? iface.parseError(data) : null);
    assert.ok(parsed, `no custom error in: ${err.shortMessage || err.message}`);
    assert.equal(parsed.name, name, `expected ${name}, got ${parsed.name}`);
    if (args) assert.deepEqual(Array.from(parsed.args), args);
    return true;
  });
}

/** Calls `method` through eth_call and eth_estimateGas (what a wallet does first) and expects `name` both times. */
async function refused(signer, method, args, name, errArgs) {
  const c = registry.connect(signer);
  await rejectsWith(c[method].staticCall(...args), name, errArgs);
  await rejectsWith(c[method](...args), name, errArgs); // estimateGas refuses: nothing is sent
}

async function latestTimestamp() {
  return (await provider.getBlock('latest')).timestamp;
}

/** Makes the next block's timestamp `ts` (strictly after the latest). */
async function setNextTimestamp(ts) {
  await provider.send('evm_setNextBlockTimestamp', [ts]);
}

const randomHash = () => ethers.hexlify(ethers.randomBytes(32));
const randomKey = () => new ethers.SigningKey(ethers.hexlify(ethers.randomBytes(32)));

/**
 * The anchor commitment, computed off chain (src/anchor.rs):
 * SHA-256("ehrchain/v1/anchor" ‖ salt (32) ‖ doctor (20) ‖ patient (20) ‖ u8 len(Ty1) ‖ Ty1).
 * The contract stores it opaque; the tests use it to anchor realistic values.
 */
function commitment(doctorAddr, patientAddr, ty1, salt = ethers.randomBytes(32)) {
  const ty = ethers.toUtf8Bytes(ty1);
  return ethers.sha256(
    ethers.concat([ethers.toUtf8Bytes('ehrchain/v1/anchor'), salt, doctorAddr, patientAddr, Uint8Array.of(ty.length), ty]),
  );
}
/** A patient's account (the commitment's `patient`; never seen by the contract). */
const patientAddr = ethers.Wallet.createRandom().address;
/** The certificate serial of `doctor` (accounts[2]) used for anchoring. */
const SERIAL = 1n;

// ---------------------------------------------------------------------------
// Authorisation helpers (Alg 5), after docs/PROTOCOL.md sections 3 to 5. The
// contract itself only checks the shapes of the view tag, R, ST and C1.
// ---------------------------------------------------------------------------

/** h1(P) = int(SHA-256("ehrchain/v1/h1" ‖ compressed(P))) mod n (section 3). */
function h1(point) {
  const compressed = ethers.SigningKey.computePublicKey(point, true);
  const d = BigInt(ethers.sha256(ethers.concat([ethers.toUtf8Bytes('ehrchain/v1/h1'), compressed]))) % CURVE_N;
  if (d === 0n) throw new Error('OutOfRange');
  return ethers.toBeHex(d, 32);
}

/** The view tag: SHA-256("ehrchain/v1/view-tag" ‖ compressed(P))[0], as bytes1 hex (section 5). */
function viewTagOf(point) {
  const compressed = ethers.SigningKey.computePublicKey(point, true);
  return ethers.dataSlice(ethers.sha256(ethers.concat([ethers.toUtf8Bytes('ehrchain/v1/view-tag'), compressed])), 0, 1);
}

/** ctx = u8 len(H1) ‖ H1 ‖ u64 BE T1 (section 4). */
function recordCtx(hospital, t1) {
  const h = ethers.toUtf8Bytes(hospital);
  return ethers.concat([Uint8Array.of(h.length), h, ethers.getBytes(ethers.toBeHex(t1, 8))]);
}

/**
 * A_pass = 0x02 ‖ ctx ‖ k_t (32) ‖ eh (32) ‖ salt (32) ‖ u8 len(Ty1) ‖ Ty1 ‖ σ (65),
 * zero padded to 512 bytes (src/grant.rs). σ is random here: the contract never
 * sees inside C1, it checks only its length.
 */
function makePass(hospital = "St Mary's Hospital", t1 = 1_770_000_000n, ty1 = 'radiology/ct') {
  const ty = ethers.toUtf8Bytes(ty1);
  const body = ethers.getBytes(
    ethers.concat([
      '0x02',
      recordCtx(hospital, t1),
      ethers.randomBytes(32), // k_t
      ethers.randomBytes(32), // eh
      ethers.randomBytes(32), // salt
      Uint8Array.of(ty.length),
      ty,
      ethers.randomBytes(65), // σ
    ]),
  );
  if (body.length > PASS_LEN) throw new Error('pass too long');
  const padded = new Uint8Array(PASS_LEN);
  padded.set(body);
  return ethers.hexlify(padded);
}

/** Builds Trans = (viewTag, R, ST, C1) for the doctor with protocol key `A` (compressed hex). */
function makeTrans(A, pass) {
  const r = randomKey();
  const R = r.compressedPublicKey;
  const shared = r.computeSharedSecret(A);
  const ST = new ethers.SigningKey(h1(shared)).compressedPublicKey;
  const C1 = ethers.hexlify(encrypt(ethers.getBytes(A), ethers.getBytes(pass)));
  return { viewTag: viewTagOf(shared), r: R, st: ST, c1: C1 };
}

/** A view tag (bytes1 hex) with its bits flipped by `mask`. */
const flipTag = (tag, mask = 0xff) => ethers.toBeHex(Number(BigInt(tag)) ^ mask, 1);

/**
 * The doctor's test (Alg 5 step 2): is this Trans for the holder of secret `a`?
 * The view tag first, then ST (the tag filters, ST proves). Returns the pass,
 * or null if not his; throws if his but C1 does not open to a v2 pass.
 */
function openTrans(a, { viewTag, r, st, c1 }) {
  const shared = a.computeSharedSecret(r);
  if (viewTagOf(shared) !== viewTag.toLowerCase()) return null;
  const mine = new ethers.SigningKey(h1(shared)).compressedPublicKey;
  if (mine.toLowerCase() !== st.toLowerCase()) return null;
  const pass = ethers.hexlify(decrypt(ethers.getBytes(a.privateKey), ethers.getBytes(c1)));
  if (ethers.dataLength(pass) !== PASS_LEN) throw new Error('MalformedEncoding: pass length');
  if (ethers.dataSlice(pass, 0, 1) !== '0x02') throw new Error('MalformedEncoding: pass version');
  return pass;
}

// ---------------------------------------------------------------------------

before(async () => {
  artifact = compile({ write: false, strict: true }).EhrRegistry;
  iface = new ethers.Interface(artifact.abi);
  chain = await startChain();
  // cacheTimeout -1: ethers otherwise answers a repeated request (e.g. the block
  // number) from a 250 ms cache, stale once automine has added a block.
  provider = new ethers.JsonRpcProvider(chain.rpcUrl, CHAIN_ID, {
    staticNetwork: ethers.Network.from(CHAIN_ID),
    pollingInterval: 50,
    cacheTimeout: -1,
  });
  accounts = await provider.send('eth_accounts', []);
  assert.ok(accounts.length >= 15);
  [deployer, authority, doctor, doctor2, stranger] = await Promise.all(accounts.slice(0, 5).map((a) => provider.getSigner(a)));
  for (const a of accounts.slice(5, 9)) relayers.push(await provider.getSigner(a));
  hospital = await provider.getSigner(accounts[9]);
  doctors = await Promise.all(accounts.slice(10, 15).map((a) => provider.getSigner(a)));

  const d = await deploy({ rpcUrl: chain.rpcUrl, authority: accounts[1], artifact, out: false, deployerKey: '' });
  d.provider.destroy();
  recordGas('deploy (constructor)', d.gasUsed);
  deployment = { registry: d.registry, authority: d.authority, chainId: d.chainId, block: d.block };
  assert.equal(d.deployer, ethers.getAddress(accounts[0]));
  registry = new ethers.Contract(d.registry, artifact.abi, provider);
}, { timeout: 90_000 });

after(async () => {
  provider?.destroy();
  await chain?.stop();
  printGasTable();
}, { timeout: 30_000 });

function printGasTable() {
  if (gasTable.size === 0) return;
  const rows = [...gasTable].map(([label, { gas, note }]) => {
    const min = gas.reduce((a, b) => (b < a ? b : a));
    const max = gas.reduce((a, b) => (b > a ? b : a));
    const shown = min === max ? `${min}` : `${min} – ${max}`;
    return [label, shown, String(gas.length), note];
  });
  const head = ['operation', 'gas used', 'n', 'note'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r) => '| ' + r.map((c, i) => c.padEnd(w[i])).join(' | ') + ' |';
  console.log('\nEhrRegistry gas used (Hardhat node, solc 0.8.28, optimizer 200 runs, cancun):');
  console.log(line(head));
  console.log('|' + w.map((n) => '-'.repeat(n + 2)).join('|') + '|');
  for (const r of rows) console.log(line(r));
  console.log('');
}

// ---------------------------------------------------------------------------
// Interface: the exact ABI the Rust crate encodes against
// ---------------------------------------------------------------------------

test('ABI: the function signatures are the agreed ones', () => {
  const fns = iface.fragments.filter((f) => f.type === 'function').map((f) => f.format('sighash')).sort();
  assert.deepEqual(fns, [
    'C1_LENGTH()',
    'MAX_ENDPOINT_LENGTH()',
    'MAX_HOSPITAL_LENGTH()',
    'anchorRecord(bytes32,bytes32,uint64,uint64)',
    'authorisationCount()',
    'authorise(bytes1,bytes,bytes,bytes)',
    'authority()',
    'certificateStatus(uint64)',
    'hospitalEndpoint(string)',
    'listHospital(string,string)',
    'markDeleted(bytes32)',
    'markDeletedByPatient(bytes32,bytes32,string)',
    'recordStatus(bytes32)',
    'registerDoctor(uint64,address,bytes,uint64,uint64)',
    'revokeDoctor(uint64)',
  ]);
});

test('ABI: certificateStatus and recordStatus return the agreed named fields', () => {
  const fullFn = (n) => iface.getFunction(n).format('full');
  assert.equal(
    fullFn('certificateStatus'),
    'function certificateStatus(uint64 serial) view returns (address doctor, uint64 validFrom, uint64 validUntil, bool revoked, uint64 revokedAt)',
  );
  assert.equal(
    fullFn('recordStatus'),
    'function recordStatus(bytes32 eh) view returns (bool anchored, address anchoredBy, uint64 serial, uint64 anchoredAt, bytes32 commitment, uint64 recordTime, bool deleted, uint64 deletedAt)',
  );
  assert.equal(
    fullFn('anchorRecord'),
    'function anchorRecord(bytes32 eh, bytes32 commitment, uint64 recordTime, uint64 serial)',
  );
});

test('ABI: the constructor takes the authority\'s address and is not payable', () => {
  assert.deepEqual(iface.deploy.inputs.map((i) => i.type), ['address']);
  assert.equal(iface.deploy.payable, false);
});

test('ABI: the event signatures are the agreed ones', () => {
  const events = iface.fragments.filter((f) => f.type === 'event').map((f) => f.format('full')).sort();
  assert.deepEqual(events, [
    'event Authorised(uint256 indexed seq, bytes1 viewTag, bytes r, bytes st, bytes c1)',
    'event DoctorRegistered(uint64 indexed serial, address indexed doctor, bytes protocolKey, uint64 validFrom, uint64 validUntil)',
    'event DoctorRevoked(uint64 indexed serial, uint64 revokedAt)',
    'event HospitalListed(bytes32 indexed hospitalHash, string hospital, string endpoint)',
    'event RecordAnchored(bytes32 indexed eh, address indexed anchoredBy, uint64 serial, bytes32 commitment, uint64 recordTime, uint64 anchoredAt)',
    'event RecordDeleted(bytes32 indexed eh, address indexed deletedBy, uint64 deletedAt)',
  ]);
});

test('ABI: the custom error signatures are the agreed ones', () => {
  const errors = iface.fragments.filter((f) => f.type === 'error').map((f) => f.format('sighash')).sort();
  assert.deepEqual(errors, [
    'AlreadyAnchored(bytes32)',
    'AlreadyDeleted(bytes32)',
    'AlreadyRevoked(uint64)',
    'CertificateExists(uint64)',
    'InvalidCiphertext(uint256)',
    'InvalidEndpoint()',
    'InvalidHash()',
    'InvalidHospital()',
    'InvalidPoint()',
    'InvalidProtocolKey()',
    'InvalidValidity()',
    'NotAnchorOwner(bytes32)',
    'NotAnchored(bytes32)',
    'NotAuthority()',
    'NotCertifiedDoctor(uint64)',
    'NotRecordPatient(bytes32)',
    'UnknownCertificate(uint64)',
    'ZeroAddress()',
  ]);
});

test('ABI: the anchoring interface has the selectors and topic documented in chain/README.md', () => {
  assert.equal(iface.getFunction('anchorRecord').selector, '0x20abf477');
  assert.equal(ethers.id('anchorRecord(bytes32,bytes32,uint64,uint64)').slice(0, 10), '0x20abf477');
  assert.equal(iface.getFunction('recordStatus').selector, '0x7188c863'); // inputs unchanged, outputs not
  assert.equal(iface.getFunction('C1_LENGTH').selector, '0x582d6484');
  assert.equal(iface.getError('NotCertifiedDoctor').selector, '0x0eef7d9b');
  assert.equal(
    iface.getEvent('RecordAnchored').topicHash,
    ethers.id('RecordAnchored(bytes32,address,uint64,bytes32,uint64,uint64)'),
  );
  assert.equal(iface.getEvent('RecordAnchored').topicHash, '0x50a1dc578d11f7f67d3777a1dc3a868e9a21d7e11d037a7f9abee5f68aa1a429');
});

test('ABI: no payable function, no fallback or receive: the registry never holds ether', () => {
  assert.ok(iface.fragments.every((f) => f.type !== 'fallback' && f.type !== 'receive' && !f.payable));
});

// ---------------------------------------------------------------------------
// Deployment
// ---------------------------------------------------------------------------

test('deployment: on the local chain, with the given authority', async () => {
  assert.equal(deployment.chainId, CHAIN_ID);
  assert.equal(await registry.authority(), ethers.getAddress(accounts[1]));
});

test('deployment: no authorisation yet', async () => {
  assert.equal(await registry.authorisationCount(), 0n);
});

test('deployment: the only C1 length is 609 = 97 + 512', async () => {
  assert.equal(await registry.C1_LENGTH(), 609n);
  assert.equal(C1_LEN, 609);
});

test('deployment: the runtime code is the compiled one, with the immutable authority filled in', async () => {
  // The runtime code is the compiled one, with the immutable authority filled in.
  const code = await provider.getCode(deployment.registry);
  assert.equal(code.length, artifact.deployedBytecode.length);
  assert.ok(code.includes(accounts[1].slice(2).toLowerCase()));
});

test('deployment: the zero address as authority is refused (ZeroAddress)', async () => {
  const factory = new ethers.ContractFactory(artifact.abi, artifact.bytecode, deployer);
  await rejectsWith(factory.deploy(ethers.ZeroAddress), 'ZeroAddress');
});

test('deploy.js CLI: --authority, one JSON line on stdout, deployment file', async () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ehr-deploy-')), 'deployment.json');
  const { stdout } = await execFileP(process.execPath, ['chain/deploy.js', '--rpc', chain.rpcUrl, '--authority', accounts[3].toLowerCase(), '--out', out], {
    cwd: ROOT,
    env: { ...process.env, DEPLOYER_KEY: '' },
  });
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const d = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(d), ['registry', 'authority', 'chainId', 'block']);
  assert.equal(d.authority, ethers.getAddress(accounts[3])); // EIP-55 form
  assert.equal(d.chainId, CHAIN_ID);
  assert.ok(ethers.isAddress(d.registry) && d.registry === ethers.getAddress(d.registry));
  assert.deepEqual(JSON.parse(fs.readFileSync(out, 'utf8')), d);
  const other = new ethers.Contract(d.registry, artifact.abi, provider);
  assert.equal(await other.authority(), d.authority);
  const receiptBlock = await provider.getBlock(d.block);
  assert.ok(receiptBlock.transactions.length === 1);
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
});

test('deploy.js CLI: unreachable node is a clean error, exit code 1', async () => {
  await assert.rejects(
    execFileP(process.execPath, ['chain/deploy.js', '--rpc', 'http://127.0.0.1:9'], { cwd: ROOT }),
    (err) => err.code === 1 && /no JSON-RPC node/.test(err.stderr) && err.stdout === '',
  );
});

test('deploy(): from a private key (DEPLOYER_KEY path), locally signed transaction', async () => {
  const wallet = ethers.Wallet.createRandom();
  await provider.send('hardhat_setBalance', [wallet.address, ethers.toQuantity(ethers.parseEther('1'))]);
  const d = await deploy({ rpcUrl: chain.rpcUrl, deployerKey: wallet.privateKey, artifact, out: false });
  d.provider.destroy();
  assert.equal(d.deployer, wallet.address);
  assert.equal(d.authority, wallet.address); // defaults to the deployer
  const tx = await provider.getTransaction(d.txHash);
  assert.equal(tx.from, wallet.address);
  assert.equal(tx.type, 2); // EIP-1559
});

// ---------------------------------------------------------------------------
// Doctor certificates
// ---------------------------------------------------------------------------

const doctorKey = randomKey(); // the doctor's protocol key pair (a, A)

test('registerDoctor: stores the certificate and emits DoctorRegistered', async () => {
  const now = await latestTimestamp();
  const serial = 1n;
  const validFrom = BigInt(now);
  const validUntil = BigInt(now + 365 * 86400);
  const receipt = await send('registerDoctor', authority, 'registerDoctor', [serial, accounts[2], doctorKey.compressedPublicKey, validFrom, validUntil]);
  const { log, parsed } = onlyEvent(receipt, 'DoctorRegistered');
  assert.equal(parsed.args.serial, serial);
  assert.equal(parsed.args.doctor, ethers.getAddress(accounts[2]));
  assert.equal(parsed.args.protocolKey, doctorKey.compressedPublicKey);
  assert.equal(parsed.args.validFrom, validFrom);
  assert.equal(parsed.args.validUntil, validUntil);
  // indexed: serial and doctor are topics
  assert.equal(log.topics.length, 3);
  assert.equal(log.topics[1], ethers.zeroPadValue(ethers.toBeHex(serial), 32));
  assert.equal(log.topics[2], ethers.zeroPadValue(accounts[2], 32));

  const st = await registry.certificateStatus(serial);
  assert.deepEqual(st.toObject(), {
    doctor: ethers.getAddress(accounts[2]),
    validFrom,
    validUntil,
    revoked: false,
    revokedAt: 0n,
  });

  // A second certificate for the same doctor (renewal), with an 0x03 key and the
  // largest serial and times: accepted.
  let k3 = randomKey();
  while (!k3.compressedPublicKey.startsWith('0x03')) k3 = randomKey();
  const maxU64 = 2n ** 64n - 1n;
  await send('registerDoctor', authority, 'registerDoctor', [maxU64, accounts[2], k3.compressedPublicKey, 0n, maxU64]);
  const st3 = await registry.certificateStatus(maxU64);
  assert.equal(st3.doctor, ethers.getAddress(accounts[2]));
  assert.equal(st3.validUntil, maxU64);
});

test('registerDoctor: the worked example of docs/PROTOCOL.md section 12 (serial 42)', async () => {
  const doctorAddr = ethers.computeAddress('0x' + '22'.repeat(32));
  assert.equal(doctorAddr, '0x1563915e194D8CfBA1943570603F7606A3115508');
  const a = new ethers.SigningKey('0x' + '33'.repeat(32));
  const A = a.compressedPublicKey;
  assert.equal(A, '0x023c72addb4fdf09af94f0c94d7fe92a386a7e70cf8a1d85916386bb2535c7b1b1');
  assert.equal(
    ethers.hexlify(recordCtx("St Mary's Hospital", 1_770_000_000n)),
    '0x12' + '5374204d617279277320486f73706974616c' + '0000000069800e80',
  );
  const receipt = await send('registerDoctor', authority, 'registerDoctor', [42n, doctorAddr, A, 1_767_225_600n, 1_798_761_600n]);
  const { parsed } = onlyEvent(receipt, 'DoctorRegistered');
  assert.deepEqual(parsed.args.toObject(), {
    serial: 42n,
    doctor: doctorAddr,
    protocolKey: A,
    validFrom: 1_767_225_600n,
    validUntil: 1_798_761_600n,
  });
  assert.deepEqual(Array.from(await registry.certificateStatus(42n)), [doctorAddr, 1_767_225_600n, 1_798_761_600n, false, 0n]);
  // The key is found again by serial, from the event (it is not in storage).
  const logs = await registry.queryFilter(registry.filters.DoctorRegistered(42n), deployment.block, 'latest');
  assert.equal(logs.length, 1);
  assert.equal(logs[0].args.protocolKey, A);
  // A grant to this A is recognised and opened with a = 0x33…33, by nobody else.
  const pass = makePass();
  const t = makeTrans(A, pass);
  assert.equal(openTrans(a, t), pass);
  assert.equal(openTrans(randomKey(), t), null);
});

test('registerDoctor: only the authority may register (NotAuthority for the deployer, a doctor, a stranger)', async () => {
  const A = randomKey().compressedPublicKey;
  const now = BigInt(await latestTimestamp());
  const ok = [10n, accounts[3], A, now, now + 1000n];
  // only the authority: not the deployer, not a doctor, not a stranger
  for (const s of [deployer, doctor, stranger]) await refused(s, 'registerDoctor', ok, 'NotAuthority');
});

test('registerDoctor: the authority is checked first, even for otherwise bad input (NotAuthority)', async () => {
  await refused(stranger, 'registerDoctor', [10n, ethers.ZeroAddress, '0x', 5n, 1n], 'NotAuthority');
});

test('registerDoctor: the zero address as doctor is refused (ZeroAddress)', async () => {
  const A = randomKey().compressedPublicKey;
  const now = BigInt(await latestTimestamp());
  await refused(authority, 'registerDoctor', [10n, ethers.ZeroAddress, A, now, now + 1000n], 'ZeroAddress');
});

test('registerDoctor: a protocol key that is not a compressed point is refused (InvalidProtocolKey)', async () => {
  const A = randomKey().compressedPublicKey;
  const now = BigInt(await latestTimestamp());

  const bad = [
    '0x',
    '0x02',
    A.slice(0, -2), // 32 bytes
    A + '00', // 34 bytes
    '0x04' + A.slice(4), // 33 bytes, uncompressed prefix
    '0x00' + A.slice(4),
    '0x01' + A.slice(4),
    '0x05' + A.slice(4),
    '0xff' + A.slice(4),
    randomKey().publicKey, // 65-byte uncompressed point
  ];
  for (const key of bad) {
    await refused(authority, 'registerDoctor', [10n, accounts[3], key, now, now + 1000n], 'InvalidProtocolKey');
  }
});

test('registerDoctor: validUntil not after validFrom is refused (InvalidValidity)', async () => {
  const A = randomKey().compressedPublicKey;
  const now = BigInt(await latestTimestamp());
  await refused(authority, 'registerDoctor', [10n, accounts[3], A, now, now], 'InvalidValidity');
  await refused(authority, 'registerDoctor', [10n, accounts[3], A, now + 1n, now], 'InvalidValidity');
});

test('registerDoctor: an existing serial is refused, even for another doctor (CertificateExists)', async () => {
  const A = randomKey().compressedPublicKey;
  const now = BigInt(await latestTimestamp());
  // serial 1 exists (previous test): refused even for another doctor
  await refused(authority, 'registerDoctor', [1n, accounts[3], A, now, now + 1000n], 'CertificateExists', [1n]);
});

test('registerDoctor: the refusals stored nothing', async () => {
  // nothing was stored by the refusals
  assert.equal((await registry.certificateStatus(10n)).doctor, ethers.ZeroAddress);
});

test('certificateStatus: unknown serial is all zero', async () => {
  const st = await registry.certificateStatus(424242n);
  assert.deepEqual(Array.from(st), [ethers.ZeroAddress, 0n, 0n, false, 0n]);
});

test('revokeDoctor: marks revoked at the block time, emits DoctorRevoked', async () => {
  const now = BigInt(await latestTimestamp());
  await send(null, authority, 'registerDoctor', [2n, accounts[3], randomKey().compressedPublicKey, now, now + 1000n]);
  const before = await registry.certificateStatus(2n);
  const at = Number(now) + 500;
  await setNextTimestamp(at);
  const receipt = await send('revokeDoctor', authority, 'revokeDoctor', [2n]);
  const { log, parsed } = onlyEvent(receipt, 'DoctorRevoked');
  assert.equal(parsed.args.serial, 2n);
  assert.equal(parsed.args.revokedAt, BigInt(at));
  assert.equal(log.topics.length, 2);
  assert.equal((await provider.getBlock(receipt.blockNumber)).timestamp, at);
  const st = await registry.certificateStatus(2n);
  assert.deepEqual(Array.from(st), [before.doctor, before.validFrom, before.validUntil, true, BigInt(at)]);
});

test('revokeDoctor: only the authority may revoke (NotAuthority), checked before the serial', async () => {
  for (const s of [deployer, doctor, stranger]) await refused(s, 'revokeDoctor', [1n], 'NotAuthority');
  await refused(stranger, 'revokeDoctor', [999n], 'NotAuthority'); // authority first
});

test('revokeDoctor: an unknown serial is refused (UnknownCertificate)', async () => {
  await refused(authority, 'revokeDoctor', [999n], 'UnknownCertificate', [999n]);
});

test('revokeDoctor: revoking twice is refused (AlreadyRevoked)', async () => {
  await refused(authority, 'revokeDoctor', [2n], 'AlreadyRevoked', [2n]);
});

test('revokeDoctor: a revoked certificate\'s serial cannot be registered again (CertificateExists)', async () => {
  // the revoked certificate's serial cannot be registered again
  const now = BigInt(await latestTimestamp());
  await refused(authority, 'registerDoctor', [2n, accounts[3], randomKey().compressedPublicKey, now, now + 1n], 'CertificateExists', [2n]);
});

test('a refused transaction that is mined anyway reverts on chain (status 0, no event, no change)', async () => {
  // An explicit gas limit skips estimation, so the transaction reaches a block.
  // hardhat.config.js makes the node behave like a production node here: it
  // returns the hash, the receipt has status 0.
  const tx = await registry.connect(stranger).revokeDoctor(1n, { gasLimit: 100_000n });
  let receipt;
  await assert.rejects(tx.wait(), (err) => {
    assert.equal(err.code, 'CALL_EXCEPTION');
    receipt = err.receipt;
    return true;
  });
  assert.equal(receipt.status, 0);
  assert.equal(receipt.logs.length, 0);
  assert.ok(receipt.gasUsed < 100_000n);
  assert.equal((await provider.getTransactionReceipt(tx.hash)).status, 0);
  // replaying the call at the parent block gives the reason
  await rejectsWith(
    registry.connect(stranger).revokeDoctor.staticCall(1n, { blockTag: receipt.blockNumber - 1 }),
    'NotAuthority',
  );
  assert.equal((await registry.certificateStatus(1n)).revoked, false);
});

// ---------------------------------------------------------------------------
// Record anchors and deletion marks
// ---------------------------------------------------------------------------
// Certificates at this point: serials 1 and 2^64-1 of `doctor` (accounts[2],
// valid now), serial 42 (the worked example), serial 2 of `doctor2` (revoked).
// The tests below register their own certificates from serial 101 on, for
// `doctor2` and for `doctors` (accounts[10..14]).

/** Registers certificate `serial` for `signer`'s account, valid [validFrom, validUntil). */
async function certify(serial, signer, validFrom, validUntil) {
  const addr = await signer.getAddress();
  await send(null, authority, 'registerDoctor', [serial, addr, randomKey().compressedPublicKey, BigInt(validFrom), BigInt(validUntil)]);
  return addr;
}

/** A year in seconds. */
const YEAR = 365 * 86400;

test('anchorRecord: a certified doctor anchors; RecordAnchored and recordStatus carry serial and commitment', async () => {
  const eh = randomHash();
  const c = commitment(accounts[2], patientAddr, 'radiology/ct');
  const t1 = 1_700_000_000n;
  const at = (await latestTimestamp()) + 10;
  await setNextTimestamp(at);
  const receipt = await send('anchorRecord', doctor, 'anchorRecord', [eh, c, t1, SERIAL], 'three slots written');
  const { log, parsed } = onlyEvent(receipt, 'RecordAnchored');
  assert.deepEqual(parsed.args.toObject(), {
    eh,
    anchoredBy: ethers.getAddress(accounts[2]),
    serial: SERIAL,
    commitment: c,
    recordTime: t1,
    anchoredAt: BigInt(at),
  });
  assert.deepEqual(log.topics, [
    ethers.id('RecordAnchored(bytes32,address,uint64,bytes32,uint64,uint64)'),
    eh,
    ethers.zeroPadValue(accounts[2], 32),
  ]);
  // the record type is not in clear anywhere in the log
  assert.ok(!log.data.includes(ethers.hexlify(ethers.toUtf8Bytes('radiology/ct')).slice(2)));
  // tx_id = the transaction hash; eh can be read back from its receipt
  const byTxId = await provider.getTransactionReceipt(receipt.hash);
  assert.equal(eventsOf(byTxId)[0].parsed.args.eh, eh);

  const st = await registry.recordStatus(eh);
  assert.deepEqual(st.toObject(), {
    anchored: true,
    anchoredBy: ethers.getAddress(accounts[2]),
    serial: SERIAL,
    anchoredAt: BigInt(at),
    commitment: c,
    recordTime: t1,
    deleted: false,
    deletedAt: 0n,
  });
  // the positional order of the outputs is the agreed one
  assert.deepEqual(Array.from(st), [true, ethers.getAddress(accounts[2]), SERIAL, BigInt(at), c, t1, false, 0n]);

  // under his other certificate (serial 2^64-1); a zero commitment and time are stored as given
  const maxU64 = 2n ** 64n - 1n;
  const eh2 = randomHash();
  const r2 = await send('anchorRecord (zero commitment)', doctor, 'anchorRecord', [eh2, ZERO32, 0n, maxU64], 'one slot fewer written');
  assert.equal(onlyEvent(r2, 'RecordAnchored').parsed.args.serial, maxU64);
  const st2 = await registry.recordStatus(eh2);
  assert.equal(st2.serial, maxU64);
  assert.equal(st2.commitment, ZERO32);
  assert.equal(st2.recordTime, 0n);
  assert.equal(st2.anchoredBy, ethers.getAddress(accounts[2]));
});

test('anchorRecord: the zero hash is refused (InvalidHash), checked before the certificate', async () => {
  await refused(doctor, 'anchorRecord', [ZERO32, randomHash(), 1n, SERIAL], 'InvalidHash');
  await refused(stranger, 'anchorRecord', [ZERO32, randomHash(), 1n, 999n], 'InvalidHash');
});

test('anchorRecord: a stranger without a certificate cannot anchor (NotCertifiedDoctor)', async () => {
  const eh = randomHash();
  const c = commitment(accounts[4], patientAddr, 'lab');
  for (const serial of [0n, SERIAL, 2n ** 64n - 1n]) {
    await refused(stranger, 'anchorRecord', [eh, c, 1n, serial], 'NotCertifiedDoctor', [serial]);
  }
  assert.equal((await registry.recordStatus(eh)).anchored, false);
});

test('anchorRecord: whoever watches a pending anchor (the hospital server, a mempool watcher) cannot squat its eh (NotCertifiedDoctor)', async () => {
  const eh = randomHash();
  const c = commitment(accounts[2], patientAddr, 'radiology/mri');
  // The hospital server knows eh from the upload, before any anchor: it cannot take it.
  await refused(hospital, 'anchorRecord', [eh, c, 9n, SERIAL], 'NotCertifiedDoctor', [SERIAL]);

  // The doctor's anchor waits in the mempool; the watcher copies its arguments and
  // sends them first, with a higher tip. The squat is mined first and reverts.
  const tip = ethers.parseUnits('1', 'gwei');
  const fee = ethers.parseUnits('100', 'gwei');
  let txD, txH;
  await provider.send('evm_setAutomine', [false]);
  try {
    txD = await registry.connect(doctor).anchorRecord(eh, c, 9n, SERIAL, { gasLimit: 200_000n, maxPriorityFeePerGas: tip, maxFeePerGas: fee });
    const pending = await provider.send('eth_getTransactionByHash', [txD.hash]);
    assert.equal(pending.blockNumber, null);
    const seen = iface.parseTransaction({ data: pending.input });
    assert.equal(seen.name, 'anchorRecord');
    const copied = Array.from(seen.args);
    assert.deepEqual(copied, [eh, c, 9n, SERIAL]);
    await refused(hospital, 'anchorRecord', copied, 'NotCertifiedDoctor', [SERIAL]);
    txH = await registry.connect(hospital).anchorRecord(...copied, { gasLimit: 200_000n, maxPriorityFeePerGas: tip * 10n, maxFeePerGas: fee });
    await provider.send('evm_mine', []);
  } finally {
    await provider.send('evm_setAutomine', [true]);
  }
  const rH = await provider.getTransactionReceipt(txH.hash);
  const rD = await provider.getTransactionReceipt(txD.hash);
  assert.equal(rH.blockNumber, rD.blockNumber);
  assert.ok(rH.index < rD.index, 'the squat was mined first');
  assert.equal(rH.status, 0);
  assert.equal(rH.logs.length, 0);
  assert.equal(rD.status, 1);
  await rejectsWith(
    registry.connect(hospital).anchorRecord.staticCall(...[eh, c, 9n, SERIAL], { blockTag: rH.blockNumber - 1 }),
    'NotCertifiedDoctor',
    [SERIAL],
  );
  const st = await registry.recordStatus(eh);
  assert.equal(st.anchoredBy, ethers.getAddress(accounts[2]));
  assert.equal(st.serial, SERIAL);
});

test('anchorRecord: a doctor cannot anchor under another doctor\'s certificate (NotCertifiedDoctor)', async () => {
  const now = await latestTimestamp();
  await certify(101n, doctor2, now, now + YEAR); // doctor2's own, valid certificate
  const eh = randomHash();
  const c = commitment(accounts[3], patientAddr, 'lab');
  await refused(doctor2, 'anchorRecord', [eh, c, 1n, SERIAL], 'NotCertifiedDoctor', [SERIAL]);
  await refused(doctor, 'anchorRecord', [eh, c, 1n, 101n], 'NotCertifiedDoctor', [101n]);
  assert.equal((await registry.recordStatus(eh)).anchored, false);
  // under his own serial he can
  await send(null, doctor2, 'anchorRecord', [eh, c, 1n, 101n]);
  assert.equal((await registry.recordStatus(eh)).serial, 101n);
});

test('anchorRecord: a revoked doctor cannot anchor (NotCertifiedDoctor)', async () => {
  const now = await latestTimestamp();
  const d = doctors[0];
  const addr = await certify(102n, d, now, now + YEAR);
  await send(null, d, 'anchorRecord', [randomHash(), commitment(addr, patientAddr, 'x'), 1n, 102n]);
  await send(null, authority, 'revokeDoctor', [102n]);
  const eh = randomHash();
  await refused(d, 'anchorRecord', [eh, commitment(addr, patientAddr, 'x'), 2n, 102n], 'NotCertifiedDoctor', [102n]);
  assert.equal((await registry.recordStatus(eh)).anchored, false);
  // also doctor2's revoked serial 2 (registered and revoked above)
  await refused(doctor2, 'anchorRecord', [eh, ZERO32, 2n, 2n], 'NotCertifiedDoctor', [2n]);
});

test('anchorRecord: before validFrom a doctor cannot anchor (NotCertifiedDoctor); from validFrom on he can', async () => {
  const d = doctors[1];
  const now = await latestTimestamp();
  // a certificate that starts far in the future
  const addr = await certify(103n, d, now + 10 * YEAR, now + 11 * YEAR);
  const eh = randomHash();
  const c = commitment(addr, patientAddr, 'x');
  await refused(d, 'anchorRecord', [eh, c, 1n, 103n], 'NotCertifiedDoctor', [103n]);
  // a certificate that starts soon: refused up to validFrom - 1 (eth_call sees the
  // latest block's time, eth_estimateGas the next block's)
  const validFrom = now + 1000;
  await certify(104n, d, validFrom, validFrom + 1000);
  await provider.send('evm_mine', [validFrom - 2]);
  await refused(d, 'anchorRecord', [eh, c, 1n, 104n], 'NotCertifiedDoctor', [104n]);
  // in the block at validFrom exactly, accepted
  await setNextTimestamp(validFrom);
  const receipt = await send(null, d, 'anchorRecord', [eh, c, 1n, 104n]);
  assert.equal((await provider.getBlock(receipt.blockNumber)).timestamp, validFrom);
  assert.equal((await registry.recordStatus(eh)).anchoredAt, BigInt(validFrom));
});

test('anchorRecord: at or after validUntil a doctor cannot anchor (NotCertifiedDoctor); just before he can', async () => {
  const d = doctors[2];
  const now = await latestTimestamp();
  // a certificate whose period is over
  const addr = await certify(105n, d, 1n, now - 1);
  const c = commitment(addr, patientAddr, 'x');
  await refused(d, 'anchorRecord', [randomHash(), c, 1n, 105n], 'NotCertifiedDoctor', [105n]);
  // a certificate that ends soon: accepted in the block at validUntil - 1 ...
  const validUntil = now + 1000;
  await certify(106n, d, now, validUntil);
  await setNextTimestamp(validUntil - 1);
  const eh1 = randomHash();
  await send(null, d, 'anchorRecord', [eh1, c, 1n, 106n]);
  assert.equal((await registry.recordStatus(eh1)).anchoredAt, BigInt(validUntil - 1));
  // ... refused from the block at validUntil on
  await provider.send('evm_mine', [validUntil]);
  const eh2 = randomHash();
  await refused(d, 'anchorRecord', [eh2, c, 1n, 106n], 'NotCertifiedDoctor', [106n]);
  assert.equal((await registry.recordStatus(eh2)).anchored, false);
});

test('anchorRecord: the authority cannot anchor (NotCertifiedDoctor)', async () => {
  const eh = randomHash();
  for (const serial of [SERIAL, 0n, 777n]) {
    await refused(authority, 'anchorRecord', [eh, randomHash(), 1n, serial], 'NotCertifiedDoctor', [serial]);
  }
  assert.equal((await registry.recordStatus(eh)).anchored, false);
});

test('anchorRecord: an unknown serial is refused, even to a certified doctor (NotCertifiedDoctor)', async () => {
  assert.equal((await registry.certificateStatus(424242n)).doctor, ethers.ZeroAddress);
  const eh = randomHash();
  await refused(doctor, 'anchorRecord', [eh, randomHash(), 1n, 424242n], 'NotCertifiedDoctor', [424242n]);
  await refused(doctor, 'anchorRecord', [eh, randomHash(), 1n, 0n], 'NotCertifiedDoctor', [0n]);
});

test('anchorRecord: a hash anchored once cannot be anchored again (AlreadyAnchored), checked after the certificate; the first anchor stays', async () => {
  const eh = randomHash();
  const c = commitment(accounts[2], patientAddr, 'lab');
  await send(null, doctor, 'anchorRecord', [eh, c, 5n, SERIAL]);
  await refused(doctor, 'anchorRecord', [eh, c, 5n, SERIAL], 'AlreadyAnchored', [eh]);
  await refused(doctor, 'anchorRecord', [eh, randomHash(), 6n, 2n ** 64n - 1n], 'AlreadyAnchored', [eh]);
  await refused(doctor2, 'anchorRecord', [eh, randomHash(), 6n, 101n], 'AlreadyAnchored', [eh]);
  // the certificate is checked first: the uncertified learn nothing more
  await refused(stranger, 'anchorRecord', [eh, c, 5n, SERIAL], 'NotCertifiedDoctor', [SERIAL]);
  await refused(authority, 'anchorRecord', [eh, c, 5n, SERIAL], 'NotCertifiedDoctor', [SERIAL]);
  // the zero hash before everything
  await refused(stranger, 'anchorRecord', [ZERO32, c, 5n, SERIAL], 'InvalidHash');
  const st = await registry.recordStatus(eh);
  assert.equal(st.commitment, c);
  assert.equal(st.recordTime, 5n);
  assert.equal(st.serial, SERIAL);
});

test('recordStatus: unknown hash is all zero', async () => {
  const st = await registry.recordStatus(randomHash());
  assert.deepEqual(Array.from(st), [false, ethers.ZeroAddress, 0n, 0n, ZERO32, 0n, false, 0n]);
  assert.equal((await registry.recordStatus(ZERO32)).anchored, false);
});

test('markDeleted: by the anchoring account, tombstone keeps the anchor readable', async () => {
  const eh = randomHash();
  const c = commitment(accounts[2], patientAddr, 'note');
  const r1 = await send(null, doctor, 'anchorRecord', [eh, c, 77n, SERIAL]);
  const anchoredAt = BigInt((await provider.getBlock(r1.blockNumber)).timestamp);
  const at = (await latestTimestamp()) + 86400;
  await setNextTimestamp(at);
  const receipt = await send('markDeleted (by anchorer)', doctor, 'markDeleted', [eh], 'one slot rewritten');
  const { log, parsed } = onlyEvent(receipt, 'RecordDeleted');
  assert.deepEqual(parsed.args.toObject(), { eh, deletedBy: ethers.getAddress(accounts[2]), deletedAt: BigInt(at) });
  assert.equal(log.topics[1], eh);
  assert.equal(log.topics[2], ethers.zeroPadValue(accounts[2], 32));
  assert.deepEqual(Array.from(await registry.recordStatus(eh)), [
    true,
    ethers.getAddress(accounts[2]),
    SERIAL,
    anchoredAt,
    c,
    77n,
    true,
    BigInt(at),
  ]);
  // a deleted hash stays taken: it cannot be anchored again
  await refused(doctor, 'anchorRecord', [eh, c, 78n, SERIAL], 'AlreadyAnchored', [eh]);
});

test('markDeleted: by the authority, for a record anchored by someone else', async () => {
  const eh = randomHash();
  await send(null, doctor2, 'anchorRecord', [eh, commitment(accounts[3], patientAddr, 'scan'), 1n, 101n]);
  const receipt = await send('markDeleted (by authority)', authority, 'markDeleted', [eh]);
  const { parsed } = onlyEvent(receipt, 'RecordDeleted');
  assert.equal(parsed.args.deletedBy, ethers.getAddress(accounts[1]));
  const st = await registry.recordStatus(eh);
  assert.equal(st.deleted, true);
  assert.equal(st.anchoredBy, ethers.getAddress(accounts[3]));
  assert.equal(st.serial, 101n);
});

test('markDeleted: a doctor revoked after anchoring may still mark his own record deleted; a stranger still may not (NotAnchorOwner)', async () => {
  const d = doctors[3];
  const now = await latestTimestamp();
  const addr = await certify(107n, d, now, now + YEAR);
  const eh = randomHash();
  const c = commitment(addr, patientAddr, 'note');
  await send(null, d, 'anchorRecord', [eh, c, 3n, 107n]);
  await send(null, authority, 'revokeDoctor', [107n]);
  assert.equal((await registry.certificateStatus(107n)).revoked, true);
  // no new anchors ...
  await refused(d, 'anchorRecord', [randomHash(), c, 4n, 107n], 'NotCertifiedDoctor', [107n]);
  // ... and still nobody else's right to delete his records
  for (const s of [stranger, hospital, doctor]) await refused(s, 'markDeleted', [eh], 'NotAnchorOwner', [eh]);
  // but his own earlier record he may still tombstone
  const receipt = await send('markDeleted (by revoked anchorer)', d, 'markDeleted', [eh]);
  assert.equal(onlyEvent(receipt, 'RecordDeleted').parsed.args.deletedBy, addr);
  const st = await registry.recordStatus(eh);
  assert.equal(st.deleted, true);
  assert.equal(st.anchoredBy, addr);
  assert.equal(st.serial, 107n);
});

test('markDeleted: a hash never anchored is refused, even to the authority (NotAnchored)', async () => {
  await refused(doctor, 'markDeleted', [ZERO32], 'NotAnchored', [ZERO32]);
  const unknown = randomHash();
  await refused(authority, 'markDeleted', [unknown], 'NotAnchored', [unknown]);
});

test('markDeleted: someone else\'s record (NotAnchorOwner), deleting twice (AlreadyDeleted), ownership checked first', async () => {
  const eh = randomHash();
  await send(null, doctor, 'anchorRecord', [eh, commitment(accounts[2], patientAddr, 'x'), 1n, SERIAL]);
  // another doctor, a stranger, the hospital and the deployer may not delete it
  for (const s of [doctor2, stranger, hospital, deployer]) await refused(s, 'markDeleted', [eh], 'NotAnchorOwner', [eh]);
  await send(null, doctor, 'markDeleted', [eh]);
  await refused(doctor, 'markDeleted', [eh], 'AlreadyDeleted', [eh]);
  await refused(authority, 'markDeleted', [eh], 'AlreadyDeleted', [eh]);
  // ownership is checked before the deletion state
  await refused(stranger, 'markDeleted', [eh], 'NotAnchorOwner', [eh]);
});

test('markDeletedByPatient: the patient opens the commitment from her own account and tombstones her record', async () => {
  const patient = stranger, patientAddress = await stranger.getAddress();
  const eh = randomHash();
  const salt = ethers.randomBytes(32);
  await send(null, doctor, 'anchorRecord', [eh, commitment(accounts[2], patientAddress, 'radiology', salt), 1n, SERIAL]);
  const receipt = await send('markDeletedByPatient', patient, 'markDeletedByPatient', [eh, salt, 'radiology']);
  const { parsed } = onlyEvent(receipt, 'RecordDeleted');
  assert.equal(parsed.args.eh, eh);
  assert.equal(parsed.args.deletedBy, patientAddress);
  const st = await registry.recordStatus(eh);
  assert.equal(st.deleted, true);
  assert.equal(st.deletedAt, BigInt((await provider.getBlock(receipt.blockNumber)).timestamp));
  await refused(patient, 'markDeletedByPatient', [eh, salt, 'radiology'], 'AlreadyDeleted', [eh]);
});

test('markDeletedByPatient: anyone else, a wrong salt or type, or a type over 32 bytes is NotRecordPatient; an unknown eh NotAnchored', async () => {
  const patientAddress = await stranger.getAddress();
  const eh = randomHash();
  const salt = ethers.randomBytes(32);
  await send(null, doctor, 'anchorRecord', [eh, commitment(accounts[2], patientAddress, 'lab', salt), 1n, SERIAL]);
  // the doctor, the authority, another doctor, the hospital: the commitment does not open for them
  for (const s of [doctor, authority, doctor2, hospital]) await refused(s, 'markDeletedByPatient', [eh, salt, 'lab'], 'NotRecordPatient', [eh]);
  await refused(stranger, 'markDeletedByPatient', [eh, ethers.randomBytes(32), 'lab'], 'NotRecordPatient', [eh]);
  await refused(stranger, 'markDeletedByPatient', [eh, salt, 'Lab'], 'NotRecordPatient', [eh]);
  await refused(stranger, 'markDeletedByPatient', [eh, salt, 'x'.repeat(33)], 'NotRecordPatient', [eh]);
  const unknown = randomHash();
  await refused(stranger, 'markDeletedByPatient', [unknown, salt, 'lab'], 'NotAnchored', [unknown]);
  assert.equal((await registry.recordStatus(eh)).deleted, false);
});

// ---------------------------------------------------------------------------
// Authorisations
// ---------------------------------------------------------------------------

test('authorise: emits Authorised with seq 0, 1, …; names nobody; counts; every C1 is 609 bytes', async () => {
  const count0 = await registry.authorisationCount();
  assert.equal(count0, 0n);
  const t = makeTrans(doctorKey.compressedPublicKey, makePass());
  assert.equal(ethers.dataLength(t.c1), C1_LEN);
  const receipt = await send(`authorise (first, C1 ${C1_LEN} B)`, relayers[0], 'authorise', [t.viewTag, t.r, t.st, t.c1], 'counter 0 → 1');
  const { log, parsed } = onlyEvent(receipt, 'Authorised');
  assert.deepEqual(parsed.args.toObject(), { seq: 0n, viewTag: t.viewTag, r: t.r, st: t.st, c1: t.c1 });
  // the only topics: the event signature and seq; no address anywhere in the log
  assert.deepEqual(log.topics, [iface.getEvent('Authorised').topicHash, ethers.zeroPadValue('0x00', 32)]);
  for (const a of accounts) assert.ok(!log.data.toLowerCase().includes(a.slice(2).toLowerCase()));
  assert.equal(await registry.authorisationCount(), 1n);

  // the same doctor again: nothing shared between two Trans
  const t2 = makeTrans(doctorKey.compressedPublicKey, makePass());
  for (const f of ['r', 'st', 'c1']) assert.notEqual(t2[f], t[f]);
  // (the one-byte view tags of two grants collide with probability 1/256: not compared)
  const r2 = await send(`authorise (C1 ${C1_LEN} B)`, relayers[1], 'authorise', [t2.viewTag, t2.r, t2.st, t2.c1], 'the usual case');
  assert.equal(onlyEvent(r2, 'Authorised').parsed.args.seq, 1n);
  // any 609 bytes are accepted: the contract cannot look inside C1 (seq 2, not a pass)
  const random609 = ethers.hexlify(ethers.randomBytes(C1_LEN));
  await send(`authorise (C1 ${C1_LEN} B, random bytes)`, relayers[2], 'authorise', [t.viewTag, t.r, t.st, random609]);
  // the longest pass (255-byte hospital name, 32-byte type: 459 bytes) has the same C1 size
  const t3 = makeTrans(doctorKey.compressedPublicKey, makePass('H'.repeat(255), 1n, 'T'.repeat(32)));
  assert.equal(ethers.dataLength(t3.c1), C1_LEN);
  await send(`authorise (C1 ${C1_LEN} B)`, relayers[1], 'authorise', [t3.viewTag, t3.r, t3.st, t3.c1]);
  // an ECIES ciphertext of 512 zero bytes: opens, but is no pass (seq 4)
  const zeros = ethers.hexlify(encrypt(ethers.getBytes(doctorKey.compressedPublicKey), new Uint8Array(PASS_LEN)));
  assert.equal(ethers.dataLength(zeros), C1_LEN);
  await send(`authorise (C1 ${C1_LEN} B)`, relayers[3], 'authorise', [t.viewTag, t.r, t.st, zeros]);
  assert.equal(await registry.authorisationCount(), 5n);
});

test('authorise: bad points are refused (InvalidPoint), checked before C1', async () => {
  const good = makeTrans(doctorKey.compressedPublicKey, makePass());
  const badPoints = ['0x', good.r.slice(0, -2), good.r + '00', '0x04' + good.r.slice(4), '0x00' + good.r.slice(4), randomKey().publicKey];
  for (const p of badPoints) {
    await refused(stranger, 'authorise', [good.viewTag, p, good.st, good.c1], 'InvalidPoint');
    await refused(stranger, 'authorise', [good.viewTag, good.r, p, good.c1], 'InvalidPoint');
  }
  // points are checked before C1
  await refused(stranger, 'authorise', [good.viewTag, '0x', good.st, '0x'], 'InvalidPoint');
  assert.equal(await registry.authorisationCount(), 5n); // unchanged by refusals
});

test('authorise: C1 of 608 or 610 bytes is refused (InvalidCiphertext(608), InvalidCiphertext(610))', async () => {
  const good = makeTrans(doctorKey.compressedPublicKey, makePass());
  const A = ethers.getBytes(doctorKey.compressedPublicKey);
  // real ciphertexts of a pass one byte short or one byte long, and random bytes
  const c608 = ethers.hexlify(encrypt(A, new Uint8Array(PASS_LEN - 1)));
  const c610 = ethers.hexlify(encrypt(A, new Uint8Array(PASS_LEN + 1)));
  assert.equal(ethers.dataLength(c608), 608);
  assert.equal(ethers.dataLength(c610), 610);
  for (const c1 of [c608, ethers.dataSlice(good.c1, 0, 608), ethers.hexlify(ethers.randomBytes(608))]) {
    await refused(stranger, 'authorise', [good.viewTag, good.r, good.st, c1], 'InvalidCiphertext', [608n]);
  }
  for (const c1 of [c610, ethers.concat([good.c1, '0x00']), ethers.hexlify(ethers.randomBytes(610))]) {
    await refused(stranger, 'authorise', [good.viewTag, good.r, good.st, c1], 'InvalidCiphertext', [610n]);
  }
  assert.equal(await registry.authorisationCount(), 5n); // unchanged by refusals
});

test('authorise: the old bounds 98 and 1024 and the old unpadded sizes are refused (InvalidCiphertext)', async () => {
  const good = makeTrans(doctorKey.compressedPublicKey, makePass());
  const A = ethers.getBytes(doctorKey.compressedPublicKey);
  const old98 = ethers.hexlify(encrypt(A, new Uint8Array([7]))); // the old minimum
  assert.equal(ethers.dataLength(old98), 98);
  const old1024 = ethers.hexlify(ethers.randomBytes(1024)); // the old maximum
  // an unpadded version-1 pass of 60 bytes (the old usual C1 of 157 bytes), and others
  const old157 = ethers.hexlify(encrypt(A, ethers.getBytes(ethers.concat(['0x01', recordCtx("St Mary's Hospital", 1n), ethers.randomBytes(32)]))));
  assert.equal(ethers.dataLength(old157), 157);
  const empty = ethers.hexlify(encrypt(A, new Uint8Array(0)));
  for (const c1 of [old98, old1024, old157, empty, '0x', ethers.hexlify(ethers.randomBytes(65)), ethers.hexlify(ethers.randomBytes(2 * C1_LEN))]) {
    await refused(stranger, 'authorise', [good.viewTag, good.r, good.st, c1], 'InvalidCiphertext', [BigInt(ethers.dataLength(c1))]);
  }
  assert.equal(await registry.authorisationCount(), 5n); // unchanged by refusals
});

test('authorise: from a fresh one-time account, as a locally signed EIP-1559 transaction', async () => {
  const oneTime = ethers.Wallet.createRandom().connect(provider);
  await provider.send('hardhat_setBalance', [oneTime.address, ethers.toQuantity(ethers.parseEther('0.1'))]);
  const t = makeTrans(doctorKey.compressedPublicKey, makePass());
  const data = iface.encodeFunctionData('authorise', [t.viewTag, t.r, t.st, t.c1]);
  const signed = await oneTime.signTransaction(
    await oneTime.populateTransaction({ to: deployment.registry, data, type: 2, chainId: CHAIN_ID }),
  );
  const hash = await provider.send('eth_sendRawTransaction', [signed]);
  // Automine: the receipt exists as soon as eth_sendRawTransaction returns. (Not
  // provider.waitForTransaction: it can wait for a next block that never comes.)
  const receipt = await provider.getTransactionReceipt(hash);
  assert.equal(receipt.status, 1);
  assert.equal(ethers.Transaction.from(signed).from, oneTime.address);
  const { parsed } = onlyEvent(receipt, 'Authorised');
  assert.equal(parsed.args.seq, 5n);
  assert.equal(parsed.args.c1, t.c1);
});

test('authorise: every one of the 256 view tags is accepted and carried by the event as it was sent', async () => {
  const good = makeTrans(doctorKey.compressedPublicKey, makePass());
  const c = registry.connect(stranger);
  for (let v = 0; v < 256; v++) await c.authorise.staticCall(ethers.toBeHex(v, 1), good.r, good.st, good.c1);
  // a tag that is not this doctor's (posted as a stranger could): the event carries it unchanged,
  // and the doctor skips it although R, ST and C1 are his (the tag is checked first)
  const flipped = flipTag(good.viewTag);
  const receipt = await send(`authorise (C1 ${C1_LEN} B)`, relayers[0], 'authorise', [flipped, good.r, good.st, good.c1]);
  const { parsed } = onlyEvent(receipt, 'Authorised');
  assert.equal(parsed.args.viewTag, flipped);
  assert.equal(openTrans(doctorKey, parsed.args), null, 'a wrong view tag is no match');
  assert.notEqual(openTrans(doctorKey, { ...good }), null, 'the same Trans with its own tag is his');
  // the right tag with another ST is no match either: the tag filters, ST proves
  const other = makeTrans(doctorKey.compressedPublicKey, makePass());
  assert.equal(openTrans(doctorKey, { ...good, st: other.st }), null);
});

test('authorise: a view tag word with non-zero padding is refused by the ABI decoder (empty revert data, no custom error)', async () => {
  const good = makeTrans(doctorKey.compressedPublicKey, makePass());
  const data = iface.encodeFunctionData('authorise', [good.viewTag, good.r, good.st, good.c1]);
  // calldata: selector (4 bytes), then the bytes1 word: its byte 0 is the tag, bytes 1..31 must be zero
  assert.equal(ethers.dataSlice(data, 5, 36), ethers.zeroPadValue('0x', 31));
  const count = await registry.authorisationCount();
  for (const at of [5, 20, 35]) {
    const bytes = ethers.getBytes(data);
    bytes[at] = 0x01;
    const dirty = ethers.hexlify(bytes);
    for (const call of [
      () => provider.call({ to: deployment.registry, from: accounts[4], data: dirty }),
      () => provider.estimateGas({ to: deployment.registry, from: accounts[4], data: dirty }),
    ]) {
      await assert.rejects(call(), (err) => {
        assert.equal(err.code, 'CALL_EXCEPTION', err.shortMessage || err.message);
        assert.ok([undefined, null, '0x'].includes(revertData(err)), `revert data: ${revertData(err)}`);
        assert.equal(err.revert ?? null, null, 'no custom error');
        return true;
      });
    }
  }
  // the clean word is accepted
  await provider.call({ to: deployment.registry, from: accounts[4], data });
  assert.equal(await registry.authorisationCount(), count);
});

test('50 authorisations, found by paging eth_getLogs by block range; the doctor recognises his own', async () => {
  const startSeq = await registry.authorisationCount();
  const firstBlock = (await provider.getBlockNumber()) + 1;
  const sent = []; // { seq, r, st, c1, pass, forDoctor }
  const otherKeys = Array.from({ length: 5 }, () => randomKey());
  for (let i = 0; i < 50; i++) {
    const forDoctor = i % 5 === 2; // 10 of 50 for our doctor, the rest for five others
    const A = forDoctor ? doctorKey.compressedPublicKey : otherKeys[i % 5].compressedPublicKey;
    const pass = makePass();
    const t = makeTrans(A, pass);
    const receipt = await send(i === 0 ? null : `authorise (C1 ${C1_LEN} B)`, relayers[i % relayers.length], 'authorise', [t.viewTag, t.r, t.st, t.c1]);
    sent.push({ ...t, pass, forDoctor, seq: startSeq + BigInt(i), block: receipt.blockNumber });
    // interleave other events of the same contract: the topic filter must skip them
    if (i % 7 === 0) await send('anchorRecord', doctor, 'anchorRecord', [randomHash(), randomHash(), BigInt(i), SERIAL]);
  }
  const lastBlock = await provider.getBlockNumber();
  assert.equal(await registry.authorisationCount(), startSeq + 50n);

  // Page through [firstBlock, lastBlock] with eth_getLogs, 8 blocks at a time,
  // filtered on the contract's address and the Authorised topic.
  const topic = iface.getEvent('Authorised').topicHash;
  assert.equal(topic, ethers.id('Authorised(uint256,bytes1,bytes,bytes,bytes)'));
  const PAGE = 8;
  const found = [];
  let pages = 0;
  for (let from = firstBlock; from <= lastBlock; from += PAGE) {
    const to = Math.min(from + PAGE - 1, lastBlock);
    const logs = await provider.send('eth_getLogs', [
      { address: deployment.registry, topics: [topic], fromBlock: ethers.toQuantity(from), toBlock: ethers.toQuantity(to) },
    ]);
    pages++;
    for (const l of logs) {
      const bn = Number(BigInt(l.blockNumber));
      assert.ok(bn >= from && bn <= to, 'log outside its page');
      assert.equal(l.topics[0], topic);
      found.push({ ...iface.decodeEventLog('Authorised', l.data, l.topics).toObject(), block: bn, txHash: l.transactionHash });
    }
  }
  assert.ok(pages >= 7);
  assert.equal(found.length, 50);
  found.forEach((f, i) => {
    const s = sent[i];
    assert.equal(f.seq, s.seq, 'in seq order, no gap, no duplicate');
    assert.equal(f.viewTag, s.viewTag);
    assert.equal(f.r, s.r);
    assert.equal(f.st, s.st);
    assert.equal(f.c1, s.c1);
    assert.equal(f.block, s.block);
  });

  // The same pages through ethers' filter API give the same result.
  const viaFilter = await registry.queryFilter(registry.filters.Authorised(), firstBlock, lastBlock);
  assert.deepEqual(viaFilter.map((e) => e.args.seq), sent.map((s) => s.seq));

  // One authorisation by its sequence number (the only indexed field).
  const one = await provider.send('eth_getLogs', [
    {
      address: deployment.registry,
      topics: [topic, ethers.zeroPadValue(ethers.toBeHex(startSeq + 17n), 32)],
      fromBlock: ethers.toQuantity(deployment.block),
      toBlock: 'latest',
    },
  ]);
  assert.equal(one.length, 1);
  assert.equal(iface.decodeEventLog('Authorised', one[0].data, one[0].topics).c1, sent[17].c1);

  // The doctor scans everything since deployment and keeps what opens with his key.
  const all = await provider.send('eth_getLogs', [
    { address: deployment.registry, topics: [topic], fromBlock: ethers.toQuantity(deployment.block), toBlock: 'latest' },
  ]);
  assert.equal(BigInt(all.length), await registry.authorisationCount());
  const seqs = all.map((l) => BigInt(l.topics[1]));
  assert.deepEqual(seqs, seqs.map((_, i) => BigInt(i)));
  const mine = [];
  const unreadable = [];
  for (const l of all) {
    const ev = iface.decodeEventLog('Authorised', l.data, l.topics);
    let pass;
    try {
      pass = openTrans(doctorKey, ev);
    } catch {
      unreadable.push(ev.seq); // tagged for him, but C1 is not a pass
      continue;
    }
    if (pass !== null) mine.push({ seq: ev.seq, pass });
  }
  // Earlier tests posted to this doctor seq 0, 1, 3 (passes) and 5 (one-time
  // sender), and 2 and 4 (609 random bytes, and ECIES of 512 zero bytes: not passes).
  assert.deepEqual(unreadable, [2n, 4n]);
  assert.deepEqual(mine.filter((m) => m.seq < startSeq).map((m) => m.seq), [0n, 1n, 3n, 5n]);
  const expected = sent.filter((s) => s.forDoctor);
  const mineHere = mine.filter((m) => m.seq >= startSeq);
  assert.equal(mineHere.length, 10);
  assert.deepEqual(mineHere, expected.map((s) => ({ seq: s.seq, pass: s.pass })));
  // no other doctor's key opens the doctor's authorisations
  for (const s of expected) for (const k of otherKeys) assert.equal(openTrans(k, s), null);
});

// ---------------------------------------------------------------------------
// The hospital directory (docs/PROTOCOL.md §13.1)
// ---------------------------------------------------------------------------

test('listHospital: the authority lists, replaces and delists a record server; each change is an event and the view follows', async () => {
  const name = "St Mary's Hospital " + ethers.hexlify(ethers.randomBytes(4));
  assert.equal(await registry.hospitalEndpoint(name), '', 'a hospital never listed has no endpoint');
  let receipt = await send('listHospital (first)', authority, 'listHospital', [name, 'https://records.stmarys.example']);
  let ev = onlyEvent(receipt, 'HospitalListed');
  assert.equal(ev.log.topics[1], ethers.keccak256(ethers.toUtf8Bytes(name)), 'topic 1 is keccak256(name)');
  assert.equal(ev.parsed.args.hospital, name);
  assert.equal(ev.parsed.args.endpoint, 'https://records.stmarys.example');
  assert.equal(await registry.hospitalEndpoint(name), 'https://records.stmarys.example');
  receipt = await send('listHospital (replace)', authority, 'listHospital', [name, 'https://ehr.stmarys.example:8443']);
  assert.equal(onlyEvent(receipt, 'HospitalListed').parsed.args.endpoint, 'https://ehr.stmarys.example:8443');
  assert.equal(await registry.hospitalEndpoint(name), 'https://ehr.stmarys.example:8443');
  receipt = await send('listHospital (delist)', authority, 'listHospital', [name, '']);
  assert.equal(onlyEvent(receipt, 'HospitalListed').parsed.args.endpoint, '');
  assert.equal(await registry.hospitalEndpoint(name), '');
  assert.equal(await registry.hospitalEndpoint(name + ' '), '', 'names are exact');
});

test('listHospital: only the authority (NotAuthority for the deployer, a doctor, a stranger), checked before the input', async () => {
  for (const s of [deployer, doctor, stranger]) await refused(s, 'listHospital', ['Evil', 'https://evil.example'], 'NotAuthority');
  await refused(stranger, 'listHospital', ['', 'x'.repeat(300)], 'NotAuthority');
});

test('listHospital: an empty or over-long name is InvalidHospital, an endpoint over 256 bytes InvalidEndpoint; 255 and 256 bytes pass', async () => {
  await refused(authority, 'listHospital', ['', 'https://a.example'], 'InvalidHospital');
  await refused(authority, 'listHospital', ['h'.repeat(256), 'https://a.example'], 'InvalidHospital');
  await refused(authority, 'listHospital', ['H', 'https://' + 'a'.repeat(249)], 'InvalidEndpoint');
  await send('listHospital (255-byte name, 256-byte endpoint)', authority, 'listHospital', ['h'.repeat(255), 'https://' + 'a'.repeat(248)]);
  assert.equal((await registry.hospitalEndpoint('h'.repeat(255))).length, 256);
});
