// The hospital record server (server/, issue #4) as a real process over HTTP on
// loopback, against a throw-away Hardhat chain with the registry deployed by
// the CLI. Records, certificates, masks and signed requests are made with the
// CLI (target/release/ehrchain) and the npm package (pkg/node).
//
// The same tests run against both of the server's configurations
// (deployment.mjs): this file alone, the embedded one (SQLite and files, one
// process); server-scaled.test.mjs runs it with EHR_SERVER_CONFIG=scaled
// (PostgreSQL and S3, two instances behind a round-robin proxy).
//
//   node --test tests/server/
//   EHR_SERVER_CONFIG=scaled node --test tests/server/server.test.mjs
//
// Needs (built beforehand, see server/README.md):
//   bash scripts/build-bins.sh   (target/release/ehrchain and ehrchain-server)
//   node chain/compile.js
//   [ -d pkg ] || bash scripts/build-pkg.sh
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startChain } from '../../chain/testchain.mjs';
import { HARDHAT_KEYS, hex, h0x, unhex, sha256, sleep, nowSecs, jsonRpc, throwsCode } from '../support/helpers.mjs';
import {
  ehr, checkPrerequisites, cli, chainCli,
  deployRegistry, request, cutUpload, cutDownload, uploadRecord, tempDir, FILING, FILING_SECRET,
} from './helpers.mjs';
import { HOSPITAL, AUTHORITY_KEY, ANCHOR_KEY, STRANGER_KEY, MiB, fixtures } from './fixtures.mjs';
import { openBackend, META_TABLES } from './deployment.mjs';

/** Which configuration of the server these tests run against (deployment.mjs). */
const CONFIG = process.env.EHR_SERVER_CONFIG ?? 'embedded';

/** Shared state, filled in by before(). */
const S = { dirs: [], serials: CONFIG === 'embedded' ? 100 : 300 };

// ------------------------------------------------------------------ fixtures

/** A hospital's record service with storage of its own (and `extra` settings). */
function launch(extra = {}, opts = {}) {
  return S.backend.launch(serverEnv(extra), opts);
}

function serverEnv(extra = {}) {
  return {
    EHR_RPC_URL: S.chain.rpcUrl,
    EHR_REGISTRY: S.registry,
    EHR_AUTHORITY: S.authority,
    EHR_HOSPITAL: HOSPITAL,
    EHR_RATE_LIMIT_PER_SEC: '0',
    EHR_MIN_PART_SIZE: String(64 << 10),
    EHR_ALLOWED_ORIGINS: 'https://portal.example',
    EHR_OPEN_UPLOADS: 'true',
    ...extra,
  };
}

function newDir(prefix) {
  const d = tempDir(prefix);
  S.dirs.push(d);
  return d;
}

const { makeDoctor, smallRecord, anchorAndFile, anchorAnswers, publish, signed, signedUnchecked, access, refused, crashMidUploadAndCompletion, completeOnceFree } = fixtures(S);

// ------------------------------------------------------------------ set-up

before(async () => {
  checkPrerequisites();
  [S.chain, S.backend] = await Promise.all([startChain(), openBackend(CONFIG)]);
  const d = await deployRegistry(S.chain.rpcUrl, AUTHORITY_KEY);
  S.registry = d.registry;
  S.authority = d.authority;
  S.c = chainCli(S.chain.rpcUrl, S.registry);
  S.rpc = jsonRpc(S.chain.rpcUrl);
  S.authorityKey = ehr.Key.fromBytes(unhex(AUTHORITY_KEY));
  S.anchorer = await makeDoctor({ account: ehr.Key.fromBytes(unhex(ANCHOR_KEY)) });
  S.patient = ehr.Key.generate();
  S.server = await launch();
  S.base = S.server.url;
  S.doctor = await makeDoctor();
});

after(async () => {
  await S.server?.stop();
  await S.chain?.stop();
  await S.backend?.close();
  for (const d of S.dirs) fs.rmSync(d, { recursive: true, force: true });
});

// ------------------------------------------------------------------ tests

test('healthz reports the database and the chain', async () => {
  const r = await request('GET', `${S.base}/healthz`);
  assert.equal(r.status, 200);
  assert.equal(r.json.status, 'ok');
  assert.equal(r.json.db, 'ok');
  assert.equal(r.json.chain, 'ok');
  assert.ok(r.headers['x-request-id']);
});

