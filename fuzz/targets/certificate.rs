//! Fuzzes the doctor certificate's JSON parser, [`Certificate::from_json`],
//! and its offline verification against a fixed authority at a fixed time.
//!
//! Invariants:
//! - parsing, `issuer` and `verify` never panic: `Ok` or a typed `Error`;
//! - the format is canonical: a parsed certificate serialises back to the
//!   very JSON value it was parsed from (only the signature's text may
//!   differ: `0x`/case/`v` spelling) and parses back to itself;
//! - `verify(AUTHORITY, NOW)` is exactly the documented order of checks
//!   (issuer, not yet valid, expired, revoked) on the parsed fields.

use std::sync::OnceLock;

use ehrchain::{Address, Certificate, Error, SecretKey, Signature};
use serde_json::Value;

/// The health authority's secret key (seeds are signed with it).
pub const AUTHORITY_SECRET: [u8; 32] = [0x11; 32];
/// The verification time, Unix seconds.
pub const NOW: u64 = 1_750_000_000;

fn authority() -> Address {
    static ADDRESS: OnceLock<Address> = OnceLock::new();
    *ADDRESS.get_or_init(|| {
        SecretKey::from_bytes(&AUTHORITY_SECRET)
            .expect("a valid scalar")
            .address()
    })
}

/// Parses `data` as certificate JSON and checks the invariants above.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(cert) = Certificate::from_json(text) else {
        return;
    };

    // Round trip, and canonical form.
    assert_eq!(Certificate::from_json(&cert.to_json()).as_ref(), Ok(&cert));
    let mut value: Value = serde_json::from_str(text).expect("parsed once already");
    let signature = value["signature"].as_str().map(Signature::from_hex);
    assert_eq!(signature, Some(Ok(cert.signature)));
    let canonical = cert.to_value();
    value["signature"] = canonical["signature"].clone();
    assert_eq!(value, canonical, "a certificate has one JSON form");

    // Verification follows the parsed fields, in the documented order.
    let authority = authority();
    let body = &cert.body;
    let expected = match cert.issuer() {
        Ok(issuer) if issuer == authority => {
            if NOW < body.valid_from {
                Err(Error::CertificateNotYetValid)
            } else if NOW >= body.valid_until {
                Err(Error::CertificateExpired)
            } else {
                Ok(())
            }
        }
        _ => Err(Error::CertificateWrongAuthority),
    };
    let verdict = cert.verify(&authority, NOW, false);
    assert_eq!(verdict, expected);
    if verdict.is_ok() {
        assert_eq!(
            cert.verify(&authority, NOW, true),
            Err(Error::CertificateRevoked)
        );
    }
}
