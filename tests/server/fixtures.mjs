// The fixtures of the record server's process tests (server.test.mjs, run
// against both configurations, and scaled.test.mjs): doctors with
// certificates on chain, records encrypted in memory, anchoring and filing
// as the patient, signed access requests, and the typed-refusal assertion.
// They read the test's shared state `S` when called (S.c: chainCli, S.rpc,
// S.registry, S.authorityKey, S.anchorer, S.patient, S.serials), so one set
// serves a file whose before() fills `S` in.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { HARDHAT_KEYS, h0x, unhex, nowSecs, sleep } from '../support/helpers.mjs';
import { ehr, request, uploadRecord, cutUpload, FILING, FILING_SECRET } from './helpers.mjs';

export const HOSPITAL = "St Mary's Hospital";
export const DOCTOR_HOSPITAL = 'General Hospital'; // where the doctor practises: need not be the server's
// ANCHOR_KEY is the account of the certified doctor who makes and anchors
// the records (only a certified doctor may anchor); STRANGER_KEY holds no certificate.
export const [AUTHORITY_KEY, ANCHOR_KEY, STRANGER_KEY] = HARDHAT_KEYS;
export const MiB = 1 << 20;

/** The fixtures over the shared state `S`. */
export function fixtures(S) {
  /** A doctor: account key, protocol key, certificate (registered on chain unless told). */
  async function makeDoctor({ validFrom = nowSecs() - 3600, validUntil = nowSecs() + 86400, issuer, register = true, serial, account, hospital = DOCTOR_HOSPITAL } = {}) {
    const acct = account ?? ehr.Key.generate();
    const protocol = ehr.Key.generate();
    const s = serial ?? S.serials++;
    const certJson = ehr.issueCertificate(issuer ?? S.authorityKey, { doctor: acct.address, protocolKey: protocol.publicKey(), hospital, validFrom, validUntil, serial: s });
    if (register) await S.c.register(certJson, AUTHORITY_KEY);
    return { account: acct, protocol, certJson, serial: s };
  }

  /** A record encrypted in memory with the package: {recordKey, time, ct, eh}. */
  function smallRecord(bytes, time = nowSecs()) {
    const recordKey = ehr.generateRecordKey();
    const enc = new ehr.RecordEncryptor(recordKey, ehr.recordAssociatedData({ hospital: HOSPITAL, time }));
    const ct = Buffer.concat([Buffer.from(enc.push(crypto.randomBytes(bytes))), Buffer.from(enc.finish())]);
    const eh = h0x(enc.hash);
    enc.free();
    return { recordKey, time, ct, eh };
  }

  /** Anchors `rec` as the certified doctor, for the patient, and files its
   * masks as the patient would: returns {txId, anchorSalt, maskKey, x, z, k}.
   * Unanchored (`anchor: false`), the filing is refused: returns the answer. */
  async function anchorAndFile(base, rec, { anchor = true } = {}) {
    const a = anchor ? await S.c.anchor(rec.eh, rec.time, ANCHOR_KEY, S.anchorer.serial, S.patient.address) : { txId: h0x(crypto.randomBytes(32)) };
    const maskKey = ehr.MaskKey.generate();
    const m = maskKey.mask({ hospital: HOSPITAL, time: rec.time, txId: unhex(a.txId), recordKey: rec.recordKey });
    const filed = await request('POST', `${base}/v1/index`, { body: { filingSecret: FILING_SECRET, x: h0x(m.x), z: h0x(m.z), k: h0x(m.k), eh: rec.eh } });
    if (!anchor) return { refusal: filed };
    assert.equal(filed.status, 201, `index: ${filed.body}`);
    return { txId: a.txId, anchorSalt: unhex(a.anchorSalt), maskKey, x: m.x, z: m.z, k: m.k };
  }

  /** The registry's answers (eth_call hex) for the anchor of `eh`: {recordStatus, certificateStatus}. */
  async function anchorAnswers(eh) {
    const call = async (req) => S.rpc('eth_call', [req, 'latest']);
    const recordStatus = await call(ehr.recordStatusCall(S.registry, unhex(eh)));
    const serial = ehr.decodeRecordStatus(recordStatus).serial;
    return { recordStatus, certificateStatus: await call(ehr.certificateStatusCall(S.registry, serial)) };
  }

  /** A fully published small record on `base`. */
  async function publish(base, bytes = 200_000, opts = {}) {
    const rec = smallRecord(bytes);
    const up = await uploadRecord(base, rec.ct, { partSize: 64 << 10 });
    assert.equal(up.complete.status, 200, `complete: ${up.complete.body}`);
    return { ...rec, ...(await anchorAndFile(base, rec, opts)) };
  }

  const signed = (doctor, w, { hospital = HOSPITAL, now = nowSecs(), ttl = 120 } = {}) =>
    ehr.signAccessRequest(doctor.account, doctor.certJson, { hospital, w, now, ttl });

  /**
   * The same request through the wallet path (typed data, the account's
   * signature, assembled), which does not check the certificate client-side:
   * what a client that skips signAccessRequest's checks sends, for the
   * server's refusals of certificates not valid now.
   */
  function signedUnchecked(doctor, w, { hospital = HOSPITAL, now = nowSecs(), ttl = 120 } = {}) {
    const td = ehr.accessRequestTypedData({ hospital, w, now, ttl });
    return ehr.assembleAccessRequest(td, doctor.account.signTypedData(td), doctor.certJson);
  }

  const access = (base, body) =>
    request('POST', `${base}/v1/access`, { body: Buffer.from(body), headers: { 'content-type': 'application/json' } });

  /** Asserts a refusal: status, code, and the body is exactly {code, message}. */
  function refused(res, status, code, what = '') {
    assert.equal(res.status, status, `${what}: status ${res.status}, body ${res.body}`);
    assert.match(res.headers['content-type'] ?? '', /application\/json/, `${what}: JSON body`);
    assert.deepEqual(Object.keys(res.json).sort(), ['code', 'message'], `${what}: body shape`);
    assert.equal(res.json.code, code, `${what}: code (message: ${res.json.message})`);
    assert.ok(res.json.message.length > 0);
  }

  /**
   * Two uploads on `srv`, then SIGKILL: upload A (1 MiB parts) with parts 0
   * and 1 acknowledged and part 2 in flight; upload B (48 MiB, 8 MiB parts)
   * with every part held and its completion under way. Resolves
   * {a, ida, partA, b, idb}: the records, the uploads' ids, A's part `n`.
   */
  async function crashMidUploadAndCompletion(srv) {
    const partSize = MiB;
    const a = smallRecord(4 * MiB - 500);
    const ca = await request('POST', `${srv.url}/v1/uploads`, { body: { filing: FILING, eh: a.eh, size: a.ct.length, partSize } });
    const ida = ca.json.uploadId;
    const partA = (n) => a.ct.subarray(n * partSize, Math.min(a.ct.length, (n + 1) * partSize));
    for (const n of [0, 1]) assert.equal((await request('PUT', `${srv.url}/v1/uploads/${ida}/parts/${n}`, { body: partA(n) })).status, 200);
    const b = smallRecord(48 * MiB);
    const cb = await request('POST', `${srv.url}/v1/uploads`, { body: { filing: FILING, eh: b.eh, size: b.ct.length, partSize: 8 * MiB } });
    const idb = cb.json.uploadId;
    for (let n = 0; n < cb.json.parts; n++) {
      const r = await request('PUT', `${srv.url}/v1/uploads/${idb}/parts/${n}`, { body: b.ct.subarray(n * 8 * MiB, (n + 1) * 8 * MiB) });
      assert.equal(r.status, 200);
    }
    const inflight = cutUpload(`${srv.url}/v1/uploads/${ida}/parts/2`, partA(2), 400 * 1024);
    const completing = request('POST', `${srv.url}/v1/uploads/${idb}/complete`).catch((e) => e);
    await sleep(40);
    const died = await srv.kill();
    assert.equal(died.signal, 'SIGKILL');
    await inflight;
    await completing;
    return { a, ida, partA, b, idb };
  }

  /**
   * `complete` of upload `id` at `base`, asked again while it answers 409
   * `UploadBusy`: after a crash mid-completion, the dead instance's lease on
   * the upload holds it for that instance's `EHR_UPLOAD_LEASE_SECS`.
   */
  async function completeOnceFree(base, id, seconds = 20) {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const r = await request('POST', `${base}/v1/uploads/${id}/complete`);
      if (r.status !== 409 || r.json?.code !== 'UploadBusy' || Date.now() > deadline) return r;
      await sleep(250);
    }
  }

  return { makeDoctor, smallRecord, anchorAndFile, anchorAnswers, publish, signed, signedUnchecked, access, refused, crashMidUploadAndCompletion, completeOnceFree };
}
