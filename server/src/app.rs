//! The application: shared state, the router ([`app`]) and the edge
//! middleware (client address, request id, rate limit, deadline, access log).

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::audit::{AuditEvent, AuditLog};
use crate::chain::ChainView;
use crate::chainstate::ChainState;
use crate::config::Settings;
use crate::error::{ApiError, ErrorCode};
use crate::handlers;
use crate::issuers::IssuerCache;
use crate::metrics::{route_label, Metrics};
use crate::ratelimit::RateLimiter;
use crate::relay::{ChainWriter, Relay};
use crate::store::{BlobStore, MetaStore, UploadId};

/// Everything a handler can reach.
#[derive(Debug)]
pub struct Shared {
    /// Checked settings.
    pub settings: Settings,
    /// Metadata.
    pub meta: Arc<dyn MetaStore>,
    /// Ciphertext.
    pub blobs: Arc<dyn BlobStore>,
    /// The registry as decisions read it (once per block), if configured.
    pub chain: Option<Arc<ChainState>>,
    /// The authorisation relayer, if a relayer key is configured.
    pub relay: Option<Arc<Relay>>,
    /// The audit trail.
    pub audit: Arc<AuditLog>,
    /// Per-client rate limits.
    pub limiter: RateLimiter,
    /// Uploads whose completion is running.
    pub completing: Mutex<HashSet<UploadId>>,
    /// Where the sweep's walk over stored records for on-chain tombstones
    /// resumes (`None`: from the first).
    pub tombstone_cursor: Mutex<Option<[u8; 32]>>,
    /// The chain's health as `/healthz` last read it, and when: read at
    /// most every [`HEALTH_CHAIN_TTL`], so health probes (anyone's) cost no
    /// chain call each.
    pub health_chain: Mutex<Option<(Instant, &'static str)>>,
    /// Counters and histograms for `GET /metrics`.
    pub metrics: Arc<Metrics>,
    /// The authority's certificates seen: one recovery less per request.
    pub issuers: IssuerCache,
}

/// How long `/healthz` reuses its last reading of the chain.
pub const HEALTH_CHAIN_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Cheaply clonable handle on [`Shared`].
#[derive(Debug, Clone)]
pub struct AppState(pub Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// Assembles the state, without a relayer.
    pub fn new(
        settings: Settings,
        meta: Arc<dyn MetaStore>,
        blobs: Arc<dyn BlobStore>,
        chain: Option<Arc<dyn ChainView>>,
        audit: Arc<AuditLog>,
    ) -> Self {
        Self::with_relayer(settings, meta, blobs, chain, None, audit)
    }

    /// Assembles the state; `relayer` (bounded by `settings.relay`) posts
    /// authorisations for `POST /v1/relay/authorise`.
    pub fn with_relayer(
        settings: Settings,
        meta: Arc<dyn MetaStore>,
        blobs: Arc<dyn BlobStore>,
        chain: Option<Arc<dyn ChainView>>,
        relayer: Option<Arc<dyn ChainWriter>>,
        audit: Arc<AuditLog>,
    ) -> Self {
        let limiter = RateLimiter::new(settings.rate_limit_per_sec, settings.rate_limit_burst);
        let relay = relayer.map(|w| Arc::new(Relay::new(w, &settings.relay)));
        let chain = chain.map(|view| Arc::new(ChainState::new(view, settings.chain_state)));
        let settings_authority = settings.authority;
        AppState(Arc::new(Shared {
            settings,
            meta,
            blobs,
            chain,
            relay,
            audit,
            limiter,
            completing: Mutex::new(HashSet::new()),
            tombstone_cursor: Mutex::new(None),
            health_chain: Mutex::new(None),
            metrics: Arc::new(Metrics::default()),
            issuers: IssuerCache::new(settings_authority),
        }))
    }

    /// Runs a blocking storage or chain call on the blocking pool.
    ///
    /// # Errors
    /// The call's error; [`ApiError::Internal`] if it panicked.
    pub async fn blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&Shared) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let shared = self.0.clone();
        tokio::task::spawn_blocking(move || f(&shared))
            .await
            .map_err(|e| ApiError::Internal(format!("blocking task failed: {e}")))?
    }

    /// Whether certified doctors may create uploads with a signed request:
    /// the server knows its authority and hospital and reads the chain.
    pub fn signed_uploads(&self) -> bool {
        let s = &self.settings;
        s.authority.is_some() && s.hospital.is_some() && self.chain.is_some()
    }

    /// The chain, or [`ApiError::ChainNotConfigured`].
    ///
    /// # Errors
    /// [`ApiError::ChainNotConfigured`].
    pub fn chain(&self) -> Result<Arc<ChainState>, ApiError> {
        self.chain.clone().ok_or(ApiError::ChainNotConfigured)
    }

    /// Appends an audit entry (on the blocking pool: it fsyncs).
    ///
    /// # Errors
    /// [`ApiError::Internal`] if the entry could not be written: the decision
    /// it records is then not answered as granted.
    pub async fn audit(&self, event: AuditEvent) -> Result<(), ApiError> {
        self.blocking(move |s| {
            s.audit
                .append(&event, now())
                .map_err(|e| ApiError::Internal(format!("audit log: {e}")))
        })
        .await
    }
}

