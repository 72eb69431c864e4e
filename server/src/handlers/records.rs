//! Records: ranged download with a capability token, and deletion once the
//! registry marks a record deleted.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::{Extension, Json};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{hex32, hx};
use crate::app::{now, AppState, ClientIp};
use crate::audit::AuditEvent;
use crate::body::{parse_range, stream_range, ByteRange};
use crate::error::{ApiError, ApiResult};

fn token_param(query: Option<&str>) -> Option<[u8; 32]> {
    let value = query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "token")?
        .1;
    let mut token = [0u8; 32];
    hex::decode_to_slice(value, &mut token).ok()?;
    Some(token)
}

fn header_value(text: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(text).map_err(|e| ApiError::Internal(e.to_string()))
}

/// `GET /v1/records/{eh}?token=…`: the ciphertext, whole (200) or one byte
/// range (206, `Range: bytes=a-b | a- | -n`), with `ETag` = `"<eh hex>"` (a
/// strong validator: the content's hash) honoured in `If-Range`. The token
/// must have been issued for this `eh` and not expired; a record the
/// registry marks deleted is never served.
pub async fn download(
    State(state): State<AppState>,
    Path(eh): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let eh = hex32("eh", &eh)?;
    let token = token_param(query.as_deref()).ok_or(ApiError::InvalidToken)?;
    let token_hash: [u8; 32] = Sha256::digest(token).into();
    let (reader, total) = state
        .blocking(move |s| {
            let (granted, expiry) = s.meta.token(&token_hash)?.ok_or(ApiError::InvalidToken)?;
            if granted != eh {
                return Err(ApiError::InvalidToken);
            }
            if expiry <= now() {
                return Err(ApiError::TokenExpired);
            }
            if let Some(chain) = &s.chain {
                if chain.record_status(&eh)?.deleted {
                    return Err(ApiError::RecordDeletedOnChain);
                }
            }
            s.meta.record(&eh)?.ok_or(ApiError::RecordNotFound)?;
            Ok(s.blobs.open_record(&eh)?)
        })
        .await?;

    let etag = format!("\"{}\"", hex::encode(eh));
    let if_range_ok = headers
        .get(header::IF_RANGE)
        .is_none_or(|v| v.as_bytes() == etag.as_bytes());
    let range_header = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let range = if if_range_ok {
        parse_range(range_header, total)
            .map_err(|()| ApiError::RangeNotSatisfiable { len: total })?
    } else {
        None
    };
    let (status, ByteRange { start, len }) = match range {
        Some(r) => (StatusCode::PARTIAL_CONTENT, r),
        None => (
            StatusCode::OK,
            ByteRange {
                start: 0,
                len: total,
            },
        ),
    };
    let mut response = Response::new(stream_range(reader, start, len));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::ETAG, header_value(&etag)?);
    if status == StatusCode::PARTIAL_CONTENT {
        let last = start + len - 1;
        h.insert(
            header::CONTENT_RANGE,
            header_value(&format!("bytes {start}-{last}/{total}"))?,
        );
    }
    Ok(response)
}

/// `DELETE /v1/records/{eh}`: removes the ciphertext and every index entry
/// and token of a record **that the registry marks deleted**. The on-chain
/// tombstone is the authorisation: only the record's anchorer or the health
/// authority can set it (`markDeleted`, `docs/PROTOCOL.md §13`), and it is
/// public and permanent. Anyone may therefore ask the server to apply it;
/// otherwise `NotDeletedOnChain` (409). Idempotent: `removed` tells whether
/// anything was still stored.
pub async fn delete(
    State(state): State<AppState>,
    Path(eh): Path<String>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
) -> ApiResult<Json<Value>> {
    let eh = hex32("eh", &eh)?;
    let chain = state.chain()?;
    let removed = state
        .blocking(move |s| {
            if !chain.record_status(&eh)?.deleted {
                return Err(ApiError::NotDeletedOnChain);
            }
            let removed = s.meta.retire_record(&eh, "delete", now())?;
            s.blobs.delete_record(&eh)?;
            Ok(removed)
        })
        .await?;
    state
        .audit(AuditEvent {
            event: "delete",
            decision: "deleted",
            code: "Ok",
            eh: Some(eh),
            client: Some(ip),
            ..AuditEvent::default()
        })
        .await?;
    tracing::info!(removed, "record deleted after its on-chain tombstone");
    Ok(Json(json!({ "eh": hx(&eh), "removed": removed })))
}
