//! The [`MetaStore`] contract (`common/meta_contract.rs`) run against every
//! backend, one test per backend and property (`sqlite::…`,
//! `postgres::…`), then what only PostgreSQL raises: migrations, two
//! instances on one database (two stores on it standing for two servers),
//! the PostgreSQL audit trail. PostgreSQL is a throwaway cluster started by
//! this binary, with a fresh database per test.
#![allow(
    clippy::unwrap_used,
    clippy::unwrap_in_result,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation
)]

#[path = "common/meta_contract.rs"]
mod meta_contract;
#[path = "common/postgres.rs"]
mod pg_cluster;

use std::sync::{Arc, Barrier};

use ehrchain_server::audit::{verify_postgres, AuditEvent, AuditLog, DecisionWrite};
use ehrchain_server::store::postgres::{PgMetaStore, PgPool};
use ehrchain_server::store::sqlite::SqliteMetaStore;
use ehrchain_server::store::{MetaStore, StoreError};
use meta_contract::MetaBackend;

/// Expands to a module `$backend` with one `#[test]` per contract
/// property, each on a fresh backend made by `$open`.
macro_rules! contract_tests {
    ($backend:ident, $open:ident) => {
        contract_tests!(@each $backend, $open, [
            an_owner_gets_at_most_its_open_uploads_and_bytes,
            the_server_holds_at_most_its_total_open_uploads_and_bytes,
            concurrent_upload_creations_never_overshoot_the_bounds,
            index_needs_a_record_and_x_is_unique_and_retiring_removes_everything,
            a_record_without_a_filing_commitment_round_trips,
            finishing_an_upload_removed_meanwhile_commits_nothing,
            a_nonce_is_used_once_until_it_expires_and_purge_drops_expired_rows,
            concurrent_nonces_share_transactions_and_each_is_accepted_exactly_once,
            a_token_for_a_missing_record_fails_only_its_own_caller,
            a_token_is_stored_with_a_fresh_nonce_and_never_with_a_replay,
            a_lease_is_refused_to_another_holder_until_it_expires,
        ]);
    };
    (@each $backend:ident, $open:ident, [$($property:ident),* $(,)?]) => {
        mod $backend {
            $(
                #[test]
                fn $property() {
                    crate::meta_contract::$property(&super::$open());
                }
            )*
        }
    };
}

/// SQLite in a temporary directory.
struct Sqlite {
    store: Arc<SqliteMetaStore>,
    _dir: tempfile::TempDir,
}

impl MetaBackend for Sqlite {
    fn store(&self) -> Arc<dyn MetaStore> {
        self.store.clone()
    }
    fn group_commits(&self) -> u64 {
        self.store.group_commits()
    }
}

fn fresh_sqlite() -> Sqlite {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteMetaStore::open(&dir.path().join("meta.sqlite")).unwrap();
    Sqlite {
        store: Arc::new(store),
        _dir: dir,
    }
}

/// PostgreSQL on a fresh database of the shared cluster.
struct Postgres(Arc<PgMetaStore>);

impl MetaBackend for Postgres {
    fn store(&self) -> Arc<dyn MetaStore> {
        self.0.clone()
    }
    fn group_commits(&self) -> u64 {
        self.0.group_commits()
    }
}

fn fresh_postgres() -> Postgres {
    Postgres(Arc::new(fresh().1))
}

contract_tests!(sqlite, fresh_sqlite);
contract_tests!(postgres, fresh_postgres);

/// A store on a fresh database, and the database's URL (for more instances).
fn fresh() -> (String, PgMetaStore) {
    let url = pg_cluster::shared().database();
    let store = PgMetaStore::connect(&url, 8).unwrap();
    (url, store)
}

/// Two instances on one fresh database, each with a pool of `pool_size`.
fn two_instances(pool_size: usize) -> [Arc<dyn MetaStore>; 2] {
    let (url, a) = fresh();
    let b = PgMetaStore::connect(&url, pool_size).unwrap();
    [Arc::new(a), Arc::new(b)]
}

