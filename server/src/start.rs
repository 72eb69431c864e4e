//! Start-up: open the stores, reconcile them after whatever stop came before,
//! open the audit trail, connect the chain, then serve until a signal.

use std::path::Path;
use std::sync::Arc;

use crate::app::{app, AppState};
use crate::audit::{AuditLog, AUDIT_FILE};
use crate::chain::{ChainView, RpcChain};
use crate::config::Settings;
use crate::relay::{ChainWriter, RpcRelayer};
use crate::serve::{serve, shutdown_signal, ServeLimits};
use crate::store::fs::FsBlobStore;
use crate::store::postgres::{PgMetaStore, PgPool};
use crate::store::s3::{S3BlobStore, S3Config};
use crate::store::sqlite::SqliteMetaStore;
use crate::store::{recover, BlobStore, MetaStore, Recovery, StoreError};
use crate::tasks;

/// File name of the metadata database inside the data directory.
pub const META_FILE: &str = "meta.sqlite";
/// Directory of the ciphertext store inside the data directory.
pub const BLOB_DIR: &str = "blobs";

/// A failure to start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data directory or a store could not be opened.
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// The audit trail or the listener failed.
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The chain client could not be built.
    #[error("chain: {0}")]
    Chain(#[from] ehrchain::Error),
}

/// Opens the metadata store and the audit trail: PostgreSQL when
/// configured (shared by every instance), else SQLite and the audit file in
/// the data directory.
fn open_meta(settings: &Settings) -> Result<(Arc<dyn MetaStore>, AuditLog), StartError> {
    if let Some(db) = &settings.database {
        let meta = PgMetaStore::connect(&db.url, db.pool)?;
        let audit = AuditLog::postgres(meta.pool().clone())?;
        tracing::info!(pool = db.pool, "metadata and audit trail in PostgreSQL");
        return Ok((Arc::new(meta), audit));
    }
    let dir = &settings.data_dir;
    let meta = SqliteMetaStore::open(&dir.join(META_FILE))?;
    let (audit, verification) = AuditLog::open(&dir.join(AUDIT_FILE))?;
    if let Some(bad) = &verification.first_bad {
        tracing::error!(line = bad.line, seq = bad.seq, reason = %bad.reason,
            "AUDIT LOG DOES NOT VERIFY: investigate; new entries are chained after the last line");
    }
    if verification.torn_tail_bytes > 0 {
        tracing::warn!(
            bytes = verification.torn_tail_bytes,
            "cut a torn, unacknowledged audit entry"
        );
    }
    Ok((Arc::new(meta), audit))
}

/// Opens the ciphertext store: the S3 bucket when configured, else files
/// in the data directory; with the grace an unreferenced ciphertext gets at
/// start-up (only a shared store needs one).
fn open_blobs(settings: &Settings) -> Result<(Arc<dyn BlobStore>, u64), StartError> {
    if let Some(s3) = &settings.s3 {
        let config = S3Config {
            endpoint: s3.endpoint.clone(),
            bucket: s3.bucket.clone(),
            region: s3.region.clone(),
            access_key_id: s3.access_key_id.clone(),
            secret_access_key: s3.secret_access_key.to_string(),
            prefix: s3.prefix.clone(),
            allow_http: s3.endpoint.starts_with("http://"),
        };
        let store = S3BlobStore::open(&config)?;
        tracing::info!(endpoint = %s3.endpoint, bucket = %s3.bucket, prefix = %s3.prefix,
            "ciphertext in S3");
        return Ok((Arc::new(store), settings.orphan_grace.as_secs()));
    }
    let store = FsBlobStore::open(&settings.data_dir.join(BLOB_DIR))?;
    Ok((Arc::new(store), 0))
}

