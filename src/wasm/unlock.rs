//! Unlocking a protocol key with a wallet signature (`crate::unlock`).

use wasm_bindgen::prelude::*;

use super::account::Key;
use super::conversion::*;
use crate::account::Address;
use crate::signature::Signature;

/// The text `account` signs with `personal_sign` to unlock its protocol key.
#[wasm_bindgen(js_name = unlockMessage)]
pub fn unlock_message(
    #[wasm_bindgen(unchecked_param_type = "string")] account: JsValue,
) -> JsResult<String> {
    let account = Address::parse(&arg_str("account", &account)?).js()?;
    Ok(crate::unlock::message(&account))
}

/// `{protocolKey: Key, storageKey: Uint8Array}` from `account`'s signature
/// of `unlockMessage(account)`; `WrongSigner` if it is not.
#[wasm_bindgen(js_name = unlockKeys)]
pub fn unlock_keys(
    #[wasm_bindgen(unchecked_param_type = "string")] account: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] signature: JsValue,
) -> JsResult<JsValue> {
    let account = Address::parse(&arg_str("account", &account)?).js()?;
    let signature = Signature::from_bytes(&arg_bytes("signature", &signature)?).js()?;
    let unlocked = crate::unlock::unlock(&account, &signature).js()?;
    Ok(object(&[
        ("protocolKey", JsValue::from(Key(unlocked.protocol_key))),
        ("storageKey", bytes(unlocked.storage_key.as_slice())),
    ]))
}
