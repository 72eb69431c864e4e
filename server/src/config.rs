//! Command line and environment (every flag has an `EHR_*` variable; a flag
//! wins over its variable), checked into [`Settings`].

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use ehrchain::{Address, SecretKey};
use zeroize::Zeroizing;

/// `ehrchain-server`: the hospital record server.
#[derive(Debug, Parser)]
#[command(
    name = "ehrchain-server",
    version,
    about = "ehrchain hospital record server",
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    /// `serve` (the default) or `audit-verify`.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Server options, when no subcommand is given.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve(Box<ServeArgs>),
    /// Verify the audit trail's hash chain; prints a JSON report, exit 0 if intact, 1 if not.
    AuditVerify {
        /// The server's data directory (its `audit.log`).
        #[arg(long, env = "EHR_DATA_DIR", required_unless_present = "database_url")]
        data_dir: Option<PathBuf>,
        /// The PostgreSQL database of a scaled setup (its audit table) instead.
        #[arg(long, env = "EHR_DATABASE_URL", hide_env_values = true)]
        database_url: Option<SecretArg>,
    },
}

/// Server options.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (plain HTTP/1.1; put TLS in front).
    #[arg(long, env = "EHR_LISTEN", default_value = "127.0.0.1:8700")]
    pub listen: SocketAddr,
    /// Data directory: meta.sqlite, audit.log, blobs/ (one server per directory).
    /// With `EHR_DATABASE_URL` the metadata and the audit trail live in
    /// PostgreSQL instead; with `EHR_S3_BUCKET` the ciphertext lives in S3.
    #[arg(long, env = "EHR_DATA_DIR", required = true)]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL for the metadata and the audit trail, shared by every
    /// instance of this hospital's server (`postgres://user@host:port/db`;
    /// `env:NAME` or `file:PATH` keep a password out of the process list).
    /// Unset: SQLite in the data directory.
    #[arg(long, env = "EHR_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<SecretArg>,
    /// PostgreSQL connections per instance.
    #[arg(long, env = "EHR_DATABASE_POOL", default_value_t = 16)]
    pub database_pool: usize,
    /// S3-compatible endpoint for the ciphertext (`http://127.0.0.1:9000`);
    /// with `EHR_S3_BUCKET`. Unset: files under the data directory.
    #[arg(long, env = "EHR_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// The bucket (it must exist).
    #[arg(long, env = "EHR_S3_BUCKET")]
    pub s3_bucket: Option<String>,
    /// The bucket's region.
    #[arg(long, env = "EHR_S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,
    /// Prefix of every key this server writes (`hospital-a/`).
    #[arg(long, env = "EHR_S3_PREFIX", default_value = "")]
    pub s3_prefix: String,
    /// Access key id.
    #[arg(long, env = "EHR_S3_ACCESS_KEY_ID")]
    pub s3_access_key_id: Option<String>,
    /// Secret access key (`env:NAME`, `file:PATH` or the value).
    #[arg(long, env = "EHR_S3_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub s3_secret_access_key: Option<SecretArg>,
    /// With a shared blob store, a record's ciphertext without a committed
    /// row is removed at start-up only once it is this many seconds old
    /// (another instance may be between the two steps of a completion).
    #[arg(long, env = "EHR_ORPHAN_GRACE_SECS", default_value_t = 3600)]
    pub orphan_grace_secs: u64,
    /// Ethereum JSON-RPC endpoint (http:// or https://).
    #[arg(long, env = "EHR_RPC_URL")]
    pub rpc_url: Option<String>,
    /// Registry contract address.
    #[arg(long, env = "EHR_REGISTRY")]
    pub registry: Option<String>,
    /// The health authority's address (certificate issuer).
    #[arg(long, env = "EHR_AUTHORITY")]
    pub authority: Option<String>,
    /// This server's hospital name (access requests must name it).
    #[arg(long, env = "EHR_HOSPITAL")]
    pub hospital: Option<String>,
    /// Portal origins allowed by CORS, comma-separated (none: no CORS headers).
    #[arg(long, env = "EHR_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Records older than this many seconds are deleted (0 = keep forever).
    #[arg(long, env = "EHR_RETENTION_SECS", default_value_t = 315_576_000)]
    pub retention_secs: u64,
    /// How often the retention and expiry sweep runs, seconds.
    #[arg(long, env = "EHR_SWEEP_INTERVAL_SECS", default_value_t = 60)]
    pub sweep_interval_secs: u64,
    /// Unfinished uploads are dropped after this many seconds.
    #[arg(long, env = "EHR_UPLOAD_TTL_SECS", default_value_t = 86_400)]
    pub upload_ttl_secs: u64,
    /// How long an upload stays busy after its completing (or aborting)
    /// instance stops mid-task, seconds; a live one renews its lease every
    /// third of it.
    #[arg(long, env = "EHR_UPLOAD_LEASE_SECS", default_value_t = 30)]
    pub upload_lease_secs: u64,
    /// Largest record (ciphertext) accepted, bytes.
    #[arg(long, env = "EHR_MAX_RECORD_SIZE", default_value_t = 1 << 30)]
    pub max_record_size: u64,
    /// Part size when the client names none, bytes.
    #[arg(long, env = "EHR_DEFAULT_PART_SIZE", default_value_t = 8 << 20)]
    pub default_part_size: u64,
    /// Smallest part size a client may choose, bytes.
    #[arg(long, env = "EHR_MIN_PART_SIZE", default_value_t = 64 << 10)]
    pub min_part_size: u64,
    /// Largest part size a client may choose, bytes.
    #[arg(long, env = "EHR_MAX_PART_SIZE", default_value_t = 64 << 20)]
    pub max_part_size: u64,
    /// Most parts per upload.
    #[arg(long, env = "EHR_MAX_PARTS", default_value_t = 10_000)]
    pub max_parts: u64,
    /// Largest JSON request body, bytes.
    #[arg(long, env = "EHR_MAX_JSON_BODY", default_value_t = 64 << 10)]
    pub max_json_body: u64,
    /// Sustained requests per second per client IP (0 = no limit).
    #[arg(long, env = "EHR_RATE_LIMIT_PER_SEC", default_value_t = 50.0)]
    pub rate_limit_per_sec: f64,
    /// Burst of requests per client IP above the sustained rate.
    #[arg(long, env = "EHR_RATE_LIMIT_BURST", default_value_t = 200)]
    pub rate_limit_burst: u32,
    /// Take the client IP from the last X-Forwarded-For entry (only behind a trusted proxy).
    #[arg(long, env = "EHR_TRUST_FORWARDED_FOR", default_value_t = false)]
    pub trust_forwarded_for: bool,
    /// Deadline of a JSON request, seconds.
    #[arg(long, env = "EHR_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Deadline of one part upload or of an upload's completion, seconds.
    #[arg(long, env = "EHR_TRANSFER_TIMEOUT_SECS", default_value_t = 900)]
    pub transfer_timeout_secs: u64,
    /// Longest pause inside a request body, seconds.
    #[arg(long, env = "EHR_BODY_IDLE_TIMEOUT_SECS", default_value_t = 60)]
    pub body_idle_timeout_secs: u64,
    /// Deadline for a client to send its request headers, seconds.
    #[arg(long, env = "EHR_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Most simultaneous connections (further ones are closed at once).
    #[arg(long, env = "EHR_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// Most simultaneous connections from one peer address (0: no per-address
    /// cap; behind a proxy, every connection comes from the proxy).
    #[arg(long, env = "EHR_MAX_CONNECTIONS_PER_IP", default_value_t = 64)]
    pub max_connections_per_ip: usize,
    /// Largest `expiry - now` of an access request, seconds (docs/PROTOCOL.md §9).
    #[arg(long, env = "EHR_MAX_REQUEST_TTL", default_value_t = ehrchain::request::DEFAULT_MAX_TTL)]
    pub max_request_ttl: u64,
    /// On SIGTERM/SIGINT, how long in-flight requests may take to finish, seconds.
    #[arg(long, env = "EHR_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    pub shutdown_grace_secs: u64,
    /// How old, in milliseconds, the chain's block number a decision is
    /// made at may be: a decision uses the newest block number whose read
    /// began at most this long before the decision did. 0 (the default): a
    /// read begun after it (concurrent decisions share one read). A positive
    /// value saves block-number reads but lets a request right after a
    /// chain change be decided at the block before it.
    #[arg(long, env = "EHR_CHAIN_HEAD_MAX_AGE_MS", default_value_t = 0)]
    pub chain_head_max_age_ms: u64,
    /// How long, in seconds, the server keeps deciding at the last block it
    /// read while the chain is unreachable; beyond that every decision that
    /// needs the chain is refused (`RpcUnreachable`). 0: refused at once.
    #[arg(long, env = "EHR_CHAIN_MAX_LAG_SECS", default_value_t = 10)]
    pub chain_max_lag_secs: u64,
    /// Bearer token that `GET /metrics` requires; without it the endpoint
    /// does not exist (`NotFound`).
    #[arg(long, env = "EHR_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Bearer token required on /v1/uploads (the hospital's staff tools).
    #[arg(long, env = "EHR_UPLOAD_TOKEN", hide_env_values = true)]
    pub upload_token: Option<String>,
    /// Accept uploads from anyone who reaches the server, without a token.
    /// Off by default: without a token and without this flag, the server
    /// refuses every upload (`Unauthorized`).
    #[arg(long, env = "EHR_OPEN_UPLOADS", default_value_t = false)]
    pub open_uploads: bool,
    /// Most open (not completed) uploads of one client: a doctor (signed
    /// uploads) or an address (open uploads); the staff token is bounded
    /// only in total. 0: no bound.
    #[arg(long, env = "EHR_MAX_OPEN_UPLOADS_PER_CLIENT", default_value_t = 8)]
    pub max_open_uploads_per_client: u64,
    /// Most bytes one client's open uploads may reserve (their announced
    /// sizes). 0: no bound.
    #[arg(long, env = "EHR_MAX_RESERVED_BYTES_PER_CLIENT", default_value_t = 4 << 30)]
    pub max_reserved_bytes_per_client: u64,
    /// Most open uploads on the server. 0: no bound.
    #[arg(long, env = "EHR_MAX_OPEN_UPLOADS", default_value_t = 256)]
    pub max_open_uploads: u64,
    /// Most bytes all open uploads may reserve. 0: no bound.
    #[arg(long, env = "EHR_MAX_RESERVED_BYTES", default_value_t = 64 << 30)]
    pub max_reserved_bytes: u64,
    /// The relayer's account key, which signs and pays for patients'
    /// `authorise` transactions (`POST /v1/relay/authorise`): `env:NAME`
    /// (that environment variable), `file:PATH` (the file's first line) or
    /// the hex itself. None: the server relays nothing. Needs the chain.
    #[arg(long, env = "EHR_RELAYER_KEY", hide_env_values = true)]
    pub relayer_key: Option<SecretArg>,
    /// Relays one client may ask for per hour (a token bucket of this size,
    /// refilled evenly over the hour). 0: no bound.
    #[arg(long, env = "EHR_RELAY_PER_HOUR_PER_CLIENT", default_value_t = 20)]
    pub relay_per_hour_per_client: u32,
    /// Relays the whole server makes per hour (one bucket for everyone). 0: no bound.
    #[arg(long, env = "EHR_RELAY_PER_HOUR", default_value_t = 600)]
    pub relay_per_hour: u32,
    /// How long a relay waits for its transaction to be mined before
    /// answering 202 with the hash alone, seconds.
    #[arg(long, env = "EHR_RELAY_RECEIPT_TIMEOUT_SECS", default_value_t = 20)]
    pub relay_receipt_timeout_secs: u64,
    /// Log filter (tracing EnvFilter syntax).
    #[arg(long, env = "EHR_LOG", default_value = "info")]
    pub log: String,
    /// Log format: json or text.
    #[arg(long, env = "EHR_LOG_FORMAT", default_value = "json")]
    pub log_format: String,
}

