//! Registry calls for a wallet: `{to, data}` for `eth_sendTransaction` or
//! `eth_call` (EIP-1193), and decoding of the views' answers.

use wasm_bindgen::prelude::*;

use super::conversion::*;
use crate::account::Address;
use crate::account::PublicKey;
use crate::chain::registry;
use crate::grant::Authorisation;
use crate::hex::encode_prefixed as hx;

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
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] protocolKey: JsValue,
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
    )
    .js()?;
    tx_request(&registry, data)
}

/// `{to, data}` for `revokeDoctor(serial)`.
#[wasm_bindgen(js_name = revokeDoctorTx, unchecked_return_type = "TxRequest")]
pub fn revoke_doctor_tx(
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number | bigint")] serial: JsValue,
) -> JsResult<JsValue> {
    tx_request(
        &registry,
        registry::revoke_doctor(arg_u64("serial", &serial)?),
    )
}

/// `{to, data}` for `anchorRecord(eh, commitment, recordTime, serial)`
/// (Alg 4 step 3), sent from the wallet of the doctor whose certificate is
/// `serial` (the registry refuses anyone else: `NotCertifiedDoctor`).
/// `commitment` is `anchorCommitment(…)`.
#[wasm_bindgen(js_name = anchorRecordTx, unchecked_return_type = "TxRequest")]
pub fn anchor_record_tx(
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] eh: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] commitment: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] recordTime: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number | bigint")] serial: JsValue,
) -> JsResult<JsValue> {
    let data = registry::anchor_record(
        &hash32("eh", &eh)?,
        &hash32("commitment", &commitment)?,
        arg_int("recordTime", &recordTime)?,
        arg_u64("serial", &serial)?,
    )
    .js()?;
    tx_request(&registry, data)
}

/// `{to, data}` for `markDeleted(eh)`.
#[wasm_bindgen(js_name = markDeletedTx, unchecked_return_type = "TxRequest")]
pub fn mark_deleted_tx(
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] eh: JsValue,
) -> JsResult<JsValue> {
    tx_request(&registry, registry::mark_deleted(&hash32("eh", &eh)?))
}

/// `{to, data}` for `markDeletedByPatient(eh, salt, recordType)`, sent from
/// the patient's wallet: `record` is her handoff (`{eh, anchorSalt,
/// recordType}`); the registry checks that the anchor's commitment opens
/// for her address (`NotRecordPatient`).
#[wasm_bindgen(js_name = markDeletedByPatientTx, unchecked_return_type = "TxRequest")]
pub fn mark_deleted_by_patient_tx(
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "object")] record: JsValue,
) -> JsResult<JsValue> {
    let eh = hash32("eh", &field("record", &record, "eh")?)?;
    let opening = arg_opening("record", &record)?;
    tx_request(&registry, registry::mark_deleted_by_patient(&eh, &opening))
}

/// `{to, data}` for `authorise(viewTag, R, ST, C1)` (Alg 5 step 5), from
/// the parts `MaskKey.authorise` returned (`viewTag` a number 0–255).
#[wasm_bindgen(js_name = authoriseTx, unchecked_return_type = "TxRequest")]
pub fn authorise_tx(
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] viewTag: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] r: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] st: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] c1: JsValue,
) -> JsResult<JsValue> {
    let auth = Authorisation::from_parts(
        arg_byte("viewTag", &viewTag)?,
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
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] eh: JsValue,
) -> JsResult<JsValue> {
    tx_request(&registry, registry::record_status(&hash32("eh", &eh)?))
}

/// Decodes `recordStatus` return data (hex string from `eth_call`):
/// `{anchored, anchoredBy, serial, anchoredAt, commitment (Uint8Array),
/// recordTime, deleted, deletedAt}`.
#[wasm_bindgen(js_name = decodeRecordStatus, unchecked_return_type = "RecordStatus")]
pub fn decode_record_status(
    #[wasm_bindgen(unchecked_param_type = "string")] data: JsValue,
) -> JsResult<JsValue> {
    let s = registry::RecordStatus::decode(&eth_call_result("data", &data)?).js()?;
    Ok(object(&[
        ("anchored", s.anchored.into()),
        ("anchoredBy", s.anchored_by.to_checksum().into()),
        ("serial", num(s.serial)),
        ("anchoredAt", num(s.anchored_at)),
        ("commitment", bytes(&s.commitment)),
        ("recordTime", num(s.record_time)),
        ("deleted", s.deleted.into()),
        ("deletedAt", num(s.deleted_at)),
    ]))
}

