//! `GET /metrics`: the Prometheus text exposition of [`crate::metrics`],
//! for the holder of `EHR_METRICS_TOKEN` only.

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::error::ApiError;
use crate::metrics::Sources;

/// Content type of the text exposition format.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `GET /metrics`: `NotFound` without `EHR_METRICS_TOKEN` (the endpoint does
/// not exist), `Unauthorized` without `Authorization: Bearer <token>`
/// (compared in constant time), else 200 with the exposition text.
pub async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(expected) = &state.settings.metrics_token else {
        return Err(ApiError::NotFound);
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        given.as_bytes(),
        expected.as_bytes(),
    )) {
        return Err(ApiError::Unauthorized);
    }
    let (_, entries) = state.audit.head();
    let text = state.metrics.render(Sources {
        chain: state.chain.as_deref().map(|c| c.stats()),
        audit: (entries, state.audit.syncs()),
        issuer_hits: state.issuers.hits(),
    });
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response())
}
