//! The background sweep: expired nonces and tokens, expired uploads, records
//! past their retention period, and part directories nobody owns.
//!
//! Several server instances may share one metadata store (PostgreSQL): a
//! sweep runs only on the instance holding the lease [`SWEEP_LEASE`]
//! ([`crate::store::MetaStore::try_lease`]), renewed at every sweep and
//! taken over by another instance once it has not been renewed for
//! [`lease_ttl`]. Each process names itself by [`instance_id`].

use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::Duration;

use crate::app::{now, AppState, Shared};
use crate::audit::AuditEvent;
use crate::error::ApiError;
use crate::store::UploadId;

/// Rows handled per kind and sweep (the next sweep continues).
const BATCH: u32 = 1000;

/// The name of the lease a sweep needs.
pub const SWEEP_LEASE: &str = "sweep";

/// The lease an upload's completion, its expiry by the sweep and its abort
/// each take in the shared metadata store: with several instances on one
/// database, none of them removes an upload another is completing. It
/// lasts `EHR_UPLOAD_LEASE_SECS` and a completion renews it every third of
/// that, so an instance that stops mid-completion holds it that long.
pub fn upload_lease(id: &UploadId) -> String {
    format!("upload:{}", id.to_hex())
}

/// This process's holder name for one kind of task (`"complete"`, `"sweep"`,
/// `"abort"`): distinct per task, so that two tasks of one instance exclude
/// each other through a lease as two instances do.
pub fn holder(task: &str) -> String {
    format!("{}/{task}", instance_id())
}

/// This process's name as a lease holder: 16 random bytes in hex, drawn
/// once (the process id and start time if the system has no randomness).
pub fn instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let mut id = [0u8; 16];
        match getrandom::getrandom(&mut id) {
            Ok(()) => hex::encode(id),
            Err(_) => format!("pid-{}-{}", std::process::id(), now()),
        }
    })
}

/// How long the sweep lease lasts without renewal: three sweep intervals
/// (at least 10 s), so a live holder renews it well before it expires.
pub fn lease_ttl(sweep_interval: Duration) -> u64 {
    sweep_interval.as_secs().saturating_mul(3).max(10)
}

/// What one sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sweep {
    /// The sweep did nothing: another instance holds [`SWEEP_LEASE`].
    pub skipped: bool,
    /// Expired nonce and token rows dropped.
    pub expired_rows: u64,
    /// Expired uploads dropped.
    pub uploads_expired: u64,
    /// Records deleted for retention.
    pub records_retired: u64,
    /// Records deleted because the registry marks them deleted.
    pub records_tombstoned: u64,
    /// Part directories without an open upload removed.
    pub orphan_uploads: u64,
}

/// One sweep at time `t`, if this instance holds (or can take)
/// [`SWEEP_LEASE`]; otherwise nothing ([`Sweep::skipped`]).
///
/// # Errors
/// Storage failures (the sweep stops; the next one retries).
pub fn sweep(s: &Shared, t: u64) -> Result<Sweep, ApiError> {
    let ttl = lease_ttl(s.settings.sweep_interval);
    if !s.meta.try_lease(SWEEP_LEASE, instance_id(), t, ttl)? {
        return Ok(Sweep {
            skipped: true,
            ..Sweep::default()
        });
    }
    let mut report = Sweep {
        expired_rows: s.meta.purge_expired(t)?,
        ..Sweep::default()
    };
    let busy: HashSet<_> = s
        .completing
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let before = t.saturating_sub(s.settings.upload_ttl.as_secs());
    let sweeper = holder("sweep");
    for id in s.meta.uploads_created_before(before, BATCH)? {
        if busy.contains(&id) {
            continue;
        }
        // Another instance (or a completion here that started since `busy`
        // was read) holds the upload: it is being completed, not abandoned.
        let lease = upload_lease(&id);
        if !s
            .meta
            .try_lease(&lease, &sweeper, t, s.settings.upload_lease.as_secs())?
        {
            continue;
        }
        s.meta.delete_upload(&id)?;
        s.blobs.delete_upload(&id)?;
        s.meta.release_lease(&lease, &sweeper)?;
        report.uploads_expired += 1;
    }
    if let Some(retention) = s.settings.retention {
        let before = t.saturating_sub(retention.as_secs());
        for eh in s.meta.records_created_before(before, BATCH)? {
            retire(s, &eh, "retention", t)?;
            report.records_retired += 1;
        }
    }
    report.records_tombstoned = apply_tombstones(s, t)?;
    // Directories first, rows second: an upload's row is written before its
    // first part, so a directory listed here whose row is not open afterwards
    // is truly abandoned (the other order could delete a brand-new upload).
    let dirs = s.blobs.list_uploads()?;
    let open: HashSet<_> = s.meta.open_uploads()?.into_iter().collect();
    for id in dirs {
        if !open.contains(&id) && !busy.contains(&id) {
            s.blobs.delete_upload(&id)?;
            report.orphan_uploads += 1;
        }
    }
    Ok(report)
}