/// A secret given on the command line or in the environment, as written
/// (`env:NAME`, `file:PATH` or the value itself): zeroised on drop, and
/// `Debug` prints only the type name, so `ServeArgs` can be printed.
#[derive(Clone)]
pub struct SecretArg(Zeroizing<String>);

impl fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretArg(..)")
    }
}

impl FromStr for SecretArg {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(SecretArg(Zeroizing::new(s.to_owned())))
    }
}

impl SecretArg {
    /// The secret's text: `env:NAME` reads that environment variable,
    /// `file:PATH` the first line of that file, anything else is the text
    /// itself; surrounding whitespace is trimmed. The first two keep the
    /// secret out of the process list and the server's own environment
    /// listing (as the CLI's secret arguments do).
    ///
    /// # Errors
    /// [`ConfigError`] naming `what` and the variable or file (never the
    /// secret) if it cannot be read.
    pub fn resolve(&self, what: &str) -> Result<Zeroizing<String>, ConfigError> {
        let text = self.0.as_str();
        if let Some(name) = text.strip_prefix("env:") {
            let value = Zeroizing::new(std::env::var(name).map_err(|_| {
                ConfigError(format!("{what}: environment variable {name} is not set"))
            })?);
            return Ok(Zeroizing::new(value.trim().to_owned()));
        }
        if let Some(path) = text.strip_prefix("file:") {
            let content = Zeroizing::new(
                std::fs::read_to_string(path)
                    .map_err(|e| ConfigError(format!("{what}: cannot read {path}: {e}")))?,
            );
            return Ok(Zeroizing::new(
                content.lines().next().unwrap_or("").trim().to_owned(),
            ));
        }
        Ok(Zeroizing::new(text.trim().to_owned()))
    }
}

