//! Doctor certificates (the paper's Alg 3), as EIP-712 typed data signed by the
//! health authority's Ethereum account.
//!
//! A certificate binds a doctor's Ethereum address (identity, signs requests)
//! to his protocol key `A` (receives authorisations), a hospital, a validity
//! period and a serial number that the registry contract can revoke. Its JSON
//! form carries the exact `eth_signTypedData_v4` parameter and the signature,
//! so MetaMask can issue it and any EIP-712 verifier (ethers.js
//! `verifyTypedData`, Solidity `ecrecover`) can check it:
//!
//! ```json
//! {"typedData": {"types": {"EIP712Domain": [...], "DoctorCertificate": [...]},
//!                "primaryType": "DoctorCertificate",
//!                "domain": {"name": "ehrchain", "version": "1"},
//!                "message": {"doctor": "0x…", "protocolKey": "0x02…", "hospital": "…",
//!                            "validFrom": 1700000000, "validUntil": 1800000000, "serial": 7}},
//!  "signature": "0x…65 bytes…"}
//! ```
//!
//! Parsing is strict: anything but this canonical shape is refused, so a
//! certificate has exactly one JSON meaning.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::account::{Address, PublicKey, SecretKey};
use crate::chain::registry::CertificateStatus;
use crate::eip712::{Member, TypedData};
use crate::error::{Error, Result};
use crate::signature::Signature;
use crate::time::{unix_seconds, Validity};

/// EIP-712 domain name shared by certificates and access requests.
pub const DOMAIN_NAME: &str = "ehrchain";
/// EIP-712 domain version.
pub const DOMAIN_VERSION: &str = "1";
/// Largest integer field value: JavaScript's `Number.MAX_SAFE_INTEGER`, so the
/// JSON numbers survive every JSON parser exactly.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// The protocol's EIP-712 domain `{name: "ehrchain", version: "1"}`.
pub(crate) fn domain() -> (Vec<Member>, Value) {
    (
        vec![
            Member::new("name", "string"),
            Member::new("version", "string"),
        ],
        json!({ "name": DOMAIN_NAME, "version": DOMAIN_VERSION }),
    )
}

/// Builds canonical typed data of `primary` with `members` and `message`.
pub(crate) fn typed_data(primary: &str, members: Vec<Member>, message: Value) -> TypedData {
    let (domain_members, domain) = domain();
    let mut types = std::collections::BTreeMap::new();
    types.insert("EIP712Domain".to_owned(), domain_members);
    types.insert(primary.to_owned(), members);
    TypedData {
        types,
        primary_type: primary.to_owned(),
        domain,
        message,
    }
}

/// The signed JSON envelope shared by certificates and requests.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Envelope {
    typed_data: TypedData,
    signature: String,
}

/// Reads a `u64` JSON number no larger than [`MAX_SAFE_INTEGER`].
pub(crate) fn field_u64(message: &Value, name: &'static str) -> Option<u64> {
    message
        .get(name)
        .and_then(Value::as_u64)
        .filter(|v| *v <= MAX_SAFE_INTEGER)
}

/// Reads a string field.
pub(crate) fn field_str<'a>(message: &'a Value, name: &'static str) -> Option<&'a str> {
    message.get(name).and_then(Value::as_str)
}

/// The certified facts, before or after signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateBody {
    /// The doctor's Ethereum address (signs access requests).
    pub doctor: Address,
    /// The doctor's protocol key `A` (receives authorisations).
    pub protocol_key: PublicKey,
    /// The hospital the doctor practises at (1 to 255 bytes of UTF-8).
    pub hospital: String,
    /// Start of validity, Unix seconds (inclusive).
    pub valid_from: u64,
    /// End of validity, Unix seconds (exclusive).
    pub valid_until: u64,
    /// Serial number, unique per authority; the registry revokes by serial.
    pub serial: u64,
}

