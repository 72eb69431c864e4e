//! wasm-bindgen tests of the JS layer, run in Node.js and in headless Chrome
//! and Firefox (`scripts/test.sh wasm-node wasm-chrome wasm-firefox`).
//!
//! They call the exported functions as JS would and check the `code` of
//! every thrown error; a panic anywhere would abort the instance and fail
//! the run.
#![cfg(target_arch = "wasm32")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation
)]

use ehrchain::wasm::*;
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen(inline_js = r#"
export async function pipe(bytes, ts, pieces) {
  const n = Math.max(1, pieces);
  const step = Math.ceil(bytes.length / n) || 1;
  const stream = new ReadableStream({
    start(c) {
      for (let i = 0; i < bytes.length; i += step) c.enqueue(bytes.slice(i, i + step));
      c.close();
    },
  });
  // Read with a reader, not `new Response(…)`: Chrome replaces a stream's
  // error with "Failed to fetch" there, and the typed error is the point.
  const reader = stream.pipeThrough(ts).getReader();
  const parts = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}
export async function pipeError(bytes, ts) {
  try { await pipe(bytes, ts, 3); return "no error"; } catch (e) { return e.code || String(e); }
}
"#)]
extern "C" {
    #[wasm_bindgen(catch)]
    async fn pipe(
        bytes: Uint8Array,
        ts: web_sys::TransformStream,
        pieces: u32,
    ) -> Result<JsValue, JsValue>;
    async fn pipeError(bytes: Uint8Array, ts: web_sys::TransformStream) -> JsValue;
}

fn b(bytes: &[u8]) -> JsValue {
    Uint8Array::from(bytes).into()
}

fn s(text: &str) -> JsValue {
    JsValue::from_str(text)
}

fn n(number: f64) -> JsValue {
    JsValue::from_f64(number)
}

fn code(err: JsValue) -> String {
    Reflect::get(&err, &"code".into())
        .unwrap()
        .as_string()
        .unwrap_or_default()
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 256) as u8).collect()
}

#[wasm_bindgen_test]
fn record_push_finish_round_trip_at_boundaries() {
    let key = generate_record_key().unwrap();
    let seg = 256u32;
    let first = seg as usize - 24 - 16;
    for len in [
        0,
        1,
        first - 1,
        first,
        first + 1,
        first + 240,
        first + 241,
        5000,
    ] {
        let enc = RecordEncryptor::new(b(&key), b(b"ad"), n(seg.into())).unwrap();
        let plain = data(len);
        let mut ct = Vec::new();
        for piece in plain.chunks(100) {
            ct.extend(enc.push(b(piece)).unwrap().to_vec());
        }
        ct.extend(enc.finish().unwrap().to_vec());
        let eh = enc.hash().unwrap();
        assert_eq!(eh, sha256(b(&ct)).unwrap());
        let dec = RecordDecryptor::new(b(&key), b(b"ad"), n(seg.into()), b(&eh)).unwrap();
        let mut out = dec.push(b(&ct)).unwrap().to_vec();
        out.extend(dec.finish().unwrap().to_vec());
        assert_eq!(out, plain, "len {len}");
        assert_eq!(code(enc.push(b(b"x")).unwrap_err()), "StreamFinished");
    }
}

#[wasm_bindgen_test]
fn record_errors_are_typed_and_the_instance_survives() {
    let key = generate_record_key().unwrap();
    let enc = RecordEncryptor::new(b(&key), b(b""), n(128.0)).unwrap();
    let mut ct = enc.push(b(&data(1000))).unwrap().to_vec();
    ct.extend(enc.finish().unwrap().to_vec());
    let open = |c: &[u8], k: &[u8]| -> Result<(), String> {
        let dec = RecordDecryptor::new(b(k), b(b""), n(128.0), JsValue::UNDEFINED).map_err(code)?;
        dec.push(b(c)).map_err(code)?;
        dec.finish().map_err(code)?;
        Ok(())
    };
    let mut bad = ct.clone();
    bad[300] ^= 1;
    assert_eq!(open(&bad, &key), Err("SegmentTampered".into()));
    // 1000 bytes: segment 0 holds 88, segments 1-8 hold 112 each, the last 16 (32 with its tag).
    assert_eq!(open(&ct[..ct.len() - 32], &key), Err("Truncated".into()));
    assert_eq!(
        open(&ct, &[0u8; 16]),
        Err("WrongKeyOrAssociatedData".into())
    );
    let mut header = ct.clone();
    header[0] = 99;
    assert_eq!(open(&header, &key), Err("InvalidHeader".into()));
    let (s1, s2) = (128..256, 256..384);
    let mut swapped = ct.clone();
    swapped[s1.clone()].copy_from_slice(&ct[s2.clone()]);
    swapped[s2].copy_from_slice(&ct[s1]);
    assert_eq!(open(&swapped, &key), Err("SegmentOutOfOrder".into()));
    assert_eq!(open(&ct, &[0u8; 5]), Err("InvalidLength".into()));
    assert_eq!(
        code(RecordEncryptor::new(b(&key), b(b""), n(10.0)).unwrap_err()),
        "InvalidStreamParams"
    );
    assert_eq!(
        code(RecordDecryptor::new(b(&key), b(b""), JsValue::UNDEFINED, b(&[1, 2])).unwrap_err()),
        "InvalidLength"
    );
    // Still alive and correct after all of that.
    assert_eq!(open(&ct, &key), Ok(()));
}

