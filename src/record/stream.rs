//! Incremental encryptor and decryptor: input in pieces of any size, output
//! segment by segment, memory bounded by one segment whatever the record size.

use sha2::{Digest, Sha256};

use super::{Header, Layout, RecordKey, SegmentKeys, Segments};
use crate::aead::{Cipher, SegmentNonce, TAG_LEN};
use crate::error::{Error, Result};

/// A buffer of `capacity` bytes, allocated fallibly: the segment size is the
/// caller's number, and a failed allocation must be an error, not a trap.
pub(crate) fn buffer(capacity: usize) -> Result<Vec<u8>> {
    let mut v = Vec::new();
    v.try_reserve_exact(capacity)
        .map_err(|_| Error::OutOfMemory {
            what: "record segment buffer",
        })?;
    Ok(v)
}

/// How far from its position a failing segment is searched for (reordering diagnosis).
const REORDER_WINDOW: u32 = 4;

/// Encrypts a record piece by piece.
///
/// Call [`Encryptor::push`] with consecutive pieces of plaintext, then
/// [`Encryptor::finish`], which returns `eh = SHA-256(ciphertext)`. Each call
/// appends the ciphertext it can produce to `out` (the header on the first
/// call, then whole segments); at most one segment of plaintext is held.
pub struct Encryptor {
    layout: Layout,
    cipher: Cipher<SegmentNonce>,
    keys: SegmentKeys,
    header: Option<Vec<u8>>,
    pending: zeroize::Zeroizing<Vec<u8>>,
    index: u32,
    hasher: Sha256,
}

impl core::fmt::Debug for Encryptor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Encryptor")
            .field("layout", &self.layout)
            .field("segment", &self.index)
            .finish_non_exhaustive()
    }
}

impl Encryptor {
    /// An encryptor for `key` (16 or 32 bytes), `associated_data` and a
    /// ciphertext `segment_size`, with a fresh random header.
    ///
    /// # Errors
    /// [`Error::InvalidLength`], [`Error::InvalidStreamParams`], [`Error::Rng`],
    /// [`Error::OutOfMemory`].
    pub fn new(key: &RecordKey, associated_data: &[u8], segment_size: u32) -> Result<Self> {
        let layout = Layout::new(key, segment_size)?;
        let header = Header::random(&layout)?;
        Self::start(key, associated_data, layout, header)
    }

    /// An encryptor with a caller-chosen header, for known-answer tests
    /// only (feature `kat`): the same header twice under one key reuses
    /// nonces.
    ///
    /// # Errors
    /// [`Error::InvalidLength`] if the key does not match the layout.
    #[cfg(any(test, feature = "kat"))]
    pub fn with_header(
        key: &RecordKey,
        associated_data: &[u8],
        layout: Layout,
        header: Header,
    ) -> Result<Self> {
        Self::start(key, associated_data, layout, header)
    }

    fn start(
        key: &RecordKey,
        associated_data: &[u8],
        layout: Layout,
        header: Header,
    ) -> Result<Self> {
        let keys = header.segment_keys(key, associated_data)?;
        let cipher = Cipher::new(keys.key())?;
        Ok(Encryptor {
            layout,
            cipher,
            keys,
            header: Some(header.encode()),
            pending: zeroize::Zeroizing::new(buffer(layout.plaintext_segment_len(0))?),
            index: 0,
            hasher: Sha256::new(),
        })
    }

    /// The stream's layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// An upper bound on the bytes that pushing `input` more bytes (or
    /// finishing, with `input = 0`) appends to `out`: a caller that reserves
    /// this much never has its buffer reallocated (and so never leaves a
    /// stale copy behind).
    pub fn max_output(&self, input: usize) -> usize {
        let plain = self.pending.len().saturating_add(input);
        let segments = plain / self.layout.plaintext_segment_len(0).max(1) + 1;
        self.layout
            .header_len()
            .saturating_add(plain)
            .saturating_add(TAG_LEN.saturating_mul(segments))
    }

    fn emit_header(&mut self, out: &mut Vec<u8>) {
        if let Some(header) = self.header.take() {
            self.hasher.update(&header);
            out.extend_from_slice(&header);
        }
    }

