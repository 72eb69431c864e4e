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

use serde_json::{json, Value};

use crate::account::SecretKey;
use crate::cert::{field_str, field_u64, typed_data, Certificate};
use crate::eip712::{Member, TypedData};
use crate::error::{Error, Result};
use crate::signed::{Signable, Signed, Verified};

/// An access request with its signature and the doctor's certificate, as
/// sent to the server.
pub type SignedRequest = Signed<AccessRequest>;

/// What the server learns from a request that passed
/// [`Signed::verify`]: the doctor, his serial and the request (`w`,
/// `nonce`, `expiry`).
pub type VerifiedRequest = Verified<AccessRequest>;

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
    /// A request for `w` at `hospital`, made at Unix time `now` and valid
    /// `ttl` seconds (at least one), with a fresh nonce.
    ///
    /// # Errors
    /// [`Error::TimeInMilliseconds`] for a `now` in milliseconds;
    /// [`Error::OutOfRange`] for a zero `ttl` or if `now + ttl` overflows the
    /// safe-integer range; [`Error::Rng`] if no randomness is
    /// available.
    pub fn new(hospital: &str, w: [u8; 32], now: u64, ttl: u64) -> Result<Self> {
        let expiry = expiry(now, ttl)?;
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
    ) -> Result<SignedRequest> {
        Signed::sign(self, doctor, certificate, now)
    }
}

/// The expiry of a request made at Unix time `now`, valid `ttl` seconds:
/// shared by access requests and upload requests.
///
/// # Errors
/// [`Error::TimeInMilliseconds`] for a `now` in milliseconds;
/// [`Error::OutOfRange`] for a zero `ttl` ("ttl (at least 1 second)") or an
/// expiry beyond the safe-integer range ("expiry").
pub(crate) fn expiry(now: u64, ttl: u64) -> Result<u64> {
    let now = crate::time::unix_seconds("now", now)?;
    if ttl == 0 {
        return Err(Error::OutOfRange {
            what: "ttl (at least 1 second)",
        });
    }
    now.checked_add(ttl)
        .filter(|e| *e <= crate::cert::MAX_SAFE_INTEGER)
        .ok_or(Error::OutOfRange { what: "expiry" })
}

impl Signable for AccessRequest {
    const WHAT: &'static str = "access request";
    const NOT_CANONICAL: &'static str = "typed data is not the canonical AccessRequest form";
    const CERTIFIED_HERE: bool = false;

    fn typed_data(&self) -> TypedData {
        AccessRequest::typed_data(self)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Address;
    use crate::chain::registry::CertificateStatus;

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
                .sign(&self.doctor, self.cert.clone(), 1500)
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
                .sign(&stranger, self.cert.clone(), 1500)
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
            (ok.doctor, ok.serial, ok.request.w, ok.request.nonce),
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
    fn an_unknown_or_missing_field_is_named() {
        let w = world();
        let reason = |v: Value| match SignedRequest::from_value(v) {
            Err(Error::MalformedJson { reason }) => reason,
            other => panic!("{other:?}"),
        };
        let mut v = w.signed().to_value();
        v["foo"] = json!(1);
        assert_eq!(reason(v), "unknown field \"foo\" in access request");
        let mut v = w.signed().to_value();
        v.as_object_mut().unwrap().remove("certificate");
        assert_eq!(reason(v), "missing field \"certificate\" in access request");
        let mut v = w.signed().to_value();
        v["certificate"]["bar"] = json!(1);
        assert_eq!(reason(v), "unknown field \"bar\" in certificate");
        assert!(matches!(
            SignedRequest::from_json("{\"typedData\": 1"),
            Err(Error::MalformedJson { reason }) if reason.contains("line 1")
        ));
    }

    #[test]
    fn a_request_time_in_milliseconds_is_refused() {
        assert_eq!(
            AccessRequest::new("H1", [9; 32], 1_700_000_000_000, 60),
            Err(Error::TimeInMilliseconds { what: "now" })
        );
        let w = world();
        assert_eq!(
            w.verify(&w.signed(), "H1", 1_700_000_000_000, 600, &w.registered()),
            Err(Error::TimeInMilliseconds { what: "now" })
        );
    }

    #[test]
    fn a_request_valid_for_no_time_is_refused() {
        assert_eq!(
            AccessRequest::new("H1", [9; 32], 1500, 0),
            Err(Error::OutOfRange {
                what: "ttl (at least 1 second)"
            })
        );
    }

    #[test]
    fn a_request_is_not_signed_with_a_certificate_invalid_at_its_time() {
        let w = world();
        // The certificate is valid from 1000 until 2000.
        let sign_at = |now| w.request.clone().sign(&w.doctor, w.cert.clone(), now);
        assert_eq!(sign_at(2000).err(), Some(Error::CertificateExpired));
        assert_eq!(sign_at(999).err(), Some(Error::CertificateNotYetValid));
        assert_eq!(
            sign_at(1_700_000_000_000).err(),
            Some(Error::TimeInMilliseconds { what: "now" })
        );
        assert!(sign_at(1999).is_ok());
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
