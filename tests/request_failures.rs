//! Named failure-mode vectors for access requests and the certificates
//! they carry (`tests/vectors/request_failures.json`): one entry per way a
//! request reaching a hospital server can be forged, stale, misdirected or
//! non-canonical, each with the request JSON, the registry's
//! `certificateStatus` answer for its serial and the exact error `code` the
//! server's verification must answer (`expect`, or `"ok"`). The verifier's
//! authority, hospital, time and TTL bound are the file's. The same file is
//! run by the wasm build (`tests/web.rs`, in Node, Chromium and Firefox) and
//! by the npm package (`tests/js/failures.test.mjs`). A replayed request is
//! the server's nonce store's business: `server/tests/api.rs` and the
//! server process suite refuse it (`Replay`).
//!
//! Deterministic (fixed keys and nonces; RFC 6979 signatures):
//! `REGENERATE=1 cargo test --features kat --test request_failures`
//! rewrites the file; without the variable the test fails if it differs.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ehrchain::cert::{Certificate, CertificateBody};
use ehrchain::chain::abi::{encode, Token};
use ehrchain::chain::registry::CertificateStatus;
use ehrchain::hex::{decode, encode_prefixed as hx};
use ehrchain::request::{AccessRequest, SignedRequest};
use ehrchain::{Address, SecretKey};
use k256::elliptic_curve::PrimeField;
use serde_json::{json, Value};

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/vectors/request_failures.json"
);
const HOSPITAL: &str = "St Mary's Hospital";
const NOW: u64 = 1_770_000_000;
const MAX_TTL: u64 = 600;

fn key(byte: u8) -> SecretKey {
    SecretKey::from_bytes(&[byte; 32]).unwrap()
}

fn authority() -> SecretKey {
    key(0x11)
}
fn doctor() -> SecretKey {
    key(0x22)
}

fn body(valid_from: u64, valid_until: u64) -> CertificateBody {
    CertificateBody {
        doctor: doctor().address(),
        protocol_key: key(0x33).public_key(),
        hospital: "General Hospital".into(),
        valid_from,
        valid_until,
        serial: 42,
    }
}

fn request(hospital: &str, expiry: u64) -> AccessRequest {
    AccessRequest {
        hospital: hospital.into(),
        w: [0x57; 32],
        expiry,
        nonce: [0x4e; 32],
    }
}

/// `req` signed by `by` with `cert` attached, at `NOW` or, for a
/// certificate not valid then, at the nearest second it was (signing
/// refuses a certificate invalid at the signing time; the verifier, at
/// `NOW`, sees it expired or not yet valid).
fn signed(req: AccessRequest, by: &SecretKey, cert: Certificate) -> Value {
    let at = NOW.clamp(cert.body.valid_from, cert.body.valid_until - 1);
    req.sign(by, cert, at).unwrap().to_value()
}

/// `certificateStatus(42)`: registered to `doctor`, revoked or not.
fn status(doctor: Address, revoked: bool) -> Vec<u8> {
    encode(&[
        Token::Address(doctor),
        Token::Uint(NOW - 86_400),
        Token::Uint(NOW + 86_400),
        Token::Uint(u64::from(revoked)),
        Token::Uint(if revoked { NOW - 10 } else { 0 }),
    ])
}

