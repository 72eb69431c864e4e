//! Named failure-mode vectors for grants (`tests/vectors/grant_failures.json`):
//! one entry per way an authorisation posted to the registry can be forged,
//! tampered with or point at a record it may not, each with the `Trans`
//! `(vt, R, ST, C1)` (`viewTag` a number 0–255), the registry's `eth_call` answers for the record's anchor
//! (`recordStatus`, `certificateStatus` of its serial) and the exact error
//! `code` the doctor's client must answer (`expect`, or `"ok"`). The same
//! file is run by the wasm build (`tests/web.rs`, in Node, Chromium and
//! Firefox) and by the npm package (`tests/js/failures.test.mjs`).
//!
//! Deterministic (fixed keys, `r`, ECIES randomness; RFC 6979 signatures):
//! `REGENERATE=1 cargo test --features kat --test grant_failures` rewrites
//! the file; without the variable the test fails if the committed file
//! differs from a fresh generation.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ehrchain::anchor::{AnchorOpening, CertifiedAnchor, RecordType};
use ehrchain::chain::abi::{encode, Token};
use ehrchain::chain::registry::{CertificateStatus, RecordStatus};
use ehrchain::grant::{Authorisation, GrantTerms, Scanner, PASS_LEN};
use ehrchain::hex::{decode, encode_prefixed as hx};
use ehrchain::mask::{MaskKey, RecordContext};
use ehrchain::{Address, SecretKey, Signature};
use k256::elliptic_curve::PrimeField;
use serde_json::{json, Value};

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/grant_failures.json"
);
const TIME: u64 = 1_770_000_000;
const EH: [u8; 32] = [0xe1; 32];
const SERIAL: u64 = 42;

fn key(byte: u8) -> SecretKey {
    SecretKey::from_bytes(&[byte; 32]).unwrap()
}

/// The doctor granted (his protocol secret `a`), the anchoring doctor's
/// account, the patient's account, a stranger's.
fn protocol() -> SecretKey {
    key(0x33)
}
fn anchoring_doctor() -> Address {
    key(0x22).address()
}
fn patient() -> SecretKey {
    key(0x44)
}

fn opening() -> AnchorOpening {
    AnchorOpening {
        salt: [0xcc; 32],
        record_type: RecordType::new("radiology").unwrap(),
    }
}

fn terms(doctor: &SecretKey) -> GrantTerms {
    GrantTerms {
        doctor: doctor.public_key(),
        context: RecordContext::new("St Mary's Hospital", TIME).unwrap(),
        mask_key: MaskKey::from_bytes(&[0x55; 32]).unwrap(),
        eh: EH,
        opening: opening(),
    }
}

/// `Trans` to the doctor around `pass` bytes, with fixed randomness.
fn seal(pass: &[u8]) -> Authorisation {
    Authorisation::seal_with(
        &protocol().public_key(),
        pass,
        &key(0x66),
        &key(0x77),
        &[0x88; 16],
    )
    .unwrap()
}

/// `recordStatus` of the anchor: by `by` under [`SERIAL`] at `TIME + 100`,
/// committing to `(anchoring doctor, committed_patient)`.
fn record_answer(by: Address, committed_patient: Address, time: u64, deleted: bool) -> Vec<u8> {
    encode(&[
        Token::Uint(1),
        Token::Address(by),
        Token::Uint(SERIAL),
        Token::Uint(TIME + 100),
        Token::Bytes32(opening().commitment(&anchoring_doctor(), &committed_patient)),
        Token::Uint(time),
        Token::Uint(u64::from(deleted)),
        Token::Uint(if deleted { TIME + 200 } else { 0 }),
    ])
}

/// `certificateStatus(SERIAL)`: registered to `doctor`, valid around the
/// anchoring, revoked at `revoked_at` (0: not revoked).
fn certificate_answer(doctor: Address, revoked_at: u64) -> Vec<u8> {
    encode(&[
        Token::Address(doctor),
        Token::Uint(TIME - 1000),
        Token::Uint(TIME + 100_000),
        Token::Uint(u64::from(revoked_at != 0)),
        Token::Uint(revoked_at),
    ])
}