/// The relayer's bounds (`POST /v1/relay/authorise`).
#[derive(Debug, Clone, Copy)]
pub struct RelayLimits {
    /// Relays per client per hour (0: no bound).
    pub per_hour_per_client: u32,
    /// Relays per hour in total (0: no bound).
    pub per_hour: u32,
    /// How long a relay waits for its receipt.
    pub receipt_timeout: Duration,
}

/// The chain settings: both or neither.
#[derive(Debug, Clone)]
pub struct ChainSettings {
    /// JSON-RPC URL.
    pub rpc_url: String,
    /// Registry address.
    pub registry: Address,
}

/// Where the ciphertext goes when it is not under the data directory.
#[derive(Clone)]
pub struct S3Settings {
    /// Endpoint URL.
    pub endpoint: String,
    /// Bucket.
    pub bucket: String,
    /// Region.
    pub region: String,
    /// Key prefix.
    pub prefix: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key (zeroised on drop, never printed).
    pub secret_access_key: Zeroizing<String>,
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// The PostgreSQL database of a scaled setup.
#[derive(Clone)]
pub struct DatabaseSettings {
    /// Connection URL (may hold a password: zeroised on drop, never printed).
    pub url: Zeroizing<String>,
    /// Connections per instance.
    pub pool: usize,
}

impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("pool", &self.pool)
            .finish_non_exhaustive()
    }
}

