//! Locally signed EIP-1559 transactions, for `eth_sendRawTransaction` without a wallet.

use wasm_bindgen::prelude::*;

use super::account::Key;
use super::conversion::*;
use crate::chain::tx::Eip1559;
use crate::hex::encode_prefixed as hx;

/// Signs an EIP-1559 transaction locally; returns `{raw, hash, from}` (hex)
/// for `eth_sendRawTransaction`. `tx` fields: `chainId`, `nonce`, `gas`
/// (numbers), `maxFeePerGas`, `maxPriorityFeePerGas`, `value` (decimal
/// strings or numbers, wei), `to` (address or absent to deploy), `data` (hex).
#[wasm_bindgen(js_name = signTransaction, unchecked_return_type = "SignedTx")]
pub fn sign_transaction(
    key: &Key,
    #[wasm_bindgen(unchecked_param_type = "TxFields")] tx: JsValue,
) -> JsResult<JsValue> {
    let tx = Eip1559::from_json(&json_arg("tx", &tx)?).js()?;
    let signed = tx.sign(&key.0).js()?;
    Ok(object(&[
        ("raw", hx(&signed.raw).into()),
        ("hash", hx(&signed.hash).into()),
        ("from", signed.from.to_checksum().into()),
    ]))
}
