//! The registry for JS: calldata a dapp hands to a wallet's
//! `eth_sendTransaction` (`{to, data}`), locally signed EIP-1559
//! transactions for `eth_sendRawTransaction`, and decoding of receipts and
//! `eth_getLogs` results (JSON objects as JSON-RPC returns them).

use js_sys::Array;
use wasm_bindgen::prelude::*;

use super::{arg_bytes, arg_int, arg_str, js_error, object, IntoJs, JsResult, Key, Scanner};
use crate::account::{Address, PublicKey};
use crate::chain::log::{Log, Receipt};
use crate::chain::registry::{self, Event};
use crate::chain::tx::Eip1559;
use crate::error::Error;
use crate::grant::Authorisation;
use crate::hex::encode_prefixed as hx;

fn json_arg(what: &'static str, value: &JsValue) -> JsResult<serde_json::Value> {
    serde_wasm_bindgen::from_value(value.clone()).map_err(|_| {
        js_error(Error::InvalidArgument {
            what,
            expected: "a JSON-RPC object",
        })
    })
}

fn to_js(value: &serde_json::Value) -> JsValue {
    super::json_to_js(value)
}

fn hash32(what: &'static str, v: &JsValue) -> JsResult<[u8; 32]> {
    crate::hex::fixed(what, "32", &arg_bytes(what, v)?).js()
}

fn tx_request(registry: &JsValue, data: Vec<u8>) -> JsResult<JsValue> {
    let to = Address::parse(&arg_str("registry", registry)?).js()?;
    Ok(object(&[
        ("to", to.to_checksum().into()),
        ("data", hx(&data).into()),
    ]))
}

/// `{to, data}` for `registerDoctor` (send from the authority's wallet).
#[wasm_bindgen(js_name = registerDoctorTx, unchecked_return_type = "TxRequest")]
pub fn register_doctor_tx(
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] serial: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] doctor: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] protocolKey: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] validFrom: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] validUntil: JsValue,
) -> JsResult<JsValue> {
    let doctor = Address::parse(&arg_str("doctor", &doctor)?).js()?;
    let key = PublicKey::from_sec1("protocolKey", &arg_bytes("protocolKey", &protocolKey)?).js()?;
    let data = registry::register_doctor(
        arg_int("serial", &serial)?,
        &doctor,
        &key,
        arg_int("validFrom", &validFrom)?,
        arg_int("validUntil", &validUntil)?,
    );
    tx_request(&registry, data)
}

/// `{to, data}` for `revokeDoctor(serial)`.
#[wasm_bindgen(js_name = revokeDoctorTx, unchecked_return_type = "TxRequest")]
pub fn revoke_doctor_tx(
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] serial: JsValue,
) -> JsResult<JsValue> {
    tx_request(
        &registry,
        registry::revoke_doctor(arg_int("serial", &serial)?),
    )
}

/// `{to, data}` for `anchorRecord(eh, recordType, recordTime)` (Alg 4 step 3).
/// `recordType` is ASCII text of at most 32 bytes.
#[wasm_bindgen(js_name = anchorRecordTx, unchecked_return_type = "TxRequest")]
pub fn anchor_record_tx(
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] eh: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] recordType: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] recordTime: JsValue,
) -> JsResult<JsValue> {
    let ty = registry::record_type(&arg_str("recordType", &recordType)?).js()?;
    let data = registry::anchor_record(
        &hash32("eh", &eh)?,
        &ty,
        arg_int("recordTime", &recordTime)?,
    );
    tx_request(&registry, data)
}

/// `{to, data}` for `markDeleted(eh)`.
#[wasm_bindgen(js_name = markDeletedTx, unchecked_return_type = "TxRequest")]
pub fn mark_deleted_tx(
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] eh: JsValue,
) -> JsResult<JsValue> {
    tx_request(&registry, registry::mark_deleted(&hash32("eh", &eh)?))
}

/// `{to, data}` for `authorise(R, ST, C1)` (Alg 5 step 5), from the parts
/// `MaskKey.authorise` returned.
#[wasm_bindgen(js_name = authoriseTx, unchecked_return_type = "TxRequest")]
pub fn authorise_tx(
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] r: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] st: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] c1: JsValue,
) -> JsResult<JsValue> {
    let auth = Authorisation::from_parts(
        &arg_bytes("r", &r)?,
        &arg_bytes("st", &st)?,
        &arg_bytes("c1", &c1)?,
    )
    .js()?;
    tx_request(&registry, registry::authorise(&auth))
}

/// `{to, data}` for the view `recordStatus(eh)`, for `eth_call`; decode the
/// answer with `decodeRecordStatus`.
#[wasm_bindgen(js_name = recordStatusCall, unchecked_return_type = "TxRequest")]
pub fn record_status_call(
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] eh: JsValue,
) -> JsResult<JsValue> {
    tx_request(&registry, registry::record_status(&hash32("eh", &eh)?))
}

