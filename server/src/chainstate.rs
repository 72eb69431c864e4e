//! Chain state once per block (issue #14 item 4): certificate and record
//! status read at most once per block number and key, shared by every
//! decision that needs it.
//!
//! A decision first takes the **head**, the newest block number the server
//! has read, then reads each status **at that block** (`eth_call` with the
//! block number, never `latest`), or at a newer head if one was read in the
//! meantime (a lookup never uses a block older than the newest seen). Statuses are cached by key with the block
//! they were read at, and an entry read at block `M` answers any decision
//! at a block `N ≤ M`. So a decision at block `N` sees exactly what a fresh
//! read at `N` (or later) would: a revocation or deletion mark in block `B`
//! is honoured by every decision at a head `≥ B`.
//!
//! Rules, each with its test below:
//! - **Freshness of the head** ([`Freshness::head_max_age`]): a decision
//!   uses the newest block number whose read *began* at most `head_max_age`
//!   before the decision did; otherwise it waits for such a read. With 0, the
//!   read began after the decision did, so any block the node had imported
//!   when the request arrived is honoured.
//! - **Single flight**: concurrent decisions needing the head share one
//!   `eth_blockNumber`, and concurrent decisions needing the same key at the
//!   same block share one `eth_call`: one chain read per block per key.
//! - **No roll-back**: the head never decreases. A node that answers an
//!   older block number (a lagging replica behind a load balancer) leaves
//!   the head where it was, reads still ask for the higher block (such a
//!   node then answers an error: refused, never older state), and a cached
//!   entry is replaced only by one read at a block at least as high.
//! - **Fail closed** ([`Freshness::max_lag`]): while `eth_blockNumber`
//!   fails, decisions continue at the last head for at most `max_lag` after
//!   the last successful read, and only from the cache (a read that is not
//!   cached fails as the chain does); beyond `max_lag` every decision that
//!   needs the chain is refused with the chain's error (`RpcUnreachable`,
//!   503).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ehrchain::anchor::CertifiedAnchor;
use ehrchain::chain::registry::{CertificateStatus, RecordStatus};

use crate::chain::ChainView;

/// Most cached statuses per kind; beyond it, entries older than the block
/// being cached go first (they can never be used again), then everything.
const CACHE_CAP: usize = 100_000;

/// How fresh the state a decision is made at must be
/// (`EHR_CHAIN_HEAD_MAX_AGE_MS`, `EHR_CHAIN_MAX_LAG_SECS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// How long before a decision the block-number read it uses may have
    /// begun (0: after the decision began).
    pub head_max_age: Duration,
    /// How long after the last successful block-number read decisions may
    /// continue at that block while the chain is unreachable (0: none).
    pub max_lag: Duration,
}

/// Counts of what the cache did, for `/metrics`.
#[derive(Debug, Default)]
pub struct ChainStats {
    /// `eth_blockNumber` calls.
    pub head_reads: AtomicU64,
    /// `certificateStatus` calls.
    pub certificate_reads: AtomicU64,
    /// `recordStatus` calls.
    pub record_reads: AtomicU64,
    /// Status lookups answered without a chain read of their own (from the
    /// cache, or by sharing another decision's read in flight).
    pub cache_hits: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section below leaves its state consistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One read whose result every caller that joined it gets.
#[derive(Debug)]
struct Flight<T> {
    result: Mutex<Option<ehrchain::Result<T>>>,
    done: Condvar,
}

impl<T: Clone> Flight<T> {
    fn new() -> Arc<Self> {
        Arc::new(Flight {
            result: Mutex::new(None),
            done: Condvar::new(),
        })
    }

    fn finish(&self, result: ehrchain::Result<T>) {
        *lock(&self.result) = Some(result);
        self.done.notify_all();
    }

