//! ECIES on secp256k1 in the format of eciesjs / eciespy (default configuration).
//!
//! ```text
//! ciphertext = E (65, uncompressed ephemeral public key)
//!            ‖ nonce (16) ‖ tag (16) ‖ AES-256-GCM(k, nonce, no AAD, plaintext)
//! k          = HKDF-SHA-256(ikm = E ‖ S, salt = none, info = none, L = 32)
//! S          = uncompressed(e · B)   (the full shared point, 65 bytes)
//! ```
//!
//! This is the paper's `Enc_PK_D2(A_pass)` (Alg 5 step 4) and the channel that
//! hands `K_P` and `tx_id` from the doctor's client to the patient's.

use k256::elliptic_curve::sec1::ToEncodedPoint;
use k256::ProjectivePoint;
use zeroize::Zeroizing;

use crate::account::{PublicKey, SecretKey};
use crate::aead::{Cipher, EciesNonce, TAG_LEN};
use crate::error::{Error, Result};
use crate::hash::hkdf_sha256;

/// Length of the uncompressed ephemeral public key at the start.
pub const EPHEMERAL_LEN: usize = 65;
/// Length of the AES-GCM nonce that eciesjs / eciespy use by default.
pub const NONCE_LEN: usize = 16;
/// Bytes an ECIES ciphertext adds to its plaintext (65 + 16 + 16 = 97).
pub const OVERHEAD: usize = EPHEMERAL_LEN + NONCE_LEN + TAG_LEN;

/// The 32-byte AES key shared by the ephemeral key `e` and the recipient `B`.
fn derive_key(ephemeral: &[u8; 65], shared: &ProjectivePoint) -> Result<Zeroizing<[u8; 32]>> {
    let shared = Zeroizing::new(shared.to_affine().to_encoded_point(false));
    let mut ikm = Zeroizing::new([0u8; 130]);
    ikm[..65].copy_from_slice(ephemeral);
    ikm[65..].copy_from_slice(shared.as_bytes());
    let mut key = Zeroizing::new([0u8; 32]);
    hkdf_sha256(ikm.as_slice(), &[], &[], key.as_mut_slice())?;
    Ok(key)
}

/// Encrypts `plaintext` to `recipient` with a fresh ephemeral key and nonce.
///
/// # Errors
/// [`Error::Rng`] if no randomness is available.
pub fn seal(recipient: &PublicKey, plaintext: &[u8]) -> Result<Vec<u8>> {
    let ephemeral = SecretKey::generate()?;
    let nonce = crate::random::bytes::<NONCE_LEN>()?;
    seal_inner(recipient, plaintext, &ephemeral, &nonce)
}

/// [`seal`] with a caller-chosen ephemeral key and nonce, for known-answer
/// tests only (feature `kat`): reusing either breaks confidentiality.
///
/// # Errors
/// Only if AES-GCM refuses the message length (over 64 GiB).
#[cfg(any(test, feature = "kat"))]
pub fn seal_with(
    recipient: &PublicKey,
    plaintext: &[u8],
    ephemeral: &SecretKey,
    nonce: &[u8; NONCE_LEN],
) -> Result<Vec<u8>> {
    seal_inner(recipient, plaintext, ephemeral, nonce)
}

fn seal_inner(
    recipient: &PublicKey,
    plaintext: &[u8],
    ephemeral: &SecretKey,
    nonce: &[u8; NONCE_LEN],
) -> Result<Vec<u8>> {
    let eph_pub = ephemeral.public_key().to_uncompressed();
    let shared = recipient.as_projective() * *ephemeral.scalar();
    let key = derive_key(&eph_pub, &shared)?;
    let cipher = Cipher::<EciesNonce>::new(key.as_slice())?;
    let mut out = Vec::with_capacity(OVERHEAD + plaintext.len());
    out.extend_from_slice(&eph_pub);
    out.extend_from_slice(nonce);
    out.extend_from_slice(&[0u8; TAG_LEN]);
    out.extend_from_slice(plaintext);
    let tag = cipher.seal_in_place(nonce, &[], &mut out[OVERHEAD..])?;
    out[EPHEMERAL_LEN + NONCE_LEN..OVERHEAD].copy_from_slice(&tag);
    Ok(out)
}

/// Decrypts an ECIES ciphertext with the recipient's secret key.
///
/// # Errors
/// [`Error::EciesTooShort`] below [`OVERHEAD`] bytes; [`Error::InvalidPublicKey`]
/// if the ephemeral key is not a valid uncompressed point;
/// [`Error::EciesDecryptFailed`] for a wrong key or a tampered ciphertext.
pub fn open(secret: &SecretKey, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    if ciphertext.len() < OVERHEAD {
        return Err(Error::EciesTooShort);
    }
    let (eph, rest) = ciphertext.split_at(EPHEMERAL_LEN);
    let Some((nonce, rest)) = rest.split_first_chunk::<NONCE_LEN>() else {
        return Err(Error::EciesTooShort);
    };
    let Some((tag, body)) = rest.split_first_chunk::<TAG_LEN>() else {
        return Err(Error::EciesTooShort);
    };
    if eph.first() != Some(&4) {
        return Err(Error::InvalidPublicKey {
            what: "ECIES ephemeral key",
        });
    }
    let eph_key = PublicKey::from_sec1("ECIES ephemeral key", eph)?;
    let shared = eph_key.as_projective() * *secret.scalar();
    let mut eph_bytes = [0u8; 65];
    eph_bytes.copy_from_slice(eph);
    let key = derive_key(&eph_bytes, &shared)?;
    let cipher = Cipher::<EciesNonce>::new(key.as_slice())?;
    let mut plain = Zeroizing::new(body.to_vec());
    cipher
        .open_in_place(nonce, &[], &mut plain, tag)
        .map_err(|_| Error::EciesDecryptFailed)?;
    Ok(plain)
}

/// Raw ECDH: the x-coordinate of `secret · public` (32 bytes), as in SEC 1
/// and Project Wycheproof's ECDH vectors. Not used by the ECIES format above,
/// which hashes the whole point.
pub fn ecdh_x(secret: &SecretKey, public: &PublicKey) -> Zeroizing<[u8; 32]> {
    let point = (public.as_projective() * *secret.scalar()).to_affine();
    let encoded = point.to_encoded_point(false);
    let mut out = Zeroizing::new([0u8; 32]);
    if let Some(x) = encoded.x() {
        out.copy_from_slice(x);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let bob = SecretKey::generate().unwrap();
        let ct = seal(&bob.public_key(), b"pass").unwrap();
        assert_eq!(ct.len(), OVERHEAD + 4);
        assert_eq!(open(&bob, &ct).unwrap().as_slice(), b"pass");
        let eve = SecretKey::generate().unwrap();
        assert_eq!(open(&eve, &ct).err(), Some(Error::EciesDecryptFailed));
        for i in [70, 90, ct.len() - 1] {
            let mut bad = ct.clone();
            bad[i] ^= 1;
            assert_eq!(
                open(&bob, &bad).err(),
                Some(Error::EciesDecryptFailed),
                "byte {i}"
            );
        }
        let mut off_curve = ct.clone();
        off_curve[64] ^= 1;
        assert!(matches!(
            open(&bob, &off_curve),
            Err(Error::InvalidPublicKey { .. })
        ));
        assert_eq!(open(&bob, &ct[..96]).err(), Some(Error::EciesTooShort));
        let empty = seal(&bob.public_key(), b"").unwrap();
        assert_eq!(open(&bob, &empty).unwrap().len(), 0);
    }
}
