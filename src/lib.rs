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

pub mod account;
pub mod aead;
pub mod cert;
pub mod chain;
pub mod ecies;
pub mod eip712;
pub mod error;
pub mod grant;
pub mod handoff;
pub mod hash;
pub mod hex;
pub mod mask;
mod random;
pub mod record;
pub mod request;
pub mod signature;
#[cfg(target_arch = "wasm32")]
// Every export throws an `EhrchainError` with a `code` (see the module docs),
// so per-function `# Errors` sections would only repeat it.
// Parameter names are the JS API's (camelCase in the generated TypeScript).
#[allow(clippy::missing_errors_doc, non_snake_case)]
pub mod wasm;

pub use account::{Address, PublicKey, SecretKey};
pub use eip712::TypedData;
pub use error::{Error, Result};
pub use signature::Signature;
