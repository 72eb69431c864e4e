//! Access requests (Alg 5 steps 9–12): typed data, assembling, signing, verifying.

use wasm_bindgen::prelude::*;

use super::account::Key;
use super::conversion::*;
use crate::account::Address;
use crate::cert::Certificate;
use crate::chain::registry::CertificateStatus;
use crate::eip712::TypedData;
use crate::request::AccessRequest;
use crate::request::SignedRequest;
use crate::signature::Signature;

/// A fresh access request (random nonce) made at `now`, from the
/// arguments as JS passes them.
fn access_request(
    hospital: &JsValue,
    w: &JsValue,
    now: u64,
    ttl: &JsValue,
) -> JsResult<AccessRequest> {
    let hospital = arg_str("hospital", hospital)?;
    let w: [u8; 32] = crate::hex::fixed("W", "32", &arg_bytes("w", w)?).js()?;
    AccessRequest::new(&hospital, w, now, arg_int("ttl", ttl)?).js()
}

/// The typed-data JSON of a fresh access request (random nonce), for the
/// doctor's wallet to sign with `eth_signTypedData_v4`.
#[wasm_bindgen(js_name = accessRequestTypedData)]
pub fn access_request_typed_data(
    #[wasm_bindgen(unchecked_param_type = "string")] hospital: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] w: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] now: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] ttl: JsValue,
) -> JsResult<String> {
    Ok(access_request(&hospital, &w, arg_int("now", &now)?, &ttl)?
        .typed_data()
        .to_json())
}

/// Assembles the request JSON sent to the server from the typed data, the
/// wallet's signature and the doctor's certificate JSON.
#[wasm_bindgen(js_name = assembleAccessRequest)]
pub fn assemble_access_request(
    #[wasm_bindgen(unchecked_param_type = "string")] typedDataJson: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] signature: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] certificateJson: JsValue,
) -> JsResult<String> {
    let typed_data = TypedData::from_json(&arg_str("typedDataJson", &typedDataJson)?).js()?;
    let signature = Signature::from_bytes(&arg_bytes("signature", &signature)?).js()?;
    let certificate =
        Certificate::from_json(&arg_str("certificateJson", &certificateJson)?).js()?;
    Ok(SignedRequest::assemble(&typed_data, signature, certificate)
        .js()?
        .to_json())
}

/// Builds and signs an access request with a key handle in one step; the
/// certificate must be valid at `now` (`CertificateExpired`,
/// `CertificateNotYetValid`).
#[wasm_bindgen(js_name = signAccessRequest)]
pub fn sign_access_request(
    doctor: &Key,
    #[wasm_bindgen(unchecked_param_type = "string")] certificateJson: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] hospital: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] w: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] now: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] ttl: JsValue,
) -> JsResult<String> {
    let cert = Certificate::from_json(&arg_str("certificateJson", &certificateJson)?).js()?;
    let now = arg_int("now", &now)?;
    let req = access_request(&hospital, &w, now, &ttl)?;
    Ok(req.sign(&doctor.0, cert, now).js()?.to_json())
}

/// The server's checks of an access request (everything but nonce
/// freshness), with `certificateStatus` the `eth_call` answer of
/// `certificateStatusCall(registry, serial)` for the request's certificate
/// serial: the certificate must be registered to the same doctor and not
/// revoked.
#[wasm_bindgen(js_name = verifyAccessRequest, unchecked_return_type = "VerifiedRequest")]
pub fn verify_access_request(
    #[wasm_bindgen(unchecked_param_type = "string")] requestJson: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] authority: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] hospital: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] now: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] maxTtl: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] certificateStatus: JsValue,
) -> JsResult<JsValue> {
    let request_json = &arg_str("requestJson", &requestJson)?;
    let authority = &arg_str("authority", &authority)?;
    let hospital = &arg_str("hospital", &hospital)?;
    let now = arg_int("now", &now)?;
    let max_ttl = arg_int("maxTtl", &maxTtl)?;
    let status =
        CertificateStatus::decode(&eth_call_result("certificateStatus", &certificateStatus)?)
            .js()?;
    let req = SignedRequest::from_json(request_json).js()?;
    let v = req
        .verify(
            &Address::parse(authority).js()?,
            hospital,
            now,
            max_ttl,
            &status,
        )
        .js()?;
    Ok(object(&[
        ("doctor", v.doctor.to_checksum().into()),
        ("serial", num(v.serial)),
        ("w", bytes(&v.request.w)),
        ("nonce", bytes(&v.request.nonce)),
        ("expiry", num(v.request.expiry)),
    ]))
}