#[wasm_bindgen_test]
async fn transform_streams_round_trip_and_fail_typed() {
    let key = generate_record_key().unwrap();
    let plain = data(300_000);
    let enc = RecordEncryptor::new(b(&key), b(b"ctx"), n(4096.0)).unwrap();
    let ct: Uint8Array = pipe(
        Uint8Array::from(plain.as_slice()),
        enc.transform().unwrap(),
        7,
    )
    .await
    .unwrap()
    .into();
    let ct = ct.to_vec();
    let eh = enc.hash().unwrap();
    assert_eq!(eh, sha256(b(&ct)).unwrap());
    let dec = RecordDecryptor::new(b(&key), b(b"ctx"), n(4096.0), b(&eh)).unwrap();
    let back: Uint8Array = pipe(
        Uint8Array::from(ct.as_slice()),
        dec.transform().unwrap(),
        13,
    )
    .await
    .unwrap()
    .into();
    assert_eq!(back.to_vec(), plain);
    let mut bad = ct.clone();
    bad[10_000] ^= 0x80;
    let dec = RecordDecryptor::new(b(&key), b(b"ctx"), n(4096.0), JsValue::UNDEFINED).unwrap();
    assert_eq!(
        pipeError(Uint8Array::from(bad.as_slice()), dec.transform().unwrap())
            .await
            .as_string()
            .unwrap(),
        "SegmentTampered"
    );
    let dec = RecordDecryptor::new(b(&key), b(b"ctx"), n(4096.0), b(&[0u8; 32])).unwrap();
    assert_eq!(
        pipeError(Uint8Array::from(ct.as_slice()), dec.transform().unwrap())
            .await
            .as_string()
            .unwrap(),
        "HashMismatch"
    );
}

fn field(object: &JsValue, name: &str) -> Vec<u8> {
    Uint8Array::from(Reflect::get(object, &name.into()).unwrap()).to_vec()
}

/// The key whose secret is 1 (its address is well known).
fn key_one() -> Key {
    let mut secret = [0u8; 32];
    secret[31] = 1;
    Key::from_bytes(b(&secret)).unwrap()
}

#[wasm_bindgen_test]
fn a_key_has_the_address_ethereum_gives_it() {
    let one = key_one();
    assert_eq!(one.address(), "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
    assert_eq!(
        address_of(b(&one.public_key(Some(true)))).unwrap(),
        one.address()
    );
}

#[wasm_bindgen_test]
fn a_signed_message_recovers_to_its_signer() {
    let one = key_one();
    let sig = one.sign_message(b(b"hello")).unwrap();
    assert_eq!(
        recover_message(b(b"hello"), b(&sig)).unwrap(),
        one.address()
    );
    assert_ne!(
        recover_message(b(b"hellp"), b(&sig)).unwrap(),
        one.address()
    );
}

#[wasm_bindgen_test]
fn bad_keys_addresses_and_signatures_have_their_own_codes() {
    assert_eq!(
        code(Key::from_bytes(b(&[0u8; 32])).unwrap_err()),
        "InvalidSecretKey"
    );
    assert_eq!(
        code(Key::from_bytes(b(&[1u8; 31])).unwrap_err()),
        "InvalidLength"
    );
    let mut off_curve = key_one().public_key(Some(true));
    off_curve[64] ^= 1;
    assert_eq!(
        code(address_of(b(&off_curve)).unwrap_err()),
        "InvalidPublicKey"
    );
    assert_eq!(
        code(checksum_address(s("0x7e5F4552091A69125d5DfCb7b8C2659029395Bdf")).unwrap_err()),
        "InvalidAddress"
    );
    assert_eq!(
        code(recover_message(b(b"x"), b(&[0u8; 64])).unwrap_err()),
        "InvalidLength"
    );
    assert_eq!(
        code(hash_typed_data(s("{not json")).unwrap_err()),
        "MalformedJson"
    );
}

#[wasm_bindgen_test]
fn ecies_opens_only_for_its_recipient_and_whole() {
    let bob = Key::generate().unwrap();
    let sealed = ecies_seal(b(&bob.public_key(None)), b(b"pass")).unwrap();
    assert_eq!(ecies_open(&bob, b(&sealed)).unwrap(), b"pass");
    assert_eq!(
        code(ecies_open(&key_one(), b(&sealed)).unwrap_err()),
        "EciesDecryptFailed"
    );
    assert_eq!(
        code(ecies_open(&bob, b(&sealed[..50])).unwrap_err()),
        "EciesTooShort"
    );
}

/// An authority, a doctor with a protocol key, and his certificate
/// (hospital "St Mary", valid 1000..5000, serial 7).
struct Certified {
    authority: Key,
    doctor: Key,
    protocol: Key,
    cert: String,
}

fn certified() -> Certified {
    let authority = Key::generate().unwrap();
    let doctor = Key::generate().unwrap();
    let protocol = Key::generate().unwrap();
    let cert = issue_certificate(
        &authority,
        s(&doctor.address()),
        b(&protocol.public_key(None)),
        s("St Mary"),
        n(1000.0),
        n(5000.0),
        n(7.0),
    )
    .unwrap();
    Certified {
        authority,
        doctor,
        protocol,
        cert,
    }
}

fn verify_at(c: &Certified, authority: &str, at: f64) -> Result<JsValue, JsValue> {
    verify_certificate(s(&c.cert), s(authority), n(at), JsValue::FALSE)
}

#[wasm_bindgen_test]
fn a_certificate_verifies_inside_its_validity() {
    let c = certified();
    let fields = verify_at(&c, &c.authority.address(), 1500.0).unwrap();
    assert_eq!(
        Reflect::get(&fields, &"doctor".into()).unwrap().as_string(),
        Some(c.doctor.address())
    );
}

#[wasm_bindgen_test]
fn an_expired_certificate_is_refused() {
    let c = certified();
    assert_eq!(
        code(verify_at(&c, &c.authority.address(), 6000.0).unwrap_err()),
        "CertificateExpired"
    );
}

#[wasm_bindgen_test]
fn a_certificate_of_another_authority_is_refused() {
    let c = certified();
    assert_eq!(
        code(verify_at(&c, &c.doctor.address(), 1500.0).unwrap_err()),
        "CertificateWrongAuthority"
    );
}

#[wasm_bindgen_test]
fn a_fractional_time_is_out_of_range() {
    let c = certified();
    assert_eq!(
        code(verify_at(&c, &c.authority.address(), 1.5).unwrap_err()),
        "OutOfRange"
    );
}

/// What a grant or handoff names: the record `(H1, 1200)` anchored as
/// `[3; 32]` with salt `[7; 32]` and type "lab".
fn grant_record() -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in [
        ("hospital", s("H1")),
        ("time", n(1200.0)),
        ("eh", b(&[3; 32])),
        ("anchorSalt", b(&[7; 32])),
        ("recordType", s("lab")),
    ] {
        Reflect::set(&o, &k.into(), &v).unwrap();
    }
    o.into()
}

