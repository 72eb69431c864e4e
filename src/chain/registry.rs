//! The `EhrRegistry` contract's interface: calldata for every call, decoding
//! of its view results, events and custom errors. The contract's source is
//! `contracts/EhrRegistry.sol`; its selectors and topics are listed in
//! `docs/PROTOCOL.md §13`.

use serde_json::Value as Json;

use super::abi::{self, Kind, Token, Value};
use super::log::Log;
use crate::account::{Address, PublicKey};
use crate::error::{Error, Result};
use crate::grant::Authorisation;

/// `registerDoctor(uint64,address,bytes,uint64,uint64)`.
pub const REGISTER_DOCTOR: &str = "registerDoctor(uint64,address,bytes,uint64,uint64)";
/// `revokeDoctor(uint64)`.
pub const REVOKE_DOCTOR: &str = "revokeDoctor(uint64)";
/// `certificateStatus(uint64)`.
pub const CERTIFICATE_STATUS: &str = "certificateStatus(uint64)";
/// `anchorRecord(bytes32,bytes32,uint64)`.
pub const ANCHOR_RECORD: &str = "anchorRecord(bytes32,bytes32,uint64)";
/// `markDeleted(bytes32)`.
pub const MARK_DELETED: &str = "markDeleted(bytes32)";
/// `recordStatus(bytes32)`.
pub const RECORD_STATUS: &str = "recordStatus(bytes32)";
/// `authorise(bytes,bytes,bytes)`.
pub const AUTHORISE: &str = "authorise(bytes,bytes,bytes)";
/// `authorisationCount()`.
pub const AUTHORISATION_COUNT: &str = "authorisationCount()";

/// Event signatures, in the order of [`Event`]'s variants.
pub const EVENT_SIGNATURES: [&str; 5] = [
    "DoctorRegistered(uint64,address,bytes,uint64,uint64)",
    "DoctorRevoked(uint64,uint64)",
    "RecordAnchored(bytes32,address,bytes32,uint64,uint64)",
    "RecordDeleted(bytes32,address,uint64)",
    "Authorised(uint256,bytes,bytes,bytes)",
];

/// Topic 0 of each of [`EVENT_SIGNATURES`], hashed once: decoding is on the
/// scanning hot path (every `Authorised` log a doctor reads).
pub fn event_topics() -> &'static [[u8; 32]; 5] {
    static TOPICS: std::sync::OnceLock<[[u8; 32]; 5]> = std::sync::OnceLock::new();
    TOPICS.get_or_init(|| EVENT_SIGNATURES.map(abi::event_topic))
}

/// Topic 0 of `Authorised`, the event a doctor scans for.
pub fn authorised_topic() -> [u8; 32] {
    event_topics()[4]
}

/// Custom error signatures of the contract (revert data = selector ‖ arguments).
pub const ERROR_SIGNATURES: [&str; 14] = [
    "NotAuthority()",
    "ZeroAddress()",
    "InvalidProtocolKey()",
    "InvalidValidity()",
    "CertificateExists(uint64)",
    "UnknownCertificate(uint64)",
    "AlreadyRevoked(uint64)",
    "InvalidHash()",
    "AlreadyAnchored(bytes32)",
    "NotAnchored(bytes32)",
    "NotAnchorOwner(bytes32)",
    "AlreadyDeleted(bytes32)",
    "InvalidPoint()",
    "InvalidCiphertext(uint256)",
];

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

/// Calldata of `certificateStatus` (a view; decode with [`CertificateStatus::decode`]).
pub fn certificate_status(serial: u64) -> Vec<u8> {
    abi::call(CERTIFICATE_STATUS, &[Token::Uint(serial)])
}

/// The ASCII record type `Ty1`, right-padded with zeros to 32 bytes.
///
/// # Errors
/// [`Error::OutOfRange`] for non-ASCII text or beyond 32 bytes.
pub fn record_type(text: &str) -> Result<[u8; 32]> {
    if text.len() > 32 {
        return Err(Error::OutOfRange {
            what: "record type (at most 32 bytes)",
        });
    }
    let mut out = [0u8; 32];
    out[..text.len()].copy_from_slice(text.as_bytes());
    Ok(out)
}

/// Calldata of `anchorRecord(eh, recordType, recordTime)`: Alg 4 step 3.
pub fn anchor_record(eh: &[u8; 32], record_type: &[u8; 32], record_time: u64) -> Vec<u8> {
    abi::call(
        ANCHOR_RECORD,
        &[
            Token::Bytes32(*eh),
            Token::Bytes32(*record_type),
            Token::Uint(record_time),
        ],
    )
}

/// Calldata of `markDeleted(eh)` (the anchorer or the authority).
pub fn mark_deleted(eh: &[u8; 32]) -> Vec<u8> {
    abi::call(MARK_DELETED, &[Token::Bytes32(*eh)])
}

