//! Access requests (the paper's Alg 5 steps 9–12, with flaw 3 closed).
//!
//! The doctor signs, with his Ethereum account (EIP-712, so MetaMask can sign),
//!
//! ```text
//! AccessRequest { hospital: string, w: bytes32, expiry: uint64, nonce: bytes32 }
//! ```
//!
//! where `w = X` recomputed from the pass, `hospital` is the server's name,
//! `expiry` a Unix time and `nonce` 32 random bytes. He sends it with his
//! certificate. The server verifies everything here except nonce freshness,
//! which needs its own store: it must remember each `(doctor, nonce)` until
//! `expiry` and refuse a second use.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::account::{Address, SecretKey};
use crate::cert::{field_str, field_u64, typed_data, Certificate};
use crate::eip712::{Member, TypedData};
use crate::error::{Error, Result};
use crate::signature::Signature;

/// Default bound on `expiry - now` a server accepts: 10 minutes.
pub const DEFAULT_MAX_TTL: u64 = 600;

/// The unsigned request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRequest {
    /// Name of the hospital whose server is asked (must equal the server's own).
    pub hospital: String,
    /// `W = X`, the record's index.
    pub w: [u8; 32],
    /// Unix time after which the request is void.
    pub expiry: u64,
    /// 32 random bytes, used once.
    pub nonce: [u8; 32],
}

impl AccessRequest {
    /// A request for `w` at `hospital`, valid `ttl` seconds from `now`, with a fresh nonce.
    ///
    /// # Errors
    /// [`Error::Rng`] if no randomness is available; [`Error::OutOfRange`] if
    /// `now + ttl` overflows the safe-integer range.
    pub fn new(hospital: &str, w: [u8; 32], now: u64, ttl: u64) -> Result<Self> {
        let expiry = now
            .checked_add(ttl)
            .filter(|e| *e <= crate::cert::MAX_SAFE_INTEGER)
            .ok_or(Error::OutOfRange { what: "expiry" })?;
        Ok(AccessRequest {
            hospital: hospital.to_owned(),
            w,
            expiry,
            nonce: *crate::random::bytes::<32>()?,
        })
    }

    /// The EIP-712 typed data the doctor signs.
    pub fn typed_data(&self) -> TypedData {
        typed_data(
            "AccessRequest",
            vec![
                Member::new("hospital", "string"),
                Member::new("w", "bytes32"),
                Member::new("expiry", "uint64"),
                Member::new("nonce", "bytes32"),
            ],
            json!({
                "hospital": self.hospital,
                "w": crate::hex::encode_prefixed(&self.w),
                "expiry": self.expiry,
                "nonce": crate::hex::encode_prefixed(&self.nonce),
            }),
        )
    }

    /// Signs the request with the doctor's account key and attaches his certificate.
    ///
    /// # Errors
    /// As [`TypedData::sign`].
    pub fn sign(self, doctor: &SecretKey, certificate: Certificate) -> Result<SignedRequest> {
        let signature = self.typed_data().sign(doctor)?;
        Ok(SignedRequest {
            request: self,
            signature,
            certificate,
        })
    }

    fn from_message(message: &Value) -> Result<Self> {
        let bad = |reason| Error::MalformedEncoding {
            what: "access request",
            reason,
        };
        let w = field_str(message, "w").ok_or(bad("w missing"))?;
        let nonce = field_str(message, "nonce").ok_or(bad("nonce missing"))?;
        Ok(AccessRequest {
            hospital: field_str(message, "hospital")
                .ok_or(bad("hospital missing"))?
                .to_owned(),
            w: crate::hex::decode_array("w", "32", w)?,
            expiry: field_u64(message, "expiry").ok_or(bad("expiry must be an integer"))?,
            nonce: crate::hex::decode_array("nonce", "32", nonce)?,
        })
    }
}

/// What the server learns from a request that passed [`SignedRequest::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRequest {
    /// The certified doctor.
    pub doctor: Address,
    /// His certificate's serial.
    pub serial: u64,
    /// The requested index `W`.
    pub w: [u8; 32],
    /// The nonce to record until `expiry`.
    pub nonce: [u8; 32],
    /// When the request (and its nonce record) expires.
    pub expiry: u64,
}

/// A request with its signature and the doctor's certificate, as sent to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The request.
    pub request: AccessRequest,
    /// The doctor's EIP-712 signature over it.
    pub signature: Signature,
    /// The doctor's certificate.
    pub certificate: Certificate,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Envelope {
    typed_data: TypedData,
    signature: String,
    certificate: Value,
}

