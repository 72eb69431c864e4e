//! One function per endpoint, grouped by resource; helpers shared by them.
//!
//! Every handler's error is an [`ApiError`] answered as `{code, message}`; each
//! endpoint's doc lists its refusals, so per-function `# Errors` sections
//! would only repeat them.
#![allow(clippy::missing_errors_doc)]

use axum::body::Body;
use serde::de::DeserializeOwned;

use crate::app::AppState;
use crate::body::read_limited;
use crate::error::ApiError;

pub mod access;
pub mod health;
pub mod index;
pub mod metrics;
pub mod records;
pub mod relay;
pub mod uploads;

/// Reads a JSON body (at most the configured size) into `T`.
///
/// # Errors
/// [`ApiError::PayloadTooLarge`], `MalformedJson` (structure and position
/// only, never input values), body errors.
pub(crate) async fn json_body<T: DeserializeOwned>(
    state: &AppState,
    body: Body,
) -> Result<T, ApiError> {
    let bytes = read_json_bytes(state, body).await?;
    serde_json::from_str(&bytes).map_err(|e| ApiError::Protocol(e.into()))
}

/// Reads a JSON body's bytes, checking only the size limit and UTF-8.
///
/// # Errors
/// As [`json_body`].
pub(crate) async fn read_json_bytes(state: &AppState, body: Body) -> Result<String, ApiError> {
    let bytes = read_limited(
        body,
        state.settings.max_json_body,
        state.settings.body_idle_timeout,
    )
    .await?;
    String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::MalformedJson("body is not UTF-8".to_owned()))
}

/// Decodes a 32-byte hex value (`0x` optional).
///
/// # Errors
/// The core crate's `InvalidHex` / `InvalidLength` naming `field`.
pub(crate) fn hex32(field: &'static str, text: &str) -> Result<[u8; 32], ApiError> {
    Ok(ehrchain::hex::decode_array(field, "32", text)?)
}

/// `0x`-prefixed lowercase hex.
pub(crate) fn hx(bytes: &[u8]) -> String {
    ehrchain::hex::encode_prefixed(bytes)
}

/// The anchor of `eh` if a certified doctor made it and it is not
/// tombstoned: `RecordNotAnchored` (409), `RecordDeletedOnChain` (410),
/// `AnchorNotCertified` (403) otherwise.
pub(crate) fn certified_anchor(
    chain: &crate::chainstate::ChainState,
    eh: &[u8; 32],
) -> Result<ehrchain::anchor::CertifiedAnchor, ApiError> {
    let block = chain.head()?;
    certified_anchor_at(chain, eh, block)
}

/// [`certified_anchor`] at block `block` (the decision's), or newer.
pub(crate) fn certified_anchor_at(
    chain: &crate::chainstate::ChainState,
    eh: &[u8; 32],
    block: u64,
) -> Result<ehrchain::anchor::CertifiedAnchor, ApiError> {
    chain.certified_anchor_at(eh, block).map_err(|e| match e {
        ehrchain::Error::RecordNotAnchored => ApiError::RecordNotAnchored,
        ehrchain::Error::RecordDeleted => ApiError::RecordDeletedOnChain,
        other => ApiError::Protocol(other),
    })
}

/// Refuses a record this server deleted (`RecordRetired`) or the chain
/// marks deleted (`RecordDeletedOnChain`, when a chain is configured): such
/// a record is never stored or filed again.
pub(crate) fn refuse_if_deleted(s: &crate::app::Shared, eh: &[u8; 32]) -> Result<(), ApiError> {
    if s.meta.is_retired(eh)? {
        return Err(ApiError::RecordRetired);
    }
    if let Some(chain) = &s.chain {
        if chain.record_status(eh)?.deleted {
            return Err(ApiError::RecordDeletedOnChain);
        }
    }
    Ok(())
}
