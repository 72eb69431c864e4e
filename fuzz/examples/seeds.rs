//! Writes the seed corpora of every fuzz target into `fuzz/corpus/<target>/`
//! (files named `seed-*`): real inputs from `tests/vectors/*.json`, plus
//! small valid and nearly-valid inputs made with the crate's own encoders
//! and the targets' fixed keys. Run from `fuzz/`:
//!
//! ```text
//! cargo run --example seeds
//! ```
//!
//! Certificates, requests, ECIES and record ciphertexts are deterministic
//! (RFC 6979 signatures, the `kat` hooks for nonces and headers); the
//! authorisations are not (`Authorisation::create` draws `r` and the ECIES
//! nonce itself).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::fs;
use std::path::{Path, PathBuf};

use ehrchain::anchor::{AnchorOpening, RecordType};
use ehrchain::chain::abi::{self, encode, Token};
use ehrchain::chain::registry::{EventKind, ERRORS};
use ehrchain::grant::GrantTerms;
use ehrchain::hex::{self, encode_prefixed as hx};
use ehrchain::mask::{MaskKey, RecordContext};
use ehrchain::record::{header::Header, Encryptor, Layout, RecordKey};
use ehrchain::request::AccessRequest;
use ehrchain::upload::UploadRequest;
use ehrchain::{ecies, Address, Authorisation, CertificateBody, SecretKey, Signable};
use serde_json::{json, Value};

#[path = "../targets/certificate.rs"]
#[allow(dead_code)]
mod certificate;
#[path = "../targets/record.rs"]
#[allow(dead_code)]
mod record;
#[path = "../targets/request.rs"]
#[allow(dead_code)]
mod request;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn put(target: &str, label: &str, bytes: impl AsRef<[u8]>) {
    let dir = root().join("corpus").join(target);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(format!("seed-{label}")), bytes).unwrap();
}

