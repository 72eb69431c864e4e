//! EIP-191 personal messages and EIP-712 typed data: hashing and recovery.

use wasm_bindgen::prelude::*;

use super::conversion::*;
use crate::signature::Signature;
use crate::TypedData;

/// The EIP-191 hash of a personal message.
#[wasm_bindgen(js_name = hashMessage)]
pub fn hash_message(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] message: JsValue,
) -> JsResult<Vec<u8>> {
    let message = &arg_data("message", &message)?;
    Ok(crate::signature::personal_message_hash(message).to_vec())
}

/// The address that `personal_sign`ed `message`.
#[wasm_bindgen(js_name = recoverMessage)]
pub fn recover_message(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] message: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] signature: JsValue,
) -> JsResult<String> {
    let message = &arg_data("message", &message)?;
    let signature = &arg_bytes("signature", &signature)?;
    let sig = Signature::from_bytes(signature).js()?;
    crate::signature::recover_personal_message(message, &sig)
        .map(|a| a.to_checksum())
        .js()
}

/// The EIP-712 signing hash of typed-data JSON.
#[wasm_bindgen(js_name = hashTypedData)]
pub fn hash_typed_data(
    #[wasm_bindgen(unchecked_param_type = "string")] typedDataJson: JsValue,
) -> JsResult<Vec<u8>> {
    let typed_data_json = &arg_str("typedDataJson", &typedDataJson)?;
    let data = TypedData::from_json(typed_data_json).js()?;
    data.signing_hash().map(|h| h.to_vec()).js()
}

/// The address that signed typed-data JSON.
#[wasm_bindgen(js_name = recoverTypedData)]
pub fn recover_typed_data(
    #[wasm_bindgen(unchecked_param_type = "string")] typedDataJson: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] signature: JsValue,
) -> JsResult<String> {
    let typed_data_json = &arg_str("typedDataJson", &typedDataJson)?;
    let signature = &arg_bytes("signature", &signature)?;
    let data = TypedData::from_json(typed_data_json).js()?;
    let sig = Signature::from_bytes(signature).js()?;
    data.recover(&sig).map(|a| a.to_checksum()).js()
}
