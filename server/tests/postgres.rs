//! `PgMetaStore` and the PostgreSQL audit trail against a real PostgreSQL
//! (a throwaway cluster started by this binary, a fresh database per test):
//! the same contract as the SQLite store's unit tests, plus what only a
//! database shared by several server instances raises (two stores on one
//! database standing for two servers).
#![allow(
    clippy::unwrap_used,
    clippy::unwrap_in_result,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation
)]

#[path = "common/postgres.rs"]
mod pg_cluster;

use std::sync::{Arc, Barrier};

use ehrchain_server::audit::{verify_postgres, AuditEvent, AuditLog};
use ehrchain_server::store::postgres::{PgMetaStore, PgPool};
use ehrchain_server::store::{
    Admission, IndexEntry, IndexInsert, MetaStore, Record, StoreError, Upload, UploadBounds,
    UploadId, STAFF_OWNER,
};

/// A store on a fresh database, and the database's URL (for more instances).
fn fresh() -> (String, PgMetaStore) {
    let url = pg_cluster::shared().database();
    let store = PgMetaStore::connect(&url, 8).unwrap();
    (url, store)
}

const NO_BOUNDS: UploadBounds = UploadBounds {
    per_owner_uploads: 0,
    per_owner_bytes: 0,
    total_uploads: 0,
    total_bytes: 0,
};

fn upload_of(owner: &str, id: u8, size: u64) -> Upload {
    Upload {
        id: UploadId([id; 16]),
        eh: [id; 32],
        size,
        part_size: 4,
        created_at: 5,
        filing: [8; 32],
        done: false,
        owner: owner.into(),
    }
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

/// Runs one SQL statement on the database at `url` (test set-up only).
fn execute(url: &str, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        let driver = tokio::spawn(conn);
        client.batch_execute(sql).await.unwrap();
        drop(client);
        let _ = driver.await;
    });
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
fn an_owner_gets_at_most_its_open_uploads_and_bytes() {
    let (_, m) = fresh();
    let b = UploadBounds {
        per_owner_uploads: 2,
        per_owner_bytes: 100,
        ..NO_BOUNDS
    };
    let create = |u: &Upload| m.create_upload(u, &b).unwrap();
    assert_eq!(create(&upload_of("ip:a", 1, 10)), Admission::Admitted);
    assert_eq!(create(&upload_of("ip:a", 2, 10)), Admission::Admitted);
    assert_eq!(create(&upload_of("ip:a", 3, 10)), Admission::OwnerFull);
    assert_eq!(create(&upload_of("ip:b", 4, 91)), Admission::Admitted);
    assert_eq!(create(&upload_of("ip:c", 5, 101)), Admission::OwnerFull);
    for id in 6..10 {
        assert_eq!(
            create(&upload_of(STAFF_OWNER, id, 100)),
            Admission::Admitted
        );
    }
    m.delete_upload(&UploadId([1; 16])).unwrap();
    assert_eq!(create(&upload_of("ip:a", 3, 10)), Admission::Admitted);
    let stored = m.upload(&UploadId([3; 16])).unwrap().unwrap();
    assert_eq!(stored, upload_of("ip:a", 3, 10), "every field round-trips");
}

#[test]
fn the_server_holds_at_most_its_total_open_uploads_and_bytes() {
    let (_, m) = fresh();
    let b = UploadBounds {
        total_uploads: 2,
        total_bytes: 50,
        ..NO_BOUNDS
    };
    let create = |u: &Upload| m.create_upload(u, &b).unwrap();
    assert_eq!(create(&upload_of("ip:a", 1, 20)), Admission::Admitted);
    assert_eq!(
        create(&upload_of(STAFF_OWNER, 2, 31)),
        Admission::ServerFull
    );
    assert_eq!(create(&upload_of(STAFF_OWNER, 2, 30)), Admission::Admitted);
    assert_eq!(create(&upload_of("ip:b", 3, 1)), Admission::ServerFull);
    assert!(m.upload(&UploadId([3; 16])).unwrap().is_none());
    assert_eq!(m.open_uploads().unwrap().len(), 2);
    assert_eq!(m.uploads_created_before(6, 10).unwrap().len(), 2);
    assert!(m.uploads_created_before(5, 10).unwrap().is_empty());
}

