//! `GET /healthz`: liveness and readiness in one answer.

use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::app::{AppState, HEALTH_CHAIN_TTL};

/// 200 `{"status": "ok", "db": "ok", "chain": "ok" | "unreachable" | "disabled", "auditEntries": n}`
/// while the database answers (the chain being down degrades access
/// requests, not the server); 503 with `"status": "unavailable"` otherwise.
/// The chain is read at most every [`HEALTH_CHAIN_TTL`], however often the
/// endpoint is hit.
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let checked = state
        .blocking(|s| {
            let db = s.meta.ping().is_ok();
            let chain = match &s.chain {
                None => "disabled",
                Some(c) => {
                    let mut last = s.health_chain.lock().unwrap_or_else(|p| p.into_inner());
                    match *last {
                        Some((at, seen)) if at.elapsed() < HEALTH_CHAIN_TTL => seen,
                        _ => {
                            let seen = match c.probe() {
                                Ok(_) => "ok",
                                Err(_) => "unreachable",
                            };
                            *last = Some((Instant::now(), seen));
                            seen
                        }
                    }
                }
            };
            Ok((db, chain, s.audit.head().1))
        })
        .await;
    match checked {
        Ok((true, chain, entries)) => (
            StatusCode::OK,
            Json(json!({ "status": "ok", "db": "ok", "chain": chain, "auditEntries": entries })),
        ),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "db": "failed" })),
        ),
    }
}