impl CertificateBody {
    /// Checks the ranges: a non-empty validity period in Unix seconds (the
    /// [`Validity`] check `registerDoctor`'s calldata shares), a serial ≤
    /// [`MAX_SAFE_INTEGER`], hospital 1–255 bytes.
    ///
    /// # Errors
    /// [`Error::TimeInMilliseconds`], [`Error::InvalidValidity`] or
    /// [`Error::OutOfRange`].
    pub fn check(&self) -> Result<()> {
        Validity::new(self.valid_from, self.valid_until)?;
        if self.serial > MAX_SAFE_INTEGER {
            return Err(Error::OutOfRange {
                what: "certificate integer (max 2^53-1)",
            });
        }
        if self.hospital.is_empty() || self.hospital.len() > 255 {
            return Err(Error::OutOfRange {
                what: "hospital name length (1..=255 bytes)",
            });
        }
        Ok(())
    }

    /// The EIP-712 typed data the authority signs (`eth_signTypedData_v4`'s parameter).
    pub fn typed_data(&self) -> TypedData {
        typed_data(
            "DoctorCertificate",
            vec![
                Member::new("doctor", "address"),
                Member::new("protocolKey", "bytes"),
                Member::new("hospital", "string"),
                Member::new("validFrom", "uint64"),
                Member::new("validUntil", "uint64"),
                Member::new("serial", "uint64"),
            ],
            json!({
                "doctor": self.doctor.to_checksum(),
                "protocolKey": crate::hex::encode_prefixed(&self.protocol_key.to_compressed()),
                "hospital": self.hospital,
                "validFrom": self.valid_from,
                "validUntil": self.valid_until,
                "serial": self.serial,
            }),
        )
    }

    /// Signs the body with the authority's key.
    ///
    /// # Errors
    /// As [`CertificateBody::check`].
    pub fn sign(self, authority: &SecretKey) -> Result<Certificate> {
        self.check()?;
        let signature = self.typed_data().sign(authority)?;
        Ok(Certificate {
            body: self,
            signature,
        })
    }

    /// The body whose canonical typed data `typed_data` is.
    fn from_typed_data(typed_data: &TypedData) -> Result<Self> {
        let body = Self::from_message(&typed_data.message)?;
        if body.typed_data() != *typed_data {
            return Err(Error::CertificateMalformed {
                reason: "typed data is not the canonical DoctorCertificate form",
            });
        }
        Ok(body)
    }

    fn from_message(message: &Value) -> Result<Self> {
        let bad = |reason| Error::CertificateMalformed { reason };
        let doctor = Address::parse(field_str(message, "doctor").ok_or(bad("doctor missing"))?)?;
        let key = field_str(message, "protocolKey").ok_or(bad("protocolKey missing"))?;
        let protocol_key = PublicKey::from_hex("protocolKey", key)?;
        let body = CertificateBody {
            doctor,
            protocol_key,
            hospital: field_str(message, "hospital")
                .ok_or(bad("hospital missing"))?
                .to_owned(),
            valid_from: field_u64(message, "validFrom")
                .ok_or(bad("validFrom must be an integer"))?,
            valid_until: field_u64(message, "validUntil")
                .ok_or(bad("validUntil must be an integer"))?,
            serial: field_u64(message, "serial").ok_or(bad("serial must be an integer"))?,
        };
        body.check()?;
        Ok(body)
    }
}

/// A signed doctor certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The certified facts.
    pub body: CertificateBody,
    /// The authority's EIP-712 signature over [`CertificateBody::typed_data`].
    pub signature: Signature,
}

impl Certificate {
    /// Assembles a certificate from a body and a signature made elsewhere
    /// (e.g. by MetaMask's `eth_signTypedData_v4`).
    ///
    /// # Errors
    /// As [`CertificateBody::check`].
    pub fn from_parts(body: CertificateBody, signature: Signature) -> Result<Self> {
        body.check()?;
        Ok(Certificate { body, signature })
    }

    /// The address that signed the certificate.
    ///
    /// # Errors
    /// [`Error::InvalidSignature`] if no key recovers.
    pub fn issuer(&self) -> Result<Address> {
        self.body.typed_data().recover(&self.signature)
    }

    /// Verifies the certificate at Unix time `at`: issued by `authority`,
    /// `valid_from ≤ at < valid_until`, and not `revoked` (read from the registry).
    ///
    /// # Errors
    /// [`Error::TimeInMilliseconds`] for an `at` in milliseconds, then
    /// [`Error::CertificateWrongAuthority`], [`Error::CertificateNotYetValid`],
    /// [`Error::CertificateExpired`] or [`Error::CertificateRevoked`], checked in that order.
    pub fn verify(&self, authority: &Address, at: u64, revoked: bool) -> Result<()> {
        self.verify_issued(self.issuer(), authority, at, revoked)
    }

