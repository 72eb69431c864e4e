// The record server's scaled configuration (issue #14, server/README.md
// "Several instances"): two `ehrchain-server` processes sharing one
// PostgreSQL (metadata, nonces, tokens, the audit trail) and one S3 bucket
// (s3s-fs), against a throw-away Hardhat chain. What one instance accepted,
// the other must honour; what one refuses, the other must refuse too. Here
// each request names its instance (A or B); server-scaled.test.mjs runs the
// whole of server.test.mjs through a round-robin over both.
//
//   node --test tests/server/scaled.test.mjs
//
// Needs what server.test.mjs needs, plus PostgreSQL and s3s-fs
// (scripts/setup.sh installs both); chain/services.mjs starts them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startChain } from '../../chain/testchain.mjs';
import { h0x, sha256, sleep, jsonRpc, unhex } from '../support/helpers.mjs';
import {
  ehr, checkPrerequisites, chainCli, deployRegistry, request, cutUpload, FILING, FILING_SECRET,
} from './helpers.mjs';
import { HOSPITAL, AUTHORITY_KEY, ANCHOR_KEY, MiB, fixtures } from './fixtures.mjs';
import { openBackend } from './deployment.mjs';

const S = { serials: 500 };
const { makeDoctor, smallRecord, anchorAndFile, publish, signed, access, refused, crashMidUploadAndCompletion, completeOnceFree } = fixtures(S);

/** Every instance's environment (deployment.mjs adds its own data directory, the shared database and bucket). */
function serverEnv() {
  return {
    EHR_RPC_URL: S.chain.rpcUrl,
    EHR_REGISTRY: S.registry,
    EHR_AUTHORITY: S.authority,
    EHR_HOSPITAL: HOSPITAL,
    EHR_RATE_LIMIT_PER_SEC: '0',
    EHR_MIN_PART_SIZE: String(64 << 10),
    EHR_OPEN_UPLOADS: 'true',
    EHR_SWEEP_INTERVAL_SECS: '1',
  };
}

before(async () => {
  checkPrerequisites();
  [S.chain, S.backend] = await Promise.all([startChain(), openBackend('scaled')]);
  const d = await deployRegistry(S.chain.rpcUrl, AUTHORITY_KEY);
  S.registry = d.registry;
  S.authority = d.authority;
  S.c = chainCli(S.chain.rpcUrl, S.registry);
  S.rpc = jsonRpc(S.chain.rpcUrl);
  S.authorityKey = ehr.Key.fromBytes(unhex(AUTHORITY_KEY));
  S.anchorer = await makeDoctor({ account: ehr.Key.fromBytes(unhex(ANCHOR_KEY)) });
  S.patient = ehr.Key.generate();
  S.dep = await S.backend.launch(serverEnv());
  [S.a, S.b] = S.dep.instances;
  S.doctor = await makeDoctor();
});

after(async () => {
  await S.dep?.stop();
  await Promise.all([S.chain?.stop(), S.backend?.close()]);
});

test('both instances report the shared database and the chain', async () => {
  for (const srv of [S.a, S.b]) {
    const r = await request('GET', `${srv.url}/healthz`);
    assert.equal(r.status, 200, String(r.body));
    assert.equal(r.json.db, 'ok');
    assert.equal(r.json.chain, 'ok');
  }
});

