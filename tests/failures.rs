//! Named failure-mode vectors (`tests/vectors/failures.json`): one entry per
//! way a stored record can be damaged or misused, each with the exact error
//! `code` every decoder must answer (`expect`, or `"ok"`). The same file is
//! run by the wasm build (`tests/web.rs`, in Node, Chromium and Firefox) and
//! by the npm package (`tests/js/failures.test.mjs`).
//!
//! The file is generated deterministically here (fixed keys and header):
//! `REGENERATE=1 cargo test --features kat --test failures` rewrites it, and
//! without the variable the test fails if the committed file differs.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ehrchain::hex::encode;
use ehrchain::record::{Decryptor, Encryptor, Header, Layout, RecordKey};
use serde_json::{json, Value};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/failures.json");
const SEGMENT: u32 = 128;

fn key() -> RecordKey {
    RecordKey::from_bytes(&[0x11; 16]).unwrap()
}

/// A 4-segment record under a fixed header.
fn intact() -> (Vec<u8>, Vec<u8>, [u8; 32]) {
    let key = key();
    let layout = Layout::new(&key, SEGMENT).unwrap();
    let header = Header::from_parts(&layout, &[0x22; 16], [0x33; 7]).unwrap();
    let mut enc =
        Encryptor::with_header(&key, b"ehrchain failure vectors", layout, header).unwrap();
    let plain: Vec<u8> = (0..400u32).map(|i| (i * 31 % 251) as u8).collect();
    let mut ct = Vec::new();
    enc.push(&plain, &mut ct).unwrap();
    let eh = enc.finish(&mut ct).unwrap();
    (plain, ct, eh)
}

/// The vectors, as the JSON file holds them.
fn generate() -> Value {
    let (plain, ct, eh) = intact();
    let layout = Layout::new(&key(), SEGMENT).unwrap();
    // Segment 0 here includes the header before it.
    let first = layout.header_len() + layout.ciphertext_segment_len(0);
    let seg = |i: u32| {
        let start = if i == 0 {
            0
        } else {
            first + (i as usize - 1) * SEGMENT as usize
        };
        let end = if i == 0 {
            first
        } else {
            start + SEGMENT as usize
        };
        start..end.min(ct.len())
    };
    assert_eq!(seg(3).end, ct.len(), "four segments");
    let swapped = [&ct[seg(0)], &ct[seg(2)], &ct[seg(1)], &ct[seg(3)]].concat();
    let mut flipped = ct.clone();
    flipped[seg(2).start + 5] ^= 1;
    let mut header_flipped = ct.clone();
    header_flipped[3] ^= 1;
    let case = |name: &str, ciphertext: &[u8], expect: &str| json!({ "name": name, "ciphertext": encode(ciphertext), "expect": expect });
    let mut cases = vec![
        case("intact", &ct, "ok"),
        case(
            "truncated at a segment edge",
            &ct[..seg(2).end],
            "Truncated",
        ),
        case(
            "truncated inside the last segment",
            &ct[..ct.len() - 1],
            "SegmentTampered",
        ),
        case("segments swapped", &swapped, "SegmentOutOfOrder"),
        case(
            "segment duplicated",
            &[
                &ct[seg(0)],
                &ct[seg(1)],
                &ct[seg(1)],
                &ct[seg(2)],
                &ct[seg(3)],
            ]
            .concat(),
            "SegmentOutOfOrder",
        ),
        case(
            "trailing garbage",
            &[ct.as_slice(), &[0u8; 20]].concat(),
            "SegmentTampered",
        ),
        case("one byte flipped in segment 2", &flipped, "SegmentTampered"),
        case(
            "header byte flipped",
            &header_flipped,
            "WrongKeyOrAssociatedData",
        ),
        case("header too short", &ct[..10], "Truncated"),
        case("empty", &[], "Truncated"),
    ];
    cases.push(json!({
        "name": "wrong key", "ciphertext": encode(&ct), "key": encode(&[0x12; 16]),
        "expect": "WrongKeyOrAssociatedData",
    }));
    cases.push(json!({
        "name": "wrong associated data", "ciphertext": encode(&ct), "associatedData": encode(b"another record"),
        "expect": "WrongKeyOrAssociatedData",
    }));
    cases.push(json!({
        "name": "hash other than the anchored eh", "ciphertext": encode(&ct), "expectedHash": encode(&[0u8; 32]),
        "expect": "HashMismatch",
    }));
    cases.push(json!({
        "name": "hash equal to the anchored eh", "ciphertext": encode(&ct), "expectedHash": encode(&eh),
        "expect": "ok",
    }));
    json!({
        "description": "Damaged or misused records and the error code every decoder must answer (tests/failures.rs generates this file).",
        "key": encode(key().as_bytes()),
        "associatedData": encode(b"ehrchain failure vectors"),
        "segmentSize": SEGMENT,
        "plaintext": encode(&plain),
        "cases": cases,
    })
}

/// Runs one case through the native streaming decryptor, in pieces of 7
/// bytes (segment boundaries fall inside pieces); returns its code.
fn run(file: &Value, case: &Value) -> String {
    let text = |v: &Value, name: &'static str| {
        v[name]
            .as_str()
            .map(|t| ehrchain::hex::decode(name, t).unwrap())
    };
    let key = RecordKey::from_bytes(&text(case, "key").or(text(file, "key")).unwrap()).unwrap();
    let ad = text(case, "associatedData")
        .or(text(file, "associatedData"))
        .unwrap();
    let segment = u32::try_from(file["segmentSize"].as_u64().unwrap()).unwrap();
    let ct = text(case, "ciphertext").unwrap();
    let mut dec = Decryptor::new(&key, &ad, segment).unwrap();
    if let Some(eh) = text(case, "expectedHash") {
        dec.expect_hash(eh.try_into().unwrap());
    }
    let mut out = Vec::new();
    for piece in ct.chunks(7) {
        if let Err(e) = dec.push(piece, &mut out) {
            return e.code().to_owned();
        }
    }
    match dec.finish(&mut out) {
        Ok(_) => {
            assert_eq!(out, text(file, "plaintext").unwrap(), "{}", case["name"]);
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
    let committed = std::fs::read_to_string(PATH).expect("tests/vectors/failures.json");
    assert_eq!(committed, fresh, "regenerate with REGENERATE=1");
}

#[test]
fn every_failure_mode_has_its_expected_code_natively() {
    let file: Value = serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() >= 14);
    for case in cases {
        assert_eq!(
            run(&file, case),
            case["expect"].as_str().unwrap(),
            "{}",
            case["name"]
        );
    }
}
