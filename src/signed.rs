//! A message a certified doctor signs for a hospital server, with its
//! signature and his certificate: an access request (`crate::request`, the
//! paper's Alg 5 steps 9–12) or an upload (`crate::upload`). One envelope
//! and one verification, so both are checked by the same rules in the same
//! order.
//!
//! JSON form: `{typedData, signature, certificate}`, where `typedData` is
//! exactly the `eth_signTypedData_v4` parameter (strict, canonical form).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::account::{Address, SecretKey};
use crate::cert::{Certificate, Issuers, Recover};
use crate::chain::registry::CertificateStatus;
use crate::eip712::TypedData;
use crate::error::{Error, Result};
use crate::signature::Signature;

/// A message type a doctor signs for a server (EIP-712, domain of §8).
pub trait Signable: Sized + Clone + PartialEq + core::fmt::Debug {
    /// Its name in errors (`"access request"`).
    const WHAT: &'static str;
    /// The refusal of typed data that is not the type's canonical form.
    const NOT_CANONICAL: &'static str;
    /// Whether the doctor's certificate must name the server's own hospital
    /// (an upload: he keeps records where he practises) or may name any (an
    /// access request: a doctor at H2 reads a record kept at H1).
    const CERTIFIED_HERE: bool;

    /// The EIP-712 typed data that is signed.
    fn typed_data(&self) -> TypedData;
    /// Parses the typed data's `message` (the canonical-form check is
    /// [`Signed::assemble`]'s and [`Signed::from_value`]'s).
    ///
    /// # Errors
    /// [`Error::MalformedEncoding`] and hex errors for a bad field.
    fn from_message(message: &Value) -> Result<Self>;
    /// The hospital whose server is asked.
    fn hospital(&self) -> &str;
    /// Unix time after which the message is void.
    fn expiry(&self) -> u64;
    /// 32 random bytes, used once.
    fn nonce(&self) -> [u8; 32];
}

/// A message with the doctor's signature and certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed<M> {
    /// The message.
    pub request: M,
    /// The doctor's EIP-712 signature over it.
    pub signature: Signature,
    /// The doctor's certificate.
    pub certificate: Certificate,
}

/// What a server learns from a message that passed [`Signed::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified<M> {
    /// The certified doctor.
    pub doctor: Address,
    /// His certificate's serial.
    pub serial: u64,
    /// The message.
    pub request: M,
}

/// A message that passed every offline check ([`Signed::verify_offline`])
/// and still needs the registry's answer for its certificate's serial.
#[derive(Debug)]
#[must_use = "a message is verified only once the registry confirms its certificate"]
pub struct Unconfirmed<'a, M> {
    signed: &'a Signed<M>,
}

