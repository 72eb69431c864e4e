//! Resumable uploads of record ciphertext in numbered parts over plain HTTP/1.1.
//!
//! ```text
//! POST   /v1/uploads                {eh, size, partSize?, filing, authorization?} -> 201 {uploadId, eh, size, partSize, parts, expiresAt}
//! PUT    /v1/uploads/{id}/parts/{n} raw bytes, exactly partSize (the last part: the rest)   -> 200
//! GET    /v1/uploads/{id}           -> {uploadId, eh, size, partSize, parts, received, missing, state}
//! POST   /v1/uploads/{id}/complete  -> 200 {eh, size, state: "complete"}
//! DELETE /v1/uploads/{id}           -> 204
//! ```
//! Parts are numbered from 0. A part is acknowledged once durable; sending it
//! again replaces it atomically (idempotent for the same bytes). `complete`
//! streams the parts into the record, checks SHA-256 against `eh`, and only
//! then makes the record visible; it is idempotent once it succeeded.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Extension;
use axum::Json;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::{hex32, hx, json_body};
use ehrchain::upload::SignedUpload;
use sha2::Digest;

use crate::app::{now, AppState, ClientIp, Shared};
use crate::body::{drain, next_chunk, DRAIN_DEADLINE};
use crate::error::{ApiError, ApiResult};
use crate::store::{Admission, Record, StoreError, Upload, UploadId, STAFF_OWNER};
use crate::tasks;

/// Body chunks queued between the socket and the part file.
const PART_QUEUE: usize = 8;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateUpload {
    eh: String,
    size: u64,
    part_size: Option<u64>,
    /// `SHA-256("ehrchain/v1/filing" ‖ F)`, hex: only the holder of `F`
    /// will be able to file index entries for the record.
    filing: String,
    /// A certified doctor's signed upload request (`SignedUpload` JSON) for
    /// exactly this `eh`, `size` and `filing`.
    authorization: Option<Value>,
}

/// Prefix of the owner of a doctor's signed upload.
const DOCTOR_OWNER: &str = "doctor:";

/// Domain label of the stored nonce key of a signed upload request.
const UPLOAD_NONCE_LABEL: &[u8] = b"ehrchain-server/v1/upload-nonce";

/// Whether the request carries the staff token: `Ok(true)` it does,
/// `Ok(false)` it carries none, `Unauthorized` a wrong one (or one on a
/// server that has no token).
fn staff(state: &AppState, headers: &HeaderMap) -> Result<bool, ApiError> {
    let Some(given) = headers.get(header::AUTHORIZATION) else {
        return Ok(false);
    };
    let given = given
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    match &state.settings.upload_token {
        Some(expected)
            if subtle::ConstantTimeEq::ct_eq(given.as_bytes(), expected.as_bytes()).into() =>
        {
            Ok(true)
        }
        _ => Err(ApiError::Unauthorized),
    }
}

/// Whether this request may act on `upload` (its parts, status,
/// completion, abort): with the staff token always; a doctor's signed
/// upload by its id alone (a 128-bit capability answered only to him); an
/// open upload while the server takes open uploads.
fn may_use(state: &AppState, headers: &HeaderMap, upload: &Upload) -> Result<(), ApiError> {
    if staff(state, headers)? || upload.owner.starts_with(DOCTOR_OWNER) {
        return Ok(());
    }
    if state.settings.open_uploads && upload.owner != STAFF_OWNER {
        return Ok(());
    }
    Err(ApiError::Unauthorized)
}

