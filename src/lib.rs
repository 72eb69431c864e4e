#![doc = include_str!("../docs/CRATE.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::cast_possible_truncation
    )
)]

// Primitives: accounts, signatures, typed data, hashes, encodings, ciphers.
pub mod account;
pub mod aead;
pub mod ecies;
pub mod eip712;
pub mod hash;
pub mod hex;
mod random;
pub mod recovery;
pub mod signature;
pub mod time;

// The protocol, in the paper's order.
pub mod anchor;
pub mod cert;
pub mod grant;
pub mod handoff;
pub mod mask;
pub mod record;
pub mod request;
pub mod signed;
pub mod unlock;
pub mod upload;

// The registry on Ethereum.
pub mod chain;

// Failures, one code each.
pub mod error;

// The JS bindings (wasm32 only).
#[cfg(target_arch = "wasm32")]
// Every export throws an `EhrchainError` with a `code` (see the module docs),
// so per-function `# Errors` sections would only repeat it.
// Parameter names are the JS API's (camelCase in the generated TypeScript).
#[allow(clippy::missing_errors_doc, non_snake_case)]
pub mod wasm;

pub use account::{Address, PublicKey, SecretKey};
pub use anchor::{AnchorOpening, CertifiedAnchor, RecordType};
pub use cert::{Certificate, CertificateBody, Issuers, Recover};
pub use eip712::TypedData;
pub use error::{Error, Result};
pub use grant::{AccessPass, Authorisation, Grant, OpenedGrant, Scanner};
pub use mask::{MaskKey, RecordContext};
pub use record::{Decryptor, Encryptor, RecordKey};
pub use request::{AccessRequest, SignedRequest};
pub use signature::Signature;
pub use signed::{Signable, Signed};
pub use upload::{SignedUpload, UploadRequest};
