//! Uploads signed by a certified doctor: how a hospital server that does
//! not take anonymous uploads lets a doctor's browser (wallet or protocol
//! key handle) store a new record's ciphertext.
//!
//! The doctor signs, with his Ethereum account (EIP-712, domain of §8),
//!
//! ```text
//! UploadRequest { hospital: string, eh: bytes32, size: uint64, filing: bytes32, expiry: uint64, nonce: bytes32 }
//! ```
//!
//! naming the record (`eh`, its exact `size`, the filing commitment it is
//! uploaded with) and sends it with his certificate when he creates the
//! upload. The server checks it as it checks an access request
//! ([`crate::signed::Signed::verify`]), and also that the certificate names
//! the server's own hospital (`CertificateWrongHospital`): a doctor uploads
//! where he practises. Each nonce is accepted once.

use serde_json::{json, Value};

use crate::account::SecretKey;
use crate::cert::{field_str, field_u64, typed_data, Certificate, MAX_SAFE_INTEGER};
use crate::eip712::{Member, TypedData};
use crate::error::{Error, Result};
use crate::signed::{Signable, Signed, Verified};

/// An upload request with its signature and the doctor's certificate.
pub type SignedUpload = Signed<UploadRequest>;

/// What the server learns from an upload request that passed verification.
pub type VerifiedUpload = Verified<UploadRequest>;

/// The unsigned upload request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRequest {
    /// Name of the hospital whose server stores the record.
    pub hospital: String,
    /// The record's ciphertext hash.
    pub eh: [u8; 32],
    /// The ciphertext's exact size in bytes.
    pub size: u64,
    /// The filing commitment the record is uploaded with (§10).
    pub filing: [u8; 32],
    /// Unix time after which the request is void.
    pub expiry: u64,
    /// 32 random bytes, used once.
    pub nonce: [u8; 32],
}

impl UploadRequest {
    /// A request to store `size` bytes hashing to `eh` under `filing` at
    /// `hospital`, valid `ttl` seconds from `now`, with a fresh nonce.
    ///
    /// # Errors
    /// [`Error::TimeInMilliseconds`] for a `now` in milliseconds;
    /// [`Error::OutOfRange`] for a zero `ttl`, or if `size` or `now + ttl`
    /// exceeds the safe-integer range; [`Error::Rng`].
    pub fn new(
        hospital: &str,
        eh: [u8; 32],
        size: u64,
        filing: [u8; 32],
        now: u64,
        ttl: u64,
    ) -> Result<Self> {
        let expiry = crate::request::expiry(now, ttl)?;
        if size > MAX_SAFE_INTEGER {
            return Err(Error::OutOfRange { what: "size" });
        }
        Ok(UploadRequest {
            hospital: hospital.to_owned(),
            eh,
            size,
            filing,
            expiry,
            nonce: *crate::random::bytes::<32>()?,
        })
    }

    /// Signs the request, made at Unix time `now`, with the doctor's
    /// account key and attaches his certificate ([`Signed::sign`]: the
    /// certificate must be valid at `now`).
    ///
    /// # Errors
    /// As [`Signed::sign`].
    pub fn sign(
        self,
        doctor: &SecretKey,
        certificate: Certificate,
        now: u64,
    ) -> Result<SignedUpload> {
        Signed::sign(self, doctor, certificate, now)
    }
}

impl Signable for UploadRequest {
    const WHAT: &'static str = "upload request";
    const NOT_CANONICAL: &'static str = "typed data is not the canonical UploadRequest form";
    const CERTIFIED_HERE: bool = true;

    fn typed_data(&self) -> TypedData {
        typed_data(
            "UploadRequest",
            vec![
                Member::new("hospital", "string"),
                Member::new("eh", "bytes32"),
                Member::new("size", "uint64"),
                Member::new("filing", "bytes32"),
                Member::new("expiry", "uint64"),
                Member::new("nonce", "bytes32"),
            ],
            json!({
                "hospital": self.hospital,
                "eh": crate::hex::encode_prefixed(&self.eh),
                "size": self.size,
                "filing": crate::hex::encode_prefixed(&self.filing),
                "expiry": self.expiry,
                "nonce": crate::hex::encode_prefixed(&self.nonce),
            }),
        )
    }

