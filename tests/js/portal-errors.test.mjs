// The portal's promise that every failure has a plain sentence and a next
// step (issue #13 item 5): www/src/errors.ts, compiled as it is, explains
// every code the package can raise (errorCodes()), every code the record
// server answers (server/README.md's refusal table), every custom error of
// the registry contract (its ABI) and every EIP-1193 wallet code, with a
// table entry of its own, never the generic "Something went wrong".
//
//   node --test tests/js/portal-errors.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { ROOT, loadPackage } from '../support/helpers.mjs';

const require = createRequire(import.meta.url);
const ts = require('typescript');
const { compile } = require('../../chain/compile.js');
const ehr = loadPackage();

let dir;
let portal; // the compiled www/src/errors.ts

before(async () => {
  // errors.ts imports "ehrchain": give the compiled module the package's Node build.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ehrchain-portal-errors-'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(path.join(ROOT, 'pkg'), path.join(dir, 'node_modules', 'ehrchain'), 'dir');
  const source = fs.readFileSync(path.join(ROOT, 'www', 'src', 'errors.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  });
  fs.writeFileSync(path.join(dir, 'errors.cjs'), outputText);
  portal = require(path.join(dir, 'errors.cjs'));
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The backquoted codes of server/README.md's refusal table (status | codes). */
function serverCodes() {
  const text = fs.readFileSync(path.join(ROOT, 'server', 'README.md'), 'utf8');
  const start = text.indexOf('| status | codes |');
  assert.ok(start > 0, 'server/README.md has its refusal table');
  const table = text.slice(start).split('\n\n')[0];
  const codes = [...table.matchAll(/`([A-Z][A-Za-z]+)`/g)].map((m) => m[1]);
  assert.ok(codes.length > 40, `only ${codes.length} server codes found`);
  return [...new Set(codes)];
}

/** Asserts that `err` gets an explanation of its own: a title, a next step, not the fallback. */
function explained(err, code) {
  const e = portal.explain(err);
  assert.equal(e.code, code);
  assert.notEqual(e.title, 'Something went wrong.', `${code} falls back to the generic sentence`);
  assert.ok(e.title.length > 10 && e.next.length > 5, `${code}: ${JSON.stringify(e)}`);
  return e;
}

test('every package error code (errorCodes()) has its own sentence and next step', () => {
  const codes = ehr.errorCodes();
  assert.ok(codes.length > 50, `only ${codes.length} codes`);
  for (const code of codes) explained(new ehr.EhrchainError(code, 'x'), code);
});

test('every record-server code of server/README.md has its own sentence, with the status in the details', () => {
  for (const code of serverCodes()) {
    const e = explained(Object.assign(new Error('m'), { code, status: 409 }), code);
    assert.match(e.detail, /answered 409/);
  }
});

test('every custom error of the registry contract has its own sentence', () => {
  const abi = compile({ write: false }).EhrRegistry.abi;
  const errors = abi.filter((f) => f.type === 'error').map((f) => f.name);
  assert.ok(errors.length >= 18, `only ${errors.length} errors`);
  for (const name of errors) {
    const err = new ehr.EhrchainError('Reverted', `reverted: ${name}()`, { name, signature: `${name}()`, args: [] });
    explained(err, name);
  }
});

test('EIP-1193 wallet codes (4001, -32002, 4100, 4200, 4900, 4901, 4902) have their own sentences', () => {
  for (const [code, expected] of [[4001, 'declined'], [-32002, 'already'], [4100, 'allowed'], [4200, 'support'], [4900, 'disconnected'], [4901, 'network'], [4902, 'network']]) {
    const e = explained({ code, message: 'wallet says no' }, String(code));
    assert.match(e.title, new RegExp(expected, 'i'), `${code}: ${e.title}`);
  }
});

test('a network failure, an abort and an unknown error each say what to do', () => {
  assert.equal(portal.explain(new TypeError('Failed to fetch')).code, 'NetworkError');
  assert.equal(portal.explain(new DOMException('stop', 'AbortError')).code, 'Aborted');
  const unknown = portal.explain(new Error('weird'));
  assert.equal(unknown.code, 'Unknown');
  assert.ok(unknown.next.length > 5);
});

test('explanations never carry the error object into the title (secrets stay in details only as the message)', () => {
  const e = portal.explain(new ehr.EhrchainError('SegmentTampered', 'segment 3 was tampered with'));
  assert.ok(!e.title.includes('segment 3'));
  assert.equal(e.detail, 'segment 3 was tampered with');
  void pathToFileURL;
});