/// Calldata of `recordStatus(eh)` (a view; decode with [`RecordStatus::decode`]).
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

fn uint(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

fn boolean(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

fn address(v: &Value) -> Address {
    match v {
        Value::Address(a) => *a,
        _ => Address([0; 20]),
    }
}

fn bytes32(v: &Value) -> [u8; 32] {
    match v {
        Value::Bytes32(b) => *b,
        _ => [0; 32],
    }
}

fn bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::Bytes(b) => b.clone(),
        _ => Vec::new(),
    }
}

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
    /// Decodes `eth_call` return data.
    ///
    /// # Errors
    /// [`Error::AbiDecode`].
    pub fn decode(data: &[u8]) -> Result<Self> {
        let v = abi::decode(
            &[
                Kind::Address,
                Kind::Uint64,
                Kind::Uint64,
                Kind::Bool,
                Kind::Uint64,
            ],
            data,
        )?;
        Ok(CertificateStatus {
            doctor: address(&v[0]),
            valid_from: uint(&v[1]),
            valid_until: uint(&v[2]),
            revoked: boolean(&v[3]),
            revoked_at: uint(&v[4]),
        })
    }

    /// Whether the serial is registered at all.
    pub fn registered(&self) -> bool {
        self.doctor.0 != [0; 20]
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
    /// The anchoring account.
    pub anchored_by: Address,
    /// Block timestamp of the anchoring.
    pub anchored_at: u64,
    /// The record type `Ty1`.
    pub record_type: [u8; 32],
    /// The record time `T1`.
    pub record_time: u64,
    /// Whether it was marked deleted.
    pub deleted: bool,
    /// When, if deleted.
    pub deleted_at: u64,
}

impl RecordStatus {
    /// The status as JSON, the shape the CLI prints and JS receives:
    /// `{anchored, anchoredBy, anchoredAt, recordType (hex), recordTime,
    /// deleted, deletedAt}`.
    pub fn to_json(&self) -> Json {
        serde_json::json!({
            "anchored": self.anchored, "anchoredBy": self.anchored_by.to_checksum(),
            "anchoredAt": self.anchored_at, "recordType": crate::hex::encode_prefixed(&self.record_type),
            "recordTime": self.record_time, "deleted": self.deleted, "deletedAt": self.deleted_at,
        })
    }

    /// Decodes `eth_call` return data.
    ///
    /// # Errors
    /// [`Error::AbiDecode`].
    pub fn decode(data: &[u8]) -> Result<Self> {
        let v = abi::decode(
            &[
                Kind::Bool,
                Kind::Address,
                Kind::Uint64,
                Kind::Bytes32,
                Kind::Uint64,
                Kind::Bool,
                Kind::Uint64,
            ],
            data,
        )?;
        Ok(RecordStatus {
            anchored: boolean(&v[0]),
            anchored_by: address(&v[1]),
            anchored_at: uint(&v[2]),
            record_type: bytes32(&v[3]),
            record_time: uint(&v[4]),
            deleted: boolean(&v[5]),
            deleted_at: uint(&v[6]),
        })
    }
}

/// A decoded registry event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// `DoctorRegistered(serial, doctor, protocolKey, validFrom, validUntil)`.
    DoctorRegistered {
        /// Serial.
        serial: u64,
        /// Doctor's address.
        doctor: Address,
        /// Protocol key `A` (33 bytes as stored).
        protocol_key: Vec<u8>,
        /// Start of validity.
        valid_from: u64,
        /// End of validity.
        valid_until: u64,
    },
    /// `DoctorRevoked(serial, revokedAt)`.
    DoctorRevoked {
        /// Serial.
        serial: u64,
        /// Block timestamp.
        revoked_at: u64,
    },
    /// `RecordAnchored(eh, anchoredBy, recordType, recordTime, anchoredAt)`.
    RecordAnchored {
        /// SHA-256 of the ciphertext.
        eh: [u8; 32],
        /// Anchoring account.
        anchored_by: Address,
        /// `Ty1`.
        record_type: [u8; 32],
        /// `T1`.
        record_time: u64,
        /// Block timestamp.
        anchored_at: u64,
    },
    /// `RecordDeleted(eh, deletedBy, deletedAt)`.
    RecordDeleted {
        /// SHA-256 of the ciphertext.
        eh: [u8; 32],
        /// Account that marked it.
        deleted_by: Address,
        /// Block timestamp.
        deleted_at: u64,
    },
    /// `Authorised(seq, r, st, c1)`.
    Authorised {
        /// Sequence number.
        seq: u64,
        /// `Trans = (R, ST, C1)`.
        authorisation: Authorisation,
    },
}

