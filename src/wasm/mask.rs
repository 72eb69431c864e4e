//! The patient's mask key `k_t` (Alg 4): index `X`, masks `Z`, `K`, and authorising (Alg 5).

use wasm_bindgen::prelude::*;

use super::conversion::*;
use crate::grant::AccessPass;
use crate::grant::Authorisation;
use crate::mask::MaskKey as CoreMaskKey;

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
            ("recordKey", bytes(u.record_key.as_bytes())),
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
