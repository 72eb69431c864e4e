//! [`MetaStore`] in PostgreSQL, for several server instances sharing one
//! database (issue #14 item 1). Same tables and semantics as
//! [`super::sqlite::SqliteMetaStore`]; the schema lives in
//! `server/migrations/postgres/`, embedded in the binary and applied at
//! [`PgPool::connect`] (see [`MIGRATIONS`]).
//!
//! **Driver.** `tokio-postgres` with a `deadpool-postgres` pool, driven by a
//! small runtime that the pool owns (two worker threads named
//! `ehrchain-pg`). The [`MetaStore`] methods are synchronous: each one
//! `block_on`s its future on that runtime, so they may be called from
//! tokio's blocking pool (`spawn_blocking`, as every handler does) and from
//! plain threads, but **never from inside an async task** (tokio panics
//! there).
//!
//! **TLS.** Connections are made without TLS (`NoTls`): the database is
//! expected on the same host or a private network. A URL asking for
//! `sslmode=require` fails to connect rather than silently downgrading.
//!
//! **Concurrency across instances.**
//! - Upload admission counts the open uploads under a transaction-scoped
//!   advisory lock ([`ADMISSION_LOCK`]), so creations on any number of
//!   instances are serialised and cannot overshoot the bounds.
//! - A nonce is consumed by `INSERT … ON CONFLICT DO NOTHING` on its primary
//!   key: exactly one instance inserts it, every other sees a replay.
//! - Nonces and download tokens are **group-committed** ([`crate::group`]):
//!   the writes queued while a transaction commits go together in the next
//!   one (all nonces in one statement, all tokens in another, keys in sorted
//!   order so two instances' groups cannot deadlock). A token whose record
//!   does not exist fails only its own caller; any other failure fails
//!   every caller of the group, and each caller returns only after the
//!   transaction holding its write committed.
//!
//! Errors are [`StoreError::Db`] with PostgreSQL's message; the database URL
//! (and its password) is never part of one.

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::{NoTls, Row};

use crate::group::GroupCommit;

use super::{
    Admission, Eh, IndexEntry, IndexInsert, IndexKey, MetaStore, Record, StoreError, Upload,
    UploadBounds, UploadId, STAFF_OWNER,
};

/// The schema migrations, in order: `(version, SQL)`. Each is applied once,
/// in one transaction with the others pending, and recorded in
/// `schema_migrations(version)`.
pub const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_init.sql")),
    (
        2,
        include_str!("../../migrations/postgres/0002_leases_audit.sql"),
    ),
];

/// Advisory lock key held while migrations are applied ("ehrc" "migr").
pub const MIGRATION_LOCK: i64 = 0x6568_7263_6d69_6772;

/// Advisory lock key held while an upload's admission is counted
/// ("ehrc" "admt").
pub const ADMISSION_LOCK: i64 = 0x6568_7263_6164_6d74;

/// How long a caller waits for a free connection of the pool.
const POOL_WAIT: Duration = Duration::from_secs(30);

/// How long opening one connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A pool of PostgreSQL connections and the runtime that drives them; cheap
/// to clone (shared). Used by [`PgMetaStore`] and the PostgreSQL audit
/// trail ([`crate::audit::AuditLog::postgres`]).
#[derive(Clone)]
pub struct PgPool {
    inner: Arc<PoolInner>,
}

struct PoolInner {
    /// `None` only while dropping.
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    pool: Pool,
}

impl Drop for PoolInner {
    fn drop(&mut self) {
        // Not `Runtime::drop`, which panics when the last reference goes
        // inside an async context (a test's, or a server's at shutdown).
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for PgPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = self.inner.pool.status();
        f.debug_struct("PgPool")
            .field("max_size", &status.max_size)
            .field("size", &status.size)
            .finish()
    }
}

/// A PostgreSQL error as [`StoreError::Db`]: SQLSTATE and message for a
/// server error, the driver's description otherwise (never the URL).
pub(crate) fn pg_error(e: &tokio_postgres::Error) -> StoreError {
    StoreError::Db(describe(e))
}

fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("postgres {}: {}", db.code().code(), db.message()),
        None => format!("postgres: {e}"),
    }
}

fn pool_error(e: &deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => pg_error(e),
        other => StoreError::Db(format!("postgres pool: {other}")),
    }
}

/// Integers are `bigint`; every value here is below 2^63.
fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn uint(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn array<const N: usize>(v: Vec<u8>) -> Result<[u8; N], StoreError> {
    let len = v.len();
    v.try_into()
        .map_err(|_| StoreError::Db(format!("bytea of {len} bytes, expected {N}")))
}

fn get<'a, T: tokio_postgres::types::FromSql<'a>>(row: &'a Row, i: usize) -> Result<T, StoreError> {
    row.try_get(i).map_err(|e| pg_error(&e))
}

impl PgPool {
    /// Connects to the database at `url` (a `postgres://` URL or a
    /// `key=value` string; without TLS) with at most `pool_size` connections
    /// (at least 1), and applies the pending [`MIGRATIONS`].
    ///
    /// # Errors
    /// [`StoreError::Db`] if the URL is invalid, the database cannot be
    /// reached, a migration fails, or the database has a newer schema than
    /// this server. The message never contains the URL.
    pub fn connect(url: &str, pool_size: usize) -> Result<Self, StoreError> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| StoreError::Db(format!("database URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("ehrchain-server");
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ehrchain-pg")
            .enable_all()
            .build()?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| StoreError::Db(format!("postgres pool: {e}")))?;
        let pool = PgPool {
            inner: Arc::new(PoolInner {
                handle: runtime.handle().clone(),
                runtime: Some(runtime),
                pool,
            }),
        };
        pool.run(migrate(&pool.inner.pool))?;
        Ok(pool)
    }

    /// Runs `future` to completion on the pool's runtime, blocking the
    /// calling thread: call it from a blocking-pool or plain thread only,
    /// never from an async task (tokio panics there).
    pub(crate) fn run<F: Future>(&self, future: F) -> F::Output {
        self.inner.handle.block_on(future)
    }

    /// Whether `other` is this pool (a clone of it), not only a pool on
    /// the same database.
    pub fn same(&self, other: &PgPool) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// A connection from the pool (to use inside [`PgPool::run`]).
    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Client, StoreError> {
        self.inner.pool.get().await.map_err(|e| pool_error(&e))
    }

    /// The schema versions recorded in `schema_migrations`, ascending.
    ///
    /// # Errors
    /// [`StoreError::Db`].
    pub fn schema_versions(&self) -> Result<Vec<i64>, StoreError> {
        self.run(async {
            let client = self.client().await?;
            let rows = client
                .query(
                    "SELECT version FROM schema_migrations ORDER BY version",
                    &[],
                )
                .await
                .map_err(|e| pg_error(&e))?;
            rows.iter().map(|r| get(r, 0)).collect()
        })
    }
}

/// Applies the pending migrations in one transaction holding
/// [`MIGRATION_LOCK`], so instances starting together apply each once.
async fn migrate(pool: &Pool) -> Result<(), StoreError> {
    let e = |e: tokio_postgres::Error| pg_error(&e);
    let mut client = pool.get().await.map_err(|e| pool_error(&e))?;
    let tx = client.transaction().await.map_err(e)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(e)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    bigint PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .await
    .map_err(e)?;
    let applied: HashSet<i64> = tx
        .query("SELECT version FROM schema_migrations", &[])
        .await
        .map_err(e)?
        .iter()
        .map(|r| get::<i64>(r, 0))
        .collect::<Result<_, _>>()?;
    let latest = MIGRATIONS.iter().map(|(v, _)| *v).max().unwrap_or(0);
    if let Some(newer) = applied.iter().copied().filter(|v| *v > latest).max() {
        return Err(StoreError::Db(format!(
            "database schema {newer} is newer than this server's {latest}"
        )));
    }
    for (version, sql) in MIGRATIONS {
        if applied.contains(version) {
            continue;
        }
        tx.batch_execute(sql)
            .await
            .map_err(|err| StoreError::Db(format!("migration {version}: {}", describe(&err))))?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[version],
        )
        .await
        .map_err(e)?;
    }
    tx.commit().await.map_err(e)
}