    /// [`Certificate::verify`] with the issuer already recovered (by
    /// [`Certificate::issuer`] or a cache of it: [`Issuers`]).
    pub(crate) fn verify_issued(
        &self,
        issuer: Result<Address>,
        authority: &Address,
        at: u64,
        revoked: bool,
    ) -> Result<()> {
        let at = unix_seconds("at", at)?;
        match issuer {
            Ok(issuer) if issuer == *authority => {}
            _ => return Err(Error::CertificateWrongAuthority),
        }
        self.within_validity(at)?;
        if revoked {
            return Err(Error::CertificateRevoked);
        }
        Ok(())
    }

    /// Whether Unix time `at` lies in the certificate's validity period
    /// (`valid_from ≤ at < valid_until`): the verifier's check, and the
    /// signer's before he signs a request with it.
    ///
    /// # Errors
    /// [`Error::TimeInMilliseconds`], [`Error::CertificateNotYetValid`] or
    /// [`Error::CertificateExpired`].
    pub fn check_valid_at(&self, at: u64) -> Result<()> {
        self.within_validity(unix_seconds("at", at)?)
    }

    /// `valid_from ≤ at < valid_until` for an `at` its caller already
    /// checked to be in seconds.
    pub(crate) fn within_validity(&self, at: u64) -> Result<()> {
        if at < self.body.valid_from {
            return Err(Error::CertificateNotYetValid);
        }
        if at >= self.body.valid_until {
            return Err(Error::CertificateExpired);
        }
        Ok(())
    }

    /// [`Certificate::verify`] with the registry's word on the serial
    /// instead of a revocation flag: offline checks first (so only genuine
    /// certificates cost a chain read), then [`CertificateStatus::confirm`].
    /// `status` must be the registry's answer for `self.body.serial`.
    ///
    /// # Errors
    /// [`Error::CertificateWrongAuthority`], [`Error::CertificateNotYetValid`],
    /// [`Error::CertificateExpired`], then [`Error::CertificateUnknown`],
    /// [`Error::CertificateMismatch`], [`Error::CertificateRevoked`].
    pub fn verify_registered(
        &self,
        authority: &Address,
        at: u64,
        status: &CertificateStatus,
    ) -> Result<()> {
        self.verify(authority, at, false)?;
        status.confirm(&self.body)
    }

    /// Assembles a certificate from the typed data a wallet signed (as
    /// [`CertificateBody::typed_data`] made it) and the wallet's signature,
    /// e.g. MetaMask's `eth_signTypedData_v4` answer.
    ///
    /// # Errors
    /// [`Error::CertificateMalformed`] unless the typed data is the
    /// canonical form of a valid body; the body's range errors.
    pub fn assemble(typed_data: &TypedData, signature: Signature) -> Result<Self> {
        Ok(Certificate {
            body: CertificateBody::from_typed_data(typed_data)?,
            signature,
        })
    }

    /// The JSON value `{typedData, signature}`.
    pub fn to_value(&self) -> Value {
        json!({
            "typedData": self.body.typed_data(),
            "signature": crate::hex::encode_prefixed(&self.signature.to_bytes()),
        })
    }

    /// The JSON text `{typedData, signature}`.
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }

    /// Parses the JSON value; refuses anything but the canonical form.
    ///
    /// # Errors
    /// [`Error::MalformedJson`], [`Error::CertificateMalformed`], or the
    /// field's own error (address, public key, signature).
    pub fn from_value(value: Value) -> Result<Self> {
        let envelope: Envelope =
            serde_json::from_value(value).map_err(Error::json_in("certificate"))?;
        let body = CertificateBody::from_typed_data(&envelope.typed_data)?;
        let signature = Signature::from_hex(&envelope.signature)?;
        Ok(Certificate { body, signature })
    }

    /// Parses the JSON text.
    ///
    /// # Errors
    /// As [`Certificate::from_value`].
    pub fn from_json(text: &str) -> Result<Self> {
        Self::from_value(serde_json::from_str(text).map_err(Error::json_in("certificate"))?)
    }
}

