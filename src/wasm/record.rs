//! Streaming record encryption for JS: `push`/`finish` classes, and the same
//! as WHATWG `TransformStream`s (`file.stream().pipeThrough(enc.transform())`).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{TransformStream, TransformStreamDefaultController};

use super::conversion::*;
use super::segments::RecordSegments;
use crate::error::Error;
use crate::record::{buffer, Decryptor, Encryptor, DEFAULT_SEGMENT_SIZE};
use zeroize::Zeroizing;

/// One of the two core stream engines, behind a shared cell so that a
/// `TransformStream` and the owning object can both reach it.
trait Engine: 'static {
    fn push(&mut self, data: &[u8], out: &mut Vec<u8>) -> crate::Result<()>;
    fn finish(self, out: &mut Vec<u8>) -> crate::Result<[u8; 32]>;
    fn max_output(&self, input: usize) -> usize;
}

impl Engine for Encryptor {
    fn push(&mut self, data: &[u8], out: &mut Vec<u8>) -> crate::Result<()> {
        Encryptor::push(self, data, out)
    }
    fn finish(self, out: &mut Vec<u8>) -> crate::Result<[u8; 32]> {
        Encryptor::finish(self, out)
    }
    fn max_output(&self, input: usize) -> usize {
        Encryptor::max_output(self, input)
    }
}

impl Engine for Decryptor {
    fn push(&mut self, data: &[u8], out: &mut Vec<u8>) -> crate::Result<()> {
        Decryptor::push(self, data, out)
    }
    fn finish(self, out: &mut Vec<u8>) -> crate::Result<[u8; 32]> {
        Decryptor::finish(self, out)
    }
    fn max_output(&self, input: usize) -> usize {
        Decryptor::max_output(self, input)
    }
}

/// An output buffer for one call, reserved once (never reallocated, so no
/// stale copy of plaintext is left behind) and zeroised when dropped, after
/// its bytes were copied into the returned `Uint8Array`.
fn output<E: Engine>(engine: &E, input: usize) -> JsResult<Zeroizing<Vec<u8>>> {
    Ok(Zeroizing::new(
        buffer(engine.max_output(input)).map_err(js_error)?,
    ))
}

struct State<E> {
    engine: Option<E>,
    hash: Option<[u8; 32]>,
}

type Shared<E> = Rc<RefCell<State<E>>>;

/// A fresh shared state around an engine that has not finished.
fn shared<E>(engine: E) -> Shared<E> {
    Rc::new(RefCell::new(State {
        engine: Some(engine),
        hash: None,
    }))
}

fn push<E: Engine>(state: &Shared<E>, data: &[u8]) -> JsResult<Uint8Array> {
    let mut st = state.borrow_mut();
    let engine = st
        .engine
        .as_mut()
        .ok_or_else(|| js_error(Error::StreamFinished))?;
    let mut out = output(engine, data.len())?;
    match engine.push(data, &mut out) {
        Ok(()) => Ok(Uint8Array::from(out.as_slice())),
        Err(e) => {
            st.engine = None;
            Err(js_error(e))
        }
    }
}

fn finish<E: Engine>(state: &Shared<E>) -> JsResult<Uint8Array> {
    let mut st = state.borrow_mut();
    let engine = st
        .engine
        .take()
        .ok_or_else(|| js_error(Error::StreamFinished))?;
    let mut out = output(&engine, 0)?;
    let hash = engine.finish(&mut out).map_err(js_error)?;
    st.hash = Some(hash);
    Ok(Uint8Array::from(out.as_slice()))
}

fn hash<E>(state: &Shared<E>) -> Option<Vec<u8>> {
    state.borrow().hash.map(|h| h.to_vec())
}

/// The optional segment size argument: an integer in `u32` range, default 1 MiB.
fn segment_size_arg(value: &JsValue) -> JsResult<u32> {
    match arg_opt_int("segmentSize", value)? {
        None => Ok(DEFAULT_SEGMENT_SIZE),
        Some(n) => u32::try_from(n).map_err(|_| {
            js_error(Error::InvalidStreamParams {
                reason: "segment size must be at most 64 MiB",
            })
        }),
    }
}

