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
use crate::chain::registry::CertificateStatus;
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

    /// The request whose canonical typed data `typed_data` is.
    fn from_typed_data(typed_data: &TypedData) -> Result<Self> {
        let request = Self::from_message(&typed_data.message)?;
        if request.typed_data() != *typed_data {
            return Err(Error::MalformedEncoding {
                what: "access request",
                reason: "typed data is not the canonical AccessRequest form",
            });
        }
        Ok(request)
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

/// A request that passed every offline check
/// ([`SignedRequest::verify_offline`]) and still needs the registry's
/// answer for its certificate's serial.
#[derive(Debug)]
#[must_use = "a request is verified only once the registry confirms its certificate"]
pub struct Unconfirmed<'a> {
    signed: &'a SignedRequest,
}

impl Unconfirmed<'_> {
    /// The certificate serial whose `certificateStatus` to read.
    pub fn serial(&self) -> u64 {
        self.signed.certificate.body.serial
    }

    /// Completes the verification with the registry's answer for
    /// [`Unconfirmed::serial`] ([`CertificateStatus::confirm`]).
    ///
    /// # Errors
    /// [`Error::CertificateUnknown`], [`Error::CertificateMismatch`],
    /// [`Error::CertificateRevoked`].
    pub fn confirm(self, status: &CertificateStatus) -> Result<VerifiedRequest> {
        let signed = self.signed;
        status.confirm(&signed.certificate.body)?;
        Ok(VerifiedRequest {
            doctor: signed.certificate.body.doctor,
            serial: signed.certificate.body.serial,
            w: signed.request.w,
            nonce: signed.request.nonce,
            expiry: signed.request.expiry,
        })
    }
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
    /// The server's checks: first every offline one
    /// ([`SignedRequest::verify_offline`]), then the registry's answer
    /// `status` for the certificate's serial ([`Unconfirmed::confirm`]).
    /// Nonce freshness is the verifier's own store's business.
    ///
    /// # Errors
    /// As [`SignedRequest::verify_offline`], then as [`Unconfirmed::confirm`].
    pub fn verify(
        &self,
        authority: &Address,
        hospital: &str,
        now: u64,
        max_ttl: u64,
        status: &CertificateStatus,
    ) -> Result<VerifiedRequest> {
        self.verify_offline(authority, hospital, now, max_ttl)?
            .confirm(status)
    }

    /// Every check that needs no chain, in this order: the certificate
    /// (issued by `authority`, valid at `now`), the signer (the certified
    /// doctor), the hospital (`hospital`), the expiry (after `now`, at most
    /// `max_ttl` seconds ahead). A request that fails any of them costs its
    /// verifier no chain read; one that passes still needs the registry's
    /// word on its certificate before it is a [`VerifiedRequest`].
    ///
    /// # Errors
    /// [`Error::CertificateWrongAuthority`], [`Error::CertificateNotYetValid`],
    /// [`Error::CertificateExpired`], [`Error::RequestWrongSigner`],
    /// [`Error::RequestWrongHospital`], [`Error::RequestExpired`],
    /// [`Error::RequestExpiryTooFar`].
    pub fn verify_offline(
        &self,
        authority: &Address,
        hospital: &str,
        now: u64,
        max_ttl: u64,
    ) -> Result<Unconfirmed<'_>> {
        self.certificate.verify(authority, now, false)?;
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
        Ok(Unconfirmed { signed: self })
    }

    /// Assembles the request a doctor's wallet signed: the typed data (as
    /// [`AccessRequest::typed_data`] made it), the wallet's signature and
    /// the doctor's certificate.
    ///
    /// # Errors
    /// [`Error::MalformedEncoding`] unless the typed data is the canonical
    /// form of a valid request.
    pub fn assemble(
        typed_data: &TypedData,
        signature: Signature,
        certificate: Certificate,
    ) -> Result<Self> {
        Ok(SignedRequest {
            request: AccessRequest::from_typed_data(typed_data)?,
            signature,
            certificate,
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
        let request = AccessRequest::from_typed_data(&envelope.typed_data)?;
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
    struct World {
        authority: SecretKey,
        doctor: SecretKey,
        cert: Certificate,
        request: AccessRequest,
    }

    fn world() -> World {
        let crate::cert::tests::World {
            authority,
            doctor,
            cert,
        } = crate::cert::tests::world();
        let request = AccessRequest::new("H1", [9u8; 32], 1500, 60).unwrap();
        World {
            authority,
            doctor,
            cert,
            request,
        }
    }

    /// The registry's answer for the certificate's serial.
    fn on_chain(doctor: Address, revoked: bool) -> CertificateStatus {
        CertificateStatus {
            doctor,
            valid_from: 1000,
            valid_until: 2000,
            revoked,
            revoked_at: 0,
        }
    }

    impl World {
        fn signed(&self) -> SignedRequest {
            self.request
                .clone()
                .sign(&self.doctor, self.cert.clone())
                .unwrap()
        }

        fn verify(
            &self,
            signed: &SignedRequest,
            hospital: &str,
            now: u64,
            max_ttl: u64,
            status: &CertificateStatus,
        ) -> Result<VerifiedRequest> {
            signed.verify(&self.authority.address(), hospital, now, max_ttl, status)
        }

        /// The same request, signed by someone other than the certified doctor.
        fn signed_by_stranger(&self) -> SignedRequest {
            let stranger = SecretKey::generate().unwrap();
            self.request
                .clone()
                .sign(&stranger, self.cert.clone())
                .unwrap()
        }

        fn registered(&self) -> CertificateStatus {
            on_chain(self.doctor.address(), false)
        }
    }

    #[test]
    fn a_signed_request_round_trips_through_json() {
        let w = world();
        let signed = w.signed();
        assert_eq!(SignedRequest::from_json(&signed.to_json()), Ok(signed));
    }

    #[test]
    fn a_good_request_yields_the_doctor_w_and_nonce() {
        let w = world();
        let signed = w.signed();
        let ok = w.verify(&signed, "H1", 1500, 600, &w.registered()).unwrap();
        assert_eq!(
            (ok.doctor, ok.serial, ok.w, ok.nonce),
            (w.doctor.address(), 7, [9u8; 32], signed.request.nonce)
        );
    }

    #[test]
    fn a_request_assembled_from_a_wallet_signature_is_the_signed_one() {
        let w = world();
        let typed = w.request.typed_data();
        let signature = typed.sign(&w.doctor).unwrap();
        let assembled = SignedRequest::assemble(&typed, signature, w.cert.clone());
        assert_eq!(assembled, Ok(w.signed()));
    }

    #[test]
    fn non_canonical_typed_data_is_not_assembled() {
        let w = world();
        let mut typed = w.request.typed_data();
        let signature = typed.sign(&w.doctor).unwrap();
        typed.domain["chainId"] = json!(1);
        assert_eq!(
            SignedRequest::assemble(&typed, signature, w.cert.clone()),
            Err(Error::MalformedEncoding {
                what: "access request",
                reason: "typed data is not the canonical AccessRequest form"
            })
        );
    }

    #[test]
    fn a_request_for_another_hospital_is_refused() {
        let w = world();
        assert_eq!(
            w.verify(&w.signed(), "H3", 1500, 600, &w.registered()),
            Err(Error::RequestWrongHospital)
        );
    }

    #[test]
    fn an_expired_request_is_refused() {
        let w = world();
        assert_eq!(
            w.verify(&w.signed(), "H1", 1560, 600, &w.registered()),
            Err(Error::RequestExpired)
        );
    }

    #[test]
    fn an_expiry_beyond_the_servers_ttl_is_refused() {
        let w = world();
        assert_eq!(
            w.verify(&w.signed(), "H1", 1500, 30, &w.registered()),
            Err(Error::RequestExpiryTooFar)
        );
    }

    #[test]
    fn a_wrong_signer_is_refused_before_the_registry_is_consulted() {
        let w = world();
        let by_other = w.signed_by_stranger();
        let offline = by_other
            .verify_offline(&w.authority.address(), "H1", 1500, 600)
            .map(|u| u.serial());
        assert_eq!(offline, Err(Error::RequestWrongSigner));
    }

    #[test]
    fn a_revoked_certificate_is_refused() {
        let w = world();
        let signed = w.signed();
        assert_eq!(
            w.verify(
                &signed,
                "H1",
                1500,
                600,
                &on_chain(w.doctor.address(), true)
            ),
            Err(Error::CertificateRevoked)
        );
    }

    #[test]
    fn a_certificate_the_registry_does_not_know_is_refused() {
        let w = world();
        assert_eq!(
            w.verify(
                &w.signed(),
                "H1",
                1500,
                600,
                &on_chain(Address([0; 20]), false)
            ),
            Err(Error::CertificateUnknown)
        );
    }

    #[test]
    fn a_certificate_registered_to_another_doctor_is_refused() {
        let w = world();
        let other = SecretKey::generate().unwrap().address();
        assert_eq!(
            w.verify(&w.signed(), "H1", 1500, 600, &on_chain(other, false)),
            Err(Error::CertificateMismatch)
        );
    }

    #[test]
    fn a_request_not_signed_by_the_certified_doctor_is_refused() {
        let w = world();
        let by_other = w.signed_by_stranger();
        assert_eq!(
            w.verify(&by_other, "H1", 1500, 600, &w.registered()),
            Err(Error::RequestWrongSigner)
        );
    }
}
