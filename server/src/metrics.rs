//! `GET /metrics` (issue #14 item 6): what the server did, in the Prometheus
//! text exposition format (version 0.0.4).
//!
//! Hand-written rather than a metrics crate: a dozen series, rendered in
//! about a hundred lines, with no global registry and no new dependency.
//! More importantly, **every label value is a compile-time constant**: a
//! refusal code ([`ApiError::code`](crate::ApiError::code)), a route
//! template from [`ROUTES`] (anything else is `unmatched`), a read kind or a
//! bucket bound. No label can carry a doctor, a serial, an `X`, an `eh`, a
//! token, a client address or any other request input, and the series set
//! is bounded whatever clients send.
//!
//! Who may read it: only a caller with `Authorization: Bearer
//! <EHR_METRICS_TOKEN>`; without that variable the endpoint does not exist
//! (`NotFound`), and a missing or wrong token is `Unauthorized`. Counts of
//! decisions by code and request rates tell an observer how busy the
//! hospital is and how often requests are refused: not for strangers.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};

use crate::chainstate::ChainStats;

/// The route templates latency is kept for (the router's, and `/metrics`).
pub const ROUTES: [&str; 11] = [
    "/healthz",
    "/metrics",
    "/v1/uploads",
    "/v1/uploads/{id}",
    "/v1/uploads/{id}/parts/{n}",
    "/v1/uploads/{id}/complete",
    "/v1/index",
    "/v1/access",
    "/v1/relay/authorise",
    "/v1/records/{eh}",
    "unmatched",
];

/// Upper bounds of the latency buckets, seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Storage failures (database or file system) answered as errors, for the
/// whole process: counted where a [`StoreError`](crate::store::StoreError)
/// becomes an answer, which has no state at hand.
static STORAGE_ERRORS: AtomicU64 = AtomicU64::new(0);

/// Counts one storage failure.
pub fn storage_error() {
    STORAGE_ERRORS.fetch_add(1, Ordering::Relaxed);
}

#[derive(Debug, Clone, Default)]
struct Histogram {
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The server's counters and histograms.
#[derive(Debug, Default)]
pub struct Metrics {
    decisions: Mutex<BTreeMap<&'static str, u64>>,
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The [`ROUTES`] entry equal to `route`, or `unmatched`.
pub fn route_label(route: Option<&str>) -> &'static str {
    route
        .and_then(|r| ROUTES.iter().find(|known| **known == r))
        .copied()
        .unwrap_or("unmatched")
}

/// Everything `/metrics` reports besides [`Metrics`] itself.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    /// The chain cache's counts, if a chain is configured.
    pub chain: Option<&'a ChainStats>,
    /// Audit entries written and fsyncs made.
    pub audit: (u64, u64),
    /// Certificate issuers answered from [`crate::issuers::IssuerCache`].
    pub issuer_hits: u64,
}

impl Metrics {
    /// Counts one access decision answered with `code` (`Ok` if granted).
    pub fn decision(&self, code: &'static str) {
        *lock(&self.decisions).entry(code).or_default() += 1;
    }

