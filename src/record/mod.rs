//! Streaming record encryption: `Enc_K(HR)` of the paper's Alg 4, in Google
//! Tink's AES-GCM-HKDF streaming wire format, with `eh = SHA-256(CHR)`
//! computed in the same pass.
//!
//! ```text
//! CHR     = header ‖ segment_0 ‖ … ‖ segment_n          (n+1 ≥ 1 segments)
//! header  = u8 header_len ‖ salt (key_len) ‖ nonce_prefix (7)
//!           header_len = 1 + key_len + 7                   (24 or 40)
//! seg_key = HKDF-SHA-256(ikm = K_P, salt = salt, info = associated data, L = key_len)
//! nonce_i = nonce_prefix ‖ u32 BE i ‖ (0x01 if i = n else 0x00)
//! segment_i = AES-GCM(seg_key, nonce_i, no AAD, plaintext_i) ‖ tag (16)
//! ```
//!
//! With a ciphertext segment size `S` (Tink's `ciphertextSegmentSize`, 1 MiB
//! by default), segment 0 carries `S − header_len − 16` plaintext bytes and
//! every later one `S − 16`; the last may be shorter (or empty, for an empty
//! record). A full segment is written as non-last only when more plaintext
//! follows, so a record of an exact multiple ends with a full last segment,
//! as Tink writes it.
//!
//! The module is split so that the WebCrypto path (async AES-GCM, in the
//! npm package) produces byte-identical output: [`header`] derives the
//! segment key and each segment's nonce, [`Layout`] says how many plaintext
//! bytes each segment takes, [`stream`] glues these to the software AEAD,
//! and [`segments`] hands them to an outside one.

pub mod header;
mod key;
pub mod segments;
pub mod stream;

pub use header::{Header, SegmentKeys};
pub use key::RecordKey;
pub use segments::Segments;
#[cfg(target_arch = "wasm32")]
pub(crate) use stream::buffer;
pub use stream::{Decryptor, Encryptor};

use zeroize::Zeroizing;

use crate::aead::TAG_LEN;
use crate::error::{Error, Result};

/// Default ciphertext segment size: 1 MiB, as Tink's `AES128_GCM_HKDF_1MB`.
pub const DEFAULT_SEGMENT_SIZE: u32 = 1 << 20;
/// Largest ciphertext segment size accepted (bounds memory per segment).
pub const MAX_SEGMENT_SIZE: u32 = 64 << 20;
/// Length of the nonce prefix in the header.
pub const NONCE_PREFIX_LEN: usize = 7;

/// Key size and ciphertext segment size of a record stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    key_len: usize,
    segment_size: u32,
}

impl Layout {
    /// The layout for `key`'s size and a ciphertext segment size in
    /// `header_len + 17 ..= MAX_SEGMENT_SIZE`.
    ///
    /// # Errors
    /// [`Error::InvalidStreamParams`] for a segment size out of range.
    pub fn new(key: &RecordKey, segment_size: u32) -> Result<Self> {
        let key_len = key.len();
        let header_len = 1 + key_len + NONCE_PREFIX_LEN;
        if (segment_size as usize) <= header_len + TAG_LEN {
            return Err(Error::InvalidStreamParams {
                reason: "segment size must exceed the header plus one tag",
            });
        }
        if segment_size > MAX_SEGMENT_SIZE {
            return Err(Error::InvalidStreamParams {
                reason: "segment size must be at most 64 MiB",
            });
        }
        Ok(Layout {
            key_len,
            segment_size,
        })
    }

    /// The key size (16 or 32).
    pub fn key_len(&self) -> usize {
        self.key_len
    }

    /// The ciphertext segment size `S`.
    pub fn segment_size(&self) -> u32 {
        self.segment_size
    }

    /// `1 + key_len + 7`.
    pub fn header_len(&self) -> usize {
        1 + self.key_len + NONCE_PREFIX_LEN
    }

    /// Plaintext bytes carried by a full segment `index`.
    pub fn plaintext_segment_len(&self, index: u32) -> usize {
        let s = self.segment_size as usize - TAG_LEN;
        if index == 0 {
            s - self.header_len()
        } else {
            s
        }
    }

    /// Ciphertext bytes of a full segment `index` (`S − header_len` for segment 0).
    pub fn ciphertext_segment_len(&self, index: u32) -> usize {
        self.plaintext_segment_len(index) + TAG_LEN
    }

    /// Number of segments for a plaintext of `len` bytes (at least 1).
    pub fn segment_count(&self, len: u64) -> u64 {
        let first = self.plaintext_segment_len(0) as u64;
        if len <= first {
            return 1;
        }
        let rest = self.plaintext_segment_len(1) as u64;
        1 + (len - first).div_ceil(rest)
    }

    /// Total ciphertext length for a plaintext of `len` bytes.
    pub fn ciphertext_len(&self, len: u64) -> u64 {
        self.header_len() as u64 + len + self.segment_count(len) * TAG_LEN as u64
    }
}

/// A fresh random record key `K_P` of 16 bytes (the paper's 128-bit keys).
///
/// # Errors
/// [`Error::Rng`] if no randomness is available.
pub fn generate_key() -> Result<RecordKey> {
    RecordKey::generate()
}

/// Encrypts a whole record in memory. For large records use [`Encryptor`].
/// Returns the ciphertext and its SHA-256.
///
/// # Errors
/// As [`Encryptor::new`].
pub fn encrypt(
    key: &RecordKey,
    associated_data: &[u8],
    segment_size: u32,
    plaintext: &[u8],
) -> Result<(Vec<u8>, [u8; 32])> {
    let mut enc = Encryptor::new(key, associated_data, segment_size)?;
    let mut out = Vec::with_capacity(
        usize::try_from(enc.layout().ciphertext_len(plaintext.len() as u64)).unwrap_or(0),
    );
    enc.push(plaintext, &mut out)?;
    let hash = enc.finish(&mut out)?;
    Ok((out, hash))
}

/// Decrypts a whole record in memory. For large records use [`Decryptor`].
/// Returns the plaintext and the ciphertext's SHA-256.
///
/// # Errors
/// As [`Decryptor::push`] and [`Decryptor::finish`].
pub fn decrypt(
    key: &RecordKey,
    associated_data: &[u8],
    segment_size: u32,
    ciphertext: &[u8],
) -> Result<(Zeroizing<Vec<u8>>, [u8; 32])> {
    let mut dec = Decryptor::new(key, associated_data, segment_size)?;
    let mut out = Zeroizing::new(Vec::with_capacity(ciphertext.len()));
    dec.push(ciphertext, &mut out)?;
    let hash = dec.finish(&mut out)?;
    Ok((out, hash))
}