    fn from_message(message: &Value) -> Result<Self> {
        let bad = |reason| Error::MalformedEncoding {
            what: "upload request",
            reason,
        };
        let hex32 = |name: &'static str| -> Result<[u8; 32]> {
            let text = field_str(message, name).ok_or(bad("a bytes32 field is missing"))?;
            crate::hex::decode_array(name, "32", text)
        };
        Ok(UploadRequest {
            hospital: field_str(message, "hospital")
                .ok_or(bad("hospital missing"))?
                .to_owned(),
            eh: hex32("eh")?,
            size: field_u64(message, "size").ok_or(bad("size must be an integer"))?,
            filing: hex32("filing")?,
            expiry: field_u64(message, "expiry").ok_or(bad("expiry must be an integer"))?,
            nonce: hex32("nonce")?,
        })
    }

    fn hospital(&self) -> &str {
        &self.hospital
    }

    fn expiry(&self) -> u64 {
        self.expiry
    }

    fn nonce(&self) -> [u8; 32] {
        self.nonce
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Address;
    use crate::cert::CertificateBody;
    use crate::chain::registry::CertificateStatus;

    fn certificate(authority: &SecretKey, doctor: &SecretKey, hospital: &str) -> Certificate {
        CertificateBody {
            doctor: doctor.address(),
            protocol_key: SecretKey::generate().unwrap().public_key(),
            hospital: hospital.into(),
            valid_from: 1000,
            valid_until: 2000,
            serial: 7,
        }
        .sign(authority)
        .unwrap()
    }

    fn registered(doctor: Address) -> CertificateStatus {
        CertificateStatus {
            doctor,
            valid_from: 1000,
            valid_until: 2000,
            revoked: false,
            revoked_at: 0,
        }
    }

    fn request() -> UploadRequest {
        UploadRequest::new("H1", [1; 32], 4096, [2; 32], 1500, 60).unwrap()
    }

    #[test]
    fn an_upload_signed_by_a_doctor_of_this_hospital_verifies() {
        let (authority, doctor) = (
            SecretKey::generate().unwrap(),
            SecretKey::generate().unwrap(),
        );
        let signed = request()
            .sign(&doctor, certificate(&authority, &doctor, "H1"), 1500)
            .unwrap();
        let back = SignedUpload::from_json(&signed.to_json()).unwrap();
        let ok = back
            .verify(
                &authority.address(),
                "H1",
                1500,
                600,
                &registered(doctor.address()),
            )
            .unwrap();
        assert_eq!(
            (ok.doctor, ok.request.size, ok.request.eh),
            (doctor.address(), 4096, [1; 32])
        );
    }

    #[test]
    fn an_upload_by_a_doctor_certified_elsewhere_is_refused() {
        let (authority, doctor) = (
            SecretKey::generate().unwrap(),
            SecretKey::generate().unwrap(),
        );
        let signed = request()
            .sign(&doctor, certificate(&authority, &doctor, "H2"), 1500)
            .unwrap();
        assert_eq!(
            signed
                .verify_offline(&authority.address(), "H1", 1500, 600)
                .map(|u| u.serial()),
            Err(Error::CertificateWrongHospital)
        );
    }

    #[test]
    fn an_upload_request_is_refused_as_a_request_is() {
        assert_eq!(
            UploadRequest::new("H1", [1; 32], 4096, [2; 32], 1500, 0),
            Err(Error::OutOfRange {
                what: "ttl (at least 1 second)"
            })
        );
        assert_eq!(
            UploadRequest::new("H1", [1; 32], 4096, [2; 32], 1_700_000_000_000, 60),
            Err(Error::TimeInMilliseconds { what: "now" })
        );
        let (authority, doctor) = (
            SecretKey::generate().unwrap(),
            SecretKey::generate().unwrap(),
        );
        let cert = certificate(&authority, &doctor, "H1");
        assert_eq!(
            request().sign(&doctor, cert, 2000).err(),
            Some(Error::CertificateExpired)
        );
    }

    #[test]
    fn an_access_request_is_not_an_upload_request() {
        let (authority, doctor) = (
            SecretKey::generate().unwrap(),
            SecretKey::generate().unwrap(),
        );
        let access = crate::request::AccessRequest::new("H1", [1; 32], 1500, 60)
            .unwrap()
            .sign(&doctor, certificate(&authority, &doctor, "H1"), 1500)
            .unwrap();
        assert!(matches!(
            SignedUpload::from_json(&access.to_json()),
            Err(Error::MalformedEncoding { .. })
        ));
    }
}