test('full flow: 64 MiB upload → index → access → download → verify → decrypt', async () => {
  const dir = newDir('ehr-full-');
  const plain = path.join(dir, 'plain');
  const fd = fs.openSync(plain, 'w');
  for (let i = 0; i < 64; i++) fs.writeSync(fd, crypto.randomBytes(MiB));
  fs.closeSync(fd);
  const time = nowSecs();
  const recordKey = ehr.generateRecordKey();
  const aad = ehr.recordAssociatedData({ hospital: HOSPITAL, time });
  const ctFile = path.join(dir, 'ct');
  const enc = await cli(['encrypt', '--key', hex(recordKey), '--aad', hex(aad), '-i', plain, '-o', ctFile]);
  const eh = '0x' + enc.stderr.trim().split('\n').pop().trim();
  const ct = fs.readFileSync(ctFile);
  assert.equal(h0x(sha256(ct)), eh);

  // Doctor: upload in 8 MiB parts, in scrambled order, two at a time.
  const up = await uploadRecord(S.base, ct, { partSize: 8 * MiB, parallel: 2, eh });
  assert.equal(up.parts, Math.ceil(ct.length / (8 * MiB)));
  assert.equal(up.complete.status, 200, String(up.complete.body));
  assert.deepEqual(up.complete.json, { uploadId: up.uploadId, eh, size: ct.length, state: 'complete' });
  const st = await request('GET', `${S.base}/v1/uploads/${up.uploadId}`);
  assert.equal(st.json.state, 'complete');
  // …then anchors R1 = {T1, commitment, eh}; the patient files {X, Z, K}.
  const rec = { recordKey, time, ct, eh };
  const filed = await anchorAndFile(S.base, rec);
  const again = await request('POST', `${S.base}/v1/index`, { body: { filingSecret: FILING_SECRET, x: h0x(filed.x), z: h0x(filed.z), k: h0x(filed.k), eh } });
  assert.equal(again.status, 200, 'filing the identical entry again is an idempotent retry');

  // Patient grants the doctor (Trans = (R, ST, C1)), signing the pass; the
  // doctor finds and opens it, and checks it against the record's anchor.
  const record = { hospital: HOSPITAL, time, eh: unhex(eh), anchorSalt: filed.anchorSalt, recordType: 'scan' };
  const grant = filed.maskKey.authorise(S.doctor.protocol.publicKey(), record, S.patient);
  const scanner = new ehr.Scanner(S.doctor.protocol);
  assert.ok(scanner.matches(grant));
  const pass = scanner.open(grant);
  const answers = await anchorAnswers(eh);
  const anchor = ehr.confirmGrant(pass, answers);
  assert.equal(pass.patient, S.patient.address, 'the pass names the patient who signed it');
  assert.equal(anchor.doctor, S.anchorer.account.address, 'anchored by the certified doctor');
  const w = pass.maskKey.index(pass);
  assert.equal(hex(w), hex(filed.x));

  // Doctor: signed access request → {z, k, eh, size, download}.
  const res = await access(S.base, signed(S.doctor, w));
  assert.equal(res.status, 200, String(res.body));
  assert.equal(res.json.eh, eh);
  assert.equal(res.json.size, ct.length);
  assert.match(res.json.download, /^\/v1\/records\/0x[0-9a-f]{64}\?token=[0-9a-f]{64}$/);
  const un = pass.maskKey.unmask({ hospital: HOSPITAL, time }, { z: unhex(res.json.z), k: unhex(res.json.k) });
  assert.equal(h0x(un.txId), filed.txId);
  assert.equal(hex(un.recordKey), hex(recordKey));
  assert.equal(await S.c.ehOf(h0x(un.txId)), eh, 'eh read from the anchoring transaction on chain');

  const dl = await request('GET', S.base + res.json.download);
  assert.equal(dl.status, 200);
  assert.equal(Number(dl.headers['content-length']), ct.length);
  assert.equal(dl.headers['accept-ranges'], 'bytes');
  assert.equal(dl.headers.etag, `"${eh.slice(2)}"`);
  assert.equal(h0x(sha256(dl.body)), eh, 'SHA-256(CHR) = eh');
  const dlFile = path.join(dir, 'dl');
  fs.writeFileSync(dlFile, dl.body);
  const out = path.join(dir, 'out');
  await cli(['decrypt', '--key', hex(un.recordKey), '--aad', hex(aad), '--expect-hash', eh, '-i', dlFile, '-o', out]);
  assert.deepEqual(sha256(fs.readFileSync(out)), sha256(fs.readFileSync(plain)), 'decrypts to the original record');
  S.full = { ...rec, ...filed, aad, download: res.json.download, token: res.json.download.split('token=')[1], ctFile };
  fs.rmSync(plain);
  fs.rmSync(out);
  fs.rmSync(dlFile);
});

test('a download cut mid-way resumes with Range (206, Content-Range)', async () => {
  assert.ok(S.full, 'needs the full-flow record');
  const url = S.base + S.full.download;
  const total = S.full.ct.length;
  const first = await cutDownload(url, 5 * MiB + 123);
  assert.equal(first.status, 200);
  assert.equal(first.body.length, 5 * MiB + 123);
  const rest = await request('GET', url, { headers: { range: `bytes=${first.body.length}-`, 'if-range': `"${S.full.eh.slice(2)}"` } });
  assert.equal(rest.status, 206);
  assert.equal(rest.headers['content-range'], `bytes ${first.body.length}-${total - 1}/${total}`);
  assert.equal(Number(rest.headers['content-length']), total - first.body.length);
  assert.equal(h0x(sha256(Buffer.concat([first.body, rest.body]))), S.full.eh, 'the resumed download is the record');

  const tail = await request('GET', url, { headers: { range: 'bytes=-16' } });
  assert.equal(tail.status, 206);
  assert.ok(tail.body.equals(S.full.ct.subarray(total - 16)));
  const mid = await request('GET', url, { headers: { range: 'bytes=1000-1999' } });
  assert.ok(mid.body.equals(S.full.ct.subarray(1000, 2000)));
  const stale = await request('GET', url, { headers: { range: 'bytes=0-9', 'if-range': '"0000"' } });
  assert.equal(stale.status, 200, 'If-Range with another validator: the whole record');
  assert.equal(stale.body.length, total);
  const beyond = await request('GET', url, { headers: { range: `bytes=${total}-` } });
  refused(beyond, 416, 'RangeNotSatisfiable', 'range past the end');
  assert.equal(beyond.headers['content-range'], `bytes */${total}`);
});

test('an upload whose connection is cut mid-part resumes: only acknowledged parts are held', async () => {
  const rec = smallRecord(3 * MiB - 1000);
  const partSize = MiB;
  const created = await request('POST', `${S.base}/v1/uploads`, { body: { filing: FILING, eh: rec.eh, size: rec.ct.length, partSize } });
  assert.equal(created.status, 201);
  const { uploadId, parts } = created.json;
  assert.equal(parts, 3);
  const part = (n) => rec.ct.subarray(n * partSize, Math.min(rec.ct.length, (n + 1) * partSize));
  const put = (n, body = part(n)) => request('PUT', `${S.base}/v1/uploads/${uploadId}/parts/${n}`, { body });
  assert.equal((await put(0)).status, 200);
  await cutUpload(`${S.base}/v1/uploads/${uploadId}/parts/1`, part(1), 300 * 1024);
  await sleep(300);
  let st = await request('GET', `${S.base}/v1/uploads/${uploadId}`);
  assert.deepEqual(st.json.received, [0]);
  assert.deepEqual(st.json.missing, [1, 2]);
  assert.equal(st.json.state, 'open');
  assert.deepEqual(S.server.temporaries(), [], 'the cut part left nothing aside');
  refused(await request('POST', `${S.base}/v1/uploads/${uploadId}/complete`), 409, 'UploadIncomplete', 'complete with parts missing');
  assert.equal((await put(1)).status, 200);
  assert.equal((await put(2)).status, 200);
  assert.equal((await put(0)).status, 200, 're-sending an acknowledged part is idempotent');
  st = await request('GET', `${S.base}/v1/uploads/${uploadId}`);
  assert.deepEqual(st.json.received, [0, 1, 2]);
  const done = await request('POST', `${S.base}/v1/uploads/${uploadId}/complete`);
  assert.equal(done.status, 200, String(done.body));
  const again = await request('POST', `${S.base}/v1/uploads/${uploadId}/complete`);
  assert.equal(again.status, 200, 'complete is idempotent');
  refused(await put(0), 409, 'UploadCompleted', 'a part after completion');
  refused(await request('POST', `${S.base}/v1/uploads`, { body: { filing: FILING, eh: rec.eh, size: rec.ct.length } }), 409, 'RecordExists', 'a second upload of a stored record');
});

