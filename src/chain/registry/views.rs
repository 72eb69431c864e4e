//! The answers of the registry's views, decoded from `eth_call` return
//! data, and their JSON shape (what the CLI prints and JS receives).

use serde_json::Value as Json;

use crate::account::Address;
use crate::cert::CertificateBody;
use crate::chain::abi::Reader;
use crate::error::{Error, Result};

/// `certificateStatus(serial)`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateStatus {
    /// The doctor's address; all zero if the serial was never registered.
    pub doctor: Address,
    /// Start of validity.
    pub valid_from: u64,
    /// End of validity (exclusive).
    pub valid_until: u64,
    /// Whether the authority revoked it.
    pub revoked: bool,
    /// When (block timestamp), if revoked.
    pub revoked_at: u64,
}

impl CertificateStatus {
    /// Decodes `eth_call` return data: `(address, uint64, uint64, bool, uint64)`.
    ///
    /// # Errors
    /// [`Error::AbiDecode`].
    pub fn decode(data: &[u8]) -> Result<Self> {
        let mut r = Reader::new(data);
        Ok(CertificateStatus {
            doctor: r.address()?,
            valid_from: r.uint64()?,
            valid_until: r.uint64()?,
            revoked: r.bool()?,
            revoked_at: r.uint64()?,
        })
    }

    /// Whether the serial is registered at all.
    pub fn registered(&self) -> bool {
        self.doctor.0 != [0; 20]
    }

    /// The on-chain half of a certificate check (Alg 3 with revocation):
    /// this status, read for `certificate`'s serial, shows the serial
    /// registered, to the same doctor, and not revoked. A certificate the
    /// authority signed but never registered, or registered under another
    /// doctor, is refused: the registry is the authority's last word.
    ///
    /// # Errors
    /// [`Error::CertificateUnknown`], [`Error::CertificateMismatch`],
    /// [`Error::CertificateRevoked`], checked in that order.
    pub fn confirm(&self, certificate: &CertificateBody) -> Result<()> {
        if !self.registered() {
            return Err(Error::CertificateUnknown);
        }
        if self.doctor != certificate.doctor {
            return Err(Error::CertificateMismatch);
        }
        if self.revoked {
            return Err(Error::CertificateRevoked);
        }
        Ok(())
    }

    /// The status as JSON, the shape the CLI prints and JS receives:
    /// `{registered, doctor, validFrom, validUntil, revoked, revokedAt}`.
    pub fn to_json(&self) -> Json {
        serde_json::json!({
            "registered": self.registered(), "doctor": self.doctor.to_checksum(),
            "validFrom": self.valid_from, "validUntil": self.valid_until,
            "revoked": self.revoked, "revokedAt": self.revoked_at,
        })
    }
}

/// `recordStatus(eh)`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordStatus {
    /// Whether `eh` was ever anchored.
    pub anchored: bool,
    /// The anchoring account (a doctor certified when anchoring).
    pub anchored_by: Address,
    /// Serial of the certificate the record was anchored under.
    pub serial: u64,
    /// Block timestamp of the anchoring.
    pub anchored_at: u64,
    /// The anchor commitment to salt, doctor, patient and type (`crate::anchor`).
    pub commitment: [u8; 32],
    /// The record time `T1`.
    pub record_time: u64,
    /// Whether it was marked deleted.
    pub deleted: bool,
    /// When, if deleted.
    pub deleted_at: u64,
}

impl RecordStatus {
    /// Decodes `eth_call` return data:
    /// `(bool, address, uint64, uint64, bytes32, uint64, bool, uint64)`.
    ///
    /// # Errors
    /// [`Error::AbiDecode`].
    pub fn decode(data: &[u8]) -> Result<Self> {
        let mut r = Reader::new(data);
        Ok(RecordStatus {
            anchored: r.bool()?,
            anchored_by: r.address()?,
            serial: r.uint64()?,
            anchored_at: r.uint64()?,
            commitment: r.bytes32()?,
            record_time: r.uint64()?,
            deleted: r.bool()?,
            deleted_at: r.uint64()?,
        })
    }

