//! The audit trail: an append-only, hash-chained log of every access decision
//! and every deletion.
//!
//! One JSON object per line (`<data dir>/audit.log`). Each entry carries
//! `seq` (0, 1, 2, …) and `prev`, the SHA-256 (hex) of the previous line's
//! exact bytes (without its newline); the first entry's `prev` is 64 zeros.
//! Changing, removing, inserting or reordering any entry breaks the chain at
//! the next entry, which [`verify`] reports (`ehrchain-server audit-verify`).
//! Removing entries from the *end* cannot be detected from the file alone:
//! the server logs the chain head (`audit_head`) to its operational log at
//! every sweep, so a copy of the head lives elsewhere.
//!
//! Entries are fsynced before the decision they record is answered: no access
//! is granted without its audit entry on disk. Concurrent appends are
//! **group-committed** ([`crate::group`]): the entries queued while one
//! group is being written go out together, chained in order, with one
//! `fdatasync`; each caller returns once its own entry is durable, and if
//! the write or the fsync fails, every caller of that group gets the error
//! and the file is cut back to where the group began.
//!
//! **Storage backends.** The entry format and its chaining are shared by
//! two backends: the file above ([`AuditLog::open`]) and a PostgreSQL table
//! ([`AuditLog::postgres`], [`verify_postgres`]; see [`mod@postgres`]), which
//! holds the exact same line bytes, one row per entry, for several server
//! instances sharing one database. There an access decision's nonce and
//! token are committed in its entry's transaction
//! ([`AuditLog::append_decision`]).
//!
//! ```json
//! {"seq":0,"time":1767225600,"prev":"00…00","event":"access","decision":"granted","code":"Ok",
//!  "doctor":"0x…","serial":7,"x":"0x…","eh":"0x…","client":"127.0.0.1"}
//! ```
//! `doctor` and `serial` are as claimed by the request's certificate (for a
//! refusal they may be forged); no record content, key or token is logged.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::group::GroupCommit;
use crate::store::grouped::{Write as StoreWrite, Written};
use crate::store::postgres::PgPool;

pub mod postgres;

pub use postgres::verify_postgres;

/// File name of the audit log inside the data directory.
pub const AUDIT_FILE: &str = "audit.log";

/// `prev` of the first entry.
const GENESIS: [u8; 32] = [0; 32];

/// What happened, as given to [`AuditLog::append`].
#[derive(Debug, Clone, Default)]
pub struct AuditEvent {
    /// `"access"`, `"delete"` (on request, after the chain's tombstone) or
    /// `"retention"` (the retention sweep).
    pub event: &'static str,
    /// `"granted"`, `"refused"` or `"deleted"`.
    pub decision: &'static str,
    /// `"Ok"` or the refusal's error code.
    pub code: &'static str,
    /// The doctor's address as claimed by the certificate.
    pub doctor: Option<String>,
    /// The certificate's serial.
    pub serial: Option<u64>,
    /// The requested index `X`.
    pub x: Option<[u8; 32]>,
    /// The record concerned.
    pub eh: Option<[u8; 32]>,
    /// The client's IP address.
    pub client: Option<IpAddr>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    seq: u64,
    time: u64,
    prev: String,
    event: String,
    decision: String,
    code: String,
    doctor: Option<String>,
    serial: Option<u64>,
    x: Option<String>,
    eh: Option<String>,
    client: Option<String>,
}

fn hx(b: &[u8; 32]) -> String {
    format!("0x{}", hex::encode(b))
}

struct Tail {
    file: File,
    len: u64,
    seq: u64,
    head: [u8; 32],
}

/// One entry as chained: what happened, and when.
type Pending = (AuditEvent, u64);