/// A signature with `s` replaced by `n - s` (and the parity flipped): the
/// same ECDSA signature in its malleable high-s form.
fn high_s(sig: &[u8; 65]) -> [u8; 65] {
    let s = k256::Scalar::from_repr(*k256::FieldBytes::from_slice(&sig[32..64])).unwrap();
    let mut out = *sig;
    out[32..64].copy_from_slice(&(-s).to_bytes());
    out[64] ^= 1;
    out
}

fn generate() -> Value {
    let genuine = terms(&protocol()).sign(&patient()).unwrap();
    let pass = genuine.encode().to_vec();
    let stranger = key(0x99);
    let (doctor, me) = (anchoring_doctor(), patient().address());
    let (good_record, good_cert) = (
        record_answer(doctor, me, TIME, false),
        certificate_answer(doctor, 0),
    );
    let case = |name: &str, auth: &Authorisation, record: &[u8], cert: &[u8], expect: &str| {
        json!({
            "name": name, "viewTag": auth.view_tag, "r": hx(&auth.r), "st": hx(&auth.st), "c1": hx(&auth.c1),
            "recordStatus": hx(record), "certificateStatus": hx(cert), "expect": expect,
        })
    };
    let good = |name: &str, auth: &Authorisation, expect: &str| {
        case(name, auth, &good_record, &good_cert, expect)
    };

    let mut padded = pass.clone();
    padded[PASS_LEN - 1] = 1;
    let mut v1 = pass.clone();
    v1[0] = 0x01;
    let mut flipped = seal(&pass);
    flipped.c1[200] ^= 1;
    // The pass with its signature in high-s form: position of σ in the pass.
    let sig_at = pass.len() - pass.iter().rev().position(|b| *b != 0).unwrap() - 65;
    let mut malleable = pass.clone();
    let sig: [u8; 65] = pass[sig_at..sig_at + 65].try_into().unwrap();
    malleable[sig_at..sig_at + 65].copy_from_slice(&high_s(&sig));
    assert_eq!(sig, genuine.signature.to_bytes(), "σ located in the pass");
    let other_doctor = key(0x3a);
    let for_other = Authorisation::seal_with(
        &other_doctor.public_key(),
        &pass,
        &key(0x66),
        &key(0x77),
        &[0x88; 16],
    )
    .unwrap();

    let mut wrong_tag = seal(&pass);
    wrong_tag.view_tag ^= 0x01;
    let mut wrong_st = seal(&pass);
    wrong_st.st = for_other.st;

    let cases = vec![
        good("genuine grant", &seal(&pass), "ok"),
        good(
            "signed by a stranger, not the patient",
            &seal(&terms(&protocol()).sign(&stranger).unwrap().encode()),
            "GrantForged",
        ),
        good(
            "a pass signed for another doctor's key, re-sealed to this one",
            &seal(&terms(&other_doctor).sign(&patient()).unwrap().encode()),
            "GrantForged",
        ),
        good(
            "signature in its high-s form",
            &seal(&malleable),
            "GrantForged",
        ),
        case(
            "anchor committed to another patient",
            &seal(&pass),
            &record_answer(doctor, stranger.address(), TIME, false),
            &good_cert,
            "GrantForged",
        ),
        case(
            "anchor of another record time",
            &seal(&pass),
            &record_answer(doctor, me, TIME + 1, false),
            &good_cert,
            "GrantForged",
        ),
        case(
            "anchored by an account the serial does not certify",
            &seal(&pass),
            &record_answer(stranger.address(), me, TIME, false),
            &good_cert,
            "AnchorNotCertified",
        ),
        case(
            "anchored after the certificate was revoked",
            &seal(&pass),
            &good_record,
            &certificate_answer(doctor, TIME + 50),
            "AnchorNotCertified",
        ),
        case(
            "record tombstoned on chain",
            &seal(&pass),
            &record_answer(doctor, me, TIME, true),
            &good_cert,
            "RecordDeleted",
        ),
        case(
            "record never anchored",
            &seal(&pass),
            &[0u8; 8 * 32],
            &[0u8; 5 * 32],
            "RecordNotAnchored",
        ),
        good(
            "padded pass with a non-zero padding byte",
            &seal(&padded),
            "MalformedEncoding",
        ),
        good("pass of version 1", &seal(&v1), "MalformedEncoding"),
        good(
            "pass of 511 bytes (C1 of 608)",
            &seal(&pass[..PASS_LEN - 1]),
            "InvalidLength",
        ),
        good("C1 byte flipped", &flipped, "EciesDecryptFailed"),
        good("addressed to another doctor", &for_other, "NotForThisKey"),
        good(
            "view tag flipped (R, ST, C1 genuine)",
            &wrong_tag,
            "NotForThisKey",
        ),
        good(
            "genuine view tag, ST of another doctor's Trans",
            &wrong_st,
            "NotForThisKey",
        ),
    ];
    json!({
        "description": "Forged, tampered or misdirected grants and the error code the doctor's client must answer (tests/grant_failures.rs generates this file).",
        "protocolSecret": hx(protocol().to_bytes().as_slice()),
        "patient": me.to_checksum(),
        "cases": cases,
    })
}

