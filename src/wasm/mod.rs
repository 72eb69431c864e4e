//! The JavaScript bindings (`#[wasm_bindgen]`): a thin layer over the core.
//!
//! Conventions, for every export:
//! - bytes are `Uint8Array`; addresses are EIP-55 strings; times are Unix
//!   seconds as `number` (integers up to `Number.MAX_SAFE_INTEGER`);
//! - secret keys never cross into JS unless exported on purpose: they live in
//!   [`Key`] handles (wasm memory, zeroised on `free()` / garbage collection);
//! - every failure throws an `Error` whose `code` property is the stable
//!   [`crate::Error::code`] and whose `name` is `"EhrchainError"`.

mod chain_js;
mod record_js;

pub use chain_js::*;
pub use record_js::{RecordDecryptor, RecordEncryptor};

use js_sys::{Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::account::{Address, PublicKey, SecretKey};
use crate::cert::{Certificate, CertificateBody, MAX_SAFE_INTEGER};
use crate::error::Error;
use crate::grant::{AccessPass, Authorisation, Scanner as CoreScanner};
use crate::handoff::RecordHandoff;
use crate::mask::{MaskKey as CoreMaskKey, RecordContext};
use crate::request::{AccessRequest, SignedRequest};
use crate::signature::Signature;
use crate::{ecies, hash, TypedData};

/// Converts a crate error into a JS `Error` with `name = "EhrchainError"` and a `code`.
pub(crate) fn js_error(e: Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("EhrchainError");
    let _ = Reflect::set(&err, &"code".into(), &e.code().into());
    err.into()
}

/// `Result` of an export: errors are JS `Error` objects.
pub(crate) type JsResult<T> = Result<T, JsValue>;

pub(crate) trait IntoJs<T> {
    fn js(self) -> JsResult<T>;
}

impl<T> IntoJs<T> for crate::Result<T> {
    fn js(self) -> JsResult<T> {
        self.map_err(js_error)
    }
}

fn wrong_type(what: &'static str, expected: &'static str) -> JsValue {
    js_error(Error::InvalidArgument { what, expected })
}

/// Reads a `Uint8Array` argument (nothing else: no coercion of strings,
/// arrays or buffers, which the generated glue would silently misread).
pub(crate) fn arg_bytes(what: &'static str, value: &JsValue) -> JsResult<Vec<u8>> {
    value
        .dyn_ref::<Uint8Array>()
        .map(Uint8Array::to_vec)
        .ok_or_else(|| wrong_type(what, "a Uint8Array"))
}

/// Reads an optional `Uint8Array` (`undefined` or `null` for none).
pub(crate) fn arg_opt_bytes(what: &'static str, value: &JsValue) -> JsResult<Option<Vec<u8>>> {
    if value.is_undefined() || value.is_null() {
        Ok(None)
    } else {
        arg_bytes(what, value).map(Some)
    }
}

/// Reads a string argument.
pub(crate) fn arg_str(what: &'static str, value: &JsValue) -> JsResult<String> {
    value
        .as_string()
        .ok_or_else(|| wrong_type(what, "a string"))
}

/// Reads a boolean argument (only `true` or `false`).
pub(crate) fn arg_bool(what: &'static str, value: &JsValue) -> JsResult<bool> {
    value.as_bool().ok_or_else(|| wrong_type(what, "a boolean"))
}

/// Reads a number that must be an integer in `0..=2^53-1` (Unix times, serials, sizes).
pub(crate) fn arg_int(what: &'static str, value: &JsValue) -> JsResult<u64> {
    let v = value.as_f64().ok_or_else(|| wrong_type(what, "a number"))?;
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= MAX_SAFE_INTEGER as f64 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(v as u64)
    } else {
        Err(js_error(Error::OutOfRange { what }))
    }
}

/// Reads an optional integer (`undefined` or `null` for none).
pub(crate) fn arg_opt_int(what: &'static str, value: &JsValue) -> JsResult<Option<u64>> {
    if value.is_undefined() || value.is_null() {
        Ok(None)
    } else {
        arg_int(what, value).map(Some)
    }
}