/// An access decision's nonce and token write
/// ([`crate::store::MetaStore::consume_nonce_with_token`]), committed in the
/// same PostgreSQL transaction as its entry ([`AuditLog::append_decision`]).
#[derive(Debug, Clone)]
pub struct DecisionWrite {
    /// The nonce's key, recorded until `expiry`.
    pub nonce_key: [u8; 32],
    /// When the nonce (and the token) may be forgotten.
    pub expiry: u64,
    /// The download token's hash and record, stored only if the nonce is
    /// fresh.
    pub token: Option<([u8; 32], [u8; 32])>,
    /// The entry's `code` if the token could not be stored (the code of
    /// the error the caller then answers).
    pub error_code: &'static str,
}

impl DecisionWrite {
    pub(crate) fn write(&self) -> StoreWrite {
        StoreWrite::NonceThenToken {
            key: self.nonce_key,
            expiry: self.expiry,
            token: self.token,
        }
    }
}

/// One entry waiting for its group, with the write it is committed with.
struct Queued {
    event: AuditEvent,
    time: u64,
    decision: Option<DecisionWrite>,
}

impl Queued {
    /// The entry as it is chained, once its write's outcome is known: the
    /// given one for a fresh nonce; a `Replay` refusal for a used one; a
    /// refusal with the error's code if the token was not stored. A
    /// refusal names no record (`eh`), as when the nonce is written first.
    fn decided(&self, outcome: Option<&Written>) -> Pending {
        let mut event = self.event.clone();
        let refusal = match (outcome, &self.decision) {
            (Some(Ok(false)), _) => Some("Replay"),
            (Some(Err(_)), Some(d)) => Some(d.error_code),
            _ => None,
        };
        if let Some(code) = refusal {
            (event.decision, event.code, event.eh) = ("refused", code, None);
        }
        (event, self.time)
    }
}

/// The lines of a group of entries, chained after `(seq, head)` (the next
/// `seq` and the SHA-256 of the last line), in order, without newlines;
/// with the `(seq, head)` after them. Every backend writes these bytes.
fn chain_lines(
    group: &[Pending],
    mut seq: u64,
    mut head: [u8; 32],
) -> io::Result<(Vec<Vec<u8>>, u64, [u8; 32])> {
    let mut lines = Vec::with_capacity(group.len());
    for (event, time) in group {
        let entry = Entry {
            seq,
            time: *time,
            prev: hex::encode(head),
            event: event.event.to_owned(),
            decision: event.decision.to_owned(),
            code: event.code.to_owned(),
            doctor: event.doctor.clone(),
            serial: event.serial,
            x: event.x.as_ref().map(hx),
            eh: event.eh.as_ref().map(hx),
            client: event.client.map(|c| c.to_string()),
        };
        let line = serde_json::to_vec(&entry).map_err(io::Error::other)?;
        head = Sha256::digest(&line).into();
        seq += 1;
        lines.push(line);
    }
    Ok((lines, seq, head))
}

/// Where the entries go.
enum Backend {
    /// The file at `path`, appended to.
    File { path: PathBuf, tail: Mutex<Tail> },
    /// A PostgreSQL table.
    Postgres(postgres::PgTrail),
}

/// The open audit log.
pub struct AuditLog {
    backend: Backend,
    group: GroupCommit<Queued, Option<Written>, Arc<io::Error>>,
    syncs: AtomicU64,
    #[cfg(test)]
    sync_hook: Mutex<Option<SyncHook>>,
}

/// A test's stand-in for a failing (or slow) fsync, run before each one.
#[cfg(test)]
type SyncHook = Box<dyn FnMut() -> io::Result<()> + Send>;

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.backend {
            Backend::File { path, .. } => f.debug_struct("AuditLog").field("path", path).finish(),
            Backend::Postgres(_) => f
                .debug_struct("AuditLog")
                .field("backend", &"postgres")
                .finish(),
        }
    }
}

/// The first entry that does not verify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadEntry {
    /// 1-based line number.
    pub line: u64,
    /// Its `seq`, if it could be read.
    pub seq: Option<u64>,
    /// What is wrong.
    pub reason: String,
}