/// Who issued a certificate: [`Certificate::issuer`], which costs one
/// signature recovery, or a verifier's cache of it. A recovery is a pure
/// function of the certificate's signing hash and signature, so a cache
/// keyed by [`Certificate::issuer_key`] answers exactly what a recovery
/// would.
pub trait Issuers {
    /// The certificate's issuer.
    ///
    /// # Errors
    /// As [`Certificate::issuer`].
    fn issuer(&self, certificate: &Certificate) -> Result<Address>;
}

/// [`Issuers`] without a cache: every certificate is recovered.
#[derive(Debug, Clone, Copy, Default)]
pub struct Recover;

impl Issuers for Recover {
    fn issuer(&self, certificate: &Certificate) -> Result<Address> {
        certificate.issuer()
    }
}

impl Certificate {
    /// What determines [`Certificate::issuer`]: SHA-256 of the body's
    /// EIP-712 signing hash and the 65 signature bytes (the key of an
    /// [`Issuers`] cache).
    ///
    /// # Errors
    /// As [`TypedData::signing_hash`](crate::TypedData::signing_hash).
    pub fn issuer_key(&self) -> Result<[u8; 32]> {
        use sha2::{Digest, Sha256};
        let digest = self.body.typed_data().signing_hash()?;
        Ok(Sha256::new()
            .chain_update(digest)
            .chain_update(self.signature.to_bytes())
            .finalize()
            .into())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An authority, a doctor and the doctor's certificate (serial 7),
    /// valid from 1000 until 2000; shared by the request tests.
    pub(crate) struct World {
        pub(crate) authority: SecretKey,
        pub(crate) doctor: SecretKey,
        pub(crate) cert: Certificate,
    }

    pub(crate) fn world() -> World {
        let authority = SecretKey::generate().unwrap();
        let doctor = SecretKey::generate().unwrap();
        let cert = CertificateBody {
            doctor: doctor.address(),
            protocol_key: SecretKey::generate().unwrap().public_key(),
            hospital: "General Hospital".into(),
            valid_from: 1000,
            valid_until: 2000,
            serial: 7,
        }
        .sign(&authority)
        .unwrap();
        World {
            authority,
            doctor,
            cert,
        }
    }

    fn malformed(v: Value) -> Option<&'static str> {
        match Certificate::from_value(v) {
            Err(Error::CertificateMalformed { reason }) => Some(reason),
            _ => None,
        }
    }

    #[test]
    fn a_certificate_round_trips_through_json() {
        let w = world();
        assert_eq!(Certificate::from_json(&w.cert.to_json()), Ok(w.cert));
    }

    #[test]
    fn a_certificate_is_valid_from_its_first_second() {
        let w = world();
        assert_eq!(w.cert.verify(&w.authority.address(), 1000, false), Ok(()));
        assert_eq!(
            w.cert.verify(&w.authority.address(), 999, false),
            Err(Error::CertificateNotYetValid)
        );
    }

    #[test]
    fn a_certificate_expires_at_valid_until() {
        let w = world();
        assert_eq!(
            w.cert.verify(&w.authority.address(), 2000, false),
            Err(Error::CertificateExpired)
        );
    }

    #[test]
    fn a_revoked_certificate_is_refused() {
        let w = world();
        assert_eq!(
            w.cert.verify(&w.authority.address(), 1500, true),
            Err(Error::CertificateRevoked)
        );
    }

    #[test]
    fn a_certificate_of_another_issuer_is_refused() {
        let w = world();
        assert_eq!(
            w.cert.verify(&w.doctor.address(), 1500, false),
            Err(Error::CertificateWrongAuthority)
        );
    }

    #[test]
    fn an_altered_field_breaks_the_authoritys_signature() {
        let w = world();
        let mut v = w.cert.to_value();
        v["typedData"]["message"]["serial"] = json!(8);
        let forged = Certificate::from_value(v).unwrap();
        assert_eq!(
            forged.verify(&w.authority.address(), 1500, false),
            Err(Error::CertificateWrongAuthority)
        );
    }

