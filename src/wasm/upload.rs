//! Upload requests (`docs/PROTOCOL.md §9.1`): how a certified doctor's
//! browser asks a closed hospital server to store a new record.

use wasm_bindgen::prelude::*;

use super::account::Key;
use super::conversion::*;
use crate::cert::Certificate;
use crate::eip712::TypedData;
use crate::signature::Signature;
use crate::upload::{SignedUpload, UploadRequest};

/// A fresh upload request (random nonce) from `{hospital, eh, size, filing,
/// now, ttl}`, and its `now`: `filing` is `filingCommitment(F)`, `now` and
/// `ttl` seconds.
fn upload_request(fields: &JsValue) -> JsResult<(UploadRequest, u64)> {
    let f = |name| field("upload", fields, name);
    let now = arg_int("now", &f("now")?)?;
    let request = UploadRequest::new(
        &arg_str("hospital", &f("hospital")?)?,
        hash32("eh", &f("eh")?)?,
        arg_int("size", &f("size")?)?,
        hash32("filing", &f("filing")?)?,
        now,
        arg_int("ttl", &f("ttl")?)?,
    )
    .js()?;
    Ok((request, now))
}

/// The typed-data JSON of a fresh upload request, for the doctor's wallet
/// to sign with `eth_signTypedData_v4`; then `assembleUploadRequest`.
#[wasm_bindgen(js_name = uploadRequestTypedData)]
pub fn upload_request_typed_data(
    #[wasm_bindgen(unchecked_param_type = "UploadFields")] upload: JsValue,
) -> JsResult<String> {
    Ok(crate::signed::Signable::typed_data(&upload_request(&upload)?.0).to_json())
}

/// The signed upload request (JSON, the `authorization` of
/// `POST /v1/uploads`) from the typed data, the wallet's signature and the
/// doctor's certificate JSON.
#[wasm_bindgen(js_name = assembleUploadRequest)]
pub fn assemble_upload_request(
    #[wasm_bindgen(unchecked_param_type = "string")] typedDataJson: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] signature: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] certificateJson: JsValue,
) -> JsResult<String> {
    let typed_data = TypedData::from_json(&arg_str("typedDataJson", &typedDataJson)?).js()?;
    let signature = Signature::from_bytes(&arg_bytes("signature", &signature)?).js()?;
    let certificate =
        Certificate::from_json(&arg_str("certificateJson", &certificateJson)?).js()?;
    Ok(SignedUpload::assemble(&typed_data, signature, certificate)
        .js()?
        .to_json())
}

/// Builds and signs an upload request with the doctor's account key
/// handle; the certificate must be valid at the upload's `now`.
#[wasm_bindgen(js_name = signUploadRequest)]
pub fn sign_upload_request(
    doctor: &Key,
    #[wasm_bindgen(unchecked_param_type = "string")] certificateJson: JsValue,
    #[wasm_bindgen(unchecked_param_type = "UploadFields")] upload: JsValue,
) -> JsResult<String> {
    let cert = Certificate::from_json(&arg_str("certificateJson", &certificateJson)?).js()?;
    let (request, now) = upload_request(&upload)?;
    Ok(request.sign(&doctor.0, cert, now).js()?.to_json())
}