fn vectors(name: &str) -> Value {
    let path = root().join("../tests/vectors").join(name);
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

fn unhex(v: &Value) -> Vec<u8> {
    hex::decode("seed", v.as_str().unwrap()).unwrap()
}

fn key(bytes: &[u8; 32]) -> SecretKey {
    SecretKey::from_bytes(bytes).unwrap()
}

const DOCTOR_ACCOUNT: [u8; 32] = [0x22; 32];
const DOCTOR_PROTOCOL: [u8; 32] = [0x33; 32];
const PATIENT: [u8; 32] = [0x44; 32];
const ECIES_RECIPIENT: [u8; 32] = [0x55; 32];
const STRANGER: [u8; 32] = [0x99; 32];

fn body(valid_from: u64, valid_until: u64) -> CertificateBody {
    CertificateBody {
        doctor: key(&DOCTOR_ACCOUNT).address(),
        protocol_key: key(&DOCTOR_PROTOCOL).public_key(),
        hospital: request::HOSPITAL.into(),
        valid_from,
        valid_until,
        serial: 7,
    }
}

fn certificates() {
    let authority = key(&certificate::AUTHORITY_SECRET);
    let now = certificate::NOW;
    let good = body(now - 1000, now + 1000).sign(&authority).unwrap();
    put("certificate", "valid", good.to_json());
    put(
        "certificate",
        "expired",
        body(now - 1000, now).sign(&authority).unwrap().to_json(),
    );
    put(
        "certificate",
        "not-yet-valid",
        body(now + 1, now + 9).sign(&authority).unwrap().to_json(),
    );
    put(
        "certificate",
        "other-authority",
        body(now - 1, now + 1)
            .sign(&key(&STRANGER))
            .unwrap()
            .to_json(),
    );
    // The same signature spelled with v = 0/1 and upper case hex.
    let mut v = good.to_value();
    let mut sig = good.signature.to_bytes();
    sig[64] -= 27;
    v["signature"] = json!(format!("0x{}", hex::encode(&sig).to_uppercase()));
    put("certificate", "v01-upper", v.to_string());
    put(
        "certificate",
        "pretty",
        serde_json::to_string_pretty(&good.to_value()).unwrap(),
    );
    // Typed data for the eip712 target too.
    put("eip712", "certificate", good.body.typed_data().to_json());
}

fn requests() {
    let authority = key(&certificate::AUTHORITY_SECRET);
    let now = request::NOW;
    let cert = body(now - 1000, now + 1000).sign(&authority).unwrap();
    let make = |hospital: &str, expiry: u64, signer: &[u8; 32]| {
        AccessRequest {
            hospital: hospital.into(),
            w: [9; 32],
            expiry,
            nonce: [0x5a; 32],
        }
        .sign(&key(signer), cert.clone(), now)
        .unwrap()
    };
    let good = make(request::HOSPITAL, now + 60, &DOCTOR_ACCOUNT);
    put("request", "valid", good.to_json());
    put("eip712", "request", good.request.typed_data().to_json());
    put(
        "request",
        "other-hospital",
        make("Other Hospital", now + 60, &DOCTOR_ACCOUNT).to_json(),
    );
    put(
        "request",
        "expired",
        make(request::HOSPITAL, now, &DOCTOR_ACCOUNT).to_json(),
    );
    put(
        "request",
        "too-far",
        make(request::HOSPITAL, now + 601, &DOCTOR_ACCOUNT).to_json(),
    );
    put(
        "request",
        "stranger",
        make(request::HOSPITAL, now + 60, &STRANGER).to_json(),
    );
    let upload = UploadRequest {
        hospital: request::HOSPITAL.into(),
        eh: [3; 32],
        size: 4096,
        filing: [6; 32],
        expiry: now + 60,
        nonce: [7; 32],
    }
    .sign(&key(&DOCTOR_ACCOUNT), cert.clone(), now)
    .unwrap();
    put("request", "upload", upload.to_json());
    put("eip712", "upload", upload.request.typed_data().to_json());
    let expired_cert = body(now - 1000, now).sign(&authority).unwrap();
    let late = AccessRequest {
        hospital: request::HOSPITAL.into(),
        w: [1; 32],
        expiry: now + 5,
        nonce: [2; 32],
    }
    // Signed in the certificate's last second; expired when verified.
    .sign(&key(&DOCTOR_ACCOUNT), expired_cert, now - 1)
    .unwrap();
    put("request", "expired-certificate", late.to_json());
}

/// `(vt, R, ST, C1)` in the authorisation target's input format.
fn split_input(auth: &Authorisation) -> Vec<u8> {
    let mut out = vec![auth.view_tag, 33, 33];
    out.extend_from_slice(&auth.r);
    out.extend_from_slice(&auth.st);
    out.extend_from_slice(&auth.c1);
    out
}

fn grant_to(doctor: &[u8; 32], hospital: &str, ty: &str) -> Authorisation {
    let pass = GrantTerms {
        doctor: key(doctor).public_key(),
        context: RecordContext::new(hospital, 1_700_000_000).unwrap(),
        mask_key: MaskKey::from_bytes(&[0x12; 32]).unwrap(),
        eh: [3; 32],
        opening: AnchorOpening {
            salt: [4; 32],
            record_type: RecordType::new(ty).unwrap(),
        },
    }
    .sign(&key(&PATIENT))
    .unwrap();
    put(
        "eip712",
        &format!("grant-{}", hospital.len()),
        pass.terms.typed_data().to_json(),
    );
    Authorisation::create(&pass).unwrap()
}

/// A log in the event target's input format.
fn event_input(kind: u8, topics: &[[u8; 32]], data: &[u8]) -> Vec<u8> {
    let mut out = vec![kind, u8::try_from(topics.len()).unwrap()];
    for t in topics {
        out.extend_from_slice(t);
    }
    out.extend_from_slice(data);
    out
}

fn word(v: u64) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&v.to_be_bytes());
    w
}

fn address_word(a: &Address) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(&a.0);
    w
}

