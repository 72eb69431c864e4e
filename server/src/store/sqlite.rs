//! [`MetaStore`] in SQLite: one file, WAL journal, `synchronous = FULL`
//! (a committed transaction survives power loss), foreign keys on.
//!
//! The index table holds exactly what the patient filed, `{X, Z, K, eh}`,
//! plus its filing time. Used nonces are kept only as
//! `SHA-256(doctor ‖ nonce)` with their expiry, download tokens only as
//! `SHA-256(token)`: the database names no doctor and holds no usable token.
//!
//! Nonces and download tokens, written by every access decision, are
//! **group-committed** ([`crate::group`]): the ones queued while a
//! transaction commits go together in the next one (one WAL fsync), each in
//! its own savepoint so that one failing statement fails only its caller;
//! each caller returns once the transaction holding its write committed,
//! and a failed commit fails every caller of the group.

use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use crate::group::GroupCommit;

use super::{
    Admission, Eh, IndexEntry, IndexInsert, IndexKey, MetaStore, Record, StoreError, Upload,
    UploadBounds, UploadId, STAFF_OWNER,
};

use super::grouped::{Write, Written};

/// Schema version stored in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 4;

/// Read-only connections for lookups (beside the one that writes).
const READERS: usize = 4;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS uploads (
    id         BLOB PRIMARY KEY,
    eh         BLOB NOT NULL,
    size       INTEGER NOT NULL,
    part_size  INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    done       INTEGER NOT NULL DEFAULT 0,
    filing     BLOB,
    owner      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS uploads_open_owner ON uploads(done, owner);
CREATE TABLE IF NOT EXISTS records (
    eh         BLOB PRIMARY KEY,
    size       INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    filing     BLOB
);
CREATE INDEX IF NOT EXISTS records_created ON records(created_at);
CREATE TABLE IF NOT EXISTS record_index (
    x          BLOB PRIMARY KEY,
    z          BLOB NOT NULL,
    k          BLOB NOT NULL,
    eh         BLOB NOT NULL REFERENCES records(eh) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS record_index_eh ON record_index(eh);
CREATE TABLE IF NOT EXISTS used_nonces (
    key    BLOB PRIMARY KEY,
    expiry INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS used_nonces_expiry ON used_nonces(expiry);
CREATE TABLE IF NOT EXISTS download_tokens (
    hash   BLOB PRIMARY KEY,
    eh     BLOB NOT NULL REFERENCES records(eh) ON DELETE CASCADE,
    expiry INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS download_tokens_eh ON download_tokens(eh);
CREATE TABLE IF NOT EXISTS retired (
    eh     BLOB PRIMARY KEY,
    reason TEXT NOT NULL,
    at     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
";

/// SQLite-backed metadata. One connection for every write (SQLite
/// serialises writers anyway) and a few read-only ones for the lookups a
/// decision makes (index, record, token, upload): in WAL mode they read the
/// last committed state without waiting for a group commit in progress.
#[derive(Debug)]
pub struct SqliteMetaStore {
    conn: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    writes: GroupCommit<Write, Written, String>,
    commits: AtomicU64,
}

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Db(e.to_string())
}

/// SQLite stores integers as i64; every value here is below 2^63.
fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn uint(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn array<const N: usize>(v: Vec<u8>) -> rusqlite::Result<[u8; N]> {
    let len = v.len();
    v.try_into().map_err(|_| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Blob,
            format!("blob of {len} bytes, expected {N}").into(),
        )
    })
}

impl SqliteMetaStore {
    /// Opens (creating) the database at `path` and applies the schema.
    ///
    /// # Errors
    /// [`StoreError::Db`] if the file cannot be opened or has a newer schema.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(db)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(db)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(db)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Db(format!("journal mode {mode}, not WAL")));
        }
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
            .map_err(db)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Db(format!(
                "database schema {version} is newer than this server's {SCHEMA_VERSION}"
            )));
        }
        if version == 1 {
            // Schema 1 had no filing commitments: its uploads and records
            // keep NULL (such a record can no longer be filed).
            conn.execute_batch(
                "ALTER TABLE uploads ADD COLUMN filing BLOB; ALTER TABLE records ADD COLUMN filing BLOB;",
            )
            .map_err(db)?;
        }
        if (1..=2).contains(&version) {
            // Schemas 1 and 2 had no upload owners: open uploads of then
            // count towards the server's total only.
            conn.execute_batch("ALTER TABLE uploads ADD COLUMN owner TEXT NOT NULL DEFAULT '';")
                .map_err(db)?;
        }
        conn.execute_batch(SCHEMA).map_err(db)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)
            .map_err(db)?;
        let readers = (0..READERS)
            .map(|_| {
                let reader = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                reader.busy_timeout(Duration::from_secs(5))?;
                Ok(Mutex::new(reader))
            })
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db)?;
        Ok(SqliteMetaStore {
            conn: Mutex::new(conn),
            readers,
            next_reader: AtomicUsize::new(0),
            writes: GroupCommit::new(|| "nonce and token group aborted".to_owned()),
            commits: AtomicU64::new(0),
        })
    }

    /// Transactions that committed groups of nonces and tokens (each one
    /// WAL fsync).
    pub fn group_commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Queues `write` for the next group; returns once it is committed.
    fn grouped(&self, write: Write) -> Result<bool, StoreError> {
        self.writes
            .submit(write, |group| self.write_group(&group))
            .map_err(StoreError::Db)?
            .map_err(StoreError::Db)
    }

    /// One transaction for a group of writes, each in its own savepoint.
    fn write_group(&self, group: &[Write]) -> Result<Vec<Written>, String> {
        let mut conn = self.conn();
        let mut tx = conn.transaction().map_err(|e| e.to_string())?;
        let mut out = Vec::with_capacity(group.len());
        for write in group {
            let sp = tx.savepoint().map_err(|e| e.to_string())?;
            let done = match write {
                Write::Nonce { key, expiry } => sp
                    .prepare_cached(
                        "INSERT OR IGNORE INTO used_nonces (key, expiry) VALUES (?1, ?2)",
                    )
                    .and_then(|mut s| s.execute(params![&key[..], int(*expiry)]))
                    .map(|n| n == 1),
                Write::Token { hash, eh, expiry } => sp
                    .prepare_cached(
                        "INSERT INTO download_tokens (hash, eh, expiry) VALUES (?1, ?2, ?3)",
                    )
                    .and_then(|mut s| s.execute(params![&hash[..], &eh[..], int(*expiry)]))
                    .map(|_| true),
                Write::NonceThenToken { key, expiry, token } => sp
                    .prepare_cached(
                        "INSERT OR IGNORE INTO used_nonces (key, expiry) VALUES (?1, ?2)",
                    )
                    .and_then(|mut s| s.execute(params![&key[..], int(*expiry)]))
                    .and_then(|n| match (n == 1, token) {
                        (true, Some((hash, eh))) => sp
                            .prepare_cached(
                                "INSERT INTO download_tokens (hash, eh, expiry) VALUES (?1, ?2, ?3)",
                            )
                            .and_then(|mut s| {
                                s.execute(params![&hash[..], &eh[..], int(*expiry)])
                            })
                            .map(|_| true),
                        (fresh, _) => Ok(fresh),
                    }),
            };
            match done {
                Ok(v) => {
                    sp.commit().map_err(|e| e.to_string())?;
                    out.push(Ok(v));
                }
                // Dropping the savepoint rolls this write back, and only it.
                Err(e) => out.push(Err(e.to_string())),
            }
        }
        tx.commit().map_err(|e| e.to_string())?;
        self.commits.fetch_add(1, Ordering::Relaxed);
        Ok(out)
    }

    /// A read-only connection: the first free one from a rotating start,
    /// else wait for the one at the start.
    fn reader(&self) -> MutexGuard<'_, Connection> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let n = self.readers.len();
        for i in 0..n {
            if let Ok(guard) = self.readers[(start + i) % n].try_lock() {
                return guard;
            }
        }
        self.readers[start % n]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a transaction half
        // applied (SQLite rolls back), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn upload_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Upload> {
        Ok(Upload {
            id: UploadId(array(row.get(0)?)?),
            eh: array(row.get(1)?)?,
            size: uint(row.get(2)?),
            part_size: uint(row.get(3)?),
            created_at: uint(row.get(4)?),
            done: row.get::<_, i64>(5)? != 0,
            filing: row
                .get::<_, Option<Vec<u8>>>(6)?
                .map(array)
                .transpose()?
                .unwrap_or([0; 32]),
            owner: row.get(7)?,
        })
    }

    fn ids<T>(
        &self,
        sql: &str,
        args: impl rusqlite::Params,
        f: fn(Vec<u8>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(sql).map_err(db)?;
        let rows = stmt
            .query_map(args, |r| f(r.get(0)?))
            .map_err(db)?
            .collect::<rusqlite::Result<Vec<T>>>()
            .map_err(db)?;
        Ok(rows)
    }
}

