//! Keys and Ethereum accounts (paper Alg 2; PROTOCOL.md §1).
//!
//! One secp256k1 key type serves both roles of the protocol: a participant's
//! Ethereum account (identity, signs) and a doctor's protocol key pair
//! `(a, A = a·G)` (ECDH, stealth tags, ECIES). Secrets are 32 bytes, public
//! keys 33 (compressed) or 65 (uncompressed) bytes, addresses 20 bytes shown
//! with their EIP-55 checksum (the paper's sizes are wrong: flaw 4).

use core::fmt;
use core::str::FromStr;

use k256::ecdsa::SigningKey;
use k256::elliptic_curve::sec1::ToEncodedPoint;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::hash::keccak256;

/// A secp256k1 secret key: an Ethereum account key or a protocol key `a`.
///
/// Zeroised on drop (the inner `SigningKey` zeroises its scalar); `Debug`
/// prints only the type name; no `Display`, no `Clone`.
pub struct SecretKey(SigningKey);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

impl SecretKey {
    /// A fresh key from the platform's CSPRNG (OS, or `crypto.getRandomValues` in the browser).
    ///
    /// # Errors
    /// [`Error::Rng`] if the platform has no usable randomness.
    pub fn generate() -> Result<Self> {
        loop {
            let bytes = crate::random::bytes::<32>()?;
            // Fewer than 2^-127 of 32-byte strings are out of range; retry then.
            if let Ok(key) = Self::from_bytes(&bytes[..]) {
                return Ok(key);
            }
        }
    }

    /// Imports a 32-byte big-endian secret.
    ///
    /// # Errors
    /// [`Error::InvalidLength`] unless 32 bytes; [`Error::InvalidSecretKey`]
    /// if zero or not below the group order.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bytes: Zeroizing<[u8; 32]> =
            Zeroizing::new(crate::hex::fixed("secret key", "32", bytes)?);
        SigningKey::from_bytes(&(*bytes).into())
            .map(SecretKey)
            .map_err(|_| Error::InvalidSecretKey)
    }

    /// Imports a secret from hex text (optional `0x`).
    ///
    /// # Errors
    /// As [`SecretKey::from_bytes`], or [`Error::InvalidHex`].
    pub fn from_hex(text: &str) -> Result<Self> {
        let bytes = Zeroizing::new(crate::hex::decode("secret key", text)?);
        Self::from_bytes(&bytes)
    }

    /// Exports the 32-byte secret. The caller MUST keep it secret; the returned
    /// buffer zeroises itself when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes().into())
    }

    /// The public key `A = a·G`.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(k256::PublicKey::from(self.0.verifying_key()))
    }

    /// The Ethereum address of this key.
    pub fn address(&self) -> Address {
        self.public_key().address()
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.0
    }

    pub(crate) fn scalar(&self) -> k256::NonZeroScalar {
        *self.0.as_nonzero_scalar()
    }
}

/// A secp256k1 public key (never the identity).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(k256::PublicKey);

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PublicKey({})",
            crate::hex::encode_prefixed(&self.to_compressed())
        )
    }
}

impl PublicKey {
    /// Parses a SEC1 point: 33 bytes compressed (`02`/`03`) or 65 bytes
    /// uncompressed (`04`).
    ///
    /// # Errors
    /// [`Error::InvalidLength`] for other lengths; [`Error::InvalidPublicKey`]
    /// naming `what` for a bad prefix or a point not on the curve.
    pub fn from_sec1(what: &'static str, bytes: &[u8]) -> Result<Self> {
        if bytes.len() != 33 && bytes.len() != 65 {
            return Err(Error::InvalidLength {
                what,
                expected: "33 or 65",
                actual: bytes.len(),
            });
        }
        let prefix_ok = match bytes.first() {
            Some(2 | 3) => bytes.len() == 33,
            Some(4) => bytes.len() == 65,
            _ => false,
        };
        if !prefix_ok {
            return Err(Error::InvalidPublicKey { what });
        }
        k256::PublicKey::from_sec1_bytes(bytes)
            .map(PublicKey)
            .map_err(|_| Error::InvalidPublicKey { what })
    }

    /// Parses a point given as hex text.
    ///
    /// # Errors
    /// As [`PublicKey::from_sec1`], or [`Error::InvalidHex`].
    pub fn from_hex(what: &'static str, text: &str) -> Result<Self> {
        Self::from_sec1(what, &crate::hex::decode(what, text)?)
    }

    /// The 33-byte compressed encoding.
    pub fn to_compressed(&self) -> [u8; 33] {
        let point = self.0.to_encoded_point(true);
        let mut out = [0u8; 33];
        out.copy_from_slice(point.as_bytes());
        out
    }

    /// The 65-byte uncompressed encoding (`04 ‖ x ‖ y`).
    pub fn to_uncompressed(&self) -> [u8; 65] {
        let point = self.0.to_encoded_point(false);
        let mut out = [0u8; 65];
        out.copy_from_slice(point.as_bytes());
        out
    }

    /// The Ethereum address: the last 20 bytes of Keccak-256 of `x ‖ y`.
    pub fn address(&self) -> Address {
        let uncompressed = self.to_uncompressed();
        let digest = keccak256(&uncompressed[1..]);
        let mut out = [0u8; 20];
        out.copy_from_slice(&digest[12..]);
        Address(out)
    }

    pub(crate) fn from_inner(inner: k256::PublicKey) -> Self {
        PublicKey(inner)
    }

    pub(crate) fn as_projective(&self) -> k256::ProjectivePoint {
        self.0.to_projective()
    }

    /// The underlying `k256` key.
    #[allow(dead_code)]
    pub(crate) fn as_inner(&self) -> &k256::PublicKey {
        &self.0
    }
}