/// Checked settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Listen address.
    pub listen: SocketAddr,
    /// Data directory.
    pub data_dir: PathBuf,
    /// PostgreSQL instead of SQLite, if configured.
    pub database: Option<DatabaseSettings>,
    /// S3 instead of files, if configured.
    pub s3: Option<S3Settings>,
    /// How old an unreferenced ciphertext in a shared blob store must be
    /// before start-up removes it.
    pub orphan_grace: Duration,
    /// Chain, if configured.
    pub chain: Option<ChainSettings>,
    /// Health authority.
    pub authority: Option<Address>,
    /// This hospital's name.
    pub hospital: Option<String>,
    /// CORS origins.
    pub allowed_origins: Vec<String>,
    /// Retention (None = forever).
    pub retention: Option<Duration>,
    /// Sweep period.
    pub sweep_interval: Duration,
    /// Upload lifetime.
    pub upload_ttl: Duration,
    /// How long an upload's lease outlives an instance that stopped mid-task.
    pub upload_lease: Duration,
    /// Record size limit.
    pub max_record_size: u64,
    /// Default part size.
    pub default_part_size: u64,
    /// Part size range.
    pub min_part_size: u64,
    /// Part size range.
    pub max_part_size: u64,
    /// Parts per upload.
    pub max_parts: u64,
    /// JSON body limit.
    pub max_json_body: u64,
    /// Rate per second per IP (0 = off).
    pub rate_limit_per_sec: f64,
    /// Burst per IP.
    pub rate_limit_burst: u32,
    /// Use X-Forwarded-For.
    pub trust_forwarded_for: bool,
    /// JSON request deadline.
    pub request_timeout: Duration,
    /// Part / completion deadline.
    pub transfer_timeout: Duration,
    /// Body idle deadline.
    pub body_idle_timeout: Duration,
    /// Header deadline.
    pub header_timeout: Duration,
    /// Connection cap.
    pub max_connections: usize,
    /// Per-peer connection cap (0: none).
    pub max_connections_per_ip: usize,
    /// Access request TTL bound.
    pub max_request_ttl: u64,
    /// Shutdown grace.
    pub shutdown_grace: Duration,
    /// Freshness of the chain state access decisions are made at.
    pub chain_state: crate::chainstate::Freshness,
    /// Bearer token of `GET /metrics` (None: no such endpoint).
    pub metrics_token: Option<String>,
    /// Upload bearer token.
    pub upload_token: Option<String>,
    /// Whether uploads need no credential at all.
    pub open_uploads: bool,
    /// Bounds on open uploads, per client and in total.
    pub upload_bounds: crate::store::UploadBounds,
    /// The relayer's account key (`Debug` prints only the type name;
    /// zeroised when the last holder drops it). None: no relaying.
    pub relayer_key: Option<Arc<SecretKey>>,
    /// The relayer's bounds.
    pub relay: RelayLimits,
}

