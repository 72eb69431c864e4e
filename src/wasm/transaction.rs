//! Locally signed EIP-1559 transactions, for `eth_sendRawTransaction` without a wallet.

use wasm_bindgen::prelude::*;

use super::account::Key;
use super::conversion::*;
use crate::account::Address;
use crate::chain::tx::Eip1559;
use crate::error::Error;
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
    let v = json_arg("tx", &tx)?;
    let int = |name: &'static str| -> JsResult<u64> {
        v.get(name)
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| {
                js_error(Error::InvalidArgument {
                    what: name,
                    expected: "a non-negative integer",
                })
            })
    };
    let wei = |name: &'static str| -> JsResult<u128> {
        match v.get(name) {
            None | Some(serde_json::Value::Null) => Some(0),
            Some(serde_json::Value::Number(n)) => n.as_u64().map(u128::from),
            Some(serde_json::Value::String(s)) => s.parse::<u128>().ok(),
            _ => None,
        }
        .ok_or_else(|| {
            js_error(Error::InvalidArgument {
                what: name,
                expected: "wei as a decimal string",
            })
        })
    };
    let to = match v.get("to") {
        None | Some(serde_json::Value::Null) => None,
        Some(t) => Some(Address::parse(t.as_str().unwrap_or_default()).js()?),
    };
    let data = match v.get("data").and_then(serde_json::Value::as_str) {
        Some(d) => crate::hex::decode("data", d).js()?,
        None => Vec::new(),
    };
    let tx = Eip1559 {
        chain_id: int("chainId")?,
        nonce: int("nonce")?,
        max_priority_fee_per_gas: wei("maxPriorityFeePerGas")?,
        max_fee_per_gas: wei("maxFeePerGas")?,
        gas_limit: int("gas")?,
        to,
        value: wei("value")?,
        data,
    };
    let signed = tx.sign(&key.0).js()?;
    Ok(object(&[
        ("raw", hx(&signed.raw).into()),
        ("hash", hx(&signed.hash).into()),
        ("from", signed.from.to_checksum().into()),
    ]))
}