/// A 20-byte Ethereum address. `Display` gives the EIP-55 checksum text.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address(pub [u8; 20]);

impl Address {
    /// The EIP-55 mixed-case checksum text (`0x` + 40 hex digits).
    pub fn to_checksum(&self) -> String {
        let lower = crate::hex::encode(&self.0);
        let digest = keccak256(lower.as_bytes());
        let mut out = String::with_capacity(42);
        out.push_str("0x");
        for (i, c) in lower.chars().enumerate() {
            let nibble = (digest[i / 2] >> (if i % 2 == 0 { 4 } else { 0 })) & 0x0f;
            out.push(if c.is_ascii_alphabetic() && nibble >= 8 {
                c.to_ascii_uppercase()
            } else {
                c
            });
        }
        out
    }

    /// Parses address text: 40 hex digits, with or without a `0x`/`0X`
    /// prefix (the hex rule of `docs/PROTOCOL.md §1`). All-lowercase or
    /// all-uppercase digits are accepted as is; mixed-case digits MUST carry
    /// a valid EIP-55 checksum.
    ///
    /// # Errors
    /// [`Error::InvalidAddress`] for a bad length, bad hex or a wrong checksum.
    pub fn parse(text: &str) -> Result<Self> {
        let digits = crate::hex::digits(text);
        if digits.len() != 40 {
            return Err(Error::InvalidAddress {
                reason: "must be 40 hex digits",
            });
        }
        let bytes =
            ::hex::decode(digits).map_err(|_| Error::InvalidAddress { reason: "not hex" })?;
        let address = Address(crate::hex::fixed("address", "20", &bytes)?);
        let has_lower = digits.chars().any(|c| c.is_ascii_lowercase());
        let has_upper = digits.chars().any(|c| c.is_ascii_uppercase());
        if has_lower && has_upper && address.to_checksum()[2..] != *digits {
            return Err(Error::InvalidAddress {
                reason: "EIP-55 checksum mismatch",
            });
        }
        Ok(address)
    }
}

impl FromStr for Address {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Address::parse(s)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_checksum())
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({})", self.to_checksum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // EIP-55's own test addresses.
    const EIP55: [&str; 4] = [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ];

    #[test]
    fn eip55_vectors_round_trip() {
        for text in EIP55 {
            let a = Address::parse(text).unwrap();
            assert_eq!(a.to_checksum(), text);
            assert_eq!(Address::parse(&text.to_lowercase()), Ok(a));
        }
    }

    #[test]
    fn bad_checksum_is_refused() {
        let bad = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD";
        assert_eq!(
            Address::parse(bad),
            Err(Error::InvalidAddress {
                reason: "EIP-55 checksum mismatch"
            })
        );
        assert_eq!(
            Address::parse("0x1234"),
            Err(Error::InvalidAddress {
                reason: "must be 40 hex digits"
            })
        );
        assert_eq!(
            Address::parse("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"),
            Err(Error::InvalidAddress {
                reason: "EIP-55 checksum mismatch"
            })
        );
    }

    #[test]
    fn an_address_follows_the_hex_rule_of_every_other_input() {
        let expected = Address::parse(EIP55[0]).unwrap();
        let digits = &EIP55[0][2..];
        for text in [
            digits.to_owned(),
            format!("0X{digits}"),
            digits.to_lowercase(),
            format!("0X{}", digits.to_uppercase()),
            digits.to_uppercase(),
        ] {
            assert_eq!(Address::parse(&text), Ok(expected), "{text}");
        }
        assert_eq!(
            Address::parse(&format!("0x0x{digits}")),
            Err(Error::InvalidAddress {
                reason: "must be 40 hex digits"
            })
        );
        assert_eq!(
            Address::parse(&format!("x{}", &digits[1..])),
            Err(Error::InvalidAddress { reason: "not hex" })
        );
    }

    // Secret 1 is G: its address is well known.
    #[test]
    fn address_of_generator() {
        let mut one = [0u8; 32];
        one[31] = 1;
        let key = SecretKey::from_bytes(&one).unwrap();
        assert_eq!(
            key.address().to_checksum(),
            "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
        );
    }

    #[test]
    fn out_of_range_secrets_are_refused() {
        assert_eq!(
            SecretKey::from_bytes(&[0u8; 32]).err(),
            Some(Error::InvalidSecretKey)
        );
        assert_eq!(
            SecretKey::from_bytes(&[0xffu8; 32]).err(),
            Some(Error::InvalidSecretKey)
        );
        assert!(matches!(
            SecretKey::from_bytes(&[1u8; 31]).err(),
            Some(Error::InvalidLength { .. })
        ));
    }

    #[test]
    fn public_key_encodings_round_trip_and_bad_points_fail() {
        let key = SecretKey::generate().unwrap();
        let pk = key.public_key();
        assert_eq!(PublicKey::from_sec1("pk", &pk.to_compressed()).unwrap(), pk);
        assert_eq!(
            PublicKey::from_sec1("pk", &pk.to_uncompressed()).unwrap(),
            pk
        );
        let mut off_curve = pk.to_uncompressed();
        off_curve[64] ^= 1;
        assert_eq!(
            PublicKey::from_sec1("pk", &off_curve),
            Err(Error::InvalidPublicKey { what: "pk" })
        );
        let mut bad_prefix = pk.to_compressed();
        bad_prefix[0] = 5;
        assert_eq!(
            PublicKey::from_sec1("pk", &bad_prefix),
            Err(Error::InvalidPublicKey { what: "pk" })
        );
        assert!(format!("{key:?}") == "SecretKey(..)");
    }
}
