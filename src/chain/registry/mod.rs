//! The `EhrRegistry` contract's interface, as the contract
//! (`contracts/EhrRegistry.sol`) defines it: the calldata of every call
//! ([`calls`]), the decoding of its views' answers ([`views`]), its events
//! ([`events`]) and its custom errors ([`errors`]). The selectors and topics
//! are listed in `docs/PROTOCOL.md §13`.

pub mod calls;
pub mod errors;
pub mod events;
pub mod views;

pub use calls::{
    anchor_record, authorisation_count, authorise, certificate_status, hospital_endpoint,
    list_hospital, mark_deleted, mark_deleted_by_patient, record_status, register_doctor,
    revoke_doctor,
};
pub use errors::{decode_revert, revert_reason, Revert, RevertArg, ERRORS};
pub use events::{
    anchored_eh, anchored_eh_in_receipt, authorised_topic, hospital_listed_topic, Event, EventKind,
};
pub use views::{CertificateStatus, RecordStatus};