#[test]
fn concurrent_upload_creations_on_two_instances_never_overshoot_the_bounds() {
    let (url, a) = fresh();
    let b = PgMetaStore::connect(&url, 8).unwrap();
    let stores = [Arc::new(a), Arc::new(b)];
    let bounds = UploadBounds {
        per_owner_uploads: 3,
        per_owner_bytes: 0,
        total_uploads: 10,
        total_bytes: 0,
    };
    let start = Arc::new(Barrier::new(40));
    // 40 creations at once, alternating instances, by 4 owners: each owner
    // may hold 3, the server 10 (fewer than 4 × 3).
    let threads: Vec<_> = (0..40u8)
        .map(|i| {
            let (m, start) = (stores[usize::from(i % 2)].clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                let owner = format!("ip:{}", i % 4);
                (
                    owner.clone(),
                    m.create_upload(&upload_of(&owner, i, 10), &bounds).unwrap(),
                )
            })
        })
        .collect();
    let mut per_owner = std::collections::HashMap::<String, u64>::new();
    let mut admitted = 0;
    for t in threads {
        let (owner, admission) = t.join().unwrap();
        if admission == Admission::Admitted {
            admitted += 1;
            *per_owner.entry(owner).or_default() += 1;
        }
    }
    assert_eq!(admitted, 10, "exactly the server's bound: {per_owner:?}");
    assert!(per_owner.values().all(|n| *n <= 3), "{per_owner:?}");
    assert_eq!(stores[0].open_uploads().unwrap().len(), 10);
}

#[test]
fn index_needs_a_record_and_x_is_unique_and_retiring_removes_everything() {
    let (_, m) = fresh();
    let e = IndexEntry {
        x: [1; 32],
        z: [2; 32],
        k: vec![3; 16],
        eh: [4; 32],
    };
    assert_eq!(m.insert_index(&e, 10).unwrap(), IndexInsert::NoRecord);
    let up = Upload {
        id: UploadId([9; 16]),
        eh: [4; 32],
        ..upload_of("ip:127.0.0.1", 9, 10)
    };
    assert_eq!(
        m.create_upload(&up, &NO_BOUNDS).unwrap(),
        Admission::Admitted
    );
    assert_eq!(m.open_uploads().unwrap(), vec![up.id]);
    let record = Record {
        eh: [4; 32],
        size: 10,
        created_at: 6,
        filing: Some([8; 32]),
    };
    m.finish_upload(&up.id, &record).unwrap();
    assert_eq!(m.record(&[4; 32]).unwrap(), Some(record.clone()));
    m.finish_upload(&up.id, &record).unwrap();
    let takeover = Record {
        created_at: 7,
        filing: Some([9; 32]),
        ..record.clone()
    };
    assert!(matches!(
        m.finish_upload(&up.id, &takeover),
        Err(StoreError::FilingConflict)
    ));
    assert_eq!(m.record(&[4; 32]).unwrap().unwrap().filing, Some([8; 32]));
    assert!(m.open_uploads().unwrap().is_empty());
    assert!(m.upload(&up.id).unwrap().unwrap().done);
    assert_eq!(m.record_hashes().unwrap(), vec![[4; 32]]);
    assert_eq!(m.insert_index(&e, 10).unwrap(), IndexInsert::Created);
    assert_eq!(m.insert_index(&e, 11).unwrap(), IndexInsert::Unchanged);
    let other = IndexEntry {
        z: [7; 32],
        ..e.clone()
    };
    assert_eq!(m.insert_index(&other, 12).unwrap(), IndexInsert::Conflict);
    assert_eq!(m.index(&[1; 32]).unwrap(), Some(e));
    assert_eq!(m.index(&[2; 32]).unwrap(), None);
    m.insert_token(&[5; 32], &[4; 32], 100).unwrap();
    assert_eq!(m.token(&[5; 32]).unwrap(), Some(([4; 32], 100)));
    assert_eq!(m.records_created_before(7, 10).unwrap(), vec![[4; 32]]);
    assert!(m.records_created_before(6, 10).unwrap().is_empty());
    assert_eq!(m.records_after(None, 10).unwrap(), vec![[4; 32]]);
    assert!(m.records_after(Some(&[4; 32]), 10).unwrap().is_empty());
    assert!(!m.is_retired(&[4; 32]).unwrap());
    assert!(m.retire_record(&[4; 32], "retention", 20).unwrap());
    assert!(m.is_retired(&[4; 32]).unwrap());
    assert!(!m.retire_record(&[4; 32], "tombstone", 21).unwrap());
    assert_eq!(m.index(&[1; 32]).unwrap(), None, "index entry cascaded");
    assert_eq!(m.token(&[5; 32]).unwrap(), None, "token cascaded");
    assert_eq!(m.record(&[4; 32]).unwrap(), None);
    m.ping().unwrap();
}

#[test]
fn a_record_without_a_filing_commitment_round_trips() {
    let (_, m) = fresh();
    let up = upload_of("ip:a", 1, 10);
    m.create_upload(&up, &NO_BOUNDS).unwrap();
    let record = Record {
        eh: [1; 32],
        size: 10,
        created_at: 6,
        filing: None,
    };
    m.finish_upload(&up.id, &record).unwrap();
    assert_eq!(m.record(&[1; 32]).unwrap(), Some(record));
}

#[test]
fn a_nonce_is_used_once_until_it_expires_and_purge_drops_expired_rows() {
    let (_, m) = fresh();
    assert!(m.consume_nonce(&[1; 32], 100).unwrap());
    assert!(!m.consume_nonce(&[1; 32], 100).unwrap());
    assert_eq!(m.purge_expired(99).unwrap(), 0);
    assert_eq!(m.purge_expired(100).unwrap(), 1);
    assert!(m.consume_nonce(&[1; 32], 200).unwrap());
}

