//! AES-GCM, the one AEAD of the protocol, as used by record segments (12-byte
//! nonces, AES-128 or AES-256) and by ECIES (16-byte nonces, AES-256).
//!
//! This module only selects the right `aes-gcm` instantiation for a key and
//! nonce size; it does no key or nonce derivation, so that the record stream
//! can later hand the same (key, nonce) pairs to WebCrypto instead.

use core::marker::PhantomData;

use aes_gcm::aead::consts::{U12, U16};
use aes_gcm::aead::AeadInPlace;
use aes_gcm::aes::{Aes128, Aes256};
use aes_gcm::{AesGcm, KeyInit, Tag};

use crate::error::{Error, Result};

/// AES-GCM tag length in bytes (always 16 in this protocol).
pub const TAG_LEN: usize = 16;

/// A nonce size the protocol uses, as the array that holds it: `[u8; 12]`
/// (record segments) or `[u8; 16]` (ECIES). No other size can be named, so
/// a nonce of the wrong length does not compile.
pub trait Nonce: sealed::Sealed + AsRef<[u8]> {
    /// The nonce length in bytes.
    const LEN: usize;
}

mod sealed {
    /// Only the two nonce arrays of this module implement [`super::Nonce`].
    pub trait Sealed {}
    impl Sealed for [u8; 12] {}
    impl Sealed for [u8; 16] {}
}

impl Nonce for [u8; 12] {
    const LEN: usize = 12;
}

impl Nonce for [u8; 16] {
    const LEN: usize = 16;
}

/// The 12-byte nonce of a record segment.
pub type SegmentNonce = [u8; 12];

/// The 16-byte nonce of an ECIES ciphertext (eciesjs/eciespy).
pub type EciesNonce = [u8; 16];

/// An AES-GCM key schedule for one key, taking nonces of type `N`.
pub struct Cipher<N: Nonce> {
    inner: Inner,
    nonce: PhantomData<N>,
}

enum Inner {
    Aes128N12(Box<AesGcm<Aes128, U12>>),
    Aes256N12(Box<AesGcm<Aes256, U12>>),
    Aes128N16(Box<AesGcm<Aes128, U16>>),
    Aes256N16(Box<AesGcm<Aes256, U16>>),
}

impl<N: Nonce> core::fmt::Debug for Cipher<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "aead::Cipher<[u8; {}]>", N::LEN)
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

impl<N: Nonce> Cipher<N> {
    /// A cipher for a 16- or 32-byte key.
    ///
    /// # Errors
    /// [`Error::InvalidLength`] for any other key size.
    pub fn new(key: &[u8]) -> Result<Self> {
        let bad_key = || Error::InvalidLength {
            what: "AES key",
            expected: "16 or 32",
            actual: key.len(),
        };
        // The variant's nonce size is `N::LEN`, which is 12 or 16 by the
        // sealed trait: the arms below are the only ones reachable.
        let inner = match (key.len(), N::LEN) {
            (16, 12) => Inner::Aes128N12(Box::new(
                KeyInit::new_from_slice(key).map_err(|_| bad_key())?,
            )),
            (32, 12) => Inner::Aes256N12(Box::new(
                KeyInit::new_from_slice(key).map_err(|_| bad_key())?,
            )),
            (16, _) => Inner::Aes128N16(Box::new(
                KeyInit::new_from_slice(key).map_err(|_| bad_key())?,
            )),
            (32, _) => Inner::Aes256N16(Box::new(
                KeyInit::new_from_slice(key).map_err(|_| bad_key())?,
            )),
            _ => return Err(bad_key()),
        };
        Ok(Cipher {
            inner,
            nonce: PhantomData,
        })
    }

    /// Encrypts `buffer` in place and returns the 16-byte tag.
    ///
    /// # Errors
    /// [`Error::StreamTooLong`] if the message exceeds GCM's limit.
    pub fn seal_in_place(&self, nonce: &N, aad: &[u8], buffer: &mut [u8]) -> Result<[u8; TAG_LEN]> {
        let nonce = nonce.as_ref();
        let tag =
            with_cipher!(&self.inner, c => c.encrypt_in_place_detached(nonce.into(), aad, buffer))
                .map_err(|_| Error::StreamTooLong)?;
        Ok(tag.into())
    }

    /// Checks `tag` and decrypts `buffer` in place. On failure `buffer` is left
    /// as it was (the tag is checked before any byte is decrypted).
    ///
    /// # Errors
    /// The opaque [`AuthFailed`] (the caller maps it into its own error).
    pub fn open_in_place(
        &self,
        nonce: &N,
        aad: &[u8],
        buffer: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), AuthFailed> {
        let nonce = nonce.as_ref();
        let tag = Tag::<U16>::from_slice(tag);
        with_cipher!(&self.inner, c => c.decrypt_in_place_detached(nonce.into(), aad, buffer, tag))
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

    fn round_trip<N: Nonce>(key_len: usize, nonce: N) {
        let c = Cipher::<N>::new(&vec![7u8; key_len]).unwrap();
        let mut buf = b"segment".to_vec();
        let tag = c.seal_in_place(&nonce, b"ad", &mut buf).unwrap();
        assert_ne!(&buf[..], b"segment");
        assert_eq!(c.open_in_place(&nonce, b"ad", &mut buf, &tag), Ok(()));
        assert_eq!(&buf[..], b"segment");
    }

    #[test]
    fn each_key_and_nonce_size_round_trips() {
        round_trip(16, [9u8; 12]);
        round_trip(32, [9u8; 12]);
        round_trip(16, [9u8; 16]);
        round_trip(32, [9u8; 16]);
    }

    #[test]
    fn a_failed_open_leaves_the_buffer_untouched() {
        let c = Cipher::<SegmentNonce>::new(&[1u8; 16]).unwrap();
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
    fn an_aes_192_key_is_refused() {
        assert_eq!(
            Cipher::<SegmentNonce>::new(&[0u8; 24]).map(|_| ()),
            Err(Error::InvalidLength {
                what: "AES key",
                expected: "16 or 32",
                actual: 24
            })
        );
    }
}
