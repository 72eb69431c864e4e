//! `POST /v1/index {x, z, k, eh, filingSecret}`: the patient files the masked values of a
//! record under `X` (`docs/PROTOCOL.md §4`). The server stores exactly these
//! four values; it never sees `k_t`, `Y_tx`, `Y_key`, `K_P` or `tx_id`.

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{hex32, hx, json_body};
use crate::app::{now, AppState};
use crate::error::{ApiError, ApiResult};
use crate::store::{IndexEntry, IndexInsert};
use ehrchain::handoff::FilingSecret;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FileIndex {
    x: String,
    z: String,
    k: String,
    eh: String,
    /// The record's filing secret `F`, hex (from the sealed handoff).
    filing_secret: String,
}

/// Files an entry: 201 when new, 200 when the identical entry was already
/// filed (a retry); `IndexExists` (409) if `X` is filed with other values,
/// `RecordNotFound` (404) unless `eh` is a completed record,
/// `FilingNotAuthorised` (403) unless `filingSecret` opens the commitment
/// the record was uploaded with,
/// `RecordDeletedOnChain` (410) if the registry marks it deleted; with a
/// chain configured, `RecordNotAnchored` (409) unless it is anchored and
/// `AnchorNotCertified` (403) unless a doctor certified at the time
/// anchored it.
pub async fn file(
    State(state): State<AppState>,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let req: FileIndex = json_body(&state, body).await?;
    let k = ehrchain::hex::decode("k", &req.k)?;
    if k.len() != 16 && k.len() != 32 {
        return Err(ehrchain::Error::InvalidLength {
            what: "k",
            expected: "16 or 32",
            actual: k.len(),
        }
        .into());
    }
    let entry = IndexEntry {
        x: hex32("x", &req.x)?,
        z: hex32("z", &req.z)?,
        k,
        eh: hex32("eh", &req.eh)?,
    };
    let secret =
        FilingSecret::from_bytes(&ehrchain::hex::decode("filingSecret", &req.filing_secret)?)?;
    let (x, eh) = (entry.x, entry.eh);
    let outcome = state
        .blocking(move |s| {
            let record = s.meta.record(&entry.eh)?.ok_or(ApiError::RecordNotFound)?;
            match &record.filing {
                Some(commitment) if secret.opens(commitment) => {}
                _ => return Err(ApiError::FilingNotAuthorised),
            }
            super::refuse_if_deleted(s, &entry.eh)?;
            if let Some(chain) = &s.chain {
                super::certified_anchor(chain.as_ref(), &entry.eh)?;
            }
            Ok(s.meta.insert_index(&entry, now())?)
        })
        .await?;
    let status = match outcome {
        IndexInsert::Created => StatusCode::CREATED,
        IndexInsert::Unchanged => StatusCode::OK,
        IndexInsert::Conflict => return Err(ApiError::IndexExists),
        IndexInsert::NoRecord => return Err(ApiError::RecordNotFound),
    };
    Ok((status, Json(json!({ "x": hx(&x), "eh": hx(&eh) }))))
}
