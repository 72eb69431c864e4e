//! The authorisation relayer (`POST /v1/relay/authorise`) in-process, through
//! `app(state)` and `oneshot`, with a fake chain writer that behaves as a
//! node does with nonces (it reads the pending count, then uses it): every
//! refusal with its code and status, that nothing reaches the chain before
//! the body is checked, the per-client and server-wide budgets, and that
//! concurrent relays never take the same nonce. The real process against a
//! Hardhat chain is tested by `tests/server/server.test.mjs`.
#![allow(
    clippy::unwrap_used,
    clippy::unwrap_in_result,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation
)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use ehrchain::chain::log::Receipt;
use ehrchain::grant::Authorisation;
use ehrchain::{Address, PublicKey, SecretKey};
use ehrchain_server::relay::ChainWriter;
use ehrchain_server::{app, Settings};
use serde_json::{json, Value};

mod common;
use common::hx;

/// What the fake node does with the next relays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    /// Mines every transaction at once.
    Mines,
    /// Accepts transactions but never mines them.
    NeverMines,
    /// Mines them, failed (`status 0`).
    MinesFailed,
    /// Refuses the call (e.g. insufficient funds).
    Refuses,
    /// Does not answer.
    Unreachable,
}

#[derive(Debug)]
struct FakeWriter {
    node: Mutex<Node>,
    /// The node's count of the relayer's transactions, pending included.
    pending: Mutex<u64>,
    /// The nonce of each transaction sent, in order.
    nonces: Mutex<Vec<u64>>,
    /// The authorisations sent.
    sent: Mutex<Vec<Authorisation>>,
    /// Submissions running now, and the most ever at once.
    inside: AtomicUsize,
    most_inside: AtomicUsize,
    /// Calls of `submit_authorise`, whatever came of them.
    calls: AtomicUsize,
}

impl FakeWriter {
    fn new() -> Self {
        FakeWriter {
            node: Mutex::new(Node::Mines),
            pending: Mutex::new(0),
            nonces: Mutex::new(Vec::new()),
            sent: Mutex::new(Vec::new()),
            inside: AtomicUsize::new(0),
            most_inside: AtomicUsize::new(0),
            calls: AtomicUsize::new(0),
        }
    }