/// Result of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// Entries that verified (before the first bad one).
    pub entries: u64,
    /// SHA-256 (hex) of the last verified entry: the chain head.
    pub head: String,
    /// The first bad entry, if any.
    pub first_bad: Option<BadEntry>,
    /// Bytes after the last newline (a write torn by a crash), if any.
    pub torn_tail_bytes: u64,
    /// Byte length of the verified prefix (what a repair would keep).
    #[serde(skip)]
    pub verified_len: u64,
}

impl Verification {
    /// Whether the whole file verified.
    pub fn ok(&self) -> bool {
        self.first_bad.is_none() && self.torn_tail_bytes == 0
    }
}

/// The chain check shared by every backend: lines are fed in order, and
/// the first one that does not verify ends it.
struct ChainCheck {
    report: Verification,
    head: [u8; 32],
}

impl ChainCheck {
    fn new() -> Self {
        ChainCheck {
            report: Verification {
                entries: 0,
                head: hex::encode(GENESIS),
                first_bad: None,
                torn_tail_bytes: 0,
                verified_len: 0,
            },
            head: GENESIS,
        }
    }

    /// Checks `line` (without its newline), the `number`-th (1-based);
    /// `false` if it is bad (recorded as [`Verification::first_bad`]).
    fn push(&mut self, number: u64, line: &[u8]) -> bool {
        let report = &mut self.report;
        let bad = |seq, reason: &str| BadEntry {
            line: number,
            seq,
            reason: reason.to_owned(),
        };
        let entry: Entry = match serde_json::from_slice(line) {
            Ok(e) => e,
            Err(_) => {
                report.first_bad = Some(bad(None, "not a well-formed audit entry"));
                return false;
            }
        };
        if entry.seq != report.entries {
            report.first_bad = Some(bad(
                Some(entry.seq),
                &format!(
                    "sequence number {} where {} was expected (entries removed or reordered)",
                    entry.seq, report.entries
                ),
            ));
            return false;
        }
        if entry.prev != hex::encode(self.head) {
            report.first_bad = Some(bad(
                Some(entry.seq),
                "prev is not the SHA-256 of the previous entry (the previous entry was altered, or entries were removed, inserted or reordered here)",
            ));
            return false;
        }
        self.head = Sha256::digest(line).into();
        report.entries += 1;
        report.head = hex::encode(self.head);
        report.verified_len += line.len() as u64 + 1;
        true
    }
}

/// Verifies the chain of the log at `path` (a missing file is an empty log).
///
/// # Errors
/// I/O failures reading the file.
pub fn verify(path: &Path) -> io::Result<Verification> {
    let mut check = ChainCheck::new();
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(check.report),
        Err(e) => return Err(e),
    };
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        let read = reader.read_until(b'\n', &mut line)?;
        if read == 0 {
            break;
        }
        number += 1;
        if line.last() != Some(&b'\n') {
            check.report.torn_tail_bytes = read as u64;
            break;
        }
        line.pop();
        if !check.push(number, &line) {
            break;
        }
    }
    Ok(check.report)
}

impl AuditLog {
    /// Opens the log at `path`, creating it if needed. A torn last line (a
    /// crash during an append that was therefore never acknowledged) is cut
    /// off; a chain that does not verify is reported in the returned
    /// [`Verification`] and new entries continue from the last verified one.
    ///
    /// # Errors
    /// I/O failures.
    pub fn open(path: &Path) -> io::Result<(Self, Verification)> {
        let report = verify(path)?;
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let mut len = file.metadata()?.len();
        let mut seq = report.entries;
        let mut head = GENESIS;
        hex::decode_to_slice(&report.head, &mut head).map_err(io::Error::other)?;
        if report.first_bad.is_none() && report.torn_tail_bytes > 0 {
            file.set_len(report.verified_len)?;
            file.sync_all()?;
            len = report.verified_len;
        }
        if report.first_bad.is_some() {
            // Keep appending after whatever is there, chained to the file's
            // real last line, so the damage stays confined and visible.
            let (s, h) = last_line_state(path)?;
            seq = s;
            head = h;
        }
        let tail = Tail {
            file,
            len,
            seq,
            head,
        };
        Ok((
            Self::with_backend(Backend::File {
                path: path.to_path_buf(),
                tail: Mutex::new(tail),
            }),
            report,
        ))
    }

