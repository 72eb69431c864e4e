//! A record stream's segments for an AES-GCM engine outside the crate.
//!
//! The browser's WebCrypto seals and opens AES-GCM several times faster than
//! software AES in wasm, but only asynchronously and only on whole messages.
//! [`Segments`] gives such an engine everything it needs to produce or check
//! the bytes [`Encryptor`](super::Encryptor) and
//! [`Decryptor`](super::Decryptor) produce and check: the layout (how many
//! bytes each segment holds), the segment key, each segment's nonce, the
//! running SHA-256 of the ciphertext (`eh`), and, when a segment does not
//! open, the same diagnosis the software path gives (`SegmentTampered`,
//! `SegmentOutOfOrder`, `Truncated`, …). The engine cuts and orders the
//! segments as [`Layout`] says: a full segment is sealed as non-last only
//! once more plaintext follows.

use sha2::{Digest, Sha256};

use super::stream::diagnose;
use super::{Layout, SegmentKeys};
use crate::aead::{Cipher, SegmentNonce, TAG_LEN};
use crate::error::{Error, Result};

/// The keys, nonces, hash and diagnosis of one record stream, for an
/// outside AES-GCM engine. Made by
/// [`Encryptor::into_segments`](super::Encryptor::into_segments) or
/// [`Decryptor::segments`](super::Decryptor::segments).
pub struct Segments {
    layout: Layout,
    keys: SegmentKeys,
    /// The software cipher, used only to diagnose a segment that failed.
    cipher: Cipher<SegmentNonce>,
    hasher: Sha256,
    expected: Option<[u8; 32]>,
}

impl core::fmt::Debug for Segments {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Segments")
            .field("layout", &self.layout)
            .finish_non_exhaustive()
    }
}

impl Segments {
    /// Segments with a fresh hash, expecting `eh = expected` if given.
    pub(crate) fn new(
        layout: Layout,
        keys: SegmentKeys,
        expected: Option<[u8; 32]>,
    ) -> Result<Self> {
        let cipher = Cipher::new(keys.key())?;
        Ok(Self::from_parts(layout, keys, cipher, expected))
    }

    pub(crate) fn from_parts(
        layout: Layout,
        keys: SegmentKeys,
        cipher: Cipher<SegmentNonce>,
        expected: Option<[u8; 32]>,
    ) -> Self {
        Segments {
            layout,
            keys,
            cipher,
            hasher: Sha256::new(),
            expected,
        }
    }

    /// The stream's layout: segment sizes and header length.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The AES-GCM key of every segment (16 or 32 bytes). Whoever copies it
    /// out (to import it into WebCrypto) wipes the copy.
    pub fn key(&self) -> &[u8] {
        self.keys.key()
    }

    /// The nonce of segment `index`, `last` if it ends the record.
    pub fn nonce(&self, index: u32, last: bool) -> SegmentNonce {
        self.keys.nonce(index, last)
    }

    /// Adds the next ciphertext bytes, in stream order, to `eh`.
    pub fn hash(&mut self, ciphertext: &[u8]) {
        self.hasher.update(ciphertext);
    }

    /// Why `segment` (ciphertext and tag) did not open as segment `index`
    /// with flag `last`: the error the software [`Decryptor`](super::Decryptor)
    /// gives for the same bytes.
    pub fn diagnose(&self, index: u32, last: bool, segment: &[u8]) -> Error {
        diagnose(&self.cipher, &self.keys, index, last, segment)
    }

    /// Checks that a stream ending with `pending` bytes of segment `index`
    /// is long enough to hold that last segment's tag.
    ///
    /// # Errors
    /// [`Error::Truncated`] with the number of complete segments, as the
    /// software decryptor's `finish` gives it.
    pub fn check_last(&self, index: u32, pending: usize) -> Result<()> {
        if pending < TAG_LEN {
            return Err(Error::Truncated {
                segments: u64::from(index),
            });
        }
        Ok(())
    }

    /// `eh = SHA-256(ciphertext)`, checked against the expected hash if one
    /// was given.
    ///
    /// # Errors
    /// [`Error::HashMismatch`].
    pub fn finish(self) -> Result<[u8; 32]> {
        let hash: [u8; 32] = self.hasher.finalize().into();
        checked(self.expected, hash)
    }

    /// `eh` hashed outside this object, where an engine hashes the
    /// ciphertext on another thread while this one seals or opens: checked
    /// against the expected hash if one was given, as [`finish`](Self::finish)
    /// does. Bytes given to [`hash`](Self::hash), if any, are not used.
    ///
    /// # Errors
    /// [`Error::HashMismatch`].
    pub fn finish_with(self, hash: [u8; 32]) -> Result<[u8; 32]> {
        checked(self.expected, hash)
    }
}