/// Builds a plain JS object from `(name, value)` pairs.
pub(crate) fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let obj = Object::new();
    for (name, value) in fields {
        let _ = Reflect::set(&obj, &(*name).into(), value);
    }
    obj.into()
}

/// A u64 for JS: a `number` up to 2^53-1, a `bigint` beyond (never rounded).
pub(crate) fn num(value: u64) -> JsValue {
    if value <= MAX_SAFE_INTEGER {
        #[allow(clippy::cast_precision_loss)]
        JsValue::from_f64(value as f64)
    } else {
        js_sys::BigInt::from(value).into()
    }
}

/// Converts JSON to a JS value; integers beyond 2^53-1 become `bigint`.
pub(crate) fn json_to_js(value: &serde_json::Value) -> JsValue {
    use serde_json::Value as J;
    match value {
        J::Null => JsValue::NULL,
        J::Bool(b) => JsValue::from_bool(*b),
        J::Number(n) => match (n.as_u64(), n.as_f64()) {
            (Some(u), _) => num(u),
            (None, Some(f)) => JsValue::from_f64(f),
            _ => JsValue::NULL,
        },
        J::String(t) => JsValue::from_str(t),
        J::Array(items) => items
            .iter()
            .map(json_to_js)
            .collect::<js_sys::Array>()
            .into(),
        J::Object(map) => {
            let obj = Object::new();
            for (k, v) in map {
                let _ = Reflect::set(&obj, &k.as_str().into(), &json_to_js(v));
            }
            obj.into()
        }
    }
}

pub(crate) fn bytes(data: &[u8]) -> JsValue {
    Uint8Array::from(data).into()
}

fn public_key(what: &'static str, bytes: &[u8]) -> JsResult<PublicKey> {
    PublicKey::from_sec1(what, bytes).js()
}

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Integers from the chain or from other parties' data are `number` up to
 *  2^53-1 and `bigint` beyond (never rounded). */
export type Uint64 = number | bigint;
/** A masked record as filed with the record server: `{X, Z, K}`. */
export interface MaskedRecord { x: Uint8Array; z: Uint8Array; k: Uint8Array }
/** `tx_id` and `K_P`, unmasked. */
export interface Unmasked { txId: Uint8Array; recordKey: Uint8Array }
/** `Trans = (R, ST, C1)`. */
export interface AuthorisationParts { r: Uint8Array; st: Uint8Array; c1: Uint8Array }
/** An opened access pass: the record context and `k_t`. */
export interface OpenedPass { hospital: string; time: number; maskKey: MaskKey }
/** An opened doctor-to-patient handoff. */
export interface Handoff { hospital: string; time: number; txId: Uint8Array; recordKey: Uint8Array }
/** The facts a certificate binds. */
export interface CertificateFields {
  doctor: string; protocolKey: Uint8Array; hospital: string;
  validFrom: number; validUntil: number; serial: number;
}
/** A transaction request for a wallet's `eth_sendTransaction` or `eth_call`. */
export interface TxRequest { to: string; data: string }
/** Fields of an EIP-1559 transaction to sign locally. */
export interface TxFields {
  chainId: number; nonce: number; gas: number;
  maxFeePerGas: string | number; maxPriorityFeePerGas: string | number;
  value?: string | number; to?: string; data?: string;
}
/** A locally signed transaction. */
export interface SignedTx { raw: string; hash: string; from: string }
/** What a server learns from a verified access request. */
export interface VerifiedRequest { doctor: string; serial: number; w: Uint8Array; nonce: Uint8Array; expiry: number }
"#;

// ---------------------------------------------------------------- accounts

/// A secp256k1 secret key held in wasm memory (an Ethereum account key or a
/// doctor's protocol key). Zeroised when freed.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Key(pub(crate) SecretKey);

#[wasm_bindgen]
impl Key {
    /// A fresh key from the platform's CSPRNG (`crypto.getRandomValues`).
    pub fn generate() -> JsResult<Key> {
        SecretKey::generate().map(Key).js()
    }

