//! Fuzzes the JSON parser of the messages a certified doctor signs,
//! [`Signed::from_json`] (which embeds a certificate), for access requests
//! ([`SignedRequest`]) and uploads ([`SignedUpload`]), and their offline
//! verification.
//!
//! Invariants:
//! - parsing and `verify_offline` never panic: `Ok` or a typed `Error`;
//! - the format is canonical: a parsed message serialises back to the JSON
//!   value it came from (signature texts aside) and parses back to itself;
//! - a message that passes `verify_offline` (fixed authority, hospital,
//!   time and TTL) really is signed by its certified doctor, for this
//!   hospital, unexpired and within the TTL, and `confirm` with the
//!   registry's answer yields exactly its fields (or the registry's refusal).

use std::sync::OnceLock;

use ehrchain::chain::registry::CertificateStatus;
use ehrchain::{
    Address, Error, SecretKey, Signable, Signature, Signed, SignedRequest, SignedUpload,
};
use serde_json::Value;

/// The health authority's secret key (seeds are signed with it).
pub const AUTHORITY_SECRET: [u8; 32] = [0x11; 32];
/// The verifying server's hospital.
pub const HOSPITAL: &str = "General Hospital";
/// The verification time, Unix seconds.
pub const NOW: u64 = 1_750_000_000;
/// The server's longest accepted message lifetime, seconds.
pub const MAX_TTL: u64 = 600;

fn authority() -> Address {
    static ADDRESS: OnceLock<Address> = OnceLock::new();
    *ADDRESS.get_or_init(|| {
        SecretKey::from_bytes(&AUTHORITY_SECRET)
            .expect("a valid scalar")
            .address()
    })
}

/// Parses `data` as a signed access request and as a signed upload, and
/// checks the invariants above.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(signed) = SignedRequest::from_json(text) {
        check(text, &signed);
    }
    if let Ok(signed) = SignedUpload::from_json(text) {
        check(text, &signed);
    }
}

fn check<M: Signable>(text: &str, signed: &Signed<M>) {
    assert_eq!(
        Signed::<M>::from_json(&signed.to_json()).as_ref(),
        Ok(signed)
    );
    let mut value: Value = serde_json::from_str(text).expect("parsed once already");
    let canonical = signed.to_value();
    assert_eq!(
        value["signature"].as_str().map(Signature::from_hex),
        Some(Ok(signed.signature))
    );
    assert_eq!(
        value["certificate"]["signature"]
            .as_str()
            .map(Signature::from_hex),
        Some(Ok(signed.certificate.signature))
    );
    value["signature"] = canonical["signature"].clone();
    value["certificate"]["signature"] = canonical["certificate"]["signature"].clone();
    assert_eq!(value, canonical, "a signed message has one JSON form");

    let authority = authority();
    let Ok(unconfirmed) = signed.verify_offline(&authority, HOSPITAL, NOW, MAX_TTL) else {
        return;
    };
    let cert = &signed.certificate;
    assert_eq!(cert.verify(&authority, NOW, false), Ok(()));
    assert_eq!(
        signed.request.typed_data().recover(&signed.signature),
        Ok(cert.body.doctor)
    );
    assert_eq!(signed.request.hospital(), HOSPITAL);
    let expiry = signed.request.expiry();
    assert!(expiry > NOW && expiry - NOW <= MAX_TTL);
    assert_eq!(unconfirmed.serial(), cert.body.serial);

    let status = |doctor, revoked| CertificateStatus {
        doctor,
        valid_from: cert.body.valid_from,
        valid_until: cert.body.valid_until,
        revoked,
        revoked_at: 0,
    };
    if !status(cert.body.doctor, false).registered() {
        return; // the zero address signed: cryptographically out of reach
    }
    let verified = unconfirmed
        .confirm(&status(cert.body.doctor, false))
        .expect("the registry agrees");
    assert_eq!(
        (verified.doctor, verified.serial, &verified.request),
        (cert.body.doctor, cert.body.serial, &signed.request)
    );
    let revoked = status(cert.body.doctor, true);
    assert_eq!(
        signed.verify(&authority, HOSPITAL, NOW, MAX_TTL, &revoked),
        Err(Error::CertificateRevoked)
    );
    let unknown = status(Address([0; 20]), false);
    assert_eq!(
        signed.verify(&authority, HOSPITAL, NOW, MAX_TTL, &unknown),
        Err(Error::CertificateUnknown)
    );
}
