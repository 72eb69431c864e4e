//! The record anchor (`docs/PROTOCOL.md §4.1`): its commitment, and the
//! anchoring rule applied to the registry's answers.

use wasm_bindgen::prelude::*;

use super::conversion::*;
use crate::anchor::{AnchorOpening, CertifiedAnchor, RecordType};
use crate::chain::registry::{CertificateStatus, RecordStatus};

/// 32 random bytes for a new record's anchor commitment: anchor with
/// `anchorCommitment(salt, …)`, seal the salt in the handoff.
#[wasm_bindgen(js_name = generateAnchorSalt)]
pub fn generate_anchor_salt() -> JsResult<Vec<u8>> {
    Ok(AnchorOpening::generate(RecordType::new("").js()?)
        .js()?
        .salt
        .to_vec())
}

/// `SHA-256("ehrchain/v1/anchor" ‖ salt ‖ doctor ‖ patient ‖ u8 len(Ty1) ‖ Ty1)`:
/// what `anchorRecordTx` anchors instead of the record type. `doctor` is the
/// anchoring (certified) account, `patient` the patient's account.
#[wasm_bindgen(js_name = anchorCommitment)]
pub fn anchor_commitment(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] anchorSalt: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] doctor: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] patient: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] recordType: JsValue,
) -> JsResult<Vec<u8>> {
    let opening = AnchorOpening {
        salt: hash32("anchorSalt", &anchorSalt)?,
        record_type: RecordType::new(&arg_str("recordType", &recordType)?).js()?,
    };
    Ok(opening
        .commitment(
            &arg_address("doctor", &doctor)?,
            &arg_address("patient", &patient)?,
        )
        .to_vec())
}

/// The anchoring rule on the registry's answers: `recordStatus` is the
/// `eth_call` answer of `recordStatusCall(registry, eh)`, `certificateStatus`
/// that of `certificateStatusCall(registry, <its serial>)`. Throws
/// `RecordNotAnchored`, `RecordDeleted` or `AnchorNotCertified`.
pub(crate) fn certified(
    eh: &JsValue,
    record_status: &JsValue,
    certificate_status: &JsValue,
) -> JsResult<CertifiedAnchor> {
    let eh = hash32("eh", eh)?;
    let record = RecordStatus::decode(&eth_call_result("recordStatus", record_status)?).js()?;
    let cert =
        CertificateStatus::decode(&eth_call_result("certificateStatus", certificate_status)?)
            .js()?;
    CertifiedAnchor::confirm(&eh, &record, &cert).js()
}

/// The anchor as JS: `{eh, doctor, serial, recordTime, anchoredAt}`.
pub(crate) fn anchor_js(a: &CertifiedAnchor) -> JsValue {
    object(&[
        ("eh", bytes(&a.eh)),
        ("doctor", a.doctor.to_checksum().into()),
        ("serial", num(a.serial)),
        ("recordTime", num(a.record_time)),
        ("anchoredAt", num(a.anchored_at)),
    ])
}

/// Checks the anchor of `eh` under the anchoring rule (see `certified`
/// above) and returns it. Throws `RecordNotAnchored`, `RecordDeleted`,
/// `AnchorNotCertified`.
#[wasm_bindgen(js_name = confirmAnchor, unchecked_return_type = "CertifiedAnchor")]
pub fn confirm_anchor(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] eh: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] recordStatus: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] certificateStatus: JsValue,
) -> JsResult<JsValue> {
    Ok(anchor_js(&certified(
        &eh,
        &recordStatus,
        &certificateStatus,
    )?))
}