fn upload_id(v: Vec<u8>) -> rusqlite::Result<UploadId> {
    array(v).map(UploadId)
}

impl MetaStore for SqliteMetaStore {
    fn create_upload(&self, u: &Upload, bounds: &UploadBounds) -> Result<Admission, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(db)?;
        let usage = |owner: Option<&str>| -> Result<(u64, u64), StoreError> {
            let (count, bytes): (i64, i64) = match owner {
                Some(o) => tx.query_row(
                    "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM uploads WHERE done = 0 AND owner = ?1",
                    [o],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                ),
                None => tx.query_row(
                    "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM uploads WHERE done = 0",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                ),
            }
            .map_err(db)?;
            Ok((uint(count), uint(bytes)))
        };
        let over = |(count, bytes): (u64, u64), max_count: u64, max_bytes: u64| {
            (max_count > 0 && count >= max_count)
                || (max_bytes > 0 && bytes.saturating_add(u.size) > max_bytes)
        };
        if over(usage(None)?, bounds.total_uploads, bounds.total_bytes) {
            return Ok(Admission::ServerFull);
        }
        if u.owner != STAFF_OWNER
            && over(
                usage(Some(&u.owner))?,
                bounds.per_owner_uploads,
                bounds.per_owner_bytes,
            )
        {
            return Ok(Admission::OwnerFull);
        }
        tx.execute(
            "INSERT INTO uploads (id, eh, size, part_size, created_at, done, filing, owner) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                &u.id.0[..],
                &u.eh[..],
                int(u.size),
                int(u.part_size),
                int(u.created_at),
                u.done,
                &u.filing[..],
                &u.owner
            ],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(Admission::Admitted)
    }

    fn upload(&self, id: &UploadId) -> Result<Option<Upload>, StoreError> {
        self.reader()
            .prepare_cached(
                "SELECT id, eh, size, part_size, created_at, done, filing, owner FROM uploads WHERE id = ?1",
            )
            .and_then(|mut s| s.query_row([&id.0[..]], Self::upload_row).optional())
            .map_err(db)
    }

    fn finish_upload(&self, id: &UploadId, record: &Record) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(db)?;
        let filing = record.filing.map(|f| f.to_vec());
        tx.execute(
            "INSERT OR IGNORE INTO records (eh, size, created_at, filing) VALUES (?1, ?2, ?3, ?4)",
            params![
                &record.eh[..],
                int(record.size),
                int(record.created_at),
                filing
            ],
        )
        .map_err(db)?;
        // Identical bytes completed by another upload keep the first
        // commitment; another one must not take the record over.
        let stored: Option<Vec<u8>> = tx
            .query_row(
                "SELECT filing FROM records WHERE eh = ?1",
                [&record.eh[..]],
                |r| r.get(0),
            )
            .map_err(db)?;
        if stored != filing {
            return Err(StoreError::FilingConflict);
        }
        // The fence: an upload expired or aborted meanwhile (by another
        // instance that took its lease after this one's lapsed) commits
        // nothing; the transaction rolls back with the record row.
        if tx
            .execute("UPDATE uploads SET done = 1 WHERE id = ?1", [&id.0[..]])
            .map_err(db)?
            == 0
        {
            return Err(StoreError::NotFound);
        }
        tx.commit().map_err(db)
    }

    fn delete_upload(&self, id: &UploadId) -> Result<(), StoreError> {
        self.conn()
            .execute("DELETE FROM uploads WHERE id = ?1", [&id.0[..]])
            .map_err(db)?;
        Ok(())
    }

    fn uploads_created_before(&self, before: u64, limit: u32) -> Result<Vec<UploadId>, StoreError> {
        self.ids(
            "SELECT id FROM uploads WHERE created_at < ?1 LIMIT ?2",
            params![int(before), limit],
            upload_id,
        )
    }

    fn open_uploads(&self) -> Result<Vec<UploadId>, StoreError> {
        self.ids("SELECT id FROM uploads WHERE done = 0", [], upload_id)
    }

    fn record(&self, eh: &Eh) -> Result<Option<Record>, StoreError> {
        self.reader()
            .prepare_cached("SELECT eh, size, created_at, filing FROM records WHERE eh = ?1")
            .and_then(|mut s| {
                s.query_row([&eh[..]], |r| {
                    Ok(Record {
                        eh: array(r.get(0)?)?,
                        size: uint(r.get(1)?),
                        created_at: uint(r.get(2)?),
                        filing: r.get::<_, Option<Vec<u8>>>(3)?.map(array).transpose()?,
                    })
                })
                .optional()
            })
            .map_err(db)
    }

    fn record_hashes(&self) -> Result<Vec<Eh>, StoreError> {
        self.ids("SELECT eh FROM records", [], array)
    }

    fn records_created_before(&self, before: u64, limit: u32) -> Result<Vec<Eh>, StoreError> {
        self.ids(
            "SELECT eh FROM records WHERE created_at < ?1 ORDER BY created_at LIMIT ?2",
            params![int(before), limit],
            array,
        )
    }

    fn records_after(&self, after: Option<&Eh>, limit: u32) -> Result<Vec<Eh>, StoreError> {
        match after {
            Some(after) => self.ids(
                "SELECT eh FROM records WHERE eh > ?1 ORDER BY eh LIMIT ?2",
                params![&after[..], limit],
                array,
            ),
            None => self.ids(
                "SELECT eh FROM records ORDER BY eh LIMIT ?1",
                params![limit],
                array,
            ),
        }
    }

    fn retire_record(&self, eh: &Eh, reason: &'static str, at: u64) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(db)?;
        // Index entries and tokens go by ON DELETE CASCADE, in the same transaction.
        let n = tx
            .execute("DELETE FROM records WHERE eh = ?1", [&eh[..]])
            .map_err(db)?;
        tx.execute(
            "INSERT OR IGNORE INTO retired (eh, reason, at) VALUES (?1, ?2, ?3)",
            params![&eh[..], reason, int(at)],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(n > 0)
    }

    fn is_retired(&self, eh: &Eh) -> Result<bool, StoreError> {
        let found: Option<i64> = self
            .conn()
            .query_row("SELECT 1 FROM retired WHERE eh = ?1", [&eh[..]], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db)?;
        Ok(found.is_some())
    }

    fn insert_index(&self, e: &IndexEntry, now: u64) -> Result<IndexInsert, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(db)?;
        let existing: Option<(Vec<u8>, Vec<u8>, Vec<u8>)> = tx
            .query_row(
                "SELECT z, k, eh FROM record_index WHERE x = ?1",
                [&e.x[..]],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(db)?;
        if let Some((z, k, eh)) = existing {
            let same = z == e.z && k == e.k && eh == e.eh;
            return Ok(if same {
                IndexInsert::Unchanged
            } else {
                IndexInsert::Conflict
            });
        }
        let has_record: bool = tx
            .query_row("SELECT 1 FROM records WHERE eh = ?1", [&e.eh[..]], |_| {
                Ok(true)
            })
            .optional()
            .map_err(db)?
            .unwrap_or(false);
        if !has_record {
            return Ok(IndexInsert::NoRecord);
        }
        tx.execute(
            "INSERT INTO record_index (x, z, k, eh, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![&e.x[..], &e.z[..], &e.k[..], &e.eh[..], int(now)],
        )
        .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok(IndexInsert::Created)
    }

    fn index(&self, x: &IndexKey) -> Result<Option<IndexEntry>, StoreError> {
        self.reader()
            .prepare_cached("SELECT x, z, k, eh FROM record_index WHERE x = ?1")
            .and_then(|mut s| {
                s.query_row([&x[..]], |r| {
                    Ok(IndexEntry {
                        x: array(r.get(0)?)?,
                        z: array(r.get(1)?)?,
                        k: r.get(2)?,
                        eh: array(r.get(3)?)?,
                    })
                })
                .optional()
            })
            .map_err(db)
    }

    fn consume_nonce(&self, key: &[u8; 32], expiry: u64) -> Result<bool, StoreError> {
        self.grouped(Write::Nonce { key: *key, expiry })
    }

    fn consume_nonce_with_token(
        &self,
        key: &[u8; 32],
        expiry: u64,
        token: Option<(&[u8; 32], &Eh)>,
    ) -> Result<bool, StoreError> {
        self.grouped(Write::NonceThenToken {
            key: *key,
            expiry,
            token: token.map(|(hash, eh)| (*hash, *eh)),
        })
    }

    fn insert_token(&self, hash: &[u8; 32], eh: &Eh, expiry: u64) -> Result<(), StoreError> {
        self.grouped(Write::Token {
            hash: *hash,
            eh: *eh,
            expiry,
        })
        .map(|_| ())
    }

    fn token(&self, hash: &[u8; 32]) -> Result<Option<(Eh, u64)>, StoreError> {
        self.reader()
            .prepare_cached("SELECT eh, expiry FROM download_tokens WHERE hash = ?1")
            .and_then(|mut s| {
                s.query_row([&hash[..]], |r| Ok((array(r.get(0)?)?, uint(r.get(1)?))))
                    .optional()
            })
            .map_err(db)
    }

    fn purge_expired(&self, now: u64) -> Result<u64, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(db)?;
        // A nonce is kept until its request's expiry: after that the request
        // itself is refused as expired, so the nonce can no longer be replayed.
        let a = tx
            .execute("DELETE FROM used_nonces WHERE expiry <= ?1", [int(now)])
            .map_err(db)?;
        let b = tx
            .execute("DELETE FROM download_tokens WHERE expiry <= ?1", [int(now)])
            .map_err(db)?;
        // Leases of instances that stopped mid-task (not counted: not request state).
        tx.execute("DELETE FROM leases WHERE expires_at <= ?1", [int(now)])
            .map_err(db)?;
        tx.commit().map_err(db)?;
        Ok((a + b) as u64)
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.conn()
            .query_row("SELECT 1", [], |_| Ok(()))
            .map_err(db)
    }

    fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now: u64,
        ttl_secs: u64,
    ) -> Result<bool, StoreError> {
        // Schema 4 added the table (schemas 1 to 3 get it from SCHEMA).
        let n = self
            .conn()
            .execute(
                "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?4)
                 ON CONFLICT (name) DO UPDATE
                 SET holder = excluded.holder, expires_at = excluded.expires_at
                 WHERE leases.holder = excluded.holder OR leases.expires_at <= ?3",
                params![name, holder, int(now), int(now.saturating_add(ttl_secs))],
            )
            .map_err(db)?;
        Ok(n == 1)
    }

    fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "DELETE FROM leases WHERE name = ?1 AND holder = ?2",
                params![name, holder],
            )
            .map_err(db)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_1_database_is_migrated_and_its_records_cannot_be_filed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("meta.sqlite");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE uploads (id BLOB PRIMARY KEY, eh BLOB NOT NULL, size INTEGER NOT NULL,
                     part_size INTEGER NOT NULL, created_at INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0);
                 CREATE TABLE records (eh BLOB PRIMARY KEY, size INTEGER NOT NULL, created_at INTEGER NOT NULL);
                 PRAGMA user_version = 1;",
            )
            .unwrap();
            conn.execute(
                "INSERT INTO records (eh, size, created_at) VALUES (?1, 10, 5)",
                [&[4u8; 32][..]],
            )
            .unwrap();
        }
        let m = SqliteMetaStore::open(&path).unwrap();
        let old = m.record(&[4; 32]).unwrap().unwrap();
        assert_eq!((old.size, old.filing), (10, None));
    }
}