fn topic_u64(topic: &[u8; 32]) -> Result<u64> {
    match abi::decode(&[Kind::Uint256AsU64], topic)?.first() {
        Some(v) => Ok(uint(v)),
        None => Err(Error::AbiDecode { reason: "topic" }),
    }
}

fn topic_address(topic: &[u8; 32]) -> Result<Address> {
    match abi::decode(&[Kind::Address], topic)?.first() {
        Some(v) => Ok(address(v)),
        None => Err(Error::AbiDecode { reason: "topic" }),
    }
}

impl Event {
    /// Decodes one log emitted by the registry at `registry`.
    ///
    /// # Errors
    /// [`Error::WrongContract`] if the log comes from another address;
    /// [`Error::EventNotFound`] for an unknown topic 0; [`Error::AbiDecode`]
    /// for a malformed log.
    pub fn decode(log: &Log, registry: &Address) -> Result<Self> {
        if log.address != *registry {
            return Err(Error::WrongContract);
        }
        let topic0 = log.topics.first().ok_or(Error::EventNotFound)?;
        let which = event_topics()
            .iter()
            .position(|t| t == topic0)
            .ok_or(Error::EventNotFound)?;
        let topic = |i: usize| {
            log.topics.get(i).ok_or(Error::AbiDecode {
                reason: "missing indexed topic",
            })
        };
        let expected_topics = [3, 2, 3, 3, 2][which];
        if log.topics.len() != expected_topics {
            return Err(Error::AbiDecode {
                reason: "wrong number of topics",
            });
        }
        Ok(match which {
            0 => {
                let v = abi::decode(&[Kind::Bytes, Kind::Uint64, Kind::Uint64], &log.data)?;
                Event::DoctorRegistered {
                    serial: topic_u64(topic(1)?)?,
                    doctor: topic_address(topic(2)?)?,
                    protocol_key: bytes(&v[0]),
                    valid_from: uint(&v[1]),
                    valid_until: uint(&v[2]),
                }
            }
            1 => {
                let v = abi::decode(&[Kind::Uint64], &log.data)?;
                Event::DoctorRevoked {
                    serial: topic_u64(topic(1)?)?,
                    revoked_at: uint(&v[0]),
                }
            }
            2 => {
                let v = abi::decode(&[Kind::Bytes32, Kind::Uint64, Kind::Uint64], &log.data)?;
                Event::RecordAnchored {
                    eh: *topic(1)?,
                    anchored_by: topic_address(topic(2)?)?,
                    record_type: bytes32(&v[0]),
                    record_time: uint(&v[1]),
                    anchored_at: uint(&v[2]),
                }
            }
            3 => {
                let v = abi::decode(&[Kind::Uint64], &log.data)?;
                Event::RecordDeleted {
                    eh: *topic(1)?,
                    deleted_by: topic_address(topic(2)?)?,
                    deleted_at: uint(&v[0]),
                }
            }
            _ => {
                let v = abi::decode(&[Kind::Bytes, Kind::Bytes, Kind::Bytes], &log.data)?;
                Event::Authorised {
                    seq: topic_u64(topic(1)?)?,
                    authorisation: Authorisation::from_parts(
                        &bytes(&v[0]),
                        &bytes(&v[1]),
                        &bytes(&v[2]),
                    )?,
                }
            }
        })
    }

    /// The event as JSON (hex bytes, EIP-55 addresses, numbers), for the CLI and JS.
    pub fn to_json(&self) -> Json {
        use crate::hex::encode_prefixed as hx;
        match self {
            Event::DoctorRegistered {
                serial,
                doctor,
                protocol_key,
                valid_from,
                valid_until,
            } => serde_json::json!({
                "event": "DoctorRegistered", "serial": serial, "doctor": doctor.to_checksum(),
                "protocolKey": hx(protocol_key), "validFrom": valid_from, "validUntil": valid_until,
            }),
            Event::DoctorRevoked { serial, revoked_at } => {
                serde_json::json!({ "event": "DoctorRevoked", "serial": serial, "revokedAt": revoked_at })
            }
            Event::RecordAnchored {
                eh,
                anchored_by,
                record_type,
                record_time,
                anchored_at,
            } => serde_json::json!({
                "event": "RecordAnchored", "eh": hx(eh), "anchoredBy": anchored_by.to_checksum(),
                "recordType": hx(record_type), "recordTime": record_time, "anchoredAt": anchored_at,
            }),
            Event::RecordDeleted {
                eh,
                deleted_by,
                deleted_at,
            } => serde_json::json!({
                "event": "RecordDeleted", "eh": hx(eh), "deletedBy": deleted_by.to_checksum(), "deletedAt": deleted_at,
            }),
            Event::Authorised { seq, authorisation } => serde_json::json!({
                "event": "Authorised", "seq": seq, "r": hx(&authorisation.r), "st": hx(&authorisation.st),
                "c1": hx(&authorisation.c1),
            }),
        }
    }
}

