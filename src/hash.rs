//! Hash functions and keyed derivations of the protocol (`docs/PROTOCOL.md §2`).
//!
//! - `h2` of the paper is SHA-256 (unkeyed: the ciphertext hash `eh`) or
//!   HMAC-SHA-256 (keyed by `k_t`: masks and index values).
//! - `h3` is SHA3-256; Keccak-256 is used for everything Ethereum.
//! - `h1: E -> Z_n*` is SHA-256 over [`H1_LABEL`] and the compressed point,
//!   reduced modulo the group order.
//! - the view tag of an authorisation is the first byte of SHA-256 over
//!   [`VIEW_TAG_LABEL`] and the same compressed point (ERC-5564 style).

use hmac::{Hmac, Mac};
use k256::elliptic_curve::ops::Reduce;
use k256::elliptic_curve::sec1::ToEncodedPoint;
use k256::{ProjectivePoint, Scalar, U256};
use sha2::{Digest, Sha256};
use sha3::{Keccak256, Sha3_256};

use crate::error::{Error, Result};

/// Domain label of `h1` (PROTOCOL.md §2, §3).
pub const H1_LABEL: &[u8] = b"ehrchain/v1/h1";

/// Domain label of the view tag (PROTOCOL.md §2, §5): it separates the tag
/// from `h1`, which turns the same shared point into the stealth scalar.
pub const VIEW_TAG_LABEL: &[u8] = b"ehrchain/v1/view-tag";

/// Incremental SHA-256, as used for the ciphertext hash `eh` computed in the
/// same pass as encryption and decryption.
pub use sha2::Sha256 as Sha256Hasher;

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// SHA3-256 of `data` (the paper's `h3`).
pub fn sha3_256(data: &[u8]) -> [u8; 32] {
    Sha3_256::digest(data).into()
}

/// Keccak-256 of `data` (Ethereum's hash; not SHA3-256).
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

/// HMAC-SHA-256 of `message` under `key` (any key length, RFC 2104).
pub fn hmac_sha256(key: &[u8], message: &[&[u8]]) -> [u8; 32] {
    // `new_from_slice` accepts keys of any length for HMAC; the error branch is
    // unreachable, so fall back to hashing the key as RFC 2104 does for long keys.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => {
            let mut block = [0u8; 64];
            block[..32].copy_from_slice(&Sha256::digest(key));
            <Hmac<Sha256> as Mac>::new(&block.into())
        }
    };
    for part in message {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// Largest output HKDF-SHA-256 can produce (RFC 5869: 255 blocks).
pub const HKDF_SHA256_MAX_LEN: usize = 255 * 32;

/// HKDF-SHA-256 (RFC 5869) of `ikm` with `salt` (empty = absent) and `info`,
/// filling `out`.
///
/// # Errors
/// [`Error::OutOfRange`] if `out` is longer than [`HKDF_SHA256_MAX_LEN`].
pub fn hkdf_sha256(ikm: &[u8], salt: &[u8], info: &[u8], out: &mut [u8]) -> Result<()> {
    let salt = if salt.is_empty() { None } else { Some(salt) };
    hkdf::Hkdf::<Sha256>::new(salt, ikm)
        .expand(info, out)
        .map_err(|_| Error::OutOfRange {
            what: "HKDF output length",
        })
}

/// `h1(P)`: SHA-256 of [`H1_LABEL`] ‖ compressed(P), reduced mod n.
///
/// # Errors
/// [`Error::OutOfRange`] if the result is zero (probability 2^-256), since
/// `h1` maps into `Z_n*`.
pub fn h1(point: &ProjectivePoint) -> Result<Scalar> {
    h1_compressed(point.to_affine().to_encoded_point(true).as_bytes())
}

/// [`h1`] of a point given in its 33-byte compressed SEC1 form (the caller
/// encodes the point once for [`view_tag_compressed`] and `h1`).
///
/// # Errors
/// As [`h1`].
pub fn h1_compressed(compressed: &[u8]) -> Result<Scalar> {
    let digest = Sha256::new()
        .chain_update(H1_LABEL)
        .chain_update(compressed)
        .finalize();
    let scalar = <Scalar as Reduce<U256>>::reduce_bytes(&digest);
    if bool::from(scalar.is_zero()) {
        return Err(Error::OutOfRange { what: "h1" });
    }
    Ok(scalar)
}

/// The view tag of the shared point `P = r·A = a·R` (PROTOCOL.md §5):
/// `SHA-256(VIEW_TAG_LABEL ‖ compressed(P))[0]`.
pub fn view_tag(point: &ProjectivePoint) -> u8 {
    view_tag_compressed(point.to_affine().to_encoded_point(true).as_bytes())
}

/// [`view_tag`] of a point given in its 33-byte compressed SEC1 form.
pub fn view_tag_compressed(compressed: &[u8]) -> u8 {
    Sha256::new()
        .chain_update(VIEW_TAG_LABEL)
        .chain_update(compressed)
        .finalize()[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_tag_is_domain_separated_from_h1() {
        // Same point, two labels: the tag is not the first byte of h1's digest.
        let point = ProjectivePoint::GENERATOR;
        let encoded = point.to_affine().to_encoded_point(true);
        let h1_digest = sha256(&[H1_LABEL, encoded.as_bytes()].concat());
        let tag_digest = sha256(&[VIEW_TAG_LABEL, encoded.as_bytes()].concat());
        assert_eq!(view_tag(&point), tag_digest[0]);
        assert_ne!(h1_digest, tag_digest);
        assert!(!H1_LABEL.starts_with(VIEW_TAG_LABEL) && !VIEW_TAG_LABEL.starts_with(H1_LABEL));
    }

    // Known answers from the standards (FIPS 180-4, FIPS 202, Keccak team).
    #[test]
    fn hashes_match_published_vectors() {
        assert_eq!(
            crate::hex::encode(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            crate::hex::encode(&sha3_256(b"abc")),
            "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532"
        );
        assert_eq!(
            crate::hex::encode(&keccak256(b"")),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let tag = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            crate::hex::encode(&tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hkdf_refuses_oversize_output() {
        let mut out = vec![0u8; HKDF_SHA256_MAX_LEN + 1];
        assert_eq!(
            hkdf_sha256(b"k", b"", b"", &mut out),
            Err(Error::OutOfRange {
                what: "HKDF output length"
            })
        );
        let mut ok = vec![0u8; HKDF_SHA256_MAX_LEN];
        assert_eq!(hkdf_sha256(b"k", b"", b"", &mut ok), Ok(()));
        assert_ne!(ok, vec![0u8; HKDF_SHA256_MAX_LEN]);
    }
}
