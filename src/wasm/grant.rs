//! The doctor's side of an authorisation (Alg 5): testing stealth tags,
//! opening passes and confirming them against the record's anchor.

use wasm_bindgen::prelude::*;

use super::account::Key;
use super::conversion::*;
use super::mask::MaskKey;
use crate::account::SecretKey;
use crate::grant::Scanner as CoreScanner;
use crate::grant::{grant_typed_data, Authorisation};

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

    /// Whether `(viewTag, R, ST)` is addressed to this key: the view tag
    /// first, then `ST`. Malformed `R` or `ST` is simply no match; a
    /// `viewTag` that is not a number 0–255 throws.
    pub fn matches(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] viewTag: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] r: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] st: JsValue,
    ) -> JsResult<bool> {
        let view_tag = arg_byte("viewTag", &viewTag)?;
        let (r, st) = (&arg_bytes("r", &r)?, &arg_bytes("st", &st)?);
        Ok(self.0.matches_parts(view_tag, r, st))
    }

    /// Opens an authorisation addressed to this key and recovers its
    /// signer. The grant is genuine only once `confirmGrant` accepts it.
    #[wasm_bindgen(unchecked_return_type = "OpenedGrant")]
    pub fn open(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] viewTag: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] r: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] st: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] c1: JsValue,
    ) -> JsResult<JsValue> {
        let view_tag = arg_byte("viewTag", &viewTag)?;
        let (r, st) = (&arg_bytes("r", &r)?, &arg_bytes("st", &st)?);
        let auth = Authorisation::from_parts(view_tag, r, st, &arg_bytes("c1", &c1)?).js()?;
        let opened = self.0.open(&auth).js()?;
        let signature = opened.pass.signature.to_bytes();
        let t = opened.pass.terms;
        Ok(object(&[
            ("protocolKey", bytes(&t.doctor.to_compressed())),
            ("x", bytes(&t.mask_key.index(&t.context))),
            ("signature", bytes(&signature)),
            ("hospital", t.context.hospital().into()),
            ("time", num(t.context.time())),
            ("eh", bytes(&t.eh)),
            ("patient", opened.patient.to_checksum().into()),
            ("anchorSalt", bytes(&t.opening.salt)),
            ("recordType", t.opening.record_type.as_str().into()),
            ("maskKey", MaskKey(t.mask_key).into()),
        ]))
    }
}

/// The doctor's check of an opened grant against its record's anchor:
/// anchored by a doctor certified at the time, not tombstoned, and
/// committing to the grant's signer, type and time. The signer is recovered
/// again here from the grant's signed fields (`protocolKey`, `eh`,
/// `hospital`, `time`, `x`, `signature`), so an object edited or rebuilt
/// after `Scanner.open` cannot name another patient: any change is
/// `GrantForged`. Check that `protocolKey` is your own. `recordStatus` and
/// `certificateStatus` are the `eth_call` answers as for `confirmAnchor`.
/// Throws `GrantForged` for a grant the record's patient did not sign for
/// this doctor (and `RecordNotAnchored`, `RecordDeleted`,
/// `AnchorNotCertified`); returns the anchor.
#[wasm_bindgen(js_name = confirmGrant, unchecked_return_type = "CertifiedAnchor")]
pub fn confirm_grant(
    #[wasm_bindgen(unchecked_param_type = "OpenedGrant")] grant: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] recordStatus: JsValue,
    #[wasm_bindgen(unchecked_param_type = "string")] certificateStatus: JsValue,
) -> JsResult<JsValue> {
    let f = |name| field("grant", &grant, name);
    let eh = f("eh")?;
    let anchor = super::anchor::certified(&eh, &recordStatus, &certificateStatus)?;
    let opening = arg_opening("grant", &grant)?;
    let time = arg_int("time", &f("time")?)?;
    let eh = hash32("eh", &eh)?;
    let context = context(&arg_str("hospital", &f("hospital")?)?, time)?;
    let doctor = public_key(
        "protocolKey",
        &arg_bytes("protocolKey", &f("protocolKey")?)?,
    )?;
    let x = hash32("x", &f("x")?)?;
    let signature =
        crate::signature::Signature::from_bytes(&arg_bytes("signature", &f("signature")?)?)
            .map_err(|_| js_error(crate::Error::GrantForged))?;
    let signer = grant_typed_data(&doctor, &eh, &context, &x)
        .recover(&signature)
        .map_err(|_| js_error(crate::Error::GrantForged))?;
    let named = f("patient")?;
    let named_other = !named.is_undefined() && arg_address("patient", &named)? != signer;
    if named_other || !anchor.binds(&eh, time, &opening, &signer) {
        return Err(js_error(crate::Error::GrantForged));
    }
    Ok(super::anchor::anchor_js(&anchor))
}