use super::grouped::{Write, Written};

/// A token write's outcome: stored, or its caller's own error.
fn token_stored(stored: &mut HashSet<Vec<u8>>, hash: &[u8; 32]) -> Written {
    if stored.remove(&hash[..]) {
        Ok(true)
    } else {
        Err("download token not stored: no such record, or the token exists".to_owned())
    }
}

/// PostgreSQL-backed metadata; see the [module docs](self).
#[derive(Debug)]
pub struct PgMetaStore {
    pool: PgPool,
    writes: GroupCommit<Write, Written, String>,
    commits: AtomicU64,
}

impl PgMetaStore {
    /// Connects with a pool of at most `pool_size` connections and applies
    /// the pending migrations ([`PgPool::connect`]).
    ///
    /// # Errors
    /// As [`PgPool::connect`].
    pub fn connect(url: &str, pool_size: usize) -> Result<Self, StoreError> {
        Ok(Self::with_pool(PgPool::connect(url, pool_size)?))
    }

    /// A store over an existing pool (shared with the audit trail, say).
    pub fn with_pool(pool: PgPool) -> Self {
        PgMetaStore {
            pool,
            writes: GroupCommit::new(|| "nonce and token group aborted".to_owned()),
            commits: AtomicU64::new(0),
        }
    }

    /// The pool, to share with [`crate::audit::AuditLog::postgres`].
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Transactions that committed groups of nonces and tokens.
    pub fn group_commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Queues `write` for the next group; returns once it is committed.
    fn grouped(&self, write: Write) -> Result<bool, StoreError> {
        self.writes
            .submit(write, |group| {
                self.pool
                    .run(self.write_group(&group))
                    .map_err(|e| match e {
                        StoreError::Db(m) => m,
                        other => other.to_string(),
                    })
            })
            .map_err(StoreError::Db)?
            .map_err(StoreError::Db)
    }

    /// One transaction for a group: one statement ([`GroupWrite`]),
    /// committed.
    async fn write_group(&self, group: &[Write]) -> Result<Vec<Written>, StoreError> {
        let e = |e: tokio_postgres::Error| pg_error(&e);
        let plan = GroupWrite::new(group);
        let mut client = self.pool.client().await?;
        let tx = client.transaction().await.map_err(e)?;
        let stmt = GroupWrite::statement(&tx).await?;
        let rows = tx.query(&stmt, &plan.params()).await.map_err(e)?;
        let written = plan.outcomes(&rows)?;
        tx.commit().await.map_err(e)?;
        self.commits.fetch_add(1, Ordering::Relaxed);
        Ok(written)
    }

    fn upload_row(row: &Row) -> Result<Upload, StoreError> {
        Ok(Upload {
            id: UploadId(array(get(row, 0)?)?),
            eh: array(get(row, 1)?)?,
            size: uint(get(row, 2)?),
            part_size: uint(get(row, 3)?),
            created_at: uint(get(row, 4)?),
            done: get(row, 5)?,
            filing: get::<Option<Vec<u8>>>(row, 6)?
                .map(array)
                .transpose()?
                .unwrap_or([0; 32]),
            owner: get(row, 7)?,
        })
    }

