//! Storage behind two traits, so that another backend (S3 for ciphertext,
//! PostgreSQL for metadata) can replace the default one without touching the
//! handlers:
//!
//! - [`BlobStore`]: ciphertext bytes: upload parts, then whole records.
//!   Default: [`fs::FsBlobStore`], files under the data directory.
//! - [`MetaStore`]: everything else: uploads, completed records, the masked
//!   index `{X, Z, K, eh}`, used nonces, download tokens.
//!   Default: [`sqlite::SqliteMetaStore`] (WAL, `synchronous = FULL`).
//!
//! Both traits are synchronous; handlers call them on tokio's blocking pool.
//! Streams cross the boundary as [`PartWriter`] and [`RecordReader`].
//!
//! Visibility rule (the crash-safety invariant): a record is served only if
//! its metadata row exists, and the row is committed only after the whole
//! ciphertext file was hashed, fsynced and renamed into place. A part is
//! acknowledged only after its file was fsynced and renamed. [`recover`]
//! reconciles the two stores at start-up.

use std::fmt;
use std::io::{self, Read, Seek};

use bytes::Bytes;

pub mod fs;
pub(crate) mod grouped;
pub mod postgres;
pub mod s3;
pub mod sqlite;

/// SHA-256 of a record's ciphertext: its name everywhere (`eh`).
pub type Eh = [u8; 32];

/// The index value `X` a patient files a record under.
pub type IndexKey = [u8; 32];

/// An upload's identifier: 16 random bytes, written as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct UploadId(pub [u8; 16]);

impl UploadId {
    /// A fresh random identifier.
    ///
    /// # Errors
    /// [`StoreError::Io`] if the system has no randomness.
    pub fn random() -> Result<Self, StoreError> {
        let mut id = [0u8; 16];
        getrandom::getrandom(&mut id)
            .map_err(|_| StoreError::Io(io::Error::other("no randomness")))?;
        Ok(UploadId(id))
    }

    /// Parses 32 hex digits; anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != 32 {
            return None;
        }
        let mut id = [0u8; 16];
        hex::decode_to_slice(text, &mut id).ok()?;
        Some(UploadId(id))
    }

    /// The 32-digit hex form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl UploadId {
    /// What the logs name an upload by: 8 hex digits of SHA-256 of the id.
    /// The id itself is the capability for a doctor's signed upload, so it
    /// is never written to a log.
    pub fn log_label(&self) -> String {
        use sha2::Digest;
        hex::encode(&sha2::Sha256::digest(self.0)[..4])
    }
}

impl fmt::Debug for UploadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UploadId({})", self.to_hex())
    }
}

/// A resumable upload of one record in numbered parts `0..parts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// Its identifier.
    pub id: UploadId,
    /// The claimed `eh`; the assembled ciphertext must hash to it.
    pub eh: Eh,
    /// Total ciphertext size in bytes (at least 1).
    pub size: u64,
    /// Size of every part but the last.
    pub part_size: u64,
    /// Unix time of creation (uploads expire).
    pub created_at: u64,
    /// The commitment to the record's filing secret
    /// (`ehrchain::handoff::FilingSecret::commitment`), which the record
    /// inherits: only the holder of the secret can file it.
    pub filing: [u8; 32],
    /// Whether the record was assembled (the upload is then kept only so that
    /// a repeated `complete` is answered the same way).
    pub done: bool,
    /// Who created it, for the per-client bounds: `staff` (the upload
    /// token), `doctor:0x…` (a signed upload request) or `ip:…` (an open
    /// upload).
    pub owner: String,
}

/// The owner of uploads made with the staff token: bounded only in total.
pub const STAFF_OWNER: &str = "staff";

/// Bounds on open (not completed) uploads, per owner and in total; 0 is no
/// bound. An open upload reserves its whole announced size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadBounds {
    /// Open uploads per owner (not for [`STAFF_OWNER`]).
    pub per_owner_uploads: u64,
    /// Reserved bytes per owner (not for [`STAFF_OWNER`]).
    pub per_owner_bytes: u64,
    /// Open uploads on the server.
    pub total_uploads: u64,
    /// Reserved bytes on the server.
    pub total_bytes: u64,
}