    fn set(&self, node: Node) {
        *self.node.lock().unwrap() = node;
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

fn hash_of(nonce: u64) -> [u8; 32] {
    let mut h = [0xaa; 32];
    h[24..].copy_from_slice(&nonce.to_be_bytes());
    h
}

impl ChainWriter for FakeWriter {
    fn address(&self) -> Address {
        Address([0x12; 20])
    }

    fn submit_authorise(&self, auth: &Authorisation) -> ehrchain::Result<[u8; 32]> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match *self.node.lock().unwrap() {
            Node::Refuses => {
                return Err(ehrchain::Error::Rpc {
                    code: -32000,
                    message: "insufficient funds for gas * price + value".into(),
                })
            }
            Node::Unreachable => {
                return Err(ehrchain::Error::RpcUnreachable {
                    reason: "connection refused".into(),
                })
            }
            _ => {}
        }
        let now = self.inside.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_inside.fetch_max(now, Ordering::SeqCst);
        // As a node: read the pending count, sign (time passes), send.
        let nonce = *self.pending.lock().unwrap();
        std::thread::sleep(Duration::from_millis(25));
        let mut pending = self.pending.lock().unwrap();
        self.inside.fetch_sub(1, Ordering::SeqCst);
        if *pending != nonce {
            // Another transaction took this nonce meanwhile: a node refuses this one.
            return Err(ehrchain::Error::Rpc {
                code: -32000,
                message: format!("nonce too low: {nonce}"),
            });
        }
        *pending = nonce + 1;
        self.nonces.lock().unwrap().push(nonce);
        self.sent.lock().unwrap().push(auth.clone());
        Ok(hash_of(nonce))
    }

    fn receipt(&self, tx: &[u8; 32], _timeout: Duration) -> ehrchain::Result<Option<Receipt>> {
        let node = *self.node.lock().unwrap();
        if node == Node::NeverMines {
            return Ok(None);
        }
        let nonce = u64::from_be_bytes(tx[24..].try_into().unwrap());
        Ok(Some(Receipt {
            transaction_hash: *tx,
            block_number: 100 + nonce,
            success: node != Node::MinesFailed,
            gas_used: 40_000,
            from: self.address(),
            contract_address: None,
            logs: Vec::new(),
        }))
    }
}

struct World {
    dir: tempfile::TempDir,
    app: Router,
    writer: Arc<FakeWriter>,
}

/// A server relaying through a fake writer (none with `relaying: false`),
/// its settings adjusted by `configure`; clients are named by
/// `X-Forwarded-For`.
fn world_with(relaying: bool, configure: impl FnOnce(&mut Settings)) -> World {
    let writer = Arc::new(FakeWriter::new());
    let (dir, state) = common::state_in_tempdir(
        |settings| {
            settings.trust_forwarded_for = true;
            configure(settings);
        },
        None,
        relaying.then(|| writer.clone() as Arc<dyn ChainWriter>),
    );
    World {
        dir,
        app: app(state),
        writer,
    }
}

fn world() -> World {
    world_with(true, |_| {})
}

struct Answer {
    status: StatusCode,
    body: Value,
    retry_after: Option<u64>,
}

impl Answer {
    fn code(&self) -> (StatusCode, Option<&str>) {
        (self.status, self.body["code"].as_str())
    }
}

async fn post_raw(w: &World, client: &str, body: Vec<u8>) -> Answer {
    let req = Request::builder()
        .method("POST")
        .uri("/v1/relay/authorise")
        .header("content-type", "application/json")
        .header("x-forwarded-for", client)
        .body(Body::from(body))
        .unwrap();
    let (status, headers, bytes) = common::send(&w.app, req).await;
    let retry_after = headers
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    Answer {
        status,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        retry_after,
    }
}

async fn relay(w: &World, client: &str, body: &Value) -> Answer {
    post_raw(w, client, body.to_string().into_bytes()).await
}

/// A well-formed `Trans`: fresh points for `R` and `ST`, and a `C1` whose
/// ephemeral key is a point (the server cannot tell it from a genuine one).
fn authorisation() -> Value {
    let point = || SecretKey::generate().unwrap().public_key();
    let mut c1 = point().to_uncompressed().to_vec();
    c1.extend_from_slice(&[0x5c; 609 - 65]);
    json!({
        "viewTag": 0x7f,
        "r": hx(&point().to_compressed()),
        "st": hx(&point().to_compressed()),
        "c1": hx(&c1),
    })
}

/// A 33-byte `02 ‖ x` that is no point: `x³ + 7` has no square root.
fn not_a_point() -> [u8; 33] {
    (1u8..)
        .map(|i| {
            let mut p = [0u8; 33];
            p[0] = 2;
            p[32] = i;
            p
        })
        .find(|p| PublicKey::from_sec1("x", p).is_err())
        .unwrap()
}

fn with(field: &str, value: Value) -> Value {
    let mut body = authorisation();
    body[field] = value;
    body
}

const CLIENT: &str = "10.0.0.1";

#[tokio::test]
async fn a_relayed_authorisation_is_sent_and_answered_with_its_transaction() {
    let w = world();
    let body = authorisation();
    let a = relay(&w, CLIENT, &body).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(
        a.body,
        json!({ "transactionHash": hx(&hash_of(0)), "blockNumber": 100 })
    );
    let sent = w.writer.sent.lock().unwrap()[0].clone();
    assert_eq!(sent.view_tag, 0x7f);
    assert_eq!(hx(&sent.r), body["r"].as_str().unwrap());
    assert_eq!(hx(&sent.st), body["st"].as_str().unwrap());
    assert_eq!(hx(&sent.c1), body["c1"].as_str().unwrap());
}

#[tokio::test]
async fn a_server_without_a_relayer_key_refuses_relays() {
    let w = world_with(false, |_| {});
    let a = relay(&w, CLIENT, &authorisation()).await;
    assert_eq!(
        a.code(),
        (StatusCode::SERVICE_UNAVAILABLE, Some("RelayNotConfigured"))
    );
}

#[tokio::test]
async fn every_malformed_field_is_refused_before_the_chain_is_called() {
    let w = world();
    let bad = not_a_point();
    let mut short_c1 = SecretKey::generate()
        .unwrap()
        .public_key()
        .to_uncompressed()
        .to_vec();
    short_c1.extend_from_slice(&[0; 543]);
    let mut bad_ephemeral = vec![0x04; 609];
    bad_ephemeral[1..].fill(0x01);
    let cases: Vec<(&str, Answer, StatusCode, &str)> = vec![
        (
            "not JSON",
            post_raw(&w, CLIENT, b"{\"viewTag\": 1,".to_vec()).await,
            StatusCode::BAD_REQUEST,
            "MalformedJson",
        ),
        (
            "an unknown field",
            relay(&w, CLIENT, &with("sender", json!("0x00"))).await,
            StatusCode::BAD_REQUEST,
            "MalformedJson",
        ),
        (
            "a missing field",
            relay(&w, CLIENT, &json!({ "viewTag": 1, "r": "0x02" })).await,
            StatusCode::BAD_REQUEST,
            "MalformedJson",
        ),
        (
            "viewTag 256",
            relay(&w, CLIENT, &with("viewTag", json!(256))).await,
            StatusCode::BAD_REQUEST,
            "InvalidField",
        ),
        (
            "viewTag -1",
            relay(&w, CLIENT, &with("viewTag", json!(-1))).await,
            StatusCode::BAD_REQUEST,
            "InvalidField",
        ),
        (
            "viewTag 1.5",
            relay(&w, CLIENT, &with("viewTag", json!(1.5))).await,
            StatusCode::BAD_REQUEST,
            "InvalidField",
        ),
        (
            "viewTag as a string",
            relay(&w, CLIENT, &with("viewTag", json!("7"))).await,
            StatusCode::BAD_REQUEST,
            "InvalidField",
        ),
        (
            "R not hex",
            relay(&w, CLIENT, &with("r", json!("0xzz"))).await,
            StatusCode::BAD_REQUEST,
            "InvalidHex",
        ),
        (
            "R of 32 bytes",
            relay(&w, CLIENT, &with("r", json!(hx(&[2; 32])))).await,
            StatusCode::BAD_REQUEST,
            "InvalidLength",
        ),
        (
            "R with prefix 05",
            relay(&w, CLIENT, &with("r", json!(hx(&[5; 33])))).await,
            StatusCode::BAD_REQUEST,
            "InvalidPublicKey",
        ),
        (
            "R off the curve",
            relay(&w, CLIENT, &with("r", json!(hx(&bad)))).await,
            StatusCode::BAD_REQUEST,
            "InvalidPublicKey",
        ),
        (
            "ST off the curve",
            relay(&w, CLIENT, &with("st", json!(hx(&bad)))).await,
            StatusCode::BAD_REQUEST,
            "InvalidPublicKey",
        ),
        (
            "C1 of 608 bytes",
            relay(&w, CLIENT, &with("c1", json!(hx(&short_c1)))).await,
            StatusCode::BAD_REQUEST,
            "InvalidLength",
        ),
        (
            "C1 of 610 bytes",
            relay(&w, CLIENT, &with("c1", json!(hx(&[4; 610])))).await,
            StatusCode::BAD_REQUEST,
            "InvalidLength",
        ),
        (
            "C1 whose ephemeral key is no point",
            relay(&w, CLIENT, &with("c1", json!(hx(&bad_ephemeral)))).await,
            StatusCode::BAD_REQUEST,
            "InvalidPublicKey",
        ),
    ];
    for (what, answer, status, code) in cases {
        assert_eq!(
            answer.code(),
            (status, Some(code)),
            "{what}: {}",
            answer.body
        );
    }
    assert_eq!(w.writer.calls(), 0, "nothing reached the chain");
}

#[tokio::test]
async fn refused_requests_spend_no_relay_budget() {
    let w = world_with(true, |s| s.relay.per_hour_per_client = 1);
    for _ in 0..5 {
        let a = relay(&w, CLIENT, &with("viewTag", json!(256))).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST);
    }
    let a = relay(&w, CLIENT, &authorisation()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}

#[tokio::test]
async fn a_client_beyond_its_hourly_relays_is_rate_limited_and_others_are_not() {
    let w = world_with(true, |s| s.relay.per_hour_per_client = 3);
    for _ in 0..3 {
        assert_eq!(
            relay(&w, CLIENT, &authorisation()).await.status,
            StatusCode::OK
        );
    }
    let a = relay(&w, CLIENT, &authorisation()).await;
    assert_eq!(
        a.code(),
        (StatusCode::TOO_MANY_REQUESTS, Some("RateLimited"))
    );
    // 3 per hour: the next token comes 20 minutes after the first.
    let wait = a.retry_after.unwrap();
    assert!((1100..=1201).contains(&wait), "Retry-After {wait}");
    assert_eq!(w.writer.calls(), 3, "the refused relay reached no chain");
    // Another client (an IPv6 /64 counts as one) has its own budget.
    let other = relay(&w, "2001:db8::1", &authorisation()).await;
    assert_eq!(other.status, StatusCode::OK);
}

#[tokio::test]
async fn the_server_wide_budget_bounds_every_client_together() {
    let w = world_with(true, |s| s.relay.per_hour = 4);
    for i in 0..4 {
        let a = relay(&w, &format!("10.0.1.{i}"), &authorisation()).await;
        assert_eq!(a.status, StatusCode::OK);
    }
    let a = relay(&w, "10.0.2.1", &authorisation()).await;
    assert_eq!(
        a.code(),
        (StatusCode::TOO_MANY_REQUESTS, Some("RateLimited"))
    );
    let wait = a.retry_after.unwrap();
    assert!((1..=901).contains(&wait), "Retry-After {wait}");
    assert_eq!(w.writer.calls(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_relays_never_take_the_same_nonce() {
    let w = Arc::new(world());
    let n = 12;
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let w = w.clone();
            tokio::spawn(async move { relay(&w, &format!("10.0.3.{i}"), &authorisation()).await })
        })
        .collect();
    let mut hashes = Vec::new();
    for t in tasks {
        let a = t.await.unwrap();
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        hashes.push(a.body["transactionHash"].as_str().unwrap().to_owned());
    }
    let mut nonces = w.writer.nonces.lock().unwrap().clone();
    nonces.sort_unstable();
    assert_eq!(
        nonces,
        (0..n).collect::<Vec<u64>>(),
        "one nonce each, none reused"
    );
    hashes.sort();
    hashes.dedup();
    assert_eq!(hashes.len(), 12);
    assert_eq!(
        w.writer.most_inside.load(Ordering::SeqCst),
        1,
        "one submission at a time"
    );
}

#[tokio::test]
async fn chain_failures_are_typed() {
    let w = world();
    let cases = [
        (Node::MinesFailed, StatusCode::BAD_GATEWAY, "Reverted"),
        (Node::Refuses, StatusCode::BAD_GATEWAY, "Rpc"),
        (
            Node::Unreachable,
            StatusCode::SERVICE_UNAVAILABLE,
            "RpcUnreachable",
        ),
    ];
    for (node, status, code) in cases {
        w.writer.set(node);
        let a = relay(&w, CLIENT, &authorisation()).await;
        assert_eq!(a.code(), (status, Some(code)), "{node:?}: {}", a.body);
        assert!(
            !a.body["message"].as_str().unwrap().contains("insufficient"),
            "node details stay in the log"
        );
    }
}

#[tokio::test]
async fn a_transaction_not_mined_in_time_is_answered_with_its_hash() {
    let w = world();
    w.writer.set(Node::NeverMines);
    let a = relay(&w, CLIENT, &authorisation()).await;
    assert_eq!(a.status, StatusCode::ACCEPTED);
    assert_eq!(
        a.body,
        json!({ "transactionHash": hx(&hash_of(0)), "blockNumber": null })
    );
}

#[tokio::test]
async fn a_relay_leaves_nothing_in_the_audit_trail() {
    let w = world();
    assert_eq!(
        relay(&w, CLIENT, &authorisation()).await.status,
        StatusCode::OK
    );
    let audit = std::fs::read_to_string(w.dir.path().join("audit.log")).unwrap_or_default();
    assert!(!audit.contains(CLIENT), "{audit}");
    assert!(!audit.contains("relay"), "{audit}");
}
