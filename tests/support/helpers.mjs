// The helpers every JS test suite shares (tests/js, tests/contract,
// tests/server): byte/hex conversions, the strict assertion of the package's
// typed errors, and re-exports of the local-chain facts in chain/rpc.mjs
// (which benchmarks import directly: they never import from tests/).
//
//   import { hex, h0x, unhex, throwsCode, rejectsCode, loadPackage } from '../support/helpers.mjs';
//
// The package (pkg/node) is loaded on demand by loadPackage(), so that a suite
// that does not need it (the contract's) runs without pkg/ built.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export { CHAIN_ID, HARDHAT_KEYS, HARDHAT_MNEMONIC, jsonRpc, qty, receiptOf, fees, nonceOf, blockTimestamp, getLogsPaged } from '../../chain/rpc.mjs';

/** The repository's root directory. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const require = createRequire(import.meta.url);

/** The npm package's Node.js build (pkg/node/ehrchain.js; build it with scripts/build-pkg.sh). */
export function loadPackage() {
  return require(path.join(ROOT, 'pkg', 'node', 'ehrchain.js'));
}

/** Lower-case hex of bytes, without 0x. */
export const hex = (b) => Buffer.from(b).toString('hex');
/** Lower-case hex of bytes, with 0x. */
export const h0x = (b) => '0x' + hex(b);
/** Bytes (a Uint8Array) of hex, with or without 0x. Throws on anything that is not whole-byte hex. */
export function unhex(h) {
  const s = h.replace(/^0x/, '');
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new Error(`not hex: ${h}`);
  return new Uint8Array(Buffer.from(s, 'hex'));
}
/** The hex length in bytes of a 0x string. */
export const hexLen = (h) => (h.length - 2) / 2;
/** SHA-256 by node:crypto (independent of the package), as a Uint8Array. */
export const sha256 = (b) => new Uint8Array(crypto.createHash('sha256').update(b).digest());
/** The concatenation of byte arrays, as a Uint8Array. */
export const concat = (parts) => new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p))));
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Unix time now, in seconds. */
export const nowSecs = () => Math.floor(Date.now() / 1000);

/** Asserts that `err` is the package's typed error with exactly `code`. */
export function assertEhrchainError(err, code, msg) {
  const where = msg ? `${msg}: ` : '';
  assert.ok(err instanceof Error, `${where}not an Error: ${err}`);
  assert.equal(err.name, 'EhrchainError', `${where}name of ${err} (code ${err.code})`);
  assert.equal(err.code, code, `${where}code ${err.code}, expected ${code} (message: ${err.message})`);
  assert.equal(typeof err.message, 'string');
  assert.ok(err.message.length > 0, `${where}empty message`);
}

/**
 * Asserts that `fn()` throws the package's EhrchainError with exactly `code`;
 * fails if nothing is thrown, if something else is thrown, or if the code differs.
 */
export function throwsCode(fn, code, msg) {
  assert.equal(typeof code, 'string', 'throwsCode: one expected code');
  let threw = false;
  try {
    fn();
  } catch (err) {
    threw = true;
    assertEhrchainError(err, code, msg);
  }
  assert.ok(threw, `${msg ? `${msg}: ` : ''}nothing thrown, expected EhrchainError ${code}`);
}

/** The async variant: `promise` (or `fn()`'s promise) rejects with EhrchainError `code`. */
export async function rejectsCode(promise, code, msg) {
  assert.equal(typeof code, 'string', 'rejectsCode: one expected code');
  const p = typeof promise === 'function' ? promise() : promise;
  let rejected = false;
  try {
    await p;
  } catch (err) {
    rejected = true;
    assertEhrchainError(err, code, msg);
  }
  assert.ok(rejected, `${msg ? `${msg}: ` : ''}resolved, expected a rejection with EhrchainError ${code}`);
}

/**
 * Asserts that `fn()` throws an error of ethers.js with exactly `code` (ethers'
 * own codes, e.g. 'INVALID_ARGUMENT'); fails if nothing is thrown.
 */
export function throwsEthersCode(fn, code, msg) {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof Error, `${msg ?? ''}: not an Error: ${err}`);
    assert.equal(err.code, code, `${msg ?? ''}: ethers code ${err.code}, expected ${code} (message: ${err.message})`);
    return true;
  }, msg);
}