/// A configuration mistake, reported at start-up.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

impl ServeArgs {
    /// Checks the options.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first wrong option.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let bad = |m: &str| Err(ConfigError(m.to_owned()));
        let Some(data_dir) = self.data_dir.clone() else {
            return bad("EHR_DATA_DIR (--data-dir) is required");
        };
        let chain = match (&self.rpc_url, &self.registry) {
            (Some(rpc_url), Some(registry)) => Some(ChainSettings {
                rpc_url: rpc_url.clone(),
                registry: Address::parse(registry)
                    .map_err(|e| ConfigError(format!("EHR_REGISTRY: {e}")))?,
            }),
            (None, None) => None,
            _ => return bad("EHR_RPC_URL and EHR_REGISTRY go together"),
        };
        let authority = self
            .authority
            .as_deref()
            .map(Address::parse)
            .transpose()
            .map_err(|e| ConfigError(format!("EHR_AUTHORITY: {e}")))?;
        if let Some(h) = &self.hospital {
            if h.is_empty() || h.len() > 255 {
                return bad("EHR_HOSPITAL must be 1 to 255 bytes");
            }
        }
        if self.min_part_size == 0
            || self.min_part_size > self.max_part_size
            || !(self.min_part_size..=self.max_part_size).contains(&self.default_part_size)
        {
            return bad("part sizes: need 0 < min <= default <= max");
        }
        if self.max_parts == 0 || self.max_record_size == 0 {
            return bad("EHR_MAX_PARTS and EHR_MAX_RECORD_SIZE must be positive");
        }
        if !(self.rate_limit_per_sec >= 0.0 && self.rate_limit_per_sec.is_finite()) {
            return bad("EHR_RATE_LIMIT_PER_SEC must be a non-negative number");
        }
        if self.sweep_interval_secs == 0 || self.max_connections == 0 {
            return bad("EHR_SWEEP_INTERVAL_SECS and EHR_MAX_CONNECTIONS must be positive");
        }
        if self.upload_lease_secs < 3 {
            return bad(
                "EHR_UPLOAD_LEASE_SECS must be at least 3 (it is renewed every third of it)",
            );
        }
        for origin in &self.allowed_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://"))
                || origin.ends_with('/')
            {
                return Err(ConfigError(format!(
                    "EHR_ALLOWED_ORIGINS: {origin:?} is not an origin like https://portal.example"
                )));
            }
        }
        if self.upload_token.as_deref() == Some("") {
            return bad("EHR_UPLOAD_TOKEN must not be empty");
        }
        if self.metrics_token.as_deref() == Some("") {
            return bad("EHR_METRICS_TOKEN must not be empty");
        }
        if self.open_uploads && self.upload_token.is_some() {
            return bad("EHR_OPEN_UPLOADS and EHR_UPLOAD_TOKEN exclude each other: choose one");
        }
        let relayer_key = match &self.relayer_key {
            None => None,
            Some(_) if chain.is_none() => {
                return bad("EHR_RELAYER_KEY needs the chain (EHR_RPC_URL and EHR_REGISTRY)")
            }
            Some(arg) => Some(Arc::new(
                SecretKey::from_hex(&arg.resolve("EHR_RELAYER_KEY")?)
                    .map_err(|e| ConfigError(format!("EHR_RELAYER_KEY: {e}")))?,
            )),
        };
        if self.relay_receipt_timeout_secs == 0 {
            return bad("EHR_RELAY_RECEIPT_TIMEOUT_SECS must be positive");
        }
        let database = match &self.database_url {
            None => None,
            Some(arg) => {
                let url = arg.resolve("EHR_DATABASE_URL")?;
                if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                    return bad("EHR_DATABASE_URL must be a postgres:// URL");
                }
                if self.database_pool == 0 {
                    return bad("EHR_DATABASE_POOL must be positive");
                }
                Some(DatabaseSettings {
                    url,
                    pool: self.database_pool,
                })
            }
        };
        let s3 = match (&self.s3_endpoint, &self.s3_bucket) {
            (None, None) => None,
            (Some(endpoint), Some(bucket)) => {
                if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                    return bad("EHR_S3_ENDPOINT must be an http:// or https:// URL");
                }
                let (Some(id), Some(secret)) = (&self.s3_access_key_id, &self.s3_secret_access_key)
                else {
                    return bad("EHR_S3_ACCESS_KEY_ID and EHR_S3_SECRET_ACCESS_KEY are required with EHR_S3_BUCKET");
                };
                Some(S3Settings {
                    endpoint: endpoint.clone(),
                    bucket: bucket.clone(),
                    region: self.s3_region.clone(),
                    prefix: self.s3_prefix.clone(),
                    access_key_id: id.clone(),
                    secret_access_key: secret.resolve("EHR_S3_SECRET_ACCESS_KEY")?,
                })
            }
            _ => return bad("EHR_S3_ENDPOINT and EHR_S3_BUCKET go together"),
        };
        Ok(Settings {
            listen: self.listen,
            data_dir,
            database,
            s3,
            orphan_grace: secs(self.orphan_grace_secs),
            chain,
            authority,
            hospital: self.hospital.clone(),
            allowed_origins: self.allowed_origins.clone(),
            retention: (self.retention_secs > 0).then(|| secs(self.retention_secs)),
            sweep_interval: secs(self.sweep_interval_secs),
            upload_ttl: secs(self.upload_ttl_secs),
            upload_lease: secs(self.upload_lease_secs),
            max_record_size: self.max_record_size,
            default_part_size: self.default_part_size,
            min_part_size: self.min_part_size,
            max_part_size: self.max_part_size,
            max_parts: self.max_parts,
            max_json_body: self.max_json_body,
            rate_limit_per_sec: self.rate_limit_per_sec,
            rate_limit_burst: self.rate_limit_burst,
            trust_forwarded_for: self.trust_forwarded_for,
            request_timeout: secs(self.request_timeout_secs),
            transfer_timeout: secs(self.transfer_timeout_secs),
            body_idle_timeout: secs(self.body_idle_timeout_secs),
            header_timeout: secs(self.header_timeout_secs),
            max_connections: self.max_connections,
            max_connections_per_ip: self.max_connections_per_ip,
            max_request_ttl: self.max_request_ttl,
            shutdown_grace: secs(self.shutdown_grace_secs),
            chain_state: crate::chainstate::Freshness {
                head_max_age: Duration::from_millis(self.chain_head_max_age_ms),
                max_lag: secs(self.chain_max_lag_secs),
            },
            metrics_token: self.metrics_token.clone(),
            upload_token: self.upload_token.clone(),
            open_uploads: self.open_uploads,
            upload_bounds: crate::store::UploadBounds {
                per_owner_uploads: self.max_open_uploads_per_client,
                per_owner_bytes: self.max_reserved_bytes_per_client,
                total_uploads: self.max_open_uploads,
                total_bytes: self.max_reserved_bytes,
            },
            relayer_key,
            relay: RelayLimits {
                per_hour_per_client: self.relay_per_hour_per_client,
                per_hour: self.relay_per_hour,
                receipt_timeout: secs(self.relay_receipt_timeout_secs),
            },
        })
    }
}