/// Whether a new upload fits its bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Filed.
    Admitted,
    /// Its owner already holds as many open uploads or reserved bytes as allowed.
    OwnerFull,
    /// The server already holds as many open uploads or reserved bytes as allowed.
    ServerFull,
}

impl Upload {
    /// Number of parts.
    pub fn parts(&self) -> u64 {
        self.size.div_ceil(self.part_size.max(1))
    }

    /// Exact length of part `n`, or `None` if there is no such part.
    pub fn part_len(&self, n: u64) -> Option<u64> {
        if n >= self.parts() {
            return None;
        }
        let start = n.checked_mul(self.part_size)?;
        Some(self.part_size.min(self.size - start))
    }
}

/// A completed, visible record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// SHA-256 of the ciphertext.
    pub eh: Eh,
    /// Ciphertext size in bytes.
    pub size: u64,
    /// Unix time it became visible (retention counts from here).
    pub created_at: u64,
    /// The commitment to its filing secret; `None` for a record stored by
    /// a server before filing secrets (it cannot be filed any more).
    pub filing: Option<[u8; 32]>,
}

/// One filed index entry: exactly what the patient sends (`docs/PROTOCOL.md §4`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// `X`.
    pub x: IndexKey,
    /// `Z = tx_id ⊕ Y_tx`.
    pub z: [u8; 32],
    /// `K = K_P ⊕ Y_key` (16 or 32 bytes).
    pub k: Vec<u8>,
    /// The record it points to.
    pub eh: Eh,
}

/// Outcome of filing an index entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexInsert {
    /// Newly filed.
    Created,
    /// The identical entry was already filed (an idempotent retry).
    Unchanged,
    /// `X` is already filed with other values.
    Conflict,
    /// No completed record has this `eh`.
    NoRecord,
}

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The record is already stored under another filing commitment.
    #[error("the record is already stored with another filing commitment")]
    FilingConflict,
    /// The assembled ciphertext does not hash to the claimed `eh`.
    #[error("ciphertext hash does not match the claimed eh")]
    HashMismatch,
    /// The assembled parts do not add up to the declared size.
    #[error("assembled size does not match the declared size")]
    SizeMismatch,
    /// A part is missing at assembly time.
    #[error("part {0} is missing")]
    MissingPart(u64),
    /// The object does not exist.
    #[error("not found")]
    NotFound,
    /// A writer was dropped (the body ended early or the client went away).
    #[error("write aborted")]
    Aborted,
    /// The file system failed.
    #[error("storage I/O error: {0}")]
    Io(#[from] io::Error),
    /// The database failed.
    #[error("database error: {0}")]
    Db(String),
}

impl StoreError {
    /// Whether the failure is a full disk (answered as 507).
    pub fn is_storage_full(&self) -> bool {
        matches!(self, StoreError::Io(e) if e.raw_os_error() == Some(28) || e.kind() == io::ErrorKind::StorageFull)
    }
}

/// Writes one part. Dropping it without [`PartWriter::commit`] discards
/// everything written (the temporary file is removed).
pub trait PartWriter: Send {
    /// Appends bytes.
    ///
    /// # Errors
    /// I/O failures.
    fn write(&mut self, data: &[u8]) -> Result<(), StoreError>;

