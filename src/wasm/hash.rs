//! Hashes: SHA-256, SHA3-256, Keccak-256, HMAC-SHA-256 and `h1`.

use wasm_bindgen::prelude::*;

use super::conversion::*;
use crate::hash;

/// SHA-256.
#[wasm_bindgen]
pub fn sha256(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] data: JsValue,
) -> JsResult<Vec<u8>> {
    let data = &arg_data("data", &data)?;
    Ok(hash::sha256(data).to_vec())
}

/// SHA3-256.
#[wasm_bindgen(js_name = sha3_256)]
pub fn sha3_256(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] data: JsValue,
) -> JsResult<Vec<u8>> {
    let data = &arg_data("data", &data)?;
    Ok(hash::sha3_256(data).to_vec())
}

/// Keccak-256 (Ethereum's hash).
#[wasm_bindgen]
pub fn keccak256(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] data: JsValue,
) -> JsResult<Vec<u8>> {
    let data = &arg_data("data", &data)?;
    Ok(hash::keccak256(data).to_vec())
}

/// HMAC-SHA-256.
#[wasm_bindgen(js_name = hmacSha256)]
pub fn hmac_sha256(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] key: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] message: JsValue,
) -> JsResult<Vec<u8>> {
    let key = &arg_bytes("key", &key)?;
    let message = &arg_data("message", &message)?;
    Ok(hash::hmac_sha256(key, &[message]).to_vec())
}

/// `h1(P)`: a point (33 or 65 bytes) to a 32-byte scalar.
#[wasm_bindgen]
pub fn h1(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] point: JsValue,
) -> JsResult<Vec<u8>> {
    let point = &arg_bytes("point", &point)?;
    let p = public_key("point", point)?;
    Ok(hash::h1(&p.as_projective()).js()?.to_bytes().to_vec())
}
