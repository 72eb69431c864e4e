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
        let enc = RecordEncryptor::new(&key, b"ad", Some(seg)).unwrap();
        let plain = data(len);
        let mut ct = Vec::new();
        for piece in plain.chunks(100) {
            ct.extend(enc.push(piece).unwrap());
        }
        ct.extend(enc.finish().unwrap());
        let eh = enc.hash().unwrap();
        assert_eq!(eh, sha256(&ct));
        let dec = RecordDecryptor::new(&key, b"ad", Some(seg), Some(eh)).unwrap();
        let mut out = dec.push(&ct).unwrap();
        out.extend(dec.finish().unwrap());
        assert_eq!(out, plain, "len {len}");
        assert_eq!(code(enc.push(b"x").unwrap_err()), "StreamFinished");
    }
}

#[wasm_bindgen_test]
fn record_errors_are_typed_and_the_instance_survives() {
    let key = generate_record_key().unwrap();
    let enc = RecordEncryptor::new(&key, b"", Some(128)).unwrap();
    let mut ct = enc.push(&data(1000)).unwrap();
    ct.extend(enc.finish().unwrap());
    let open = |c: &[u8], k: &[u8]| -> Result<(), String> {
        let dec = RecordDecryptor::new(k, b"", Some(128), None).map_err(code)?;
        dec.push(c).map_err(code)?;
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
        code(RecordEncryptor::new(&key, b"", Some(10)).unwrap_err()),
        "InvalidStreamParams"
    );
    assert_eq!(
        code(RecordDecryptor::new(&key, b"", None, Some(vec![1, 2])).unwrap_err()),
        "InvalidLength"
    );
    // Still alive and correct after all of that.
    assert_eq!(open(&ct, &key), Ok(()));
}

#[wasm_bindgen_test]
async fn transform_streams_round_trip_and_fail_typed() {
    let key = generate_record_key().unwrap();
    let plain = data(300_000);
    let enc = RecordEncryptor::new(&key, b"ctx", Some(4096)).unwrap();
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
    assert_eq!(eh, sha256(&ct));
    let dec = RecordDecryptor::new(&key, b"ctx", Some(4096), Some(eh.clone())).unwrap();
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
    let dec = RecordDecryptor::new(&key, b"ctx", Some(4096), None).unwrap();
    assert_eq!(
        pipeError(Uint8Array::from(bad.as_slice()), dec.transform().unwrap())
            .await
            .as_string()
            .unwrap(),
        "SegmentTampered"
    );
    let dec = RecordDecryptor::new(&key, b"ctx", Some(4096), Some(vec![0u8; 32])).unwrap();
    assert_eq!(
        pipeError(Uint8Array::from(ct.as_slice()), dec.transform().unwrap())
            .await
            .as_string()
            .unwrap(),
        "HashMismatch"
    );
}

