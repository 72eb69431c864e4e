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

/// Reads each entry of a JS array of logs the way [`scan::sift`] needs it:
/// `address`, `topics[0]` and `data` as strings, without converting the
/// rest of the object (an entry without them is left to the full decoding).
fn sift_entries(registry: &Address, entries: &Array) -> Vec<scan::Sifted> {
    let (address, topics, data) = (
        JsValue::from_str("address"),
        JsValue::from_str("topics"),
        JsValue::from_str("data"),
    );
    let field = |entry: &JsValue, name: &JsValue| {
        if entry.is_object() {
            js_sys::Reflect::get(entry, name).ok()
        } else {
            None
        }
    };
    entries
        .iter()
        .map(|entry| {
            let a = field(&entry, &address).and_then(|v| v.as_string());
            let t = field(&entry, &topics)
                .filter(Array::is_array)
                .and_then(|t| Array::from(&t).get(0).as_string());
            // Only the head of `data` crosses into wasm (`scan::SIFT_DATA_CHARS`).
            let d = field(&entry, &data)
                .and_then(|v| v.dyn_into::<js_sys::JsString>().ok())
                .and_then(|d| {
                    let cut = u32::try_from(scan::SIFT_DATA_CHARS).unwrap_or(u32::MAX);
                    if d.length() > cut { d.slice(0, cut) } else { d }.as_string()
                });
            match (a, t, d) {
                (Some(a), Some(t), Some(d)) => scan::sift(registry, &a, &t, &d),
                _ => scan::Sifted::Decode,
            }
        })
        .collect()
}

/// The array `logs`, or `InvalidArgument` naming it.
fn log_array(logs: &JsValue) -> JsResult<Array> {
    if !Array::is_array(logs) {
        return Err(wrong_type("logs", "an array"));
    }
    Ok(Array::from(logs))
}

/// One found authorisation as JS: `{seq, viewTag, r, st, c1, transactionHash, blockNumber}`.
fn found_js(found: &scan::Found) -> JsValue {
    let or_null = |v: Option<JsValue>| v.unwrap_or(JsValue::NULL);
    object(&[
        ("seq", num(found.seq)),
        ("viewTag", found.authorisation.view_tag.into()),
        ("r", bytes(&found.authorisation.r)),
        ("st", bytes(&found.authorisation.st)),
        ("c1", bytes(&found.authorisation.c1)),
        (
            "transactionHash",
            or_null(found.transaction_hash.map(|h| JsValue::from(hx(&h)))),
        ),
        ("blockNumber", or_null(found.block_number.map(num))),
    ])
}

/// The authorisations among `Authorised` logs (from `eth_getLogs`) that are
/// addressed to `scanner`'s key: `[{seq, viewTag, r, st, c1,
/// transactionHash, blockNumber}]`, each of which goes as it is to
/// `Scanner.open` and `authoriseTx`.
/// Every entry that is not a well-formed log (`null`, a number, `{}`,
/// non-hex data), other logs and malformed events are skipped; `logs`
/// itself must be an array (`InvalidArgument`). Only the view tag and `R`
/// of each log are read until the view tag matches ([`scan::sift`]).
#[wasm_bindgen(js_name = scanAuthorisations, unchecked_return_type = "FoundAuthorisation[]")]
pub fn scan_authorisations(
    scanner: &Scanner,
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "object[]")] logs: JsValue,
) -> JsResult<Array> {
    let registry = Address::parse(&arg_str("registry", &registry)?).js()?;
    let entries = log_array(&logs)?;
    let sifted = sift_entries(&registry, &entries);
    let found = scan::authorisations_sifted(&scanner.0, &registry, &sifted, |i| {
        let entry = entries.get(u32::try_from(i).ok()?);
        let json: serde_json::Value = serde_wasm_bindgen::from_value(entry).ok()?;
        Log::from_json(&json).ok()
    });
    Ok(found.iter().map(found_js).collect())
}

/// Bytes per log in [`sift_authorisations`]'s output.
const SIFTED_BYTES: usize = 35;

/// The first half of a scan split across threads (the package's inbox
/// scan; not part of the public API): [`scan::sift`] over `logs`, packed
/// as 35 bytes per log: a kind (0 other, 1 probe, 2 decode), the view
/// tag, `R`. This needs no key; the packed bytes go to workers holding it
/// ([`scan_tag_candidates`]).
#[wasm_bindgen(js_name = siftAuthorisations)]
pub fn sift_authorisations(
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "object[]")] logs: JsValue,
) -> JsResult<Vec<u8>> {
    let registry = Address::parse(&arg_str("registry", &registry)?).js()?;
    let sifted = sift_entries(&registry, &log_array(&logs)?);
    let mut out = Vec::with_capacity(sifted.len() * SIFTED_BYTES);
    for s in sifted {
        let mut entry = [0u8; SIFTED_BYTES];
        match s {
            scan::Sifted::Other => {}
            scan::Sifted::Probe { view_tag, r } => {
                entry[0] = 1;
                entry[1] = view_tag;
                entry[2..].copy_from_slice(&r);
            }
            scan::Sifted::Decode => entry[0] = 2,
        }
        out.extend_from_slice(&entry);
    }
    Ok(out)
}

/// The second half (in a worker): the indices of the logs packed by
/// [`sift_authorisations`] that may be addressed to `scanner`'s key
/// ([`scan::candidates`]); only those need `scanAuthorisations`.
/// `InvalidArgument` unless `sifted` is a whole number of 35-byte entries
/// of known kinds.
#[wasm_bindgen(js_name = scanTagCandidates)]
pub fn scan_tag_candidates(scanner: &Scanner, sifted: &[u8]) -> JsResult<Vec<u32>> {
    let invalid = || {
        js_error(Error::InvalidArgument {
            what: "sifted",
            expected: "what siftAuthorisations returned",
        })
    };
    if sifted.len() % SIFTED_BYTES != 0 {
        return Err(invalid());
    }
    let entries = sifted
        .chunks_exact(SIFTED_BYTES)
        .map(|e| match e[0] {
            0 => Ok(scan::Sifted::Other),
            1 => {
                let mut r = [0u8; 33];
                r.copy_from_slice(&e[2..]);
                Ok(scan::Sifted::Probe { view_tag: e[1], r })
            }
            2 => Ok(scan::Sifted::Decode),
            _ => Err(invalid()),
        })
        .collect::<JsResult<Vec<_>>>()?;
    scan::candidates(&scanner.0, &entries)
        .into_iter()
        .map(|i| u32::try_from(i).map_err(|_| invalid()))
        .collect()
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
