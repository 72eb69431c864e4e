//! Doctor certificates (Alg 3): typed data for a wallet, issuing, assembling, verifying.

use wasm_bindgen::prelude::*;

use super::account::Key;
use super::conversion::*;
use crate::account::Address;
use crate::cert::Certificate;
use crate::cert::CertificateBody;
use crate::eip712::TypedData;
use crate::signature::Signature;

/// The certificate fields as JS passes them, checked (types, point, ranges).
fn cert_body(
    doctor: &JsValue,
    protocol_key: &JsValue,
    hospital: &JsValue,
    valid_from: &JsValue,
    valid_until: &JsValue,
    serial: &JsValue,
) -> JsResult<CertificateBody> {
    let doctor = arg_str("doctor", doctor)?;
    let protocol_key = arg_bytes("protocolKey", protocol_key)?;
    let hospital = arg_str("hospital", hospital)?;
    let body = CertificateBody {
        valid_from: arg_int("validFrom", valid_from)?,
        valid_until: arg_int("validUntil", valid_until)?,
        serial: arg_int("serial", serial)?,
        doctor: Address::parse(&doctor).js()?,
        protocol_key: public_key("protocol key", &protocol_key)?,
        hospital,
    };
    body.check().js()?;
    Ok(body)
}

fn cert_fields(body: &CertificateBody) -> JsValue {
    object(&[
        ("doctor", body.doctor.to_checksum().into()),
        ("protocolKey", bytes(&body.protocol_key.to_compressed())),
        ("hospital", body.hospital.as_str().into()),
        ("validFrom", num(body.valid_from)),
        ("validUntil", num(body.valid_until)),
        ("serial", num(body.serial)),
    ])
}

/// The typed-data JSON of a certificate, for `eth_signTypedData_v4` by the authority's wallet.
#[wasm_bindgen(js_name = certificateTypedData)]
pub fn certificate_typed_data(
    #[wasm_bindgen(unchecked_param_type = "string")] doctor: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] protocolKey: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] hospital: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] validFrom: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] validUntil: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] serial: JsValue,
) -> JsResult<String> {
    let body = cert_body(
        &doctor,
        &protocolKey,
        &hospital,
        &validFrom,
        &validUntil,
        &serial,
    )?;
    Ok(body.typed_data().to_json())
}

/// Issues a certificate with the authority's key handle; returns its JSON.
#[wasm_bindgen(js_name = issueCertificate)]
pub fn issue_certificate(
    authority: &Key,
    #[wasm_bindgen(unchecked_param_type = "string")] doctor: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] protocolKey: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] hospital: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] validFrom: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] validUntil: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] serial: JsValue,
) -> JsResult<String> {
    let body = cert_body(
        &doctor,
        &protocolKey,
        &hospital,
        &validFrom,
        &validUntil,
        &serial,
    )?;
    Ok(body.sign(&authority.0).js()?.to_json())
}

/// Assembles certificate JSON from its typed-data JSON and a wallet's signature.
#[wasm_bindgen(js_name = assembleCertificate)]
pub fn assemble_certificate(
    #[wasm_bindgen(unchecked_param_type = "string")] typedDataJson: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] signature: JsValue,
) -> JsResult<String> {
    let typed_data = TypedData::from_json(&arg_str("typedDataJson", &typedDataJson)?).js()?;
    let signature = Signature::from_bytes(&arg_bytes("signature", &signature)?).js()?;
    Ok(Certificate::assemble(&typed_data, signature)
        .js()?
        .to_json())
}

/// Verifies certificate JSON at time `at` against the authority's address;
/// returns its fields.
#[wasm_bindgen(js_name = verifyCertificate, unchecked_return_type = "CertificateFields")]
pub fn verify_certificate(
    #[wasm_bindgen(unchecked_param_type = "string")] certificateJson: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] authority: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] at: JsValue,
    #[wasm_bindgen(unchecked_param_type = "boolean")] revoked: JsValue,
) -> JsResult<JsValue> {
    let certificate_json = &arg_str("certificateJson", &certificateJson)?;
    let authority = &arg_str("authority", &authority)?;
    let at = arg_int("at", &at)?;
    let revoked = arg_bool("revoked", &revoked)?;
    let cert = Certificate::from_json(certificate_json).js()?;
    cert.verify(&Address::parse(authority).js()?, at, revoked)
        .js()?;
    Ok(cert_fields(&cert.body))
}

/// Parses certificate JSON without verifying it; returns its fields.
#[wasm_bindgen(js_name = parseCertificate, unchecked_return_type = "CertificateFields")]
pub fn parse_certificate(
    #[wasm_bindgen(unchecked_param_type = "string")] certificateJson: JsValue,
) -> JsResult<JsValue> {
    let certificate_json = &arg_str("certificateJson", &certificateJson)?;
    Ok(cert_fields(
        &Certificate::from_json(certificate_json).js()?.body,
    ))
}