    fn emit_segment(&mut self, last: bool, out: &mut Vec<u8>) -> Result<()> {
        let start = out.len();
        out.extend_from_slice(&self.pending);
        let nonce = self.keys.nonce(self.index, last);
        let tag = self.cipher.seal_in_place(&nonce, &[], &mut out[start..])?;
        out.extend_from_slice(&tag);
        self.hasher.update(&out[start..]);
        zeroize::Zeroize::zeroize(&mut *self.pending);
        self.pending.clear();
        if !last {
            self.index = self.index.checked_add(1).ok_or(Error::StreamTooLong)?;
        }
        Ok(())
    }

    /// Encrypts the next piece of plaintext, appending whatever ciphertext is
    /// complete to `out`.
    ///
    /// # Errors
    /// [`Error::StreamTooLong`] past 2^32 segments.
    pub fn push(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.emit_header(out);
        loop {
            let room = self.layout.plaintext_segment_len(self.index) - self.pending.len();
            let (now, later) = data.split_at(room.min(data.len()));
            self.pending.extend_from_slice(now);
            data = later;
            if data.is_empty() {
                return Ok(());
            }
            // The segment is full and more plaintext follows: it is not the last.
            self.emit_segment(false, out)?;
        }
    }

    /// This encryptor's header and [`Segments`], for sealing its segments
    /// with an outside AES-GCM engine (the browser's WebCrypto): the same
    /// header, keys and nonces, so the same bytes. The hash in the returned
    /// [`Segments`] has already taken the header.
    ///
    /// # Errors
    /// [`Error::StreamInUse`] once anything was pushed into this encryptor.
    pub fn into_segments(self) -> Result<(Vec<u8>, Segments)> {
        let Some(header) = self.header else {
            return Err(Error::StreamInUse {
                reason: "plaintext was already pushed into this encryptor",
            });
        };
        let mut segments = Segments::from_parts(self.layout, self.keys, self.cipher, None);
        segments.hash(&header);
        Ok((header, segments))
    }

    /// Encrypts the last segment and returns the SHA-256 of the whole ciphertext.
    ///
    /// # Errors
    /// As [`Encryptor::push`].
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<[u8; 32]> {
        self.emit_header(out);
        self.emit_segment(true, out)?;
        Ok(self.hasher.finalize().into())
    }
}

/// Decrypts a record piece by piece, checking every segment, and hashes the
/// ciphertext in the same pass.
///
/// Plaintext is released segment by segment as each authenticates; the
/// record is whole and correct only when [`Decryptor::finish`] succeeds
/// (a truncated stream is detected there). Give the expected `eh` with
/// [`Decryptor::expect_hash`] to have `finish` compare it.
pub struct Decryptor {
    layout: Layout,
    key: RecordKey,
    associated_data: Vec<u8>,
    header_buf: Vec<u8>,
    engine: Option<(Cipher<SegmentNonce>, SegmentKeys)>,
    pending: zeroize::Zeroizing<Vec<u8>>,
    index: u32,
    hasher: Sha256,
    expected: Option<[u8; 32]>,
    failed: bool,
}

impl core::fmt::Debug for Decryptor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Decryptor")
            .field("layout", &self.layout)
            .field("segment", &self.index)
            .finish_non_exhaustive()
    }
}

impl Decryptor {
    /// A decryptor for `key`, `associated_data` and the ciphertext `segment_size`
    /// the record was written with.
    ///
    /// # Errors
    /// [`Error::InvalidLength`], [`Error::InvalidStreamParams`], [`Error::OutOfMemory`].
    pub fn new(key: &RecordKey, associated_data: &[u8], segment_size: u32) -> Result<Self> {
        let layout = Layout::new(key, segment_size)?;
        Ok(Decryptor {
            layout,
            key: key.clone(),
            associated_data: associated_data.to_vec(),
            header_buf: Vec::with_capacity(layout.header_len()),
            engine: None,
            pending: zeroize::Zeroizing::new(buffer(layout.ciphertext_segment_len(0))?),
            index: 0,
            hasher: Sha256::new(),
            expected: None,
            failed: false,
        })
    }

