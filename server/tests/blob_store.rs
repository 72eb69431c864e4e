//! The [`BlobStore`] contract (`common/blob_contract.rs`) run against every
//! backend, one test per backend and property (`fs::…`, `s3::…`), then
//! what only S3 raises: multipart uploads, a bucket shared by two
//! instances, records as part copies and a manifest, prefixes, credentials,
//! and a large record. S3 is a real
//! S3-compatible server (`s3s-fs`) started by each test on a free loopback
//! port.
#![allow(
    clippy::unwrap_used,
    clippy::unwrap_in_result,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation
)]

#[path = "common/blob_contract.rs"]
mod blob_contract;
#[path = "common/bytes.rs"]
mod bytes;
#[path = "common/s3.rs"]
mod s3_server;

use std::io::Read;

use blob_contract::{put, read_all, store_record, BlobBackend, MIB};
use bytes::pseudo_random_bytes;
use ehrchain_server::store::fs::FsBlobStore;
use ehrchain_server::store::s3::{S3BlobStore, WRITE_CHUNK};
use ehrchain_server::store::sqlite::SqliteMetaStore;
use ehrchain_server::store::{recover, BlobStore, StoreError, UploadId};
use s3_server::S3sFs;

/// Expands to a module `$backend` with one `#[test]` per contract
/// property, each on a fresh backend made by `$open`.
macro_rules! contract_tests {
    ($backend:ident, $open:ident) => {
        contract_tests!(@each $backend, $open, [
            parts_assemble_into_a_record_only_if_the_hash_matches,
            a_missing_first_part_is_reported_as_missing,
            a_dropped_uncommitted_part_leaves_nothing,
            a_part_larger_than_one_write_chunk_commits_whole,
            resending_a_part_replaces_it,
            delete_removes_records_and_parts_and_absent_is_not_an_error,
            list_records_and_list_uploads_see_every_record_and_upload_with_parts,
            ranged_reads_via_seek_return_the_right_bytes,
            a_large_record_that_fails_its_hash_check_is_never_visible,
            recovery_keeps_a_fresh_orphan_within_the_grace_period_and_removes_an_old_one,
            recovery_without_a_grace_period_removes_every_orphan,
        ]);
    };
    (@each $backend:ident, $open:ident, [$($property:ident),* $(,)?]) => {
        mod $backend {
            $(
                #[test]
                fn $property() {
                    crate::blob_contract::$property(&super::$open());
                }
            )*
        }
    };
}

/// Files under a temporary directory.
struct Fs {
    store: FsBlobStore,
    _dir: tempfile::TempDir,
}

impl BlobBackend for Fs {
    fn store(&self) -> &dyn BlobStore {
        &self.store
    }
    fn assert_nothing_left_behind(&self) {
        assert_eq!(self.store.clean_temporary().unwrap(), 0, "temporary files");
    }
}

fn fresh_fs() -> Fs {
    let dir = tempfile::tempdir().unwrap();
    Fs {
        store: FsBlobStore::open(dir.path()).unwrap(),
        _dir: dir,
    }
}

/// A bucket on its own `s3s-fs`.
struct S3 {
    store: S3BlobStore,
    server: S3sFs,
}

impl BlobBackend for S3 {
    fn store(&self) -> &dyn BlobStore {
        &self.store
    }
    fn assert_nothing_left_behind(&self) {
        assert_eq!(self.store.clean_temporary().unwrap(), 0);
        assert_no_incomplete_multipart_upload(&self.server);
    }
}

fn fresh_s3() -> S3 {
    let server = server();
    S3 {
        store: store(&server),
        server,
    }
}

contract_tests!(fs, fresh_fs);
contract_tests!(s3, fresh_s3);

fn server() -> S3sFs {
    S3sFs::start().unwrap_or_else(|e| panic!("{e}"))
}

fn store(server: &S3sFs) -> S3BlobStore {
    S3BlobStore::open(&server.config("ehr/")).unwrap()
}