    fn with_backend(backend: Backend) -> Self {
        AuditLog {
            backend,
            group: GroupCommit::new(|| Arc::new(io::Error::other("audit group aborted"))),
            syncs: AtomicU64::new(0),
            #[cfg(test)]
            sync_hook: Mutex::new(None),
        }
    }

    /// An audit trail in the PostgreSQL database of `pool` (its migrations
    /// applied by [`crate::store::postgres::PgPool::connect`]), continuing
    /// from the chain head stored there. Several instances may append to
    /// one trail: each group of entries is one transaction that locks the
    /// head row, so the chain never forks; an append returns once its
    /// transaction committed. Nothing is verified here: see
    /// [`verify_postgres`].
    ///
    /// Like the metadata store, its calls block on the pool's runtime: call
    /// [`AuditLog::append`] from a blocking-pool or plain thread.
    ///
    /// # Errors
    /// Database failures reading the head.
    pub fn postgres(pool: crate::store::postgres::PgPool) -> io::Result<Self> {
        Ok(Self::with_backend(Backend::Postgres(
            postgres::PgTrail::open(pool)?,
        )))
    }

    /// Appends one entry and returns once it is durable (fsynced, or its
    /// PostgreSQL transaction committed), in a group with the entries of
    /// concurrent callers.
    ///
    /// # Errors
    /// I/O failures of its group's write or fsync; the file is then cut
    /// back to its length before the group, and no entry of it counts (in
    /// PostgreSQL: the group's transaction failed and was rolled back).
    pub fn append(&self, event: &AuditEvent, time: u64) -> io::Result<()> {
        let queued = Queued {
            event: event.clone(),
            time,
            decision: None,
        };
        self.submit(queued).map(|_| ())
    }

    /// Whether this trail is in the PostgreSQL database of `pool`, so that
    /// [`AuditLog::append_decision`] can commit a decision's writes with
    /// its entry (the same pool, not only the same server).
    pub fn shares_database(&self, pool: Option<&PgPool>) -> bool {
        match (&self.backend, pool) {
            (Backend::Postgres(pg), Some(pool)) => pg.pool().same(pool),
            _ => false,
        }
    }

    /// Commits a decision's nonce and token `write` and its entry in one
    /// PostgreSQL transaction, in a group with the other entries queued
    /// meanwhile (one commit per decision instead of two). `event` is the
    /// entry for a fresh nonce; a used nonce is chained as a `Replay`
    /// refusal and a token that could not be stored as a refusal with
    /// `write.error_code`, both without `eh`. Returns
    /// the write's outcome, as
    /// [`crate::store::MetaStore::consume_nonce_with_token`] would: `true`
    /// for a fresh nonce, `false` for a replay, or the token's error.
    ///
    /// # Errors
    /// The group's transaction failed (nothing of it was written), or this
    /// trail is not in PostgreSQL (check [`AuditLog::shares_database`]).
    pub fn append_decision(
        &self,
        event: &AuditEvent,
        time: u64,
        write: DecisionWrite,
    ) -> io::Result<Result<bool, String>> {
        if !matches!(self.backend, Backend::Postgres(_)) {
            return Err(io::Error::other(
                "a decision's writes go with its entry only in PostgreSQL",
            ));
        }
        let queued = Queued {
            event: event.clone(),
            time,
            decision: Some(write),
        };
        self.submit(queued)?
            .ok_or_else(|| io::Error::other("the decision's write has no outcome"))
    }

    fn submit(&self, queued: Queued) -> io::Result<Option<Written>> {
        self.group
            .submit(queued, |group| self.write_group(&group))
            .map_err(|e| io::Error::new(e.kind(), e.to_string()))
    }

