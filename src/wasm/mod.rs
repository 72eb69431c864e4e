//! The JavaScript bindings (`#[wasm_bindgen]`): a thin layer over the core.
//!
//! Conventions, for every export:
//! - bytes are `Uint8Array`; addresses are EIP-55 strings; times are Unix
//!   seconds as `number` (integers up to `Number.MAX_SAFE_INTEGER`);
//! - secret keys never cross into JS unless exported on purpose: they live in
//!   [`Key`] handles (wasm memory, zeroised on `free()` / garbage collection);
//! - every failure throws an `Error` whose `code` property is the stable
//!   [`crate::Error::code`] and whose `name` is `"EhrchainError"`.
//!
//! One file per protocol concept; [`conversion`] is the only place that
//! turns JS values into core types and core errors into JS errors.

mod account;
mod anchor;
mod cert;
mod conversion;
mod ecies;
mod events;
mod grant;
mod handoff;
mod hash;
mod mask;
mod record;
mod registry;
mod request;
mod segments;
mod signature;
mod transaction;
mod types;
mod unlock;
mod upload;

pub use types::error_codes;

pub use account::*;
pub use anchor::*;
pub use cert::*;
pub use ecies::*;
pub use events::*;
pub use grant::*;
pub use handoff::*;
pub use hash::*;
pub use mask::*;
pub use record::*;
pub use registry::*;
pub use request::*;
pub use segments::*;
pub use signature::*;
pub use transaction::*;
pub use unlock::*;
pub use upload::*;