/// `Trans` as the bindings give it: `(viewTag, R, ST, C1)`.
type Trans = (JsValue, Vec<u8>, Vec<u8>, Vec<u8>);

/// A grant of [`grant_record`] to `c`'s protocol key, signed by `patient`.
fn grant(c: &Certified, patient: &Key) -> Trans {
    let trans = MaskKey::generate()
        .unwrap()
        .authorise(b(&c.protocol.public_key(None)), grant_record(), patient)
        .unwrap();
    let tag = Reflect::get(&trans, &"viewTag".into()).unwrap();
    (
        tag,
        field(&trans, "r"),
        field(&trans, "st"),
        field(&trans, "c1"),
    )
}

/// The view tag a JS number holds.
fn tag_byte(tag: &JsValue) -> u8 {
    let v = tag.as_f64().unwrap();
    (0..=u8::MAX).find(|b| f64::from(*b) == v).unwrap()
}

/// The view tag `tag` (a JS number) with its bits flipped by `mask`.
fn flip_tag(tag: &JsValue, mask: u8) -> JsValue {
    JsValue::from(tag_byte(tag) ^ mask)
}

/// The registry's answers for [`grant_record`]'s anchor, made by
/// `c.doctor` (serial 7) for `patient`: `(recordStatus, certificateStatus)`.
fn anchor_answers(c: &Certified, patient: &str) -> (JsValue, JsValue) {
    use ehrchain::chain::abi::{encode, Token};
    let commitment =
        anchor_commitment(b(&[7; 32]), s(&c.doctor.address()), s(patient), s("lab")).unwrap();
    let record = encode(&[
        Token::Uint(1),
        Token::Address(ehrchain::Address::parse(&c.doctor.address()).unwrap()),
        Token::Uint(7),
        Token::Uint(1500),
        Token::Bytes32(commitment.try_into().unwrap()),
        Token::Uint(1200),
        Token::Uint(0),
        Token::Uint(0),
    ]);
    (
        s(&ehrchain::hex::encode_prefixed(&record)),
        s(&status_answer(&c.doctor.address(), false)),
    )
}

#[wasm_bindgen_test]
fn only_the_addressed_doctor_matches_and_opens_a_grant() {
    let c = certified();
    let (vt, r, st, c1) = grant(&c, &Key::generate().unwrap());
    assert_eq!(c1.len(), 609);
    let scanner = Scanner::new(&c.protocol).unwrap();
    let other = Scanner::new(&Key::generate().unwrap()).unwrap();
    assert!(scanner.matches(vt.clone(), b(&r), b(&st)).unwrap());
    assert!(!other.matches(vt.clone(), b(&r), b(&st)).unwrap());
    assert!(!scanner.matches(vt.clone(), b(&[1, 2, 3]), b(&st)).unwrap());
    assert_eq!(
        code(other.open(vt.clone(), b(&r), b(&st), b(&c1)).unwrap_err()),
        "NotForThisKey"
    );
    let pass = scanner.open(vt, b(&r), b(&st), b(&c1)).unwrap();
    assert_eq!(
        Reflect::get(&pass, &"hospital".into()).unwrap().as_string(),
        Some("H1".into())
    );
}

/// The view tag is a filter, never the proof: a flipped tag is no match
/// (and `open` says `NotForThisKey`), and so is the right tag with a wrong
/// `ST`; a tag that is not a number 0–255 is refused with its code.
#[wasm_bindgen_test]
fn a_flipped_view_tag_or_a_wrong_st_is_no_match() {
    let c = certified();
    let (vt, r, st, c1) = grant(&c, &Key::generate().unwrap());
    let (_, _, other_st, _) = grant(&c, &Key::generate().unwrap());
    let scanner = Scanner::new(&c.protocol).unwrap();
    assert!(scanner.matches(vt.clone(), b(&r), b(&st)).unwrap());
    for mask in [0x01, 0x80, 0xff] {
        let bad = flip_tag(&vt, mask);
        assert!(!scanner.matches(bad.clone(), b(&r), b(&st)).unwrap());
        assert_eq!(
            code(scanner.open(bad, b(&r), b(&st), b(&c1)).unwrap_err()),
            "NotForThisKey"
        );
    }
    assert!(!scanner.matches(vt.clone(), b(&r), b(&other_st)).unwrap());
    assert_eq!(
        code(scanner.open(vt, b(&r), b(&other_st), b(&c1)).unwrap_err()),
        "NotForThisKey"
    );
    for (bad, expect) in [
        (JsValue::from(256u32), "OutOfRange"),
        (JsValue::from(-1i32), "OutOfRange"),
        (JsValue::from(1.5f64), "OutOfRange"),
        (s("0x01"), "InvalidArgument"),
        (JsValue::UNDEFINED, "InvalidArgument"),
    ] {
        assert_eq!(
            code(scanner.matches(bad, b(&r), b(&st)).unwrap_err()),
            expect
        );
    }
}

#[wasm_bindgen_test]
fn a_grant_signed_by_the_anchors_patient_is_confirmed() {
    let c = certified();
    let patient = Key::generate().unwrap();
    let (vt, r, st, c1) = grant(&c, &patient);
    let opened = Scanner::new(&c.protocol)
        .unwrap()
        .open(vt, b(&r), b(&st), b(&c1))
        .unwrap();
    let (record, cert) = anchor_answers(&c, &patient.address());
    let anchor = confirm_grant(opened, record, cert).unwrap();
    assert_eq!(
        Reflect::get(&anchor, &"doctor".into()).unwrap().as_string(),
        Some(c.doctor.address())
    );
}