    /// Imports a 32-byte secret.
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] secret: JsValue,
    ) -> JsResult<Key> {
        let secret = zeroize::Zeroizing::new(arg_bytes("secret", &secret)?);
        SecretKey::from_bytes(&secret).map(Key).js()
    }

    /// Exports the 32-byte secret (the caller becomes responsible for it).
    #[wasm_bindgen(js_name = exportSecret)]
    pub fn export_secret(&self) -> Vec<u8> {
        self.0.to_bytes().to_vec()
    }

    /// The EIP-55 address.
    #[wasm_bindgen(getter)]
    pub fn address(&self) -> String {
        self.0.address().to_checksum()
    }

    /// The public key, 33 bytes compressed (default) or 65 uncompressed.
    #[wasm_bindgen(js_name = publicKey)]
    pub fn public_key(&self, uncompressed: Option<bool>) -> Vec<u8> {
        let pk = self.0.public_key();
        if uncompressed.unwrap_or(false) {
            pk.to_uncompressed().to_vec()
        } else {
            pk.to_compressed().to_vec()
        }
    }

    /// EIP-191 `personal_sign` of `message`: 65 bytes `r ‖ s ‖ v` (v = 27/28).
    #[wasm_bindgen(js_name = signMessage)]
    pub fn sign_message(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] message: JsValue,
    ) -> JsResult<Vec<u8>> {
        let message = &arg_bytes("message", &message)?;
        crate::signature::sign_personal_message(&self.0, message)
            .map(|s| s.to_bytes().to_vec())
            .js()
    }

    /// `eth_signTypedData_v4` of typed-data JSON: 65 bytes.
    #[wasm_bindgen(js_name = signTypedData)]
    pub fn sign_typed_data(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] typedDataJson: JsValue,
    ) -> JsResult<Vec<u8>> {
        let typed_data_json = &arg_str("typedDataJson", &typedDataJson)?;
        let data = TypedData::from_json(typed_data_json).js()?;
        data.sign(&self.0).map(|s| s.to_bytes().to_vec()).js()
    }
}

/// The address of a 33- or 65-byte public key.
#[wasm_bindgen(js_name = addressOf)]
pub fn address_of(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] publicKeyBytes: JsValue,
) -> JsResult<String> {
    let public_key_bytes = &arg_bytes("publicKeyBytes", &publicKeyBytes)?;
    Ok(public_key("public key", public_key_bytes)?
        .address()
        .to_checksum())
}

/// Parses an address (strict EIP-55 if mixed case) and returns its checksum form.
#[wasm_bindgen(js_name = checksumAddress)]
pub fn checksum_address(
    #[wasm_bindgen(unchecked_param_type = "string")] address: JsValue,
) -> JsResult<String> {
    let address = &arg_str("address", &address)?;
    Address::parse(address).map(|a| a.to_checksum()).js()
}

/// The 33-byte compressed form of a public key.
#[wasm_bindgen(js_name = compressPublicKey)]
pub fn compress_public_key(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] publicKeyBytes: JsValue,
) -> JsResult<Vec<u8>> {
    let public_key_bytes = &arg_bytes("publicKeyBytes", &publicKeyBytes)?;
    Ok(public_key("public key", public_key_bytes)?
        .to_compressed()
        .to_vec())
}

// ------------------------------------------------------------------ hashes

/// SHA-256.
#[wasm_bindgen]
pub fn sha256(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] data: JsValue,
) -> JsResult<Vec<u8>> {
    let data = &arg_bytes("data", &data)?;
    Ok(hash::sha256(data).to_vec())
}

/// SHA3-256.
#[wasm_bindgen(js_name = sha3_256)]
pub fn sha3_256(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] data: JsValue,
) -> JsResult<Vec<u8>> {
    let data = &arg_bytes("data", &data)?;
    Ok(hash::sha3_256(data).to_vec())
}