/// Checks a doctor's signed upload request for `(eh, size, filing)`:
/// every offline check of the request (certificate of the authority, for
/// this hospital, valid now; signer; hospital; expiry and TTL), then the
/// certificate on chain, then its nonce. Returns the doctor.
async fn signed_uploader(
    state: &AppState,
    authorization: Value,
    (eh, size, filing): ([u8; 32], u64, [u8; 32]),
) -> Result<ehrchain::Address, ApiError> {
    let settings = &state.settings;
    let (Some(authority), Some(hospital)) = (settings.authority, settings.hospital.as_deref())
    else {
        return Err(ApiError::AccessNotConfigured);
    };
    let chain = state.chain()?;
    let signed = SignedUpload::from_value(authorization)?;
    let unconfirmed = signed.verify_offline_using(
        &state.issuers,
        &authority,
        hospital,
        now(),
        settings.max_request_ttl,
    )?;
    let r = &signed.request;
    if (r.eh, r.size, r.filing) != (eh, size, filing) {
        return Err(ApiError::InvalidField {
            field: "authorization",
            reason: "does not sign this upload's eh, size and filing",
        });
    }
    let serial = unconfirmed.serial();
    let status = state
        .blocking(move |_| Ok(chain.certificate_status(serial)?))
        .await?;
    let verified = unconfirmed.confirm(&status)?;
    let key: [u8; 32] = sha2::Sha256::new()
        .chain_update(UPLOAD_NONCE_LABEL)
        .chain_update(verified.doctor.0)
        .chain_update(verified.request.nonce)
        .finalize()
        .into();
    let expiry = verified.request.expiry;
    if !state
        .blocking(move |s| Ok(s.meta.consume_nonce(&key, expiry)?))
        .await?
    {
        return Err(ApiError::Replay);
    }
    Ok(verified.doctor)
}

fn upload_id(text: &str) -> Result<UploadId, ApiError> {
    UploadId::parse(text).ok_or(ApiError::UploadNotFound)
}

fn describe(state: &AppState, u: &Upload) -> Value {
    json!({
        "uploadId": u.id.to_hex(),
        "eh": hx(&u.eh),
        "size": u.size,
        "partSize": u.part_size,
        "parts": u.parts(),
        "expiresAt": u.created_at.saturating_add(state.settings.upload_ttl.as_secs()),
    })
}

/// `POST /v1/uploads`: by the staff token (`Authorization: Bearer`), a
/// certified doctor's signed request (`authorization`), or anyone on a
/// server started with open uploads; within the open-upload bounds of its
/// client and of the server.
pub async fn create(
    State(state): State<AppState>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let by_staff = staff(&state, &headers)?;
    if !by_staff && !state.settings.open_uploads && !state.signed_uploads() {
        return Err(ApiError::Unauthorized);
    }
    let req: CreateUpload = json_body(&state, body).await?;
    let eh = hex32("eh", &req.eh)?;
    let filing = hex32("filing", &req.filing)?;
    let owner = match (by_staff, req.authorization) {
        (true, _) => STAFF_OWNER.to_owned(),
        (false, Some(auth)) => {
            let doctor = signed_uploader(&state, auth, (eh, req.size, filing)).await?;
            format!("{DOCTOR_OWNER}{}", doctor.to_checksum())
        }
        (false, None) if state.settings.open_uploads => format!("ip:{ip}"),
        (false, None) => return Err(ApiError::Unauthorized),
    };
    let s = &state.settings;
    if req.size == 0 {
        return Err(ApiError::InvalidField {
            field: "size",
            reason: "must be at least 1",
        });
    }
    if req.size > s.max_record_size {
        return Err(ApiError::RecordTooLarge {
            max: s.max_record_size,
        });
    }
    let part_size = req.part_size.unwrap_or(s.default_part_size);
    if !(s.min_part_size..=s.max_part_size).contains(&part_size)
        || req.size.div_ceil(part_size) > s.max_parts
    {
        return Err(ApiError::InvalidPartSize {
            min: s.min_part_size,
            max: s.max_part_size,
            max_parts: s.max_parts,
        });
    }
    let upload = Upload {
        id: UploadId::random()?,
        eh,
        size: req.size,
        part_size,
        created_at: now(),
        filing,
        done: false,
        owner,
    };
    let row = upload.clone();
    let bounds = state.settings.upload_bounds;
    state
        .blocking(move |s| {
            super::refuse_if_deleted(s, &row.eh)?;
            if s.meta.record(&row.eh)?.is_some() {
                return Err(ApiError::RecordExists);
            }
            match s.meta.create_upload(&row, &bounds)? {
                Admission::Admitted => Ok(()),
                Admission::OwnerFull => Err(ApiError::UploadQuotaExceeded),
                Admission::ServerFull => Err(ApiError::UploadCapacityExceeded),
            }
        })
        .await?;
    tracing::info!(upload = %upload.id.log_label(), size = upload.size, parts = upload.parts(), "upload created");
    Ok((StatusCode::CREATED, Json(describe(&state, &upload))))
}

