//! The router in-process (`app(state)` through `oneshot`), with a fake chain:
//! the protocol paths and refusals without a network. The real process over
//! HTTP, against a real chain, is tested by `tests/server/` (Node).
#![allow(
    clippy::unwrap_used,
    clippy::unwrap_in_result,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation
)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use ehrchain::cert::CertificateBody;
use ehrchain::chain::registry::{CertificateStatus, RecordStatus};
use ehrchain::handoff::FilingSecret;
use ehrchain::request::AccessRequest;
use ehrchain::{Address, SecretKey};
use ehrchain_server::chain::ChainView;
use ehrchain_server::{app, AppState, Settings};
use serde_json::{json, Value};
use tower::ServiceExt;

mod common;
use common::hx;

const HOSPITAL: &str = "H1";

#[derive(Debug, Default)]
struct FakeChain {
    certs: Mutex<HashMap<u64, CertificateStatus>>,
    records: Mutex<HashMap<[u8; 32], RecordStatus>>,
    /// How many record reads the server made.
    record_reads: std::sync::atomic::AtomicU64,
    /// How many certificate reads the server made.
    certificate_reads: std::sync::atomic::AtomicU64,
    /// How many block-number reads the server made.
    block_reads: std::sync::atomic::AtomicU64,
    /// The block number: every change to the registry is a new block.
    block: std::sync::atomic::AtomicU64,
    /// Whether the node is unreachable (every read fails).
    down: std::sync::atomic::AtomicBool,
}

impl FakeChain {
    fn reachable(&self) -> ehrchain::Result<()> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(ehrchain::Error::RpcUnreachable {
                reason: "connection refused".into(),
            });
        }
        Ok(())
    }
}

