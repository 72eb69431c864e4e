//! Accounts and key handles: [`Key`] (secret in wasm memory), addresses, public keys.

use wasm_bindgen::prelude::*;

use super::conversion::*;
use crate::account::Address;
use crate::account::SecretKey;
use crate::TypedData;

/// A secp256k1 secret key held in wasm memory (an Ethereum account key or a
/// doctor's protocol key). Zeroised when freed.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Key(pub(crate) SecretKey);

#[wasm_bindgen]
impl Key {
    /// A fresh key from the platform's CSPRNG (`crypto.getRandomValues`).
    pub fn generate() -> JsResult<Key> {
        SecretKey::generate().map(Key).js()
    }

    /// Imports a 32-byte secret.
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] secret: JsValue,
    ) -> JsResult<Key> {
        let secret = zeroize::Zeroizing::new(arg_bytes("secret", &secret)?);
        SecretKey::from_bytes(&secret).map(Key).js()
    }

    /// Exports the 32-byte secret (the caller becomes responsible for it).
    #[wasm_bindgen(js_name = exportSecret)]
    pub fn export_secret(&self) -> Vec<u8> {
        self.0.to_bytes().to_vec()
    }

    /// The EIP-55 address.
    #[wasm_bindgen(getter)]
    pub fn address(&self) -> String {
        self.0.address().to_checksum()
    }

    /// The public key, 33 bytes compressed (default) or 65 uncompressed.
    #[wasm_bindgen(js_name = publicKey)]
    pub fn public_key(&self, uncompressed: Option<bool>) -> Vec<u8> {
        let pk = self.0.public_key();
        if uncompressed.unwrap_or(false) {
            pk.to_uncompressed().to_vec()
        } else {
            pk.to_compressed().to_vec()
        }
    }

    /// EIP-191 `personal_sign` of `message`: 65 bytes `r ‖ s ‖ v` (v = 27/28).
    #[wasm_bindgen(js_name = signMessage)]
    pub fn sign_message(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] message: JsValue,
    ) -> JsResult<Vec<u8>> {
        let message = &arg_data("message", &message)?;
        crate::signature::sign_personal_message(&self.0, message)
            .map(|s| s.to_bytes().to_vec())
            .js()
    }

    /// `eth_signTypedData_v4` of typed-data JSON: 65 bytes.
    #[wasm_bindgen(js_name = signTypedData)]
    pub fn sign_typed_data(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] typedDataJson: JsValue,
    ) -> JsResult<Vec<u8>> {
        let typed_data_json = &arg_str("typedDataJson", &typedDataJson)?;
        let data = TypedData::from_json(typed_data_json).js()?;
        data.sign(&self.0).map(|s| s.to_bytes().to_vec()).js()
    }
}

/// The address of a 33- or 65-byte public key.
#[wasm_bindgen(js_name = addressOf)]
pub fn address_of(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] publicKeyBytes: JsValue,
) -> JsResult<String> {
    let public_key_bytes = &arg_bytes("publicKeyBytes", &publicKeyBytes)?;
    Ok(public_key("public key", public_key_bytes)?
        .address()
        .to_checksum())
}

/// Parses an address (strict EIP-55 if mixed case) and returns its checksum form.
#[wasm_bindgen(js_name = checksumAddress)]
pub fn checksum_address(
    #[wasm_bindgen(unchecked_param_type = "string")] address: JsValue,
) -> JsResult<String> {
    let address = &arg_str("address", &address)?;
    Address::parse(address).map(|a| a.to_checksum()).js()
}

/// The 33-byte compressed form of a public key.
#[wasm_bindgen(js_name = compressPublicKey)]
pub fn compress_public_key(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] publicKeyBytes: JsValue,
) -> JsResult<Vec<u8>> {
    let public_key_bytes = &arg_bytes("publicKeyBytes", &publicKeyBytes)?;
    Ok(public_key("public key", public_key_bytes)?
        .to_compressed()
        .to_vec())
}