#[wasm_bindgen_test]
fn a_grant_signed_by_a_stranger_is_forged() {
    let c = certified();
    let patient = Key::generate().unwrap();
    let (vt, r, st, c1) = grant(&c, &Key::generate().unwrap());
    let opened = Scanner::new(&c.protocol)
        .unwrap()
        .open(vt, b(&r), b(&st), b(&c1))
        .unwrap();
    let (record, cert) = anchor_answers(&c, &patient.address());
    assert_eq!(
        code(confirm_grant(opened, record, cert).unwrap_err()),
        "GrantForged"
    );
}

#[wasm_bindgen_test]
fn a_grant_for_a_record_anchored_by_an_uncertified_account_is_refused() {
    let c = certified();
    let patient = Key::generate().unwrap();
    let (vt, r, st, c1) = grant(&c, &patient);
    let opened = Scanner::new(&c.protocol)
        .unwrap()
        .open(vt, b(&r), b(&st), b(&c1))
        .unwrap();
    let (record, _) = anchor_answers(&c, &patient.address());
    // The serial is registered to another account than the anchoring one.
    let cert = s(&status_answer(&Key::generate().unwrap().address(), false));
    assert_eq!(
        code(confirm_grant(opened, record, cert).unwrap_err()),
        "AnchorNotCertified"
    );
}

/// The pass a doctor opens carries `k_t`: from it he recomputes `X` and
/// unmasks `K_P` exactly as the patient masked them.
#[wasm_bindgen_test]
fn an_opened_pass_recomputes_the_index_and_unmasks_the_record_key() {
    let c = certified();
    let kt = MaskKey::generate().unwrap();
    let kp = generate_record_key().unwrap();
    let masked = kt
        .mask(s("H1"), n(1200.0), b(&[0x42u8; 32]), b(&kp))
        .unwrap();
    let trans = kt
        .authorise(
            b(&c.protocol.public_key(None)),
            grant_record(),
            &Key::generate().unwrap(),
        )
        .unwrap();
    let pass = Scanner::new(&c.protocol)
        .unwrap()
        .open(
            Reflect::get(&trans, &"viewTag".into()).unwrap(),
            b(&field(&trans, "r")),
            b(&field(&trans, "st")),
            b(&field(&trans, "c1")),
        )
        .unwrap();
    let mk = Reflect::get(&pass, &"maskKey".into()).unwrap();
    let export = js_sys::Function::from(Reflect::get(&mk, &"exportSecret".into()).unwrap());
    let pass_key = MaskKey::from_bytes(export.call0(&mk).unwrap()).unwrap();
    assert_eq!(
        pass_key.index(s("H1"), n(1200.0)).unwrap(),
        field(&masked, "x")
    );
    let un = pass_key
        .unmask(
            s("H1"),
            n(1200.0),
            b(&field(&masked, "z")),
            b(&field(&masked, "k")),
        )
        .unwrap();
    assert_eq!(field(&un, "recordKey"), kp);
    assert_eq!(field(&un, "txId"), [0x42u8; 32]);
}

fn signed_request(c: &Certified) -> String {
    sign_access_request(
        &c.doctor,
        s(&c.cert),
        s("H1"),
        b(&[9u8; 32]),
        n(1500.0),
        n(60.0),
    )
    .unwrap()
}

/// The registry's `certificateStatus` answer (hex) for serial 7 registered
/// to `doctor`, revoked or not.
fn status_answer(doctor: &str, revoked: bool) -> String {
    use ehrchain::chain::abi::{encode, Token};
    let doctor = ehrchain::Address::parse(doctor).unwrap();
    let answer = encode(&[
        Token::Address(doctor),
        Token::Uint(1000),
        Token::Uint(5000),
        Token::Uint(u64::from(revoked)),
        Token::Uint(if revoked { 1200 } else { 0 }),
    ]);
    ehrchain::hex::encode_prefixed(&answer)
}

fn verify_request_with(c: &Certified, hospital: &str, status: &str) -> Result<JsValue, JsValue> {
    verify_access_request(
        s(&signed_request(c)),
        s(&c.authority.address()),
        s(hospital),
        n(1500.0),
        n(600.0),
        s(status),
    )
}

fn verify_request(c: &Certified, hospital: &str, revoked: bool) -> Result<JsValue, JsValue> {
    verify_request_with(c, hospital, &status_answer(&c.doctor.address(), revoked))
}

#[wasm_bindgen_test]
fn a_signed_request_verifies_and_names_its_w() {
    let c = certified();
    let ok = verify_request(&c, "H1", false).unwrap();
    assert_eq!(field(&ok, "w"), [9u8; 32]);
    assert_eq!(
        Reflect::get(&ok, &"doctor".into()).unwrap().as_string(),
        Some(c.doctor.address())
    );
}

#[wasm_bindgen_test]
fn a_request_for_another_hospital_is_refused() {
    let c = certified();
    assert_eq!(
        code(verify_request(&c, "H2", false).unwrap_err()),
        "RequestWrongHospital"
    );
}

#[wasm_bindgen_test]
fn a_request_under_a_revoked_certificate_is_refused() {
    let c = certified();
    assert_eq!(
        code(verify_request(&c, "H1", true).unwrap_err()),
        "CertificateRevoked"
    );
}

#[wasm_bindgen_test]
fn a_request_under_a_certificate_registered_to_another_doctor_is_refused() {
    let c = certified();
    let registered_to = status_answer(&c.authority.address(), false);
    assert_eq!(
        code(verify_request_with(&c, "H1", &registered_to).unwrap_err()),
        "CertificateMismatch"
    );
}

#[wasm_bindgen_test]
fn a_request_under_an_unregistered_certificate_is_refused() {
    let c = certified();
    let unknown = ehrchain::hex::encode_prefixed(&[0u8; 5 * 32]);
    assert_eq!(
        code(verify_request_with(&c, "H1", &unknown).unwrap_err()),
        "CertificateUnknown"
    );
}

/// A handoff of [`grant_record`] with `tx_id = [0x42; 32]`, `K_P = kp`, `F = [0x17; 32]`.
fn handoff_of(kp: &[u8]) -> JsValue {
    let h = grant_record();
    for (k, v) in [
        ("txId", b(&[0x42u8; 32])),
        ("recordKey", b(kp)),
        ("filingSecret", b(&[0x17u8; 32])),
    ] {
        Reflect::set(&h, &k.into(), &v).unwrap();
    }
    h
}