impl Settings {
    /// Defaults for tests: everything at its default but open uploads and
    /// no rate limit, data in `data_dir`.
    ///
    /// # Errors
    /// Never with the built-in defaults.
    pub fn for_tests(data_dir: PathBuf) -> Result<Self, ConfigError> {
        let mut args = Cli::try_parse_from(["ehrchain-server", "--data-dir", "x"])
            .map_err(|e| ConfigError(e.to_string()))?
            .serve;
        args.data_dir = Some(data_dir);
        args.rate_limit_per_sec = 0.0;
        args.open_uploads = true;
        args.settings()
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::unwrap_in_result,
        clippy::expect_used,
        clippy::panic
    )]
    use super::*;

    fn settings(extra: &[&str]) -> Result<Settings, ConfigError> {
        let mut argv = vec!["ehrchain-server", "--data-dir", "x"];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv).unwrap().serve.settings()
    }

    #[test]
    fn uploads_are_closed_by_default() {
        let s = settings(&[]).unwrap();
        assert_eq!((s.upload_token, s.open_uploads), (None, false));
    }

    /// Hardhat's well-known account #19 (local chains only).
    const KEY: &str = "0xdf57089febbacf7ba0bc227dafbffa9fc08a93fdc68e1e42411a14efcf23656e";
    const CHAIN: [&str; 4] = [
        "--rpc-url",
        "http://127.0.0.1:8545",
        "--registry",
        "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    ];

    fn relayer(key_arg: &str) -> Result<Settings, ConfigError> {
        let mut argv = CHAIN.to_vec();
        argv.extend(["--relayer-key", key_arg]);
        settings(&argv)
    }

    #[test]
    fn the_relayer_key_is_read_from_hex_a_file_or_the_environment() {
        let address = SecretKey::from_hex(KEY).unwrap().address();
        let from_hex = relayer(KEY).unwrap().relayer_key.unwrap();
        assert_eq!(from_hex.address(), address);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("relayer.key");
        std::fs::write(&file, format!("{KEY}\nignored\n")).unwrap();
        let from_file = relayer(&format!("file:{}", file.display())).unwrap();
        assert_eq!(from_file.relayer_key.unwrap().address(), address);
        // PATH is set in any test environment: not a key, and refused
        // without echoing it.
        let e = relayer("env:PATH").unwrap_err();
        assert!(e.0.starts_with("EHR_RELAYER_KEY: "), "{}", e.0);
        let e = relayer("env:EHR_TEST_SURELY_UNSET_VARIABLE").unwrap_err();
        assert!(e.0.contains("is not set"), "{}", e.0);
        assert!(relayer("file:/nonexistent/relayer.key").is_err());
    }

    #[test]
    fn the_relayer_key_never_shows_in_debug_output_or_errors() {
        let hex = KEY.trim_start_matches("0x");
        let args = Cli::try_parse_from(
            ["ehrchain-server", "--data-dir", "x", "--relayer-key", KEY]
                .into_iter()
                .chain(CHAIN),
        )
        .unwrap()
        .serve;
        assert!(!format!("{args:?}").contains(hex));
        let s = args.settings().unwrap();
        assert!(!format!("{s:?}").contains(hex));
        // A key of the wrong length: the error names the option, not the value.
        let short = &KEY[..40];
        let e = relayer(short).unwrap_err();
        assert!(!e.0.contains(&short[2..]), "{}", e.0);
    }

    #[test]
    fn a_relayer_needs_the_chain() {
        let e = settings(&["--relayer-key", KEY]).unwrap_err();
        assert!(e.0.contains("needs the chain"), "{}", e.0);
        assert!(settings(&CHAIN).unwrap().relayer_key.is_none());
    }

    #[test]
    fn the_database_url_is_checked_and_its_password_never_shows() {
        let url = "postgres://ehr:hunter2secret@db.internal:5432/ehr";
        let s = settings(&["--database-url", url]).unwrap();
        assert_eq!(s.database.as_ref().unwrap().url.as_str(), url);
        assert!(!format!("{s:?}").contains("hunter2secret"));
        let e = settings(&["--database-url", "mysql://x"]).unwrap_err();
        assert!(e.0.contains("postgres://"), "{}", e.0);
        assert!(
            settings(&[]).unwrap().database.is_none(),
            "SQLite by default"
        );
    }

    #[test]
    fn a_bucket_needs_its_endpoint_and_keys_and_its_secret_never_shows() {
        let bucket = [
            "--s3-endpoint",
            "http://127.0.0.1:9000",
            "--s3-bucket",
            "records",
        ];
        let e = settings(&bucket).unwrap_err();
        assert!(e.0.contains("EHR_S3_ACCESS_KEY_ID"), "{}", e.0);
        let e = settings(&bucket[2..]).unwrap_err();
        assert!(e.0.contains("go together"), "{}", e.0);
        let mut argv = bucket.to_vec();
        argv.extend([
            "--s3-access-key-id",
            "AKIDEXAMPLE",
            "--s3-secret-access-key",
            "s3cr3tvalue1234",
        ]);
        let s = settings(&argv).unwrap();
        let s3 = s.s3.as_ref().unwrap();
        assert_eq!(
            (s3.bucket.as_str(), s3.secret_access_key.as_str()),
            ("records", "s3cr3tvalue1234")
        );
        assert!(!format!("{s:?}").contains("s3cr3tvalue1234"));
        assert_eq!(s.orphan_grace, Duration::from_secs(3600));
        let e = settings(&["--s3-endpoint", "ftp://x", "--s3-bucket", "b"]).unwrap_err();
        assert!(e.0.contains("http"), "{}", e.0);
    }

    #[test]
    fn open_uploads_and_a_token_exclude_each_other() {
        let e = settings(&["--open-uploads", "--upload-token", "t"]).unwrap_err();
        assert!(e.0.contains("exclude each other"), "{}", e.0);
    }
}