#[test]
fn concurrent_nonces_share_transactions_and_each_is_accepted_exactly_once() {
    let (_, m) = fresh();
    let m = Arc::new(m);
    let start = Arc::new(Barrier::new(64));
    let threads: Vec<_> = (0..64u8)
        .map(|i| {
            let (m, start) = (m.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                (i % 32, m.consume_nonce(&[i % 32; 32], 100).unwrap())
            })
        })
        .collect();
    let mut fresh = [0u32; 32];
    for t in threads {
        let (k, new) = t.join().unwrap();
        fresh[usize::from(k)] += u32::from(new);
    }
    assert_eq!(fresh, [1; 32], "each nonce accepted exactly once");
    assert!(m.group_commits() < 64, "{} commits", m.group_commits());
}

#[test]
fn a_nonce_consumed_on_one_instance_is_a_replay_on_the_other() {
    let (url, a) = fresh();
    let b = PgMetaStore::connect(&url, 8).unwrap();
    assert!(a.consume_nonce(&[1; 32], 100).unwrap());
    assert!(!b.consume_nonce(&[1; 32], 100).unwrap(), "replay on b");
    // Concurrently: 32 nonces, each consumed once on each instance at once.
    let stores = [Arc::new(a), Arc::new(b)];
    let start = Arc::new(Barrier::new(64));
    let threads: Vec<_> = (0..64u8)
        .map(|i| {
            let (m, start) = (stores[usize::from(i / 32)].clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                let key = [100 + i % 32; 32];
                (i % 32, m.consume_nonce(&key, 100).unwrap())
            })
        })
        .collect();
    let mut fresh = [0u32; 32];
    for t in threads {
        let (k, new) = t.join().unwrap();
        fresh[usize::from(k)] += u32::from(new);
    }
    assert_eq!(
        fresh, [1; 32],
        "each nonce accepted by exactly one instance"
    );
}

#[test]
fn a_token_for_a_missing_record_fails_only_its_own_caller() {
    let (_, m) = fresh();
    assert!(m.insert_token(&[1; 32], &[9; 32], 100).is_err());
    assert!(
        m.consume_nonce(&[2; 32], 100).unwrap(),
        "the store still commits"
    );
    assert_eq!(m.token(&[1; 32]).unwrap(), None);
}

#[test]
fn a_lease_is_refused_to_another_instance_until_it_expires() {
    let (url, a) = fresh();
    let b = PgMetaStore::connect(&url, 2).unwrap();
    assert!(a.try_lease("sweep", "a", 100, 30).unwrap());
    assert!(!b.try_lease("sweep", "b", 101, 30).unwrap(), "held by a");
    assert!(a.try_lease("sweep", "a", 120, 30).unwrap(), "a renews");
    assert!(
        !b.try_lease("sweep", "b", 149, 30).unwrap(),
        "renewed to 150"
    );
    assert!(
        b.try_lease("other", "b", 149, 30).unwrap(),
        "leases are by name"
    );
    assert!(
        b.try_lease("sweep", "b", 150, 30).unwrap(),
        "expired: b takes it"
    );
    assert!(
        !a.try_lease("sweep", "a", 151, 30).unwrap(),
        "now held by b"
    );
}

#[test]
fn concurrent_lease_attempts_grant_it_to_exactly_one_instance() {
    let (url, a) = fresh();
    let b = PgMetaStore::connect(&url, 4).unwrap();
    let stores = [Arc::new(a), Arc::new(b)];
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

#[test]
fn a_sweep_runs_only_on_the_instance_holding_the_lease() {
    use ehrchain_server::store::fs::FsBlobStore;
    let (_, m) = fresh();
    let dir = tempfile::tempdir().unwrap();
    let settings = ehrchain_server::Settings::for_tests(dir.path().to_path_buf()).unwrap();
    let ttl = ehrchain_server::tasks::lease_ttl(settings.sweep_interval);
    let meta = Arc::new(m);
    let (audit, _) = AuditLog::open(&dir.path().join("audit.log")).unwrap();
    let state = ehrchain_server::AppState::new(
        settings,
        meta.clone(),
        Arc::new(FsBlobStore::open(&dir.path().join("blobs")).unwrap()),
        None,
        Arc::new(audit),
    );
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
fn concurrent_audit_appends_from_two_instances_form_one_chain_that_verifies() {
    let (url, m) = fresh();
    let other = PgPool::connect(&url, 4).unwrap();
    let logs = [
        Arc::new(AuditLog::postgres(m.pool().clone()).unwrap()),
        Arc::new(AuditLog::postgres(other).unwrap()),
    ];
    let start = Arc::new(Barrier::new(64));
    let threads: Vec<_> = (0..64u64)
        .map(|i| {
            let (log, start) = (logs[(i % 2) as usize].clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                log.append(&event("Ok"), i)
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
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