#[wasm_bindgen_test]
fn a_handoff_opens_only_for_the_patient() {
    let patient = Key::generate().unwrap();
    let kp = generate_record_key().unwrap();
    let sealed = seal_handoff(b(&patient.public_key(None)), handoff_of(&kp)).unwrap();
    let h = open_handoff(&patient, b(&sealed)).unwrap();
    assert_eq!(field(&h, "txId"), [0x42u8; 32]);
    assert_eq!(field(&h, "recordKey"), kp);
    assert_eq!(field(&h, "filingSecret"), [0x17u8; 32]);
    assert_eq!(field(&h, "eh"), [3u8; 32]);
    assert_eq!(field(&h, "anchorSalt"), [7u8; 32]);
    assert_eq!(
        code(open_handoff(&Key::generate().unwrap(), b(&sealed)).unwrap_err()),
        "EciesDecryptFailed"
    );
}

#[wasm_bindgen_test]
fn a_handoff_checks_its_anchor_for_its_patient_only() {
    let c = certified();
    let patient = Key::generate().unwrap();
    let kp = generate_record_key().unwrap();
    let sealed = seal_handoff(b(&patient.public_key(None)), handoff_of(&kp)).unwrap();
    let h = open_handoff(&patient, b(&sealed)).unwrap();
    let (record, cert) = anchor_answers(&c, &patient.address());
    assert!(check_handoff_anchor(
        h.clone(),
        s(&patient.address()),
        record.clone(),
        cert.clone()
    )
    .is_ok());
    let stranger = Key::generate().unwrap().address();
    assert_eq!(
        code(check_handoff_anchor(h, s(&stranger), record, cert).unwrap_err()),
        "AnchorMismatch"
    );
}

#[wasm_bindgen_test]
fn error_codes_are_exported_in_the_documented_order() {
    let codes: Vec<String> = error_codes()
        .iter()
        .map(|c| c.as_string().unwrap())
        .collect();
    let expected: Vec<String> = ehrchain::Error::CODES
        .iter()
        .map(|c| (*c).to_owned())
        .collect();
    assert_eq!(codes, expected);
    assert!(codes.iter().any(|c| c == "SegmentTampered"));
}

/// Arguments of the wrong JS type are refused with `InvalidArgument`, never
/// coerced (a string as bytes, "true" as a boolean, "5" as a number).
#[wasm_bindgen_test]
fn wrong_argument_types_are_refused_not_coerced() {
    let arr: JsValue = js_sys::Array::of2(&n(1.0), &n(2.0)).into();
    for bad in [
        s("hello"),
        n(5.0),
        arr,
        js_sys::ArrayBuffer::new(4).into(),
        JsValue::NULL,
    ] {
        assert_eq!(code(sha256(bad.clone()).unwrap_err()), "InvalidArgument");
        // A string is bytes-like for a key (hex); "hello" is no hex.
        let expected = if bad.is_string() {
            "InvalidHex"
        } else {
            "InvalidArgument"
        };
        assert_eq!(code(Key::from_bytes(bad.clone()).unwrap_err()), expected);
    }
    let key = generate_record_key().unwrap();
    let enc = RecordEncryptor::new(b(&key), b(b""), JsValue::UNDEFINED).unwrap();
    assert_eq!(code(enc.push(s("text")).unwrap_err()), "InvalidArgument");
    assert_eq!(
        code(RecordEncryptor::new(b(&key), b(b""), s("4096")).unwrap_err()),
        "InvalidArgument"
    );
    assert_eq!(
        code(RecordEncryptor::new(b(&key), b(b""), n(4096.5)).unwrap_err()),
        "OutOfRange"
    );
    assert_eq!(
        code(RecordEncryptor::new(b(&key), b(b""), n(4_294_971_392.0)).unwrap_err()),
        "InvalidStreamParams"
    );
    assert_eq!(
        code(hash_typed_data(n(5.0)).unwrap_err()),
        "InvalidArgument"
    );
    assert_eq!(
        code(checksum_address(js_sys::Object::new().into()).unwrap_err()),
        "InvalidArgument"
    );
    assert_eq!(
        code(record_associated_data(s("H"), s("5")).unwrap_err()),
        "InvalidArgument"
    );
    let authority = Key::generate().unwrap();
    let cert = issue_certificate(
        &authority,
        s(&authority.address()),
        b(&authority.public_key(None)),
        s("H"),
        n(1.0),
        n(10.0),
        n(1.0),
    )
    .unwrap();
    for not_a_bool in [
        s("true"),
        s("yes"),
        JsValue::UNDEFINED,
        JsValue::NULL,
        n(1.0),
    ] {
        assert_eq!(
            code(
                verify_certificate(s(&cert), s(&authority.address()), n(5.0), not_a_bool)
                    .unwrap_err()
            ),
            "InvalidArgument"
        );
    }
}

/// Hostile input of every shape to every parser: errors, never a panic.
#[wasm_bindgen_test]
fn garbage_never_panics() {
    let key = Key::generate().unwrap();
    let scanner = Scanner::new(&key).unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..300 {
        let len = (next() % 200) as usize;
        let junk: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let text = String::from_utf8_lossy(&junk).into_owned();
        let _ = address_of(b(&junk));
        let _ = Key::from_bytes(b(&junk));
        let _ = ecies_open(&key, b(&junk));
        let _ = open_handoff(&key, b(&junk));
        let _ = recover_message(b(&junk), b(&junk));
        let _ = hash_typed_data(s(&text));
        let _ = verify_certificate(s(&text), s("0x00"), n(f64::NAN), JsValue::FALSE);
        let _ = verify_access_request(s(&text), s(&text), s(&text), n(-1.0), n(1e300), s(&text));
        let _ = scanner.open(JsValue::from(0u8), b(&junk), b(&junk), b(&junk));
        let _ = scanner.matches(JsValue::from(0u8), b(&junk), b(&junk));
        let _ = h1(b(&junk));
        let _ = MaskKey::from_bytes(b(&junk))
            .and_then(|m| m.unmask(s(&text), n(round as f64), b(&junk), b(&junk)));
        if let Ok(dec) = RecordDecryptor::new(
            b(&junk[..len.min(16)]),
            b(&junk),
            n((64 + len) as f64),
            JsValue::UNDEFINED,
        ) {
            let _ = dec.push(b(&junk));
            let _ = dec.finish();
        }
    }
    assert_eq!(key.address().len(), 42);
}

