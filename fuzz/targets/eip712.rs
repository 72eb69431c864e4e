//! Fuzzes the EIP-712 typed data JSON parser ([`TypedData::from_json`]) and
//! its hashing ([`TypedData::signing_hash`]), plus the two assemblers that
//! take typed data from a wallet ([`Certificate::assemble`],
//! [`SignedRequest::assemble`]).
//!
//! Invariants:
//! - parsing and hashing never panic (however deep or hostile the types):
//!   `Ok` or a typed `Error`;
//! - typed data that hashes survives `to_json`/`from_json` unchanged, with
//!   the same hash, and a signature over it recovers its signer;
//! - typed data the assemblers accept is exactly the canonical typed data
//!   of the certificate body / request they build.

use std::sync::OnceLock;

use ehrchain::{Address, Certificate, SecretKey, SignedRequest, TypedData};

/// The key the target signs hashable typed data with.
pub const SIGNER_SECRET: [u8; 32] = [0x66; 32];

fn signer() -> &'static (SecretKey, Address) {
    static SIGNER: OnceLock<(SecretKey, Address)> = OnceLock::new();
    SIGNER.get_or_init(|| {
        let key = SecretKey::from_bytes(&SIGNER_SECRET).expect("a valid scalar");
        let address = key.address();
        (key, address)
    })
}

/// Parses and hashes the typed data in `data`, checking the invariants above.
pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(typed) = TypedData::from_json(text) else {
        return;
    };
    // Only data that hashes is float-free, so only it must survive JSON exactly.
    let Ok(hash) = typed.signing_hash() else {
        return;
    };
    let again = TypedData::from_json(&typed.to_json()).expect("its own JSON parses");
    assert_eq!(again, typed, "typed data survives to_json/from_json");
    assert_eq!(again.signing_hash(), Ok(hash));

    let (key, address) = signer();
    let signature = typed.sign(key).expect("hashable data signs");
    assert_eq!(typed.recover(&signature), Ok(*address));

    if let Ok(cert) = Certificate::assemble(&typed, signature) {
        assert_eq!(cert.body.typed_data(), typed);
        assert_eq!(cert.issuer(), Ok(*address));
        if let Ok(request) = SignedRequest::assemble(&typed, signature, cert) {
            unreachable!("typed data cannot be both a certificate and a request: {request:?}");
        }
    }
    if let Some(request) = certificate_for_requests()
        .and_then(|cert| SignedRequest::assemble(&typed, signature, cert.clone()).ok())
    {
        assert_eq!(request.request.typed_data(), typed);
    }
}

/// Any valid certificate, to attach to assembled requests.
fn certificate_for_requests() -> Option<&'static Certificate> {
    static CERT: OnceLock<Option<Certificate>> = OnceLock::new();
    CERT.get_or_init(|| {
        let (key, address) = signer();
        ehrchain::CertificateBody {
            doctor: *address,
            protocol_key: key.public_key(),
            hospital: "General Hospital".into(),
            valid_from: 1,
            valid_until: 2,
            serial: 1,
        }
        .sign(key)
        .ok()
    })
    .as_ref()
}