/// Runs one case as the doctor's client does: parse, open, confirm
/// against the registry's answers; returns the code, or "ok".
fn run(file: &Value, case: &Value) -> String {
    let bytes = |name: &'static str| decode(name, case[name].as_str().unwrap()).unwrap();
    let secret = decode("protocolSecret", file["protocolSecret"].as_str().unwrap()).unwrap();
    let scanner = Scanner::new(SecretKey::from_bytes(&secret).unwrap());
    let view_tag = u8::try_from(case["viewTag"].as_u64().unwrap()).unwrap();
    let outcome = Authorisation::from_parts(view_tag, &bytes("r"), &bytes("st"), &bytes("c1"))
        .and_then(|auth| scanner.open(&auth))
        .and_then(|opened| {
            let record = RecordStatus::decode(&bytes("recordStatus"))?;
            let cert = CertificateStatus::decode(&bytes("certificateStatus"))?;
            let anchor = CertifiedAnchor::confirm(&opened.eh(), &record, &cert)?;
            opened.confirm(&anchor)
        });
    match outcome {
        Ok(grant) => {
            assert_eq!(
                grant.patient.to_checksum(),
                file["patient"].as_str().unwrap()
            );
            "ok".to_owned()
        }
        Err(e) => e.code().to_owned(),
    }
}

#[test]
fn the_committed_vectors_are_the_generated_ones() {
    let fresh = serde_json::to_string_pretty(&generate()).unwrap() + "\n";
    if std::env::var_os("REGENERATE").is_some() {
        std::fs::write(PATH, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(PATH).expect("tests/vectors/grant_failures.json");
    assert_eq!(committed, fresh, "regenerate with REGENERATE=1");
}

#[test]
fn every_grant_failure_mode_has_its_expected_code_natively() {
    let file: Value = serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() >= 15);
    for case in cases {
        assert_eq!(
            run(&file, case),
            case["expect"].as_str().unwrap(),
            "{}",
            case["name"]
        );
    }
}

#[test]
fn the_high_s_form_is_a_valid_but_refused_signature() {
    // The "high-s" case tests what it says: the same signature, malleated.
    let sig = terms(&protocol())
        .sign(&patient())
        .unwrap()
        .signature
        .to_bytes();
    assert_eq!(
        Signature::from_bytes(&high_s(&sig)).err().map(|e| e.code()),
        Some("InvalidSignature")
    );
    assert_eq!(high_s(&high_s(&sig)), sig);
}