    /// Writes a group of entries, chained in order, with one fsync (one
    /// transaction in PostgreSQL, with the decisions' writes).
    fn write_group(&self, group: &[Queued]) -> Result<Vec<Option<Written>>, Arc<io::Error>> {
        let tail = match &self.backend {
            Backend::File { tail, .. } => tail,
            Backend::Postgres(pg) => {
                self.syncs.fetch_add(1, Ordering::Relaxed);
                return pg.write_group(group).map_err(Arc::new);
            }
        };
        let group: Vec<Pending> = group.iter().map(|q| q.decided(None)).collect();
        let mut tail = tail.lock().unwrap_or_else(|p| p.into_inner());
        let (lines, seq, head) = chain_lines(&group, tail.seq, tail.head).map_err(Arc::new)?;
        let mut bytes = Vec::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
        for line in &lines {
            bytes.extend_from_slice(line);
            bytes.push(b'\n');
        }
        let written = tail
            .file
            .write_all(&bytes)
            .and_then(|()| self.sync(&tail.file));
        if let Err(e) = written {
            let _ = tail.file.set_len(tail.len);
            return Err(Arc::new(e));
        }
        tail.len += bytes.len() as u64;
        tail.seq = seq;
        tail.head = head;
        Ok(vec![None; group.len()])
    }

    fn sync(&self, file: &File) -> io::Result<()> {
        self.syncs.fetch_add(1, Ordering::Relaxed);
        #[cfg(test)]
        if let Some(hook) = self
            .sync_hook
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_mut()
        {
            hook()?;
        }
        file.sync_data()
    }

    /// How many fsyncs (PostgreSQL: commits) appends have made (one per
    /// group).
    pub fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }

    /// The current chain head (hex) and entry count. In PostgreSQL: as of
    /// this instance's last append (or opening); other instances may have
    /// appended since. Never blocks on the database.
    pub fn head(&self) -> (String, u64) {
        match &self.backend {
            Backend::File { tail, .. } => {
                let tail = tail.lock().unwrap_or_else(|p| p.into_inner());
                (hex::encode(tail.head), tail.seq)
            }
            Backend::Postgres(pg) => pg.head(),
        }
    }
}