async fn load(state: &AppState, id: UploadId) -> Result<Upload, ApiError> {
    state
        .blocking(move |s| s.meta.upload(&id)?.ok_or(ApiError::UploadNotFound))
        .await
}

/// `GET /v1/uploads/{id}`: which parts are held.
pub async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = upload_id(&id)?;
    let upload = load(&state, id).await?;
    may_use(&state, &headers, &upload)?;
    let received = if upload.done {
        (0..upload.parts()).collect()
    } else {
        state
            .blocking(move |s| Ok(s.blobs.list_parts(&id)?))
            .await?
    };
    let held: std::collections::HashSet<u64> = received.iter().copied().collect();
    let missing: Vec<u64> = (0..upload.parts()).filter(|n| !held.contains(n)).collect();
    let mut out = describe(&state, &upload);
    out["received"] = json!(received);
    out["missing"] = json!(missing);
    out["state"] = json!(if upload.done { "complete" } else { "open" });
    Ok(Json(out))
}

enum Chunk {
    Data(Bytes),
    Commit,
}

/// `PUT /v1/uploads/{id}/parts/{n}`: the raw part bytes, streamed to disk.
/// A refused part's remaining body is read and discarded (at most one part
/// size, a few seconds) so the client reads the refusal.
pub async fn put_part(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, n)): Path<(String, String)>,
    mut body: Body,
) -> ApiResult<Json<Value>> {
    let result = receive_part(&state, &headers, &id, &n, &mut body).await;
    if result.is_err() {
        drain(&mut body, state.settings.max_part_size, DRAIN_DEADLINE).await;
    }
    result
}

async fn receive_part(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    n: &str,
    body: &mut Body,
) -> ApiResult<Json<Value>> {
    let id = upload_id(id)?;
    let upload = load(state, id).await?;
    may_use(state, headers, &upload)?;
    let parts = upload.parts();
    let n: u64 = n
        .parse()
        .map_err(|_| ApiError::InvalidPartNumber { parts })?;
    if upload.done {
        return Err(ApiError::UploadCompleted);
    }
    let expected = upload
        .part_len(n)
        .ok_or(ApiError::InvalidPartNumber { parts })?;
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match announced {
        Some(len) if len > expected => return Err(ApiError::PartTooLarge { expected }),
        Some(len) if len < expected => {
            return Err(ApiError::PartSizeMismatch { expected, got: len })
        }
        _ => {}
    }

    // The file is written on the blocking pool; the socket side hands it
    // chunks through a small queue, so memory stays flat whatever the part size.
    let (tx, mut rx) = mpsc::channel::<Chunk>(PART_QUEUE);
    let blobs = state.blobs.clone();
    let writer = tokio::task::spawn_blocking(move || -> Result<(), StoreError> {
        let mut w = blobs.part_writer(&id, n)?;
        while let Some(chunk) = rx.blocking_recv() {
            match chunk {
                Chunk::Data(data) => w.write(&data)?,
                Chunk::Commit => return w.commit(),
            }
        }
        Err(StoreError::Aborted) // dropped: the temporary file goes
    });

    let idle = state.settings.body_idle_timeout;
    let mut received: u64 = 0;
    let streamed: Result<(), ApiError> = async {
        while let Some(data) = next_chunk(body, idle).await? {
            received += data.len() as u64;
            if received > expected {
                return Err(ApiError::PartTooLarge { expected });
            }
            if tx.send(Chunk::Data(data)).await.is_err() {
                return Ok(()); // the writer failed: its error is reported below
            }
        }
        if received < expected {
            return Err(ApiError::PartSizeMismatch {
                expected,
                got: received,
            });
        }
        let _ = tx.send(Chunk::Commit).await;
        Ok(())
    }
    .await;
    drop(tx);
    let written = writer
        .await
        .map_err(|e| ApiError::Internal(format!("part writer failed: {e}")))?;
    streamed?;
    written?;
    Ok(Json(
        json!({ "uploadId": id.to_hex(), "part": n, "size": expected }),
    ))
}