/// `{to, data}` for the view `certificateStatus(serial)`, for `eth_call`;
/// decode the answer with `decodeCertificateStatus`.
#[wasm_bindgen(js_name = certificateStatusCall, unchecked_return_type = "TxRequest")]
pub fn certificate_status_call(
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number | bigint")] serial: JsValue,
) -> JsResult<JsValue> {
    tx_request(
        &registry,
        registry::certificate_status(arg_u64("serial", &serial)?),
    )
}

/// Decodes `certificateStatus` return data: `{registered, doctor, validFrom,
/// validUntil, revoked, revokedAt}`.
#[wasm_bindgen(js_name = decodeCertificateStatus, unchecked_return_type = "CertificateStatus")]
pub fn decode_certificate_status(
    #[wasm_bindgen(unchecked_param_type = "string")] data: JsValue,
) -> JsResult<JsValue> {
    let bytes = eth_call_result("data", &data)?;
    Ok(json_to_js(
        &registry::CertificateStatus::decode(&bytes).js()?.to_json(),
    ))
}

/// `{to, data}` for the view `authorisationCount()`; the answer is one uint256 word.
#[wasm_bindgen(js_name = authorisationCountCall, unchecked_return_type = "TxRequest")]
pub fn authorisation_count_call(
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
) -> JsResult<JsValue> {
    tx_request(&registry, registry::authorisation_count())
}

/// The registry's custom error in revert data (bytes-like, e.g. the `data`
/// of a failed `eth_call` or `eth_estimateGas`), as the `EhrchainError` a
/// reverted call is: `code` `"Reverted"`, a message naming the error and
/// its arguments (`NotCertifiedDoctor(7)`) and `revert: {name, signature,
/// args}`. `undefined` (not thrown) for data that is not one of the
/// registry's errors.
#[wasm_bindgen(js_name = decodeRegistryRevert, unchecked_return_type = "RegistryRevertError | undefined")]
pub fn decode_registry_revert(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] data: JsValue,
) -> JsResult<JsValue> {
    let Some(revert) = registry::decode_revert(&arg_bytes("data", &data)?) else {
        return Ok(JsValue::UNDEFINED);
    };
    let args: js_sys::Array = revert.args.iter().map(revert_arg).collect();
    let err = js_error(crate::Error::Reverted {
        reason: revert.to_string(),
    });
    let detail = object(&[
        ("name", revert.name.into()),
        ("signature", revert.signature.into()),
        ("args", args.into()),
    ]);
    let _ = js_sys::Reflect::set(&err, &"revert".into(), &detail);
    Ok(err)
}

/// A revert argument as JS: integers `number` or `bigint`, `bytes32` a `Uint8Array`.
fn revert_arg(arg: &registry::RevertArg) -> JsValue {
    match arg {
        registry::RevertArg::Uint(v) => num(*v),
        registry::RevertArg::BigUint(decimal) => js_sys::BigInt::new(&decimal.as_str().into())
            .map(JsValue::from)
            .unwrap_or_else(|_| decimal.as_str().into()),
        registry::RevertArg::Bytes32(word) => bytes(word),
    }
}

/// `{to, data}` for `listHospital(hospital, endpoint)` (send from the
/// authority's wallet): lists the record server of `hospital` in the
/// registry's directory; an empty `endpoint` delists it. `InvalidEndpoint`
/// for a URL no client would follow (docs/PROTOCOL.md §13.1).
#[wasm_bindgen(js_name = listHospitalTx, unchecked_return_type = "TxRequest")]
pub fn list_hospital_tx(
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] hospital: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] endpoint: JsValue,
) -> JsResult<JsValue> {
    let data = registry::list_hospital(
        &arg_str("hospital", &hospital)?,
        &arg_str("endpoint", &endpoint)?,
    )
    .js()?;
    tx_request(&registry, data)
}

/// `{to, data}` for the view `hospitalEndpoint(hospital)`, for `eth_call`;
/// decode the answer with `decodeHospitalEndpoint`.
#[wasm_bindgen(js_name = hospitalEndpointCall, unchecked_return_type = "TxRequest")]
pub fn hospital_endpoint_call(
    #[wasm_bindgen(unchecked_param_type = "string")] registry: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] hospital: JsValue,
) -> JsResult<JsValue> {
    let data = registry::hospital_endpoint(&arg_str("hospital", &hospital)?).js()?;
    tx_request(&registry, data)
}

/// Decodes `hospitalEndpoint` return data: the listed base URL, or `""`
/// when the hospital is not listed; `InvalidEndpoint` for a listed URL no
/// client may follow.
#[wasm_bindgen(js_name = decodeHospitalEndpoint)]
pub fn decode_hospital_endpoint(
    #[wasm_bindgen(unchecked_param_type = "string")] data: JsValue,
) -> JsResult<String> {
    let bytes = eth_call_result("data", &data)?;
    Ok(crate::chain::directory::decode_endpoint(&bytes)
        .js()?
        .unwrap_or_default())
}