test('an upload spread over both instances, a part cut on one resumed on the other, served by either', async () => {
  const rec = smallRecord(24 * MiB + 12345);
  const partSize = 4 * MiB;
  const created = await request('POST', `${S.a.url}/v1/uploads`, { body: { filing: FILING, eh: rec.eh, size: rec.ct.length, partSize } });
  assert.equal(created.status, 201, String(created.body));
  const { uploadId, parts } = created.json;
  const part = (n) => rec.ct.subarray(n * partSize, Math.min(rec.ct.length, (n + 1) * partSize));
  const at = (n) => (n % 2 ? S.b : S.a).url;
  const cut = 3; // a whole 4 MiB part, of which A gets 100 KiB before the connection drops
  for (let n = 0; n < parts; n++) {
    if (n === cut) continue;
    const r = await request('PUT', `${at(n)}/v1/uploads/${uploadId}/parts/${n}`, { body: part(n) });
    assert.equal(r.status, 200, `part ${n}: ${r.body}`);
  }
  await cutUpload(`${S.a.url}/v1/uploads/${uploadId}/parts/${cut}`, part(cut), 100 * 1024);
  await sleep(300);
  const st = await request('GET', `${S.b.url}/v1/uploads/${uploadId}`);
  assert.equal(st.status, 200);
  assert.deepEqual(st.json.missing, [cut], 'the other instance sees the acknowledged parts and only those');
  refused(await request('POST', `${S.b.url}/v1/uploads/${uploadId}/complete`), 409, 'UploadIncomplete', 'complete with the cut part missing');
  assert.equal(S.dep.recordBytes(rec.eh), null, 'no record object before completion');
  assert.equal((await request('PUT', `${S.b.url}/v1/uploads/${uploadId}/parts/${cut}`, { body: part(cut) })).status, 200);
  const done = await request('POST', `${S.b.url}/v1/uploads/${uploadId}/complete`);
  assert.equal(done.status, 200, String(done.body));
  assert.equal((await request('GET', `${S.a.url}/v1/uploads/${uploadId}`)).json.state, 'complete');
  refused(await request('POST', `${S.a.url}/v1/uploads`, { body: { filing: FILING, eh: rec.eh, size: rec.ct.length } }), 409, 'RecordExists',
    'the other instance knows the record is stored');

  const filed = await anchorAndFile(S.a.url, rec);
  const granted = await access(S.b.url, signed(S.doctor, filed.x));
  assert.equal(granted.status, 200, String(granted.body));
  assert.equal(granted.json.eh, rec.eh);
  // The download token was issued by B; A serves it (whole, then a range).
  const whole = await request('GET', S.a.url + granted.json.download);
  assert.equal(whole.status, 200);
  assert.equal(h0x(sha256(whole.body)), rec.eh, 'SHA-256 of what A serves is eh');
  const range = await request('GET', S.a.url + granted.json.download, { headers: { range: `bytes=${5 * MiB - 7}-${9 * MiB}` } });
  assert.equal(range.status, 206);
  assert.ok(range.body.equals(rec.ct.subarray(5 * MiB - 7, 9 * MiB + 1)), 'a range across part boundaries');

  // What the shared stores hold names no secret: the record key, the download
  // token, the filing secret and the masks' pads are nowhere in the database
  // (pg_dump) or the bucket.
  const token = granted.json.download.split('token=')[1];
  const txIdBytes = unhex(filed.txId);
  const needles = {
    K_P: Buffer.from(rec.recordKey), token: Buffer.from(token, 'hex'), filingSecret: unhex(FILING_SECRET),
    Y_tx: Buffer.from(filed.z.map((b, i) => b ^ txIdBytes[i])), Y_key: Buffer.from(filed.k.map((b, i) => b ^ rec.recordKey[i])),
  };
  const atRest = S.dep.atRest();
  for (const [name, b] of Object.entries(needles)) {
    for (const needle of [b, Buffer.from(b.toString('hex'))]) {
      for (const { name: where, data } of atRest) assert.equal(data.indexOf(needle), -1, `${name} in ${where}`);
    }
  }
});

test('a request replayed against the other instance is refused: 409 Replay', async () => {
  const rec = await publish(S.a.url);
  const body = signed(S.doctor, rec.x);
  assert.equal((await access(S.a.url, body)).status, 200);
  refused(await access(S.b.url, body), 409, 'Replay', 'the same request at the other instance');
  refused(await access(S.a.url, body), 409, 'Replay', 'and at the first again');
  // Sent to both at once: exactly one is granted.
  const twice = signed(S.doctor, rec.x);
  const answers = await Promise.all([access(S.a.url, twice), access(S.b.url, twice)]);
  assert.deepEqual(answers.map((r) => r.status).sort(), [200, 409], 'one grant, one Replay');
});