test('SIGKILL mid-upload and mid-completion, then restart: acknowledged parts kept, nothing half-written served', async () => {
  // The killed process's lease on B's completion lapses after 3 s. (Scaled:
  // both instances are killed, and two new ones start on the same database
  // and bucket.)
  let srv = await launch({ EHR_UPLOAD_LEASE_SECS: '3' });
  // A: parts 0 and 1 acknowledged, part 2 in flight; B: every part held, completing.
  const { a, ida, partA, b, idb } = await crashMidUploadAndCompletion(srv);

  srv = await launch({}, { storage: srv.storage });
  try {
    const recovered = srv.logs().map((l) => JSON.parse(l)).find((j) => j.message === 'storage recovered');
    assert.ok(recovered, 'the server reports its start-up recovery');
    // Files: cleaned at start. S3: the killed completion's multipart upload
    // stays (no instance can tell a dead one's from a live one's; a bucket
    // lifecycle rule aborts it), invisible to every read and listing.
    if (srv.cleansTemporariesAtStart) assert.deepEqual(srv.temporaries(), [], 'temporary files cleaned at start');
    const sa = await request('GET', `${srv.url}/v1/uploads/${ida}`);
    assert.deepEqual(sa.json.received, [0, 1], 'acknowledged parts survive SIGKILL');
    assert.deepEqual(sa.json.missing, [2, 3]);
    assert.equal(srv.recordBytes(a.eh), null, 'no record stored for an unfinished upload');
    refused(await request('POST', `${srv.url}/v1/index`, { body: { filingSecret: FILING_SECRET, x: h0x(crypto.randomBytes(32)), z: h0x(crypto.randomBytes(32)), k: h0x(crypto.randomBytes(16)), eh: a.eh } }),
      404, 'RecordNotFound', 'an unfinished record cannot be indexed');
    // B: either committed whole, or still open with every part, and completes now.
    const sb = await request('GET', `${srv.url}/v1/uploads/${idb}`);
    if (sb.json.state === 'open') {
      assert.deepEqual(sb.json.missing, []);
      assert.equal(srv.recordBytes(b.eh), null, 'an uncommitted assembly is not left in place');
      const done = await completeOnceFree(srv.url, idb);
      assert.equal(done.status, 200, String(done.body));
    }
    assert.equal(h0x(sha256(srv.recordBytes(b.eh))), b.eh, 'the stored record is whole');
    // A resumes and completes.
    for (const n of [2, 3]) assert.equal((await request('PUT', `${srv.url}/v1/uploads/${ida}/parts/${n}`, { body: partA(n) })).status, 200);
    const done = await request('POST', `${srv.url}/v1/uploads/${ida}/complete`);
    assert.equal(done.status, 200, String(done.body));
    assert.equal(h0x(sha256(srv.recordBytes(a.eh))), a.eh);
  } finally {
    await srv.stop();
  }
});