/// Opens the stores (under the data directory, or PostgreSQL and S3) and
/// reconciles them.
///
/// # Errors
/// [`StartError`].
pub fn open_state(settings: Settings) -> Result<(AppState, Recovery), StartError> {
    std::fs::create_dir_all(&settings.data_dir)?;
    let (meta, audit) = open_meta(&settings)?;
    let (blobs, orphan_grace) = open_blobs(&settings)?;
    let recovery = recover(
        meta.as_ref(),
        blobs.as_ref(),
        crate::app::now(),
        orphan_grace,
    )?;
    let chain: Option<Arc<dyn ChainView>> = match &settings.chain {
        Some(c) => Some(Arc::new(RpcChain::new(&c.rpc_url, c.registry)?)),
        None => None,
    };
    let relayer: Option<Arc<dyn ChainWriter>> = match (&settings.chain, &settings.relayer_key) {
        (Some(c), Some(key)) => Some(Arc::new(RpcRelayer::new(
            &c.rpc_url,
            c.registry,
            key.clone(),
        )?)),
        _ => None,
    };
    let state = AppState::with_relayer(settings, meta, blobs, chain, relayer, Arc::new(audit));
    Ok((state, recovery))
}

/// Runs the server until SIGTERM/SIGINT.
///
/// # Errors
/// [`StartError`].
pub async fn run(settings: Settings) -> Result<(), StartError> {
    let limits = ServeLimits {
        max_connections: settings.max_connections,
        max_connections_per_ip: settings.max_connections_per_ip,
        header_timeout: settings.header_timeout,
        shutdown_grace: settings.shutdown_grace,
    };
    let listen = settings.listen;
    let (state, recovery) = tokio::task::spawn_blocking(move || open_state(settings))
        .await
        .map_err(std::io::Error::other)??;
    tracing::info!(
        temporary_removed = recovery.temporary_removed,
        orphan_records_removed = recovery.orphan_records_removed,
        orphan_records_kept = recovery.orphan_records_kept,
        stale_uploads_removed = recovery.stale_uploads_removed,
        records_missing_ciphertext = recovery.records_missing_ciphertext,
        "storage recovered"
    );
    if recovery.records_missing_ciphertext > 0 {
        tracing::error!(
            count = recovery.records_missing_ciphertext,
            "committed records have no ciphertext file; they are answered RecordNotFound"
        );
    }
    let s = &state.settings;
    if s.chain.is_none() {
        tracing::warn!(
            "no chain configured (EHR_RPC_URL, EHR_REGISTRY): access requests are refused"
        );
    }
    if s.authority.is_none() || s.hospital.is_none() {
        tracing::warn!("EHR_AUTHORITY or EHR_HOSPITAL missing: access requests are refused");
    }
    match &state.relay {
        Some(relay) => tracing::info!(
            relayer = %relay.address(),
            per_hour_per_client = s.relay.per_hour_per_client,
            per_hour = s.relay.per_hour,
            "relaying authorisations (POST /v1/relay/authorise) from this account"
        ),
        None => tracing::info!("no EHR_RELAYER_KEY: authorisations are not relayed"),
    }
    match (&s.upload_token, s.open_uploads) {
        (Some(_), _) => {}
        (None, true) => {
            tracing::warn!("EHR_OPEN_UPLOADS: anyone who reaches the server may upload")
        }
        (None, false) => tracing::warn!(
            "uploads are closed: set EHR_UPLOAD_TOKEN (staff tools) or EHR_OPEN_UPLOADS=true"
        ),
    }
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!(
        listen = %listener.local_addr()?,
        hospital = s.hospital.as_deref().unwrap_or(""),
        chain = s.chain.is_some(),
        retention_secs = s.retention.map(|r| r.as_secs()),
        "listening"
    );
    let sweeper = tokio::spawn(tasks::run(state.clone()));
    serve(listener, app(state), limits, shutdown_signal()).await?;
    sweeper.abort();
    tracing::info!("stopped");
    Ok(())
}

/// `audit-verify`: verifies `<data_dir>/audit.log`.
///
/// # Errors
/// I/O failures reading the log.
pub fn audit_verify(data_dir: &Path) -> std::io::Result<crate::audit::Verification> {
    crate::audit::verify(&data_dir.join(AUDIT_FILE))
}

/// `audit-verify --database-url`: verifies the audit table of a scaled
/// setup's PostgreSQL database.
///
/// # Errors
/// The database cannot be reached or read.
pub fn audit_verify_database(url: &str) -> std::io::Result<crate::audit::Verification> {
    let pool = PgPool::connect(url, 1).map_err(|e| std::io::Error::other(e.to_string()))?;
    crate::audit::verify_postgres(&pool)
}