    fn wait(&self) -> ehrchain::Result<T> {
        let mut result = lock(&self.result);
        loop {
            if let Some(r) = result.as_ref() {
                return r.clone();
            }
            result = self.done.wait(result).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// What the server knows of the chain's head.
#[derive(Debug, Default)]
struct Head {
    /// The highest block number read (never lowered).
    block: Option<u64>,
    /// When the newest successful read of it began.
    read_began: Option<Instant>,
    /// When the last successful read ended (the chain was reachable).
    confirmed_at: Option<Instant>,
    /// The read in progress, and when it began.
    flight: Option<(Instant, Arc<Flight<u64>>)>,
}

/// Statuses of one kind by key, each with the block it was read at.
#[derive(Debug)]
struct Cache<K, V> {
    entries: HashMap<K, (u64, V)>,
    flights: HashMap<K, (u64, Arc<Flight<V>>)>,
}

impl<K, V> Default for Cache<K, V> {
    fn default() -> Self {
        Cache {
            entries: HashMap::new(),
            flights: HashMap::new(),
        }
    }
}

/// The registry as access decisions see it: once per block, shared.
#[derive(Debug)]
pub struct ChainState {
    view: Arc<dyn ChainView>,
    freshness: Freshness,
    head: Mutex<Head>,
    certificates: Mutex<Cache<u64, CertificateStatus>>,
    records: Mutex<Cache<[u8; 32], RecordStatus>>,
    stats: ChainStats,
}

impl ChainState {
    /// Reads `view` under `freshness`.
    pub fn new(view: Arc<dyn ChainView>, freshness: Freshness) -> Self {
        ChainState {
            view,
            freshness,
            head: Mutex::new(Head::default()),
            certificates: Mutex::new(Cache::default()),
            records: Mutex::new(Cache::default()),
            stats: ChainStats::default(),
        }
    }

    /// What the cache did so far.
    pub fn stats(&self) -> &ChainStats {
        &self.stats
    }

    /// The block a decision beginning now is made at (see the module rules).
    ///
    /// # Errors
    /// The chain's error once it has been unreachable for longer than
    /// [`Freshness::max_lag`] (or was never reached).
    pub fn head(&self) -> ehrchain::Result<u64> {
        let arrived = Instant::now();
        let max_age = self.freshness.head_max_age;
        let fits = |began: Instant| arrived.saturating_duration_since(began) <= max_age;
        let mut head = lock(&self.head);
        loop {
            if let (Some(block), Some(began)) = (head.block, head.read_began) {
                if fits(began) {
                    return Ok(block);
                }
            }
            match head.flight.clone() {
                Some((began, flight)) => {
                    drop(head);
                    let result = flight.wait();
                    if fits(began) {
                        return result;
                    }
                    // That read began too early for this decision: the next one.
                    head = lock(&self.head);
                }
                None => {
                    let began = Instant::now();
                    let flight = Flight::new();
                    head.flight = Some((began, flight.clone()));
                    drop(head);
                    let read = self.view.block_number();
                    self.stats.head_reads.fetch_add(1, Ordering::Relaxed);
                    let result = self.settle_head(began, read);
                    flight.finish(result.clone());
                    return result;
                }
            }
        }
    }

    /// Takes a block-number read that began at `began` into the head.
    fn settle_head(&self, began: Instant, read: ehrchain::Result<u64>) -> ehrchain::Result<u64> {
        let mut head = lock(&self.head);
        head.flight = None;
        match read {
            Ok(n) => {
                head.confirmed_at = Some(Instant::now());
                if head.block.is_none_or(|b| n > b) {
                    head.block = Some(n);
                } else if head.block.is_some_and(|b| n < b) {
                    tracing::warn!(
                        node = n,
                        seen = head.block,
                        "the node answered an older block number than already seen: kept the newer"
                    );
                }
                head.read_began = Some(began);
                Ok(head.block.unwrap_or(n))
            }
            Err(e) => match (head.block, head.confirmed_at) {
                (Some(block), Some(at)) if at.elapsed() <= self.freshness.max_lag => Ok(block),
                _ => Err(e),
            },
        }
    }

    /// A fresh `eth_blockNumber` for health reports (no fallback), taken
    /// into the head.
    ///
    /// # Errors
    /// The chain's error.
    pub fn probe(&self) -> ehrchain::Result<u64> {
        let began = Instant::now();
        let read = self.view.block_number();
        self.stats.head_reads.fetch_add(1, Ordering::Relaxed);
        let n = read?;
        self.settle_head(began, Ok(n))
    }

    /// `certificateStatus(serial)` at the head.
    ///
    /// # Errors
    /// As [`ChainState::head`] and the read's.
    pub fn certificate_status(&self, serial: u64) -> ehrchain::Result<CertificateStatus> {
        let block = self.head()?;
        self.certificate_status_at(serial, block)
    }

    /// `recordStatus(eh)` at the head.
    ///
    /// # Errors
    /// As [`ChainState::head`] and the read's.
    pub fn record_status(&self, eh: &[u8; 32]) -> ehrchain::Result<RecordStatus> {
        let block = self.head()?;
        self.record_status_at(eh, block)
    }

    /// The anchor of `eh` under the anchoring rule
    /// ([`CertifiedAnchor::confirm`]): its record status, then the anchor
    /// certificate's status, both at the same head.
    ///
    /// # Errors
    /// The reads' errors; `RecordNotAnchored`, `RecordDeleted`,
    /// `AnchorNotCertified`.
    pub fn certified_anchor(&self, eh: &[u8; 32]) -> ehrchain::Result<CertifiedAnchor> {
        self.certified_anchor_at(eh, self.head()?)
    }

    /// [`ChainState::certified_anchor`] at `block`, a block number
    /// [`ChainState::head`] gave (one block-number read per decision), or
    /// at a newer head read since.
    ///
    /// # Errors
    /// As [`ChainState::certified_anchor`].
    pub fn certified_anchor_at(
        &self,
        eh: &[u8; 32],
        block: u64,
    ) -> ehrchain::Result<CertifiedAnchor> {
        let record = self.record_status_at(eh, block)?;
        if !record.anchored {
            return Err(ehrchain::Error::RecordNotAnchored);
        }
        if record.deleted {
            return Err(ehrchain::Error::RecordDeleted);
        }
        let certificate = self.certificate_status_at(record.serial, block)?;
        CertifiedAnchor::confirm(eh, &record, &certificate)
    }

    /// `certificateStatus(serial)` at `block`, a block number
    /// [`ChainState::head`] gave, or at the head if it has moved past it
    /// since (never at a block older than the newest seen): cached, shared
    /// or read once.
    ///
    /// # Errors
    /// The read's.
    pub fn certificate_status_at(
        &self,
        serial: u64,
        block: u64,
    ) -> ehrchain::Result<CertificateStatus> {
        let block = self.at_least_head(block);
        self.cached(&self.certificates, serial, block, || {
            self.stats.certificate_reads.fetch_add(1, Ordering::Relaxed);
            self.view.certificate_status_at(serial, block)
        })
    }

    /// `recordStatus(eh)` at `block`, a block number [`ChainState::head`]
    /// gave, or at the head if it has moved past it since: cached, shared
    /// or read once.
    ///
    /// # Errors
    /// The read's.
    pub fn record_status_at(&self, eh: &[u8; 32], block: u64) -> ehrchain::Result<RecordStatus> {
        let block = self.at_least_head(block);
        self.cached(&self.records, *eh, block, || {
            self.stats.record_reads.fetch_add(1, Ordering::Relaxed);
            self.view.record_status_at(eh, block)
        })
    }

    /// `block`, or the newest block number seen if that is higher: a
    /// lookup never uses state older than what the server already knows.
    fn at_least_head(&self, block: u64) -> u64 {
        lock(&self.head).block.map_or(block, |seen| seen.max(block))
    }

    /// `key`'s value at `block` or later: cached, shared with a read in
    /// flight at `block` or later, or read (once) by `read`.
    fn cached<K: Eq + Hash + Copy, V: Clone>(
        &self,
        cache: &Mutex<Cache<K, V>>,
        key: K,
        block: u64,
        read: impl FnOnce() -> ehrchain::Result<V>,
    ) -> ehrchain::Result<V> {
        let mut c = lock(cache);
        if let Some((at, value)) = c.entries.get(&key) {
            if *at >= block {
                self.stats.cache_hits.fetch_add(1, Ordering::Relaxed);
                return Ok(value.clone());
            }
        }
        if let Some((at, flight)) = c.flights.get(&key) {
            if *at >= block {
                let flight = flight.clone();
                drop(c);
                self.stats.cache_hits.fetch_add(1, Ordering::Relaxed);
                return flight.wait();
            }
        }
        let flight = Flight::new();
        c.flights.insert(key, (block, flight.clone()));
        drop(c);
        let result = read();
        let mut c = lock(cache);
        if c.flights
            .get(&key)
            .is_some_and(|(_, f)| Arc::ptr_eq(f, &flight))
        {
            c.flights.remove(&key);
        }
        if let Ok(value) = &result {
            let newer = c.entries.get(&key).is_some_and(|(at, _)| *at > block);
            if !newer {
                if c.entries.len() >= CACHE_CAP {
                    c.entries.retain(|_, (at, _)| *at >= block);
                    if c.entries.len() >= CACHE_CAP {
                        c.entries.clear();
                    }
                }
                c.entries.insert(key, (block, value.clone()));
            }
        }
        drop(c);
        flight.finish(result.clone());
        result
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_in_result)]
    use super::*;
    use ehrchain::Address;
    use std::sync::atomic::AtomicBool;

    /// A registry whose block advances on every change, counting reads;
    /// `delay` holds every read (so concurrent callers overlap), `down`
    /// makes every read fail, `reported` overrides the block number it
    /// answers (a lagging node).
    #[derive(Debug, Default)]
    struct Registry {
        block: AtomicU64,
        revoked: AtomicBool,
        down: AtomicBool,
        reported: Mutex<Option<u64>>,
        delay: Mutex<Duration>,
        head_reads: AtomicU64,
        cert_reads: AtomicU64,
        record_reads: AtomicU64,
        asked_blocks: Mutex<Vec<u64>>,
    }

    impl Registry {
        fn pause(&self) -> ehrchain::Result<()> {
            std::thread::sleep(*self.delay.lock().unwrap());
            if self.down.load(Ordering::SeqCst) {
                return Err(ehrchain::Error::RpcUnreachable {
                    reason: "down".into(),
                });
            }
            Ok(())
        }

        fn revoke(&self) {
            self.revoked.store(true, Ordering::SeqCst);
            self.block.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl ChainView for Registry {
        fn block_number(&self) -> ehrchain::Result<u64> {
            self.head_reads.fetch_add(1, Ordering::SeqCst);
            self.pause()?;
            let reported = *self.reported.lock().unwrap();
            Ok(reported.unwrap_or_else(|| self.block.load(Ordering::SeqCst)))
        }

        fn record_status_at(&self, _eh: &[u8; 32], block: u64) -> ehrchain::Result<RecordStatus> {
            self.record_reads.fetch_add(1, Ordering::SeqCst);
            self.asked_blocks.lock().unwrap().push(block);
            self.pause()?;
            Ok(RecordStatus {
                anchored: true,
                anchored_by: Address([1; 20]),
                serial: 7,
                anchored_at: 1,
                commitment: [0; 32],
                record_time: 1,
                deleted: false,
                deleted_at: 0,
            })
        }

        fn certificate_status_at(
            &self,
            _serial: u64,
            block: u64,
        ) -> ehrchain::Result<CertificateStatus> {
            self.cert_reads.fetch_add(1, Ordering::SeqCst);
            self.asked_blocks.lock().unwrap().push(block);
            self.pause()?;
            Ok(CertificateStatus {
                doctor: Address([1; 20]),
                valid_from: 0,
                valid_until: u64::MAX,
                revoked: self.revoked.load(Ordering::SeqCst),
                revoked_at: 5,
            })
        }
    }

    fn state(head_max_age_ms: u64, max_lag_ms: u64) -> (Arc<Registry>, Arc<ChainState>) {
        let registry = Arc::new(Registry::default());
        registry.block.store(10, Ordering::SeqCst);
        let state = ChainState::new(
            registry.clone(),
            Freshness {
                head_max_age: Duration::from_millis(head_max_age_ms),
                max_lag: Duration::from_millis(max_lag_ms),
            },
        );
        (registry, Arc::new(state))
    }

    #[test]
    fn a_revocation_is_seen_from_the_block_that_contains_it() {
        let (registry, chain) = state(0, 10_000);
        assert!(!chain.certificate_status(7).unwrap().revoked);
        assert!(!chain.certificate_status(7).unwrap().revoked);
        assert_eq!(
            registry.cert_reads.load(Ordering::SeqCst),
            1,
            "cached within the block"
        );
        registry.revoke();
        assert!(
            chain.certificate_status(7).unwrap().revoked,
            "the decision at the next block sees the revocation"
        );
        assert_eq!(registry.cert_reads.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn concurrent_decisions_read_each_key_once_per_block() {
        let (registry, chain) = state(0, 10_000);
        *registry.delay.lock().unwrap() = Duration::from_millis(30);
        let run = |chain: &Arc<ChainState>| {
            let threads: Vec<_> = (0..32)
                .map(|_| {
                    let chain = chain.clone();
                    std::thread::spawn(move || {
                        chain.certificate_status(7).unwrap();
                        chain.certified_anchor(&[3; 32]).unwrap();
                    })
                })
                .collect();
            for t in threads {
                t.join().unwrap();
            }
        };
        run(&chain);
        assert_eq!(
            registry.cert_reads.load(Ordering::SeqCst),
            1,
            "one certificate read"
        );
        assert_eq!(
            registry.record_reads.load(Ordering::SeqCst),
            1,
            "one record read"
        );
        let heads = registry.head_reads.load(Ordering::SeqCst);
        assert!(
            heads <= 8,
            "32 × 3 head lookups shared {heads} block-number reads"
        );
        registry.revoke();
        run(&chain);
        assert_eq!(
            registry.cert_reads.load(Ordering::SeqCst),
            2,
            "one more at the new block"
        );
        assert_eq!(registry.record_reads.load(Ordering::SeqCst), 2);
        let hits = chain.stats().cache_hits.load(Ordering::Relaxed);
        assert_eq!(hits, 2 * (32 * 3) - 4, "every other lookup shared a read");
    }

    #[test]
    fn a_recent_head_is_reused_within_its_max_age() {
        let (registry, chain) = state(60_000, 10_000);
        chain.certificate_status(7).unwrap();
        registry.revoke();
        assert!(
            !chain.certificate_status(7).unwrap().revoked,
            "within head_max_age the decision is made at the head already read"
        );
        assert_eq!(registry.head_reads.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn an_unreachable_chain_is_refused_beyond_the_bound() {
        let (registry, chain) = state(0, 200);
        chain.certificate_status(7).unwrap();
        registry.down.store(true, Ordering::SeqCst);
        assert!(
            chain.certificate_status(7).is_ok(),
            "within the bound: the last block, from the cache"
        );
        assert!(
            matches!(
                chain.record_status(&[1; 32]),
                Err(ehrchain::Error::RpcUnreachable { .. })
            ),
            "nothing cached: refused as the chain is"
        );
        std::thread::sleep(Duration::from_millis(250));
        assert!(matches!(
            chain.certificate_status(7),
            Err(ehrchain::Error::RpcUnreachable { .. })
        ));
        registry.down.store(false, Ordering::SeqCst);
        assert!(
            chain.certificate_status(7).is_ok(),
            "back once the chain answers"
        );
    }

    #[test]
    fn with_no_lag_allowed_an_unreachable_chain_is_refused_at_once() {
        let (registry, chain) = state(0, 0);
        chain.certificate_status(7).unwrap();
        registry.down.store(true, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(2));
        assert!(matches!(
            chain.certificate_status(7),
            Err(ehrchain::Error::RpcUnreachable { .. })
        ));
    }

    #[test]
    fn a_lookup_never_uses_a_block_older_than_the_newest_seen() {
        let (registry, chain) = state(0, 10_000);
        let decided_at = chain.head().unwrap();
        assert!(!chain.certificate_status_at(7, decided_at).unwrap().revoked);
        registry.revoke();
        assert_eq!(
            chain.head().unwrap(),
            decided_at + 1,
            "another decision saw the revocation"
        );
        assert!(
            chain.certificate_status_at(7, decided_at).unwrap().revoked,
            "a decision begun earlier now reads at the newer block"
        );
    }

    #[test]
    fn a_lagging_node_does_not_roll_the_state_back() {
        let (registry, chain) = state(0, 10_000);
        assert!(!chain.certificate_status(7).unwrap().revoked);
        registry.revoke();
        assert!(
            chain.certificate_status(7).unwrap().revoked,
            "read at block 11"
        );
        *registry.reported.lock().unwrap() = Some(10);
        assert_eq!(chain.head().unwrap(), 11, "the head never goes back");
        assert!(
            chain.certificate_status(7).unwrap().revoked,
            "the newer entry answers the older block number"
        );
        chain.record_status(&[2; 32]).unwrap();
        let asked = registry.asked_blocks.lock().unwrap().clone();
        assert_eq!(
            asked,
            vec![10, 11, 11],
            "reads ask for the highest block seen"
        );
    }
}