impl SignedRequest {
    /// The server's checks, in this order: the certificate (issued by
    /// `authority`, valid at `now`, not `revoked`), the signer (the certified
    /// doctor), the hospital (`hospital`), the expiry (after `now`, at most
    /// `max_ttl` seconds ahead).
    ///
    /// # Errors
    /// The certificate's errors, then [`Error::RequestWrongSigner`],
    /// [`Error::RequestWrongHospital`], [`Error::RequestExpired`],
    /// [`Error::RequestExpiryTooFar`].
    pub fn verify(
        &self,
        authority: &Address,
        hospital: &str,
        now: u64,
        max_ttl: u64,
        revoked: bool,
    ) -> Result<VerifiedRequest> {
        self.certificate.verify(authority, now, revoked)?;
        match self.request.typed_data().recover(&self.signature) {
            Ok(signer) if signer == self.certificate.body.doctor => {}
            _ => return Err(Error::RequestWrongSigner),
        }
        if self.request.hospital != hospital {
            return Err(Error::RequestWrongHospital);
        }
        if self.request.expiry <= now {
            return Err(Error::RequestExpired);
        }
        if self.request.expiry - now > max_ttl {
            return Err(Error::RequestExpiryTooFar);
        }
        Ok(VerifiedRequest {
            doctor: self.certificate.body.doctor,
            serial: self.certificate.body.serial,
            w: self.request.w,
            nonce: self.request.nonce,
            expiry: self.request.expiry,
        })
    }

    /// JSON value `{typedData, signature, certificate}`.
    pub fn to_value(&self) -> Value {
        json!({
            "typedData": self.request.typed_data(),
            "signature": crate::hex::encode_prefixed(&self.signature.to_bytes()),
            "certificate": self.certificate.to_value(),
        })
    }

    /// JSON text of [`SignedRequest::to_value`].
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }

    /// Parses the JSON value (canonical form only).
    ///
    /// # Errors
    /// [`Error::MalformedJson`], [`Error::MalformedEncoding`], or the
    /// certificate's parse errors.
    pub fn from_value(value: Value) -> Result<Self> {
        let envelope: Envelope = serde_json::from_value(value)?;
        let request = AccessRequest::from_message(&envelope.typed_data.message)?;
        if request.typed_data() != envelope.typed_data {
            return Err(Error::MalformedEncoding {
                what: "access request",
                reason: "typed data is not the canonical AccessRequest form",
            });
        }
        Ok(SignedRequest {
            request,
            signature: Signature::from_hex(&envelope.signature)?,
            certificate: Certificate::from_value(envelope.certificate)?,
        })
    }

    /// Parses the JSON text.
    ///
    /// # Errors
    /// As [`SignedRequest::from_value`].
    pub fn from_json(text: &str) -> Result<Self> {
        Self::from_value(serde_json::from_str(text)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cert::CertificateBody;

    #[test]
    fn server_checks_in_order() {
        let m = SecretKey::generate().unwrap();
        let d = SecretKey::generate().unwrap();
        let cert = CertificateBody {
            doctor: d.address(),
            protocol_key: SecretKey::generate().unwrap().public_key(),
            hospital: "H2".into(),
            valid_from: 1000,
            valid_until: 5000,
            serial: 1,
        }
        .sign(&m)
        .unwrap();
        let req = AccessRequest::new("H1", [9u8; 32], 1500, 60).unwrap();
        let signed = req.clone().sign(&d, cert.clone()).unwrap();
        let back = SignedRequest::from_json(&signed.to_json()).unwrap();
        assert_eq!(back, signed);
        let ok = back.verify(&m.address(), "H1", 1500, 600, false).unwrap();
        assert_eq!(ok.w, [9u8; 32]);
        assert_eq!(ok.doctor, d.address());
        assert_eq!(
            back.verify(&m.address(), "H3", 1500, 600, false),
            Err(Error::RequestWrongHospital)
        );
        assert_eq!(
            back.verify(&m.address(), "H1", 1560, 600, false),
            Err(Error::RequestExpired)
        );
        assert_eq!(
            back.verify(&m.address(), "H1", 1500, 30, false),
            Err(Error::RequestExpiryTooFar)
        );
        assert_eq!(
            back.verify(&m.address(), "H1", 1500, 600, true),
            Err(Error::CertificateRevoked)
        );
        let other = SecretKey::generate().unwrap();
        let by_other = req.sign(&other, cert).unwrap();
        assert_eq!(
            by_other.verify(&m.address(), "H1", 1500, 600, false),
            Err(Error::RequestWrongSigner)
        );
    }
}