    /// Makes [`Decryptor::finish`] fail with [`Error::HashMismatch`] unless the
    /// ciphertext's SHA-256 equals `eh` (the anchored hash).
    pub fn expect_hash(&mut self, eh: [u8; 32]) {
        self.expected = Some(eh);
    }

    /// The stream's layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// An upper bound on the plaintext bytes that pushing `input` more
    /// bytes of ciphertext (or finishing, with `input = 0`) appends to
    /// `out`: plaintext is never longer than the ciphertext held.
    pub fn max_output(&self, input: usize) -> usize {
        self.pending.len().saturating_add(input)
    }

    /// Decrypts the next piece of ciphertext, appending the plaintext of every
    /// segment that is complete and authentic to `out`. After an error the
    /// decryptor refuses further input.
    ///
    /// # Errors
    /// [`Error::InvalidHeader`], [`Error::WrongKeyOrAssociatedData`],
    /// [`Error::SegmentTampered`], [`Error::SegmentOutOfOrder`],
    /// [`Error::StreamTooLong`], [`Error::StreamFinished`] after a failure.
    pub fn push(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<()> {
        if self.failed {
            return Err(Error::StreamFinished);
        }
        let result = self.push_inner(data, out);
        self.failed = result.is_err();
        result
    }

    fn push_inner(&mut self, mut data: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.hasher.update(data);
        if self.engine.is_none() {
            let need = self.layout.header_len() - self.header_buf.len();
            let (now, later) = data.split_at(need.min(data.len()));
            self.header_buf.extend_from_slice(now);
            data = later;
            if self.header_buf.len() < self.layout.header_len() {
                return Ok(());
            }
            let header = Header::parse(&self.layout, &self.header_buf)?;
            let keys = header.segment_keys(&self.key, &self.associated_data)?;
            let cipher = Cipher::new(keys.key())?;
            self.engine = Some((cipher, keys));
        }
        loop {
            let room = self.layout.ciphertext_segment_len(self.index) - self.pending.len();
            let (now, later) = data.split_at(room.min(data.len()));
            self.pending.extend_from_slice(now);
            data = later;
            if data.is_empty() {
                return Ok(());
            }
            self.open_segment(false, out)?;
            self.index = self.index.checked_add(1).ok_or(Error::StreamTooLong)?;
        }
    }

    /// Decrypts the last segment, checks the hash if one is expected, and
    /// returns the ciphertext's SHA-256.
    ///
    /// # Errors
    /// [`Error::Truncated`] if the stream ends early (even at a segment
    /// boundary), the segment errors of [`Decryptor::push`], [`Error::HashMismatch`].
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<[u8; 32]> {
        if self.failed {
            return Err(Error::StreamFinished);
        }
        if self.engine.is_none() {
            return Err(Error::Truncated { segments: 0 });
        }
        if self.pending.len() < TAG_LEN {
            return Err(Error::Truncated {
                segments: u64::from(self.index),
            });
        }
        self.open_segment(true, out)?;
        let hash: [u8; 32] = self.hasher.finalize().into();
        match self.expected {
            Some(eh) if eh != hash => Err(Error::HashMismatch),
            _ => Ok(hash),
        }
    }

    /// Opens `pending` as segment `index`, appending its plaintext to `out`.
    fn open_segment(&mut self, last: bool, out: &mut Vec<u8>) -> Result<()> {
        let Some((cipher, keys)) = &self.engine else {
            return Err(Error::InvalidHeader);
        };
        let Some((body, tag)) = self.pending.split_last_chunk_mut::<TAG_LEN>() else {
            return Err(Error::Truncated {
                segments: u64::from(self.index),
            });
        };
        if cipher
            .open_in_place(&keys.nonce(self.index, last), &[], body, tag)
            .is_ok()
        {
            out.extend_from_slice(body);
            // The segment was decrypted in place: wipe it, not just forget it.
            zeroize::Zeroize::zeroize(&mut *self.pending);
            return Ok(());
        }
        Err(self.diagnose(last))
    }

    /// Why `pending` did not open as segment `index` with flag `last`.
    fn diagnose(&self, last: bool) -> Error {
        match &self.engine {
            Some((cipher, keys)) => diagnose(cipher, keys, self.index, last, &self.pending),
            None => Error::InvalidHeader,
        }
    }

    /// The header-parsing half of [`Decryptor::push`] for an outside AES-GCM
    /// engine: the [`Segments`] of the record whose `header` is given, with
    /// the ciphertext hash started over it and the expected `eh`, if any.
    ///
    /// # Errors
    /// [`Error::InvalidHeader`], [`Error::InvalidLength`];
    /// [`Error::StreamInUse`] once ciphertext was pushed into this decryptor.
    pub fn segments(&self, header: &[u8]) -> Result<Segments> {
        if self.failed || !self.header_buf.is_empty() || self.engine.is_some() {
            return Err(Error::StreamInUse {
                reason: "ciphertext was already pushed into this decryptor",
            });
        }
        let parsed = Header::parse(&self.layout, header)?;
        let keys = parsed.segment_keys(&self.key, &self.associated_data)?;
        let mut segments = Segments::new(self.layout, keys, self.expected)?;
        segments.hash(header);
        Ok(segments)
    }
}

/// Why `segment` did not open as segment `index` with flag `last` under
/// `cipher` and `keys`: the other flag at the same position (truncation or
/// data after the end), another position nearby (reordering), or damage.
pub(crate) fn diagnose(
    cipher: &Cipher<SegmentNonce>,
    keys: &SegmentKeys,
    index: u32,
    last: bool,
    segment: &[u8],
) -> Error {
    let Some((body, tag)) = segment.split_last_chunk::<TAG_LEN>() else {
        return Error::Truncated {
            segments: u64::from(index),
        };
    };
    // A trial that opens leaves plaintext here: zeroised when dropped.
    let mut body = zeroize::Zeroizing::new(body.to_vec());
    let mut opens = |index: u32, flag: bool| {
        cipher
            .open_in_place(&keys.nonce(index, flag), &[], &mut body, tag)
            .is_ok()
    };
    let i = index;
    // The same position with the other flag: a truncated stream (a
    // non-last segment at the end) or data after the last segment.
    if opens(i, !last) {
        return if last {
            Error::Truncated {
                segments: u64::from(i) + 1,
            }
        } else {
            Error::SegmentTampered {
                segment: u64::from(i) + 1,
            }
        };
    }
    // Segment 0 has its own size, so a segment moved to or from position
    // 0 cannot be found by size; search the neighbourhood of later ones.
    if i > 0 {
        let lo = i.saturating_sub(REORDER_WINDOW).max(1);
        let hi = i.saturating_add(REORDER_WINDOW);
        for j in (lo..=hi).filter(|j| *j != i) {
            if opens(j, false) || opens(j, true) {
                return Error::SegmentOutOfOrder {
                    segment: u64::from(i),
                    belongs_at: u64::from(j),
                };
            }
        }
        Error::SegmentTampered {
            segment: u64::from(i),
        }
    } else {
        Error::WrongKeyOrAssociatedData
    }
}

#[cfg(test)]
mod tests {
    use super::super::{decrypt, encrypt};
    use super::*;