    /// Records one request on `route` that took `elapsed` to its response head.
    pub fn observe(&self, route: &'static str, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let mut latency = lock(&self.latency);
        let h = latency.entry(route).or_default();
        for (bound, n) in BUCKETS.iter().zip(h.buckets.iter_mut()) {
            if secs <= *bound {
                *n += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// `body`, counting its bytes as received (`incoming`) or sent.
    pub fn count_body(self: &Arc<Self>, body: Body, incoming: bool) -> Body {
        Body::new(Counted {
            inner: body,
            metrics: self.clone(),
            incoming,
        })
    }

    /// The exposition text.
    pub fn render(&self, sources: Sources<'_>) -> String {
        let mut out = String::with_capacity(4096);
        let o = &mut out;
        family(
            o,
            DECISIONS,
            "counter",
            "Access decisions answered, by code (Ok: granted).",
        );
        for (code, n) in lock(&self.decisions).iter() {
            let _ = writeln!(o, "{DECISIONS}{{code=\"{code}\"}} {n}");
        }
        family(
            o,
            LATENCY,
            "histogram",
            "Time from a request's arrival to its response head, by route template.",
        );
        for (route, h) in lock(&self.latency).iter() {
            for (bound, n) in BUCKETS.iter().zip(h.buckets) {
                let _ = writeln!(
                    o,
                    "{LATENCY}_bucket{{route=\"{route}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                o,
                "{LATENCY}_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(o, "{LATENCY}_sum{{route=\"{route}\"}} {}", h.sum);
            let _ = writeln!(o, "{LATENCY}_count{{route=\"{route}\"}} {}", h.count);
        }
        if let Some(c) = sources.chain {
            family(
                o,
                CHAIN_READS,
                "counter",
                "JSON-RPC reads of the chain, by kind.",
            );
            for (kind, n) in [
                ("block_number", &c.head_reads),
                ("certificate", &c.certificate_reads),
                ("record", &c.record_reads),
            ] {
                let _ = writeln!(
                    o,
                    "{CHAIN_READS}{{kind=\"{kind}\"}} {}",
                    n.load(Ordering::Relaxed)
                );
            }
            family(
                o,
                CACHE_HITS,
                "counter",
                "Status lookups answered without a chain read of their own.",
            );
            let _ = writeln!(o, "{CACHE_HITS} {}", c.cache_hits.load(Ordering::Relaxed));
        }
        let counters = [
            (
                STORAGE,
                "Storage failures (database, file system) answered as errors.",
                STORAGE_ERRORS.load(Ordering::Relaxed),
            ),
            (
                RECEIVED,
                "Request body bytes received.",
                self.bytes_in.load(Ordering::Relaxed),
            ),
            (
                SENT,
                "Response body bytes sent.",
                self.bytes_out.load(Ordering::Relaxed),
            ),
            (
                AUDIT_SYNCS,
                "fsyncs of the audit trail (one per group of entries).",
                sources.audit.1,
            ),
            (
                ISSUER_HITS,
                "Certificates of the authority recognised without a signature recovery.",
                sources.issuer_hits,
            ),
        ];
        for (name, help, value) in counters {
            family(o, name, "counter", help);
            let _ = writeln!(o, "{name} {value}");
        }
        family(o, AUDIT_ENTRIES, "gauge", "Entries in the audit trail.");
        let _ = writeln!(o, "{AUDIT_ENTRIES} {}", sources.audit.0);
        out
    }
}

const DECISIONS: &str = "ehr_decisions_total";
const LATENCY: &str = "ehr_request_duration_seconds";
const CHAIN_READS: &str = "ehr_chain_reads_total";
const CACHE_HITS: &str = "ehr_chain_cache_hits_total";
const STORAGE: &str = "ehr_storage_errors_total";
const RECEIVED: &str = "ehr_received_bytes_total";
const SENT: &str = "ehr_sent_bytes_total";
const AUDIT_SYNCS: &str = "ehr_audit_fsyncs_total";
const AUDIT_ENTRIES: &str = "ehr_audit_entries";
const ISSUER_HITS: &str = "ehr_certificate_cache_hits_total";

/// A metric family's `# HELP` and `# TYPE` lines.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A body whose data frames are counted as they pass.
struct Counted {
    inner: Body,
    metrics: Arc<Metrics>,
    incoming: bool,
}

impl http_body::Body for Counted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                let counter = if self.incoming {
                    &self.metrics.bytes_in
                } else {
                    &self.metrics.bytes_out
                };
                counter.fetch_add(data.len() as u64, Ordering::Relaxed);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_are_cumulative_and_labels_are_known_routes() {
        let m = Metrics::default();
        m.observe(route_label(Some("/v1/access")), Duration::from_millis(3));
        m.observe(route_label(Some("/v1/access")), Duration::from_millis(30));
        m.observe(
            route_label(Some("/anything/0xabc")),
            Duration::from_millis(1),
        );
        m.decision("Ok");
        let text = m.render(Sources {
            chain: None,
            audit: (2, 1),
            issuer_hits: 0,
        });
        assert!(text.contains(
            "ehr_request_duration_seconds_bucket{route=\"/v1/access\",le=\"0.005\"} 1\n"
        ));
        assert!(text
            .contains("ehr_request_duration_seconds_bucket{route=\"/v1/access\",le=\"0.05\"} 2\n"));
        assert!(text.contains("ehr_request_duration_seconds_count{route=\"/v1/access\"} 2\n"));
        assert!(text.contains("ehr_request_duration_seconds_count{route=\"unmatched\"} 1\n"));
        assert!(!text.contains("0xabc"));
        assert!(text.contains("ehr_decisions_total{code=\"Ok\"} 1\n"));
        assert!(text.contains("ehr_audit_fsyncs_total 1\n"));
    }
}