/// `eh` of the record anchored by the transaction whose receipt `logs` are
/// given (Alg 5 step 13: from `tx_id`, read `eh` on chain).
///
/// # Errors
/// [`Error::EventNotFound`] if no `RecordAnchored` log of `registry` is among them.
pub fn anchored_eh(logs: &[Log], registry: &Address) -> Result<[u8; 32]> {
    logs.iter()
        .filter_map(|log| Event::decode(log, registry).ok())
        .find_map(|e| match e {
            Event::RecordAnchored { eh, .. } => Some(eh),
            _ => None,
        })
        .ok_or(Error::EventNotFound)
}

/// `eh` of the record anchored by the transaction of `receipt` (Alg 5 step
/// 13, from `tx_id`): the receipt must show success and carry the
/// registry's `RecordAnchored` log.
///
/// # Errors
/// [`Error::Reverted`] for a failed transaction; as [`anchored_eh`].
pub fn anchored_eh_in_receipt(
    receipt: &super::log::Receipt,
    registry: &Address,
) -> Result<[u8; 32]> {
    if !receipt.success {
        return Err(Error::Reverted {
            reason: "status 0".into(),
        });
    }
    anchored_eh(&receipt.logs, registry)
}

/// Names the registry's custom error in revert data (`"AlreadyAnchored(bytes32)"`),
/// or `None` if the data is not one of them.
pub fn revert_reason(data: &[u8]) -> Option<&'static str> {
    let sel = data.get(..4)?;
    ERROR_SIGNATURES
        .iter()
        .copied()
        .find(|s| abi::selector(s) == sel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_and_topics_match_the_compiled_contract() {
        // Values printed by solc-js for contracts/EhrRegistry.sol (chain/README.md).
        assert_eq!(
            crate::hex::encode(&abi::selector(REGISTER_DOCTOR)),
            "633379e2"
        );
        assert_eq!(
            crate::hex::encode(&abi::selector(ANCHOR_RECORD)),
            "97d2d271"
        );
        assert_eq!(crate::hex::encode(&abi::selector(AUTHORISE)), "e2c8ad4a");
        assert_eq!(
            crate::hex::encode(&abi::selector(RECORD_STATUS)),
            "7188c863"
        );
        assert_eq!(
            crate::hex::encode(&abi::event_topic(EVENT_SIGNATURES[4])),
            "e07e277f38a686ff930e7c96ed0358396fca9d98e2d2b01a1701bd909171f7fb"
        );
        assert_eq!(
            revert_reason(&[0x30, 0xd2, 0x38, 0x13, 0]),
            Some("AlreadyAnchored(bytes32)")
        );
        assert_eq!(revert_reason(&[1, 2, 3, 4]), None);
    }

    #[test]
    fn events_decode_and_refuse_foreign_logs() {
        let registry = Address([7; 20]);
        let eh = [9u8; 32];
        let mut by = [0u8; 32];
        by[31] = 5;
        let log = Log {
            address: registry,
            topics: vec![abi::event_topic(EVENT_SIGNATURES[2]), eh, by],
            data: abi::encode(&[Token::Bytes32([1; 32]), Token::Uint(42), Token::Uint(43)]),
            transaction_hash: None,
            block_number: None,
            log_index: None,
        };
        assert_eq!(anchored_eh(std::slice::from_ref(&log), &registry), Ok(eh));
        assert_eq!(
            Event::decode(&log, &Address([8; 20])),
            Err(Error::WrongContract)
        );
        assert_eq!(
            anchored_eh(std::slice::from_ref(&log), &Address([8; 20])),
            Err(Error::EventNotFound)
        );
        let mut odd = log;
        odd.topics[0] = [0; 32];
        assert_eq!(Event::decode(&odd, &registry), Err(Error::EventNotFound));
    }

    #[test]
    fn a_reverted_anchoring_transaction_names_no_record() {
        let registry = Address([7; 20]);
        let log = Log {
            address: registry,
            topics: vec![abi::event_topic(EVENT_SIGNATURES[2]), [9; 32], [0; 32]],
            data: abi::encode(&[Token::Bytes32([1; 32]), Token::Uint(42), Token::Uint(43)]),
            transaction_hash: None,
            block_number: None,
            log_index: None,
        };
        let mut receipt = super::super::log::Receipt {
            transaction_hash: [1; 32],
            block_number: 1,
            success: true,
            gas_used: 1,
            from: Address([1; 20]),
            contract_address: None,
            logs: vec![log],
        };
        assert_eq!(anchored_eh_in_receipt(&receipt, &registry), Ok([9; 32]));
        receipt.success = false;
        assert_eq!(
            anchored_eh_in_receipt(&receipt, &registry),
            Err(Error::Reverted {
                reason: "status 0".into()
            })
        );
    }
}
