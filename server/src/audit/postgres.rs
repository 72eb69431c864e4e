//! The audit trail in PostgreSQL: table `audit(seq, line)` holds each
//! entry's exact line bytes (the same as the file backend's, without the
//! newline), and the one row of `audit_head(seq, head)` the next `seq` and
//! the SHA-256 of the last line (`server/migrations/postgres/0002_*.sql`).
//!
//! A group of entries is one transaction: lock the head row
//! (`SELECT … FOR UPDATE`), chain the lines after it, insert them, move the
//! head, commit. The lock serialises appenders of every server instance,
//! and `seq` is the primary key, so two instances can never write two
//! entries with one `seq` or both chain after the same line: the chain
//! never forks. The commit (with `synchronous_commit` on, PostgreSQL's
//! default) is the durability point: each caller returns after it.

use std::io;
use std::sync::Mutex;

use super::{chain_lines, ChainCheck, DecisionWrite, Pending, Queued, Verification, GENESIS};
use crate::store::grouped::{Write, Written};
use crate::store::postgres::GroupWrite;
use crate::store::postgres::{pg_error, PgPool};
use crate::store::StoreError;

/// Locks the chain head for a group's entries.
const LOCK_HEAD_SQL: &str = "SELECT seq, head FROM audit_head FOR UPDATE";

/// Inserts a group's lines (`$1` seqs, `$2` lines) and moves the head to
/// `($3, $4)`, in one statement.
const APPEND_SQL: &str = "
    WITH lines AS (
        INSERT INTO audit (seq, line) SELECT * FROM unnest($1::bigint[], $2::bytea[]))
    UPDATE audit_head SET seq = $3, head = $4";

/// Lines read per query by [`verify_postgres`].
const VERIFY_BATCH: i64 = 10_000;

fn io_error(e: StoreError) -> io::Error {
    io::Error::other(e.to_string())
}

fn pg(e: tokio_postgres::Error) -> io::Error {
    io_error(pg_error(&e))
}

fn head_array(v: Vec<u8>) -> io::Result<[u8; 32]> {
    v.try_into()
        .map_err(|_| io::Error::other("audit_head.head is not 32 bytes"))
}

fn seq_of(v: i64) -> io::Result<u64> {
    u64::try_from(v).map_err(|_| io::Error::other("negative audit seq"))
}

/// The PostgreSQL backend of [`super::AuditLog`].
pub(super) struct PgTrail {
    pool: PgPool,
    /// `(next seq, head)` as of this instance's last commit.
    last: Mutex<(u64, [u8; 32])>,
}

impl PgTrail {
    /// Reads the stored head.
    pub(super) fn open(pool: PgPool) -> io::Result<Self> {
        let last = pool.run(async {
            let client = pool.client().await.map_err(io_error)?;
            let row = client
                .query_opt("SELECT seq, head FROM audit_head", &[])
                .await
                .map_err(pg)?;
            match row {
                Some(row) => Ok((
                    seq_of(row.try_get(0).map_err(pg)?)?,
                    head_array(row.try_get(1).map_err(pg)?)?,
                )),
                None => Ok::<_, io::Error>((0, GENESIS)),
            }
        })?;
        Ok(PgTrail {
            pool,
            last: Mutex::new(last),
        })
    }

    /// `(head hex, entries)` as of this instance's last commit.
    pub(super) fn head(&self) -> (String, u64) {
        let (seq, head) = *self.last.lock().unwrap_or_else(|p| p.into_inner());
        (hex::encode(head), seq)
    }