test('a revocation and a tombstone are honoured by both instances from the block that contains them', async () => {
  const rec = await publish(S.a.url);
  const doctor = await makeDoctor();
  for (const srv of [S.a, S.b]) assert.equal((await access(srv.url, signed(doctor, rec.x))).status, 200, 'valid before');
  await S.c.revoke(doctor.serial, AUTHORITY_KEY);
  for (const srv of [S.a, S.b]) refused(await access(srv.url, signed(doctor, rec.x)), 403, 'CertificateRevoked', `revoked, at ${srv.url}`);

  const doomed = await publish(S.b.url, 30_000);
  const token = await access(S.a.url, signed(S.doctor, doomed.x));
  assert.equal(token.status, 200);
  assert.ok(S.dep.recordBytes(doomed.eh));
  await S.c.markDeleted(doomed.eh, ANCHOR_KEY);
  // 410 while the record is stored; a sweep (every second, on either
  // instance) may retire it between two requests, taking its index entry
  // and tokens with it: then the refusal is the unknown index or token, and
  // the ciphertext goes right after.
  const refusedOrSwept = async (res, swept, what) => {
    if (res.status === 410) return refused(res, 410, 'RecordDeletedOnChain', what);
    refused(res, swept[0], swept[1], `${what}, once swept`);
    for (let i = 0; i < 50 && S.dep.recordBytes(doomed.eh); i++) await sleep(100);
    assert.ok(!S.dep.recordBytes(doomed.eh), `${what}: ${swept[1]} only once a sweep retired the record`);
  };
  for (const srv of [S.a, S.b]) {
    await refusedOrSwept(await access(srv.url, signed(S.doctor, doomed.x)), [404, 'UnknownIndex'], `tombstoned, at ${srv.url}`);
    await refusedOrSwept(await request('GET', srv.url + token.json.download), [403, 'InvalidToken'], `earlier token, at ${srv.url}`);
  }
  // The sweep (one instance at a time, under the lease) removes the ciphertext.
  for (let i = 0; i < 100 && S.dep.recordBytes(doomed.eh); i++) await sleep(100);
  assert.ok(!S.dep.recordBytes(doomed.eh), 'ciphertext deleted by a sweep');
  await sleep(2500); // both sweeps have run again
  const audit = await S.dep.auditVerify();
  assert.equal(audit.code, 0, audit.stderr);
  const tombstones = (await S.dep.auditLines()).filter((e) => e.event === 'tombstone' && e.eh === doomed.eh);
  assert.equal(tombstones.length, 1, 'the record was deleted once, by one instance');
});

test('SIGKILL of one instance mid-upload and mid-completion: the other carries on, nothing half-visible', async () => {
  // Its lease on B's completion lapses 3 s after it dies.
  const victim = await S.dep.startInstance({ EHR_UPLOAD_LEASE_SECS: '3' });
  const { a, ida, partA, b, idb } = await crashMidUploadAndCompletion(victim);

  // The survivor: A's acknowledged parts, B either whole or still open with every part.
  const sa = await request('GET', `${S.a.url}/v1/uploads/${ida}`);
  assert.deepEqual(sa.json.received, [0, 1], 'acknowledged parts survive the instance');
  assert.equal(S.dep.recordBytes(a.eh), null, 'no record object for an unfinished upload');
  refused(await request('POST', `${S.a.url}/v1/index`, { body: { filingSecret: FILING_SECRET, x: h0x(crypto.randomBytes(32)), z: h0x(crypto.randomBytes(32)), k: h0x(crypto.randomBytes(16)), eh: a.eh } }),
    404, 'RecordNotFound', 'an unfinished record cannot be indexed');
  const sb = await request('GET', `${S.a.url}/v1/uploads/${idb}`);
  if (sb.json.state === 'open') {
    assert.deepEqual(sb.json.missing, []);
    const done = await completeOnceFree(S.a.url, idb);
    assert.equal(done.status, 200, String(done.body));
  }
  assert.equal(h0x(sha256(S.dep.recordBytes(b.eh))), b.eh, 'the stored record is whole');
  for (const n of [2, 3]) assert.equal((await request('PUT', `${S.b.url}/v1/uploads/${ida}/parts/${n}`, { body: partA(n) })).status, 200);
  const done = await request('POST', `${S.b.url}/v1/uploads/${ida}/complete`);
  assert.equal(done.status, 200, String(done.body));
  assert.equal(h0x(sha256(S.dep.recordBytes(a.eh))), a.eh);

  // A restarted instance does not remove the others' fresh records (the orphan grace).
  const again = await S.dep.startInstance();
  const recovered = again.logs().map((l) => JSON.parse(l)).find((j) => j.message === 'storage recovered');
  assert.equal(recovered.orphan_records_removed, 0);
  assert.ok(S.dep.recordBytes(b.eh));
  await again.stop();
});

test('the audit trail of both instances is one hash chain in PostgreSQL', async () => {
  const audit = await S.dep.auditVerify();
  assert.equal(audit.code, 0, audit.stderr);
  assert.equal(audit.report.ok, true);
  const lines = await S.dep.auditLines();
  assert.ok(lines.length >= 8, `${lines.length} entries`);
  lines.forEach((e, i) => assert.equal(e.seq, i, 'one sequence, no fork'));
  const codes = new Set(lines.map((e) => e.code));
  for (const c of ['Ok', 'Replay', 'CertificateRevoked', 'RecordDeletedOnChain']) assert.ok(codes.has(c), `a ${c} entry`);
});
