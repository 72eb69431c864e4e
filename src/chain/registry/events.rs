//! The registry's events: one table ([`EVENTS`]) gives each event's
//! Solidity signature and number of indexed arguments, from which topic 0
//! and the topic count a decoder checks both come; [`Event`] is a decoded
//! log.

use std::sync::OnceLock;

use serde_json::Value as Json;

use crate::account::Address;
use crate::chain::abi::{self, Reader};
use crate::chain::log::{Log, Receipt};
use crate::error::{Error, Result};
use crate::grant::Authorisation;

/// Which registry event a log is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A certificate was registered.
    DoctorRegistered,
    /// A certificate was revoked.
    DoctorRevoked,
    /// A record's hash was anchored.
    RecordAnchored,
    /// A record was tombstoned.
    RecordDeleted,
    /// A `Trans` was posted for some doctor.
    Authorised,
    /// The authority listed or delisted a hospital's record server.
    HospitalListed,
}

/// One row of [`EVENTS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSpec {
    /// The event.
    pub kind: EventKind,
    /// Its canonical Solidity signature (types only), hashed into topic 0.
    pub signature: &'static str,
    /// How many of its arguments are indexed (topics after topic 0).
    pub indexed: usize,
}

/// Every event the registry emits, as `contracts/EhrRegistry.sol` declares
/// it (a test holds this table against the Solidity source).
pub const EVENTS: [EventSpec; 6] = [
    EventSpec {
        kind: EventKind::DoctorRegistered,
        signature: "DoctorRegistered(uint64,address,bytes,uint64,uint64)",
        indexed: 2,
    },
    EventSpec {
        kind: EventKind::DoctorRevoked,
        signature: "DoctorRevoked(uint64,uint64)",
        indexed: 1,
    },
    EventSpec {
        kind: EventKind::RecordAnchored,
        signature: "RecordAnchored(bytes32,address,uint64,bytes32,uint64,uint64)",
        indexed: 2,
    },
    EventSpec {
        kind: EventKind::RecordDeleted,
        signature: "RecordDeleted(bytes32,address,uint64)",
        indexed: 2,
    },
    EventSpec {
        kind: EventKind::Authorised,
        signature: "Authorised(uint256,bytes1,bytes,bytes,bytes)",
        indexed: 1,
    },
    EventSpec {
        kind: EventKind::HospitalListed,
        signature: "HospitalListed(bytes32,string,string)",
        indexed: 1,
    },
];

/// `(topic 0, row)` of every event, hashed once: decoding is on the
/// scanning hot path (every `Authorised` log a doctor reads).
fn topics() -> &'static [([u8; 32], EventSpec); 6] {
    static TOPICS: OnceLock<[([u8; 32], EventSpec); 6]> = OnceLock::new();
    TOPICS.get_or_init(|| EVENTS.map(|spec| (abi::event_topic(spec.signature), spec)))
}

impl EventKind {
    /// This event's row of [`EVENTS`] (rows are in the order of the
    /// variants, which a test holds).
    pub fn spec(self) -> EventSpec {
        EVENTS[self as usize]
    }

    /// Topic 0: `keccak256(signature)`.
    pub fn topic(self) -> [u8; 32] {
        topics()[self as usize].0
    }

    /// The row of the event whose topic 0 this is, if the registry has one.
    pub fn from_topic(topic0: &[u8; 32]) -> Option<EventSpec> {
        topics()
            .iter()
            .find(|(t, _)| t == topic0)
            .map(|(_, spec)| *spec)
    }
}

/// Topic 0 of `Authorised`, the event a doctor scans for.
pub fn authorised_topic() -> [u8; 32] {
    EventKind::Authorised.topic()
}

