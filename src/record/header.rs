//! The record header and the per-record segment key and nonces.
//!
//! This is all the key and nonce derivation there is: an AES-GCM engine
//! (software here, WebCrypto later) only needs [`SegmentKeys::key`] and
//! [`SegmentKeys::nonce`] to produce or check any segment.

use zeroize::Zeroizing;

use super::{Layout, RecordKey, NONCE_PREFIX_LEN};
use crate::aead::SegmentNonce;
use crate::error::{Error, Result};
use crate::hash::hkdf_sha256;

/// The record header: `u8 header_len ‖ salt (key_len) ‖ nonce_prefix (7)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    salt: Vec<u8>,
    nonce_prefix: [u8; NONCE_PREFIX_LEN],
}

impl Header {
    /// A header with a fresh random salt and nonce prefix for `layout`.
    ///
    /// # Errors
    /// [`Error::Rng`] if no randomness is available.
    pub fn random(layout: &Layout) -> Result<Self> {
        let salt = crate::random::bytes::<32>()?;
        let prefix = crate::random::bytes::<NONCE_PREFIX_LEN>()?;
        Ok(Header {
            salt: salt[..layout.key_len()].to_vec(),
            nonce_prefix: *prefix,
        })
    }

    /// A header with the given salt and nonce prefix, for known-answer
    /// tests only (feature `kat`): reusing a header with the same key reuses
    /// nonces.
    ///
    /// # Errors
    /// [`Error::InvalidLength`] unless the salt is `layout.key_len()` bytes.
    #[cfg(any(test, feature = "kat"))]
    pub fn from_parts(
        layout: &Layout,
        salt: &[u8],
        nonce_prefix: [u8; NONCE_PREFIX_LEN],
    ) -> Result<Self> {
        if salt.len() != layout.key_len() {
            return Err(Error::InvalidLength {
                what: "header salt",
                expected: "the key length",
                actual: salt.len(),
            });
        }
        Ok(Header {
            salt: salt.to_vec(),
            nonce_prefix,
        })
    }

    /// Parses exactly `layout.header_len()` bytes.
    ///
    /// # Errors
    /// [`Error::InvalidHeader`] if the length byte is not `layout.header_len()`.
    pub fn parse(layout: &Layout, bytes: &[u8]) -> Result<Self> {
        let len = layout.header_len();
        if bytes.len() != len || usize::from(bytes.first().copied().unwrap_or(0)) != len {
            return Err(Error::InvalidHeader);
        }
        let salt = &bytes[1..1 + layout.key_len()];
        let mut nonce_prefix = [0u8; NONCE_PREFIX_LEN];
        nonce_prefix.copy_from_slice(&bytes[1 + layout.key_len()..]);
        Ok(Header {
            salt: salt.to_vec(),
            nonce_prefix,
        })
    }

    /// The encoded header.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.salt.len() + NONCE_PREFIX_LEN);
        // 24 or 40: the salt is 16 or 32 bytes.
        out.push(u8::try_from(1 + self.salt.len() + NONCE_PREFIX_LEN).unwrap_or(0));
        out.extend_from_slice(&self.salt);
        out.extend_from_slice(&self.nonce_prefix);
        out
    }

    /// Derives the segment key for `key` and `associated_data`.
    ///
    /// # Errors
    /// [`Error::InvalidLength`] if `key` is not as long as the salt (the
    /// header was made for a key of the other size).
    pub fn segment_keys(&self, key: &RecordKey, associated_data: &[u8]) -> Result<SegmentKeys> {
        if key.len() != self.salt.len() {
            return Err(Error::InvalidLength {
                what: RecordKey::WHAT,
                expected: "the header's salt length",
                actual: key.len(),
            });
        }
        let mut derived = Zeroizing::new(vec![0u8; key.len()]);
        hkdf_sha256(key.as_bytes(), &self.salt, associated_data, &mut derived)?;
        Ok(SegmentKeys {
            key: derived,
            nonce_prefix: self.nonce_prefix,
        })
    }
}

/// The segment key and nonce prefix of one record: everything an AES-GCM
/// engine needs to seal or open any of its segments.
pub struct SegmentKeys {
    key: Zeroizing<Vec<u8>>,
    nonce_prefix: [u8; NONCE_PREFIX_LEN],
}

impl core::fmt::Debug for SegmentKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("SegmentKeys(..)")
    }
}

impl SegmentKeys {
    /// The AES-GCM key of every segment (HKDF output, `key_len` bytes).
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The 12-byte nonce of segment `index`: `prefix ‖ u32 BE index ‖ last`.
    pub fn nonce(&self, index: u32, last: bool) -> SegmentNonce {
        let mut nonce = [0u8; 12];
        nonce[..NONCE_PREFIX_LEN].copy_from_slice(&self.nonce_prefix);
        nonce[NONCE_PREFIX_LEN..11].copy_from_slice(&index.to_be_bytes());
        nonce[11] = u8::from(last);
        nonce
    }
}