/// Removes a stored record for good: row first (a crash in between leaves
/// an unreferenced file, removed at start-up, never a row without its
/// ciphertext), then the ciphertext, then the audit entry.
fn retire(s: &Shared, eh: &[u8; 32], reason: &'static str, t: u64) -> Result<(), ApiError> {
    s.meta.retire_record(eh, reason, t)?;
    s.blobs.delete_record(eh)?;
    s.audit
        .append(
            &AuditEvent {
                event: reason,
                decision: "deleted",
                code: "Ok",
                eh: Some(*eh),
                ..AuditEvent::default()
            },
            t,
        )
        .map_err(|e| ApiError::Internal(format!("audit log: {e}")))
}

/// Reads the on-chain status of the next [`BATCH`] stored records (a walk
/// over all of them in `eh` order, resumed where the previous sweep
/// stopped) and deletes those the registry marks deleted, so a tombstone is
/// applied without anyone calling `DELETE`. An unreachable chain ends the
/// pass; the next sweep resumes from the same place.
fn apply_tombstones(s: &Shared, t: u64) -> Result<u64, ApiError> {
    let Some(chain) = &s.chain else {
        return Ok(0);
    };
    let mut cursor = s.tombstone_cursor.lock().unwrap_or_else(|p| p.into_inner());
    let batch = s.meta.records_after(cursor.as_ref(), BATCH)?;
    let mut deleted = 0;
    // The whole pass at one block: one block-number read, not one per record.
    let block = match chain.head() {
        Ok(block) => block,
        Err(e) => {
            tracing::warn!(error = %e, "tombstone check skipped: chain unreadable");
            return Ok(0);
        }
    };
    for eh in &batch {
        match chain.record_status_at(eh, block) {
            Ok(status) if status.deleted => {
                retire(s, eh, "tombstone", t)?;
                deleted += 1;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "tombstone check stopped: chain unreadable");
                return Ok(deleted);
            }
        }
        *cursor = Some(*eh);
    }
    if batch.len() < BATCH as usize {
        // The walk reached the end: start over next time.
        *cursor = None;
    }
    Ok(deleted)
}

/// Runs [`sweep`] every `sweep_interval` until the task is dropped.
pub async fn run(state: AppState) {
    let mut tick = tokio::time::interval(state.settings.sweep_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match state.blocking(|s| sweep(s, now())).await {
            Ok(r) if r.skipped => {
                tracing::debug!("sweep skipped: another instance holds the sweep lease");
            }
            Ok(r) => {
                let (audit_head, audit_entries) = state.audit.head();
                tracing::info!(
                    expired_rows = r.expired_rows,
                    uploads_expired = r.uploads_expired,
                    records_retired = r.records_retired,
                    records_tombstoned = r.records_tombstoned,
                    orphan_uploads = r.orphan_uploads,
                    audit_head,
                    audit_entries,
                    "sweep"
                );
            }
            Err(e) => tracing::error!(error = %e, "sweep failed"),
        }
    }
}
