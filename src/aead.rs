//! AES-GCM, the one AEAD of the protocol, as used by record segments (12-byte
//! nonces, AES-128 or AES-256) and by ECIES (16-byte nonces, AES-256).
//!
//! This module only selects the right `aes-gcm` instantiation for a key and
//! nonce size; it does no key or nonce derivation, so that the record stream
//! can later hand the same (key, nonce) pairs to WebCrypto instead.

use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::AeadInPlace;
use aes_gcm::aes::{Aes128, Aes256};
use aes_gcm::{AesGcm, KeyInit, Tag};

use crate::error::{Error, Result};

/// AES-GCM tag length in bytes (always 16 in this protocol).
pub const TAG_LEN: usize = 16;

/// An AES-GCM key schedule for one key, with the nonce size fixed at construction.
pub struct Cipher(Inner);

enum Inner {
    Aes128N12(Box<AesGcm<Aes128, U12>>),
    Aes256N12(Box<AesGcm<Aes256, U12>>),
    Aes128N16(Box<AesGcm<Aes128, U16>>),
    Aes256N16(Box<AesGcm<Aes256, U16>>),
}

impl core::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("aead::Cipher")
    }
}

/// Expands to a `match` over the four instantiations, binding the cipher.
macro_rules! with_cipher {
    ($inner:expr, $c:ident => $body:expr) => {
        match $inner {
            Inner::Aes128N12($c) => $body,
            Inner::Aes256N12($c) => $body,
            Inner::Aes128N16($c) => $body,
            Inner::Aes256N16($c) => $body,
        }
    };
}

impl Cipher {
    /// A cipher for a 16- or 32-byte key and 12- or 16-byte nonces.
    ///
    /// # Errors
    /// [`Error::InvalidLength`] for any other key or nonce size.
    pub fn new(key: &[u8], nonce_len: usize) -> Result<Self> {
        let bad_key = || Error::InvalidLength {
            what: "AES key",
            expected: "16 or 32",
            actual: key.len(),
        };
        let inner = match (key.len(), nonce_len) {
            (16, 12) => Inner::Aes128N12(Box::new(
                KeyInit::new_from_slice(key).map_err(|_| bad_key())?,
            )),
            (32, 12) => Inner::Aes256N12(Box::new(
                KeyInit::new_from_slice(key).map_err(|_| bad_key())?,
            )),
            (16, 16) => Inner::Aes128N16(Box::new(
                KeyInit::new_from_slice(key).map_err(|_| bad_key())?,
            )),
            (32, 16) => Inner::Aes256N16(Box::new(
                KeyInit::new_from_slice(key).map_err(|_| bad_key())?,
            )),
            (16 | 32, n) => {
                return Err(Error::InvalidLength {
                    what: "AES-GCM nonce",
                    expected: "12 or 16",
                    actual: n,
                })
            }
            _ => return Err(bad_key()),
        };
        Ok(Cipher(inner))
    }

    fn nonce_len(&self) -> usize {
        match self.0 {
            Inner::Aes128N12(_) | Inner::Aes256N12(_) => 12,
            Inner::Aes128N16(_) | Inner::Aes256N16(_) => 16,
        }
    }

    fn check_nonce(&self, nonce: &[u8]) -> Result<()> {
        if nonce.len() != self.nonce_len() {
            return Err(Error::InvalidLength {
                what: "AES-GCM nonce",
                expected: if self.nonce_len() == 12 { "12" } else { "16" },
                actual: nonce.len(),
            });
        }
        Ok(())
    }

    /// Encrypts `buffer` in place and returns the 16-byte tag.
    ///
    /// # Errors
    /// [`Error::InvalidLength`] for a wrong nonce size; [`Error::StreamTooLong`]
    /// if the message exceeds GCM's limit.
    pub fn seal_in_place(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buffer: &mut [u8],
    ) -> Result<[u8; TAG_LEN]> {
        self.check_nonce(nonce)?;
        let tag =
            with_cipher!(&self.0, c => c.encrypt_in_place_detached(nonce.into(), aad, buffer))
                .map_err(|_| Error::StreamTooLong)?;
        Ok(tag.into())
    }

    /// Checks `tag` and decrypts `buffer` in place. On failure `buffer` is left
    /// as it was (the tag is checked before any byte is decrypted).
    ///
    /// # Errors
    /// [`Error::InvalidLength`] for a wrong nonce or tag size;
    /// [`Error::EciesDecryptFailed`] is *not* used here: the caller maps the
    /// opaque `Err(())`-like [`AuthFailed`] into its own error.
    pub fn open_in_place(
        &self,
        nonce: &[u8],
        aad: &[u8],
        buffer: &mut [u8],
        tag: &[u8],
    ) -> Result<(), AuthFailed> {
        if nonce.len() != self.nonce_len() || tag.len() != TAG_LEN {
            return Err(AuthFailed);
        }
        let tag = Tag::<U16>::from_slice(tag);
        with_cipher!(&self.0, c => c.decrypt_in_place_detached(nonce.into(), aad, buffer, tag))
            .map_err(|_| AuthFailed)
    }
}

/// The ciphertext did not authenticate under this key, nonce and associated data.
/// Deliberately carries no detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthFailed;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_each_instantiation() {
        for (klen, nlen) in [(16, 12), (32, 12), (16, 16), (32, 16)] {
            let key = vec![7u8; klen];
            let nonce = vec![9u8; nlen];
            let c = Cipher::new(&key, nlen).unwrap();
            let mut buf = b"segment".to_vec();
            let tag = c.seal_in_place(&nonce, b"ad", &mut buf).unwrap();
            assert_ne!(&buf[..], b"segment");
            assert!(c.open_in_place(&nonce, b"ad", &mut buf, &tag).is_ok());
            assert_eq!(&buf[..], b"segment");
        }
    }

    #[test]
    fn failed_open_leaves_buffer_untouched() {
        let c = Cipher::new(&[1u8; 16], 12).unwrap();
        let mut buf = b"hello".to_vec();
        let tag = c.seal_in_place(&[0u8; 12], b"", &mut buf).unwrap();
        let ct = buf.clone();
        assert_eq!(
            c.open_in_place(&[0u8; 12], b"x", &mut buf, &tag),
            Err(AuthFailed)
        );
        assert_eq!(buf, ct);
    }

    #[test]
    fn other_sizes_are_refused() {
        assert!(Cipher::new(&[0u8; 24], 12).is_err());
        assert!(Cipher::new(&[0u8; 16], 8).is_err());
    }
}