/// Wraps the engine in a `TransformStream` of `Uint8Array` chunks.
fn transform_stream<E: Engine>(state: &Shared<E>) -> JsResult<TransformStream> {
    let on_chunk = {
        let state = Rc::clone(state);
        Closure::<dyn FnMut(JsValue, TransformStreamDefaultController) -> JsResult<()>>::new(
            move |chunk: JsValue, controller: TransformStreamDefaultController| {
                let chunk = chunk.dyn_into::<Uint8Array>().map_err(|_| {
                    js_error(Error::InvalidStreamParams {
                        reason: "stream chunks must be Uint8Array",
                    })
                })?;
                // The chunk may be plaintext: its copy in wasm memory is wiped.
                let out = push(&state, &Zeroizing::new(chunk.to_vec()))?;
                if out.length() > 0 {
                    controller.enqueue_with_chunk(&out)?;
                }
                Ok(())
            },
        )
    };
    let on_flush = {
        let state = Rc::clone(state);
        Closure::<dyn FnMut(TransformStreamDefaultController) -> JsResult<()>>::new(
            move |controller: TransformStreamDefaultController| {
                let out = finish(&state)?;
                if out.length() > 0 {
                    controller.enqueue_with_chunk(&out)?;
                }
                Ok(())
            },
        )
    };
    let transformer = Object::new();
    Reflect::set(&transformer, &"transform".into(), &on_chunk.into_js_value())?;
    Reflect::set(&transformer, &"flush".into(), &on_flush.into_js_value())?;
    TransformStream::new_with_transformer(&transformer)
}

/// Encrypts a record piece by piece (Tink AES-GCM-HKDF streaming format) and
/// computes `eh = SHA-256(ciphertext)` in the same pass.
#[wasm_bindgen]
pub struct RecordEncryptor(Shared<Encryptor>);

impl core::fmt::Debug for RecordEncryptor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("RecordEncryptor(..)")
    }
}

#[wasm_bindgen]
impl RecordEncryptor {
    /// An encryptor for a 16- or 32-byte key, associated data, and a
    /// ciphertext segment size (default 1 MiB).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] key: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] associatedData: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "number")] segmentSize: JsValue,
    ) -> JsResult<RecordEncryptor> {
        let key = arg_record_key("key", &key)?;
        let aad = arg_data("associatedData", &associatedData)?;
        let enc = Encryptor::new(&key, &aad, segment_size_arg(&segmentSize)?).map_err(js_error)?;
        Ok(RecordEncryptor(shared(enc)))
    }

    /// Encrypts the next piece; returns the ciphertext completed so far (may be empty).
    pub fn push(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] plaintext: JsValue,
    ) -> JsResult<Uint8Array> {
        push(&self.0, &Zeroizing::new(arg_data("plaintext", &plaintext)?))
    }

    /// Encrypts the last segment; returns the remaining ciphertext. Afterwards
    /// [`RecordEncryptor::hash`] holds `eh`.
    pub fn finish(&self) -> JsResult<Uint8Array> {
        finish(&self.0)
    }

    /// `eh = SHA-256(ciphertext)`, once finished (`undefined` before).
    #[wasm_bindgen(getter)]
    pub fn hash(&self) -> Option<Vec<u8>> {
        hash(&self.0)
    }

    /// Hands this untouched encryptor's header and keys to the package's
    /// WebCrypto engine (internal); the encryptor is then finished.
    pub fn segments(&self) -> JsResult<RecordSegments> {
        let mut st = self.0.borrow_mut();
        let engine = st
            .engine
            .take()
            .ok_or_else(|| js_error(Error::StreamFinished))?;
        let (header, segments) = engine.into_segments().map_err(js_error)?;
        Ok(RecordSegments::new(header, segments))
    }

    /// A `TransformStream` from plaintext to ciphertext chunks driving this
    /// encryptor; read [`RecordEncryptor::hash`] once the stream has closed.
    #[wasm_bindgen(unchecked_return_type = "TransformStream<Uint8Array, Uint8Array>")]
    pub fn transform(&self) -> JsResult<TransformStream> {
        transform_stream(&self.0)
    }
}

/// Decrypts and verifies a record piece by piece; hashes the ciphertext in the same pass.
#[wasm_bindgen]
pub struct RecordDecryptor(Shared<Decryptor>);

impl core::fmt::Debug for RecordDecryptor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("RecordDecryptor(..)")
    }
}