/// Keccak-256 (Ethereum's hash).
#[wasm_bindgen]
pub fn keccak256(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] data: JsValue,
) -> JsResult<Vec<u8>> {
    let data = &arg_bytes("data", &data)?;
    Ok(hash::keccak256(data).to_vec())
}

/// HMAC-SHA-256.
#[wasm_bindgen(js_name = hmacSha256)]
pub fn hmac_sha256(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] key: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] message: JsValue,
) -> JsResult<Vec<u8>> {
    let key = &arg_bytes("key", &key)?;
    let message = &arg_bytes("message", &message)?;
    Ok(hash::hmac_sha256(key, &[message]).to_vec())
}

/// `h1(P)`: a point (33 or 65 bytes) to a 32-byte scalar.
#[wasm_bindgen]
pub fn h1(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] point: JsValue,
) -> JsResult<Vec<u8>> {
    let point = &arg_bytes("point", &point)?;
    let p = public_key("point", point)?;
    Ok(hash::h1(&p.as_projective()).js()?.to_bytes().to_vec())
}

// -------------------------------------------------------------- signatures

/// The EIP-191 hash of a personal message.
#[wasm_bindgen(js_name = hashMessage)]
pub fn hash_message(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] message: JsValue,
) -> JsResult<Vec<u8>> {
    let message = &arg_bytes("message", &message)?;
    Ok(crate::signature::personal_message_hash(message).to_vec())
}

/// The address that `personal_sign`ed `message`.
#[wasm_bindgen(js_name = recoverMessage)]
pub fn recover_message(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] message: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] signature: JsValue,
) -> JsResult<String> {
    let message = &arg_bytes("message", &message)?;
    let signature = &arg_bytes("signature", &signature)?;
    let sig = Signature::from_bytes(signature).js()?;
    crate::signature::recover_personal_message(message, &sig)
        .map(|a| a.to_checksum())
        .js()
}

/// The EIP-712 signing hash of typed-data JSON.
#[wasm_bindgen(js_name = hashTypedData)]
pub fn hash_typed_data(
    #[wasm_bindgen(unchecked_param_type = "string")] typedDataJson: JsValue,
) -> JsResult<Vec<u8>> {
    let typed_data_json = &arg_str("typedDataJson", &typedDataJson)?;
    let data = TypedData::from_json(typed_data_json).js()?;
    data.signing_hash().map(|h| h.to_vec()).js()
}

/// The address that signed typed-data JSON.
#[wasm_bindgen(js_name = recoverTypedData)]
pub fn recover_typed_data(
    #[wasm_bindgen(unchecked_param_type = "string")] typedDataJson: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] signature: JsValue,
) -> JsResult<String> {
    let typed_data_json = &arg_str("typedDataJson", &typedDataJson)?;
    let signature = &arg_bytes("signature", &signature)?;
    let data = TypedData::from_json(typed_data_json).js()?;
    let sig = Signature::from_bytes(signature).js()?;
    data.recover(&sig).map(|a| a.to_checksum()).js()
}

// ------------------------------------------------------------------- ECIES

/// ECIES-encrypts to a public key (eciesjs format).
#[wasm_bindgen(js_name = eciesSeal)]
pub fn ecies_seal(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] recipient: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] plaintext: JsValue,
) -> JsResult<Vec<u8>> {
    let recipient = &arg_bytes("recipient", &recipient)?;
    let plaintext = &arg_bytes("plaintext", &plaintext)?;
    ecies::seal(&public_key("recipient public key", recipient)?, plaintext).js()
}

/// ECIES-decrypts with a key handle.
#[wasm_bindgen(js_name = eciesOpen)]
pub fn ecies_open(
    key: &Key,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] ciphertext: JsValue,
) -> JsResult<Vec<u8>> {
    let ciphertext = &arg_bytes("ciphertext", &ciphertext)?;
    ecies::open(&key.0, ciphertext).map(|p| p.to_vec()).js()
}