describe('every refusal has its own status and code', () => {
  let rec; // a published record
  before(async () => {
    rec = await publish(S.base);
  });

  test('a valid request is granted (control)', async () => {
    const r = await access(S.base, signed(S.doctor, rec.x));
    assert.equal(r.status, 200, String(r.body));
  });

  for (const [what, send, status, code] of [
    ['truncated JSON', () => access(S.base, '{'), 400, 'MalformedJson'],
    ['an access request of the wrong structure', () => access(S.base, '{"typedData": 1}'), 400, 'MalformedJson'],
    ['a body that is not UTF-8', () => access(S.base, '\xff\xfe'), 400, 'MalformedJson'],
    ['a JSON body over the limit', () => access(S.base, JSON.stringify({ pad: 'x'.repeat(70 * 1024) })), 413, 'PayloadTooLarge'],
    ['an upload body that is not JSON', () => request('POST', `${S.base}/v1/uploads`, { body: Buffer.from('nope'), headers: { 'content-type': 'application/json' } }), 400, 'MalformedJson'],
    ['an upload with a short eh', () => request('POST', `${S.base}/v1/uploads`, { body: { filing: FILING, eh: '0x12', size: 10 } }), 400, 'InvalidLength'],
    ['an upload of a record over the size limit', () => request('POST', `${S.base}/v1/uploads`, { body: { filing: FILING, eh: h0x(crypto.randomBytes(32)), size: 2 ** 40 } }), 413, 'RecordTooLarge'],
    ['an upload with a tiny part size', () => request('POST', `${S.base}/v1/uploads`, { body: { filing: FILING, eh: h0x(crypto.randomBytes(32)), size: 10, partSize: 1 } }), 400, 'InvalidPartSize'],
    ['an unknown route', () => request('GET', `${S.base}/v1/nothing`), 404, 'NotFound'],
    ['the wrong method', () => request('PATCH', `${S.base}/v1/access`), 405, 'MethodNotAllowed'],
  ]) {
    test(`${what}: ${status} ${code}`, async () => {
      refused(await send(), status, code, what);
    });
  }

  test('certificate: expired, not yet valid, revoked on chain, unknown on chain, mismatched', async () => {
    const expired = await makeDoctor({ validFrom: nowSecs() - 7200, validUntil: nowSecs() - 3600 });
    throwsCode(() => signed(expired, rec.x), 'CertificateExpired', 'signAccessRequest refuses an expired certificate client-side');
    refused(await access(S.base, signedUnchecked(expired, rec.x)), 403, 'CertificateExpired', 'expired certificate');
    const early = await makeDoctor({ validFrom: nowSecs() + 3600, validUntil: nowSecs() + 7200 });
    throwsCode(() => signed(early, rec.x), 'CertificateNotYetValid', 'signAccessRequest refuses a future certificate client-side');
    refused(await access(S.base, signedUnchecked(early, rec.x)), 403, 'CertificateNotYetValid', 'future certificate');
    const revoked = await makeDoctor();
    assert.equal((await access(S.base, signed(revoked, rec.x))).status, 200, 'valid before revocation');
    await S.c.revoke(revoked.serial, AUTHORITY_KEY);
    refused(await access(S.base, signed(revoked, rec.x)), 403, 'CertificateRevoked', 'revoked on chain');
    const unregistered = await makeDoctor({ register: false });
    refused(await access(S.base, signed(unregistered, rec.x)), 403, 'CertificateUnknown', 'serial unknown on chain');
    const impostor = await makeDoctor({ register: false, serial: S.doctor.serial });
    refused(await access(S.base, signed(impostor, rec.x)), 403, 'CertificateMismatch', 'serial registered to another doctor');
  });

  test('certificate: wrong authority and forged', async () => {
    const rogue = ehr.Key.generate();
    const wrong = await makeDoctor({ issuer: rogue, register: false });
    refused(await access(S.base, signed(wrong, rec.x)), 403, 'CertificateWrongAuthority', 'issued by another key');
    for (const [field, value] of [['validUntil', nowSecs() + 10 * 365 * 86400], ['serial', 999999], ['hospital', HOSPITAL]]) {
      const cert = JSON.parse(S.doctor.certJson);
      cert.typedData.message[field] = value;
      const forged = { ...S.doctor, certJson: JSON.stringify(cert) };
      refused(await access(S.base, signed(forged, rec.x)), 403, 'CertificateWrongAuthority', `forged ${field}`);
    }
    const bad = JSON.parse(S.doctor.certJson);
    bad.signature = '0x' + '11'.repeat(65);
    const req = JSON.parse(signed(S.doctor, rec.x));
    req.certificate = bad;
    refused(await access(S.base, JSON.stringify(req)), 400, 'InvalidSignature', 'garbage signature (v = 0x11)');
  });

  test('request signed by someone other than the certified doctor: 403 RequestWrongSigner', async () => {
    const td = ehr.accessRequestTypedData({ hospital: HOSPITAL, w: rec.x, now: nowSecs(), ttl: 120 });
    const other = ehr.Key.generate();
    const bySomeoneElse = ehr.assembleAccessRequest(td, other.signTypedData(td), S.doctor.certJson);
    refused(await access(S.base, bySomeoneElse), 403, 'RequestWrongSigner', 'signature by someone else');
  });

  test('request for another hospital: 403 RequestWrongHospital', async () => {
    refused(await access(S.base, signed(S.doctor, rec.x, { hospital: 'Other Hospital' })), 403, 'RequestWrongHospital', 'another hospital');
  });

  test('expired request: 403 RequestExpired', async () => {
    refused(await access(S.base, signed(S.doctor, rec.x, { now: nowSecs() - 1000, ttl: 60 })), 403, 'RequestExpired', 'expired request');
  });

  test('request whose expiry is too far ahead: 403 RequestExpiryTooFar', async () => {
    refused(await access(S.base, signed(S.doctor, rec.x, { ttl: 3600 })), 403, 'RequestExpiryTooFar', 'expiry too far');
  });

  test('the same request again: 409 Replay', async () => {
    const body = signed(S.doctor, rec.x);
    assert.equal((await access(S.base, body)).status, 200);
    refused(await access(S.base, body), 409, 'Replay', 'the same request again');
  });

  test('a request for an unknown X: 404 UnknownIndex', async () => {
    refused(await access(S.base, signed(S.doctor, crypto.randomBytes(32))), 404, 'UnknownIndex', 'unknown X');
  });

  test('record not anchored, deleted on chain; deletion applied by DELETE', async () => {
    const loose = await publish(S.base, 100_000, { anchor: false });
    refused(loose.refusal, 409, 'RecordNotAnchored', 'a record never anchored is not filed');

    const doomed = await publish(S.base);
    const granted = await access(S.base, signed(S.doctor, doomed.x));
    assert.equal(granted.status, 200);
    refused(await request('DELETE', `${S.base}/v1/records/${doomed.eh}`), 409, 'NotDeletedOnChain', 'DELETE before the tombstone');
    await S.c.markDeleted(doomed.eh, ANCHOR_KEY);
    refused(await access(S.base, signed(S.doctor, doomed.x)), 410, 'RecordDeletedOnChain', 'access after the tombstone');
    refused(await request('GET', S.base + granted.json.download), 410, 'RecordDeletedOnChain', 'download with an earlier token');
    refused(await request('POST', `${S.base}/v1/uploads`, { body: { filing: FILING, eh: doomed.eh, size: 10 } }), 410, 'RecordDeletedOnChain', 'upload of a deleted record');
    const del = await request('DELETE', `${S.base}/v1/records/${doomed.eh}`);
    assert.equal(del.status, 200);
    assert.deepEqual(del.json, { eh: doomed.eh, removed: true });
    assert.equal(S.server.recordBytes(doomed.eh), null, 'ciphertext removed');
    assert.equal((await request('DELETE', `${S.base}/v1/records/${doomed.eh}`)).json.removed, false, 'idempotent');
    refused(await access(S.base, signed(S.doctor, doomed.x)), 404, 'UnknownIndex', 'its index went with it');
  });

  test('an upload whose parts do not hash to its eh: HashMismatch, nothing visible, nothing to file', async () => {
    const r = smallRecord(150_000);
    const claimed = h0x(crypto.randomBytes(32));
    const up = await uploadRecord(S.base, r.ct, { partSize: 64 << 10, eh: claimed });
    refused(up.complete, 422, 'HashMismatch', 'parts that do not hash to the claimed eh');
    const st = await request('GET', `${S.base}/v1/uploads/${up.uploadId}`);
    assert.equal(st.json.state, 'open', 'nothing became visible');
    assert.deepEqual(S.server.temporaries(), [], 'nothing kept aside');
    refused(await request('POST', `${S.base}/v1/index`, { body: { filingSecret: FILING_SECRET, x: h0x(crypto.randomBytes(32)), z: h0x(crypto.randomBytes(32)), k: h0x(crypto.randomBytes(16)), eh: claimed } }),
      404, 'RecordNotFound', 'index of a record that never completed');
  });

  test('a closed server: anonymous uploads refused, a certified doctor of this hospital uploads with a signed request', async () => {
    const srv = await launch({ EHR_OPEN_UPLOADS: 'false' });
    try {
      const r = smallRecord(150_000);
      refused(await request('POST', `${srv.url}/v1/uploads`, { body: { filing: FILING, eh: r.eh, size: r.ct.length } }), 401, 'Unauthorized', 'anonymous upload');
      const here = await makeDoctor({ hospital: HOSPITAL });
      const fields = { hospital: HOSPITAL, eh: unhex(r.eh), size: r.ct.length, filing: unhex(FILING), now: nowSecs(), ttl: 120 };
      const authorization = ehr.signUploadRequest(here.account, here.certJson, fields);
      const up = await uploadRecord(srv.url, r.ct, { partSize: 64 << 10, authorization });
      assert.equal(up.complete.status, 200, `complete: ${up.complete.body}`);
      // The same signed request again: its nonce is spent.
      const again = await request('POST', `${srv.url}/v1/uploads`, { body: { filing: FILING, eh: r.eh, size: r.ct.length, authorization: JSON.parse(authorization) } });
      refused(again, 409, 'Replay', 'replayed upload request');
      // A doctor certified at another hospital may read records here, but not upload.
      const elsewhere = ehr.signUploadRequest(S.doctor.account, S.doctor.certJson, fields);
      refused(await request('POST', `${srv.url}/v1/uploads`, { body: { filing: FILING, eh: r.eh, size: r.ct.length, authorization: JSON.parse(elsewhere) } }),
        403, 'CertificateWrongHospital', 'doctor of another hospital');
    } finally {
      await srv.stop();
    }
  });

  test('a stranger who sees eh first cannot anchor it: the CLI reports NotCertifiedDoctor', async () => {
    const r = smallRecord(10_000);
    const up = await uploadRecord(S.base, r.ct, { partSize: 64 << 10 });
    assert.equal(up.complete.status, 200);
    // The squat: anchor the uploaded eh from an account with no certificate,
    // under the real doctor's serial.
    await assert.rejects(S.c.anchor(r.eh, r.time, STRANGER_KEY, S.anchorer.serial, S.patient.address),
      (e) => /Reverted/.test(e.stderr) && /NotCertifiedDoctor/.test(e.stderr));
    const rec = await anchorAndFile(S.base, r);
    const status = await S.c.status(r.eh);
    assert.equal(status.anchoredBy, S.anchorer.account.address, 'the doctor\'s own anchor went through');
    assert.ok(rec.txId);
  });

  test('a stranger who read eh from the chain cannot file it: FilingNotAuthorised', async () => {
    const victim = await publish(S.base, 10_000);
    const hijack = { x: h0x(crypto.randomBytes(32)), z: h0x(crypto.randomBytes(32)), k: h0x(crypto.randomBytes(16)), eh: victim.eh, filingSecret: h0x(crypto.randomBytes(32)) };
    refused(await request('POST', `${S.base}/v1/index`, { body: hijack }), 403, 'FilingNotAuthorised', 'a filing without the record\'s filing secret');
    refused(await access(S.base, signed(S.doctor, unhex(hijack.x))), 404, 'UnknownIndex', 'no doctor is pointed at the victim\'s record');
  });

  test('an aborted upload is gone: UploadNotFound', async () => {
    const c = await request('POST', `${S.base}/v1/uploads`, { body: { filing: FILING, eh: h0x(crypto.randomBytes(32)), size: 100_000, partSize: 64 << 10 } });
    assert.equal((await request('DELETE', `${S.base}/v1/uploads/${c.json.uploadId}`)).status, 204);
    refused(await request('GET', `${S.base}/v1/uploads/${c.json.uploadId}`), 404, 'UploadNotFound', 'aborted upload');
    refused(await request('PUT', `${S.base}/v1/uploads/${'0'.repeat(32)}/parts/0`, { body: 'x' }), 404, 'UploadNotFound', 'unknown upload');
  });

  describe('parts of the wrong size or number are refused and not held', () => {
    let url, id;
    before(async () => {
      const c = await request('POST', `${S.base}/v1/uploads`, { body: { filing: FILING, eh: h0x(crypto.randomBytes(32)), size: 100_000, partSize: 64 << 10 } });
      id = c.json.uploadId;
      url = (n) => `${S.base}/v1/uploads/${id}/parts/${n}`;
    });

    test('a part larger than the part size, announced or streamed: PartTooLarge', async () => {
      refused(await request('PUT', url(0), { body: crypto.randomBytes((64 << 10) + 1) }), 413, 'PartTooLarge', 'announced oversize part');
      refused(await request('PUT', url(0), { body: crypto.randomBytes((64 << 10) + 1), chunked: true }), 413, 'PartTooLarge', 'streamed oversize part');
    });

    test('a last part larger than what remains: PartTooLarge', async () => {
      refused(await request('PUT', url(1), { body: crypto.randomBytes(64 << 10) }), 413, 'PartTooLarge', 'oversize last part');
    });

    test('a short part, announced or streamed: PartSizeMismatch', async () => {
      refused(await request('PUT', url(0), { body: crypto.randomBytes(1000) }), 400, 'PartSizeMismatch', 'short part');
      refused(await request('PUT', url(0), { body: crypto.randomBytes(1000), chunked: true }), 400, 'PartSizeMismatch', 'streamed short part');
    });

    test('a part number beyond the upload: InvalidPartNumber', async () => {
      refused(await request('PUT', url(2), { body: crypto.randomBytes(10) }), 400, 'InvalidPartNumber', 'part out of range');
    });

    test('none of the refused parts is held', async () => {
      const st = await request('GET', `${S.base}/v1/uploads/${id}`);
      assert.deepEqual(st.json.received, []);
    });
  });

  test('download: bad, missing, foreign token', async () => {
    refused(await request('GET', `${S.base}/v1/records/${rec.eh}?token=${'00'.repeat(32)}`), 403, 'InvalidToken', 'unknown token');
    refused(await request('GET', `${S.base}/v1/records/${rec.eh}`), 403, 'InvalidToken', 'no token');
    const granted = await access(S.base, signed(S.doctor, rec.x));
    const token = granted.json.download.split('token=')[1];
    const other = await publish(S.base, 1000);
    refused(await request('GET', `${S.base}/v1/records/${other.eh}?token=${token}`), 403, 'InvalidToken', 'token of another record');
    const ok = await request('GET', S.base + granted.json.download);
    assert.equal(ok.status, 200);
    assert.ok(ok.body.equals(rec.ct));
  });
});