#[wasm_bindgen]
impl RecordDecryptor {
    /// A decryptor for the key, associated data and segment size the record was
    /// written with; with `expected_hash` (the anchored `eh`), `finish` throws
    /// `HashMismatch` unless the ciphertext's SHA-256 equals it.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] key: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] associatedData: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "number")] segmentSize: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "Uint8Array | string")]
        expectedHash: JsValue,
    ) -> JsResult<RecordDecryptor> {
        let key = arg_record_key("key", &key)?;
        let aad = arg_data("associatedData", &associatedData)?;
        let mut dec =
            Decryptor::new(&key, &aad, segment_size_arg(&segmentSize)?).map_err(js_error)?;
        if let Some(eh) = arg_opt_bytes("expectedHash", &expectedHash)? {
            dec.expect_hash(crate::hex::fixed("expected hash", "32", &eh).map_err(js_error)?);
        }
        Ok(RecordDecryptor(shared(dec)))
    }

    /// Decrypts the next piece; returns the plaintext of the segments that
    /// authenticated (not yet a whole, verified record: see `finish`).
    pub fn push(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] ciphertext: JsValue,
    ) -> JsResult<Uint8Array> {
        push(&self.0, &arg_bytes("ciphertext", &ciphertext)?)
    }

    /// Checks the last segment (and the hash if expected); returns the remaining plaintext.
    pub fn finish(&self) -> JsResult<Uint8Array> {
        finish(&self.0)
    }

    /// SHA-256 of the ciphertext, once finished.
    #[wasm_bindgen(getter)]
    pub fn hash(&self) -> Option<Vec<u8>> {
        hash(&self.0)
    }

    /// Length of the record header for this decryptor's key (24 or 40).
    #[wasm_bindgen(getter, js_name = headerLength)]
    pub fn header_length(&self) -> JsResult<u32> {
        let st = self.0.borrow();
        let engine = st
            .engine
            .as_ref()
            .ok_or_else(|| js_error(Error::StreamFinished))?;
        // 24 or 40 bytes.
        Ok(u32::try_from(engine.layout().header_len()).unwrap_or(u32::MAX))
    }

    /// The segments of the record whose `header` is given, for the
    /// package's WebCrypto engine (internal).
    pub fn segments(&self, header: &[u8]) -> JsResult<RecordSegments> {
        let st = self.0.borrow();
        let engine = st
            .engine
            .as_ref()
            .ok_or_else(|| js_error(Error::StreamFinished))?;
        let segments = engine.segments(header).map_err(js_error)?;
        Ok(RecordSegments::new(Vec::new(), segments))
    }

    /// A `TransformStream` from ciphertext to plaintext chunks; it errors
    /// (with the typed error) on any damage, including truncation at the end.
    #[wasm_bindgen(unchecked_return_type = "TransformStream<Uint8Array, Uint8Array>")]
    pub fn transform(&self) -> JsResult<TransformStream> {
        transform_stream(&self.0)
    }
}

/// The associated data that binds a record's ciphertext to `(hospital, time)`.
#[wasm_bindgen(js_name = recordAssociatedData)]
pub fn record_associated_data(
    #[wasm_bindgen(unchecked_param_type = "string")] hospital: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] time: JsValue,
) -> JsResult<Vec<u8>> {
    let hospital = &arg_str("hospital", &hospital)?;
    let time = arg_int("time", &time)?;
    Ok(context(hospital, time)?.record_aad())
}

/// A fresh 16-byte record key `K_P`.
#[wasm_bindgen(js_name = generateRecordKey)]
pub fn generate_record_key() -> JsResult<Vec<u8>> {
    crate::record::generate_key()
        .map(|k| k.as_bytes().to_vec())
        .js()
}

/// The `key` and `expectedHash` options of the package's record jobs
/// (`encryptInWorker`, `decryptInWorker`), read on the page by the one rule
/// of every bytes-like argument ([`arg_bytes`]: a `Uint8Array`, or hex by
/// `docs/PROTOCOL.md §1`, else `InvalidHex`/`InvalidArgument`). Not part
/// of the public API. The decoded copy in wasm memory is wiped.
#[wasm_bindgen(js_name = jobBytesOption)]
pub fn job_bytes_option(name: &str, value: JsValue) -> JsResult<Uint8Array> {
    let what = match name {
        "key" => "key",
        "expectedHash" => "expectedHash",
        _ => {
            return Err(js_error(Error::InvalidArgument {
                what: "name",
                expected: "key or expectedHash",
            }))
        }
    };
    let bytes = Zeroizing::new(arg_bytes(what, &value)?);
    Ok(Uint8Array::from(bytes.as_slice()))
}
