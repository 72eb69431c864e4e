//! `ehrchain-server`: the hospital record server of ehrchain (issue #4).
//!
//! It keeps record ciphertexts and the patient-filed masked index `{X, Z, K, eh}`
//! and answers verified access requests (`docs/PROTOCOL.md §9`) with
//! `{Z, K, eh}` and a download capability. It holds no key that decrypts a
//! record. See `server/README.md` for the API, configuration and operations.
//!
//! Layout: [`mod@app`] (router and edge middleware), [`handlers`] (one function
//! per endpoint), [`store`] (storage traits; SQLite + files embedded,
//! PostgreSQL + S3 for several instances), [`audit`] (hash-chained audit trail), [`group`] (group commit of
//! the audit log and the nonce store), [`issuers`] (the authority's certificates seen), [`chain`] (registry
//! reads), [`chainstate`] (those reads once per block, shared), [`metrics`] (`GET /metrics`), [`relay`] (the authorisation relayer: the server's one chain
//! write), [`serve`] (HTTP/1.1 loop), [`tasks`] (retention sweep), [`start`].
#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod app;
pub mod audit;
pub mod body;
pub mod chain;
pub mod chainstate;
pub mod config;
pub mod error;
pub mod group;
pub mod handlers;
pub mod issuers;
pub mod metrics;
pub mod ratelimit;
pub mod relay;
pub mod serve;
pub mod start;
pub mod store;
pub mod tasks;

pub use app::{app, AppState};
pub use config::Settings;
pub use error::ApiError;