test('per-client rate limit', async () => {
  const srv = await launch({ EHR_RATE_LIMIT_PER_SEC: '0.5', EHR_RATE_LIMIT_BURST: '3' });
  // The limit is each instance's own (server/README.md): one instance's answers.
  const one = srv.instances[0].url;
  try {
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await request('GET', `${one}/v1/uploads/${'0'.repeat(32)}`)).status);
    assert.deepEqual(codes, [404, 404, 404, 429]);
    const limited = await request('GET', `${one}/v1/uploads/${'0'.repeat(32)}`);
    refused(limited, 429, 'RateLimited', 'over the limit');
    assert.equal(limited.headers['retry-after'], '1');
    assert.equal((await request('GET', `${one}/healthz`)).status, 200, 'health checks are not limited');
  } finally {
    await srv.stop();
  }
});

test('CORS allows only the configured portal origins', async () => {
  const preflight = (origin) => request('OPTIONS', `${S.base}/v1/access`, {
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
  const ok = await preflight('https://portal.example');
  assert.equal(ok.headers['access-control-allow-origin'], 'https://portal.example');
  const evil = await preflight('https://evil.example');
  assert.equal(evil.headers['access-control-allow-origin'], undefined);
});

test('graceful shutdown on SIGTERM finishes the in-flight request', async () => {
  const dep = await launch();
  const srv = dep.instances[0]; // the instance that receives SIGTERM
  const r = smallRecord(200_000);
  const c = await request('POST', `${srv.url}/v1/uploads`, { body: { filing: FILING, eh: r.eh, size: r.ct.length, partSize: 256 << 10 } });
  const http = await import('node:http');
  const u = new URL(`${srv.url}/v1/uploads/${c.json.uploadId}/parts/0`);
  const answered = new Promise((resolve, reject) => {
    const req = http.request({ method: 'PUT', hostname: u.hostname, port: u.port, path: u.pathname, headers: { 'content-length': r.ct.length }, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.write(r.ct.subarray(0, 100_000));
    setTimeout(() => {
      srv.child.kill('SIGTERM');
      setTimeout(() => req.end(r.ct.subarray(100_000)), 500);
    }, 200);
  });
  const res = await answered;
  assert.equal(res.status, 200, res.body);
  const exit = await srv.exited;
  assert.equal(exit.code, 0, 'clean exit after the grace');
  assert.ok(srv.logs().some((l) => l.includes('shutdown requested')));
  await dep.stop();
});

test('retention: records past the retention period are deleted with their index', async () => {
  const srv = await launch({ EHR_RETENTION_SECS: '2', EHR_SWEEP_INTERVAL_SECS: '1' });
  try {
    const rec = await publish(srv.url, 10_000);
    assert.ok(srv.recordBytes(rec.eh));
    for (let i = 0; i < 100 && srv.recordBytes(rec.eh); i++) await sleep(100);
    assert.equal(srv.recordBytes(rec.eh), null, 'ciphertext deleted after the retention period');
    refused(await access(srv.url, signed(S.doctor, rec.x)), 404, 'UnknownIndex', 'index deleted with it');
    const retired = (await srv.auditLines()).filter((e) => e.event === 'retention' && e.eh === rec.eh);
    assert.deepEqual(retired.map((e) => e.decision), ['deleted'], 'one retention entry, by one instance');
    // No tombstone on chain, yet the record cannot come back.
    refused(await request('POST', `${srv.url}/v1/uploads`, { body: { filing: FILING, eh: rec.eh, size: rec.ct.length } }), 410, 'RecordRetired', 'upload of a retired record');
  } finally {
    await srv.stop();
  }
});

test('by default (no token, no EHR_OPEN_UPLOADS) a server refuses every upload: Unauthorized', async () => {
  const srv = await launch({ EHR_OPEN_UPLOADS: 'false' });
  try {
    refused(await request('POST', `${srv.url}/v1/uploads`, { body: { filing: FILING, eh: h0x(crypto.randomBytes(32)), size: 10 } }), 401, 'Unauthorized', 'anonymous upload');
  } finally {
    await srv.stop();
  }
});

test('a tombstone on chain is applied by the sweep: the ciphertext goes without any DELETE call', async () => {
  const srv = await launch({ EHR_SWEEP_INTERVAL_SECS: '1' });
  try {
    const rec = await publish(srv.url, 10_000);
    assert.ok(srv.recordBytes(rec.eh));
    await S.c.markDeleted(rec.eh, ANCHOR_KEY);
    for (let i = 0; i < 100 && srv.recordBytes(rec.eh); i++) await sleep(100);
    assert.equal(srv.recordBytes(rec.eh), null, 'ciphertext deleted by the sweep');
    const deleted = (await srv.auditLines()).filter((e) => e.event === 'tombstone' && e.eh === rec.eh);
    assert.deepEqual(deleted.map((e) => e.decision), ['deleted'], 'one tombstone entry, by one instance');
  } finally {
    await srv.stop();
  }
});

test('audit trail: every decision, hash-chained; audit-verify finds the first bad entry', async () => {
  const lines = await S.server.auditLines();
  assert.ok(lines.length >= 10, `${lines.length} entries`);
  const codes = new Set(lines.map((e) => e.code));
  for (const c of ['Ok', 'Replay', 'CertificateRevoked', 'UnknownIndex', 'RecordDeletedOnChain']) {
    assert.ok(codes.has(c), `audit has a ${c} entry`);
  }
  // Refused before the signature checked out: in the request log only (no fsync for junk).
  for (const c of ['CertificateWrongAuthority', 'RequestWrongSigner', 'MalformedJson']) {
    assert.ok(!codes.has(c), `audit has no ${c} entry`);
  }
  const grant = lines.find((e) => e.decision === 'granted');
  assert.equal(grant.doctor, S.doctor.account.address);
  assert.equal(grant.serial, S.doctor.serial);
  assert.match(grant.x, /^0x[0-9a-f]{64}$/);
  assert.match(grant.eh, /^0x[0-9a-f]{64}$/);
  assert.equal(grant.client, '127.0.0.1');
  lines.forEach((e, i) => assert.equal(e.seq, i));
  assert.equal(lines[0].prev, '0'.repeat(64));
  const ok = await S.server.auditVerify();
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.report.ok, true);
  assert.equal(ok.report.report.entries, lines.length);

  // The third entry altered (a decision flipped): audit-verify points at the fourth.
  const bad = await S.server.auditVerifyAltered((raw) => raw.map((l, i) => (i !== 2 ? l
    : l.replace(/"decision":"(granted|refused)"/, (m, d) => `"decision":"${d === 'granted' ? 'refused' : 'granted'}"`))));
  assert.equal(bad.code, 1);
  assert.equal(bad.report.ok, false);
  assert.equal(bad.report.report.firstBad.line, 4, 'the entry after the altered one no longer chains');
  assert.match(bad.stderr, /line 4/);
});

test('the server store plus the chain do not yield a record key (paper flaws 1 and 2)', async () => {
  assert.ok(S.full, 'needs the full-flow record');
  const { recordKey, maskKey, txId, x, z, k, eh, aad, ctFile } = S.full;
  const db = await S.server.metaTables();
  assert.deepEqual(Object.keys(db).sort(), [...META_TABLES, ...S.backend.extraTables].sort());
  assert.deepEqual(db.leases.columns, ['name', 'holder', 'expires_at'], 'a lease names a server instance (random), nobody else');
  assert.deepEqual(db.retired.columns, ['eh', 'reason', 'at'], 'retired records are known by eh only');
  assert.deepEqual(db.record_index.columns, ['x', 'z', 'k', 'eh', 'created_at'], 'the index holds only X, Z, K, eh');
  assert.deepEqual(db.used_nonces.columns, ['key', 'expiry'], 'nonces are kept hashed, naming no doctor');
  assert.deepEqual(db.download_tokens.columns, ['hash', 'eh', 'expiry'], 'tokens are kept hashed');
  const row = db.record_index.rows.find((r) => r[0] === hex(x));
  assert.deepEqual(row.slice(0, 4), [hex(x), hex(z), hex(k), eh.slice(2)]);

  // Independent masks: Z ⊕ K is not tx_id ⊕ K_P (flaw 2), so the public tx_id
  // (found from eh on chain) does not unmask K.
  const txIdBytes = unhex(txId);
  const zk = Buffer.from(z.slice(0, 16).map((b, i) => b ^ k[i]));
  const tk = Buffer.from(txIdBytes.slice(0, 16).map((b, i) => b ^ recordKey[i]));
  assert.ok(!zk.equals(tk), 'Z ⊕ K ≠ tx_id ⊕ K_P');
  const guess = Buffer.from(k.map((b, i) => b ^ z[i] ^ txIdBytes[i]));
  assert.ok(!guess.equals(Buffer.from(recordKey)));
  await assert.rejects(
    cli(['decrypt', '--key', hex(guess), '--aad', hex(aad), '-i', ctFile, '-o', path.join(path.dirname(ctFile), 'guess')]),
    (e) => {
      assert.equal(e.code, 1, 'the CLI exits 1');
      assert.match(e.stderr, /^error\[WrongKeyOrAssociatedData\]/m, 'with the typed code');
      return true;
    }, 'the flaw-2 key guess does not decrypt');

  // No secret of the patient or doctor is anywhere in the server's files or logs.
  const yTx = Buffer.from(z.map((b, i) => b ^ txIdBytes[i]));
  const yKey = Buffer.from(k.map((b, i) => b ^ recordKey[i]));
  const secrets = {
    K_P: Buffer.from(recordKey), k_t: Buffer.from(maskKey.exportSecret()), tx_id: Buffer.from(txIdBytes), Y_tx: yTx, Y_key: yKey,
    token: Buffer.from(S.full.token, 'hex'),
  };
  const needles = Object.entries(secrets).flatMap(([name, b]) => [[name, b], [`${name} (hex)`, Buffer.from(hex(b))]]);
  const atRest = await S.server.atRest();
  assert.ok(atRest.length > 0);
  for (const { name: where, data } of atRest) {
    for (const [name, needle] of needles) assert.equal(data.indexOf(needle), -1, `${name} found in ${where}`);
  }
  const logs = S.server.logs().join('\n');
  for (const [name, needle] of needles) assert.ok(!logs.includes(needle.toString('latin1')), `${name} in the server's log`);
  assert.ok(!logs.includes('token='), 'no query string in the log');
  for (const l of S.server.logs()) JSON.parse(l); // every log line is JSON
});

describe('the authorisation relayer (POST /v1/relay/authorise)', () => {
  // Hardhat's account #19: the relayer, which signs and pays for relayed grants.
  const RELAYER_KEY = HARDHAT_KEYS[19];
  const PER_CLIENT = 3;
  const R = {};
  const relay = (base, body) => request('POST', `${base}/v1/relay/authorise`, { body });
  const wire = (g) => ({ viewTag: g.viewTag, r: h0x(g.r), st: h0x(g.st), c1: h0x(g.c1) });
  /** A patient's grant of a freshly published record to a fresh doctor key: {grant, scanner, rec}. */
  const grantTo = async () => {
    const rec = await publish(S.base);
    const protocol = ehr.Key.generate();
    const record = { hospital: HOSPITAL, time: rec.time, eh: unhex(rec.eh), anchorSalt: rec.anchorSalt, recordType: 'scan' };
    return { grant: rec.maskKey.authorise(protocol.publicKey(), record, S.patient), scanner: new ehr.Scanner(protocol), rec };
  };
  const authorisedLogs = () => S.rpc('eth_getLogs', [{ address: S.registry, topics: [ehr.authorisedTopic()], fromBlock: '0x0', toBlock: 'latest' }]);

  before(async () => {
    const dir = newDir('ehr-relay-');
    const keyFile = path.join(dir, 'relayer.key');
    fs.writeFileSync(keyFile, `${RELAYER_KEY}\n`, { mode: 0o600 });
    R.address = ehr.Key.fromBytes(unhex(RELAYER_KEY)).address.toLowerCase();
    // Scaled: only the first instance relays ("give each server its own
    // key"), and the tests talk to it directly.
    R.dep = await launch({}, {
      instanceEnv: (i) => (i > 0 ? {} : { EHR_RELAYER_KEY: `file:${keyFile}`, EHR_RELAY_PER_HOUR_PER_CLIENT: String(PER_CLIENT) }),
    });
    R.server = R.dep.instances[0];
    R.hashes = [];
  });

  after(async () => {
    await R.dep?.stop();
  });

  test('a relayed grant is an Authorised event sent by the relayer; the doctor finds and opens it', async () => {
    const { grant, scanner, rec } = await grantTo();
    const res = await relay(R.server.url, wire(grant));
    assert.equal(res.status, 200, String(res.body));
    assert.deepEqual(Object.keys(res.json).sort(), ['blockNumber', 'transactionHash']);
    R.hashes.push(res.json.transactionHash);
    const receipt = await S.rpc('eth_getTransactionReceipt', [res.json.transactionHash]);
    assert.equal(receipt.status, '0x1');
    assert.equal(receipt.from.toLowerCase(), R.address, 'sent by the relayer, not the patient');
    assert.notEqual(receipt.from.toLowerCase(), S.patient.address.toLowerCase());
    assert.equal(Number(BigInt(receipt.blockNumber)), res.json.blockNumber);
    assert.equal(receipt.to.toLowerCase(), S.registry.toLowerCase());

    const found = ehr.scanAuthorisations(scanner, S.registry, await authorisedLogs());
    assert.equal(found.length, 1, 'the doctor finds exactly his grant');
    assert.equal(found[0].transactionHash, res.json.transactionHash);
    assert.equal(found[0].viewTag, grant.viewTag);
    const pass = scanner.open(found[0]);
    assert.equal(pass.patient, S.patient.address, 'the pass still names the patient who signed it');
    const anchor = ehr.confirmGrant(pass, await anchorAnswers(rec.eh));
    assert.equal(anchor.doctor, S.anchorer.account.address);
  });

  test('two concurrent relays both land, with consecutive nonces', async () => {
    const a = await grantTo();
    const b = await grantTo();
    const [ra, rb] = await Promise.all([relay(R.server.url, wire(a.grant)), relay(R.server.url, wire(b.grant))]);
    assert.equal(ra.status, 200, String(ra.body));
    assert.equal(rb.status, 200, String(rb.body));
    assert.notEqual(ra.json.transactionHash, rb.json.transactionHash);
    R.hashes.push(ra.json.transactionHash, rb.json.transactionHash);
    const txs = await Promise.all([ra, rb].map((r) => S.rpc('eth_getTransactionByHash', [r.json.transactionHash])));
    const nonces = txs.map((t) => Number(BigInt(t.nonce))).sort((x, y) => x - y);
    assert.equal(nonces[1], nonces[0] + 1, `nonces ${nonces}`);
    for (const t of txs) assert.equal(t.from.toLowerCase(), R.address);
    const logs = await authorisedLogs();
    for (const [g, r] of [[a, ra], [b, rb]]) {
      const found = ehr.scanAuthorisations(g.scanner, S.registry, logs);
      assert.deepEqual(found.map((f) => f.transactionHash), [r.json.transactionHash]);
    }
  });

  test('refusals: not configured, malformed, bad point, wrong C1 length, viewTag 256, the client budget', async () => {
    const { grant } = await grantTo();
    const ok = wire(grant);
    refused(await relay(S.base, ok), 503, 'RelayNotConfigured', 'a server without EHR_RELAYER_KEY');
    const url = R.server.url;
    refused(await request('POST', `${url}/v1/relay/authorise`, { body: Buffer.from('{"viewTag": 1,'), headers: { 'content-type': 'application/json' } }), 400, 'MalformedJson', 'not JSON');
    refused(await relay(url, { ...ok, viewTag: 256 }), 400, 'InvalidField', 'viewTag 256');
    refused(await relay(url, { ...ok, r: '0x05' + ok.r.slice(4) }), 400, 'InvalidPublicKey', 'R with prefix 05');
    refused(await relay(url, { ...ok, st: ok.st.slice(0, -2) }), 400, 'InvalidLength', 'ST of 32 bytes');
    refused(await relay(url, { ...ok, c1: ok.c1.slice(0, -2) }), 400, 'InvalidLength', 'C1 of 608 bytes');
    // The client has spent its PER_CLIENT relays (the tests above): the next
    // valid one is refused, and says when to come back.
    assert.equal(R.hashes.length, PER_CLIENT);
    const limited = await relay(url, ok);
    refused(limited, 429, 'RateLimited', 'beyond the client budget');
    assert.ok(Number(limited.headers['retry-after']) >= 1, `Retry-After ${limited.headers['retry-after']}`);
    assert.equal(ehr.scanAuthorisations(new ehr.Scanner(ehr.Key.generate()), S.registry, await authorisedLogs()).length, 0);
  });

  test('the log names no relay client, transaction or key', async () => {
    const lines = R.server.logs().map((l) => JSON.parse(l));
    const relays = lines.filter((l) => l.route === '/v1/relay/authorise');
    assert.ok(relays.length >= PER_CLIENT + 6, `${relays.length} relay lines`);
    for (const l of relays) {
      assert.equal(l.client, undefined, `a relay line names its client: ${JSON.stringify(l)}`);
      assert.ok(l.request_id);
    }
    const text = R.server.logs().join('\n').toLowerCase();
    for (const h of R.hashes) assert.ok(!text.includes(h.slice(2)), 'no relayed transaction hash in the log');
    assert.ok(!text.includes(RELAYER_KEY.slice(2).toLowerCase()), 'the relayer key is never logged');
    const started = lines.find((l) => l.relayer);
    assert.equal(started?.relayer.toLowerCase(), R.address, 'the relayer address (public) is logged at start-up');
  });
});
