//! The record anchor `R1 = {T1, commitment, eh}` (the paper's Alg 4 step 3)
//! and the rule that makes it trustworthy.
//!
//! **Who may anchor.** The registry accepts `anchorRecord` only from the
//! doctor of a certificate that is registered, unrevoked and within its
//! validity at that block (`NotCertifiedDoctor` otherwise), so a stranger who
//! sees an `eh` first (the hospital server during the upload, anyone
//! watching pending transactions) cannot squat it. Every reader checks the
//! rule again off chain ([`CertifiedAnchor::confirm`]): the anchoring account
//! must be the doctor the registry names for the anchor's serial, certified
//! at `anchoredAt` (a certificate revoked *later* does not undo the records
//! anchored before).
//!
//! **What the anchor commits to.** Instead of the record type `Ty1` in clear,
//! the anchor carries
//!
//! ```text
//! commitment = SHA-256("ehrchain/v1/anchor" ‖ salt (32) ‖ doctor (20) ‖ patient (20) ‖ u8 len(Ty1) ‖ Ty1)
//! ```
//!
//! with `salt` 32 random bytes drawn by the anchoring doctor's client and
//! sealed to the patient in the handoff, `doctor` the anchoring account and
//! `patient` the patient's account. Without the salt it reveals neither the
//! type nor the patient; with it, the patient checks that the anchor was made
//! for her ([`CertifiedAnchor::binds`]), and a doctor she grants the
//! record to checks that the grant's signer is the patient the record was
//! made for. A certified doctor who front-runs another's anchor copies a
//! commitment that does not open for his own address: detected, attributable
//! to his certificate, and undone by re-encrypting the record.

use sha2::{Digest, Sha256};

use crate::account::Address;
use crate::chain::registry::{CertificateStatus, RecordStatus};
use crate::error::{Error, Result};

/// Domain label of the anchor commitment.
pub const ANCHOR_LABEL: &[u8] = b"ehrchain/v1/anchor";

/// Longest record type `Ty1`, in bytes.
pub const MAX_RECORD_TYPE_LEN: usize = 32;

/// The record type `Ty1`: printable ASCII (`0x20..=0x7e`), 0 to 32 bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordType(String);

impl RecordType {
    /// Checks and wraps `text`.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] beyond 32 bytes or for a byte that is not
    /// printable ASCII.
    pub fn new(text: &str) -> Result<Self> {
        if text.len() > MAX_RECORD_TYPE_LEN {
            return Err(Error::OutOfRange {
                what: "record type (at most 32 bytes)",
            });
        }
        if !text.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
            return Err(Error::OutOfRange {
                what: "record type (printable ASCII only)",
            });
        }
        Ok(RecordType(text.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `u8 len ‖ bytes`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.0.len());
        out.push(u8::try_from(self.0.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(self.0.as_bytes());
        out
    }

    /// Parses [`RecordType::encode`] at the start of `bytes`; returns the rest.
    ///
    /// # Errors
    /// [`Error::MalformedEncoding`] naming `what`.
    pub fn decode_prefix<'a>(what: &'static str, bytes: &'a [u8]) -> Result<(Self, &'a [u8])> {
        let bad = |reason| Error::MalformedEncoding { what, reason };
        let (&len, rest) = bytes
            .split_first()
            .ok_or(bad("record type length missing"))?;
        let len = usize::from(len);
        if rest.len() < len {
            return Err(bad("record type truncated"));
        }
        let (text, rest) = rest.split_at(len);
        let text = core::str::from_utf8(text).map_err(|_| bad("record type is not ASCII"))?;
        let ty = RecordType::new(text)
            .map_err(|_| bad("record type is not printable ASCII of at most 32 bytes"))?;
        Ok((ty, rest))
    }
}

/// What opens an anchor's commitment: the salt and the record type. The
/// anchoring doctor draws it, seals it to the patient in the handoff, and
/// the patient passes it on inside every grant. `Debug` hides the salt.
#[derive(Clone, PartialEq, Eq)]
pub struct AnchorOpening {
    /// 32 random bytes that hide the commitment's contents.
    pub salt: [u8; 32],
    /// The record type `Ty1`.
    pub record_type: RecordType,
}

impl core::fmt::Debug for AnchorOpening {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AnchorOpening")
            .field("salt", &"..")
            .field("record_type", &self.record_type)
            .finish()
    }
}

impl AnchorOpening {
    /// A fresh random salt for `record_type`.
    ///
    /// # Errors
    /// [`Error::Rng`] if no randomness is available.
    pub fn generate(record_type: RecordType) -> Result<Self> {
        Ok(AnchorOpening {
            salt: *crate::random::bytes::<32>()?,
            record_type,
        })
    }