// ------------------------------------------------------------ certificates

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
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] protocolKey: JsValue,
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
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] protocolKey: JsValue,
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
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] signature: JsValue,
) -> JsResult<String> {
    let typed_data_json = &arg_str("typedDataJson", &typedDataJson)?;
    let signature = &arg_bytes("signature", &signature)?;
    let value = serde_json::json!({
        "typedData": serde_json::from_str::<serde_json::Value>(typed_data_json).map_err(|e| js_error(e.into()))?,
        "signature": crate::hex::encode_prefixed(signature),
    });
    Ok(Certificate::from_value(value).js()?.to_json())
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

// ------------------------------------------------------------------- masks

/// The patient's per-record secret `k_t`, held in wasm memory.
#[wasm_bindgen]
#[derive(Debug)]
pub struct MaskKey(CoreMaskKey);

fn context(hospital: &str, time: u64) -> JsResult<RecordContext> {
    RecordContext::new(hospital, time).js()
}

#[wasm_bindgen]
impl MaskKey {
    /// A fresh random `k_t`.
    pub fn generate() -> JsResult<MaskKey> {
        CoreMaskKey::generate().map(MaskKey).js()
    }

    /// Imports 32 bytes.
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] secret: JsValue,
    ) -> JsResult<MaskKey> {
        let secret = zeroize::Zeroizing::new(arg_bytes("secret", &secret)?);
        CoreMaskKey::from_bytes(&secret).map(MaskKey).js()
    }

    /// Exports the 32 secret bytes.
    #[wasm_bindgen(js_name = exportSecret)]
    pub fn export_secret(&self) -> Vec<u8> {
        self.0.to_bytes().to_vec()
    }

    /// `X` for the record `(hospital, time)`.
    pub fn index(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] hospital: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] time: JsValue,
    ) -> JsResult<Vec<u8>> {
        let hospital = &arg_str("hospital", &hospital)?;
        let time = arg_int("time", &time)?;
        Ok(self.0.index(&context(hospital, time)?).to_vec())
    }

    /// `{X, Z, K}` for the server, from `tx_id` and `K_P`.
    #[wasm_bindgen(unchecked_return_type = "MaskedRecord")]
    pub fn mask(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] hospital: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] time: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] txId: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] recordKey: JsValue,
    ) -> JsResult<JsValue> {
        let hospital = &arg_str("hospital", &hospital)?;
        let time = arg_int("time", &time)?;
        let tx_id = &arg_bytes("txId", &txId)?;
        let record_key = &zeroize::Zeroizing::new(arg_bytes("recordKey", &recordKey)?);
        let tx: [u8; 32] = crate::hex::fixed("tx_id", "32", tx_id).js()?;
        let m = self
            .0
            .mask(&context(hospital, time)?, &tx, record_key)
            .js()?;
        Ok(object(&[
            ("x", bytes(&m.x)),
            ("z", bytes(&m.z)),
            ("k", bytes(&m.k)),
        ]))
    }

    /// `tx_id` and `K_P` from the server's `Z` and `K`.
    #[wasm_bindgen(unchecked_return_type = "Unmasked")]
    pub fn unmask(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] hospital: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] time: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] z: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] k: JsValue,
    ) -> JsResult<JsValue> {
        let hospital = &arg_str("hospital", &hospital)?;
        let time = arg_int("time", &time)?;
        let z = &arg_bytes("z", &z)?;
        let k = &arg_bytes("k", &k)?;
        let z: [u8; 32] = crate::hex::fixed("Z", "32", z).js()?;
        let u = self.0.unmask(&context(hospital, time)?, &z, k).js()?;
        Ok(object(&[
            ("txId", bytes(&u.tx_id)),
            ("recordKey", bytes(&u.record_key)),
        ]))
    }

    /// Grants the record `(hospital, time)` to the doctor with protocol key
    /// `doctor_key`: returns `Trans = {r, st, c1}` for the registry.
    #[wasm_bindgen(unchecked_return_type = "AuthorisationParts")]
    pub fn authorise(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] doctorKey: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] hospital: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] time: JsValue,
    ) -> JsResult<JsValue> {
        let doctor_key = &arg_bytes("doctorKey", &doctorKey)?;
        let hospital = &arg_str("hospital", &hospital)?;
        let time = arg_int("time", &time)?;
        let pass = AccessPass {
            context: context(hospital, time)?,
            mask_key: self.0.clone(),
        };
        let a =
            Authorisation::create(&public_key("doctor protocol key", doctor_key)?, &pass).js()?;
        Ok(object(&[
            ("r", bytes(&a.r)),
            ("st", bytes(&a.st)),
            ("c1", bytes(&a.c1)),
        ]))
    }
}