    /// The first column of every row of a query, converted by `f`.
    fn column<T>(
        &self,
        sql: &str,
        args: &[&(dyn tokio_postgres::types::ToSql + Sync)],
        f: fn(Vec<u8>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        self.pool.run(async {
            let client = self.pool.client().await?;
            let stmt = client.prepare_cached(sql).await.map_err(|e| pg_error(&e))?;
            let rows = client.query(&stmt, args).await.map_err(|e| pg_error(&e))?;
            rows.iter().map(|r| f(get(r, 0)?)).collect()
        })
    }

    /// At most one row of a query, converted by `f`.
    fn one<T>(
        &self,
        sql: &str,
        args: &[&(dyn tokio_postgres::types::ToSql + Sync)],
        f: fn(&Row) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        self.pool.run(async {
            let client = self.pool.client().await?;
            let stmt = client.prepare_cached(sql).await.map_err(|e| pg_error(&e))?;
            let row = client
                .query_opt(&stmt, args)
                .await
                .map_err(|e| pg_error(&e))?;
            row.as_ref().map(f).transpose()
        })
    }
}

/// The one statement of a group's nonce and token writes: every nonce in
/// one `INSERT … ON CONFLICT DO NOTHING` (keys in sorted order, so two
/// instances' groups lock rows in the same order and cannot deadlock), then
/// every token whose nonce that insert returned as new (or that has no
/// nonce), for a record that exists, sorted by hash; returns `(true, key)`
/// per new nonce and `(false, hash)` per stored token.
const GROUP_WRITE_SQL: &str = "
    WITH n AS (
        INSERT INTO used_nonces (key, expiry)
        SELECT * FROM unnest($1::bytea[], $2::bigint[])
        ON CONFLICT (key) DO NOTHING RETURNING key),
    t AS (
        INSERT INTO download_tokens (hash, eh, expiry)
        SELECT t.hash, t.eh, t.expiry
        FROM unnest($3::bytea[], $4::bytea[], $5::bigint[], $6::bytea[])
            AS t(hash, eh, expiry, nonce)
        WHERE (t.nonce IS NULL OR t.nonce IN (SELECT key FROM n))
          AND EXISTS (SELECT 1 FROM records r WHERE r.eh = t.eh)
        ON CONFLICT (hash) DO NOTHING RETURNING hash)
    SELECT true, key FROM n UNION ALL SELECT false, hash FROM t";

/// A token to write: hash, record, expiry, and the nonce it goes with.
type TokenWrite<'a> = (&'a [u8; 32], &'a Eh, u64, Option<&'a [u8]>);

/// A group of nonce and token writes as the parameters of
/// [`GROUP_WRITE_SQL`], and the mapping of its rows back to each write's
/// outcome. One statement, so one round trip, which a caller may pipeline
/// with the next statement of its transaction.
pub(crate) struct GroupWrite<'a> {
    group: &'a [Write],
    keys: Vec<&'a [u8]>,
    expiries: Vec<i64>,
    hashes: Vec<&'a [u8]>,
    ehs: Vec<&'a [u8]>,
    token_expiries: Vec<i64>,
    /// The nonce a token goes with (`None`: a token alone).
    token_nonces: Vec<Option<&'a [u8]>>,
}

impl<'a> GroupWrite<'a> {
    /// The parameters of `group`. A nonce written several times in the
    /// group belongs to its first writer in arrival order (the others are
    /// replays): only that writer's token may go in with it.
    pub(crate) fn new(group: &'a [Write]) -> Self {
        let mut nonces: Vec<(&[u8; 32], u64)> = Vec::new();
        let mut tokens: Vec<TokenWrite<'a>> = Vec::new();
        let mut claimed: HashSet<&[u8; 32]> = HashSet::new();
        for write in group {
            match write {
                Write::Nonce { key, expiry } => {
                    claimed.insert(key);
                    nonces.push((key, *expiry));
                }
                Write::NonceThenToken { key, expiry, token } => {
                    if claimed.insert(key) {
                        if let Some((hash, eh)) = token {
                            tokens.push((hash, eh, *expiry, Some(&key[..])));
                        }
                    }
                    nonces.push((key, *expiry));
                }
                Write::Token { hash, eh, expiry } => tokens.push((hash, eh, *expiry, None)),
            }
        }
        nonces.sort_unstable();
        tokens.sort_unstable();
        GroupWrite {
            group,
            keys: nonces.iter().map(|(k, _)| &k[..]).collect(),
            expiries: nonces.iter().map(|(_, x)| int(*x)).collect(),
            hashes: tokens.iter().map(|t| &t.0[..]).collect(),
            ehs: tokens.iter().map(|t| &t.1[..]).collect(),
            token_expiries: tokens.iter().map(|t| int(t.2)).collect(),
            token_nonces: tokens.iter().map(|t| t.3).collect(),
        }
    }

