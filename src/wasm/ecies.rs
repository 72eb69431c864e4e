//! ECIES (eciesjs format).

use wasm_bindgen::prelude::*;

use super::account::Key;
use super::conversion::*;
use crate::ecies;

/// ECIES-encrypts to a public key (eciesjs format).
#[wasm_bindgen(js_name = eciesSeal)]
pub fn ecies_seal(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] recipient: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] plaintext: JsValue,
) -> JsResult<Vec<u8>> {
    let recipient = &arg_bytes("recipient", &recipient)?;
    let plaintext = &arg_data("plaintext", &plaintext)?;
    ecies::seal(&public_key("recipient public key", recipient)?, plaintext).js()
}

/// ECIES-decrypts with a key handle.
#[wasm_bindgen(js_name = eciesOpen)]
pub fn ecies_open(
    key: &Key,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] ciphertext: JsValue,
) -> JsResult<Vec<u8>> {
    let ciphertext = &arg_bytes("ciphertext", &ciphertext)?;
    ecies::open(&key.0, ciphertext).map(|p| p.to_vec()).js()
}