#[wasm_bindgen_test]
fn accounts_signatures_and_ecies() {
    let one = {
        let mut s = [0u8; 32];
        s[31] = 1;
        Key::from_bytes(&s).unwrap()
    };
    assert_eq!(one.address(), "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
    assert_eq!(
        address_of(&one.public_key(Some(true))).unwrap(),
        one.address()
    );
    let sig = one.sign_message(b"hello").unwrap();
    assert_eq!(recover_message(b"hello", &sig).unwrap(), one.address());
    assert_eq!(
        code(Key::from_bytes(&[0u8; 32]).unwrap_err()),
        "InvalidSecretKey"
    );
    assert_eq!(
        code(Key::from_bytes(&[1u8; 31]).unwrap_err()),
        "InvalidLength"
    );
    let mut off_curve = one.public_key(Some(true));
    off_curve[64] ^= 1;
    assert_eq!(
        code(address_of(&off_curve).unwrap_err()),
        "InvalidPublicKey"
    );
    assert_eq!(
        code(checksum_address("0x7e5F4552091A69125d5DfCb7b8C2659029395Bdf").unwrap_err()),
        "InvalidAddress"
    );
    assert_eq!(
        code(recover_message(b"x", &[0u8; 64]).unwrap_err()),
        "InvalidLength"
    );
    let bob = Key::generate().unwrap();
    let sealed = ecies_seal(&bob.public_key(None), b"pass").unwrap();
    assert_eq!(ecies_open(&bob, &sealed).unwrap(), b"pass");
    assert_eq!(
        code(ecies_open(&one, &sealed).unwrap_err()),
        "EciesDecryptFailed"
    );
    assert_eq!(
        code(ecies_open(&bob, &sealed[..50]).unwrap_err()),
        "EciesTooShort"
    );
    assert_eq!(
        code(hash_typed_data("{not json").unwrap_err()),
        "MalformedJson"
    );
}

#[wasm_bindgen_test]
fn whole_protocol_through_the_bindings() {
    let authority = Key::generate().unwrap();
    let doctor = Key::generate().unwrap();
    let protocol = Key::generate().unwrap();
    let cert = issue_certificate(
        &authority,
        &doctor.address(),
        &protocol.public_key(None),
        "St Mary",
        1000.0,
        5000.0,
        7.0,
    )
    .unwrap();
    verify_certificate(&cert, &authority.address(), 1500.0, false).unwrap();
    assert_eq!(
        code(verify_certificate(&cert, &authority.address(), 6000.0, false).unwrap_err()),
        "CertificateExpired"
    );
    assert_eq!(
        code(verify_certificate(&cert, &doctor.address(), 1500.0, false).unwrap_err()),
        "CertificateWrongAuthority"
    );
    assert_eq!(
        code(verify_certificate(&cert, &authority.address(), 1.5, false).unwrap_err()),
        "OutOfRange"
    );

    // Patient masks, grants; doctor scans, opens, requests; server verifies.
    let kt = MaskKey::generate().unwrap();
    let tx_id = [0x42u8; 32];
    let kp = generate_record_key().unwrap();
    let masked = kt.mask("H1", 1200.0, &tx_id, &kp).unwrap();
    let x = Uint8Array::from(Reflect::get(&masked, &"x".into()).unwrap()).to_vec();
    let trans = kt
        .authorise(&protocol.public_key(None), "H1", 1200.0)
        .unwrap();
    let field = |name: &str| Uint8Array::from(Reflect::get(&trans, &name.into()).unwrap()).to_vec();
    let scanner = Scanner::new(&protocol).unwrap();
    let other = Scanner::new(&Key::generate().unwrap()).unwrap();
    assert!(scanner.matches(&field("r"), &field("st")));
    assert!(!other.matches(&field("r"), &field("st")));
    assert!(!scanner.matches(&[1, 2, 3], &field("st")));
    assert_eq!(
        code(
            other
                .open(&field("r"), &field("st"), &field("c1"))
                .unwrap_err()
        ),
        "NotForThisKey"
    );
    let pass = scanner
        .open(&field("r"), &field("st"), &field("c1"))
        .unwrap();
    let pass_key: MaskKey = MaskKey::from_bytes(&{
        let mk = Reflect::get(&pass, &"maskKey".into()).unwrap();
        let f = js_sys::Function::from(Reflect::get(&mk, &"exportSecret".into()).unwrap());
        Uint8Array::from(f.call0(&mk).unwrap()).to_vec()
    })
    .unwrap();
    assert_eq!(pass_key.index("H1", 1200.0).unwrap(), x);
    let req = sign_access_request(&doctor, &cert, "H1", &x, 1500.0, 60.0).unwrap();
    let ok = verify_access_request(&req, &authority.address(), "H1", 1500.0, 600.0, false).unwrap();
    assert_eq!(
        Uint8Array::from(Reflect::get(&ok, &"w".into()).unwrap()).to_vec(),
        x
    );
    assert_eq!(
        code(
            verify_access_request(&req, &authority.address(), "H2", 1500.0, 600.0, false)
                .unwrap_err()
        ),
        "RequestWrongHospital"
    );
    assert_eq!(
        code(
            verify_access_request(&req, &authority.address(), "H1", 1500.0, 600.0, true)
                .unwrap_err()
        ),
        "CertificateRevoked"
    );
    let z = Uint8Array::from(Reflect::get(&masked, &"z".into()).unwrap()).to_vec();
    let k = Uint8Array::from(Reflect::get(&masked, &"k".into()).unwrap()).to_vec();
    let un = pass_key.unmask("H1", 1200.0, &z, &k).unwrap();
    assert_eq!(
        Uint8Array::from(Reflect::get(&un, &"recordKey".into()).unwrap()).to_vec(),
        kp
    );

    // Handoff doctor → patient.
    let patient = Key::generate().unwrap();
    let sealed = seal_handoff(&patient.public_key(None), "H1", 1200.0, &tx_id, &kp).unwrap();
    let h = open_handoff(&patient, &sealed).unwrap();
    assert_eq!(
        Uint8Array::from(Reflect::get(&h, &"txId".into()).unwrap()).to_vec(),
        tx_id
    );
    assert_eq!(
        code(open_handoff(&doctor, &sealed).unwrap_err()),
        "EciesDecryptFailed"
    );
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
        let _ = address_of(&junk);
        let _ = Key::from_bytes(&junk);
        let _ = ecies_open(&key, &junk);
        let _ = open_handoff(&key, &junk);
        let _ = recover_message(&junk, &junk);
        let _ = hash_typed_data(&text);
        let _ = verify_certificate(&text, "0x00", f64::NAN, false);
        let _ = verify_access_request(&text, &text, &text, -1.0, 1e300, false);
        let _ = scanner.open(&junk, &junk, &junk);
        let _ = scanner.matches(&junk, &junk);
        let _ = h1(&junk);
        let _ =
            MaskKey::from_bytes(&junk).and_then(|m| m.unmask(&text, round as f64, &junk, &junk));
        if let Ok(dec) =
            RecordDecryptor::new(&junk[..len.min(16)], &junk, Some(64 + len as u32), None)
        {
            let _ = dec.push(&junk);
            let _ = dec.finish();
        }
    }
    assert_eq!(key.address().len(), 42);
}
