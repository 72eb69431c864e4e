//! The doctor's side of an authorisation (Alg 5): testing stealth tags and opening passes.

use wasm_bindgen::prelude::*;

use super::account::Key;
use super::conversion::*;
use super::mask::MaskKey;
use crate::account::SecretKey;
use crate::grant::Authorisation;
use crate::grant::Scanner as CoreScanner;

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