/// Topic 0 of `HospitalListed`, the directory's event.
pub fn hospital_listed_topic() -> [u8; 32] {
    EventKind::HospitalListed.topic()
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
    /// `RecordAnchored(eh, anchoredBy, serial, commitment, recordTime, anchoredAt)`.
    RecordAnchored {
        /// SHA-256 of the ciphertext.
        eh: [u8; 32],
        /// Anchoring account (a certified doctor).
        anchored_by: Address,
        /// Serial of the certificate it anchored under.
        serial: u64,
        /// The anchor commitment (`crate::anchor`).
        commitment: [u8; 32],
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
    /// `Authorised(seq, viewTag, r, st, c1)`.
    Authorised {
        /// Sequence number.
        seq: u64,
        /// `Trans = (vt, R, ST, C1)`.
        authorisation: Authorisation,
    },
    /// `HospitalListed(hospitalHash, hospital, endpoint)`.
    HospitalListed {
        /// The hospital's name `H1`.
        hospital: String,
        /// Its record server's base URL; empty when delisted.
        endpoint: String,
    },
}

impl Event {
    /// Decodes one log emitted by the registry at `registry`.
    ///
    /// # Errors
    /// [`Error::WrongContract`] if the log comes from another address;
    /// [`Error::EventNotFound`] for an unknown topic 0; [`Error::AbiDecode`]
    /// for a malformed log (including a topic count other than the event's).
    pub fn decode(log: &Log, registry: &Address) -> Result<Self> {
        if log.address != *registry {
            return Err(Error::WrongContract);
        }
        let topic0 = log.topics.first().ok_or(Error::EventNotFound)?;
        let spec = EventKind::from_topic(topic0).ok_or(Error::EventNotFound)?;
        let [_, indexed @ ..] = log.topics.as_slice() else {
            return Err(Error::EventNotFound);
        };
        if indexed.len() != spec.indexed {
            return Err(Error::AbiDecode {
                reason: "wrong number of topics",
            });
        }
        // Indexed words first (topics 1..), then the data's tuple.
        let mut topic = indexed.iter();
        let mut next_topic = || {
            topic
                .next()
                .map(|t| Reader::new(t))
                .ok_or(Error::AbiDecode {
                    reason: "missing indexed topic",
                })
        };
        let mut data = Reader::new(&log.data);
        Ok(match spec.kind {
            EventKind::DoctorRegistered => Event::DoctorRegistered {
                serial: next_topic()?.uint64()?,
                doctor: next_topic()?.address()?,
                protocol_key: data.bytes()?,
                valid_from: data.uint64()?,
                valid_until: data.uint64()?,
            },
            EventKind::DoctorRevoked => Event::DoctorRevoked {
                serial: next_topic()?.uint64()?,
                revoked_at: data.uint64()?,
            },
            EventKind::RecordAnchored => Event::RecordAnchored {
                eh: next_topic()?.bytes32()?,
                anchored_by: next_topic()?.address()?,
                serial: data.uint64()?,
                commitment: data.bytes32()?,
                record_time: data.uint64()?,
                anchored_at: data.uint64()?,
            },
            EventKind::RecordDeleted => Event::RecordDeleted {
                eh: next_topic()?.bytes32()?,
                deleted_by: next_topic()?.address()?,
                deleted_at: data.uint64()?,
            },
            EventKind::Authorised => {
                let seq = next_topic()?.uint256_as_u64()?;
                let view_tag = data.bytes1()?;
                let (r, st, c1) = (data.bytes()?, data.bytes()?, data.bytes()?);
                Event::Authorised {
                    seq,
                    authorisation: Authorisation::from_parts(view_tag, &r, &st, &c1)?,
                }
            }
            EventKind::HospitalListed => {
                let hospital_hash = next_topic()?.bytes32()?;
                let (hospital, endpoint) = (data.string()?, data.string()?);
                if crate::hash::keccak256(hospital.as_bytes()) != hospital_hash {
                    return Err(Error::AbiDecode {
                        reason: "hospitalHash is not keccak256(hospital)",
                    });
                }
                Event::HospitalListed { hospital, endpoint }
            }
        })
    }

    /// Which event this is.
    pub fn kind(&self) -> EventKind {
        match self {
            Event::DoctorRegistered { .. } => EventKind::DoctorRegistered,
            Event::DoctorRevoked { .. } => EventKind::DoctorRevoked,
            Event::RecordAnchored { .. } => EventKind::RecordAnchored,
            Event::RecordDeleted { .. } => EventKind::RecordDeleted,
            Event::Authorised { .. } => EventKind::Authorised,
            Event::HospitalListed { .. } => EventKind::HospitalListed,
        }
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
                serial,
                commitment,
                record_time,
                anchored_at,
            } => serde_json::json!({
                "event": "RecordAnchored", "eh": hx(eh), "anchoredBy": anchored_by.to_checksum(),
                "serial": serial, "commitment": hx(commitment), "recordTime": record_time, "anchoredAt": anchored_at,
            }),
            Event::RecordDeleted {
                eh,
                deleted_by,
                deleted_at,
            } => serde_json::json!({
                "event": "RecordDeleted", "eh": hx(eh), "deletedBy": deleted_by.to_checksum(), "deletedAt": deleted_at,
            }),
            Event::Authorised { seq, authorisation } => serde_json::json!({
                "event": "Authorised", "seq": seq, "viewTag": authorisation.view_tag,
                "r": hx(&authorisation.r), "st": hx(&authorisation.st),
                "c1": hx(&authorisation.c1),
            }),
            Event::HospitalListed { hospital, endpoint } => serde_json::json!({
                "event": "HospitalListed", "hospital": hospital, "endpoint": endpoint,
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
pub fn anchored_eh_in_receipt(receipt: &Receipt, registry: &Address) -> Result<[u8; 32]> {
    if !receipt.success {
        return Err(Error::Reverted {
            reason: "status 0".into(),
        });
    }
    anchored_eh(&receipt.logs, registry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::abi::{encode, Token};

    const REGISTRY: Address = Address([7; 20]);

    fn anchored_log() -> Log {
        let mut by = [0u8; 32];
        by[31] = 5;
        Log {
            address: REGISTRY,
            topics: vec![EventKind::RecordAnchored.topic(), [9; 32], by],
            data: encode(&[
                Token::Uint(3),
                Token::Bytes32([1; 32]),
                Token::Uint(42),
                Token::Uint(43),
            ]),
            transaction_hash: None,
            block_number: None,
            log_index: None,
        }
    }

    fn receipt(success: bool) -> Receipt {
        Receipt {
            transaction_hash: [1; 32],
            block_number: 1,
            success,
            gas_used: 1,
            from: Address([1; 20]),
            contract_address: None,
            logs: vec![anchored_log()],
        }
    }

    #[test]
    fn rows_are_in_the_order_of_the_kinds() {
        for (i, spec) in EVENTS.iter().enumerate() {
            assert_eq!(spec.kind as usize, i);
            assert_eq!(EventKind::from_topic(&spec.kind.topic()), Some(*spec));
        }
    }

    #[test]
    fn the_authorised_topic_is_the_compiled_contracts() {
        assert_eq!(
            crate::hex::encode(&authorised_topic()),
            "3876740f10977f76339e8399ba19c165d3b37c1e508c5e22f7888fb70ca57b5c"
        );
    }

    #[test]
    fn an_anchoring_log_decodes_to_its_fields() {
        let mut by = [0u8; 20];
        by[19] = 5;
        assert_eq!(
            Event::decode(&anchored_log(), &REGISTRY),
            Ok(Event::RecordAnchored {
                eh: [9; 32],
                anchored_by: Address(by),
                serial: 3,
                commitment: [1; 32],
                record_time: 42,
                anchored_at: 43,
            })
        );
    }

    #[test]
    fn a_log_of_another_contract_is_refused() {
        let other = Address([8; 20]);
        assert_eq!(
            Event::decode(&anchored_log(), &other),
            Err(Error::WrongContract)
        );
        assert_eq!(
            anchored_eh(&[anchored_log()], &other),
            Err(Error::EventNotFound)
        );
    }

    #[test]
    fn an_unknown_topic_is_no_registry_event() {
        let mut log = anchored_log();
        log.topics[0] = [0; 32];
        assert_eq!(Event::decode(&log, &REGISTRY), Err(Error::EventNotFound));
        log.topics.clear();
        assert_eq!(Event::decode(&log, &REGISTRY), Err(Error::EventNotFound));
    }

    #[test]
    fn a_log_with_the_wrong_topic_count_is_refused() {
        let mut log = anchored_log();
        log.topics.pop();
        assert_eq!(
            Event::decode(&log, &REGISTRY),
            Err(Error::AbiDecode {
                reason: "wrong number of topics"
            })
        );
    }

    #[test]
    fn a_successful_anchoring_names_its_record() {
        assert_eq!(
            anchored_eh_in_receipt(&receipt(true), &REGISTRY),
            Ok([9; 32])
        );
    }

    #[test]
    fn a_reverted_anchoring_transaction_names_no_record() {
        assert_eq!(
            anchored_eh_in_receipt(&receipt(false), &REGISTRY),
            Err(Error::Reverted {
                reason: "status 0".into()
            })
        );
    }
}