impl ChainView for FakeChain {
    fn block_number(&self) -> ehrchain::Result<u64> {
        self.block_reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.reachable()?;
        Ok(self.block.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// The latest state: the fake keeps no history (a test that changes
    /// the registry mid-request does not need one).
    fn record_status_at(&self, eh: &[u8; 32], _block: u64) -> ehrchain::Result<RecordStatus> {
        self.record_reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.reachable()?;
        Ok(self
            .records
            .lock()
            .unwrap()
            .get(eh)
            .cloned()
            .unwrap_or(RecordStatus {
                anchored: false,
                anchored_by: Address([0; 20]),
                serial: 0,
                anchored_at: 0,
                commitment: [0; 32],
                record_time: 0,
                deleted: false,
                deleted_at: 0,
            }))
    }

    fn certificate_status_at(
        &self,
        serial: u64,
        _block: u64,
    ) -> ehrchain::Result<CertificateStatus> {
        self.certificate_reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.reachable()?;
        Ok(self
            .certs
            .lock()
            .unwrap()
            .get(&serial)
            .cloned()
            .unwrap_or(CertificateStatus {
                doctor: Address([0; 20]),
                valid_from: 0,
                valid_until: 0,
                revoked: false,
                revoked_at: 0,
            }))
    }
}

/// The serial of the certificate under which [`FakeChain::anchor`] anchors.
const ANCHOR_SERIAL: u64 = 900;
/// The certified doctor who anchors.
const ANCHORING_DOCTOR: Address = Address([1; 20]);

impl FakeChain {
    /// Anchors `eh` as a certified doctor would (registering his certificate).
    fn anchor(&self, eh: [u8; 32], deleted: bool) {
        self.register(ANCHOR_SERIAL, ANCHORING_DOCTOR, false);
        self.anchor_by(eh, deleted, ANCHORING_DOCTOR, ANCHOR_SERIAL);
    }

    /// Anchors `eh` as `by`, under `serial`, whatever the registry says of it.
    fn anchor_by(&self, eh: [u8; 32], deleted: bool, by: Address, serial: u64) {
        self.records.lock().unwrap().insert(
            eh,
            RecordStatus {
                anchored: true,
                anchored_by: by,
                serial,
                anchored_at: 1,
                commitment: [0; 32],
                record_time: 1,
                deleted,
                deleted_at: 0,
            },
        );
        self.mine();
    }

    /// A new block, containing the change the caller just made.
    fn mine(&self) {
        self.block.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    fn register(&self, serial: u64, doctor: Address, revoked: bool) {
        self.certs.lock().unwrap().insert(
            serial,
            CertificateStatus {
                doctor,
                valid_from: 0,
                valid_until: u64::MAX,
                revoked,
                revoked_at: 0,
            },
        );
        self.mine();
    }
}

struct World {
    _dir: tempfile::TempDir,
    app: Router,
    state: AppState,
    chain: Arc<FakeChain>,
    authority: SecretKey,
}

fn world() -> World {
    world_with(|_| {})
}

fn world_with(configure: impl FnOnce(&mut Settings)) -> World {
    let authority = SecretKey::generate().unwrap();
    let chain = Arc::new(FakeChain::default());
    let (dir, state) = common::state_in_tempdir(
        |settings| {
            configure(settings);
            settings.authority = Some(authority.address());
            settings.hospital = Some(HOSPITAL.to_owned());
            settings.min_part_size = 4;
        },
        Some(chain.clone() as Arc<dyn ChainView>),
        None,
    );
    World {
        _dir: dir,
        app: app(state.clone()),
        state,
        chain,
        authority,
    }
}

async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    body: Vec<u8>,
    range: Option<&str>,
) -> (StatusCode, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(r) = range {
        req = req.header("range", r);
    }
    let (status, _, bytes) = common::send(app, req.body(Body::from(body)).unwrap()).await;
    (status, bytes)
}

async fn json_call(app: &Router, method: &str, uri: &str, body: Value) -> (StatusCode, Value) {
    let (status, bytes) = call(app, method, uri, body.to_string().into_bytes(), None).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// The filing secret the tests' doctor uploads every record with.
fn filing() -> FilingSecret {
    FilingSecret::from_bytes(&[0x46; 32]).unwrap()
}

/// Uploads `ct` in parts of `part` bytes; returns (eh, complete's status and body).
async fn upload(app: &Router, ct: &[u8], claimed: [u8; 32], part: usize) -> (StatusCode, Value) {
    let (s, created) = json_call(
        app,
        "POST",
        "/v1/uploads",
        json!({ "eh": hx(&claimed), "size": ct.len(), "partSize": part, "filing": hx(&filing().commitment()) }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["uploadId"].as_str().unwrap().to_owned();
    for (n, chunk) in ct.chunks(part).enumerate().rev() {
        let (s, _) = call(
            app,
            "PUT",
            &format!("/v1/uploads/{id}/parts/{n}"),
            chunk.to_vec(),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
    }
    json_call(
        app,
        "POST",
        &format!("/v1/uploads/{id}/complete"),
        Value::Null,
    )
    .await
}

fn doctor(w: &World, serial: u64) -> (SecretKey, ehrchain::cert::Certificate) {
    let d = SecretKey::generate().unwrap();
    let cert = CertificateBody {
        doctor: d.address(),
        protocol_key: SecretKey::generate().unwrap().public_key(),
        hospital: "H2".into(),
        valid_from: 1,
        valid_until: 4_000_000_000,
        serial,
    }
    .sign(&w.authority)
    .unwrap();
    (d, cert)
}

fn now() -> u64 {
    ehrchain_server::app::now()
}

/// A record uploaded, anchored on chain and filed under `X`.
struct Filed {
    ct: Vec<u8>,
    eh: [u8; 32],
    x: [u8; 32],
}

async fn filed(w: &World) -> Filed {
    let ct: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
    let eh = ehrchain::hash::sha256(&ct);
    let (s, done) = upload(&w.app, &ct, eh, 300).await;
    assert_eq!(s, StatusCode::OK, "{done}");
    w.chain.anchor(eh, false);
    let x = [5u8; 32];
    let (s, _) = json_call(
        &w.app,
        "POST",
        "/v1/index",
        json!({ "x": hx(&x), "z": hx(&[6; 32]), "k": hx(&[7; 16]), "eh": hx(&eh), "filingSecret": hx(filing().as_bytes()) }),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    Filed { ct, eh, x }
}

/// A doctor's signed request for `x`, as JSON.
fn request(d: &SecretKey, cert: &ehrchain::cert::Certificate, x: [u8; 32]) -> Value {
    let body = AccessRequest::new(HOSPITAL, x, now(), 60)
        .unwrap()
        .sign(d, cert.clone(), now())
        .unwrap()
        .to_json();
    serde_json::from_str(&body).unwrap()
}

/// A doctor with certificate `serial`, registered on chain as given.
fn registered_doctor(
    w: &World,
    serial: u64,
    registered_to: Option<Address>,
    revoked: bool,
) -> (SecretKey, ehrchain::cert::Certificate) {
    let (d, cert) = doctor(w, serial);
    w.chain
        .register(serial, registered_to.unwrap_or(d.address()), revoked);
    (d, cert)
}

/// The answer to a request for `x` by a doctor with certificate `serial`,
/// registered on chain as given.
async fn ask(
    w: &World,
    serial: u64,
    registered_to: Option<Address>,
    revoked: bool,
    x: [u8; 32],
) -> (StatusCode, Option<String>) {
    let (d, cert) = registered_doctor(w, serial, registered_to, revoked);
    refusal(w, request(&d, &cert, x)).await
}

async fn refusal(w: &World, body: Value) -> (StatusCode, Option<String>) {
    let (s, r) = json_call(&w.app, "POST", "/v1/access", body).await;
    (s, r["code"].as_str().map(str::to_owned))
}

fn code(status: StatusCode, code: &str) -> (StatusCode, Option<String>) {
    (status, Some(code.to_owned()))
}

/// The download URL granted to a registered doctor for the filed record.
async fn granted(w: &World, f: &Filed) -> Value {
    let (d, cert) = registered_doctor(w, 9, None, false);
    let (s, granted) = json_call(&w.app, "POST", "/v1/access", request(&d, &cert, f.x)).await;
    assert_eq!(s, StatusCode::OK, "{granted}");
    granted
}

#[tokio::test]
async fn a_registered_doctor_gets_the_masked_record_for_its_index() {
    let w = world();
    let f = filed(&w).await;
    let g = granted(&w, &f).await;
    assert_eq!(
        (&g["z"], &g["k"], &g["eh"], &g["size"]),
        (
            &json!(hx(&[6; 32])),
            &json!(hx(&[7; 16])),
            &json!(hx(&f.eh)),
            &json!(1000)
        )
    );
}

#[tokio::test]
async fn a_granted_download_serves_the_whole_record() {
    let w = world();
    let f = filed(&w).await;
    let url = granted(&w, &f).await["download"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, whole) = call(&w.app, "GET", &url, Vec::new(), None).await;
    assert_eq!((s, whole.as_slice()), (StatusCode::OK, f.ct.as_slice()));
}

#[tokio::test]
async fn a_granted_download_serves_a_byte_range() {
    let w = world();
    let f = filed(&w).await;
    let url = granted(&w, &f).await["download"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, part) = call(&w.app, "GET", &url, Vec::new(), Some("bytes=990-")).await;
    assert_eq!(
        (s, part.as_slice()),
        (StatusCode::PARTIAL_CONTENT, &f.ct[990..])
    );
}

#[tokio::test]
async fn a_replayed_request_is_refused() {
    let w = world();
    let f = filed(&w).await;
    let (d, cert) = registered_doctor(&w, 9, None, false);
    let body = request(&d, &cert, f.x);
    let (s, _) = json_call(&w.app, "POST", "/v1/access", body.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        refusal(&w, body).await,
        code(StatusCode::CONFLICT, "Replay")
    );
}

#[tokio::test]
async fn a_certificate_the_registry_does_not_know_is_refused() {
    let w = world();
    let f = filed(&w).await;
    let (d, cert) = doctor(&w, 1);
    assert_eq!(
        refusal(&w, request(&d, &cert, f.x)).await,
        code(StatusCode::FORBIDDEN, "CertificateUnknown")
    );
}

#[tokio::test]
async fn a_revoked_certificate_is_refused() {
    let w = world();
    let f = filed(&w).await;
    assert_eq!(
        ask(&w, 1, None, true, f.x).await,
        code(StatusCode::FORBIDDEN, "CertificateRevoked")
    );
}

#[tokio::test]
async fn a_certificate_registered_to_another_doctor_is_refused() {
    let w = world();
    let f = filed(&w).await;
    assert_eq!(
        ask(&w, 2, Some(Address([9; 20])), false, f.x).await,
        code(StatusCode::FORBIDDEN, "CertificateMismatch")
    );
}

#[tokio::test]
async fn a_record_deleted_on_chain_is_not_served() {
    let w = world();
    let f = filed(&w).await;
    w.chain.anchor(f.eh, true);
    assert_eq!(
        ask(&w, 3, None, false, f.x).await,
        code(StatusCode::GONE, "RecordDeletedOnChain")
    );
}

#[tokio::test]
async fn an_upload_whose_bytes_do_not_hash_to_its_eh_is_refused() {
    let w = world();
    let (s, r) = upload(&w.app, b"some bytes", [0; 32], 4).await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("HashMismatch"))
    );
}

#[tokio::test]
async fn a_refused_upload_leaves_no_record_to_file() {
    let w = world();
    upload(&w.app, b"some bytes", [0; 32], 4).await;
    let (s, r) = json_call(
        &w.app,
        "POST",
        "/v1/index",
        json!({ "x": hx(&[1; 32]), "z": hx(&[2; 32]), "k": hx(&[3; 16]), "eh": hx(&[0; 32]), "filingSecret": hx(filing().as_bytes()) }),
    )
    .await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("RecordNotFound"))
    );
}

/// `POST /v1/uploads` for `eh`: the status and code of the answer.
async fn create_upload(w: &World, eh: &[u8; 32]) -> (StatusCode, Option<String>) {
    let body = json!({ "eh": hx(eh), "size": 1000, "partSize": 300, "filing": hx(&filing().commitment()) });
    let (s, r) = json_call(&w.app, "POST", "/v1/uploads", body).await;
    (s, r["code"].as_str().map(str::to_owned))
}

fn sweep(w: &World, t: u64) -> ehrchain_server::tasks::Sweep {
    ehrchain_server::tasks::sweep(&w.state, t).unwrap()
}

#[tokio::test]
async fn the_sweep_deletes_a_record_tombstoned_on_chain_without_a_delete_call() {
    let w = world();
    let f = filed(&w).await;
    w.chain.anchor(f.eh, true);
    assert_eq!(sweep(&w, now()).records_tombstoned, 1);
    assert_eq!(w.state.meta.record(&f.eh).unwrap(), None);
    assert!(
        matches!(
            w.state.blobs.open_record(&f.eh),
            Err(ehrchain_server::store::StoreError::NotFound)
        ),
        "ciphertext removed"
    );
    assert_eq!(
        ask(&w, 3, None, false, f.x).await,
        code(StatusCode::NOT_FOUND, "UnknownIndex")
    );
}

#[tokio::test]
async fn an_upload_another_instance_is_completing_is_neither_completed_nor_aborted_here() {
    use ehrchain_server::store::UploadId;
    use ehrchain_server::tasks::upload_lease;
    let w = world();
    let ct = vec![7u8; 1000];
    let eh = ehrchain::hash::sha256(&ct);
    let body = json!({ "eh": hx(&eh), "size": 1000, "partSize": 1000, "filing": hx(&filing().commitment()) });
    let (s, created) = json_call(&w.app, "POST", "/v1/uploads", body).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["uploadId"].as_str().unwrap().to_owned();
    let put = call(
        &w.app,
        "PUT",
        &format!("/v1/uploads/{id}/parts/0"),
        ct,
        None,
    )
    .await;
    assert_eq!(put.0, StatusCode::OK);
    // Another instance on the same database is completing it: it holds the lease.
    let lease = upload_lease(&UploadId::parse(&id).unwrap());
    assert!(w
        .state
        .meta
        .try_lease(
            &lease,
            "another-instance/complete",
            now(),
            w.state.settings.upload_lease.as_secs()
        )
        .unwrap());
    let complete = format!("/v1/uploads/{id}/complete");
    let (s, r) = json_call(&w.app, "POST", &complete, Value::Null).await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::CONFLICT, Some("UploadBusy"))
    );
    let (s, _) = call(&w.app, "DELETE", &format!("/v1/uploads/{id}"), vec![], None).await;
    assert_eq!(
        s,
        StatusCode::CONFLICT,
        "abort refused while another instance completes"
    );
    assert!(w.state.meta.record(&eh).unwrap().is_none());
    // That instance gives the lease up (it failed, say): this one completes.
    w.state
        .meta
        .release_lease(&lease, "another-instance/complete")
        .unwrap();
    let (s, r) = json_call(&w.app, "POST", &complete, Value::Null).await;
    assert_eq!(
        (s, r["state"].as_str()),
        (StatusCode::OK, Some("complete")),
        "{r}"
    );
}

#[tokio::test]
async fn the_sweep_keeps_records_the_registry_does_not_mark_deleted() {
    let w = world();
    let f = filed(&w).await;
    assert_eq!(sweep(&w, now()).records_tombstoned, 0);
    assert!(w.state.meta.record(&f.eh).unwrap().is_some());
}

#[tokio::test]
async fn a_record_deleted_for_retention_cannot_be_uploaded_again() {
    let w = world_with(|s| s.retention = Some(std::time::Duration::from_secs(60)));
    let f = filed(&w).await;
    assert_eq!(sweep(&w, now() + 61).records_retired, 1);
    // No tombstone on chain: only the server's memory of the deletion refuses it.
    assert_eq!(
        create_upload(&w, &f.eh).await,
        code(StatusCode::GONE, "RecordRetired")
    );
}

#[tokio::test]
async fn health_probes_read_the_chain_at_most_once_per_interval() {
    let w = world();
    for _ in 0..20 {
        let (s, body) = call(&w.app, "GET", "/healthz", Vec::new(), None).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap()["chain"],
            "ok"
        );
    }
    let reads = w
        .chain
        .block_reads
        .load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(reads, 1);
}

