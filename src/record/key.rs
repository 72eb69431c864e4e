//! The record key `K_P` (paper Alg 4): 16 bytes (the paper's 128-bit keys,
//! the default) or 32 bytes, as Tink's AES-GCM-HKDF streaming accepts
//! (`docs/PROTOCOL.md §7.1`). The length rule lives here once; every
//! function that takes a record key takes this type.

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// A record key `K_P`: 16 or 32 secret bytes, zeroised on drop. `Debug`
/// prints only its length; there is no `Display`.
#[derive(Clone)]
pub struct RecordKey(Zeroizing<Vec<u8>>);

impl RecordKey {
    /// The accepted lengths, in bytes.
    pub const LENGTHS: [usize; 2] = [16, 32];
    /// [`RecordKey::LENGTHS`] as the text of an [`Error::InvalidLength`].
    pub const EXPECTED: &'static str = "16 or 32";
    /// The name errors give it.
    pub const WHAT: &'static str = "record key K_P";

    /// Imports a key.
    ///
    /// # Errors
    /// [`Error::InvalidLength`] unless `bytes` is 16 or 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if Self::LENGTHS.contains(&bytes.len()) {
            Ok(RecordKey(Zeroizing::new(bytes.to_vec())))
        } else {
            Err(Error::InvalidLength {
                what: Self::WHAT,
                expected: Self::EXPECTED,
                actual: bytes.len(),
            })
        }
    }

    /// A fresh random 16-byte key.
    ///
    /// # Errors
    /// [`Error::Rng`] if no randomness is available.
    pub fn generate() -> Result<Self> {
        let bytes = crate::random::bytes::<16>()?;
        Ok(RecordKey(Zeroizing::new(bytes.to_vec())))
    }

    /// The key bytes (the caller must not keep copies longer than needed).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// 16 or 32.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a record key is never empty (for clippy's `len` rule).
    pub fn is_empty(&self) -> bool {
        false
    }
}

impl PartialEq for RecordKey {
    /// Constant-time comparison (keys of different lengths are unequal).
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.0.ct_eq(&other.0))
    }
}

impl Eq for RecordKey {}

impl core::fmt::Debug for RecordKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "RecordKey({} bytes)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_16_and_32_byte_keys_are_record_keys() {
        for len in [0, 1, 15, 17, 24, 31, 33, 64] {
            assert_eq!(
                RecordKey::from_bytes(&vec![7; len]),
                Err(Error::InvalidLength {
                    what: "record key K_P",
                    expected: "16 or 32",
                    actual: len
                })
            );
        }
        assert_eq!(RecordKey::from_bytes(&[7; 16]).unwrap().len(), 16);
        assert_eq!(RecordKey::from_bytes(&[7; 32]).unwrap().len(), 32);
        assert_eq!(RecordKey::generate().unwrap().len(), 16);
    }

    #[test]
    fn debug_never_prints_the_key() {
        let key = RecordKey::from_bytes(&[0xab; 16]).unwrap();
        let text = format!("{key:?}");
        assert_eq!(text, "RecordKey(16 bytes)");
        assert!(!text.contains("171") && !text.to_lowercase().contains("ab"));
    }
}
