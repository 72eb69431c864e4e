//! Registry events: decoding JSON-RPC logs and receipts, and scanning
//! `Authorised` events for a doctor's key.

use js_sys::Array;
use wasm_bindgen::prelude::*;

use super::conversion::*;
use super::grant::Scanner;
use crate::account::Address;
use crate::chain::log::Log;
use crate::chain::log::Receipt;
use crate::chain::registry;
use crate::chain::registry::Event;
use crate::chain::scan;
use crate::error::Error;
use crate::hex::encode_prefixed as hx;

/// Decodes the registry's events among JSON-RPC logs (an `eth_getLogs`
/// result or a receipt's `logs`). Logs of other contracts are refused with
/// `WrongContract` unless `skipForeign` is true.
#[wasm_bindgen(js_name = decodeRegistryLogs, unchecked_return_type = "RegistryEvent[]")]
pub fn decode_registry_logs(
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "object[]")] logs: JsValue,
    #[wasm_bindgen(unchecked_param_type = "boolean")] skipForeign: JsValue,
) -> JsResult<Array> {
    let registry = Address::parse(&arg_str("registry", &registry)?).js()?;
    let skip = arg_bool("skipForeign", &skipForeign)?;
    let logs = Log::many_from_json(&json_arg("logs", &logs)?).js()?;
    let out = Array::new();
    for log in &logs {
        match Event::decode(log, &registry) {
            Ok(e) => {
                let mut j = e.to_json();
                if let Some(h) = log.transaction_hash {
                    j["transactionHash"] = serde_json::json!(hx(&h));
                }
                if let Some(b) = log.block_number {
                    j["blockNumber"] = serde_json::json!(b);
                }
                out.push(&json_to_js(&j));
            }
            Err(Error::WrongContract) if skip => {}
            Err(e) => return Err(js_error(e)),
        }
    }
    Ok(out)
}

/// `eh` from the receipt of the anchoring transaction `tx_id` (Alg 5 step 13).
#[wasm_bindgen(js_name = anchoredEhFromReceipt)]
pub fn anchored_eh_from_receipt(
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "object")] receipt: JsValue,
) -> JsResult<Vec<u8>> {
    let registry = Address::parse(&arg_str("registry", &registry)?).js()?;
    let receipt = Receipt::from_json(&json_arg("receipt", &receipt)?).js()?;
    registry::anchored_eh_in_receipt(&receipt, &registry)
        .map(|e| e.to_vec())
        .js()
}

/// The authorisations among `Authorised` logs (from `eth_getLogs`) that are
/// addressed to `scanner`'s key: `[{seq, r, st, c1, transactionHash}]`.
/// Other logs and malformed events are skipped.
#[wasm_bindgen(js_name = scanAuthorisations, unchecked_return_type = "FoundAuthorisation[]")]
pub fn scan_authorisations(
    scanner: &Scanner,
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "object[]")] logs: JsValue,
) -> JsResult<Array> {
    let registry = Address::parse(&arg_str("registry", &registry)?).js()?;
    let logs = Log::many_from_json(&json_arg("logs", &logs)?).js()?;
    Ok(scan::authorisations_for(&scanner.0, &registry, &logs)
        .iter()
        .map(|found| {
            object(&[
                ("seq", num(found.seq)),
                ("r", bytes(&found.authorisation.r)),
                ("st", bytes(&found.authorisation.st)),
                ("c1", bytes(&found.authorisation.c1)),
                (
                    "transactionHash",
                    found
                        .transaction_hash
                        .map(|h| JsValue::from(hx(&h)))
                        .unwrap_or(JsValue::NULL),
                ),
            ])
        })
        .collect())
}

/// Topic 0 of the registry's `Authorised` event, for an `eth_getLogs` filter.
#[wasm_bindgen(js_name = authorisedTopic)]
pub fn authorised_topic() -> String {
    hx(&registry::authorised_topic())
}