fn grants_and_events() {
    let mine = grant_to(&DOCTOR_PROTOCOL, "General Hospital", "lab");
    let long = grant_to(&DOCTOR_PROTOCOL, &"H".repeat(255), &"t".repeat(32));
    let other = grant_to(&STRANGER, "H1", "");
    put("authorisation", "mine", split_input(&mine));
    put("authorisation", "mine-longest", split_input(&long));
    put("authorisation", "other-doctor", split_input(&other));
    let mut tampered = split_input(&mine);
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    put("authorisation", "tampered-c1", tampered);
    put("ecies", "grant-c1-other-key", &mine.c1);

    let doctor = key(&DOCTOR_ACCOUNT).address();
    let authorised = |auth: &Authorisation| {
        encode(&[
            Token::Bytes1(auth.view_tag),
            Token::Bytes(auth.r.to_vec()),
            Token::Bytes(auth.st.to_vec()),
            Token::Bytes(auth.c1.clone()),
        ])
    };
    put(
        "event",
        "authorised-mine",
        event_input(4, &[word(1)], &authorised(&mine)),
    );
    put(
        "event",
        "authorised-other",
        event_input(4, &[word(2)], &authorised(&other)),
    );
    put(
        "event",
        "authorised-foreign-contract",
        event_input(4 | 8, &[word(2)], &authorised(&mine)),
    );
    let pk = key(&DOCTOR_PROTOCOL).public_key().to_compressed();
    put(
        "event",
        "doctor-registered",
        event_input(
            0,
            &[word(7), address_word(&doctor)],
            &encode(&[Token::Bytes(pk.to_vec()), Token::Uint(1), Token::Uint(2)]),
        ),
    );
    put(
        "event",
        "doctor-revoked",
        event_input(1, &[word(7)], &encode(&[Token::Uint(99)])),
    );
    let anchored_data = encode(&[
        Token::Uint(7),
        Token::Bytes32([1; 32]),
        Token::Uint(42),
        Token::Uint(43),
    ]);
    put(
        "event",
        "record-anchored",
        event_input(2, &[[9; 32], address_word(&doctor)], &anchored_data),
    );
    put(
        "event",
        "record-deleted",
        event_input(
            3,
            &[[9; 32], address_word(&doctor)],
            &encode(&[Token::Uint(5)]),
        ),
    );
    let mut unknown = vec![5, 0];
    unknown.extend_from_slice(&abi::event_topic("Transfer(address,address,uint256)"));
    put("event", "unknown-topic", unknown);

    // JSON-RPC answers carrying these logs.
    let registry = Address([0x77; 20]);
    let log = |topics: Vec<[u8; 32]>, data: &[u8]| {
        json!({
            "address": registry.to_checksum(),
            "topics": topics.iter().map(|t| hx(t)).collect::<Vec<_>>(),
            "data": hx(data),
            "transactionHash": hx(&[0xab; 32]), "blockNumber": "0x1b4", "logIndex": "0x0",
            "blockHash": hx(&[0xcd; 32]), "removed": false,
        })
    };
    let anchored_log = log(
        vec![
            EventKind::RecordAnchored.topic(),
            [9; 32],
            address_word(&doctor),
        ],
        &anchored_data,
    );
    let authorised_log = log(
        vec![EventKind::Authorised.topic(), word(1)],
        &authorised(&mine),
    );
    put("log", "log", anchored_log.to_string());
    put(
        "log",
        "logs",
        json!([anchored_log, authorised_log]).to_string(),
    );
    put("log", "logs-empty", "[]");
    let receipt = |status: &str| {
        json!({
            "transactionHash": hx(&[0xab; 32]), "blockNumber": "0x1b4", "status": status,
            "gasUsed": "0x5208", "from": doctor.to_checksum(), "contractAddress": null,
            "logs": [anchored_log], "cumulativeGasUsed": "0x5208", "type": "0x2",
        })
    };
    put("log", "receipt", receipt("0x1").to_string());
    put("log", "receipt-reverted", receipt("0x0").to_string());
    put("log", "receipt-null", "null");
    put("log", "quantity", "\"0xffffffffffffffff\"");
    put("log", "quantity-zero", "\"0x0\"");
}