impl<M: Signable> Unconfirmed<'_, M> {
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
    pub fn confirm(self, status: &CertificateStatus) -> Result<Verified<M>> {
        let signed = self.signed;
        status.confirm(&signed.certificate.body)?;
        Ok(Verified {
            doctor: signed.certificate.body.doctor,
            serial: signed.certificate.body.serial,
            request: signed.request.clone(),
        })
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Envelope {
    typed_data: TypedData,
    signature: String,
    certificate: Value,
}

impl<M: Signable> Signed<M> {
    /// Signs `request` at Unix time `now` (the `now` it was made at) with
    /// the doctor's account key and attaches his certificate, which MUST be
    /// valid at `now`: a request the verifier would refuse for its
    /// certificate's dates is refused here, before it is sent.
    ///
    /// # Errors
    /// [`Error::TimeInMilliseconds`], [`Error::CertificateNotYetValid`],
    /// [`Error::CertificateExpired`] ([`Certificate::check_valid_at`]);
    /// as [`TypedData::sign`].
    pub fn sign(
        request: M,
        doctor: &SecretKey,
        certificate: Certificate,
        now: u64,
    ) -> Result<Self> {
        certificate.within_validity(crate::time::unix_seconds("now", now)?)?;
        let signature = request.typed_data().sign(doctor)?;
        Ok(Signed {
            request,
            signature,
            certificate,
        })
    }

    /// The server's checks: first every offline one
    /// ([`Signed::verify_offline`]), then the registry's answer `status` for
    /// the certificate's serial ([`Unconfirmed::confirm`]). Nonce freshness
    /// is the verifier's own store's business.
    ///
    /// # Errors
    /// As [`Signed::verify_offline`], then as [`Unconfirmed::confirm`].
    pub fn verify(
        &self,
        authority: &Address,
        hospital: &str,
        now: u64,
        max_ttl: u64,
        status: &CertificateStatus,
    ) -> Result<Verified<M>> {
        self.verify_offline(authority, hospital, now, max_ttl)?
            .confirm(status)
    }

    /// Every check that needs no chain, in this order: the certificate
    /// (issued by `authority`, valid at `now`, and for an upload naming
    /// `hospital`), the signer (the certified doctor), the hospital asked
    /// (`hospital`), the expiry (after `now`, at most `max_ttl` seconds
    /// ahead). A message that fails any of them costs its verifier no chain
    /// read; one that passes still needs the registry's word on its
    /// certificate.
    ///
    /// # Errors
    /// [`Error::TimeInMilliseconds`] for a `now` in milliseconds, then
    /// [`Error::CertificateWrongAuthority`], [`Error::CertificateNotYetValid`],
    /// [`Error::CertificateExpired`], [`Error::CertificateWrongHospital`],
    /// [`Error::RequestWrongSigner`], [`Error::RequestWrongHospital`],
    /// [`Error::RequestExpired`], [`Error::RequestExpiryTooFar`].
    pub fn verify_offline(
        &self,
        authority: &Address,
        hospital: &str,
        now: u64,
        max_ttl: u64,
    ) -> Result<Unconfirmed<'_, M>> {
        self.verify_offline_using(&Recover, authority, hospital, now, max_ttl)
    }

    /// [`Signed::verify_offline`] with the certificate's issuer taken from
    /// `issuers` (a verifier's cache: one signature recovery less per
    /// message from a doctor it has seen).
    ///
    /// # Errors
    /// As [`Signed::verify_offline`].
    pub fn verify_offline_using(
        &self,
        issuers: &impl Issuers,
        authority: &Address,
        hospital: &str,
        now: u64,
        max_ttl: u64,
    ) -> Result<Unconfirmed<'_, M>> {
        let now = crate::time::unix_seconds("now", now)?;
        self.certificate
            .verify_issued(issuers.issuer(&self.certificate), authority, now, false)?;
        if M::CERTIFIED_HERE && self.certificate.body.hospital != hospital {
            return Err(Error::CertificateWrongHospital);
        }
        match self.request.typed_data().recover(&self.signature) {
            Ok(signer) if signer == self.certificate.body.doctor => {}
            _ => return Err(Error::RequestWrongSigner),
        }
        if self.request.hospital() != hospital {
            return Err(Error::RequestWrongHospital);
        }
        let expiry = self.request.expiry();
        if expiry <= now {
            return Err(Error::RequestExpired);
        }
        if expiry - now > max_ttl {
            return Err(Error::RequestExpiryTooFar);
        }
        Ok(Unconfirmed { signed: self })
    }

    /// The message whose canonical typed data `typed_data` is.
    fn from_typed_data(typed_data: &TypedData) -> Result<M> {
        let request = M::from_message(&typed_data.message)?;
        if request.typed_data() != *typed_data {
            return Err(Error::MalformedEncoding {
                what: M::WHAT,
                reason: M::NOT_CANONICAL,
            });
        }
        Ok(request)
    }

    /// Assembles what a doctor's wallet signed: the typed data (as
    /// [`Signable::typed_data`] made it), the wallet's signature and the
    /// doctor's certificate.
    ///
    /// # Errors
    /// [`Error::MalformedEncoding`] unless the typed data is the canonical
    /// form of a valid message.
    pub fn assemble(
        typed_data: &TypedData,
        signature: Signature,
        certificate: Certificate,
    ) -> Result<Self> {
        Ok(Signed {
            request: Self::from_typed_data(typed_data)?,
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

    /// JSON text of [`Signed::to_value`].
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }

    /// Parses the JSON value (canonical form only).
    ///
    /// # Errors
    /// [`Error::MalformedJson`], [`Error::MalformedEncoding`], or the
    /// certificate's parse errors.
    pub fn from_value(value: Value) -> Result<Self> {
        let envelope: Envelope = serde_json::from_value(value).map_err(Error::json_in(M::WHAT))?;
        Ok(Signed {
            request: Self::from_typed_data(&envelope.typed_data)?,
            signature: Signature::from_hex(&envelope.signature)?,
            certificate: Certificate::from_value(envelope.certificate)?,
        })
    }

    /// Parses the JSON text.
    ///
    /// # Errors
    /// As [`Signed::from_value`].
    pub fn from_json(text: &str) -> Result<Self> {
        Self::from_value(serde_json::from_str(text).map_err(Error::json_in(M::WHAT))?)
    }
}