    const SEG: u32 = 64;

    fn record(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn a_buffer_too_large_to_allocate_is_an_error_not_a_trap() {
        assert_eq!(
            buffer(usize::MAX).err(),
            Some(Error::OutOfMemory {
                what: "record segment buffer"
            })
        );
    }

    #[test]
    fn pushes_and_finishes_stay_within_max_output() {
        let key = key(5, 16);
        let mut enc = Encryptor::new(&key, b"ad", SEG).unwrap();
        let mut ct = Vec::new();
        for piece in [0usize, 1, 7, 300, 1000, 5] {
            let bound = enc.max_output(piece);
            let before = ct.len();
            enc.push(&vec![3u8; piece], &mut ct).unwrap();
            assert!(ct.len() - before <= bound, "push of {piece}");
        }
        let bound = enc.max_output(0);
        let before = ct.len();
        enc.finish(&mut ct).unwrap();
        assert!(ct.len() - before <= bound, "encryptor finish");
        let mut dec = Decryptor::new(&key, b"ad", SEG).unwrap();
        let mut pt = Vec::new();
        for piece in ct.chunks(333) {
            let bound = dec.max_output(piece.len());
            let before = pt.len();
            dec.push(piece, &mut pt).unwrap();
            assert!(pt.len() - before <= bound);
        }
        let bound = dec.max_output(0);
        let before = pt.len();
        dec.finish(&mut pt).unwrap();
        assert!(pt.len() - before <= bound, "decryptor finish");
        assert_eq!(pt, vec![3u8; 1313]);
    }

    fn key(byte: u8, len: usize) -> RecordKey {
        RecordKey::from_bytes(&vec![byte; len]).unwrap()
    }

    #[test]
    fn round_trips_at_boundaries_and_in_any_piece_size() {
        let key = key(5, 16);
        let layout = Layout::new(&key, SEG).unwrap();
        let first = layout.plaintext_segment_len(0);
        let rest = layout.plaintext_segment_len(1);
        for len in [
            0,
            1,
            first - 1,
            first,
            first + 1,
            first + rest,
            first + rest + 1,
            1000,
        ] {
            let pt = record(len);
            let (ct, eh) = encrypt(&key, b"ad", SEG, &pt).unwrap();
            assert_eq!(
                ct.len() as u64,
                layout.ciphertext_len(len as u64),
                "len {len}"
            );
            assert_eq!(eh, crate::hash::sha256(&ct));
            for piece in [1, 7, 64, 10_000] {
                let mut dec = Decryptor::new(&key, b"ad", SEG).unwrap();
                dec.expect_hash(eh);
                let mut out = Vec::new();
                for chunk in ct.chunks(piece) {
                    dec.push(chunk, &mut out).unwrap();
                }
                assert_eq!(dec.finish(&mut out).unwrap(), eh);
                assert_eq!(out, pt, "len {len} piece {piece}");
            }
            let mut enc = Encryptor::new(&key, b"ad", SEG).unwrap();
            let mut ct2 = Vec::new();
            for chunk in pt.chunks(3) {
                enc.push(chunk, &mut ct2).unwrap();
            }
            let eh2 = enc.finish(&mut ct2).unwrap();
            assert_eq!(
                decrypt(&key, b"ad", SEG, &ct2).unwrap(),
                (zeroize::Zeroizing::new(pt.clone()), eh2)
            );
        }
    }

    /// A 500-byte record under a 32-byte key in 64-byte segments, with the
    /// offset of segment 1 and the full segment size.
    fn damaged() -> (RecordKey, Vec<u8>, [u8; 32], usize, usize) {
        let key = key(9, 32);
        let layout = Layout::new(&key, SEG).unwrap();
        let (ct, eh) = encrypt(&key, b"ad", SEG, &record(500)).unwrap();
        let seg0 = layout.header_len() + layout.ciphertext_segment_len(0);
        (key, ct, eh, seg0, SEG as usize)
    }

    fn dec(c: &[u8], k: &RecordKey, ad: &[u8]) -> Result<()> {
        decrypt(k, ad, SEG, c).map(|_| ())
    }

    #[test]
    fn a_wrong_key_is_refused_at_the_first_segment() {
        let (_, ct, ..) = damaged();
        assert_eq!(
            dec(&ct, &key(8, 32), b"ad"),
            Err(Error::WrongKeyOrAssociatedData)
        );
    }

    #[test]
    fn wrong_associated_data_is_refused_at_the_first_segment() {
        let (key, ct, ..) = damaged();
        assert_eq!(
            dec(&ct, &key, b"other"),
            Err(Error::WrongKeyOrAssociatedData)
        );
    }

    #[test]
    fn another_segment_size_is_refused_naming_it() {
        let (key, ct, ..) = damaged();
        for other in [SEG - 1, SEG + 1, 2 * SEG, 1 << 20] {
            let err = decrypt(&key, b"ad", other, &ct).map(|_| ());
            assert_eq!(err, Err(Error::WrongKeyOrAssociatedData), "{other}");
            let message = err.map_err(|e| e.to_string()).unwrap_err();
            assert!(message.contains("segment size"), "{message}");
        }
    }

    #[test]
    fn a_header_for_another_key_size_is_invalid() {
        let (key, mut ct, ..) = damaged();
        ct[0] = 24;
        assert_eq!(dec(&ct, &key, b"ad"), Err(Error::InvalidHeader));
    }

    #[test]
    fn a_flipped_bit_names_its_segment() {
        let (key, mut ct, _, seg0, s) = damaged();
        ct[seg0 + s + 3] ^= 1;
        assert_eq!(
            dec(&ct, &key, b"ad"),
            Err(Error::SegmentTampered { segment: 2 })
        );
    }

    #[test]
    fn swapped_segments_are_out_of_order() {
        let (key, ct, _, seg0, s) = damaged();
        let mut swapped = ct.clone();
        let (a, b) = (seg0..seg0 + s, seg0 + s..seg0 + 2 * s);
        swapped.copy_within(b.clone(), a.start);
        swapped[b].copy_from_slice(&ct[a]);
        assert_eq!(
            dec(&swapped, &key, b"ad"),
            Err(Error::SegmentOutOfOrder {
                segment: 1,
                belongs_at: 2
            })
        );
    }

    #[test]
    fn a_cut_at_a_segment_edge_is_truncation() {
        let (key, ct, _, seg0, s) = damaged();
        assert_eq!(
            dec(&ct[..seg0 + s], &key, b"ad"),
            Err(Error::Truncated { segments: 2 })
        );
    }

    #[test]
    fn a_cut_leaving_less_than_a_tag_is_truncation() {
        let (key, ct, _, seg0, s) = damaged();
        assert_eq!(
            dec(&ct[..seg0 + s + 5], &key, b"ad"),
            Err(Error::Truncated { segments: 2 })
        );
    }

    /// A cut that leaves a plausible partial segment cannot be told from tampering.
    #[test]
    fn a_cut_leaving_a_partial_segment_is_tampering() {
        let (key, ct, _, seg0, s) = damaged();
        assert_eq!(
            dec(&ct[..seg0 + s + 20], &key, b"ad"),
            Err(Error::SegmentTampered { segment: 2 })
        );
    }

    #[test]
    fn a_cut_inside_the_header_is_truncation() {
        let (key, ct, ..) = damaged();
        let header_len = Layout::new(&key, SEG).unwrap().header_len();
        assert_eq!(
            dec(&ct[..10], &key, b"ad"),
            Err(Error::Truncated { segments: 0 })
        );
        assert_eq!(
            dec(&ct[..header_len], &key, b"ad"),
            Err(Error::Truncated { segments: 0 })
        );
    }

    #[test]
    fn data_after_the_last_segment_is_tampering() {
        let (key, mut ct, ..) = damaged();
        let segments = Layout::new(&key, SEG).unwrap().segment_count(500);
        ct.extend_from_slice(&[0u8; 20]);
        assert!(matches!(
            dec(&ct, &key, b"ad"),
            Err(Error::SegmentTampered { segment }) if segment >= segments - 1
        ));
    }

    #[test]
    fn a_ciphertext_that_is_not_the_anchored_one_is_a_hash_mismatch() {
        let (key, ct, eh, ..) = damaged();
        let mut d = Decryptor::new(&key, b"ad", SEG).unwrap();
        let mut bad_eh = eh;
        bad_eh[0] ^= 1;
        d.expect_hash(bad_eh);
        let mut out = Vec::new();
        d.push(&ct, &mut out).unwrap();
        assert_eq!(d.finish(&mut out), Err(Error::HashMismatch));
    }

    #[test]
    fn a_segment_size_below_header_and_tag_is_refused() {
        assert_eq!(
            Encryptor::new(&key(9, 32), b"", 40).map(|_| ()),
            Err(Error::InvalidStreamParams {
                reason: "segment size must exceed the header plus one tag"
            })
        );
    }

    #[test]
    fn failed_decryptor_refuses_more_input() {
        let key = key(1, 16);
        let (mut ct, _) = encrypt(&key, b"", SEG, &record(300)).unwrap();
        ct[30] ^= 1;
        let mut d = Decryptor::new(&key, b"", SEG).unwrap();
        let mut out = Vec::new();
        assert_eq!(d.push(&ct, &mut out), Err(Error::WrongKeyOrAssociatedData));
        assert!(out.is_empty());
        assert_eq!(d.push(&ct, &mut out), Err(Error::StreamFinished));
    }
}