    /// The prepared statement (cached per connection).
    pub(crate) async fn statement(
        tx: &deadpool_postgres::Transaction<'_>,
    ) -> Result<tokio_postgres::Statement, StoreError> {
        tx.prepare_cached(GROUP_WRITE_SQL)
            .await
            .map_err(|e| pg_error(&e))
    }

    /// The statement's parameters.
    pub(crate) fn params(&self) -> [&(dyn tokio_postgres::types::ToSql + Sync); 6] {
        [
            &self.keys,
            &self.expiries,
            &self.hashes,
            &self.ehs,
            &self.token_expiries,
            &self.token_nonces,
        ]
    }

    /// Each write's outcome from the statement's rows. Several writers of
    /// one nonce: the first in arrival order gets it, the others a replay.
    pub(crate) fn outcomes(&self, rows: &[Row]) -> Result<Vec<Written>, StoreError> {
        let mut new_nonces: HashSet<Vec<u8>> = HashSet::new();
        let mut stored_tokens: HashSet<Vec<u8>> = HashSet::new();
        for row in rows {
            let nonce: bool = get(row, 0)?;
            let key: Vec<u8> = get(row, 1)?;
            if nonce {
                new_nonces.insert(key);
            } else {
                stored_tokens.insert(key);
            }
        }
        Ok(self
            .group
            .iter()
            .map(|write| match write {
                Write::Nonce { key, .. } => Ok(new_nonces.remove(&key[..])),
                Write::Token { hash, .. } => token_stored(&mut stored_tokens, hash),
                Write::NonceThenToken { key, token, .. } => {
                    if !new_nonces.remove(&key[..]) {
                        return Ok(false);
                    }
                    match token {
                        Some((hash, _)) => token_stored(&mut stored_tokens, hash),
                        None => Ok(true),
                    }
                }
            })
            .collect())
    }
}

fn upload_id(v: Vec<u8>) -> Result<UploadId, StoreError> {
    array(v).map(UploadId)
}