/// The named failure-mode vectors (tests/vectors/failures.json, the same
/// file the native and npm runs use) through the wasm `RecordDecryptor`, in
/// pieces of 7 bytes: each case answers its exact `code` (or "ok").
#[wasm_bindgen_test]
fn every_failure_mode_has_its_expected_code_in_wasm() {
    let file: serde_json::Value =
        serde_json::from_str(include_str!("vectors/failures.json")).unwrap();
    let bytes = |v: &serde_json::Value, name: &'static str| {
        v[name]
            .as_str()
            .map(|t| ehrchain::hex::decode(name, t).unwrap())
    };
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() >= 14);
    for case in cases {
        let key = bytes(case, "key").or(bytes(&file, "key")).unwrap();
        let ad = bytes(case, "associatedData")
            .or(bytes(&file, "associatedData"))
            .unwrap();
        let expected_hash = bytes(case, "expectedHash").map_or(JsValue::UNDEFINED, |h| b(&h));
        let segment = file["segmentSize"].as_f64().unwrap();
        let dec = RecordDecryptor::new(b(&key), b(&ad), n(segment), expected_hash).unwrap();
        let ct = bytes(case, "ciphertext").unwrap();
        let outcome = ct
            .chunks(7)
            .try_for_each(|piece| dec.push(b(piece)).map(|_| ()))
            .and_then(|()| dec.finish().map(|_| ()));
        let got = match outcome {
            Ok(()) => "ok".to_owned(),
            Err(e) => code(e),
        };
        assert_eq!(got, case["expect"].as_str().unwrap(), "{}", case["name"]);
    }
}

/// The named grant failure-mode vectors (tests/vectors/grant_failures.json,
/// the same file the native and package runs use) through `Scanner.open`
/// and `confirmGrant`: each case answers its exact code.
#[wasm_bindgen_test]
fn every_grant_failure_mode_has_its_expected_code_in_wasm() {
    let file: serde_json::Value =
        serde_json::from_str(include_str!("vectors/grant_failures.json")).unwrap();
    let hex = |v: &serde_json::Value, name: &str| {
        ehrchain::hex::decode("vector", v[name].as_str().unwrap()).unwrap()
    };
    let protocol = Key::from_bytes(b(&hex(&file, "protocolSecret"))).unwrap();
    let scanner = Scanner::new(&protocol).unwrap();
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() >= 15);
    for case in cases {
        let outcome = scanner
            .open(
                JsValue::from(case["viewTag"].as_f64().unwrap()),
                b(&hex(case, "r")),
                b(&hex(case, "st")),
                b(&hex(case, "c1")),
            )
            .and_then(|opened| {
                confirm_grant(
                    opened.clone(),
                    s(case["recordStatus"].as_str().unwrap()),
                    s(case["certificateStatus"].as_str().unwrap()),
                )
                .map(|_| opened)
            });
        let got = match outcome {
            Ok(opened) => {
                assert_eq!(
                    Reflect::get(&opened, &"patient".into())
                        .unwrap()
                        .as_string()
                        .as_deref(),
                    file["patient"].as_str()
                );
                "ok".to_owned()
            }
            Err(e) => code(e),
        };
        assert_eq!(got, case["expect"].as_str().unwrap(), "{}", case["name"]);
    }
}

/// The named access-request failure-mode vectors
/// (tests/vectors/request_failures.json) through `verifyAccessRequest`.
#[wasm_bindgen_test]
fn every_request_failure_mode_has_its_expected_code_in_wasm() {
    let file: serde_json::Value =
        serde_json::from_str(include_str!("vectors/request_failures.json")).unwrap();
    let text = |v: &serde_json::Value, name: &str| s(v[name].as_str().unwrap());
    let number = |name: &str| n(file[name].as_f64().unwrap());
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() >= 17);
    for case in cases {
        let outcome = verify_access_request(
            text(case, "request"),
            text(&file, "authority"),
            text(&file, "hospital"),
            number("now"),
            number("maxTtl"),
            text(case, "certificateStatus"),
        );
        let got = match outcome {
            Ok(_) => "ok".to_owned(),
            Err(e) => code(e),
        };
        assert_eq!(got, case["expect"].as_str().unwrap(), "{}", case["name"]);
    }
}

/// An opened grant edited after `Scanner.open` (its `patient` swapped for
/// the anchor's real patient, as an app merging objects could) is refused:
/// `confirmGrant` recovers the signer again from the signed fields.
#[wasm_bindgen_test]
fn an_opened_grant_edited_to_name_the_real_patient_is_forged() {
    let c = certified();
    let patient = Key::generate().unwrap();
    let (vt, r, st, c1) = grant(&c, &Key::generate().unwrap());
    let opened = Scanner::new(&c.protocol)
        .unwrap()
        .open(vt, b(&r), b(&st), b(&c1))
        .unwrap();
    Reflect::set(&opened, &"patient".into(), &s(&patient.address())).unwrap();
    let (record, cert) = anchor_answers(&c, &patient.address());
    assert_eq!(
        code(confirm_grant(opened.clone(), record.clone(), cert.clone()).unwrap_err()),
        "GrantForged"
    );
    Reflect::delete_property(opened.unchecked_ref::<js_sys::Object>(), &"patient".into()).unwrap();
    assert_eq!(
        code(confirm_grant(opened, record, cert).unwrap_err()),
        "GrantForged"
    );
}