fn event(code: &'static str) -> AuditEvent {
    AuditEvent {
        event: "access",
        decision: "refused",
        code,
        ..AuditEvent::default()
    }
}

#[test]
fn migrations_are_recorded_once_and_reconnecting_applies_nothing_again() {
    let (url, m) = fresh();
    assert_eq!(m.pool().schema_versions().unwrap(), vec![1, 2]);
    m.consume_nonce(&[1; 32], 100).unwrap();
    drop(m);
    let again = PgMetaStore::connect(&url, 2).unwrap();
    assert_eq!(again.pool().schema_versions().unwrap(), vec![1, 2]);
    assert!(!again.consume_nonce(&[1; 32], 100).unwrap(), "data kept");
}

#[test]
fn instances_starting_at_once_on_a_fresh_database_migrate_it_once() {
    let url = pg_cluster::shared().database();
    let start = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (url, start) = (url.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                PgMetaStore::connect(&url, 1)
            })
        })
        .collect();
    for t in threads {
        let m = t.join().unwrap().unwrap();
        assert_eq!(m.pool().schema_versions().unwrap(), vec![1, 2]);
    }
}

#[test]
fn a_database_with_a_newer_schema_is_refused() {
    let (url, m) = fresh();
    drop(m);
    // A newer server recorded a migration this one does not know.
    execute(&url, "INSERT INTO schema_migrations (version) VALUES (99)");
    let err = PgMetaStore::connect(&url, 1).unwrap_err();
    assert!(err.to_string().contains("newer than this server"), "{err}");
}

/// Runs `f` with a connection of its own to the database at `url`.
fn with_client<T>(url: &str, f: impl AsyncFnOnce(&tokio_postgres::Client) -> T) -> T {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        let driver = tokio::spawn(conn);
        let out = f(&client).await;
        drop(client);
        let _ = driver.await;
        out
    })
}

/// Runs one SQL statement on the database at `url` (test set-up only).
fn execute(url: &str, sql: &str) {
    with_client(url, async |client| client.batch_execute(sql).await.unwrap());
}

#[test]
fn errors_never_reveal_the_database_password() {
    // Nothing listens on port 1.
    let err = PgMetaStore::connect("postgres://ehr:s3cret-pw@127.0.0.1:1/ehr", 1).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(matches!(err, StoreError::Db(_)), "{text}");
    assert!(!text.contains("s3cret-pw"), "{text}");
    let err =
        PgMetaStore::connect("postgres://ehr:s3cret-pw@127.0.0.1:notaport/ehr", 1).unwrap_err();
    assert!(!format!("{err} {err:?}").contains("s3cret-pw"), "{err}");
}

#[test]
fn concurrent_upload_creations_on_two_instances_never_overshoot_the_bounds() {
    let [a, b] = two_instances(8);
    meta_contract::concurrent_upload_creations_never_overshoot_the_bounds_between(&a, &b);
}

#[test]
fn a_nonce_consumed_on_one_instance_is_a_replay_on_the_other() {
    let [a, b] = two_instances(8);
    assert!(a.consume_nonce(&[1; 32], 100).unwrap());
    assert!(!b.consume_nonce(&[1; 32], 100).unwrap(), "replay on b");
    // Concurrently: 32 nonces, each consumed once on each instance at once.
    meta_contract::each_of_32_nonces_consumed_twice_at_once_is_accepted_once_between(&a, &b, 100);
}

#[test]
fn a_lease_is_refused_to_another_instance_until_it_expires() {
    let [a, b] = two_instances(2);
    meta_contract::a_lease_is_refused_to_another_holder_until_it_expires_between(&*a, &*b);
}

#[test]
fn concurrent_lease_attempts_grant_it_to_exactly_one_instance() {
    let stores = two_instances(4);
    let start = Arc::new(Barrier::new(16));
    let threads: Vec<_> = (0..16usize)
        .map(|i| {
            let (m, start) = (stores[i % 2].clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                m.try_lease("sweep", &format!("holder-{i}"), 100, 30)
                    .unwrap()
            })
        })
        .collect();
    let granted = threads
        .into_iter()
        .map(|t| t.join().unwrap())
        .filter(|g| *g)
        .count();
    assert_eq!(granted, 1);
}