    /// `SHA-256("ehrchain/v1/anchor" ‖ salt ‖ doctor ‖ patient ‖ u8 len(Ty1) ‖ Ty1)`.
    pub fn commitment(&self, doctor: &Address, patient: &Address) -> [u8; 32] {
        Sha256::new()
            .chain_update(ANCHOR_LABEL)
            .chain_update(self.salt)
            .chain_update(doctor.0)
            .chain_update(patient.0)
            .chain_update(self.record_type.encode())
            .finalize()
            .into()
    }

    /// `salt (32) ‖ u8 len(Ty1) ‖ Ty1`, as carried in the handoff and the pass.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.salt.to_vec();
        out.extend_from_slice(&self.record_type.encode());
        out
    }

    /// Parses [`AnchorOpening::encode`] at the start of `bytes`; returns the rest.
    ///
    /// # Errors
    /// [`Error::MalformedEncoding`] naming `what`.
    pub fn decode_prefix<'a>(what: &'static str, bytes: &'a [u8]) -> Result<(Self, &'a [u8])> {
        if bytes.len() < 32 {
            return Err(Error::MalformedEncoding {
                what,
                reason: "anchor salt truncated",
            });
        }
        let (salt, rest) = bytes.split_at(32);
        let (record_type, rest) = RecordType::decode_prefix(what, rest)?;
        let mut s = [0u8; 32];
        s.copy_from_slice(salt);
        Ok((
            AnchorOpening {
                salt: s,
                record_type,
            },
            rest,
        ))
    }
}

/// A record anchor that passed the anchoring rule: anchored, not deleted,
/// by the doctor the registry certified for its serial at anchoring time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertifiedAnchor {
    /// The record's ciphertext hash `eh`.
    pub eh: [u8; 32],
    /// The anchoring doctor's account.
    pub doctor: Address,
    /// The serial of the certificate he anchored under.
    pub serial: u64,
    /// The anchor's commitment.
    pub commitment: [u8; 32],
    /// The record time `T1`.
    pub record_time: u64,
    /// Block timestamp of the anchoring.
    pub anchored_at: u64,
}

impl CertifiedAnchor {
    /// Applies the anchoring rule to the registry's answers:
    /// `record = recordStatus(eh)` and `certificate =
    /// certificateStatus(record.serial)`.
    ///
    /// # Errors
    /// In this order: [`Error::RecordNotAnchored`]; [`Error::RecordDeleted`];
    /// [`Error::AnchorNotCertified`] unless the serial is registered to the
    /// anchoring account, valid at `anchoredAt` and not revoked before it.
    pub fn confirm(
        eh: &[u8; 32],
        record: &RecordStatus,
        certificate: &CertificateStatus,
    ) -> Result<Self> {
        if !record.anchored {
            return Err(Error::RecordNotAnchored);
        }
        if record.deleted {
            return Err(Error::RecordDeleted);
        }
        let at = record.anchored_at;
        let certified = certificate.registered()
            && certificate.doctor == record.anchored_by
            && certificate.valid_from <= at
            && at < certificate.valid_until
            && (!certificate.revoked || certificate.revoked_at >= at);
        if !certified {
            return Err(Error::AnchorNotCertified);
        }
        Ok(CertifiedAnchor {
            eh: *eh,
            doctor: record.anchored_by,
            serial: record.serial,
            commitment: record.commitment,
            record_time: record.record_time,
            anchored_at: at,
        })
    }

    /// Whether `opening` opens this anchor's commitment for `patient`.
    pub fn opens(&self, opening: &AnchorOpening, patient: &Address) -> bool {
        let mine = opening.commitment(&self.doctor, patient);
        subtle::ConstantTimeEq::ct_eq(&mine[..], &self.commitment[..]).into()
    }

