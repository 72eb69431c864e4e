//! Calldata of every registry function: `selector(signature) ‖ arguments`.
//! Each signature is a constant so tests can hold it against the compiled
//! contract.

use crate::account::{Address, PublicKey};
use crate::chain::abi::{self, Token};
use crate::grant::Authorisation;

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
/// `recordStatus(bytes32)`.
pub const RECORD_STATUS: &str = "recordStatus(bytes32)";
/// `authorise(bytes,bytes,bytes)`.
pub const AUTHORISE: &str = "authorise(bytes,bytes,bytes)";
/// `authorisationCount()`.
pub const AUTHORISATION_COUNT: &str = "authorisationCount()";

/// Calldata of `registerDoctor` (authority only).
pub fn register_doctor(
    serial: u64,
    doctor: &Address,
    protocol_key: &PublicKey,
    valid_from: u64,
    valid_until: u64,
) -> Vec<u8> {
    abi::call(
        REGISTER_DOCTOR,
        &[
            Token::Uint(serial),
            Token::Address(*doctor),
            Token::Bytes(protocol_key.to_compressed().to_vec()),
            Token::Uint(valid_from),
            Token::Uint(valid_until),
        ],
    )
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
/// (`NotCertifiedDoctor`).
pub fn anchor_record(
    eh: &[u8; 32],
    commitment: &[u8; 32],
    record_time: u64,
    serial: u64,
) -> Vec<u8> {
    abi::call(
        ANCHOR_RECORD,
        &[
            Token::Bytes32(*eh),
            Token::Bytes32(*commitment),
            Token::Uint(record_time),
            Token::Uint(serial),
        ],
    )
}

/// Calldata of `markDeleted(eh)` (the anchorer or the authority).
pub fn mark_deleted(eh: &[u8; 32]) -> Vec<u8> {
    abi::call(MARK_DELETED, &[Token::Bytes32(*eh)])
}

/// Calldata of `recordStatus(eh)` (a view; decode with
/// [`RecordStatus::decode`](super::RecordStatus::decode)).
pub fn record_status(eh: &[u8; 32]) -> Vec<u8> {
    abi::call(RECORD_STATUS, &[Token::Bytes32(*eh)])
}

/// Calldata of `authorise(R, ST, C1)`: Alg 5 step 5.
pub fn authorise(auth: &Authorisation) -> Vec<u8> {
    abi::call(
        AUTHORISE,
        &[
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
    fn authorise_has_the_compiled_selector() {
        assert_eq!(encode(&abi::selector(AUTHORISE)), "e2c8ad4a");
    }

    #[test]
    fn record_status_has_the_compiled_selector() {
        assert_eq!(encode(&abi::selector(RECORD_STATUS)), "7188c863");
    }
}