/// The doctor's scanner of authorisations, holding his protocol secret `a`.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Scanner(pub(crate) CoreScanner);

#[wasm_bindgen]
impl Scanner {
    /// A scanner for the protocol key handle (the handle is copied; free it separately).
    #[wasm_bindgen(constructor)]
    pub fn new(protocolKey: &Key) -> JsResult<Scanner> {
        let copy = SecretKey::from_bytes(protocolKey.0.to_bytes().as_slice()).js()?;
        Ok(Scanner(CoreScanner::new(copy)))
    }

    /// Whether `(R, ST)` is addressed to this key. Malformed input is simply no match.
    pub fn matches(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] r: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] st: JsValue,
    ) -> JsResult<bool> {
        let r = &arg_bytes("r", &r)?;
        let st = &arg_bytes("st", &st)?;
        Ok(self.0.matches_parts(r, st))
    }

    /// Opens an authorisation addressed to this key.
    #[wasm_bindgen(unchecked_return_type = "OpenedPass")]
    pub fn open(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] r: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] st: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array")] c1: JsValue,
    ) -> JsResult<JsValue> {
        let r = &arg_bytes("r", &r)?;
        let st = &arg_bytes("st", &st)?;
        let c1 = &arg_bytes("c1", &c1)?;
        let auth = Authorisation::from_parts(r, st, c1).js()?;
        let pass = self.0.open(&auth).js()?;
        Ok(object(&[
            ("hospital", pass.context.hospital().into()),
            ("time", num(pass.context.time())),
            ("maskKey", MaskKey(pass.mask_key).into()),
        ]))
    }
}

// ---------------------------------------------------------------- requests

/// A fresh access request (random nonce) from the arguments as JS passes them.
fn access_request(
    hospital: &JsValue,
    w: &JsValue,
    now: &JsValue,
    ttl: &JsValue,
) -> JsResult<AccessRequest> {
    let hospital = arg_str("hospital", hospital)?;
    let w: [u8; 32] = crate::hex::fixed("W", "32", &arg_bytes("w", w)?).js()?;
    AccessRequest::new(&hospital, w, arg_int("now", now)?, arg_int("ttl", ttl)?).js()
}

/// The typed-data JSON of a fresh access request (random nonce), for the
/// doctor's wallet to sign with `eth_signTypedData_v4`.
#[wasm_bindgen(js_name = accessRequestTypedData)]
pub fn access_request_typed_data(
    #[wasm_bindgen(unchecked_param_type = "string")] hospital: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] w: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] now: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] ttl: JsValue,
) -> JsResult<String> {
    Ok(access_request(&hospital, &w, &now, &ttl)?
        .typed_data()
        .to_json())
}

/// Assembles the request JSON sent to the server from the typed data, the
/// wallet's signature and the doctor's certificate JSON.
#[wasm_bindgen(js_name = assembleAccessRequest)]
pub fn assemble_access_request(
    #[wasm_bindgen(unchecked_param_type = "string")] typedDataJson: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] signature: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] certificateJson: JsValue,
) -> JsResult<String> {
    let typed_data_json = &arg_str("typedDataJson", &typedDataJson)?;
    let signature = &arg_bytes("signature", &signature)?;
    let certificate_json = &arg_str("certificateJson", &certificateJson)?;
    let parse =
        |t: &str| serde_json::from_str::<serde_json::Value>(t).map_err(|e| js_error(e.into()));
    let value = serde_json::json!({
        "typedData": parse(typed_data_json)?,
        "signature": crate::hex::encode_prefixed(signature),
        "certificate": parse(certificate_json)?,
    });
    Ok(SignedRequest::from_value(value).js()?.to_json())
}