fn ecies_seeds() {
    let recipient = key(&ECIES_RECIPIENT).public_key();
    let ephemeral = key(&[0x5e; 32]);
    for (label, plain) in [("empty", &b""[..]), ("pass", b"A_pass"), ("k", &[7u8; 64])] {
        put(
            "ecies",
            label,
            ecies::seal_with(&recipient, plain, &ephemeral, &[1; 16]).unwrap(),
        );
    }
    let v = vectors("ecies.json");
    for (group, cases) in [("eciespy", &v["from_eciespy"]), ("fixed", &v["fixed"])] {
        for (i, case) in cases.as_array().unwrap().iter().enumerate() {
            put(
                "ecies",
                &format!("vector-{group}-{i}"),
                unhex(&case["ciphertext"]),
            );
        }
    }
}

/// A stream in the record target's input format.
fn record_input(config: u8, chunks: &[u8], ciphertext: &[u8]) -> Vec<u8> {
    let mut out = vec![config, u8::try_from(chunks.len() - 1).unwrap()];
    out.extend_from_slice(chunks);
    out.extend_from_slice(ciphertext);
    out
}

fn record_seeds() {
    for config in [0u8, 1, 2, 3, 5, 6, 7] {
        let k = RecordKey::from_bytes(record::KEYS[usize::from(config & 1)]).unwrap();
        let segment = record::SEGMENT_SIZES[usize::from((config >> 1) & 3)];
        let layout = Layout::new(&k, segment).unwrap();
        let salt = vec![0x3c; k.len()];
        for len in [0usize, 1, 100, 300] {
            let header = Header::from_parts(&layout, &salt, [0x0a; 7]).unwrap();
            let mut enc =
                Encryptor::with_header(&k, record::ASSOCIATED_DATA, layout, header).unwrap();
            let mut ct = Vec::new();
            enc.push(&vec![0x41; len], &mut ct).unwrap();
            enc.finish(&mut ct).unwrap();
            put(
                "record",
                &format!("c{config}-len{len}"),
                record_input(config, &[7, 0, 64], &ct),
            );
        }
    }
    let failures = vectors("failures.json");
    for case in failures["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        put(
            "record",
            &format!("failures-{name}"),
            record_input(0, &[13], &unhex(&case["ciphertext"])),
        );
    }
    let records = vectors("records.json");
    for group in ["fixed_header", "from_tink"] {
        for (i, case) in records[group]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .step_by(4)
        {
            let segment = u32::try_from(case["segment_size"].as_u64().unwrap()).unwrap();
            let index = record::SEGMENT_SIZES
                .iter()
                .position(|s| *s == segment)
                .unwrap();
            let config =
                u8::from(unhex(&case["key"]).len() == 32) | (u8::try_from(index).unwrap() << 1);
            put(
                "record",
                &format!("vector-{group}-{i}"),
                record_input(config, &[5], &unhex(&case["ciphertext"])),
            );
        }
    }
}

fn eip712_seeds() {
    let v = vectors("eip712.json");
    for (i, case) in v["cases"].as_array().unwrap().iter().enumerate() {
        put(
            "eip712",
            &format!("vector-{i}"),
            case["typed_data"].to_string(),
        );
    }
}

