//! What the in-process router tests (`api.rs`, `relay.rs`) share: a server's
//! state over fresh stores in a temporary directory, and a request sent
//! through the router with `oneshot`.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use ehrchain_server::audit::AuditLog;
use ehrchain_server::chain::ChainView;
use ehrchain_server::relay::ChainWriter;
use ehrchain_server::store::fs::FsBlobStore;
use ehrchain_server::store::sqlite::SqliteMetaStore;
use ehrchain_server::{AppState, Settings};
use tower::ServiceExt;

/// A fresh temporary data directory and the state of a server in it: the
/// test settings (`Settings::for_tests`) adjusted by `configure`, the stores
/// opened there (`meta.sqlite`, `blobs/`, `audit.log`), reading `chain` and
/// relaying through `relayer`. The directory lives as long as the `TempDir`.
pub(crate) fn state_in_tempdir(
    configure: impl FnOnce(&mut Settings),
    chain: Option<Arc<dyn ChainView>>,
    relayer: Option<Arc<dyn ChainWriter>>,
) -> (tempfile::TempDir, AppState) {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::for_tests(dir.path().to_path_buf()).unwrap();
    configure(&mut settings);
    let meta = Arc::new(SqliteMetaStore::open(&dir.path().join("meta.sqlite")).unwrap());
    let blobs = Arc::new(FsBlobStore::open(&dir.path().join("blobs")).unwrap());
    let (audit, _) = AuditLog::open(&dir.path().join("audit.log")).unwrap();
    let state = AppState::with_relayer(settings, meta, blobs, chain, relayer, Arc::new(audit));
    (dir, state)
}

/// Sends `req` through `app`; the answer's status, headers and whole body.
pub(crate) async fn send(app: &Router, req: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let response = app.clone().oneshot(req).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, headers, bytes.to_vec())
}

/// `0x`-prefixed lowercase hex.
pub(crate) fn hx(b: &[u8]) -> String {
    ehrchain::hex::encode_prefixed(b)
}