/// A server instance (test settings, files under `dir`) on a fresh
/// PostgreSQL database, and that database's store.
fn instance_on_fresh_postgres(
    dir: &std::path::Path,
) -> (ehrchain_server::AppState, Arc<PgMetaStore>) {
    use ehrchain_server::store::fs::FsBlobStore;
    let meta = Arc::new(fresh().1);
    let settings = ehrchain_server::Settings::for_tests(dir.to_path_buf()).unwrap();
    let (audit, _) = AuditLog::open(&dir.join("audit.log")).unwrap();
    let state = ehrchain_server::AppState::new(
        settings,
        meta.clone(),
        Arc::new(FsBlobStore::open(&dir.join("blobs")).unwrap()),
        None,
        Arc::new(audit),
    );
    (state, meta)
}

#[test]
fn a_sweep_runs_only_on_the_instance_holding_the_lease() {
    let dir = tempfile::tempdir().unwrap();
    let (state, meta) = instance_on_fresh_postgres(dir.path());
    let ttl = ehrchain_server::tasks::lease_ttl(state.settings.sweep_interval);
    meta.consume_nonce(&[1; 32], 50).unwrap();
    // Another instance holds the lease: this one skips, and purges nothing.
    assert!(meta
        .try_lease("sweep", "another-instance", 100, ttl)
        .unwrap());
    let r = ehrchain_server::tasks::sweep(&state, 100).unwrap();
    assert!(r.skipped);
    assert_eq!(r.expired_rows, 0);
    // Once that lease expires, this instance takes it and sweeps.
    let r = ehrchain_server::tasks::sweep(&state, 100 + ttl).unwrap();
    assert!(!r.skipped);
    assert_eq!(r.expired_rows, 1);
    assert!(
        !meta
            .try_lease("sweep", "another-instance", 101 + ttl, ttl)
            .unwrap(),
        "held by this instance now"
    );
}

#[test]
fn a_sweep_leaves_an_expired_upload_another_instance_is_completing() {
    use ehrchain_server::tasks::upload_lease;
    let dir = tempfile::tempdir().unwrap();
    let (state, meta) = instance_on_fresh_postgres(dir.path());
    let after_ttl = 5 + state.settings.upload_ttl.as_secs() + 1;
    let lease_secs = state.settings.upload_lease.as_secs();
    // Two uploads created at 5, both past their TTL; another instance is
    // completing the first (it holds the upload's lease).
    let busy = meta_contract::upload_of("ip:127.0.0.1", 1, 10);
    let idle = meta_contract::upload_of("ip:127.0.0.1", 2, 10);
    for u in [&busy, &idle] {
        meta.create_upload(u, &meta_contract::NO_BOUNDS).unwrap();
    }
    let lease = upload_lease(&busy.id);
    assert!(meta
        .try_lease(&lease, "another-instance/complete", after_ttl, lease_secs)
        .unwrap());
    let r = ehrchain_server::tasks::sweep(&state, after_ttl).unwrap();
    assert_eq!(r.uploads_expired, 1, "only the idle upload expires");
    assert!(
        meta.upload(&busy.id).unwrap().is_some(),
        "the one being completed stays"
    );
    assert!(meta.upload(&idle.id).unwrap().is_none());
    // Its completion ends (the lease is given up): the next sweep expires it.
    meta.release_lease(&lease, "another-instance/complete")
        .unwrap();
    let r = ehrchain_server::tasks::sweep(&state, after_ttl + 1).unwrap();
    assert_eq!(r.uploads_expired, 1);
    assert!(meta.upload(&busy.id).unwrap().is_none());
    // The sweep gave up the lease it took to expire it.
    assert!(meta
        .try_lease(&lease, "another-instance/abort", after_ttl + 2, lease_secs)
        .unwrap());
}