/// Decodes `recordStatus` return data (hex string from `eth_call`).
#[wasm_bindgen(js_name = decodeRecordStatus)]
pub fn decode_record_status(
    #[wasm_bindgen(unchecked_param_type = "string")] data: JsValue,
) -> JsResult<JsValue> {
    let bytes = crate::hex::decode("eth_call result", &arg_str("data", &data)?).js()?;
    let s = registry::RecordStatus::decode(&bytes).js()?;
    Ok(object(&[
        ("anchored", s.anchored.into()),
        ("anchoredBy", s.anchored_by.to_checksum().into()),
        ("anchoredAt", super::num(s.anchored_at)),
        ("recordType", hx(&s.record_type).into()),
        ("recordTime", super::num(s.record_time)),
        ("deleted", s.deleted.into()),
        ("deletedAt", super::num(s.deleted_at)),
    ]))
}

/// `{to, data}` for the view `certificateStatus(serial)`, for `eth_call`;
/// decode the answer with `decodeCertificateStatus`.
#[wasm_bindgen(js_name = certificateStatusCall, unchecked_return_type = "TxRequest")]
pub fn certificate_status_call(
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] serial: JsValue,
) -> JsResult<JsValue> {
    tx_request(
        &registry,
        registry::certificate_status(arg_int("serial", &serial)?),
    )
}

/// Decodes `certificateStatus` return data: `{registered, doctor, validFrom,
/// validUntil, revoked, revokedAt}`.
#[wasm_bindgen(js_name = decodeCertificateStatus)]
pub fn decode_certificate_status(
    #[wasm_bindgen(unchecked_param_type = "string")] data: JsValue,
) -> JsResult<JsValue> {
    let bytes = crate::hex::decode("eth_call result", &arg_str("data", &data)?).js()?;
    let s = registry::CertificateStatus::decode(&bytes).js()?;
    Ok(object(&[
        ("registered", s.registered().into()),
        ("doctor", s.doctor.to_checksum().into()),
        ("validFrom", super::num(s.valid_from)),
        ("validUntil", super::num(s.valid_until)),
        ("revoked", s.revoked.into()),
        ("revokedAt", super::num(s.revoked_at)),
    ]))
}

/// `{to, data}` for the view `authorisationCount()`; the answer is one uint256 word.
#[wasm_bindgen(js_name = authorisationCountCall, unchecked_return_type = "TxRequest")]
pub fn authorisation_count_call(
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
) -> JsResult<JsValue> {
    tx_request(&registry, registry::authorisation_count())
}

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

/// Decodes the registry's events among JSON-RPC logs (an `eth_getLogs`
/// result or a receipt's `logs`). Logs of other contracts are refused with
/// `WrongContract` unless `skipForeign` is true.
#[wasm_bindgen(js_name = decodeRegistryLogs)]
pub fn decode_registry_logs(
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "object[]")] logs: JsValue,
    #[wasm_bindgen(unchecked_param_type = "boolean")] skipForeign: JsValue,
) -> JsResult<Array> {
    let registry = Address::parse(&arg_str("registry", &registry)?).js()?;
    let skip = super::arg_bool("skipForeign", &skipForeign)?;
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
                out.push(&to_js(&j));
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
    if !receipt.success {
        return Err(js_error(Error::Reverted {
            reason: "status 0".into(),
        }));
    }
    registry::anchored_eh(&receipt.logs, &registry)
        .map(|e| e.to_vec())
        .js()
}

/// The authorisations among `Authorised` logs (from `eth_getLogs`) that are
/// addressed to `scanner`'s key: `[{seq, r, st, c1, transactionHash}]`.
/// Other logs and malformed events are skipped.
#[wasm_bindgen(js_name = scanAuthorisations)]
pub fn scan_authorisations(
    scanner: &Scanner,
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "object[]")] logs: JsValue,
) -> JsResult<Array> {
    let registry = Address::parse(&arg_str("registry", &registry)?).js()?;
    let logs = Log::many_from_json(&json_arg("logs", &logs)?).js()?;
    let out = Array::new();
    for log in &logs {
        if let Ok(Event::Authorised { seq, authorisation }) = Event::decode(log, &registry) {
            if scanner.0.matches(&authorisation) {
                out.push(&object(&[
                    ("seq", super::num(seq)),
                    ("r", super::bytes(&authorisation.r)),
                    ("st", super::bytes(&authorisation.st)),
                    ("c1", super::bytes(&authorisation.c1)),
                    (
                        "transactionHash",
                        log.transaction_hash
                            .map(|h| JsValue::from(hx(&h)))
                            .unwrap_or(JsValue::NULL),
                    ),
                ]));
            }
        }
    }
    Ok(out)
}

/// Topic 0 of the registry's `Authorised` event, for an `eth_getLogs` filter.
#[wasm_bindgen(js_name = authorisedTopic)]
pub fn authorised_topic() -> String {
    hx(&registry::authorised_topic())
}