    /// The status as JSON, the shape the CLI prints and JS receives:
    /// `{anchored, anchoredBy, serial, anchoredAt, commitment (hex),
    /// recordTime, deleted, deletedAt}`.
    pub fn to_json(&self) -> Json {
        serde_json::json!({
            "anchored": self.anchored, "anchoredBy": self.anchored_by.to_checksum(),
            "serial": self.serial,
            "anchoredAt": self.anchored_at, "commitment": crate::hex::encode_prefixed(&self.commitment),
            "recordTime": self.record_time, "deleted": self.deleted, "deletedAt": self.deleted_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::abi::{encode, Token};
    use crate::SecretKey;

    fn body(doctor: Address) -> CertificateBody {
        CertificateBody {
            doctor,
            protocol_key: SecretKey::from_bytes(&[3; 32]).unwrap().public_key(),
            hospital: "H".into(),
            valid_from: 1,
            valid_until: 2,
            serial: 7,
        }
    }

    fn registered(doctor: Address, revoked: bool) -> CertificateStatus {
        CertificateStatus {
            doctor,
            valid_from: 1,
            valid_until: 2,
            revoked,
            revoked_at: 0,
        }
    }

    #[test]
    fn a_registered_unrevoked_serial_of_the_same_doctor_is_confirmed() {
        let doctor = Address([5; 20]);
        assert_eq!(registered(doctor, false).confirm(&body(doctor)), Ok(()));
    }

    #[test]
    fn an_unregistered_serial_is_unknown() {
        let doctor = Address([5; 20]);
        assert_eq!(
            registered(Address([0; 20]), false).confirm(&body(doctor)),
            Err(Error::CertificateUnknown)
        );
    }

    #[test]
    fn a_serial_registered_to_another_doctor_is_a_mismatch() {
        assert_eq!(
            registered(Address([6; 20]), false).confirm(&body(Address([5; 20]))),
            Err(Error::CertificateMismatch)
        );
    }

    #[test]
    fn a_revoked_serial_is_revoked() {
        let doctor = Address([5; 20]);
        assert_eq!(
            registered(doctor, true).confirm(&body(doctor)),
            Err(Error::CertificateRevoked)
        );
    }

    fn certificate_answer() -> Vec<u8> {
        encode(&[
            Token::Address(Address([5; 20])),
            Token::Uint(10),
            Token::Uint(20),
            Token::Uint(1),
            Token::Uint(15),
        ])
    }

    #[test]
    fn a_certificate_status_decodes_field_by_field() {
        assert_eq!(
            CertificateStatus::decode(&certificate_answer()),
            Ok(CertificateStatus {
                doctor: Address([5; 20]),
                valid_from: 10,
                valid_until: 20,
                revoked: true,
                revoked_at: 15,
            })
        );
    }

    #[test]
    fn an_unregistered_serial_reads_as_the_zero_address() {
        let zeros = [0u8; 5 * 32];
        let status = CertificateStatus::decode(&zeros).map(|s| s.registered());
        assert_eq!(status, Ok(false));
    }

    #[test]
    fn a_short_view_answer_is_refused() {
        let data = certificate_answer();
        assert_eq!(
            CertificateStatus::decode(&data[..data.len() - 1]),
            Err(Error::AbiDecode {
                reason: "data too short"
            })
        );
    }

    #[test]
    fn a_record_status_decodes_field_by_field() {
        let data = encode(&[
            Token::Uint(1),
            Token::Address(Address([6; 20])),
            Token::Uint(3),
            Token::Uint(100),
            Token::Bytes32([7; 32]),
            Token::Uint(99),
            Token::Uint(0),
            Token::Uint(0),
        ]);
        let status = RecordStatus::decode(&data);
        assert_eq!(
            status
                .as_ref()
                .map(|s| (s.anchored, s.anchored_by, s.serial, s.commitment, s.deleted)),
            Ok((true, Address([6; 20]), 3, [7; 32], false))
        );
    }
}
