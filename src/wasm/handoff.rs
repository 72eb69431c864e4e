//! The doctor-to-patient handoff of `tx_id` and `K_P`.

use wasm_bindgen::prelude::*;

use super::account::Key;
use super::conversion::*;
use crate::handoff::{FilingSecret, RecordHandoff};

/// Seals `tx_id`, `K_P` and the filing secret of a new record to the
/// patient's public key.
#[wasm_bindgen(js_name = sealHandoff)]
pub fn seal_handoff(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] patient: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] hospital: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] time: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] txId: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] recordKey: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] filingSecret: JsValue,
) -> JsResult<Vec<u8>> {
    let patient = &arg_bytes("patient", &patient)?;
    let hospital = &arg_str("hospital", &hospital)?;
    let time = arg_int("time", &time)?;
    let tx_id = &arg_bytes("txId", &txId)?;
    let h = RecordHandoff {
        context: context(hospital, time)?,
        tx_id: crate::hex::fixed("tx_id", "32", tx_id).js()?,
        record_key: arg_record_key("recordKey", &recordKey)?,
        filing: FilingSecret::from_bytes(&arg_bytes("filingSecret", &filingSecret)?).js()?,
    };
    h.seal(&public_key("patient public key", patient)?).js()
}

/// Opens a sealed handoff with the patient's key handle.
#[wasm_bindgen(js_name = openHandoff, unchecked_return_type = "Handoff")]
pub fn open_handoff(
    patient: &Key,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] sealed: JsValue,
) -> JsResult<JsValue> {
    let sealed = &arg_bytes("sealed", &sealed)?;
    let h = RecordHandoff::open(&patient.0, sealed).js()?;
    Ok(object(&[
        ("hospital", h.context.hospital().into()),
        ("time", num(h.context.time())),
        ("txId", bytes(&h.tx_id)),
        ("recordKey", bytes(h.record_key.as_bytes())),
        ("filingSecret", bytes(h.filing.as_bytes())),
    ]))
}

/// A fresh 32-byte filing secret `F` for a new record: upload the record
/// with `filingCommitment(F)`, seal `F` in the handoff.
#[wasm_bindgen(js_name = generateFilingSecret)]
pub fn generate_filing_secret() -> JsResult<Vec<u8>> {
    Ok(FilingSecret::generate().js()?.as_bytes().to_vec())
}

/// `SHA-256("ehrchain/v1/filing" ‖ F)`: what the hospital server is given
/// at upload, so that only the holder of `F` can file the record.
#[wasm_bindgen(js_name = filingCommitment)]
pub fn filing_commitment(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] filingSecret: JsValue,
) -> JsResult<Vec<u8>> {
    let secret = FilingSecret::from_bytes(&arg_bytes("filingSecret", &filingSecret)?).js()?;
    Ok(secret.commitment().to_vec())
}