/// `(seq + 1, SHA-256)` of the file's last complete line, best effort.
fn last_line_state(path: &Path) -> io::Result<(u64, [u8; 32])> {
    let mut reader = BufReader::new(File::open(path)?);
    let mut line = Vec::new();
    let mut last: Option<Vec<u8>> = None;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        if line.last() == Some(&b'\n') {
            line.pop();
            last = Some(line.clone());
        }
    }
    Ok(match last {
        None => (0, GENESIS),
        Some(l) => {
            let seq = serde_json::from_slice::<Entry>(&l)
                .map(|e| e.seq.saturating_add(1))
                .unwrap_or(0);
            (seq, Sha256::digest(&l).into())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(code: &'static str) -> AuditEvent {
        AuditEvent {
            event: "access",
            decision: "refused",
            code,
            ..AuditEvent::default()
        }
    }

    #[test]
    fn a_chain_verifies_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AUDIT_FILE);
        let (log, report) = AuditLog::open(&path).unwrap();
        assert!(report.ok());
        log.append(&event("Replay"), 1).unwrap();
        log.append(&event("UnknownIndex"), 2).unwrap();
        drop(log);
        let (log, report) = AuditLog::open(&path).unwrap();
        assert_eq!(report.entries, 2);
        log.append(&event("Ok"), 3).unwrap();
        let v = verify(&path).unwrap();
        assert!(v.ok());
        assert_eq!(v.entries, 3);
        assert_eq!(v.head, log.head().0);
    }

    #[test]
    fn an_altered_entry_is_reported_at_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AUDIT_FILE);
        let (log, _) = AuditLog::open(&path).unwrap();
        for code in ["A", "B", "C", "D"] {
            log.append(&event(code), 1).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replacen("\"B\"", "\"X\"", 1)).unwrap();
        let v = verify(&path).unwrap();
        assert_eq!(v.entries, 2);
        let bad = v.first_bad.unwrap();
        assert_eq!((bad.line, bad.seq), (3, Some(2)));
        let lines: Vec<&str> = text.lines().collect();
        std::fs::write(&path, format!("{}\n{}\n", lines[0], lines[2])).unwrap();
        let bad = verify(&path).unwrap().first_bad.unwrap();
        assert_eq!((bad.line, bad.seq), (2, Some(2)));
    }

    #[test]
    fn a_torn_last_line_is_cut_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AUDIT_FILE);
        let (log, _) = AuditLog::open(&path).unwrap();
        log.append(&event("A"), 1).unwrap();
        drop(log);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"seq\":1,\"ti").unwrap();
        assert_eq!(verify(&path).unwrap().torn_tail_bytes, 12);
        let (log, _) = AuditLog::open(&path).unwrap();
        log.append(&event("B"), 2).unwrap();
        let v = verify(&path).unwrap();
        assert!(v.ok());
        assert_eq!(v.entries, 2);
    }

    #[test]
    fn concurrent_appends_share_fsyncs_and_the_chain_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AUDIT_FILE);
        let (log, _) = AuditLog::open(&path).unwrap();
        let log = Arc::new(log);
        let start = Arc::new(std::sync::Barrier::new(64));
        let threads: Vec<_> = (0..64u64)
            .map(|i| {
                let (log, start) = (log.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    log.append(&event("Ok"), i)
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap().unwrap();
        }
        let v = verify(&path).unwrap();
        assert!(v.ok(), "{v:?}");
        assert_eq!(v.entries, 64, "every entry present");
        let mut times: Vec<u64> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Entry>(l).unwrap().time)
            .collect();
        times.sort_unstable();
        assert_eq!(
            times,
            (0..64).collect::<Vec<_>>(),
            "each caller's own entry"
        );
        assert!(log.syncs() < 64, "{} fsyncs for 64 entries", log.syncs());
    }

    #[test]
    fn a_failed_fsync_fails_every_entry_of_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(AUDIT_FILE);
        let (log, _) = AuditLog::open(&path).unwrap();
        let log = Arc::new(log);
        log.append(&event("Before"), 0).unwrap();
        // The first group's fsync waits until eight appends queue behind it,
        // then succeeds; the second group's (those eight) fails.
        let calls = Arc::new(AtomicU64::new(0));
        {
            let (calls, log2) = (calls.clone(), Arc::downgrade(&log));
            *log.sync_hook.lock().unwrap() = Some(Box::new(move || {
                if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    let log = log2.upgrade().unwrap();
                    while log.group.pending_len() < 8 {
                        std::thread::sleep(std::time::Duration::from_millis(1));
                    }
                    Ok(())
                } else {
                    Err(io::Error::other("injected fsync failure"))
                }
            }));
        }
        let first = {
            let log = log.clone();
            std::thread::spawn(move || log.append(&event("First"), 1))
        };
        while calls.load(Ordering::SeqCst) == 0 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let group: Vec<_> = (0..8u64)
            .map(|i| {
                let log = log.clone();
                std::thread::spawn(move || log.append(&event("Lost"), 10 + i))
            })
            .collect();
        first.join().unwrap().unwrap();
        for t in group {
            assert!(
                t.join().unwrap().is_err(),
                "no entry of the failed group is ok"
            );
        }
        *log.sync_hook.lock().unwrap() = None;
        let v = verify(&path).unwrap();
        assert!(v.ok());
        assert_eq!(v.entries, 2, "the failed group left nothing behind");
        log.append(&event("After"), 20).unwrap();
        let v = verify(&path).unwrap();
        assert!(v.ok(), "the chain continues from the last durable entry");
        assert_eq!(v.entries, 3);
    }
}
