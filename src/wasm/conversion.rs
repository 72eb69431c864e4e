//! Conversion between JS values and core types, in one place: argument
//! readers that type-check (never coerce), result builders, and the one
//! conversion of a core [`Error`] into a JS `Error` with a `code`.

use crate::account::PublicKey;
use crate::cert::MAX_SAFE_INTEGER;
use crate::error::Error;
use crate::mask::RecordContext;
use crate::record::RecordKey;
use js_sys::Object;
use js_sys::Reflect;
use js_sys::Uint8Array;
use wasm_bindgen::prelude::*;

/// Converts a crate error into a JS `Error` with `name = "EhrchainError"` and a `code`.
pub(crate) fn js_error(e: Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("EhrchainError");
    let _ = Reflect::set(&err, &"code".into(), &e.code().into());
    err.into()
}

/// `Result` of an export: errors are JS `Error` objects.
pub(crate) type JsResult<T> = Result<T, JsValue>;

pub(crate) trait IntoJs<T> {
    fn js(self) -> JsResult<T>;
}

impl<T> IntoJs<T> for crate::Result<T> {
    fn js(self) -> JsResult<T> {
        self.map_err(js_error)
    }
}

pub(crate) fn wrong_type(what: &'static str, expected: &'static str) -> JsValue {
    js_error(Error::InvalidArgument { what, expected })
}

/// Reads a bytes-like argument: a `Uint8Array` (a Node `Buffer` is one), or
/// a hex string by the one hex rule of `docs/PROTOCOL.md §1` (optional
/// `0x`/`0X`, either case; `InvalidHex` otherwise). Nothing else: arrays,
/// `ArrayBuffer`s, numbers are refused, never coerced.
pub(crate) fn arg_bytes(what: &'static str, value: &JsValue) -> JsResult<Vec<u8>> {
    if let Some(array) = value.dyn_ref::<Uint8Array>() {
        return Ok(array.to_vec());
    }
    match value.as_string().map(zeroize::Zeroizing::new) {
        // The text may be a secret's hex: its copy is zeroised too.
        Some(text) => crate::hex::decode(what, &text).js(),
        None => Err(wrong_type(what, "a Uint8Array or a hex string")),
    }
}

/// Reads content bytes: a `Uint8Array` only. For messages, plaintexts,
/// hash inputs and associated data, where a string would be ambiguous
/// (ethers and wallets read a string message as UTF-8 text, so `"abcd"`
/// read as hex would sign or hash other bytes than the caller meant).
pub(crate) fn arg_data(what: &'static str, value: &JsValue) -> JsResult<Vec<u8>> {
    value
        .dyn_ref::<Uint8Array>()
        .map(Uint8Array::to_vec)
        .ok_or_else(|| wrong_type(what, "a Uint8Array"))
}

/// Reads an optional bytes-like argument (`undefined` or `null` for none).
pub(crate) fn arg_opt_bytes(what: &'static str, value: &JsValue) -> JsResult<Option<Vec<u8>>> {
    if value.is_undefined() || value.is_null() {
        Ok(None)
    } else {
        arg_bytes(what, value).map(Some)
    }
}

/// Reads a string argument.
pub(crate) fn arg_str(what: &'static str, value: &JsValue) -> JsResult<String> {
    value
        .as_string()
        .ok_or_else(|| wrong_type(what, "a string"))
}

/// Reads a boolean argument (only `true` or `false`).
pub(crate) fn arg_bool(what: &'static str, value: &JsValue) -> JsResult<bool> {
    value.as_bool().ok_or_else(|| wrong_type(what, "a boolean"))
}

/// Reads a number that must be an integer in `0..=2^53-1` (Unix times, serials, sizes).
pub(crate) fn arg_int(what: &'static str, value: &JsValue) -> JsResult<u64> {
    let v = value.as_f64().ok_or_else(|| wrong_type(what, "a number"))?;
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= MAX_SAFE_INTEGER as f64 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(v as u64)
    } else {
        Err(js_error(Error::OutOfRange { what }))
    }
}

/// Reads an optional integer (`undefined` or `null` for none).
pub(crate) fn arg_opt_int(what: &'static str, value: &JsValue) -> JsResult<Option<u64>> {
    if value.is_undefined() || value.is_null() {
        Ok(None)
    } else {
        arg_int(what, value).map(Some)
    }
}

/// Builds a plain JS object from `(name, value)` pairs.
pub(crate) fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let obj = Object::new();
    for (name, value) in fields {
        let _ = Reflect::set(&obj, &(*name).into(), value);
    }
    obj.into()
}

/// A u64 for JS: a `number` up to 2^53-1, a `bigint` beyond (never rounded).
pub(crate) fn num(value: u64) -> JsValue {
    if value <= MAX_SAFE_INTEGER {
        #[allow(clippy::cast_precision_loss)]
        JsValue::from_f64(value as f64)
    } else {
        js_sys::BigInt::from(value).into()
    }
}

