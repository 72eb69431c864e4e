//! Calldata of every registry function: `selector(signature) ‖ arguments`.
//! Each signature is a constant so tests can hold it against the compiled
//! contract.

use crate::account::{Address, PublicKey};
use crate::chain::abi::{self, Token};
use crate::error::Result;
use crate::grant::Authorisation;
use crate::time::{unix_seconds, Validity};

/// `registerDoctor(uint64,address,bytes,uint64,uint64)`.
pub const REGISTER_DOCTOR: &str = "registerDoctor(uint64,address,bytes,uint64,uint64)";
/// `revokeDoctor(uint64)`.
pub const REVOKE_DOCTOR: &str = "revokeDoctor(uint64)";
/// `certificateStatus(uint64)`.
pub const CERTIFICATE_STATUS: &str = "certificateStatus(uint64)";
/// `anchorRecord(bytes32,bytes32,uint64,uint64)`.
pub const ANCHOR_RECORD: &str = "anchorRecord(bytes32,bytes32,uint64,uint64)";
/// `markDeleted(bytes32)`.
pub const MARK_DELETED: &str = "markDeleted(bytes32)";
/// `markDeletedByPatient(bytes32,bytes32,string)`: `(eh, salt, recordType)`.
pub const MARK_DELETED_BY_PATIENT: &str = "markDeletedByPatient(bytes32,bytes32,string)";
/// `recordStatus(bytes32)`.
pub const RECORD_STATUS: &str = "recordStatus(bytes32)";
/// `authorise(bytes1,bytes,bytes,bytes)`: `(viewTag, R, ST, C1)`.
pub const AUTHORISE: &str = "authorise(bytes1,bytes,bytes,bytes)";
/// `authorisationCount()`.
pub const AUTHORISATION_COUNT: &str = "authorisationCount()";
/// `listHospital(string,string)`: `(hospital, endpoint)`.
pub const LIST_HOSPITAL: &str = "listHospital(string,string)";
/// `hospitalEndpoint(string)`.
pub const HOSPITAL_ENDPOINT: &str = "hospitalEndpoint(string)";

/// Calldata of `registerDoctor` (authority only). The validity period is
/// checked as a certificate's is ([`Validity::new`]), so a period the
/// library would not sign into a certificate is refused before a
/// transaction is sent, not by the contract's `InvalidValidity` revert.
///
/// # Errors
/// [`Error::TimeInMilliseconds`](crate::Error::TimeInMilliseconds),
/// [`Error::InvalidValidity`](crate::Error::InvalidValidity).
pub fn register_doctor(
    serial: u64,
    doctor: &Address,
    protocol_key: &PublicKey,
    valid_from: u64,
    valid_until: u64,
) -> Result<Vec<u8>> {
    let Validity {
        from: valid_from,
        until: valid_until,
    } = Validity::new(valid_from, valid_until)?;
    Ok(abi::call(
        REGISTER_DOCTOR,
        &[
            Token::Uint(serial),
            Token::Address(*doctor),
            Token::Bytes(protocol_key.to_compressed().to_vec()),
            Token::Uint(valid_from),
            Token::Uint(valid_until),
        ],
    ))
}

/// Calldata of `revokeDoctor` (authority only).
pub fn revoke_doctor(serial: u64) -> Vec<u8> {
    abi::call(REVOKE_DOCTOR, &[Token::Uint(serial)])
}

/// Calldata of `certificateStatus` (a view; decode with
/// [`CertificateStatus::decode`](super::CertificateStatus::decode)).
pub fn certificate_status(serial: u64) -> Vec<u8> {
    abi::call(CERTIFICATE_STATUS, &[Token::Uint(serial)])
}

/// Calldata of `anchorRecord(eh, commitment, recordTime, serial)`: Alg 4
/// step 3. The registry accepts it only from the doctor of certificate
/// `serial`, registered, unrevoked and valid at that block
/// (`NotCertifiedDoctor`). `record_time` is `T1` in Unix seconds.
///
/// # Errors
/// [`Error::TimeInMilliseconds`](crate::Error::TimeInMilliseconds) for a
/// record time in milliseconds.
pub fn anchor_record(
    eh: &[u8; 32],
    commitment: &[u8; 32],
    record_time: u64,
    serial: u64,
) -> Result<Vec<u8>> {
    Ok(abi::call(
        ANCHOR_RECORD,
        &[
            Token::Bytes32(*eh),
            Token::Bytes32(*commitment),
            Token::Uint(unix_seconds("recordTime", record_time)?),
            Token::Uint(serial),
        ],
    ))
}

/// Calldata of `markDeleted(eh)` (the anchorer or the authority).
pub fn mark_deleted(eh: &[u8; 32]) -> Vec<u8> {
    abi::call(MARK_DELETED, &[Token::Bytes32(*eh)])
}

/// Calldata of `markDeletedByPatient(eh, salt, recordType)`: the patient
/// tombstones her record by opening its anchor commitment (§4.1) from her
/// own account (the registry refuses anyone else: `NotRecordPatient`).
/// The opening becomes public: the record's type and that she was its
/// patient.
pub fn mark_deleted_by_patient(eh: &[u8; 32], opening: &crate::anchor::AnchorOpening) -> Vec<u8> {
    abi::call(
        MARK_DELETED_BY_PATIENT,
        &[
            Token::Bytes32(*eh),
            Token::Bytes32(opening.salt),
            Token::Bytes(opening.record_type.as_str().as_bytes().to_vec()),
        ],
    )
}

