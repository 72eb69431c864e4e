//! Fuzzes the small parsers every boundary uses: hex text
//! ([`hex::decode`]), addresses ([`Address::parse`], EIP-55), SEC1 public
//! keys ([`PublicKey::from_sec1`]), 65-byte signatures
//! ([`Signature::from_bytes`]), strict DER signatures
//! ([`signature::verify_der`]), secret keys ([`SecretKey::from_bytes`]),
//! record keys ([`RecordKey::from_bytes`]) and the anchor opening
//! ([`AnchorOpening::decode_prefix`], with [`RecordType::decode_prefix`]).
//!
//! Input: `sel ‖ payload`; `sel` mod 8 picks the parser.
//!
//! Invariants: no parser panics; each accepts exactly one canonical
//! meaning of what it parses, and the matching encoder gives it back:
//! hex re-encodes to the lowercase digits; an address parses back from its
//! checksum text (and the text was lower, upper or that checksum); a key
//! re-parses from both SEC1 forms (the input being one of them); a
//! signature re-encodes to `r ‖ s` with `v` = 27 + parity; a secret key
//! and a record key give their bytes back; an opening re-encodes to the
//! prefix it was read from.

use std::sync::OnceLock;

use ehrchain::anchor::{AnchorOpening, RecordType};
use ehrchain::record::RecordKey;
use ehrchain::{hex, signature, Address, Error, PublicKey, SecretKey, Signature};

/// The key `verify_der` checks signatures against.
pub const VERIFIER_SECRET: [u8; 32] = [0x88; 32];
/// The digest `verify_der` checks signatures over.
pub const DIGEST: [u8; 32] = [0x99; 32];

fn verifier() -> &'static PublicKey {
    static KEY: OnceLock<PublicKey> = OnceLock::new();
    KEY.get_or_init(|| {
        SecretKey::from_bytes(&VERIFIER_SECRET)
            .expect("a valid scalar")
            .public_key()
    })
}

fn check_hex(text: &str) {
    let Ok(bytes) = hex::decode("fuzz", text) else {
        return;
    };
    let digits = hex::digits(text);
    assert_eq!(hex::encode(&bytes), digits.to_ascii_lowercase());
    assert_eq!(
        hex::decode("fuzz", &hex::encode_prefixed(&bytes)),
        Ok(bytes)
    );
}

fn check_address(text: &str) {
    let Ok(address) = Address::parse(text) else {
        return;
    };
    let checksum = address.to_checksum();
    assert_eq!(Address::parse(&checksum), Ok(address));
    let digits = hex::digits(text);
    assert!(
        digits == &checksum[2..]
            || digits == digits.to_ascii_lowercase()
            || digits == digits.to_ascii_uppercase(),
        "mixed case without a checksum accepted: {text}"
    );
    assert_eq!(digits.to_ascii_lowercase(), hex::encode(&address.0));
}

fn check_public_key(bytes: &[u8]) {
    let Ok(key) = PublicKey::from_sec1("fuzz", bytes) else {
        return;
    };
    let (compressed, uncompressed) = (key.to_compressed(), key.to_uncompressed());
    assert!(bytes == compressed || bytes == uncompressed);
    assert_eq!(PublicKey::from_sec1("fuzz", &compressed), Ok(key));
    assert_eq!(PublicKey::from_sec1("fuzz", &uncompressed), Ok(key));
}

fn check_signature(bytes: &[u8]) {
    let Ok(sig) = Signature::from_bytes(bytes) else {
        return;
    };
    let encoded = sig.to_bytes();
    assert_eq!(encoded[..64], bytes[..64]);
    assert_eq!(encoded[64], 27 + sig.parity());
    assert_eq!(bytes[64] % 27, sig.parity(), "v is 0/1 or 27/28");
    assert_eq!(Signature::from_bytes(&encoded), Ok(sig));
    assert_eq!(Signature::from_hex(&hex::encode_prefixed(bytes)), Ok(sig));
}

fn check_der(der: &[u8]) {
    match signature::verify_der(verifier(), &DIGEST, der) {
        Ok(()) | Err(Error::InvalidSignature { .. } | Error::WrongSigner) => {}
        Err(other) => panic!("verify_der failed with {other:?}"),
    }
}

fn check_secret_key(bytes: &[u8]) {
    if let Ok(key) = SecretKey::from_bytes(bytes) {
        assert_eq!(key.to_bytes().as_slice(), bytes);
    }
}

fn check_record_key(bytes: &[u8]) {
    match RecordKey::from_bytes(bytes) {
        Ok(key) => assert_eq!(key.as_bytes(), bytes),
        Err(e) => assert!(matches!(e, Error::InvalidLength { .. })),
    }
}

fn check_opening(bytes: &[u8]) {
    if let Ok((ty, rest)) = RecordType::decode_prefix("fuzz", bytes) {
        assert_eq!([ty.encode().as_slice(), rest].concat(), bytes);
        assert_eq!(RecordType::new(ty.as_str()).as_ref(), Ok(&ty));
    }
    if let Ok((opening, rest)) = AnchorOpening::decode_prefix("fuzz", bytes) {
        assert_eq!([opening.encode().as_slice(), rest].concat(), bytes);
    }
}

/// Runs the parser `data[0]` picks on the rest and checks the invariants above.
pub fn run(data: &[u8]) {
    let Some((&sel, payload)) = data.split_first() else {
        return;
    };
    let text = std::str::from_utf8(payload).ok();
    match sel % 8 {
        0 => text.map_or((), check_hex),
        1 => text.map_or((), check_address),
        2 => check_public_key(payload),
        3 => check_signature(payload),
        4 => check_der(payload),
        5 => check_secret_key(payload),
        6 => check_record_key(payload),
        _ => check_opening(payload),
    }
}