/// Current Unix time, seconds.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The client's address as the server sees it, set by the edge middleware.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Routes on which the whole transfer happens before the response.
const TRANSFER_ROUTES: [&str; 2] = ["/v1/uploads/{id}/parts/{n}", "/v1/uploads/{id}/complete"];

/// The relay's route: its deadline adds the receipt wait, and its log line
/// names no client (nothing ties an address to a grant).
pub const RELAY_ROUTE: &str = "/v1/relay/authorise";

/// The application router.
pub fn app(state: AppState) -> Router {
    let cors = cors_layer(&state.settings.allowed_origins);
    Router::new()
        .route("/healthz", get(handlers::health::healthz))
        .route("/metrics", get(handlers::metrics::metrics))
        .route("/v1/uploads", post(handlers::uploads::create))
        .route(
            "/v1/uploads/{id}",
            get(handlers::uploads::status).delete(handlers::uploads::abort),
        )
        .route(
            "/v1/uploads/{id}/parts/{n}",
            put(handlers::uploads::put_part),
        )
        .route(
            "/v1/uploads/{id}/complete",
            post(handlers::uploads::complete),
        )
        .route("/v1/index", post(handlers::index::file))
        .route("/v1/access", post(handlers::access::access))
        .route(RELAY_ROUTE, post(handlers::relay::authorise))
        .route(
            "/v1/records/{eh}",
            get(handlers::records::download).delete(handlers::records::delete),
        )
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(middleware::from_fn_with_state(state.clone(), edge))
        .layer(cors)
        .with_state(state)
}

fn cors_layer(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            header::CONTENT_TYPE,
            header::RANGE,
            header::IF_RANGE,
            header::AUTHORIZATION,
        ])
        .expose_headers([
            header::CONTENT_RANGE,
            header::CONTENT_LENGTH,
            header::ACCEPT_RANGES,
            header::ETAG,
            REQUEST_ID,
        ])
        .max_age(std::time::Duration::from_secs(600))
}

fn client_ip(state: &Shared, req: &Request) -> IpAddr {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    if !state.settings.trust_forwarded_for {
        return peer;
    }
    // Only the last entry is the trusted proxy's; anything before it is
    // what the client wrote. If the last one does not parse, the proxy
    // itself is the client: never fall back to an earlier, client-written one.
    req.headers()
        .get_all("x-forwarded-for")
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|s| s.trim().parse::<IpAddr>().ok())
        .unwrap_or(peer)
}

static REQUEST_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The edge: request id, client address, rate limit, deadline and one
/// structured log line per request (method, route template, status, code,
/// duration, client; no client for a relay). The URI's query (download
/// tokens) is never logged.
async fn edge(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = format!(
        "{:x}-{}",
        std::process::id(),
        REQUEST_COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let ip = client_ip(&state, &req);
    req.extensions_mut().insert(ClientIp(ip));
    let req = req.map(|b| state.metrics.count_body(b, true));
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let method = req.method().clone();
    let is_health = route.as_deref() == Some("/healthz");
    let is_relay = route.as_deref() == Some(RELAY_ROUTE);
    let mut response = if !is_health && !state.limiter.check(ip) {
        ApiError::RateLimited {
            retry_after_secs: 1,
        }
        .into_response()
    } else {
        let deadline = if route
            .as_deref()
            .is_some_and(|r| TRANSFER_ROUTES.contains(&r))
        {
            state.settings.transfer_timeout
        } else if is_relay {
            state.settings.request_timeout + state.settings.relay.receipt_timeout
        } else {
            state.settings.request_timeout
        };
        match tokio::time::timeout(deadline, next.run(req)).await {
            Ok(r) => r,
            Err(_) => ApiError::RequestTimeout.into_response(),
        }
    };
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&id) {
        headers.insert(REQUEST_ID, v);
    }
    // Answers carry masked keys and capabilities: never cached, never sniffed.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let status = response.status().as_u16();
    let code = response.extensions().get::<ErrorCode>().map(|c| c.0);
    let route = route.as_deref().unwrap_or("unmatched");
    let elapsed = started.elapsed();
    state.metrics.observe(route_label(Some(route)), elapsed);
    let ms = elapsed.as_secs_f64() * 1000.0;
    if is_health && status == 200 {
        tracing::debug!(request_id = %id, %method, route, status, ms, client = %ip, "request");
    } else if is_relay {
        // Deliberately no client: the relay exists so that grants are not
        // linked to their sender, and this log must not link them to an address.
        tracing::info!(request_id = %id, %method, route, status, code, ms, "request");
    } else {
        tracing::info!(request_id = %id, %method, route, status, code, ms, client = %ip, "request");
    }
    response.map(|b| state.metrics.count_body(b, false))
}
