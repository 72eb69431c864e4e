//! The patient's mask key `k_t` (Alg 4): index `X`, masks `Z`, `K`, and authorising (Alg 5).

use wasm_bindgen::prelude::*;

use super::account::Key;
use super::conversion::*;
use crate::anchor::{AnchorOpening, RecordType};
use crate::grant::{AccessPass, Authorisation, GrantTerms};
use crate::mask::MaskKey as CoreMaskKey;
use crate::signature::Signature;

/// The patient's per-record secret `k_t`, held in wasm memory.
#[wasm_bindgen]
#[derive(Debug)]
pub struct MaskKey(pub(crate) CoreMaskKey);

#[wasm_bindgen]
impl MaskKey {
    /// A fresh random `k_t`.
    pub fn generate() -> JsResult<MaskKey> {
        CoreMaskKey::generate().map(MaskKey).js()
    }

    /// Imports 32 bytes.
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] secret: JsValue,
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
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] txId: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] recordKey: JsValue,
    ) -> JsResult<JsValue> {
        let hospital = &arg_str("hospital", &hospital)?;
        let time = arg_int("time", &time)?;
        let tx_id = &arg_bytes("txId", &txId)?;
        let record_key = &arg_record_key("recordKey", &recordKey)?;
        let tx: [u8; 32] = crate::hex::fixed("tx_id", "32", tx_id).js()?;
        let m = self.0.mask(&context(hospital, time)?, &tx, record_key);
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
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] z: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] k: JsValue,
    ) -> JsResult<JsValue> {
        let hospital = &arg_str("hospital", &hospital)?;
        let time = arg_int("time", &time)?;
        let z = &arg_bytes("z", &z)?;
        let k = &arg_bytes("k", &k)?;
        let z: [u8; 32] = crate::hex::fixed("Z", "32", z).js()?;
        let u = self.0.unmask(&context(hospital, time)?, &z, k).js()?;
        Ok(object(&[
            ("txId", bytes(&u.tx_id)),
            ("recordKey", bytes(u.record_key.as_bytes())),
        ]))
    }

    /// The EIP-712 typed data (JSON text for `eth_signTypedData_v4`) the
    /// patient signs to grant `record` (a `Handoff`, or any
    /// `{hospital, time, eh}`) to the doctor with protocol key `doctorKey`;
    /// pass the signature to `authoriseSigned`.
    #[wasm_bindgen(js_name = grantTypedData)]
    pub fn grant_typed_data(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] doctorKey: JsValue,
        #[wasm_bindgen(unchecked_param_type = "GrantRecord")] record: JsValue,
    ) -> JsResult<String> {
        Ok(self
            .terms(&doctorKey, &record, false)?
            .typed_data()
            .to_json())
    }

    /// Grants `record` (a `Handoff`, or any `{hospital, time, eh,
    /// anchorSalt, recordType}`) to the doctor with protocol key
    /// `doctorKey`, signing the pass with the patient's account key handle:
    /// returns `Trans = {viewTag, r, st, c1}` for `authoriseTx`.
    #[wasm_bindgen(unchecked_return_type = "AuthorisationParts")]
    pub fn authorise(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] doctorKey: JsValue,
        #[wasm_bindgen(unchecked_param_type = "GrantRecord")] record: JsValue,
        patient: &Key,
    ) -> JsResult<JsValue> {
        let pass = self
            .terms(&doctorKey, &record, true)?
            .sign(&patient.0)
            .js()?;
        parts(&pass)
    }

    /// As `authorise`, with the patient's wallet signature over
    /// `grantTypedData(doctorKey, record)`; throws `WrongSigner` unless it
    /// is `patient`'s (her address).
    #[wasm_bindgen(js_name = authoriseSigned, unchecked_return_type = "AuthorisationParts")]
    pub fn authorise_signed(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] doctorKey: JsValue,
        #[wasm_bindgen(unchecked_param_type = "GrantRecord")] record: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] signature: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] patient: JsValue,
    ) -> JsResult<JsValue> {
        let signature = Signature::from_bytes(&arg_bytes("signature", &signature)?).js()?;
        let patient = arg_address("patient", &patient)?;
        let pass = self
            .terms(&doctorKey, &record, true)?
            .with_signature(signature, &patient)
            .js()?;
        parts(&pass)
    }
}

impl MaskKey {
    /// The grant terms of `record` for `doctor_key`. The opening is
    /// required for a pass, not for the typed data (which does not cover it).
    fn terms(&self, doctor_key: &JsValue, record: &JsValue, pass: bool) -> JsResult<GrantTerms> {
        let doctor_key = &arg_bytes("doctorKey", doctor_key)?;
        let f = |name| field("record", record, name);
        let opening = if !pass && f("anchorSalt")?.is_undefined() {
            AnchorOpening::generate(RecordType::new("").js()?).js()?
        } else {
            arg_opening("record", record)?
        };
        Ok(GrantTerms {
            doctor: public_key("doctor protocol key", doctor_key)?,
            context: context(
                &arg_str("hospital", &f("hospital")?)?,
                arg_int("time", &f("time")?)?,
            )?,
            mask_key: self.0.clone(),
            eh: hash32("eh", &f("eh")?)?,
            opening,
        })
    }
}

/// `Trans = {viewTag, r, st, c1}` of a signed pass.
fn parts(pass: &AccessPass) -> JsResult<JsValue> {
    let a = Authorisation::create(pass).js()?;
    Ok(object(&[
        ("viewTag", a.view_tag.into()),
        ("r", bytes(&a.r)),
        ("st", bytes(&a.st)),
        ("c1", bytes(&a.c1)),
    ]))
}