/// Waits (up to 10 s) until the server holds no part of an incomplete
/// multipart upload: writers abort theirs in the background when dropped.
fn assert_no_incomplete_multipart_upload(server: &S3sFs) {
    wait_until(
        || server.pending_multipart_parts() == 0,
        "no multipart part left behind",
    );
}

fn wait_until(condition: impl Fn() -> bool, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !condition() {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_part_dropped_while_streaming_aborts_its_multipart_upload() {
    let server = server();
    let store = store(&server);
    let id = UploadId([2; 16]);
    let mut w = store.part_writer(&id, 1).unwrap();
    for piece in pseudo_random_bytes(WRITE_CHUNK * 2 + MIB, 2).chunks(MIB) {
        w.write(piece).unwrap();
    }
    // Its first chunks are on the server, as parts of a multipart upload.
    wait_until(
        || server.pending_multipart_parts() > 0,
        "multipart parts sent",
    );
    drop(w);
    assert_no_incomplete_multipart_upload(&server);
    assert!(store.list_parts(&id).unwrap().is_empty());
    assert!(store.list_uploads().unwrap().is_empty());
}

#[test]
fn a_bucket_reports_its_free_bytes_as_unknown() {
    let server = server();
    assert_eq!(store(&server).free_bytes(), None);
}

#[test]
fn two_instances_on_one_bucket_share_parts_and_records() {
    let server = server();
    let first = store(&server);
    let second = store(&server);
    let id = UploadId([10; 16]);
    let data = pseudo_random_bytes(3 * MIB + 5, 10);
    for (n, chunk) in data.chunks(MIB).enumerate() {
        // Parts arrive at either instance (behind a load balancer).
        let at: &dyn BlobStore = if n % 2 == 0 { &first } else { &second };
        put(at, &id, n as u64, chunk);
    }
    assert_eq!(first.list_uploads().unwrap(), vec![id]);
    assert_eq!(second.list_parts(&id).unwrap(), vec![0, 1, 2, 3]);
    let eh = ehrchain::hash::sha256(&data);
    second.assemble(&id, 4, data.len() as u64, &eh).unwrap();
    assert_eq!(first.list_records().unwrap(), vec![eh]);
    assert!(read_all(&first, &eh) == data);
    first.delete_upload(&id).unwrap();
    assert!(second.list_uploads().unwrap().is_empty());
}

#[test]
fn a_part_resent_after_assembly_leaves_the_record_as_checked() {
    let server = server();
    let store = store(&server);
    let id = UploadId([16; 16]);
    let data = pseudo_random_bytes(3 * MIB + 7, 16);
    let eh = store_record(&store, &id, &data, MIB);
    // A re-send of part 1 that was in flight when the record was assembled
    // lands afterwards: the record is made of copies of what was hashed.
    put(&store, &id, 1, &vec![0u8; MIB]);
    assert!(read_all(&store, &eh) == data);
}

#[test]
fn copies_without_a_manifest_are_invisible_and_removed_as_an_orphan() {
    let server = server();
    let store = store(&server);
    let eh = [0x42u8; 32];
    // What an instance killed between copying the parts and writing the
    // manifest leaves behind.
    let copy = format!(
        "ehr/records/{}/{}/0000000000",
        hex::encode(eh),
        UploadId([17; 16]).to_hex()
    );
    server
        .write_object(&copy, b"copied, never checked")
        .unwrap();
    assert!(matches!(store.open_record(&eh), Err(StoreError::NotFound)));
    assert_eq!(store.list_records().unwrap(), vec![eh]);
    let written = store.record_modified(&eh).unwrap().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let meta = SqliteMetaStore::open(&dir.path().join("meta.sqlite")).unwrap();
    let kept = recover(&meta, &store, written + 5, 600).unwrap();
    assert_eq!(
        (kept.orphan_records_kept, kept.orphan_records_removed),
        (1, 0)
    );
    let removed = recover(&meta, &store, written + 601, 600).unwrap();
    assert_eq!(removed.orphan_records_removed, 1);
    assert!(store.list_records().unwrap().is_empty());
}

#[test]
fn a_damaged_or_unknown_manifest_is_an_error_naming_the_record() {
    let server = server();
    let store = store(&server);
    for (n, manifest) in [
        &b"{not json"[..],
        br#"{"version":2,"upload":"11111111111111111111111111111111","parts":[4]}"#,
        br#"{"version":1,"upload":"not an upload id","parts":[4]}"#,
    ]
    .into_iter()
    .enumerate()
    {
        let eh = [n as u8; 32];
        server
            .write_object(
                &format!("ehr/records/{}/manifest", hex::encode(eh)),
                manifest,
            )
            .unwrap();
        let err = store.open_record(&eh).err().expect("refused");
        assert!(
            matches!(&err, StoreError::Io(e) if e.to_string().contains(&hex::encode(eh))),
            "{err:?}"
        );
    }
}

#[test]
fn prefixes_keep_deployments_on_one_bucket_apart() {
    let server = server();
    let a = S3BlobStore::open(&server.config("/site-a/")).unwrap();
    let b = S3BlobStore::open(&server.config("site-b")).unwrap();
    let root = S3BlobStore::open(&server.config("")).unwrap();
    let id = UploadId([13; 16]);
    let eh = store_record(&a, &id, b"only in a", 4);
    assert_eq!(a.list_records().unwrap(), vec![eh]);
    assert!(b.list_records().unwrap().is_empty());
    assert!(b.list_uploads().unwrap().is_empty());
    assert!(root.list_records().unwrap().is_empty());
    assert!(matches!(b.open_record(&eh), Err(StoreError::NotFound)));
    let err = S3BlobStore::open(&server.config("a/../b")).unwrap_err();
    assert!(
        matches!(&err, StoreError::Io(e) if e.to_string().contains("invalid S3 key prefix")),
        "{err:?}"
    );
}

#[test]
fn opening_fails_for_a_missing_bucket_or_wrong_credentials() {
    let server = server();
    let mut missing = server.config("");
    missing.bucket = "no-such-bucket".to_owned();
    let err = S3BlobStore::open(&missing).unwrap_err();
    assert!(matches!(err, StoreError::Io(_)), "{err:?}");
    let mut wrong = server.config("");
    wrong.secret_access_key = "not-the-secret".to_owned();
    let err = S3BlobStore::open(&wrong).unwrap_err();
    assert!(matches!(err, StoreError::Io(_)), "{err:?}");
}

#[test]
fn the_secret_key_is_never_printed() {
    let server = server();
    let config = server.config("ehr/");
    let printed = format!("{config:?}");
    assert!(!printed.contains(&config.secret_access_key), "{printed}");
    let store = S3BlobStore::open(&config).unwrap();
    assert!(!format!("{store:?}").contains(&config.secret_access_key));
}

#[test]
fn a_64_mib_record_in_8_mib_parts_round_trips_bytes_and_hash() {
    let server = server();
    let store = store(&server);
    let id = UploadId([15; 16]);
    let data = pseudo_random_bytes(64 * MIB, 15);
    let eh = store_record(&store, &id, &data, 8 * MIB);
    let (mut r, len) = store.open_record(&eh).unwrap();
    assert_eq!(len, data.len() as u64);
    // Streamed back in 256 KiB reads, as downloads are served.
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    let mut buf = vec![0u8; 256 << 10];
    let mut total = 0usize;
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        assert!(buf[..n] == data[total..total + n], "bytes at {total}");
        sha2::Digest::update(&mut hasher, &buf[..n]);
        total += n;
    }
    assert_eq!(total, data.len());
    assert_eq!(<[u8; 32]>::from(sha2::Digest::finalize(hasher)), eh);
}
