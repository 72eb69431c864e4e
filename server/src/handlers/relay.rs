//! `POST /v1/relay/authorise {viewTag, r, st, c1}`: the server posts a
//! patient's `authorise(vt, R, ST, C1)` (`docs/PROTOCOL.md §5`, §13) from its
//! relayer account, so her grants share no sender on chain.
//!
//! Every field is checked before anything is spent: the body's shape, the
//! view tag, the lengths (`Authorisation::from_parts`, the registry's own
//! rules), and that `R`, `ST` and `C1`'s ephemeral key are points on the
//! curve (stricter than the registry, which checks the prefix only: a grant
//! with another point could never be opened, and the hospital would pay for
//! it). Only then are the client's and the server's relay budgets taken.
//! Nothing of the request is logged or audited (the request log names no
//! client for this route).

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use ehrchain::grant::Authorisation;
use ehrchain::PublicKey;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{hx, json_body};
use crate::app::{AppState, ClientIp};
use crate::error::{ApiError, ApiResult};
use crate::relay::Relayed;

/// Bytes of `C1`'s ephemeral public key `E`, uncompressed (§6).
const ECIES_EPHEMERAL_LEN: usize = 65;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RelayAuthorise {
    /// An integer 0..=255; any JSON value here, so that a wrong one is
    /// `InvalidField` naming it rather than a parse error.
    view_tag: Value,
    r: String,
    st: String,
    c1: String,
}

impl RelayAuthorise {
    /// The authorisation, every field checked.
    fn authorisation(&self) -> Result<Authorisation, ApiError> {
        let view_tag = self
            .view_tag
            .as_u64()
            .and_then(|v| u8::try_from(v).ok())
            .ok_or(ApiError::InvalidField {
                field: "viewTag",
                reason: "must be an integer from 0 to 255",
            })?;
        let r = ehrchain::hex::decode("r", &self.r)?;
        let st = ehrchain::hex::decode("st", &self.st)?;
        let c1 = ehrchain::hex::decode("c1", &self.c1)?;
        let auth = Authorisation::from_parts(view_tag, &r, &st, &c1)?;
        PublicKey::from_sec1("R", &auth.r)?;
        PublicKey::from_sec1("ST", &auth.st)?;
        PublicKey::from_sec1("C1's ephemeral key", &auth.c1[..ECIES_EPHEMERAL_LEN])?;
        Ok(auth)
    }
}

/// Relays an authorisation: 200 `{transactionHash, blockNumber}` once
/// mined, 202 `{transactionHash, blockNumber: null}` if it is not mined
/// within the receipt timeout. Refusals: `RelayNotConfigured` (503);
/// `MalformedJson`, `InvalidField` (viewTag), `InvalidHex`, `InvalidLength`,
/// `InvalidPublicKey` (400); `RateLimited` (429, `Retry-After`); `Reverted`,
/// `Rpc` (502), `RpcUnreachable` (503).
pub async fn authorise(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let relay = state.relay.clone().ok_or(ApiError::RelayNotConfigured)?;
    let req: RelayAuthorise = json_body(&state, body).await?;
    let auth = req.authorisation()?;
    relay.admit(ip)?;
    let relayed = state.blocking(move |_| relay.relay(&auth)).await?;
    Ok(match relayed {
        Relayed::Mined {
            transaction_hash,
            block_number,
        } => (
            StatusCode::OK,
            Json(json!({ "transactionHash": hx(&transaction_hash), "blockNumber": block_number })),
        ),
        Relayed::Pending { transaction_hash } => (
            StatusCode::ACCEPTED,
            Json(json!({ "transactionHash": hx(&transaction_hash), "blockNumber": null })),
        ),
    })
}