    /// Makes the part durable and visible (fsync, rename, fsync directory);
    /// replaces an earlier copy of the same part atomically.
    ///
    /// # Errors
    /// I/O failures; nothing is visible then.
    fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// A record's ciphertext, readable and seekable (for ranges).
pub trait RecordReader: Read + Seek + Send {
    /// The next bytes, at most `max`, empty only at the end: one piece of a
    /// download. The default reads into a new buffer; a reader that already
    /// holds the fetched bytes hands them over without copying them.
    ///
    /// # Errors
    /// I/O failures.
    fn next_chunk(&mut self, max: usize) -> io::Result<Bytes> {
        let mut buf = vec![0u8; max];
        loop {
            match self.read(&mut buf) {
                Ok(n) => {
                    buf.truncate(n);
                    return Ok(Bytes::from(buf));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl RecordReader for std::fs::File {}

/// Ciphertext storage.
pub trait BlobStore: Send + Sync + fmt::Debug + 'static {
    /// A writer for part `n` of `upload`.
    ///
    /// # Errors
    /// I/O failures.
    fn part_writer(&self, upload: &UploadId, n: u64) -> Result<Box<dyn PartWriter>, StoreError>;

    /// The parts of `upload` held (committed), ascending.
    ///
    /// # Errors
    /// I/O failures.
    fn list_parts(&self, upload: &UploadId) -> Result<Vec<u64>, StoreError>;

    /// Streams parts `0..parts` into the record's ciphertext, hashing as it
    /// goes; only if the total is `size` bytes and the hash is `eh` is the
    /// record made durable and put in place. Bounded memory.
    ///
    /// # Errors
    /// [`StoreError::MissingPart`], [`StoreError::SizeMismatch`],
    /// [`StoreError::HashMismatch`] (nothing is left behind), I/O failures.
    fn assemble(&self, upload: &UploadId, parts: u64, size: u64, eh: &Eh)
        -> Result<(), StoreError>;

    /// Opens a record's ciphertext and returns it with its length.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], I/O failures.
    fn open_record(&self, eh: &Eh) -> Result<(Box<dyn RecordReader>, u64), StoreError>;

    /// Removes a record's ciphertext (absent is not an error).
    ///
    /// # Errors
    /// I/O failures.
    fn delete_record(&self, eh: &Eh) -> Result<(), StoreError>;

    /// Removes an upload's parts (absent is not an error).
    ///
    /// # Errors
    /// I/O failures.
    fn delete_upload(&self, upload: &UploadId) -> Result<(), StoreError>;

    /// Every record ciphertext present.
    ///
    /// # Errors
    /// I/O failures.
    fn list_records(&self) -> Result<Vec<Eh>, StoreError>;

    /// Unix time (seconds) the record's ciphertext was last written, or
    /// `None` if it is absent: how [`recover`] tells an orphan from a record
    /// that another instance sharing the store is about to commit.
    ///
    /// # Errors
    /// I/O failures.
    fn record_modified(&self, eh: &Eh) -> Result<Option<u64>, StoreError>;

    /// Every upload that has parts present (a backend may also name an
    /// upload whose only part write was dropped: `recover` and the sweep
    /// treat both alike).
    ///
    /// # Errors
    /// I/O failures.
    fn list_uploads(&self) -> Result<Vec<UploadId>, StoreError>;

    /// Removes temporary files left by a crash; returns how many.
    ///
    /// # Errors
    /// I/O failures.
    fn clean_temporary(&self) -> Result<u64, StoreError>;

    /// Free bytes on the backing storage, if known (for health reports).
    fn free_bytes(&self) -> Option<u64>;
}

/// Metadata storage. Every method is one transaction.
pub trait MetaStore: Send + Sync + fmt::Debug + 'static {
    /// Files a new upload if it fits `bounds`, counting the open uploads
    /// and their reserved bytes in the same transaction (so concurrent
    /// creations cannot overshoot).
    ///
    /// # Errors
    /// Database failures.
    fn create_upload(
        &self,
        upload: &Upload,
        bounds: &UploadBounds,
    ) -> Result<Admission, StoreError>;

    /// An upload by id.
    ///
    /// # Errors
    /// Database failures.
    fn upload(&self, id: &UploadId) -> Result<Option<Upload>, StoreError>;

    /// Makes `record` visible and marks the upload done, atomically. A record
    /// with the same `eh` already present is kept (same bytes by hash).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] (and nothing committed) if the upload is no
    /// longer there (expired or aborted meanwhile);
    /// [`StoreError::FilingConflict`]; database failures.
    fn finish_upload(&self, id: &UploadId, record: &Record) -> Result<(), StoreError>;

    /// Forgets an upload.
    ///
    /// # Errors
    /// Database failures.
    fn delete_upload(&self, id: &UploadId) -> Result<(), StoreError>;

    /// Uploads created before `before` (to expire), at most `limit`.
    ///
    /// # Errors
    /// Database failures.
    fn uploads_created_before(&self, before: u64, limit: u32) -> Result<Vec<UploadId>, StoreError>;

    /// Ids of uploads that are still open (not done).
    ///
    /// # Errors
    /// Database failures.
    fn open_uploads(&self) -> Result<Vec<UploadId>, StoreError>;

    /// A visible record.
    ///
    /// # Errors
    /// Database failures.
    fn record(&self, eh: &Eh) -> Result<Option<Record>, StoreError>;

    /// Every visible record's `eh`.
    ///
    /// # Errors
    /// Database failures.
    fn record_hashes(&self) -> Result<Vec<Eh>, StoreError>;

    /// Records that became visible before `before`, at most `limit`.
    ///
    /// # Errors
    /// Database failures.
    fn records_created_before(&self, before: u64, limit: u32) -> Result<Vec<Eh>, StoreError>;

    /// Records after `after` in `eh` order (from the first if `None`), at
    /// most `limit`: the sweep's walk over every stored record.
    ///
    /// # Errors
    /// Database failures.
    fn records_after(&self, after: Option<&Eh>, limit: u32) -> Result<Vec<Eh>, StoreError>;

    /// Removes a record's row, its index entries and its download tokens,
    /// and remembers `eh` as retired (`reason`: `"retention"`, `"tombstone"`,
    /// `"delete"`) in the same transaction, so that it is never stored
    /// again; returns whether a row existed. Called before the ciphertext is
    /// removed, so a crash in between leaves an unreferenced file, never a
    /// dangling row.
    ///
    /// # Errors
    /// Database failures.
    fn retire_record(&self, eh: &Eh, reason: &'static str, at: u64) -> Result<bool, StoreError>;

    /// Whether `eh` was retired here: such a record is never stored again.
    ///
    /// # Errors
    /// Database failures.
    fn is_retired(&self, eh: &Eh) -> Result<bool, StoreError>;

    /// Files `{X, Z, K, eh}`.
    ///
    /// # Errors
    /// Database failures.
    fn insert_index(&self, entry: &IndexEntry, now: u64) -> Result<IndexInsert, StoreError>;

    /// The entry filed under `X`.
    ///
    /// # Errors
    /// Database failures.
    fn index(&self, x: &IndexKey) -> Result<Option<IndexEntry>, StoreError>;

    /// The entry filed under `X` and its record ([`MetaStore::index`]
    /// then [`MetaStore::record`], as one read where the backend can: an
    /// access decision needs both).
    ///
    /// # Errors
    /// Database failures.
    fn filed(&self, x: &IndexKey) -> Result<Option<(IndexEntry, Option<Record>)>, StoreError> {
        let Some(entry) = self.index(x)? else {
            return Ok(None);
        };
        let record = self.record(&entry.eh)?;
        Ok(Some((entry, record)))
    }

    /// Records a used nonce key until `expiry`; `false` if it was already
    /// recorded (a replay).
    ///
    /// # Errors
    /// Database failures.
    fn consume_nonce(&self, key: &[u8; 32], expiry: u64) -> Result<bool, StoreError>;

    /// The PostgreSQL pool this store keeps its tables in, if it does: a
    /// PostgreSQL audit trail in the same pool then commits an access
    /// decision's nonce and token with its entry, in one transaction.
    fn postgres_pool(&self) -> Option<&postgres::PgPool> {
        None
    }

    /// A decision's writes at once: records the nonce key until `expiry`
    /// and, only if it was new, the download token `(hash, eh)` (same
    /// expiry); `false` (a replay, no token) if the nonce was already
    /// recorded; in one transaction (one durable write per decision). If
    /// the token cannot be stored the nonce may stay unused: a request that
    /// was granted nothing may be sent again.
    ///
    /// # Errors
    /// Database failures.
    fn consume_nonce_with_token(
        &self,
        key: &[u8; 32],
        expiry: u64,
        token: Option<(&[u8; 32], &Eh)>,
    ) -> Result<bool, StoreError>;

    /// Stores a download token (by its hash) for `eh` until `expiry`.
    ///
    /// # Errors
    /// Database failures.
    fn insert_token(&self, token_hash: &[u8; 32], eh: &Eh, expiry: u64) -> Result<(), StoreError>;

    /// The `(eh, expiry)` a token hash grants.
    ///
    /// # Errors
    /// Database failures.
    fn token(&self, token_hash: &[u8; 32]) -> Result<Option<(Eh, u64)>, StoreError>;

    /// Drops nonces and tokens expired at `now`; returns how many rows.
    ///
    /// # Errors
    /// Database failures.
    fn purge_expired(&self, now: u64) -> Result<u64, StoreError>;

    /// A cheap liveness check.
    ///
    /// # Errors
    /// Database failures.
    fn ping(&self) -> Result<(), StoreError>;

    /// Takes or renews the lease `name` for `holder` until `now + ttl_secs`
    /// if it is free, expired at `now`, or already held by `holder`;
    /// `false` if another holder has it. Several server instances on one
    /// database use it to run a task (the background sweep) on one of them
    /// at a time; times are Unix seconds of each instance's clock.
    ///
    /// # Errors
    /// Database failures.
    fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now: u64,
        ttl_secs: u64,
    ) -> Result<bool, StoreError>;

    /// Gives up the lease `name` if `holder` holds it, so that another
    /// holder may take it at once; a no-op otherwise.
    ///
    /// # Errors
    /// Database failures.
    fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;
}

/// What [`recover`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Temporary files removed (writes interrupted by a crash).
    pub temporary_removed: u64,
    /// Ciphertext files without a committed record row, removed.
    pub orphan_records_removed: u64,
    /// Ciphertext files without a committed record row written within the
    /// grace period (perhaps about to be committed by another instance), kept.
    pub orphan_records_kept: u64,
    /// Part directories of finished, expired or unknown uploads, removed.
    pub stale_uploads_removed: u64,
    /// Committed records whose ciphertext is missing (reported, never served).
    pub records_missing_ciphertext: u64,
}

/// Start-up reconciliation of the two stores after any stop, including
/// SIGKILL or power loss: temporary files go; ciphertext without a committed
/// row (never acknowledged) goes once it was written more than
/// `orphan_grace_secs` before `now` (with several instances sharing one
/// blob store, another instance may be between putting a record in place
/// and committing its row: such a fresh orphan is kept, and removed by a
/// later start); parts of uploads that are not open go. Acknowledged parts
/// and committed records are untouched.
///
/// # Errors
/// Storage failures.
pub fn recover(
    meta: &dyn MetaStore,
    blobs: &dyn BlobStore,
    now: u64,
    orphan_grace_secs: u64,
) -> Result<Recovery, StoreError> {
    let mut report = Recovery {
        temporary_removed: blobs.clean_temporary()?,
        ..Recovery::default()
    };
    let rows: std::collections::HashSet<Eh> = meta.record_hashes()?.into_iter().collect();
    let files: std::collections::HashSet<Eh> = blobs.list_records()?.into_iter().collect();
    for eh in files.difference(&rows) {
        let Some(written) = blobs.record_modified(eh)? else {
            continue; // removed meanwhile
        };
        if orphan_grace_secs > 0 && now.saturating_sub(written) <= orphan_grace_secs {
            report.orphan_records_kept += 1;
            continue;
        }
        blobs.delete_record(eh)?;
        report.orphan_records_removed += 1;
    }
    report.records_missing_ciphertext = rows.difference(&files).count() as u64;
    // Parts first, rows second: an upload's row is committed before its
    // first part, so an upload another instance starts meanwhile is open in
    // the rows read afterwards and its parts are kept.
    let with_parts = blobs.list_uploads()?;
    let open: std::collections::HashSet<UploadId> = meta.open_uploads()?.into_iter().collect();
    for id in with_parts {
        if !open.contains(&id) {
            blobs.delete_upload(&id)?;
            report.stale_uploads_removed += 1;
        }
    }
    Ok(report)
}