/// Removes `id` from the set of running completions when dropped.
struct CompletingGuard {
    state: AppState,
    id: UploadId,
}

impl Drop for CompletingGuard {
    fn drop(&mut self) {
        self.state
            .completing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.id);
    }
}

/// Assembles, checks and commits `upload`; `lost` is set if this
/// instance's lease on it lapsed and another instance took the upload over
/// (the commit is then left to that one).
fn finish(s: &Shared, upload: &Upload, lost: &AtomicBool) -> Result<(), ApiError> {
    let held = s.blobs.list_parts(&upload.id)?;
    let parts = upload.parts();
    let missing: Vec<u64> = (0..parts)
        .filter(|n| held.binary_search(n).is_err())
        .collect();
    if let Some(first) = missing.first() {
        return Err(ApiError::UploadIncomplete {
            missing: missing.len() as u64,
            first: *first,
        });
    }
    super::refuse_if_deleted(s, &upload.eh)?;
    // Always assembled and checked, even if another upload already completed
    // the same eh: identical bytes by hash then replace it atomically.
    s.blobs
        .assemble(&upload.id, parts, upload.size, &upload.eh)?;
    if lost.load(Ordering::SeqCst) {
        return Err(ApiError::UploadBusy);
    }
    s.meta
        .finish_upload(
            &upload.id,
            &Record {
                eh: upload.eh,
                size: upload.size,
                created_at: now(),
                filing: Some(upload.filing),
            },
        )
        .map_err(|e| match e {
            // Expired or aborted meanwhile by an instance that took it over.
            StoreError::NotFound => ApiError::UploadNotFound,
            e => e.into(),
        })?;
    if let Err(e) = s.blobs.delete_upload(&upload.id) {
        // The record is committed; leftover parts are removed at the next start.
        tracing::warn!(error = %e, "could not remove the parts of a completed upload");
    }
    Ok(())
}

/// `POST /v1/uploads/{id}/complete`.
pub async fn complete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = upload_id(&id)?;
    let upload = load(&state, id).await?;
    may_use(&state, &headers, &upload)?;
    let done = json!({ "uploadId": id.to_hex(), "eh": hx(&upload.eh), "size": upload.size, "state": "complete" });
    if upload.done {
        return Ok(Json(done));
    }
    if !state
        .completing
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id)
    {
        return Err(ApiError::UploadBusy);
    }
    let guard = CompletingGuard {
        state: state.clone(),
        id,
    };
    // Detached: once started, the assembly finishes and commits even if the
    // client goes away or the deadline passes; a retry then finds it done.
    let job = tokio::spawn(async move {
        let lease = UploadLease::take(&guard.state, &upload.id, "complete").await?;
        let lost = lease.lost();
        let result = guard
            .state
            .blocking(move |s| match s.meta.upload(&upload.id)? {
                // Completed, or removed, by another instance while this
                // request was on its way to the lease: read again under it.
                Some(current) if current.done => Ok(()),
                Some(current) => finish(s, &current, &lost),
                None => Err(ApiError::UploadNotFound),
            })
            .await;
        lease.release().await;
        drop(guard);
        result
    });
    job.await
        .map_err(|e| ApiError::Internal(format!("completion task failed: {e}")))??;
    tracing::info!(upload = %id.log_label(), "upload completed");
    Ok(Json(done))
}