/// Converts JSON to a JS value; integers beyond 2^53-1 become `bigint`.
pub(crate) fn json_to_js(value: &serde_json::Value) -> JsValue {
    use serde_json::Value as J;
    match value {
        J::Null => JsValue::NULL,
        J::Bool(b) => JsValue::from_bool(*b),
        J::Number(n) => match (n.as_u64(), n.as_f64()) {
            (Some(u), _) => num(u),
            (None, Some(f)) => JsValue::from_f64(f),
            _ => JsValue::NULL,
        },
        J::String(t) => JsValue::from_str(t),
        J::Array(items) => items
            .iter()
            .map(json_to_js)
            .collect::<js_sys::Array>()
            .into(),
        J::Object(map) => {
            let obj = Object::new();
            for (k, v) in map {
                let _ = Reflect::set(&obj, &k.as_str().into(), &json_to_js(v));
            }
            obj.into()
        }
    }
}

pub(crate) fn bytes(data: &[u8]) -> JsValue {
    Uint8Array::from(data).into()
}

pub(crate) fn public_key(what: &'static str, bytes: &[u8]) -> JsResult<PublicKey> {
    PublicKey::from_sec1(what, bytes).js()
}

/// Reads a plain JS object as JSON (JSON-RPC logs, receipts, transaction fields).
pub(crate) fn json_arg(what: &'static str, value: &JsValue) -> JsResult<serde_json::Value> {
    serde_wasm_bindgen::from_value(value.clone()).map_err(|_| {
        js_error(Error::InvalidArgument {
            what,
            expected: "a JSON-RPC object",
        })
    })
}

/// Reads the hex string an `eth_call` answered (view return data).
pub(crate) fn eth_call_result(what: &'static str, value: &JsValue) -> JsResult<Vec<u8>> {
    crate::hex::decode("eth_call result", &arg_str(what, value)?).js()
}

/// Reads 32 bytes, bytes-like ([`arg_bytes`]): a hash.
pub(crate) fn hash32(what: &'static str, v: &JsValue) -> JsResult<[u8; 32]> {
    crate::hex::fixed(what, "32", &arg_bytes(what, v)?).js()
}

/// Reads the record context `(H1, T1)`.
pub(crate) fn context(hospital: &str, time: u64) -> JsResult<RecordContext> {
    RecordContext::new(hospital, time).js()
}

/// Reads a record key `K_P` (16 or 32 bytes, bytes-like); the copy of the
/// bytes read from JS is zeroised.
pub(crate) fn arg_record_key(what: &'static str, value: &JsValue) -> JsResult<RecordKey> {
    let bytes = zeroize::Zeroizing::new(arg_bytes(what, value)?);
    RecordKey::from_bytes(&bytes).js()
}

/// Reads property `name` of an options object (`undefined` if absent).
///
/// # Errors
/// `InvalidArgument` naming `what` unless `value` is a non-null object
/// (not an array or a `Uint8Array`).
pub(crate) fn field(what: &'static str, value: &JsValue, name: &str) -> JsResult<JsValue> {
    if !value.is_object() || js_sys::Array::is_array(value) || value.is_instance_of::<Uint8Array>()
    {
        return Err(wrong_type(what, "an object"));
    }
    Reflect::get(value, &JsValue::from_str(name)).map_err(|_| wrong_type(what, "an object"))
}

/// Reads an address string (`0x` and 40 hex digits, EIP-55 if mixed case).
pub(crate) fn arg_address(
    what: &'static str,
    value: &JsValue,
) -> JsResult<crate::account::Address> {
    crate::account::Address::parse(&arg_str(what, value)?).js()
}

/// Reads the anchor opening `{anchorSalt, recordType}` of `value`.
pub(crate) fn arg_opening(
    what: &'static str,
    value: &JsValue,
) -> JsResult<crate::anchor::AnchorOpening> {
    let salt = hash32("anchorSalt", &field(what, value, "anchorSalt")?)?;
    let ty = arg_str("recordType", &field(what, value, "recordType")?)?;
    Ok(crate::anchor::AnchorOpening {
        salt,
        record_type: crate::anchor::RecordType::new(&ty).js()?,
    })
}

/// Reads a byte given as a `number` (a view tag): an integer 0–255;
/// `InvalidArgument` for another type, `OutOfRange` for another number.
pub(crate) fn arg_byte(what: &'static str, value: &JsValue) -> JsResult<u8> {
    u8::try_from(arg_int(what, value)?).map_err(|_| js_error(Error::OutOfRange { what }))
}

/// Reads a `uint64` from the chain as JS holds it: a safe-integer `number`,
/// or a `bigint` up to 2^64-1 (what the decoders return beyond 2^53-1).
pub(crate) fn arg_u64(what: &'static str, value: &JsValue) -> JsResult<u64> {
    if value.is_bigint() {
        let text = js_sys::BigInt::from(value.clone())
            .to_string(10)
            .map_err(|_| wrong_type(what, "a number or bigint"))?;
        return String::from(text)
            .parse::<u64>()
            .map_err(|_| js_error(Error::OutOfRange { what }));
    }
    arg_int(what, value)
}