/// Builds and signs an access request with a key handle in one step.
#[wasm_bindgen(js_name = signAccessRequest)]
pub fn sign_access_request(
    doctor: &Key,
    #[wasm_bindgen(unchecked_param_type = "string")] certificateJson: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] hospital: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] w: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] now: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] ttl: JsValue,
) -> JsResult<String> {
    let cert = Certificate::from_json(&arg_str("certificateJson", &certificateJson)?).js()?;
    let req = access_request(&hospital, &w, &now, &ttl)?;
    Ok(req.sign(&doctor.0, cert).js()?.to_json())
}

/// The server's checks of an access request (everything but nonce freshness).
#[wasm_bindgen(js_name = verifyAccessRequest, unchecked_return_type = "VerifiedRequest")]
pub fn verify_access_request(
    #[wasm_bindgen(unchecked_param_type = "string")] requestJson: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] authority: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] hospital: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] now: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] maxTtl: JsValue,
    #[wasm_bindgen(unchecked_param_type = "boolean")] revoked: JsValue,
) -> JsResult<JsValue> {
    let request_json = &arg_str("requestJson", &requestJson)?;
    let authority = &arg_str("authority", &authority)?;
    let hospital = &arg_str("hospital", &hospital)?;
    let now = arg_int("now", &now)?;
    let max_ttl = arg_int("maxTtl", &maxTtl)?;
    let revoked = arg_bool("revoked", &revoked)?;
    let req = SignedRequest::from_json(request_json).js()?;
    let v = req
        .verify(
            &Address::parse(authority).js()?,
            hospital,
            now,
            max_ttl,
            revoked,
        )
        .js()?;
    Ok(object(&[
        ("doctor", v.doctor.to_checksum().into()),
        ("serial", num(v.serial)),
        ("w", bytes(&v.w)),
        ("nonce", bytes(&v.nonce)),
        ("expiry", num(v.expiry)),
    ]))
}

// ----------------------------------------------------------------- handoff

/// Seals `tx_id` and `K_P` of a new record to the patient's public key.
#[wasm_bindgen(js_name = sealHandoff)]
pub fn seal_handoff(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] patient: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] hospital: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] time: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] txId: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Uint8Array")] recordKey: JsValue,
) -> JsResult<Vec<u8>> {
    let patient = &arg_bytes("patient", &patient)?;
    let hospital = &arg_str("hospital", &hospital)?;
    let time = arg_int("time", &time)?;
    let tx_id = &arg_bytes("txId", &txId)?;
    let record_key = &zeroize::Zeroizing::new(arg_bytes("recordKey", &recordKey)?);
    let h = RecordHandoff {
        context: context(hospital, time)?,
        tx_id: crate::hex::fixed("tx_id", "32", tx_id).js()?,
        record_key: zeroize::Zeroizing::new(record_key.to_vec()),
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
        ("recordKey", bytes(&h.record_key)),
    ]))
}

/// The associated data that binds a record's ciphertext to `(hospital, time)`.
#[wasm_bindgen(js_name = recordAssociatedData)]
pub fn record_associated_data(
    #[wasm_bindgen(unchecked_param_type = "string")] hospital: JsValue,
    #[wasm_bindgen(unchecked_param_type = "number")] time: JsValue,
) -> JsResult<Vec<u8>> {
    let hospital = &arg_str("hospital", &hospital)?;
    let time = arg_int("time", &time)?;
    Ok(context(hospital, time)?.record_aad())
}

/// A fresh 16-byte record key `K_P`.
#[wasm_bindgen(js_name = generateRecordKey)]
pub fn generate_record_key() -> JsResult<Vec<u8>> {
    crate::record::generate_key().map(|k| k.to_vec()).js()
}