impl MetaStore for PgMetaStore {
    fn create_upload(&self, u: &Upload, bounds: &UploadBounds) -> Result<Admission, StoreError> {
        let e = |e: tokio_postgres::Error| pg_error(&e);
        self.pool.run(async {
            let mut client = self.pool.client().await?;
            let tx = client.transaction().await.map_err(e)?;
            // Every instance's admissions queue here; READ COMMITTED gives
            // each statement after the lock a snapshot that includes the
            // previous holder's committed upload.
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&ADMISSION_LOCK])
                .await
                .map_err(e)?;
            let over = |row: &Row, max_count: u64, max_bytes: u64| -> Result<bool, StoreError> {
                let (count, bytes) = (uint(get(row, 0)?), uint(get(row, 1)?));
                Ok((max_count > 0 && count >= max_count)
                    || (max_bytes > 0 && bytes.saturating_add(u.size) > max_bytes))
            };
            let total = tx
                .query_one(
                    "SELECT COUNT(*)::bigint, COALESCE(SUM(size), 0)::bigint FROM uploads WHERE NOT done",
                    &[],
                )
                .await
                .map_err(e)?;
            if over(&total, bounds.total_uploads, bounds.total_bytes)? {
                return Ok(Admission::ServerFull);
            }
            if u.owner != STAFF_OWNER {
                let mine = tx
                    .query_one(
                        "SELECT COUNT(*)::bigint, COALESCE(SUM(size), 0)::bigint FROM uploads WHERE NOT done AND owner = $1",
                        &[&u.owner],
                    )
                    .await
                    .map_err(e)?;
                if over(&mine, bounds.per_owner_uploads, bounds.per_owner_bytes)? {
                    return Ok(Admission::OwnerFull);
                }
            }
            tx.execute(
                "INSERT INTO uploads (id, eh, size, part_size, created_at, done, filing, owner)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &&u.id.0[..],
                    &&u.eh[..],
                    &int(u.size),
                    &int(u.part_size),
                    &int(u.created_at),
                    &u.done,
                    &&u.filing[..],
                    &u.owner,
                ],
            )
            .await
            .map_err(e)?;
            tx.commit().await.map_err(e)?;
            Ok(Admission::Admitted)
        })
    }

    fn upload(&self, id: &UploadId) -> Result<Option<Upload>, StoreError> {
        self.one(
            "SELECT id, eh, size, part_size, created_at, done, filing, owner FROM uploads WHERE id = $1",
            &[&&id.0[..]],
            Self::upload_row,
        )
    }

    fn finish_upload(&self, id: &UploadId, record: &Record) -> Result<(), StoreError> {
        let e = |e: tokio_postgres::Error| pg_error(&e);
        self.pool.run(async {
            let mut client = self.pool.client().await?;
            let tx = client.transaction().await.map_err(e)?;
            let filing = record.filing.map(|f| f.to_vec());
            tx.execute(
                "INSERT INTO records (eh, size, created_at, filing) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (eh) DO NOTHING",
                &[
                    &&record.eh[..],
                    &int(record.size),
                    &int(record.created_at),
                    &filing,
                ],
            )
            .await
            .map_err(e)?;
            // Identical bytes completed by another upload keep the first
            // commitment; another one must not take the record over.
            let stored: Option<Vec<u8>> = get(
                &tx.query_one(
                    "SELECT filing FROM records WHERE eh = $1",
                    &[&&record.eh[..]],
                )
                .await
                .map_err(e)?,
                0,
            )?;
            if stored != filing {
                return Err(StoreError::FilingConflict);
            }
            // The fence, as in SQLite: a removed upload commits nothing.
            let marked = tx
                .execute(
                    "UPDATE uploads SET done = true WHERE id = $1",
                    &[&&id.0[..]],
                )
                .await
                .map_err(e)?;
            if marked == 0 {
                return Err(StoreError::NotFound);
            }
            tx.commit().await.map_err(e)
        })
    }

    fn delete_upload(&self, id: &UploadId) -> Result<(), StoreError> {
        self.pool.run(async {
            let client = self.pool.client().await?;
            client
                .execute("DELETE FROM uploads WHERE id = $1", &[&&id.0[..]])
                .await
                .map_err(|e| pg_error(&e))?;
            Ok(())
        })
    }

    fn uploads_created_before(&self, before: u64, limit: u32) -> Result<Vec<UploadId>, StoreError> {
        self.column(
            "SELECT id FROM uploads WHERE created_at < $1 LIMIT $2",
            &[&int(before), &i64::from(limit)],
            upload_id,
        )
    }

    fn open_uploads(&self) -> Result<Vec<UploadId>, StoreError> {
        self.column("SELECT id FROM uploads WHERE NOT done", &[], upload_id)
    }

    fn record(&self, eh: &Eh) -> Result<Option<Record>, StoreError> {
        self.one(
            "SELECT eh, size, created_at, filing FROM records WHERE eh = $1",
            &[&&eh[..]],
            |r| {
                Ok(Record {
                    eh: array(get(r, 0)?)?,
                    size: uint(get(r, 1)?),
                    created_at: uint(get(r, 2)?),
                    filing: get::<Option<Vec<u8>>>(r, 3)?.map(array).transpose()?,
                })
            },
        )
    }

    fn record_hashes(&self) -> Result<Vec<Eh>, StoreError> {
        self.column("SELECT eh FROM records", &[], array)
    }

    fn records_created_before(&self, before: u64, limit: u32) -> Result<Vec<Eh>, StoreError> {
        self.column(
            "SELECT eh FROM records WHERE created_at < $1 ORDER BY created_at LIMIT $2",
            &[&int(before), &i64::from(limit)],
            array,
        )
    }

    fn records_after(&self, after: Option<&Eh>, limit: u32) -> Result<Vec<Eh>, StoreError> {
        match after {
            Some(after) => self.column(
                "SELECT eh FROM records WHERE eh > $1 ORDER BY eh LIMIT $2",
                &[&&after[..], &i64::from(limit)],
                array,
            ),
            None => self.column(
                "SELECT eh FROM records ORDER BY eh LIMIT $1",
                &[&i64::from(limit)],
                array,
            ),
        }
    }

    fn retire_record(&self, eh: &Eh, reason: &'static str, at: u64) -> Result<bool, StoreError> {
        let e = |e: tokio_postgres::Error| pg_error(&e);
        self.pool.run(async {
            let mut client = self.pool.client().await?;
            let tx = client.transaction().await.map_err(e)?;
            // Index entries and tokens go by ON DELETE CASCADE, in the same transaction.
            let n = tx
                .execute("DELETE FROM records WHERE eh = $1", &[&&eh[..]])
                .await
                .map_err(e)?;
            tx.execute(
                "INSERT INTO retired (eh, reason, at) VALUES ($1, $2, $3) ON CONFLICT (eh) DO NOTHING",
                &[&&eh[..], &reason, &int(at)],
            )
            .await
            .map_err(e)?;
            tx.commit().await.map_err(e)?;
            Ok(n > 0)
        })
    }

    fn is_retired(&self, eh: &Eh) -> Result<bool, StoreError> {
        Ok(self
            .one("SELECT 1 FROM retired WHERE eh = $1", &[&&eh[..]], |_| {
                Ok(())
            })?
            .is_some())
    }

    fn insert_index(&self, entry: &IndexEntry, now: u64) -> Result<IndexInsert, StoreError> {
        let e = |e: tokio_postgres::Error| pg_error(&e);
        let compare = |row: &Row| -> Result<IndexInsert, StoreError> {
            let (z, k, eh): (Vec<u8>, Vec<u8>, Vec<u8>) =
                (get(row, 0)?, get(row, 1)?, get(row, 2)?);
            Ok(if z == entry.z && k == entry.k && eh == entry.eh {
                IndexInsert::Unchanged
            } else {
                IndexInsert::Conflict
            })
        };
        self.pool.run(async {
            let mut client = self.pool.client().await?;
            let tx = client.transaction().await.map_err(e)?;
            let existing_sql = "SELECT z, k, eh FROM record_index WHERE x = $1";
            if let Some(row) = tx
                .query_opt(existing_sql, &[&&entry.x[..]])
                .await
                .map_err(e)?
            {
                return compare(&row);
            }
            // FOR KEY SHARE: the record cannot be retired until this commits.
            let has_record = tx
                .query_opt(
                    "SELECT 1 FROM records WHERE eh = $1 FOR KEY SHARE",
                    &[&&entry.eh[..]],
                )
                .await
                .map_err(e)?
                .is_some();
            if !has_record {
                return Ok(IndexInsert::NoRecord);
            }
            let inserted = tx
                .execute(
                    "INSERT INTO record_index (x, z, k, eh, created_at) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (x) DO NOTHING",
                    &[
                        &&entry.x[..],
                        &&entry.z[..],
                        &entry.k,
                        &&entry.eh[..],
                        &int(now),
                    ],
                )
                .await
                .map_err(e)?;
            if inserted == 0 {
                // Filed meanwhile by a concurrent request (any instance).
                let row = tx
                    .query_one(existing_sql, &[&&entry.x[..]])
                    .await
                    .map_err(e)?;
                return compare(&row);
            }
            tx.commit().await.map_err(e)?;
            Ok(IndexInsert::Created)
        })
    }

    fn index(&self, x: &IndexKey) -> Result<Option<IndexEntry>, StoreError> {
        self.one(
            "SELECT x, z, k, eh FROM record_index WHERE x = $1",
            &[&&x[..]],
            |r| {
                Ok(IndexEntry {
                    x: array(get(r, 0)?)?,
                    z: array(get(r, 1)?)?,
                    k: get(r, 2)?,
                    eh: array(get(r, 3)?)?,
                })
            },
        )
    }

    fn filed(&self, x: &IndexKey) -> Result<Option<(IndexEntry, Option<Record>)>, StoreError> {
        self.one(
            "SELECT i.x, i.z, i.k, i.eh, r.size, r.created_at, r.filing
             FROM record_index i LEFT JOIN records r ON r.eh = i.eh WHERE i.x = $1",
            &[&&x[..]],
            |r| {
                let entry = IndexEntry {
                    x: array(get(r, 0)?)?,
                    z: array(get(r, 1)?)?,
                    k: get(r, 2)?,
                    eh: array(get(r, 3)?)?,
                };
                let record = match get::<Option<i64>>(r, 4)? {
                    Some(size) => Some(Record {
                        eh: entry.eh,
                        size: uint(size),
                        created_at: uint(get(r, 5)?),
                        filing: get::<Option<Vec<u8>>>(r, 6)?.map(array).transpose()?,
                    }),
                    None => None,
                };
                Ok((entry, record))
            },
        )
    }

    fn postgres_pool(&self) -> Option<&PgPool> {
        Some(&self.pool)
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
        self.one(
            "SELECT eh, expiry FROM download_tokens WHERE hash = $1",
            &[&&hash[..]],
            |r| Ok((array(get(r, 0)?)?, uint(get(r, 1)?))),
        )
    }

    fn purge_expired(&self, now: u64) -> Result<u64, StoreError> {
        let e = |e: tokio_postgres::Error| pg_error(&e);
        self.pool.run(async {
            let mut client = self.pool.client().await?;
            let tx = client.transaction().await.map_err(e)?;
            // A nonce is kept until its request's expiry: after that the
            // request itself is refused as expired.
            let a = tx
                .execute("DELETE FROM used_nonces WHERE expiry <= $1", &[&int(now)])
                .await
                .map_err(e)?;
            let b = tx
                .execute(
                    "DELETE FROM download_tokens WHERE expiry <= $1",
                    &[&int(now)],
                )
                .await
                .map_err(e)?;
            // Leases of instances that stopped mid-task (not counted: not request state).
            tx.execute("DELETE FROM leases WHERE expires_at <= $1", &[&int(now)])
                .await
                .map_err(e)?;
            tx.commit().await.map_err(e)?;
            Ok(a + b)
        })
    }

    fn ping(&self) -> Result<(), StoreError> {
        self.one("SELECT 1", &[], |_| Ok(())).map(|_| ())
    }

    fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now: u64,
        ttl_secs: u64,
    ) -> Result<bool, StoreError> {
        self.pool.run(async {
            let client = self.pool.client().await?;
            // One statement: the row lock of ON CONFLICT serialises
            // instances; the WHERE refuses a live lease of another holder.
            let n = client
                .execute(
                    "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $4)
                     ON CONFLICT (name) DO UPDATE
                     SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
                     WHERE leases.holder = EXCLUDED.holder OR leases.expires_at <= $3",
                    &[
                        &name,
                        &holder,
                        &int(now),
                        &int(now.saturating_add(ttl_secs)),
                    ],
                )
                .await
                .map_err(|e| pg_error(&e))?;
            Ok(n == 1)
        })
    }

    fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.pool.run(async {
            let client = self.pool.client().await?;
            client
                .execute(
                    "DELETE FROM leases WHERE name = $1 AND holder = $2",
                    &[&name, &holder],
                )
                .await
                .map_err(|e| pg_error(&e))?;
            Ok(())
        })
    }
}