/// `DELETE /v1/uploads/{id}`: abandons an upload and its parts.
pub async fn abort(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = upload_id(&id)?;
    let upload = load(&state, id).await?;
    may_use(&state, &headers, &upload)?;
    if state
        .completing
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .contains(&id)
    {
        return Err(ApiError::UploadBusy);
    }
    let lease = UploadLease::take(&state, &upload.id, "abort").await?;
    let result = state
        .blocking(move |s| {
            s.meta.delete_upload(&upload.id)?;
            s.blobs.delete_upload(&upload.id)?;
            Ok(())
        })
        .await;
    lease.release().await;
    result?;
    Ok(StatusCode::NO_CONTENT)
}

/// An upload's lease in the shared metadata store ([`tasks::upload_lease`]),
/// held by one task of this instance: taken before the task touches the
/// upload, renewed every third of `EHR_UPLOAD_LEASE_SECS` while it runs,
/// given up when it ends. If the process stops, the lease lapses after
/// `EHR_UPLOAD_LEASE_SECS` and any instance may take the upload over.
struct UploadLease {
    state: AppState,
    name: String,
    holder: String,
    renewal: tokio::task::JoinHandle<()>,
    lost: Arc<AtomicBool>,
}

impl UploadLease {
    /// Takes the lease of upload `id` for `task`, or `UploadBusy` if another
    /// instance (or another task here) holds it.
    async fn take(state: &AppState, id: &UploadId, task: &str) -> Result<Self, ApiError> {
        let (name, holder) = (tasks::upload_lease(id), tasks::holder(task));
        let ttl = state.settings.upload_lease;
        if !try_lease(state, &name, &holder, ttl).await? {
            return Err(ApiError::UploadBusy);
        }
        let lost = Arc::new(AtomicBool::new(false));
        let renewal = tokio::spawn({
            let (state, name, holder, lost) =
                (state.clone(), name.clone(), holder.clone(), lost.clone());
            async move {
                let mut tick = tokio::time::interval(ttl / 3);
                tick.tick().await; // the first tick is now
                loop {
                    tick.tick().await;
                    match try_lease(&state, &name, &holder, ttl).await {
                        Ok(true) => {}
                        // It lapsed and another holder took it: the task must not commit.
                        Ok(false) => lost.store(true, Ordering::SeqCst),
                        // The next tick tries again, before the lease lapses.
                        Err(e) => tracing::warn!(error = %e, "could not renew an upload lease"),
                    }
                }
            }
        });
        Ok(UploadLease {
            state: state.clone(),
            name,
            holder,
            renewal,
            lost,
        })
    }

    /// Set once a renewal found the lease taken by another holder.
    fn lost(&self) -> Arc<AtomicBool> {
        self.lost.clone()
    }

    /// Stops renewing and gives the lease up, so another holder may take it
    /// at once. A failure only leaves it to lapse.
    async fn release(self) {
        self.renewal.abort();
        let (name, holder) = (self.name.clone(), self.holder.clone());
        if let Err(e) = self
            .state
            .blocking(move |s| Ok(s.meta.release_lease(&name, &holder)?))
            .await
        {
            tracing::warn!(error = %e, "could not give up an upload lease");
        }
    }
}

impl Drop for UploadLease {
    fn drop(&mut self) {
        self.renewal.abort();
    }
}

async fn try_lease(
    state: &AppState,
    name: &str,
    holder: &str,
    ttl: Duration,
) -> Result<bool, ApiError> {
    let (name, holder) = (name.to_owned(), holder.to_owned());
    state
        .blocking(move |s| Ok(s.meta.try_lease(&name, &holder, now(), ttl.as_secs())?))
        .await
}