fn generate() -> Value {
    let cert = body(NOW - 86_400, NOW + 86_400).sign(&authority()).unwrap();
    let good = || signed(request(HOSPITAL, NOW + 60), &doctor(), cert.clone());
    let registered = status(doctor().address(), false);
    let case = |name: &str, req: &Value, status: &[u8], expect: &str| json!({ "name": name, "request": req.to_string(), "certificateStatus": hx(status), "expect": expect });
    let on_chain = |name: &str, req: &Value, expect: &str| case(name, req, &registered, expect);
    let edited = |edit: &dyn Fn(&mut Value)| {
        let mut v = good();
        edit(&mut v);
        v
    };

    let mut cases = vec![
        on_chain("genuine request", &good(), "ok"),
        on_chain(
            "certificate with an unknown key",
            &edited(&|v| v["certificate"]["extra"] = json!(1)),
            "MalformedJson",
        ),
        on_chain(
            "certificate integer written as a string",
            &edited(&|v| {
                v["certificate"]["typedData"]["message"]["serial"] = json!("42");
            }),
            "CertificateMalformed",
        ),
        on_chain(
            "certificate doctor address with a wrong EIP-55 checksum",
            &edited(&|v| {
                let a = doctor().address().to_checksum();
                let flipped: String = a
                    .chars()
                    .enumerate()
                    .map(|(i, c)| {
                        if i > 1 && c.is_ascii_alphabetic() {
                            if c.is_ascii_uppercase() {
                                c.to_ascii_lowercase()
                            } else {
                                c.to_ascii_uppercase()
                            }
                        } else {
                            c
                        }
                    })
                    .collect();
                v["certificate"]["typedData"]["message"]["doctor"] = json!(flipped);
            }),
            "InvalidAddress",
        ),
        on_chain(
            "certificate domain with a chainId",
            &edited(&|v| v["certificate"]["typedData"]["domain"]["chainId"] = json!(1)),
            "CertificateMalformed",
        ),
        on_chain(
            "certificate of another authority",
            &signed(
                request(HOSPITAL, NOW + 60),
                &doctor(),
                body(NOW - 86_400, NOW + 86_400).sign(&key(0x99)).unwrap(),
            ),
            "CertificateWrongAuthority",
        ),
        on_chain(
            "certificate expired",
            &signed(
                request(HOSPITAL, NOW + 60),
                &doctor(),
                body(NOW - 86_400, NOW).sign(&authority()).unwrap(),
            ),
            "CertificateExpired",
        ),
        on_chain(
            "certificate not yet valid",
            &signed(
                request(HOSPITAL, NOW + 60),
                &doctor(),
                body(NOW + 1, NOW + 86_400).sign(&authority()).unwrap(),
            ),
            "CertificateNotYetValid",
        ),
        case(
            "certificate serial unknown to the registry",
            &good(),
            &[0u8; 5 * 32],
            "CertificateUnknown",
        ),
        case(
            "certificate serial registered to another doctor",
            &good(),
            &status(key(0x99).address(), false),
            "CertificateMismatch",
        ),
        case(
            "certificate revoked",
            &good(),
            &status(doctor().address(), true),
            "CertificateRevoked",
        ),
        on_chain(
            "signed by someone else than the certified doctor",
            &signed(request(HOSPITAL, NOW + 60), &key(0x99), cert.clone()),
            "RequestWrongSigner",
        ),
        on_chain(
            "for another hospital",
            &signed(
                request("Another Hospital", NOW + 60),
                &doctor(),
                cert.clone(),
            ),
            "RequestWrongHospital",
        ),
        on_chain(
            "expired",
            &signed(request(HOSPITAL, NOW), &doctor(), cert.clone()),
            "RequestExpired",
        ),
        on_chain(
            "expiry beyond the server's bound",
            &signed(
                request(HOSPITAL, NOW + MAX_TTL + 1),
                &doctor(),
                cert.clone(),
            ),
            "RequestExpiryTooFar",
        ),
        on_chain(
            "request typed data with an extra message field",
            &edited(&|v| v["typedData"]["message"]["extra"] = json!("x")),
            "MalformedEncoding",
        ),
    ];
    // The request's signature in its malleable high-s form.
    let mut high_s = good();
    let sig = decode("sig", high_s["signature"].as_str().unwrap()).unwrap();
    let s = k256::Scalar::from_repr(*k256::FieldBytes::from_slice(&sig[32..64])).unwrap();
    let mut malleated = sig.clone();
    malleated[32..64].copy_from_slice(&(-s).to_bytes());
    malleated[64] ^= 1;
    high_s["signature"] = json!(hx(&malleated));
    cases.push(on_chain(
        "signature in its high-s form",
        &high_s,
        "InvalidSignature",
    ));
    json!({
        "description": "Forged, stale, misdirected or non-canonical access requests and the error code a server's verification must answer (tests/request_failures.rs generates this file).",
        "authority": authority().address().to_checksum(),
        "hospital": HOSPITAL,
        "now": NOW,
        "maxTtl": MAX_TTL,
        "cases": cases,
    })
}

/// Runs one case as the server verifies (everything but the nonce store).
fn run(file: &Value, case: &Value) -> String {
    let outcome = SignedRequest::from_json(case["request"].as_str().unwrap()).and_then(|req| {
        let status = CertificateStatus::decode(
            &decode("status", case["certificateStatus"].as_str().unwrap()).unwrap(),
        )?;
        req.verify(
            &Address::parse(file["authority"].as_str().unwrap()).unwrap(),
            file["hospital"].as_str().unwrap(),
            file["now"].as_u64().unwrap(),
            file["maxTtl"].as_u64().unwrap(),
            &status,
        )
    });
    match outcome {
        Ok(v) => {
            assert_eq!(v.request.w, [0x57; 32]);
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
    let committed = std::fs::read_to_string(PATH).expect("tests/vectors/request_failures.json");
    assert_eq!(committed, fresh, "regenerate with REGENERATE=1");
}

#[test]
fn every_request_failure_mode_has_its_expected_code_natively() {
    let file: Value = serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() >= 17);
    for case in cases {
        assert_eq!(
            run(&file, case),
            case["expect"].as_str().unwrap(),
            "{}",
            case["name"]
        );
    }
}
