// The named failure-mode vectors (tests/vectors/failures.json, shared with
// the native and wasm-bindgen runs) through the npm package, both as
// push/finish and as a WHATWG TransformStream: each case answers its exact
// `code` (or "ok").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, unhex, loadPackage } from '../support/helpers.mjs';

const ehr = loadPackage();
const file = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests', 'vectors', 'failures.json'), 'utf8'));
const bytes = (v, name) => (v[name] === undefined ? undefined : unhex(v[name]));

function decryptor(c, engine) {
  return new ehr.RecordDecryptor(bytes(c, 'key') ?? unhex(file.key), bytes(c, 'associatedData') ?? unhex(file.associatedData),
    { segmentSize: file.segmentSize, expectedHash: bytes(c, 'expectedHash'), engine });
}

function outcome(run) {
  try {
    run();
    return 'ok';
  } catch (e) {
    assert.equal(e.name, 'EhrchainError', `a typed error, not ${e}`);
    return e.code;
  }
}

test('the vectors cover at least 14 failure modes', () => {
  assert.ok(file.cases.length >= 14);
});

for (const c of file.cases) {
  test(`push/finish, ${c.name}: ${c.expect}`, () => {
    const ct = unhex(c.ciphertext);
    const dec = decryptor(c);
    const got = outcome(() => {
      const out = [];
      for (let i = 0; i < ct.length; i += 7) out.push(dec.push(ct.subarray(i, i + 7)));
      out.push(dec.finish());
      if (c.expect === 'ok') assert.deepEqual(Buffer.concat(out), Buffer.from(unhex(file.plaintext)));
    });
    assert.equal(got, c.expect);
  });

  // Both engines of transform(): WebCrypto (Node has it) and the wasm one.
  for (const engine of ['webcrypto', 'wasm']) {
    test(`TransformStream (${engine}), ${c.name}: ${c.expect}`, async () => {
      const ct = unhex(c.ciphertext);
      const source = new ReadableStream({
        start(controller) {
          for (let i = 0; i < ct.length; i += 7) controller.enqueue(ct.slice(i, i + 7));
          controller.close();
        },
      });
      let got = 'ok';
      try {
        const reader = source.pipeThrough(decryptor(c, engine).transform()).getReader();
        for (;;) if ((await reader.read()).done) break;
      } catch (e) {
        assert.equal(e.name, 'EhrchainError', `a typed error, not ${e}`);
        got = e.code;
      }
      assert.equal(got, c.expect);
    });
  }
}

// The grant failure-mode vectors (tests/vectors/grant_failures.json): the
// doctor's client opens each Trans and confirms it against the registry's
// answers for the record's anchor; each case answers its exact `code`.
const grants = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests', 'vectors', 'grant_failures.json'), 'utf8'));

test('the grant vectors cover at least 15 failure modes', () => {
  assert.ok(grants.cases.length >= 15);
});

for (const c of grants.cases) {
  test(`grant, ${c.name}: ${c.expect}`, () => {
    const protocol = ehr.Key.fromBytes(unhex(grants.protocolSecret));
    const scanner = new ehr.Scanner(protocol);
    const got = outcome(() => {
      const opened = scanner.open({ viewTag: c.viewTag, r: unhex(c.r), st: unhex(c.st), c1: unhex(c.c1) });
      try {
        ehr.confirmGrant(opened, { recordStatus: c.recordStatus, certificateStatus: c.certificateStatus });
        assert.equal(opened.patient, grants.patient);
      } finally {
        opened.free();
      }
    });
    scanner.free();
    protocol.free();
    assert.equal(got, c.expect);
  });
}

// The access-request failure-mode vectors (tests/vectors/request_failures.json)
// through verifyAccessRequest, as a server built on the package verifies.
const requests = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests', 'vectors', 'request_failures.json'), 'utf8'));

test('the request vectors cover at least 17 failure modes', () => {
  assert.ok(requests.cases.length >= 17);
});

for (const c of requests.cases) {
  test(`request, ${c.name}: ${c.expect}`, () => {
    const got = outcome(() =>
      ehr.verifyAccessRequest(c.request, {
        authority: requests.authority, hospital: requests.hospital, now: requests.now, maxTtl: requests.maxTtl,
        certificateStatus: c.certificateStatus,
      }));
    assert.equal(got, c.expect);
  });
}