    /// Whether this is the anchor of `eh` at `record_time` made for
    /// `patient`, with the type `opening` names: what both the patient's
    /// check of a handoff and the doctor's check of a grant ask.
    pub fn binds(
        &self,
        eh: &[u8; 32],
        record_time: u64,
        opening: &AnchorOpening,
        patient: &Address,
    ) -> bool {
        self.eh == *eh && self.record_time == record_time && self.opens(opening, patient)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(doctor: Address, anchored_at: u64) -> RecordStatus {
        RecordStatus {
            anchored: true,
            anchored_by: doctor,
            serial: 7,
            anchored_at,
            commitment: [9; 32],
            record_time: 1,
            deleted: false,
            deleted_at: 0,
        }
    }

    fn cert(doctor: Address) -> CertificateStatus {
        CertificateStatus {
            doctor,
            valid_from: 100,
            valid_until: 200,
            revoked: false,
            revoked_at: 0,
        }
    }

    const D: Address = Address([5; 20]);

    #[test]
    fn an_anchor_by_its_certified_doctor_is_confirmed() {
        let a = CertifiedAnchor::confirm(&[1; 32], &record(D, 150), &cert(D));
        assert_eq!(a.map(|a| (a.doctor, a.serial)), Ok((D, 7)));
    }

    #[test]
    fn an_unanchored_hash_is_refused() {
        let mut r = record(D, 150);
        r.anchored = false;
        assert_eq!(
            CertifiedAnchor::confirm(&[1; 32], &r, &cert(D)),
            Err(Error::RecordNotAnchored)
        );
    }

    #[test]
    fn a_tombstoned_record_is_refused() {
        let mut r = record(D, 150);
        r.deleted = true;
        assert_eq!(
            CertifiedAnchor::confirm(&[1; 32], &r, &cert(D)),
            Err(Error::RecordDeleted)
        );
    }

    #[test]
    fn an_anchor_by_another_account_than_the_serials_doctor_is_refused() {
        assert_eq!(
            CertifiedAnchor::confirm(&[1; 32], &record(Address([6; 20]), 150), &cert(D)),
            Err(Error::AnchorNotCertified)
        );
    }

    #[test]
    fn an_anchor_under_an_unregistered_serial_is_refused() {
        assert_eq!(
            CertifiedAnchor::confirm(&[1; 32], &record(D, 150), &cert(Address([0; 20]))),
            Err(Error::AnchorNotCertified)
        );
    }

    #[test]
    fn an_anchor_outside_the_validity_is_refused() {
        for at in [99, 200] {
            assert_eq!(
                CertifiedAnchor::confirm(&[1; 32], &record(D, at), &cert(D)),
                Err(Error::AnchorNotCertified),
                "anchored at {at}"
            );
        }
    }

    #[test]
    fn a_revocation_before_the_anchor_refuses_it_and_one_after_does_not() {
        let mut c = cert(D);
        c.revoked = true;
        c.revoked_at = 140;
        assert_eq!(
            CertifiedAnchor::confirm(&[1; 32], &record(D, 150), &c),
            Err(Error::AnchorNotCertified)
        );
        c.revoked_at = 160;
        assert!(CertifiedAnchor::confirm(&[1; 32], &record(D, 150), &c).is_ok());
    }

    #[test]
    fn the_commitment_opens_only_for_its_patient_doctor_salt_and_type() -> Result<()> {
        let patient = Address([8; 20]);
        let opening = AnchorOpening::generate(RecordType::new("lab")?)?;
        let mut anchor = CertifiedAnchor::confirm(&[1; 32], &record(D, 150), &cert(D))?;
        anchor.commitment = opening.commitment(&D, &patient);
        assert!(anchor.binds(&[1; 32], 1, &opening, &patient));
        assert!(!anchor.binds(&[1; 32], 1, &opening, &Address([4; 20])));
        assert!(!anchor.binds(&[1; 32], 2, &opening, &patient));
        assert!(!anchor.binds(&[2; 32], 1, &opening, &patient));
        let mut other = opening.clone();
        other.record_type = RecordType::new("note")?;
        assert!(!anchor.opens(&other, &patient));
        other = opening.clone();
        other.salt[0] ^= 1;
        assert!(!anchor.opens(&other, &patient));
        anchor.doctor = Address([6; 20]);
        assert!(!anchor.opens(&opening, &patient));
        Ok(())
    }

    #[test]
    fn a_record_type_must_be_short_printable_ascii() {
        assert!(RecordType::new("").is_ok());
        assert!(RecordType::new(&"x".repeat(32)).is_ok());
        assert_eq!(
            RecordType::new(&"x".repeat(33)),
            Err(Error::OutOfRange {
                what: "record type (at most 32 bytes)"
            })
        );
        assert_eq!(
            RecordType::new("lab\n"),
            Err(Error::OutOfRange {
                what: "record type (printable ASCII only)"
            })
        );
        assert_eq!(
            RecordType::new("rad\u{e9}"),
            Err(Error::OutOfRange {
                what: "record type (printable ASCII only)"
            })
        );
    }

    #[test]
    fn an_opening_round_trips_and_refuses_truncation() -> Result<()> {
        let o = AnchorOpening::generate(RecordType::new("radiology/ct")?)?;
        let enc = o.encode();
        let (back, rest) = AnchorOpening::decode_prefix("t", &enc)?;
        assert_eq!((back, rest.len()), (o, 0));
        assert_eq!(
            AnchorOpening::decode_prefix("t", &enc[..enc.len() - 1]).err(),
            Some(Error::MalformedEncoding {
                what: "t",
                reason: "record type truncated"
            })
        );
        Ok(())
    }
}