/// Calldata of `recordStatus(eh)` (a view; decode with
/// [`RecordStatus::decode`](super::RecordStatus::decode)).
pub fn record_status(eh: &[u8; 32]) -> Vec<u8> {
    abi::call(RECORD_STATUS, &[Token::Bytes32(*eh)])
}

/// Calldata of `authorise(viewTag, R, ST, C1)`: Alg 5 step 5.
pub fn authorise(auth: &Authorisation) -> Vec<u8> {
    abi::call(
        AUTHORISE,
        &[
            Token::Bytes1(auth.view_tag),
            Token::Bytes(auth.r.to_vec()),
            Token::Bytes(auth.st.to_vec()),
            Token::Bytes(auth.c1.clone()),
        ],
    )
}

/// Calldata of `authorisationCount()`.
pub fn authorisation_count() -> Vec<u8> {
    abi::call(AUTHORISATION_COUNT, &[])
}

/// Calldata of `listHospital(hospital, endpoint)` (authority only): lists
/// the record server of `hospital` in the registry's directory, or delists
/// it with an empty `endpoint`. Both are checked as the directory's
/// readers check them ([`directory`](crate::chain::directory)), so an
/// entry no client would follow is refused before a transaction is sent.
///
/// # Errors
/// [`Error::OutOfRange`](crate::Error::OutOfRange) for a hospital name
/// that is empty or over 255 bytes;
/// [`Error::InvalidEndpoint`](crate::Error::InvalidEndpoint) for an
/// endpoint that is not a record-server base URL.
pub fn list_hospital(hospital: &str, endpoint: &str) -> Result<Vec<u8>> {
    crate::chain::directory::check_hospital(hospital)?;
    if !endpoint.is_empty() {
        crate::chain::directory::check_endpoint(endpoint)?;
    }
    Ok(abi::call(
        LIST_HOSPITAL,
        &[
            Token::Bytes(hospital.as_bytes().to_vec()),
            Token::Bytes(endpoint.as_bytes().to_vec()),
        ],
    ))
}

/// Calldata of the view `hospitalEndpoint(hospital)` (decode with
/// [`directory::decode_endpoint`](crate::chain::directory::decode_endpoint)).
///
/// # Errors
/// [`Error::OutOfRange`](crate::Error::OutOfRange) as [`list_hospital`].
pub fn hospital_endpoint(hospital: &str) -> Result<Vec<u8>> {
    crate::chain::directory::check_hospital(hospital)?;
    Ok(abi::call(
        HOSPITAL_ENDPOINT,
        &[Token::Bytes(hospital.as_bytes().to_vec())],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hex::encode;

    // Selectors printed by solc-js for contracts/EhrRegistry.sol (chain/README.md).

    #[test]
    fn register_doctor_has_the_compiled_selector() {
        assert_eq!(encode(&abi::selector(REGISTER_DOCTOR)), "633379e2");
    }

    #[test]
    fn anchor_record_has_the_compiled_selector() {
        assert_eq!(encode(&abi::selector(ANCHOR_RECORD)), "20abf477");
    }

    #[test]
    fn register_doctor_refuses_what_a_certificate_refuses() {
        let key = crate::SecretKey::from_bytes(&[3; 32]).unwrap().public_key();
        let doctor = Address([5; 20]);
        assert_eq!(
            register_doctor(7, &doctor, &key, 200, 200),
            Err(crate::Error::InvalidValidity)
        );
        assert_eq!(
            register_doctor(7, &doctor, &key, 300, 200),
            Err(crate::Error::InvalidValidity)
        );
        assert_eq!(
            register_doctor(7, &doctor, &key, 1_700_000_000, 1_800_000_000_000),
            Err(crate::Error::TimeInMilliseconds { what: "validUntil" })
        );
        assert!(register_doctor(7, &doctor, &key, 100, 200).is_ok());
    }

    #[test]
    fn anchor_record_refuses_a_record_time_in_milliseconds() {
        assert_eq!(
            anchor_record(&[1; 32], &[2; 32], 1_700_000_000_000, 7),
            Err(crate::Error::TimeInMilliseconds { what: "recordTime" })
        );
        assert!(anchor_record(&[1; 32], &[2; 32], 1_700_000_000, 7).is_ok());
    }

    #[test]
    fn authorise_has_the_compiled_selector() {
        assert_eq!(encode(&abi::selector(AUTHORISE)), "11ec8200");
    }

    #[test]
    fn authorise_calldata_has_the_layout_of_protocol_section_13() {
        let auth = Authorisation {
            view_tag: 0xa5,
            r: [2; 33],
            st: [3; 33],
            c1: vec![9; crate::grant::C1_LEN],
        };
        let data = authorise(&auth);
        assert_eq!(data.len(), 996);
        assert_eq!(encode(&data[..4]), "11ec8200");
        let word = |i: usize| &data[4 + 32 * i..4 + 32 * (i + 1)];
        assert_eq!(word(0)[0], 0xa5);
        assert!(word(0)[1..].iter().all(|b| *b == 0));
        for (i, offset) in [(1, 0x80u8), (2, 0xe0), (3, 0x40)] {
            assert_eq!(word(i)[31], offset);
        }
        assert_eq!(word(3)[30], 0x01, "C1 at 0x140");
        assert_eq!(&data[4 + 0x80 + 32..4 + 0x80 + 65], &[2; 33]);
        assert_eq!(&data[4 + 0xe0 + 32..4 + 0xe0 + 65], &[3; 33]);
    }

    #[test]
    fn record_status_has_the_compiled_selector() {
        assert_eq!(encode(&abi::selector(RECORD_STATUS)), "7188c863");
    }
}
