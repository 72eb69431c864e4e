//! `GET /healthz`: liveness and readiness in one answer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::app::AppState;

/// 200 `{"status": "ok", "db": "ok", "chain": "ok" | "unreachable" | "disabled", "auditEntries": n}`
/// while the database answers (the chain being down degrades access
/// requests, not the server); 503 with `"status": "unavailable"` otherwise.
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let checked = state
        .blocking(|s| {
            let db = s.meta.ping().is_ok();
            let chain = match &s.chain {
                None => "disabled",
                Some(c) => match c.record_status(&[0; 32]) {
                    Ok(_) => "ok",
                    Err(_) => "unreachable",
                },
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