/// `hash`, unless an expected `eh` was given and differs.
fn checked(expected: Option<[u8; 32]>, hash: [u8; 32]) -> Result<[u8; 32]> {
    match expected {
        Some(eh) if eh != hash => Err(Error::HashMismatch),
        _ => Ok(hash),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{decrypt, Decryptor, Encryptor, RecordKey};
    use super::*;

    const SEG: u32 = 64;

    fn record(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 253) as u8).collect()
    }

    fn key(len: usize) -> RecordKey {
        RecordKey::from_bytes(&vec![5u8; len]).unwrap()
    }

    /// Seals `plaintext` the way an outside engine does: cut by the layout,
    /// a full segment sealed as non-last only once more plaintext follows.
    fn seal_outside(enc: Encryptor, plaintext: &[u8]) -> (Vec<u8>, [u8; 32]) {
        let (header, mut segments) = enc.into_segments().unwrap();
        let engine = Cipher::<SegmentNonce>::new(segments.key()).unwrap();
        let mut out = header;
        let mut rest = plaintext;
        let mut index = 0u32;
        loop {
            let take = segments.layout().plaintext_segment_len(index);
            let last = rest.len() <= take;
            let (now, later) = rest.split_at(take.min(rest.len()));
            let mut sealed = now.to_vec();
            let tag = engine
                .seal_in_place(&segments.nonce(index, last), &[], &mut sealed)
                .unwrap();
            sealed.extend_from_slice(&tag);
            segments.hash(&sealed);
            out.extend_from_slice(&sealed);
            if last {
                return (out, segments.finish().unwrap());
            }
            rest = later;
            index += 1;
        }
    }

    #[test]
    fn an_outside_engine_produces_what_the_software_path_opens() {
        for key_len in [16, 32] {
            let k = key(key_len);
            let layout = Layout::new(&k, SEG).unwrap();
            let first = layout.plaintext_segment_len(0);
            let rest = layout.plaintext_segment_len(1);
            for len in [
                0,
                1,
                first - 1,
                first,
                first + 1,
                first + rest,
                5 * rest + 3,
            ] {
                let pt = record(len);
                let enc = Encryptor::new(&k, b"ad", SEG).unwrap();
                let (ct, eh) = seal_outside(enc, &pt);
                assert_eq!(ct.len() as u64, layout.ciphertext_len(len as u64));
                let (back, hash) = decrypt(&k, b"ad", SEG, &ct).unwrap();
                assert_eq!((back.as_slice(), hash), (pt.as_slice(), eh), "len {len}");
            }
        }
    }

    #[test]
    fn segments_are_only_taken_from_an_untouched_stream() {
        let k = key(16);
        let mut enc = Encryptor::new(&k, b"", SEG).unwrap();
        enc.push(b"x", &mut Vec::new()).unwrap();
        assert!(matches!(
            enc.into_segments().err(),
            Some(Error::StreamInUse { .. })
        ));
        let (ct, _) = super::super::encrypt(&k, b"", SEG, b"abc").unwrap();
        let mut dec = Decryptor::new(&k, b"", SEG).unwrap();
        dec.push(&ct[..3], &mut Vec::new()).unwrap();
        assert!(matches!(
            dec.segments(&ct[..24]).err(),
            Some(Error::StreamInUse { .. })
        ));
    }

    #[test]
    fn the_decrypt_side_gives_the_software_diagnosis_and_hash_check() {
        let k = key(16);
        let layout = Layout::new(&k, SEG).unwrap();
        let pt = record(4 * layout.plaintext_segment_len(1));
        let (ct, eh) = super::super::encrypt(&k, b"ad", SEG, &pt).unwrap();
        let mut dec = Decryptor::new(&k, b"ad", SEG).unwrap();
        dec.expect_hash(eh);
        let h = layout.header_len();
        assert_eq!(dec.segments(&ct[..h - 1]).err(), Some(Error::InvalidHeader));
        let segments = dec.segments(&ct[..h]).unwrap();
        let seg = |i: usize| {
            let start = h + layout.ciphertext_segment_len(0) + (i - 1) * SEG as usize;
            &ct[start..start + SEG as usize]
        };
        // Segment 2 presented as segment 1: out of order.
        assert_eq!(
            segments.diagnose(1, false, seg(2)),
            Error::SegmentOutOfOrder {
                segment: 1,
                belongs_at: 2
            }
        );
        // A full non-last segment presented as the last: truncated after it.
        assert_eq!(
            segments.diagnose(2, true, seg(2)),
            Error::Truncated { segments: 3 }
        );
        let mut flipped = seg(1).to_vec();
        flipped[0] ^= 1;
        assert_eq!(
            segments.diagnose(1, false, &flipped),
            Error::SegmentTampered { segment: 1 }
        );
        assert_eq!(
            segments.check_last(3, TAG_LEN - 1),
            Err(Error::Truncated { segments: 3 })
        );
        assert_eq!(segments.check_last(3, TAG_LEN), Ok(()));
        // The hash covers the header, taken by `segments`, and what follows.
        let mut whole = dec.segments(&ct[..h]).unwrap();
        whole.hash(&ct[h..]);
        assert_eq!(whole.finish(), Ok(eh));
        let mut short = dec.segments(&ct[..h]).unwrap();
        short.hash(&ct[h..ct.len() - 1]);
        assert_eq!(short.finish(), Err(Error::HashMismatch));
        // Hashed elsewhere: the same check against the expected hash.
        let elsewhere = dec.segments(&ct[..h]).unwrap();
        assert_eq!(elsewhere.finish_with(eh), Ok(eh));
        let mut other = eh;
        other[31] ^= 1;
        let elsewhere = dec.segments(&ct[..h]).unwrap();
        assert_eq!(elsewhere.finish_with(other), Err(Error::HashMismatch));
        let unchecked = Encryptor::new(&k, b"ad", SEG).unwrap().into_segments();
        assert_eq!(unchecked.unwrap().1.finish_with(other), Ok(other));
    }
}