/// The `client` the audit trail recorded for an access request sent with
/// `X-Forwarded-For: forwarded`, behind a trusted proxy.
async fn audited_client(forwarded: &str) -> String {
    let w = world_with(|s| s.trust_forwarded_for = true);
    // A genuine request for an X nobody filed: refused, and audited.
    let (d, cert) = registered_doctor(&w, 6, None, false);
    let req = Request::builder()
        .method("POST")
        .uri("/v1/access")
        .header("x-forwarded-for", forwarded)
        .body(Body::from(request(&d, &cert, [2; 32]).to_string()))
        .unwrap();
    let response = w.app.clone().oneshot(req).await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let last = audit_lines(&w).pop().unwrap();
    last["client"].as_str().unwrap().to_owned()
}

fn audit_lines(w: &World) -> Vec<Value> {
    let audit = std::fs::read_to_string(w._dir.path().join("audit.log")).unwrap();
    audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn a_malformed_or_forged_request_costs_no_audit_entry() {
    let w = world();
    let f = filed(&w).await;
    let before = audit_lines(&w).len();
    let (s, _) = call(&w.app, "POST", "/v1/access", b"{".to_vec(), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (_, cert) = registered_doctor(&w, 7, None, false);
    let stranger = SecretKey::generate().unwrap();
    assert_eq!(
        refusal(&w, request(&stranger, &cert, f.x)).await,
        code(StatusCode::FORBIDDEN, "RequestWrongSigner")
    );
    assert_eq!(audit_lines(&w).len(), before);
}

#[tokio::test]
async fn a_refused_request_with_a_good_signature_is_audited() {
    let w = world();
    let f = filed(&w).await;
    assert_eq!(
        ask(&w, 8, None, true, f.x).await,
        code(StatusCode::FORBIDDEN, "CertificateRevoked")
    );
    let last = audit_lines(&w).pop().unwrap();
    assert_eq!(
        (last["decision"].as_str(), last["code"].as_str()),
        (Some("refused"), Some("CertificateRevoked"))
    );
}

#[tokio::test]
async fn the_proxys_entry_names_the_client() {
    assert_eq!(audited_client("6.6.6.6, 10.0.0.7").await, "10.0.0.7");
}

#[tokio::test]
async fn an_unreadable_proxy_entry_never_falls_back_to_what_the_client_wrote() {
    // The client wrote 6.6.6.6; the proxy's own entry is not an address.
    assert_eq!(audited_client("6.6.6.6, unknown").await, "127.0.0.1");
}

#[tokio::test]
async fn a_request_signed_by_a_stranger_costs_no_chain_read() {
    let w = world();
    let f = filed(&w).await;
    let (_, cert) = registered_doctor(&w, 4, None, false);
    // A genuine certificate (certificates travel with every request) under
    // someone else's signature.
    let stranger = SecretKey::generate().unwrap();
    let reads = || {
        w.chain
            .certificate_reads
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let before = reads();
    assert_eq!(
        refusal(&w, request(&stranger, &cert, f.x)).await,
        code(StatusCode::FORBIDDEN, "RequestWrongSigner")
    );
    assert_eq!(reads() - before, 0);
}

/// `POST /v1/index` for the filed record's `eh` under a new `X`, showing `secret`.
async fn file_again(w: &World, f: &Filed, secret: &[u8]) -> (StatusCode, Option<String>) {
    let body = json!({ "x": hx(&[8; 32]), "z": hx(&[9; 32]), "k": hx(&[1; 16]), "eh": hx(&f.eh), "filingSecret": hx(secret) });
    let (s, r) = json_call(&w.app, "POST", "/v1/index", body).await;
    (s, r["code"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn a_stranger_who_read_eh_on_chain_cannot_file_it() {
    // The index hijack: a filing {x, z, k, eh: victim} from someone who does
    // not hold the record's filing secret.
    let w = world();
    let f = filed(&w).await;
    let guess = FilingSecret::generate().unwrap();
    assert_eq!(
        file_again(&w, &f, guess.as_bytes()).await,
        code(StatusCode::FORBIDDEN, "FilingNotAuthorised")
    );
    assert_eq!(
        ask(&w, 5, None, false, [8; 32]).await,
        code(StatusCode::NOT_FOUND, "UnknownIndex")
    );
}

#[tokio::test]
async fn the_holder_of_the_filing_secret_files_again() {
    let w = world();
    let f = filed(&w).await;
    let (s, _) = file_again(&w, &f, filing().as_bytes()).await;
    assert_eq!(s, StatusCode::CREATED);
}

#[tokio::test]
async fn an_upload_of_the_same_bytes_cannot_take_the_filing_over() {
    let w = world();
    let f = filed(&w).await;
    // Someone uploads the identical ciphertext under their own commitment.
    let theirs = FilingSecret::generate().unwrap();
    let body = json!({ "eh": hx(&f.eh), "size": f.ct.len(), "partSize": 300, "filing": hx(&theirs.commitment()) });
    let (s, r) = json_call(&w.app, "POST", "/v1/uploads", body).await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::CONFLICT, Some("RecordExists"))
    );
    assert_eq!(
        file_again(&w, &f, theirs.as_bytes()).await,
        code(StatusCode::FORBIDDEN, "FilingNotAuthorised")
    );
}

#[tokio::test]
async fn an_upload_without_a_filing_commitment_is_refused() {
    let w = world();
    let body = json!({ "eh": hx(&[3; 32]), "size": 1000, "partSize": 300 });
    let (s, r) = json_call(&w.app, "POST", "/v1/uploads", body).await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("MalformedJson"))
    );
}

#[tokio::test]
async fn a_server_without_token_or_open_uploads_refuses_every_upload() {
    let w = world_with(|s| s.open_uploads = false);
    assert_eq!(
        create_upload(&w, &[3; 32]).await,
        code(StatusCode::UNAUTHORIZED, "Unauthorized")
    );
}

#[tokio::test]
async fn a_stranger_cannot_learn_which_records_are_stored() {
    // Stored here, the record would answer RecordExists to anyone who asks.
    let w = world();
    let f = filed(&w).await;
    let mut closed = w.state.settings.clone();
    closed.open_uploads = false;
    closed.upload_token = Some("staff".into());
    let state = ehrchain_server::AppState::new(
        closed,
        w.state.meta.clone(),
        w.state.blobs.clone(),
        Some(w.chain.clone() as Arc<dyn ChainView>),
        w.state.audit.clone(),
    );
    let app = app(state);
    let body = json!({ "eh": hx(&f.eh), "size": 1000, "partSize": 300, "filing": hx(&filing().commitment()) });
    let (s, r) = json_call(&app, "POST", "/v1/uploads", body).await;
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("Unauthorized"))
    );
}