/// A serial the decoders return as a `bigint` (beyond 2^53-1) is accepted
/// by `certificateStatusCall`; a negative one is out of range.
#[wasm_bindgen_test]
fn a_bigint_serial_reads_its_certificate_status() {
    let registry = s("0x5FbDB2315678afecb367f032d93F642f64180aa3");
    let big: JsValue = js_sys::BigInt::from(u64::MAX).into();
    let call = certificate_status_call(registry.clone(), big).unwrap();
    let data = Reflect::get(&call, &"data".into())
        .unwrap()
        .as_string()
        .unwrap();
    assert!(data.ends_with(&"f".repeat(16)), "{data}");
    let negative: JsValue = js_sys::BigInt::from(-1i64).into();
    assert_eq!(
        code(certificate_status_call(registry, negative).unwrap_err()),
        "OutOfRange"
    );
}

fn json(text: &str) -> JsValue {
    js_sys::JSON::parse(text).unwrap()
}

fn prop(object: &JsValue, name: &str) -> JsValue {
    Reflect::get(object, &name.into()).unwrap()
}

const REGISTRY: &str = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

/// Bytes arguments take a `Uint8Array` or hex text by the one rule of
/// docs/PROTOCOL.md §1; content (messages, plaintexts, hash inputs) takes a
/// `Uint8Array` only.
#[wasm_bindgen_test]
fn bytes_arguments_take_hex_text_by_the_one_rule() {
    let secret = [0x11u8; 32];
    let digits = ehrchain::hex::encode(&secret);
    let expected = Key::from_bytes(b(&secret)).unwrap().address();
    for text in [
        format!("0x{digits}"),
        format!("0X{digits}"),
        digits.to_uppercase(),
        digits.clone(),
    ] {
        assert_eq!(Key::from_bytes(s(&text)).unwrap().address(), expected);
    }
    assert_eq!(code(Key::from_bytes(s("0x1")).unwrap_err()), "InvalidHex");
    assert_eq!(
        code(Key::from_bytes(n(1.0)).unwrap_err()),
        "InvalidArgument"
    );
    let public = Key::from_bytes(b(&secret)).unwrap().public_key(None);
    assert_eq!(
        address_of(s(&ehrchain::hex::encode_prefixed(&public))).unwrap(),
        expected
    );
    // The address rule is the same: no prefix, or `0X`, is accepted.
    let bare = expected[2..].to_owned();
    assert_eq!(checksum_address(s(&bare)).unwrap(), expected);
    assert_eq!(
        checksum_address(s(&format!("0X{}", bare.to_lowercase()))).unwrap(),
        expected
    );
    // Content stays a Uint8Array: "abcd" is text to a wallet, not 2 bytes.
    assert_eq!(code(sha256(s("abcd")).unwrap_err()), "InvalidArgument");
    assert_eq!(
        code(hash_message(s("abcd")).unwrap_err()),
        "InvalidArgument"
    );
    // A hash and a record key as hex.
    let tx = mark_deleted_tx(s(REGISTRY), s(&"ab".repeat(32))).unwrap();
    let data = prop(&tx, "data").as_string().unwrap();
    assert!(data.ends_with(&"ab".repeat(32)), "{data}");
}

/// Times are Unix seconds: a millisecond time is refused before any
/// calldata is built, and an empty validity as `issueCertificate` refuses it.
#[wasm_bindgen_test]
fn times_in_milliseconds_and_empty_validities_are_refused_before_sending() {
    let key = Key::generate().unwrap();
    let register = |from: f64, until: f64| {
        register_doctor_tx(
            s(REGISTRY),
            n(7.0),
            s(&key.address()),
            b(&key.public_key(None)),
            n(from),
            n(until),
        )
    };
    assert!(register(1_700_000_000.0, 1_800_000_000.0).is_ok());
    assert_eq!(
        code(register(1_700_000_000.0, 1_800_000_000_000.0).unwrap_err()),
        "TimeInMilliseconds"
    );
    assert_eq!(code(register(200.0, 200.0).unwrap_err()), "InvalidValidity");
    let anchor =
        |time: f64| anchor_record_tx(s(REGISTRY), b(&[1; 32]), b(&[2; 32]), n(time), n(7.0));
    assert!(anchor(1_700_000_000.0).is_ok());
    let err = anchor(1_700_000_000_000.0).unwrap_err();
    assert_eq!(code(err.clone()), "TimeInMilliseconds");
    let message = js_sys::Error::from(err).message().as_string().unwrap();
    assert!(message.contains("recordTime"), "{message}");
    assert_eq!(
        code(record_associated_data(s("H"), n(1_700_000_000_000.0)).unwrap_err()),
        "TimeInMilliseconds"
    );
}

/// A request is not signed with a certificate that is not valid at its
/// `now`, and a request valid for no time is refused.
#[wasm_bindgen_test]
fn a_request_is_not_signed_outside_its_certificates_validity() {
    let c = certified();
    let sign_at = |now: f64, ttl: f64| {
        sign_access_request(&c.doctor, s(&c.cert), s("H1"), b(&[9; 32]), n(now), n(ttl))
    };
    assert!(sign_at(1500.0, 60.0).is_ok());
    assert_eq!(
        code(sign_at(5000.0, 60.0).unwrap_err()),
        "CertificateExpired"
    );
    assert_eq!(
        code(sign_at(999.0, 60.0).unwrap_err()),
        "CertificateNotYetValid"
    );
    assert_eq!(code(sign_at(1500.0, 0.0).unwrap_err()), "OutOfRange");
}

/// An `Authorised` log as `eth_getLogs` returns it.
fn authorised_log(seq: u8, (vt, r, st, c1): &Trans) -> serde_json::Value {
    let vt = tag_byte(vt);
    use ehrchain::chain::abi::{encode, Token};
    let mut topic = [0u8; 32];
    topic[31] = seq;
    serde_json::json!({
        "address": REGISTRY,
        "topics": [authorised_topic(), ehrchain::hex::encode_prefixed(&topic)],
        "data": ehrchain::hex::encode_prefixed(&encode(&[
            Token::Bytes1(vt), Token::Bytes(r.clone()), Token::Bytes(st.clone()), Token::Bytes(c1.clone()),
        ])),
        "transactionHash": ehrchain::hex::encode_prefixed(&[seq; 32]),
        "blockNumber": "0x5",
        "logIndex": "0x0",
    })
}

