//! The doctor-to-patient handoff of `tx_id`, `K_P`, the filing secret and
//! the anchor opening (`docs/PROTOCOL.md §10`).

use wasm_bindgen::prelude::*;

use super::account::Key;
use super::conversion::*;
use crate::handoff::{FilingSecret, RecordHandoff};

/// Seals a new record's handoff (`tx_id`, `K_P`, the filing secret, `eh`
/// and the anchor opening) to the patient's public key.
#[wasm_bindgen(js_name = sealHandoff)]
pub fn seal_handoff(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] patient: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Handoff")] handoff: JsValue,
) -> JsResult<Vec<u8>> {
    let patient = &arg_bytes("patient", &patient)?;
    let f = |name| field("handoff", &handoff, name);
    let h = RecordHandoff {
        context: context(
            &arg_str("hospital", &f("hospital")?)?,
            arg_int("time", &f("time")?)?,
        )?,
        tx_id: hash32("txId", &f("txId")?)?,
        record_key: arg_record_key("recordKey", &f("recordKey")?)?,
        filing: FilingSecret::from_bytes(&zeroize::Zeroizing::new(arg_bytes(
            "filingSecret",
            &f("filingSecret")?,
        )?))
        .js()?,
        eh: hash32("eh", &f("eh")?)?,
        opening: arg_opening("handoff", &handoff)?,
    };
    h.seal(&public_key("patient public key", patient)?).js()
}

/// Opens a sealed handoff with the patient's key handle. Check its anchor
/// with `checkHandoffAnchor` before filing.
#[wasm_bindgen(js_name = openHandoff, unchecked_return_type = "Handoff")]
pub fn open_handoff(
    patient: &Key,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] sealed: JsValue,
) -> JsResult<JsValue> {
    let sealed = &arg_bytes("sealed", &sealed)?;
    let h = RecordHandoff::open(&patient.0, sealed).js()?;
    Ok(object(&[
        ("hospital", h.context.hospital().into()),
        ("time", num(h.context.time())),
        ("txId", bytes(&h.tx_id)),
        ("recordKey", bytes(h.record_key.as_bytes())),
        ("filingSecret", bytes(h.filing.as_bytes())),
        ("eh", bytes(&h.eh)),
        ("anchorSalt", bytes(&h.opening.salt)),
        ("recordType", h.opening.record_type.as_str().into()),
    ]))
}

/// The patient's check of a handoff's anchor: anchored by a doctor
/// certified at the time, not tombstoned, and committing to `patient` (her
/// address), the handoff's record type and time. `recordStatus` and
/// `certificateStatus` are the `eth_call` answers as for `confirmAnchor`.
/// Throws `RecordNotAnchored`, `RecordDeleted`, `AnchorNotCertified` or
/// `AnchorMismatch`; returns the anchor.
#[wasm_bindgen(js_name = checkHandoffAnchor, unchecked_return_type = "CertifiedAnchor")]
pub fn check_handoff_anchor(
    #[wasm_bindgen(unchecked_param_type = "Handoff")] handoff: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] patient: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] recordStatus: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] certificateStatus: JsValue,
) -> JsResult<JsValue> {
    let f = |name| field("handoff", &handoff, name);
    let eh = f("eh")?;
    let anchor = super::anchor::certified(&eh, &recordStatus, &certificateStatus)?;
    let opening = arg_opening("handoff", &handoff)?;
    let time = arg_int("time", &f("time")?)?;
    if !anchor.binds(
        &hash32("eh", &eh)?,
        time,
        &opening,
        &arg_address("patient", &patient)?,
    ) {
        return Err(js_error(crate::Error::AnchorMismatch));
    }
    Ok(super::anchor::anchor_js(&anchor))
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
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] filingSecret: JsValue,
) -> JsResult<Vec<u8>> {
    let secret = FilingSecret::from_bytes(&arg_bytes("filingSecret", &filingSecret)?).js()?;
    Ok(secret.commitment().to_vec())
}
