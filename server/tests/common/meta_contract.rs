//! The behavioural contract of [`MetaStore`], written once and run by
//! `tests/meta_store.rs` against every backend (SQLite and PostgreSQL): one
//! function per property, each taking a fresh backend.
//!
//! The helpers that take two handles (`*_between`) are also what the
//! PostgreSQL-only tests run with two instances on one database; the
//! contract runs them with the one store twice.

use std::sync::{Arc, Barrier};

use ehrchain_server::store::{
    Admission, IndexEntry, IndexInsert, MetaStore, Record, StoreError, Upload, UploadBounds,
    UploadId, STAFF_OWNER,
};

/// A metadata backend under test: a fresh, empty store (with whatever
/// keeps it alive) and what its group commit counts.
pub(crate) trait MetaBackend {
    /// The store.
    fn store(&self) -> Arc<dyn MetaStore>;
    /// Transactions that committed groups of nonces and tokens so far.
    fn group_commits(&self) -> u64;
}

pub(crate) const NO_BOUNDS: UploadBounds = UploadBounds {
    per_owner_uploads: 0,
    per_owner_bytes: 0,
    total_uploads: 0,
    total_bytes: 0,
};

/// An upload by `owner` of `size` bytes whose id and `eh` are all `id`.
pub(crate) fn upload_of(owner: &str, id: u8, size: u64) -> Upload {
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

pub(crate) fn an_owner_gets_at_most_its_open_uploads_and_bytes(b: &dyn MetaBackend) {
    let m = b.store();
    let bounds = UploadBounds {
        per_owner_uploads: 2,
        per_owner_bytes: 100,
        ..NO_BOUNDS
    };
    let create = |u: &Upload| m.create_upload(u, &bounds).unwrap();
    assert_eq!(create(&upload_of("ip:a", 1, 10)), Admission::Admitted);
    assert_eq!(create(&upload_of("ip:a", 2, 10)), Admission::Admitted);
    assert_eq!(
        create(&upload_of("ip:a", 3, 10)),
        Admission::OwnerFull,
        "third upload"
    );
    assert_eq!(create(&upload_of("ip:b", 4, 91)), Admission::Admitted);
    assert_eq!(
        create(&upload_of("ip:c", 5, 101)),
        Admission::OwnerFull,
        "bytes"
    );
    // The staff token is bounded only in total.
    for id in 6..10 {
        assert_eq!(
            create(&upload_of(STAFF_OWNER, id, 100)),
            Admission::Admitted
        );
    }
    // A forgotten upload no longer counts.
    m.delete_upload(&UploadId([1; 16])).unwrap();
    assert_eq!(create(&upload_of("ip:a", 3, 10)), Admission::Admitted);
    let stored = m.upload(&UploadId([3; 16])).unwrap().unwrap();
    assert_eq!(stored, upload_of("ip:a", 3, 10), "every field round-trips");
}

pub(crate) fn the_server_holds_at_most_its_total_open_uploads_and_bytes(b: &dyn MetaBackend) {
    let m = b.store();
    let bounds = UploadBounds {
        total_uploads: 2,
        total_bytes: 50,
        ..NO_BOUNDS
    };
    let create = |u: &Upload| m.create_upload(u, &bounds).unwrap();
    assert_eq!(create(&upload_of("ip:a", 1, 20)), Admission::Admitted);
    assert_eq!(
        create(&upload_of(STAFF_OWNER, 2, 31)),
        Admission::ServerFull,
        "bytes"
    );
    assert_eq!(create(&upload_of(STAFF_OWNER, 2, 30)), Admission::Admitted);
    assert_eq!(
        create(&upload_of("ip:b", 3, 1)),
        Admission::ServerFull,
        "count"
    );
    assert!(
        m.upload(&UploadId([3; 16])).unwrap().is_none(),
        "nothing filed"
    );
    assert_eq!(m.open_uploads().unwrap().len(), 2);
    assert_eq!(m.uploads_created_before(6, 10).unwrap().len(), 2);
    assert!(m.uploads_created_before(5, 10).unwrap().is_empty());
}

pub(crate) fn concurrent_upload_creations_never_overshoot_the_bounds(b: &dyn MetaBackend) {
    let m = b.store();
    concurrent_upload_creations_never_overshoot_the_bounds_between(&m, &m);
}

/// 40 creations at once, alternating between `first` and `second`, by 4
/// owners: each owner may hold 3, the server 10 (fewer than 4 × 3).
pub(crate) fn concurrent_upload_creations_never_overshoot_the_bounds_between(
    first: &Arc<dyn MetaStore>,
    second: &Arc<dyn MetaStore>,
) {
    let bounds = UploadBounds {
        per_owner_uploads: 3,
        per_owner_bytes: 0,
        total_uploads: 10,
        total_bytes: 0,
    };
    let start = Arc::new(Barrier::new(40));
    let threads: Vec<_> = (0..40u8)
        .map(|i| {
            let m = if i % 2 == 0 { first } else { second }.clone();
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                let owner = format!("ip:{}", i % 4);
                let admission = m.create_upload(&upload_of(&owner, i, 10), &bounds).unwrap();
                (owner, admission)
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
    assert_eq!(first.open_uploads().unwrap().len(), 10);
}

pub(crate) fn index_needs_a_record_and_x_is_unique_and_retiring_removes_everything(
    b: &dyn MetaBackend,
) {
    let m = b.store();
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
    assert_eq!(m.index(&[1; 32]).unwrap(), Some(e.clone()));
    assert_eq!(m.index(&[2; 32]).unwrap(), None);
    assert_eq!(m.filed(&[1; 32]).unwrap(), Some((e, Some(record))));
    assert_eq!(m.filed(&[2; 32]).unwrap(), None);
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
    assert_eq!(m.filed(&[1; 32]).unwrap(), None);
    assert_eq!(m.token(&[5; 32]).unwrap(), None, "token cascaded");
    assert_eq!(m.record(&[4; 32]).unwrap(), None);
    m.ping().unwrap();
}

pub(crate) fn a_record_without_a_filing_commitment_round_trips(b: &dyn MetaBackend) {
    let m = b.store();
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

pub(crate) fn finishing_an_upload_removed_meanwhile_commits_nothing(b: &dyn MetaBackend) {
    let m = b.store();
    let up = upload_of("ip:a", 1, 10);
    m.create_upload(&up, &NO_BOUNDS).unwrap();
    // Expired by a sweep or aborted while another instance was assembling it.
    m.delete_upload(&up.id).unwrap();
    let record = Record {
        eh: [6; 32],
        size: 10,
        created_at: 6,
        filing: Some([8; 32]),
    };
    assert!(matches!(
        m.finish_upload(&up.id, &record),
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        m.record(&[6; 32]).unwrap(),
        None,
        "the record row rolled back"
    );
    assert!(m.record_hashes().unwrap().is_empty());
}

pub(crate) fn a_nonce_is_used_once_until_it_expires_and_purge_drops_expired_rows(
    b: &dyn MetaBackend,
) {
    let m = b.store();
    assert!(m.consume_nonce(&[1; 32], 100).unwrap());
    assert!(!m.consume_nonce(&[1; 32], 100).unwrap());
    assert_eq!(m.purge_expired(99).unwrap(), 0);
    assert_eq!(m.purge_expired(100).unwrap(), 1);
    assert!(m.consume_nonce(&[1; 32], 200).unwrap());
}

pub(crate) fn concurrent_nonces_share_transactions_and_each_is_accepted_exactly_once(
    b: &dyn MetaBackend,
) {
    let m = b.store();
    each_of_32_nonces_consumed_twice_at_once_is_accepted_once_between(&m, &m, 0);
    let commits = b.group_commits();
    assert!(commits < 64, "{commits} commits for 64 nonces");
}

/// 32 distinct nonces (keys `[first_key + k; 32]`), each consumed at once
/// on `first` and on `second`: each is accepted exactly once.
pub(crate) fn each_of_32_nonces_consumed_twice_at_once_is_accepted_once_between(
    first: &Arc<dyn MetaStore>,
    second: &Arc<dyn MetaStore>,
    first_key: u8,
) {
    let start = Arc::new(Barrier::new(64));
    let threads: Vec<_> = (0..64u8)
        .map(|i| {
            let m = if i < 32 { first } else { second }.clone();
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                let key = [first_key + i % 32; 32];
                (i % 32, m.consume_nonce(&key, 100).unwrap())
            })
        })
        .collect();
    let mut accepted = [0u32; 32];
    for t in threads {
        let (k, new) = t.join().unwrap();
        accepted[usize::from(k)] += u32::from(new);
    }
    assert_eq!(accepted, [1; 32], "each nonce accepted exactly once");
}

/// A decision's one write: the token is stored only with a fresh nonce,
/// and a replay stores nothing.
pub(crate) fn a_token_is_stored_with_a_fresh_nonce_and_never_with_a_replay(b: &dyn MetaBackend) {
    let m = b.store();
    let up = Upload {
        id: UploadId([5; 16]),
        eh: [6; 32],
        ..upload_of("ip:127.0.0.1", 5, 10)
    };
    assert_eq!(
        m.create_upload(&up, &NO_BOUNDS).unwrap(),
        Admission::Admitted
    );
    let record = Record {
        eh: [6; 32],
        size: 10,
        created_at: 6,
        filing: Some([8; 32]),
    };
    m.finish_upload(&up.id, &record).unwrap();
    let eh = [6; 32];
    assert!(m
        .consume_nonce_with_token(&[1; 32], 100, Some((&[11; 32], &eh)))
        .unwrap());
    assert_eq!(m.token(&[11; 32]).unwrap(), Some((eh, 100)));
    assert!(
        !m.consume_nonce_with_token(&[1; 32], 100, Some((&[12; 32], &eh)))
            .unwrap(),
        "the same nonce again is a replay"
    );
    assert_eq!(m.token(&[12; 32]).unwrap(), None, "a replay gets no token");
    assert!(!m.consume_nonce(&[1; 32], 100).unwrap());
    // A refused decision consumes its nonce without a token.
    assert!(m.consume_nonce_with_token(&[2; 32], 100, None).unwrap());
    assert!(!m.consume_nonce(&[2; 32], 100).unwrap());
}

pub(crate) fn a_token_for_a_missing_record_fails_only_its_own_caller(b: &dyn MetaBackend) {
    let m = b.store();
    // A token for a record that does not exist violates its foreign key;
    // the nonce grouped with it still commits.
    let err = m.insert_token(&[1; 32], &[9; 32], 100).unwrap_err();
    assert!(matches!(err, StoreError::Db(_)), "{err:?}");
    assert!(
        m.consume_nonce(&[2; 32], 100).unwrap(),
        "the store still commits"
    );
    assert_eq!(m.token(&[1; 32]).unwrap(), None);
}

pub(crate) fn a_lease_is_refused_to_another_holder_until_it_expires(b: &dyn MetaBackend) {
    let m = b.store();
    a_lease_is_refused_to_another_holder_until_it_expires_between(&*m, &*m);
}

/// Holder `a` takes and renews the lease through `on_a`, holder `b`
/// tries through `on_b`.
pub(crate) fn a_lease_is_refused_to_another_holder_until_it_expires_between(
    on_a: &dyn MetaStore,
    on_b: &dyn MetaStore,
) {
    assert!(on_a.try_lease("sweep", "a", 100, 30).unwrap());
    assert!(!on_b.try_lease("sweep", "b", 101, 30).unwrap(), "held by a");
    assert!(on_a.try_lease("sweep", "a", 120, 30).unwrap(), "a renews");
    assert!(
        !on_b.try_lease("sweep", "b", 149, 30).unwrap(),
        "renewed to 150"
    );
    assert!(
        on_b.try_lease("other", "b", 149, 30).unwrap(),
        "leases are by name"
    );
    assert!(
        on_b.try_lease("sweep", "b", 150, 30).unwrap(),
        "expired: b takes it"
    );
    assert!(
        !on_a.try_lease("sweep", "a", 151, 30).unwrap(),
        "now held by b"
    );
    on_a.release_lease("sweep", "a").unwrap();
    assert!(
        !on_a.try_lease("sweep", "a", 152, 30).unwrap(),
        "a cannot give up b's lease"
    );
    on_b.release_lease("sweep", "b").unwrap();
    assert!(
        on_a.try_lease("sweep", "a", 152, 30).unwrap(),
        "given up by b: a takes it before it expires"
    );
}
