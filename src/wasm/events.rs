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
/// result or a receipt's `logs`): bytes as `Uint8Array`, addresses EIP-55,
/// integers `number` or `bigint`, `transactionHash` a `0x` hex string. Logs
/// of other contracts are refused with `WrongContract` unless `skipForeign`
/// is true (`undefined` is false).
#[wasm_bindgen(js_name = decodeRegistryLogs, unchecked_return_type = "RegistryEvent[]")]
pub fn decode_registry_logs(
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "object[]")] logs: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "boolean")] skipForeign: JsValue,
) -> JsResult<Array> {
    let registry = Address::parse(&arg_str("registry", &registry)?).js()?;
    let skip = !skipForeign.is_undefined() && arg_bool("skipForeign", &skipForeign)?;
    let logs = Log::many_from_json(&json_arg("logs", &logs)?).js()?;
    let out = Array::new();
    for log in &logs {
        match Event::decode(log, &registry) {
            Ok(e) => {
                out.push(&event_js(&e, log));
            }
            Err(Error::WrongContract) if skip => {}
            Err(e) => return Err(js_error(e)),
        }
    }
    Ok(out)
}

/// A decoded event as JS (the `RegistryEvent` declaration), with where it
/// was found.
fn event_js(event: &Event, log: &Log) -> JsValue {
    let address = |a: &Address| JsValue::from(a.to_checksum());
    let mut fields: Vec<(&str, JsValue)> = match event {
        Event::DoctorRegistered {
            serial,
            doctor,
            protocol_key,
            valid_from,
            valid_until,
        } => vec![
            ("event", "DoctorRegistered".into()),
            ("serial", num(*serial)),
            ("doctor", address(doctor)),
            ("protocolKey", bytes(protocol_key)),
            ("validFrom", num(*valid_from)),
            ("validUntil", num(*valid_until)),
        ],
        Event::DoctorRevoked { serial, revoked_at } => vec![
            ("event", "DoctorRevoked".into()),
            ("serial", num(*serial)),
            ("revokedAt", num(*revoked_at)),
        ],
        Event::RecordAnchored {
            eh,
            anchored_by,
            serial,
            commitment,
            record_time,
            anchored_at,
        } => vec![
            ("event", "RecordAnchored".into()),
            ("eh", bytes(eh)),
            ("anchoredBy", address(anchored_by)),
            ("serial", num(*serial)),
            ("commitment", bytes(commitment)),
            ("recordTime", num(*record_time)),
            ("anchoredAt", num(*anchored_at)),
        ],
        Event::RecordDeleted {
            eh,
            deleted_by,
            deleted_at,
        } => vec![
            ("event", "RecordDeleted".into()),
            ("eh", bytes(eh)),
            ("deletedBy", address(deleted_by)),
            ("deletedAt", num(*deleted_at)),
        ],
        Event::Authorised { seq, authorisation } => vec![
            ("event", "Authorised".into()),
            ("seq", num(*seq)),
            ("viewTag", authorisation.view_tag.into()),
            ("r", bytes(&authorisation.r)),
            ("st", bytes(&authorisation.st)),
            ("c1", bytes(&authorisation.c1)),
        ],
        Event::HospitalListed { hospital, endpoint } => vec![
            ("event", "HospitalListed".into()),
            ("hospital", hospital.as_str().into()),
            ("endpoint", endpoint.as_str().into()),
        ],
    };
    if let Some(h) = log.transaction_hash {
        fields.push(("transactionHash", hx(&h).into()));
    }
    if let Some(b) = log.block_number {
        fields.push(("blockNumber", num(b)));
    }
    object(&fields)
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
/// addressed to `scanner`'s key: `[{seq, viewTag, r, st, c1,
/// transactionHash}]`, each of which goes as it is to `Scanner.open` and
/// `authoriseTx`.
/// Every entry that is not a well-formed log (`null`, a number, `{}`,
/// non-hex data), other logs and malformed events are skipped; `logs`
/// itself must be an array (`InvalidArgument`).
#[wasm_bindgen(js_name = scanAuthorisations, unchecked_return_type = "FoundAuthorisation[]")]
pub fn scan_authorisations(
    scanner: &Scanner,
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "object[]")] logs: JsValue,
) -> JsResult<Array> {
    let registry = Address::parse(&arg_str("registry", &registry)?).js()?;
    let logs = json_entries("logs", &logs)?;
    Ok(scan::authorisations_in_json(&scanner.0, &registry, &logs)
        .js()?
        .iter()
        .map(|found| {
            object(&[
                ("seq", num(found.seq)),
                ("viewTag", found.authorisation.view_tag.into()),
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

/// Topic 0 of the registry's `HospitalListed` event (the hospital
/// directory), for an `eth_getLogs` filter.
#[wasm_bindgen(js_name = hospitalListedTopic)]
pub fn hospital_listed_topic() -> String {
    hx(&registry::hospital_listed_topic())
}

/// Topic 0 of the registry's `Authorised` event, for an `eth_getLogs` filter.
#[wasm_bindgen(js_name = authorisedTopic)]
pub fn authorised_topic() -> String {
    hx(&registry::authorised_topic())
}