    #[test]
    fn a_domain_other_than_the_protocols_is_refused() {
        let mut v = world().cert.to_value();
        v["typedData"]["domain"]["chainId"] = json!(1);
        assert_eq!(
            malformed(v),
            Some("typed data is not the canonical DoctorCertificate form")
        );
    }

    #[test]
    fn a_number_written_as_a_string_is_refused() {
        let mut v = world().cert.to_value();
        v["typedData"]["message"]["serial"] = json!("7");
        assert_eq!(malformed(v), Some("serial must be an integer"));
    }

    #[test]
    fn an_unknown_envelope_field_is_refused() {
        let mut v = world().cert.to_value();
        v["extra"] = json!(1);
        assert!(matches!(
            Certificate::from_value(v),
            Err(Error::MalformedJson { .. })
        ));
        assert!(matches!(
            Certificate::from_json("{"),
            Err(Error::MalformedJson { .. })
        ));
    }

    fn json_reason(v: Value) -> String {
        match Certificate::from_value(v) {
            Err(Error::MalformedJson { reason }) => reason,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_unknown_or_missing_field_is_named() {
        let mut v = world().cert.to_value();
        v["foo"] = json!(1);
        assert_eq!(json_reason(v), "unknown field \"foo\" in certificate");
        let mut v = world().cert.to_value();
        v.as_object_mut().unwrap().remove("signature");
        assert_eq!(json_reason(v), "missing field \"signature\" in certificate");
        let mut v = world().cert.to_value();
        v["typedData"]["extra"] = json!(1);
        assert_eq!(json_reason(v), "unknown field \"extra\" in certificate");
        let mut v = world().cert.to_value();
        v["typedData"]
            .as_object_mut()
            .unwrap()
            .remove("primaryType");
        assert_eq!(
            json_reason(v),
            "missing field \"primaryType\" in certificate"
        );
    }

    #[test]
    fn an_empty_validity_period_is_not_signed() {
        let w = world();
        let empty = CertificateBody {
            valid_until: w.cert.body.valid_from,
            ..w.cert.body
        };
        assert_eq!(empty.sign(&w.authority).err(), Some(Error::InvalidValidity));
    }

    #[test]
    fn a_validity_in_milliseconds_is_not_signed() {
        let w = world();
        let ms = CertificateBody {
            valid_until: 1_800_000_000_000,
            ..w.cert.body.clone()
        };
        assert_eq!(
            ms.sign(&w.authority).err(),
            Some(Error::TimeInMilliseconds { what: "validUntil" })
        );
        let ms = CertificateBody {
            valid_from: 1_700_000_000_000,
            valid_until: 1_800_000_000,
            ..w.cert.body
        };
        assert_eq!(
            ms.sign(&w.authority).err(),
            Some(Error::TimeInMilliseconds { what: "validFrom" })
        );
    }

    #[test]
    fn a_verification_time_in_milliseconds_is_refused() {
        let w = world();
        assert_eq!(
            w.cert
                .verify(&w.authority.address(), 1_700_000_000_000, false),
            Err(Error::TimeInMilliseconds { what: "at" })
        );
    }

    #[test]
    fn a_certificate_assembled_from_a_wallet_signature_is_the_issued_one() {
        let w = world();
        let typed = w.cert.body.typed_data();
        let signature = typed.sign(&w.authority).unwrap();
        assert_eq!(Certificate::assemble(&typed, signature), Ok(w.cert));
    }

    #[test]
    fn a_registered_certificate_needs_the_registrys_confirmation() {
        let w = world();
        let status = CertificateStatus {
            doctor: w.doctor.address(),
            valid_from: 1000,
            valid_until: 2000,
            revoked: false,
            revoked_at: 0,
        };
        let authority = w.authority.address();
        assert_eq!(w.cert.verify_registered(&authority, 1500, &status), Ok(()));
        let elsewhere = CertificateStatus {
            doctor: authority,
            ..status
        };
        assert_eq!(
            w.cert.verify_registered(&authority, 1500, &elsewhere),
            Err(Error::CertificateMismatch)
        );
        // Offline checks come first: an expired certificate costs no chain read.
        assert_eq!(
            w.cert.verify_registered(&authority, 2000, &elsewhere),
            Err(Error::CertificateExpired)
        );
    }
}