/// Uploads a record, anchors it on the fake chain with `anchor`, and files it.
async fn file_anchored_by(
    w: &World,
    anchor: impl FnOnce(&FakeChain, [u8; 32]),
) -> (StatusCode, Option<String>) {
    let ct: Vec<u8> = (0..1000u32).map(|i| (i * 11) as u8).collect();
    let eh = ehrchain::hash::sha256(&ct);
    let (s, done) = upload(&w.app, &ct, eh, 300).await;
    assert_eq!(s, StatusCode::OK, "{done}");
    anchor(&w.chain, eh);
    let body = json!({ "x": hx(&[5; 32]), "z": hx(&[6; 32]), "k": hx(&[7; 16]), "eh": hx(&eh), "filingSecret": hx(filing().as_bytes()) });
    let (s, r) = json_call(&w.app, "POST", "/v1/index", body).await;
    (s, r["code"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn a_record_anchored_by_an_uncertified_account_is_not_filed() {
    // The squatter's anchor (were the registry to accept it): the account
    // that anchored holds no certificate under the anchor's serial.
    let w = world();
    assert_eq!(
        file_anchored_by(&w, |c, eh| c.anchor_by(eh, false, Address([0xee; 20]), 77)).await,
        code(StatusCode::FORBIDDEN, "AnchorNotCertified")
    );
}

#[tokio::test]
async fn a_record_anchored_under_another_doctors_serial_is_not_filed() {
    let w = world();
    w.chain.register(78, Address([0xdd; 20]), false);
    assert_eq!(
        file_anchored_by(&w, |c, eh| c.anchor_by(eh, false, Address([0xee; 20]), 78)).await,
        code(StatusCode::FORBIDDEN, "AnchorNotCertified")
    );
}

#[tokio::test]
async fn an_unanchored_record_is_not_filed() {
    let w = world();
    assert_eq!(
        file_anchored_by(&w, |_, _| {}).await,
        code(StatusCode::CONFLICT, "RecordNotAnchored")
    );
}

#[tokio::test]
async fn a_record_whose_anchor_is_not_certified_is_not_served() {
    let w = world();
    let f = filed(&w).await;
    w.chain.anchor_by(f.eh, false, Address([0xee; 20]), 77);
    assert_eq!(
        ask(&w, 6, None, false, f.x).await,
        code(StatusCode::FORBIDDEN, "AnchorNotCertified")
    );
}

// ------------------------------------------------------------------ signed uploads and bounds

/// A doctor certified for `hospital` (serial `serial`, registered on chain).
fn doctor_at(w: &World, serial: u64, hospital: &str) -> (SecretKey, ehrchain::cert::Certificate) {
    let d = SecretKey::generate().unwrap();
    let cert = CertificateBody {
        doctor: d.address(),
        protocol_key: SecretKey::generate().unwrap().public_key(),
        hospital: hospital.into(),
        valid_from: 1,
        valid_until: 4_000_000_000,
        serial,
    }
    .sign(&w.authority)
    .unwrap();
    w.chain.register(serial, d.address(), false);
    (d, cert)
}

/// The body of a signed `POST /v1/uploads` for `ct` by `d`, signing `signed_eh`.
fn signed_upload_body(
    d: &SecretKey,
    cert: &ehrchain::cert::Certificate,
    ct: &[u8],
    signed_eh: [u8; 32],
) -> Value {
    let eh = ehrchain::hash::sha256(ct);
    let auth = ehrchain::upload::UploadRequest::new(
        HOSPITAL,
        signed_eh,
        ct.len() as u64,
        filing().commitment(),
        now(),
        60,
    )
    .unwrap()
    .sign(d, cert.clone(), now())
    .unwrap();
    json!({
        "eh": hx(&eh), "size": ct.len(), "partSize": 300, "filing": hx(&filing().commitment()),
        "authorization": auth.to_value(),
    })
}

/// A world that takes no anonymous uploads (and no staff token).
fn closed_world() -> World {
    world_with(|s| s.open_uploads = false)
}

fn record_bytes(seed: u32) -> Vec<u8> {
    (0..1000u32).map(|i| (i * 13 + seed) as u8).collect()
}

#[tokio::test]
async fn a_doctor_of_this_hospital_uploads_with_a_signed_request_on_a_closed_server() {
    let w = closed_world();
    let (d, cert) = doctor_at(&w, 40, HOSPITAL);
    let ct = record_bytes(1);
    let body = signed_upload_body(&d, &cert, &ct, ehrchain::hash::sha256(&ct));
    let (s, created) = json_call(&w.app, "POST", "/v1/uploads", body).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    // The upload id is the capability for its parts and completion.
    let id = created["uploadId"].as_str().unwrap().to_owned();
    for (n, chunk) in ct.chunks(300).enumerate() {
        let (s, _) = call(
            &w.app,
            "PUT",
            &format!("/v1/uploads/{id}/parts/{n}"),
            chunk.to_vec(),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK);
    }
    let (s, done) = json_call(
        &w.app,
        "POST",
        &format!("/v1/uploads/{id}/complete"),
        Value::Null,
    )
    .await;
    assert_eq!(
        (s, done["state"].as_str()),
        (StatusCode::OK, Some("complete"))
    );
}

async fn signed_refusal(w: &World, body: Value) -> (StatusCode, Option<String>) {
    let (s, r) = json_call(&w.app, "POST", "/v1/uploads", body).await;
    (s, r["code"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn a_signed_upload_by_a_doctor_certified_elsewhere_is_refused() {
    let w = closed_world();
    let (d, cert) = doctor_at(&w, 41, "Another Hospital");
    let ct = record_bytes(2);
    assert_eq!(
        signed_refusal(
            &w,
            signed_upload_body(&d, &cert, &ct, ehrchain::hash::sha256(&ct))
        )
        .await,
        code(StatusCode::FORBIDDEN, "CertificateWrongHospital")
    );
}

#[tokio::test]
async fn a_signed_upload_for_other_bytes_is_refused() {
    let w = closed_world();
    let (d, cert) = doctor_at(&w, 42, HOSPITAL);
    let ct = record_bytes(3);
    assert_eq!(
        signed_refusal(&w, signed_upload_body(&d, &cert, &ct, [9; 32])).await,
        code(StatusCode::BAD_REQUEST, "InvalidField")
    );
}

#[tokio::test]
async fn a_replayed_signed_upload_is_refused() {
    let w = closed_world();
    let (d, cert) = doctor_at(&w, 43, HOSPITAL);
    let ct = record_bytes(4);
    let body = signed_upload_body(&d, &cert, &ct, ehrchain::hash::sha256(&ct));
    let (s, _) = json_call(&w.app, "POST", "/v1/uploads", body.clone()).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(
        signed_refusal(&w, body).await,
        code(StatusCode::CONFLICT, "Replay")
    );
}

#[tokio::test]
async fn a_signed_upload_under_a_revoked_certificate_is_refused() {
    let w = closed_world();
    let (d, cert) = doctor_at(&w, 44, HOSPITAL);
    w.chain.register(44, d.address(), true);
    let ct = record_bytes(5);
    assert_eq!(
        signed_refusal(
            &w,
            signed_upload_body(&d, &cert, &ct, ehrchain::hash::sha256(&ct))
        )
        .await,
        code(StatusCode::FORBIDDEN, "CertificateRevoked")
    );
}

#[tokio::test]
async fn a_signed_upload_by_a_stranger_is_refused_without_a_chain_read() {
    let w = closed_world();
    let (_, cert) = doctor_at(&w, 45, HOSPITAL);
    let stranger = SecretKey::generate().unwrap();
    let ct = record_bytes(6);
    let reads = || {
        w.chain
            .certificate_reads
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    let before = reads();
    assert_eq!(
        signed_refusal(
            &w,
            signed_upload_body(&stranger, &cert, &ct, ehrchain::hash::sha256(&ct))
        )
        .await,
        code(StatusCode::FORBIDDEN, "RequestWrongSigner")
    );
    assert_eq!(reads(), before);
}

#[tokio::test]
async fn the_parts_of_a_staff_upload_need_the_staff_token() {
    let w = world_with(|s| {
        s.open_uploads = false;
        s.upload_token = Some("staff-secret".into());
    });
    let req = Request::builder()
        .method("POST")
        .uri("/v1/uploads")
        .header("authorization", "Bearer staff-secret")
        .body(Body::from(
            json!({ "eh": hx(&[3; 32]), "size": 1000, "partSize": 300, "filing": hx(&filing().commitment()) }).to_string(),
        ))
        .unwrap();
    let (status, _, bytes) = common::send(&w.app, req).await;
    assert_eq!(status, StatusCode::CREATED);
    let created: Value = serde_json::from_slice(&bytes).unwrap();
    let id = created["uploadId"].as_str().unwrap();
    let (s, r) = call(
        &w.app,
        "PUT",
        &format!("/v1/uploads/{id}/parts/0"),
        vec![0; 300],
        None,
    )
    .await;
    let r: Value = serde_json::from_slice(&r).unwrap();
    assert_eq!(
        (s, r["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("Unauthorized"))
    );
}

#[tokio::test]
async fn one_client_holds_at_most_its_share_of_open_uploads() {
    let w = world_with(|s| {
        s.upload_bounds.per_owner_uploads = 2;
    });
    assert_eq!(create_upload(&w, &[1; 32]).await.0, StatusCode::CREATED);
    assert_eq!(create_upload(&w, &[2; 32]).await.0, StatusCode::CREATED);
    assert_eq!(
        create_upload(&w, &[3; 32]).await,
        code(StatusCode::TOO_MANY_REQUESTS, "UploadQuotaExceeded")
    );
}

#[tokio::test]
async fn one_client_reserves_at_most_its_share_of_bytes() {
    let w = world_with(|s| {
        s.upload_bounds.per_owner_bytes = 1500;
    });
    assert_eq!(create_upload(&w, &[1; 32]).await.0, StatusCode::CREATED);
    assert_eq!(
        create_upload(&w, &[2; 32]).await,
        code(StatusCode::TOO_MANY_REQUESTS, "UploadQuotaExceeded")
    );
}

#[tokio::test]
async fn the_server_holds_at_most_its_total_of_open_uploads() {
    let w = world_with(|s| {
        s.upload_bounds.total_uploads = 1;
    });
    // A doctor's signed upload and an anonymous one share the total.
    let (d, cert) = doctor_at(&w, 46, HOSPITAL);
    let ct = record_bytes(7);
    let (s, _) = json_call(
        &w.app,
        "POST",
        "/v1/uploads",
        signed_upload_body(&d, &cert, &ct, ehrchain::hash::sha256(&ct)),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(
        create_upload(&w, &[2; 32]).await,
        code(StatusCode::SERVICE_UNAVAILABLE, "UploadCapacityExceeded")
    );
}

/// The chain reads made so far: (block numbers, certificates, records).
fn chain_reads(w: &World) -> (u64, u64, u64) {
    let o = std::sync::atomic::Ordering::SeqCst;
    (
        w.chain.block_reads.load(o),
        w.chain.certificate_reads.load(o),
        w.chain.record_reads.load(o),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_decisions_read_each_status_once_per_block() {
    let w = world();
    let f = filed(&w).await;
    let (d, cert) = registered_doctor(&w, 9, None, false);
    let before = chain_reads(&w);
    let (_, entries_before) = w.state.audit.head();
    let syncs_before = w.state.audit.syncs();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..40 {
        let app = w.app.clone();
        let body = request(&d, &cert, f.x);
        tasks.spawn(async move { json_call(&app, "POST", "/v1/access", body).await.0 });
    }
    while let Some(status) = tasks.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    let after = chain_reads(&w);
    assert_eq!(
        after.1 - before.1,
        2,
        "40 decisions at one block: one read of the doctor's certificate and one of the anchor's"
    );
    assert_eq!(after.2 - before.2, 1, "and one of the record");
    // Group commit: every decision's entry durable, fewer fsyncs than entries.
    let v = ehrchain_server::audit::verify(&w._dir.path().join("audit.log")).unwrap();
    assert!(v.ok(), "{v:?}");
    assert_eq!(v.entries - entries_before, 40, "every decision on record");
    let syncs = w.state.audit.syncs() - syncs_before;
    assert!(syncs < 40, "{syncs} audit fsyncs for 40 decisions");
}

#[tokio::test]
async fn a_revocation_is_honoured_from_the_block_that_contains_it() {
    let w = world();
    let f = filed(&w).await;
    let (d, cert) = registered_doctor(&w, 9, None, false);
    let (s, _) = refusal(&w, request(&d, &cert, f.x)).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "granted, and the certificate's status cached"
    );
    w.chain.register(9, d.address(), true);
    assert_eq!(
        refusal(&w, request(&d, &cert, f.x)).await,
        code(StatusCode::FORBIDDEN, "CertificateRevoked"),
        "the next decision is at the revocation's block"
    );
}

#[tokio::test]
async fn an_unreachable_chain_is_refused_once_beyond_the_bound() {
    let w = world_with(|s| s.chain_state.max_lag = std::time::Duration::from_millis(300));
    let f = filed(&w).await;
    let (d, cert) = registered_doctor(&w, 9, None, false);
    let (s, _) = refusal(&w, request(&d, &cert, f.x)).await;
    assert_eq!(s, StatusCode::OK);
    w.chain
        .down
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let (s, _) = refusal(&w, request(&d, &cert, f.x)).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "within the bound: decided at the last block seen"
    );
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    assert_eq!(
        refusal(&w, request(&d, &cert, f.x)).await,
        code(StatusCode::SERVICE_UNAVAILABLE, "RpcUnreachable"),
        "beyond it: fails closed"
    );
}

#[tokio::test]
async fn with_no_lag_allowed_an_unreachable_chain_is_refused_at_once() {
    let w = world_with(|s| s.chain_state.max_lag = std::time::Duration::ZERO);
    let f = filed(&w).await;
    let (d, cert) = registered_doctor(&w, 9, None, false);
    w.chain
        .down
        .store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        refusal(&w, request(&d, &cert, f.x)).await,
        code(StatusCode::SERVICE_UNAVAILABLE, "RpcUnreachable")
    );
}

/// `GET /metrics` with `token` as bearer, if any: status, content type, body.
async fn metrics(w: &World, token: Option<&str>) -> (StatusCode, String, String) {
    let mut req = Request::builder().method("GET").uri("/metrics");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let (status, headers, body) = common::send(&w.app, req.body(Body::empty()).unwrap()).await;
    let ctype = headers
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ctype, String::from_utf8(body).unwrap())
}

#[tokio::test]
async fn metrics_do_not_exist_without_a_token() {
    let w = world();
    let (s, _, body) = metrics(&w, Some("anything")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body.contains("\"NotFound\""), "{body}");
}

#[tokio::test]
async fn metrics_are_refused_without_the_token_and_name_nobody() {
    const TOKEN: &str = "metrics-token-7f3a";
    let w = world_with(|s| s.metrics_token = Some(TOKEN.into()));
    let f = filed(&w).await;
    let (d, cert) = registered_doctor(&w, 9, None, false);
    let body = request(&d, &cert, f.x);
    let (s, granted) = json_call(&w.app, "POST", "/v1/access", body.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        refusal(&w, body).await,
        code(StatusCode::CONFLICT, "Replay")
    );

    for wrong in [None, Some("metrics-token-7f3b"), Some("")] {
        let (s, _, body) = metrics(&w, wrong).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{wrong:?}");
        assert!(body.contains("\"Unauthorized\""), "{body}");
    }
    let (s, ctype, text) = metrics(&w, Some(TOKEN)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ctype, "text/plain; version=0.0.4; charset=utf-8");
    for series in [
        "ehr_decisions_total{code=\"Ok\"} 1\n",
        "ehr_decisions_total{code=\"Replay\"} 1\n",
        "ehr_request_duration_seconds_count{route=\"/v1/access\"} 2\n",
        "ehr_chain_reads_total{kind=\"certificate\"} ",
        "ehr_chain_cache_hits_total ",
        "ehr_storage_errors_total ",
        "ehr_audit_fsyncs_total ",
        // The replay's certificate was recognised without a recovery.
        "ehr_certificate_cache_hits_total 1\n",
    ] {
        assert!(text.contains(series), "{series} missing from\n{text}");
    }
    let received = text
        .lines()
        .find_map(|l| l.strip_prefix("ehr_received_bytes_total "))
        .unwrap();
    assert!(
        received.parse::<u64>().unwrap() > 1000,
        "upload and request bytes counted"
    );

    // Nothing that names a doctor, a record, a request or a secret.
    let doctor = d.address();
    for secret in [
        hex::encode(doctor.0),
        doctor.to_checksum(),
        hex::encode(f.x),
        hex::encode(f.eh),
        granted["download"].as_str().unwrap().to_owned(),
        TOKEN.to_owned(),
        "127.0.0.1".to_owned(),
    ] {
        assert!(
            !text.to_lowercase().contains(&secret.to_lowercase()),
            "{secret} leaked"
        );
    }
    // Every label value is one of a fixed, known set.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some((_, labels)) = line.split_once('{') else {
            continue;
        };
        let labels = labels.rsplit_once('}').unwrap().0;
        for pair in labels.split(',') {
            let (key, value) = pair.split_once('=').unwrap();
            let value = value.trim_matches('"');
            let known = match key {
                "code" => value.chars().all(|c| c.is_ascii_alphabetic()),
                "route" => ehrchain_server::metrics::ROUTES.contains(&value),
                "kind" => ["block_number", "certificate", "record"].contains(&value),
                "le" => value == "+Inf" || value.parse::<f64>().is_ok(),
                _ => false,
            };
            assert!(known, "label {key}={value:?} in {line}");
        }
    }
}