    /// The pool the trail is in.
    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Appends a group in one transaction: first the decisions' nonce and
    /// token writes (one statement, [`GroupWrite`]), whose outcomes
    /// decide their entries, then the entries, chained under the head
    /// row's lock. The head is locked last: a transaction holding it waits
    /// for no row lock, so groups of two instances cannot deadlock. Returns
    /// each decision's outcome (`None` for a plain entry).
    pub(super) fn write_group(&self, group: &[Queued]) -> io::Result<Vec<Option<Written>>> {
        let writes: Vec<Write> = group
            .iter()
            .filter_map(|q| q.decision.as_ref().map(DecisionWrite::write))
            .collect();
        let plan = GroupWrite::new(&writes);
        let (seq, head, outcomes) = self.pool.run(async {
            let mut client = self.pool.client().await.map_err(io_error)?;
            let tx = client.transaction().await.map_err(pg)?;
            let write = if writes.is_empty() {
                None
            } else {
                Some(GroupWrite::statement(&tx).await.map_err(io_error)?)
            };
            let lock_head = tx.prepare_cached(LOCK_HEAD_SQL).await.map_err(pg)?;
            let append = tx.prepare_cached(APPEND_SQL).await.map_err(pg)?;
            // The writes and the head's lock in one round trip, sent in this
            // order (each is sent when first polled): the head is locked
            // after the nonces' rows.
            let (rows, row) = tokio::try_join!(
                async {
                    match &write {
                        Some(stmt) => tx.query(stmt, &plan.params()).await,
                        None => Ok(Vec::new()),
                    }
                },
                tx.query_opt(&lock_head, &[]),
            )
            .map_err(pg)?;
            let mut written = plan.outcomes(&rows).map_err(io_error)?.into_iter();
            let mut outcomes = Vec::with_capacity(group.len());
            let mut entries: Vec<Pending> = Vec::with_capacity(group.len());
            for q in group {
                let outcome =
                    match q.decision {
                        Some(_) => Some(written.next().ok_or_else(|| {
                            io::Error::other("a decision's write has no outcome")
                        })?),
                        None => None,
                    };
                entries.push(q.decided(outcome.as_ref()));
                outcomes.push(outcome);
            }
            let (seq, head) = match row {
                Some(row) => (
                    seq_of(row.try_get(0).map_err(pg)?)?,
                    head_array(row.try_get(1).map_err(pg)?)?,
                ),
                None => return Err(io::Error::other("audit_head has no row")),
            };
            let (lines, next, new_head) = chain_lines(&entries, seq, head)?;
            let seqs: Vec<i64> = (seq..next)
                .map(|s| i64::try_from(s).map_err(|_| io::Error::other("audit seq overflow")))
                .collect::<io::Result<_>>()?;
            let next = i64::try_from(next).map_err(|_| io::Error::other("audit seq overflow"))?;
            tx.execute(&append, &[&seqs, &lines, &next, &&new_head[..]])
                .await
                .map_err(pg)?;
            tx.commit().await.map_err(pg)?;
            Ok((next, new_head, outcomes))
        })?;
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = (seq_of(seq)?, head);
        Ok(outcomes)
    }
}

/// Verifies the audit trail stored in PostgreSQL: reads the lines in `seq`
/// order and runs the same check as [`super::verify`] on them (`line` in a
/// [`super::BadEntry`] is the 1-based position in that order). Also
/// reports, as the first bad entry, a head row that records more entries
/// than the table holds in a verified chain (entries removed from the end).
/// `torn_tail_bytes` is always 0; `verified_len` counts the lines' bytes
/// plus one newline each.
///
/// # Errors
/// Database failures.
pub fn verify_postgres(pool: &PgPool) -> io::Result<Verification> {
    pool.run(async {
        let client = pool.client().await.map_err(io_error)?;
        let stmt = client
            .prepare("SELECT seq, line FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2")
            .await
            .map_err(pg)?;
        let mut check = ChainCheck::new();
        let mut after = -1i64;
        let mut number = 0u64;
        'pages: loop {
            let rows = client
                .query(&stmt, &[&after, &VERIFY_BATCH])
                .await
                .map_err(pg)?;
            for row in &rows {
                after = row.try_get(0).map_err(pg)?;
                let line: Vec<u8> = row.try_get(1).map_err(pg)?;
                number += 1;
                if !check.push(number, &line) {
                    break 'pages;
                }
            }
            if rows.len() < usize::try_from(VERIFY_BATCH).unwrap_or(usize::MAX) {
                break;
            }
        }
        if check.report.first_bad.is_none() {
            let recorded = client
                .query_opt("SELECT seq FROM audit_head", &[])
                .await
                .map_err(pg)?
                .map(|r| r.try_get::<_, i64>(0))
                .transpose()
                .map_err(pg)?;
            if let Some(recorded) = recorded.map(seq_of).transpose()? {
                if recorded != check.report.entries {
                    check.report.first_bad = Some(super::BadEntry {
                        line: check.report.entries + 1,
                        seq: Some(check.report.entries),
                        reason: format!(
                            "the head row records {recorded} entries, the table holds {} (entries removed from the end, or the head row altered)",
                            check.report.entries
                        ),
                    });
                }
            }
        }
        Ok(check.report)
    })
}