/// Junk among the logs (`null`, a number, `{}`, non-hex data) is skipped
/// by a scan; logs that are not an array are an `InvalidArgument`.
#[wasm_bindgen_test]
fn a_scan_skips_junk_logs() {
    let c = certified();
    let patient = Key::generate().unwrap();
    let trans = grant(&c, &patient);
    let mut non_hex = authorised_log(1, &trans);
    non_hex["data"] = serde_json::json!("0xnot hex");
    let mut wrong_tag = trans.clone();
    wrong_tag.0 = flip_tag(&trans.0, 0x10);
    let logs = serde_json::json!([
        null,
        42,
        {},
        "x",
        non_hex,
        authorised_log(2, &trans),
        authorised_log(3, &wrong_tag)
    ]);
    let scanner = Scanner::new(&c.protocol).unwrap();
    let found = scan_authorisations(&scanner, s(REGISTRY), json(&logs.to_string())).unwrap();
    assert_eq!(found.length(), 1);
    assert_eq!(prop(&found.get(0), "seq").as_f64(), Some(2.0));
    assert_eq!(prop(&found.get(0), "viewTag").as_f64(), trans.0.as_f64());
    for not_an_array in [json("{}"), JsValue::NULL, s("[]")] {
        assert_eq!(
            code(scan_authorisations(&scanner, s(REGISTRY), not_an_array).unwrap_err()),
            "InvalidArgument"
        );
    }
}

/// Revert data of a registry error decodes to the `EhrchainError` a
/// reverted call is, with `revert: {name, signature, args}`; other data
/// to `undefined`.
#[wasm_bindgen_test]
fn registry_reverts_decode_to_typed_errors() {
    use ehrchain::chain::abi::{call, Token};
    let data = call("NotCertifiedDoctor(uint64)", &[Token::Uint(7)]);
    let err = decode_registry_revert(b(&data)).unwrap();
    assert_eq!(code(err.clone()), "Reverted");
    assert!(err.is_instance_of::<js_sys::Error>());
    let message = js_sys::Error::from(err.clone())
        .message()
        .as_string()
        .unwrap();
    assert!(message.contains("NotCertifiedDoctor(7)"), "{message}");
    let revert = prop(&err, "revert");
    assert_eq!(
        prop(&revert, "name").as_string().unwrap(),
        "NotCertifiedDoctor"
    );
    assert_eq!(
        prop(&revert, "signature").as_string().unwrap(),
        "NotCertifiedDoctor(uint64)"
    );
    let args = js_sys::Array::from(&prop(&revert, "args"));
    assert_eq!(args.get(0).as_f64(), Some(7.0));
    // bytes32 arguments are bytes; hex text is accepted as the data.
    let anchored = call("AlreadyAnchored(bytes32)", &[Token::Bytes32([5; 32])]);
    let err = decode_registry_revert(s(&ehrchain::hex::encode_prefixed(&anchored))).unwrap();
    let args = js_sys::Array::from(&prop(&prop(&err, "revert"), "args"));
    assert_eq!(Uint8Array::from(args.get(0)).to_vec(), vec![5u8; 32]);
    // Not one of the registry's errors: undefined, not thrown.
    assert!(decode_registry_revert(b(&[1, 2, 3, 4]))
        .unwrap()
        .is_undefined());
    assert!(decode_registry_revert(b(&[])).unwrap().is_undefined());
    assert_eq!(
        code(decode_registry_revert(n(1.0)).unwrap_err()),
        "InvalidArgument"
    );
}

/// Decoded events and record statuses carry bytes as `Uint8Array`; the
/// transaction hash stays hex text; `skipForeign` may be left out.
#[wasm_bindgen_test]
fn decoded_events_and_statuses_carry_bytes() {
    use ehrchain::chain::abi::{encode, Token};
    use ehrchain::chain::registry::EventKind;
    let mut doctor = [0u8; 32];
    doctor[12..].copy_from_slice(&[0xdd; 20]);
    let log = serde_json::json!({
        "address": REGISTRY,
        "topics": [
            ehrchain::hex::encode_prefixed(&EventKind::RecordAnchored.topic()),
            ehrchain::hex::encode_prefixed(&[0xee; 32]),
            ehrchain::hex::encode_prefixed(&doctor),
        ],
        "data": ehrchain::hex::encode_prefixed(&encode(&[
            Token::Uint(7), Token::Bytes32([0xcc; 32]), Token::Uint(1200), Token::Uint(1500),
        ])),
        "transactionHash": ehrchain::hex::encode_prefixed(&[0x42; 32]),
        "blockNumber": "0x9",
        "logIndex": "0x0",
    });
    let events = decode_registry_logs(
        s(REGISTRY),
        json(&serde_json::json!([log]).to_string()),
        JsValue::UNDEFINED,
    )
    .unwrap();
    let event = events.get(0);
    assert_eq!(prop(&event, "event").as_string().unwrap(), "RecordAnchored");
    assert_eq!(field(&event, "eh"), vec![0xee; 32]);
    assert_eq!(field(&event, "commitment"), vec![0xcc; 32]);
    assert_eq!(prop(&event, "serial").as_f64(), Some(7.0));
    assert_eq!(prop(&event, "blockNumber").as_f64(), Some(9.0));
    assert_eq!(
        prop(&event, "transactionHash").as_string().unwrap(),
        ehrchain::hex::encode_prefixed(&[0x42; 32])
    );
    let c = certified();
    let (record_status, _) = anchor_answers(&c, &Key::generate().unwrap().address());
    let status = decode_record_status(record_status).unwrap();
    assert!(prop(&status, "commitment").is_instance_of::<Uint8Array>());
    assert_eq!(field(&status, "commitment").len(), 32);
    assert_eq!(prop(&status, "recordTime").as_f64(), Some(1200.0));
}
