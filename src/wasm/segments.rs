//! A record stream's segments for the package's WebCrypto engine
//! (`js/src/webcrypto.ts`): the internal object behind the accelerated
//! `transform()` of `RecordEncryptor` and `RecordDecryptor`. It holds the
//! segment key (zeroised when freed), gives each segment's nonce, hashes the
//! ciphertext in wasm and diagnoses a segment WebCrypto refused, so both
//! paths give the same bytes and the same error codes.

use std::cell::RefCell;

use wasm_bindgen::prelude::*;

use super::conversion::*;
use crate::error::Error;
use crate::record::Segments;

/// The segments of one record stream (internal to the package).
#[wasm_bindgen]
pub struct RecordSegments {
    header: Vec<u8>,
    inner: RefCell<Option<Segments>>,
}

impl core::fmt::Debug for RecordSegments {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("RecordSegments(..)")
    }
}

impl RecordSegments {
    pub(crate) fn new(header: Vec<u8>, segments: Segments) -> Self {
        RecordSegments {
            header,
            inner: RefCell::new(Some(segments)),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Segments) -> JsResult<T>) -> JsResult<T> {
        f(live(&mut self.inner.borrow_mut())?)
    }
}

/// The state of an unfinished stream object; `StreamFinished` once taken.
fn live<T>(inner: &mut Option<T>) -> JsResult<&mut T> {
    inner
        .as_mut()
        .ok_or_else(|| js_error(Error::StreamFinished))
}

/// Takes the state of an unfinished stream object, finishing it; `StreamFinished` if already taken.
fn finished<T>(inner: &RefCell<Option<T>>) -> JsResult<T> {
    inner
        .borrow_mut()
        .take()
        .ok_or_else(|| js_error(Error::StreamFinished))
}

/// A segment index as the format numbers it: past 2^32 − 1 the record is too long.
fn index_arg(value: &JsValue) -> JsResult<u32> {
    u32::try_from(arg_int("index", value)?).map_err(|_| js_error(Error::StreamTooLong))
}

#[wasm_bindgen]
impl RecordSegments {
    /// The encoded header (encryption side; empty when decrypting).
    #[wasm_bindgen(getter)]
    pub fn header(&self) -> Vec<u8> {
        self.header.clone()
    }

    /// Plaintext bytes of a full segment 0.
    #[wasm_bindgen(getter, js_name = firstPlaintextLength)]
    pub fn first_plaintext_length(&self) -> JsResult<u32> {
        self.with(|s| Ok(len_u32(s.layout().plaintext_segment_len(0))))
    }

    /// Plaintext bytes of every later full segment.
    #[wasm_bindgen(getter, js_name = plaintextLength)]
    pub fn plaintext_length(&self) -> JsResult<u32> {
        self.with(|s| Ok(len_u32(s.layout().plaintext_segment_len(1))))
    }

    /// A copy of the segment key, for `crypto.subtle.importKey`; the caller
    /// wipes it (`fill(0)`) once imported.
    #[wasm_bindgen(js_name = exportKey)]
    pub fn export_key(&self) -> JsResult<Vec<u8>> {
        self.with(|s| Ok(s.key().to_vec()))
    }

    /// The 12-byte nonce of segment `index`.
    pub fn nonce(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] index: JsValue,
        last: bool,
    ) -> JsResult<Vec<u8>> {
        let index = index_arg(&index)?;
        self.with(|s| Ok(s.nonce(index, last).to_vec()))
    }

    /// Adds ciphertext, in stream order, to `eh`.
    pub fn hash(&self, ciphertext: &[u8]) -> JsResult<()> {
        self.with(|s| {
            s.hash(ciphertext);
            Ok(())
        })
    }

    /// The typed error for a segment that did not open as `index`/`last`.
    pub fn diagnose(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] index: JsValue,
        last: bool,
        segment: &[u8],
    ) -> JsResult<JsValue> {
        let index = index_arg(&index)?;
        self.with(|s| Ok(js_error(s.diagnose(index, last, segment))))
    }

    /// Throws `Truncated` unless `pending` bytes can hold the last segment's tag.
    #[wasm_bindgen(js_name = checkLast)]
    pub fn check_last(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] index: JsValue,
        pending: u32,
    ) -> JsResult<()> {
        let index = index_arg(&index)?;
        self.with(|s| s.check_last(index, pending as usize).map_err(js_error))
    }

    /// `eh` computed on another thread ([`StreamHash`]), checked against
    /// the expected hash if any (`HashMismatch`); the key is wiped.
    #[wasm_bindgen(js_name = finishWith)]
    pub fn finish_with(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] hash: JsValue,
    ) -> JsResult<Vec<u8>> {
        let hash = hash32("hash", &hash)?;
        finished(&self.inner)?
            .finish_with(hash)
            .map(|h| h.to_vec())
            .map_err(js_error)
    }

    /// `eh`, checked against the expected hash if any (`HashMismatch`);
    /// the key is wiped.
    pub fn finish(&self) -> JsResult<Vec<u8>> {
        finished(&self.inner)?
            .finish()
            .map(|h| h.to_vec())
            .map_err(js_error)
    }
}

/// SHA-256 of a stream, fed piece by piece (internal to the package): the
/// record worker's hash thread computes `eh` with it while the record
/// thread seals or opens the segments, and hands it to
/// [`RecordSegments::finish_with`].
#[wasm_bindgen]
pub struct StreamHash {
    inner: RefCell<Option<crate::hash::Sha256Hasher>>,
}

impl Default for StreamHash {
    fn default() -> Self {
        StreamHash::new()
    }
}

impl core::fmt::Debug for StreamHash {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("StreamHash(..)")
    }
}

#[wasm_bindgen]
impl StreamHash {
    /// An empty hash.
    #[wasm_bindgen(constructor)]
    pub fn new() -> StreamHash {
        StreamHash {
            inner: RefCell::new(Some(Default::default())),
        }
    }

    /// Adds the next bytes.
    pub fn update(&self, data: &[u8]) -> JsResult<()> {
        use sha2::Digest;
        live(&mut self.inner.borrow_mut())?.update(data);
        Ok(())
    }

    /// The 32-byte digest; the object is finished afterwards.
    pub fn finish(&self) -> JsResult<Vec<u8>> {
        use sha2::Digest;
        Ok(finished(&self.inner)?.finalize().to_vec())
    }
}

/// A segment length (at most 64 MiB by `Layout`) as a JS number.
fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