/// Two audit trails on one fresh database (two instances, the first on
/// the store's pool), the store, and the database's URL.
fn two_trails(pool_size: usize) -> (String, PgMetaStore, [Arc<AuditLog>; 2]) {
    let (url, m) = fresh();
    let other = PgPool::connect(&url, pool_size).unwrap();
    let logs = [
        Arc::new(AuditLog::postgres(m.pool().clone()).unwrap()),
        Arc::new(AuditLog::postgres(other).unwrap()),
    ];
    (url, m, logs)
}

/// `f(trail, i)` for `n` callers released at once, alternately on the two
/// trails; their results in order.
fn at_once<T: Send + 'static>(
    logs: &[Arc<AuditLog>; 2],
    n: u64,
    f: fn(&AuditLog, u64) -> T,
) -> Vec<T> {
    let start = Arc::new(Barrier::new(n as usize));
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (log, start) = (logs[(i % 2) as usize].clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                f(&log, i)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn concurrent_audit_appends_from_two_instances_form_one_chain_that_verifies() {
    let (_, m, logs) = two_trails(4);
    for appended in at_once(&logs, 64, |log, i| log.append(&event("Ok"), i)) {
        appended.unwrap();
    }
    let v = verify_postgres(m.pool()).unwrap();
    assert!(v.ok(), "{v:?}");
    assert_eq!(v.entries, 64, "every entry present, no fork");
    let syncs = logs[0].syncs() + logs[1].syncs();
    assert!(syncs < 64, "{syncs} commits for 64 entries");
    // Both instances continue the one chain.
    logs[0].append(&event("A"), 100).unwrap();
    logs[1].append(&event("B"), 101).unwrap();
    let v = verify_postgres(m.pool()).unwrap();
    assert!(v.ok(), "{v:?}");
    assert_eq!(v.entries, 66);
    assert_eq!(logs[1].head(), (v.head.clone(), 66));
    // A reopened trail continues from the stored head.
    let reopened = AuditLog::postgres(m.pool().clone()).unwrap();
    assert_eq!(reopened.head(), (v.head, 66));
}

#[test]
fn postgres_audit_lines_are_the_same_bytes_as_the_file_backend() {
    let (_, m) = fresh();
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = AuditLog::open(&dir.path().join("audit.log")).unwrap();
    let pg = AuditLog::postgres(m.pool().clone()).unwrap();
    let e = AuditEvent {
        event: "access",
        decision: "granted",
        code: "Ok",
        doctor: Some("0xabc".into()),
        serial: Some(7),
        x: Some([1; 32]),
        eh: Some([2; 32]),
        client: Some("127.0.0.1".parse().unwrap()),
    };
    for t in 0..3 {
        file.append(&e, t).unwrap();
        pg.append(&e, t).unwrap();
    }
    assert_eq!(file.head(), pg.head(), "same lines, same chain head");
    assert_eq!(verify_postgres(m.pool()).unwrap().head, file.head().0);
}

#[test]
fn an_altered_or_truncated_postgres_trail_is_reported() {
    let (url, m) = fresh();
    let log = AuditLog::postgres(m.pool().clone()).unwrap();
    for code in ["A", "B", "C", "D"] {
        log.append(&event(code), 1).unwrap();
    }
    assert!(verify_postgres(m.pool()).unwrap().ok());
    execute(
        &url,
        "UPDATE audit SET line = convert_to(replace(convert_from(line, 'UTF8'), '\"B\"', '\"X\"'), 'UTF8') WHERE seq = 1",
    );
    let v = verify_postgres(m.pool()).unwrap();
    assert_eq!(v.entries, 2);
    let bad = v.first_bad.unwrap();
    assert_eq!((bad.line, bad.seq), (3, Some(2)));
    // Entries cut from the end: the head row still counts them.
    let (url2, m2) = fresh();
    let log2 = AuditLog::postgres(m2.pool().clone()).unwrap();
    for code in ["A", "B", "C"] {
        log2.append(&event(code), 1).unwrap();
    }
    execute(&url2, "DELETE FROM audit WHERE seq = 2");
    let v = verify_postgres(m2.pool()).unwrap();
    assert_eq!(v.entries, 2);
    let bad = v.first_bad.unwrap();
    assert_eq!(bad.seq, Some(2), "{bad:?}");
}

/// The lines of the audit trail at `url`, in order.
fn audit_lines(url: &str) -> Vec<serde_json::Value> {
    with_client(url, async |client| {
        let rows = client
            .query("SELECT line FROM audit ORDER BY seq", &[])
            .await
            .unwrap();
        rows.iter()
            .map(|r| serde_json::from_slice(r.get::<_, &[u8]>(0)).unwrap())
            .collect()
    })
}

/// A granted decision's entry (as the access handler makes it).
fn granted(eh: [u8; 32]) -> AuditEvent {
    AuditEvent {
        event: "access",
        decision: "granted",
        code: "Ok",
        doctor: Some("0xd0c".into()),
        eh: Some(eh),
        ..AuditEvent::default()
    }
}

fn decision(nonce: u8, token: Option<(u8, [u8; 32])>) -> DecisionWrite {
    DecisionWrite {
        nonce_key: [nonce; 32],
        expiry: 100,
        token: token.map(|(t, eh)| ([t; 32], eh)),
        error_code: "Internal",
    }
}

/// A record `eh` in `m` (a token needs one).
fn stored_record(m: &PgMetaStore, eh: [u8; 32]) {
    use ehrchain_server::store::{Admission, Record, Upload};
    let up = Upload {
        eh,
        ..meta_contract::upload_of("ip:127.0.0.1", eh[0], 10)
    };
    let admitted = m.create_upload(&up, &meta_contract::NO_BOUNDS).unwrap();
    assert_eq!(admitted, Admission::Admitted);
    let record = Record {
        eh,
        size: 10,
        created_at: 2,
        filing: None,
    };
    m.finish_upload(&up.id, &record).unwrap();
}

#[test]
fn a_decision_commits_its_nonce_its_token_and_its_entry_in_one_transaction() {
    let (url, m) = fresh();
    let log = AuditLog::postgres(m.pool().clone()).unwrap();
    assert!(log.shares_database(Some(m.pool())));
    let eh = [6; 32];
    stored_record(&m, eh);
    let before = m.group_commits();
    // Fresh: nonce, token and the entry as given, in the trail's commit.
    assert_eq!(
        log.append_decision(&granted(eh), 10, decision(1, Some((11, eh))))
            .unwrap(),
        Ok(true)
    );
    assert_eq!(m.token(&[11; 32]).unwrap(), Some((eh, 100)));
    assert!(
        !m.consume_nonce(&[1; 32], 100).unwrap(),
        "the nonce is used"
    );
    assert_eq!(
        m.group_commits(),
        before + 1,
        "only the check above committed in the store"
    );
    assert_eq!(log.syncs(), 1, "one commit for the decision and its entry");
    // The same nonce again: a replay, no token, chained as a refusal.
    assert_eq!(
        log.append_decision(&granted(eh), 11, decision(1, Some((12, eh))))
            .unwrap(),
        Ok(false)
    );
    assert_eq!(m.token(&[12; 32]).unwrap(), None);
    // A token for a record that is gone: the caller's own error.
    let missing = log
        .append_decision(&granted([9; 32]), 12, decision(2, Some((13, [9; 32]))))
        .unwrap();
    assert!(missing.unwrap_err().contains("token not stored"));
    let lines = audit_lines(&url);
    let fields: Vec<_> = lines
        .iter()
        .map(|l| {
            (
                l["decision"].as_str().unwrap(),
                l["code"].as_str().unwrap(),
                l["eh"].is_null(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        [
            ("granted", "Ok", false),
            ("refused", "Replay", true),
            ("refused", "Internal", true)
        ]
    );
    assert_eq!(lines[0]["eh"], format!("0x{}", hex::encode(eh)));
    let v = verify_postgres(m.pool()).unwrap();
    assert!(v.ok() && v.entries == 3, "{v:?}");
    assert_eq!(log.head(), (v.head, 3));
}

#[test]
fn a_failed_decision_transaction_consumes_no_nonce_and_writes_no_entry() {
    let (url, m) = fresh();
    let log = AuditLog::postgres(m.pool().clone()).unwrap();
    // The head row gone: the transaction fails after inserting the nonce.
    execute(&url, "DELETE FROM audit_head");
    let err = log
        .append_decision(&granted([6; 32]), 1, decision(1, None))
        .unwrap_err();
    assert!(err.to_string().contains("audit_head has no row"), "{err}");
    assert!(audit_lines(&url).is_empty());
    assert!(
        m.consume_nonce(&[1; 32], 100).unwrap(),
        "the nonce was rolled back with the entry"
    );
}

#[test]
fn one_nonce_decided_at_once_on_two_instances_is_granted_once_and_every_decision_is_on_record() {
    let (url, m, logs) = two_trails(8);
    let fresh: usize = at_once(&logs, 32, |log, i| {
        // Nonce 1 for every fourth caller, its own for the others.
        let nonce = if i % 4 == 0 { 1 } else { 2 + i as u8 };
        log.append_decision(&granted([6; 32]), i, decision(nonce, None))
            .unwrap()
            .unwrap()
    })
    .into_iter()
    .map(usize::from)
    .sum();
    assert_eq!(
        fresh,
        32 - 8 + 1,
        "nonce 1 granted to exactly one of its 8 callers"
    );
    let lines = audit_lines(&url);
    assert_eq!(lines.len(), 32);
    let replays = lines.iter().filter(|l| l["code"] == "Replay").count();
    assert_eq!(replays, 7);
    let v = verify_postgres(m.pool()).unwrap();
    assert!(v.ok() && v.entries == 32, "{v:?}");
    assert!(
        logs[0].syncs() + logs[1].syncs() < 32,
        "decisions shared commits"
    );
}

#[test]
fn a_decision_goes_with_its_entry_only_into_the_stores_own_database() {
    let (url, m) = fresh();
    let other = PgPool::connect(&url, 2).unwrap();
    assert!(
        !AuditLog::postgres(other)
            .unwrap()
            .shares_database(Some(m.pool())),
        "another pool, even on the same database, is not assumed to be the store's"
    );
    let log = AuditLog::postgres(m.pool().clone()).unwrap();
    assert!(!log.shares_database(None));
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = AuditLog::open(&dir.path().join("audit.log")).unwrap();
    assert!(!file.shares_database(Some(m.pool())));
    let err = file
        .append_decision(&granted([6; 32]), 1, decision(1, None))
        .unwrap_err();
    assert!(err.to_string().contains("only in PostgreSQL"), "{err}");
    assert!(m.consume_nonce(&[1; 32], 100).unwrap(), "nothing consumed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stores_work_from_the_servers_blocking_pool_and_drop_inside_async_code() {
    use ehrchain_server::store::fs::FsBlobStore;
    let url = pg_cluster::shared().database();
    let dir = tempfile::tempdir().unwrap();
    let settings = ehrchain_server::Settings::for_tests(dir.path().to_path_buf()).unwrap();
    let blobs = Arc::new(FsBlobStore::open(&dir.path().join("blobs")).unwrap());
    // As the server opens its state: on the blocking pool.
    let (meta, audit) = tokio::task::spawn_blocking(move || {
        let meta = PgMetaStore::connect(&url, 4).unwrap();
        let audit = AuditLog::postgres(meta.pool().clone()).unwrap();
        (Arc::new(meta), Arc::new(audit))
    })
    .await
    .unwrap();
    let state = ehrchain_server::AppState::new(settings, meta, blobs, None, audit);
    let fresh = state
        .blocking(|s| Ok(s.meta.consume_nonce(&[1; 32], 100)?))
        .await
        .unwrap();
    assert!(fresh);
    state.audit(event("Ok")).await.unwrap();
    assert_eq!(state.audit.head().1, 1, "head() reads no database");
    // The last references go here, inside an async task.
    drop(state);
}