fn primitives() {
    let v = vectors("accounts.json");
    let with = |sel: u8, bytes: &[u8]| [&[sel][..], bytes].concat();
    for (i, a) in v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .step_by(2)
    {
        put(
            "primitives",
            &format!("address-{i}"),
            with(1, a["address"].as_str().unwrap().as_bytes()),
        );
        let public = unhex(&a["public_uncompressed"]);
        put("primitives", &format!("sec1-{i}"), with(2, &public));
        let compressed = ehrchain::PublicKey::from_sec1("seed", &public)
            .unwrap()
            .to_compressed();
        put(
            "primitives",
            &format!("sec1-compressed-{i}"),
            with(2, &compressed),
        );
        put(
            "primitives",
            &format!("secret-{i}"),
            with(5, &unhex(&a["secret"])),
        );
        if let Some(s) = a["personal_sign"].get(0) {
            put(
                "primitives",
                &format!("signature-{i}"),
                with(3, &unhex(&s["signature"])),
            );
        }
    }
    put("primitives", "hex", with(0, b"0xDeadBeef00"));
    put("primitives", "hex-bare", with(0, b"0a0b"));
    put("primitives", "record-key", with(6, &[1; 16]));
    let opening = AnchorOpening {
        salt: [4; 32],
        record_type: RecordType::new("lab report").unwrap(),
    };
    put(
        "primitives",
        "opening",
        with(7, &[opening.encode(), vec![0xee; 3]].concat()),
    );
    // A strict DER signature of primitives::DIGEST by primitives::VERIFIER_SECRET would need
    // the k256 crate here; a minimal well-formed DER shape is seed enough.
    let mut der = vec![0x30, 0x44, 0x02, 0x20];
    der.extend_from_slice(&[0x11; 32]);
    der.extend_from_slice(&[0x02, 0x20]);
    der.extend_from_slice(&[0x22; 32]);
    put("primitives", "der", with(4, &der));
}

fn abi_and_views() {
    let doctor = Address([5; 20]);
    let tuple = encode(&[
        Token::Uint(7),
        Token::Bytes(vec![1, 2, 3]),
        Token::Address(doctor),
        Token::Bytes(vec![9; 33]),
    ]);
    put("abi", "mixed", [&[4u8, 0, 5, 2, 5][..], &tuple].concat());
    put(
        "abi",
        "static",
        [
            &[5u8, 0, 1, 2, 3, 4][..],
            &encode(&[
                Token::Uint(1),
                Token::Uint(2),
                Token::Address(doctor),
                Token::Bytes32([3; 32]),
                Token::Uint(1),
            ]),
        ]
        .concat(),
    );
    put(
        "views",
        "certificate-status",
        encode(&[
            Token::Address(doctor),
            Token::Uint(10),
            Token::Uint(20),
            Token::Uint(1),
            Token::Uint(15),
        ]),
    );
    put(
        "views",
        "record-status",
        encode(&[
            Token::Uint(1),
            Token::Address(doctor),
            Token::Uint(3),
            Token::Uint(100),
            Token::Bytes32([7; 32]),
            Token::Uint(99),
            Token::Uint(0),
            Token::Uint(0),
        ]),
    );
    for (i, e) in ERRORS.iter().enumerate().step_by(3) {
        put(
            "views",
            &format!("revert-{i}"),
            [&abi::selector(e)[..], &word(9)].concat(),
        );
    }
}

fn transactions() {
    let to = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    put("transaction", "call", json!({"chainId": 31337, "nonce": 2, "gas": 100000, "maxFeePerGas": "3000000000", "maxPriorityFeePerGas": 1, "to": to, "data": "0x01ff"}).to_string());
    put("transaction", "deploy", json!({"chainId": 1, "nonce": 0, "gas": 3000000, "maxFeePerGas": 1, "maxPriorityFeePerGas": 1, "to": null, "data": hx(&[0x60; 80])}).to_string());
    put("transaction", "max", json!({"chainId": u64::MAX, "nonce": u64::MAX, "gas": u64::MAX, "maxFeePerGas": u128::MAX.to_string(), "maxPriorityFeePerGas": "0", "value": u128::MAX.to_string()}).to_string());
}

fn main() {
    certificates();
    requests();
    grants_and_events();
    ecies_seeds();
    record_seeds();
    eip712_seeds();
    primitives();
    abi_and_views();
    transactions();
    for entry in fs::read_dir(root().join("corpus")).unwrap() {
        let entry = entry.unwrap();
        println!(
            "{}: {} seeds",
            entry.file_name().to_string_lossy(),
            fs::read_dir(entry.path()).unwrap().count()
        );
    }
}
