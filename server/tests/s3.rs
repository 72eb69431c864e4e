//! `S3BlobStore` against a real S3-compatible server (`s3s-fs`, started by
//! each test on a free loopback port): the same contract as the file system
//! store's unit tests, plus what only a shared bucket raises (two instances,
//! prefixes, the recovery grace period) and a large record.
#![allow(
    clippy::unwrap_used,
    clippy::unwrap_in_result,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_possible_truncation
)]

#[path = "common/s3.rs"]
mod s3_server;

use std::io::{Read, Seek, SeekFrom};

use ehrchain_server::store::s3::{S3BlobStore, READ_WINDOW, WRITE_CHUNK};
use ehrchain_server::store::sqlite::SqliteMetaStore;
use ehrchain_server::store::{recover, BlobStore, StoreError, UploadId};
use s3_server::S3sFs;

const MIB: usize = 1 << 20;

fn server() -> S3sFs {
    S3sFs::start().unwrap_or_else(|e| panic!("{e}"))
}

fn store(server: &S3sFs) -> S3BlobStore {
    S3BlobStore::open(&server.config("ehr/")).unwrap()
}

/// Deterministic pseudo-random bytes (xorshift), different per `seed`.
fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
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

fn put(store: &dyn BlobStore, id: &UploadId, n: u64, data: &[u8]) {
    let mut w = store.part_writer(id, n).unwrap();
    // In body-sized pieces, as the handler writes them.
    for piece in data.chunks(64 << 10) {
        w.write(piece).unwrap();
    }
    w.commit().unwrap();
}

/// Uploads `data` in parts of `part` bytes and assembles it; returns its eh.
fn store_record(store: &dyn BlobStore, id: &UploadId, data: &[u8], part: usize) -> [u8; 32] {
    for (n, chunk) in data.chunks(part).enumerate() {
        put(store, id, n as u64, chunk);
    }
    let eh = ehrchain::hash::sha256(data);
    let parts = data.len().div_ceil(part) as u64;
    store.assemble(id, parts, data.len() as u64, &eh).unwrap();
    eh
}

fn read_all(store: &dyn BlobStore, eh: &[u8; 32]) -> Vec<u8> {
    let (mut r, len) = store.open_record(eh).unwrap();
    let mut back = Vec::new();
    r.read_to_end(&mut back).unwrap();
    assert_eq!(back.len() as u64, len);
    back
}

#[test]
fn parts_assemble_into_a_record_only_if_the_hash_matches() {
    let server = server();
    let store = store(&server);
    let id = UploadId([1; 16]);
    put(&store, &id, 1, b"world");
    put(&store, &id, 0, b"hello ");
    assert_eq!(store.list_parts(&id).unwrap(), vec![0, 1]);
    let eh = ehrchain::hash::sha256(b"hello world");
    assert!(matches!(
        store.assemble(&id, 2, 11, &[0; 32]),
        Err(StoreError::HashMismatch)
    ));
    assert!(store.list_records().unwrap().is_empty());
    assert!(matches!(
        store.open_record(&[0; 32]),
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.assemble(&id, 3, 11, &eh),
        Err(StoreError::MissingPart(2))
    ));
    assert!(matches!(
        store.assemble(&id, 2, 10, &eh),
        Err(StoreError::SizeMismatch)
    ));
    assert!(matches!(
        store.assemble(&id, 2, 12, &eh),
        Err(StoreError::SizeMismatch)
    ));
    assert!(store.list_records().unwrap().is_empty());
    store.assemble(&id, 2, 11, &eh).unwrap();
    assert_eq!(store.list_records().unwrap(), vec![eh]);
    assert_eq!(read_all(&store, &eh), b"hello world");
    assert_eq!(store.clean_temporary().unwrap(), 0);
    assert_eq!(store.free_bytes(), None);
}

#[test]
fn a_missing_first_part_is_reported_as_missing() {
    let server = server();
    let store = store(&server);
    let id = UploadId([11; 16]);
    put(&store, &id, 1, b"tail");
    let eh = ehrchain::hash::sha256(b"headtail");
    assert!(matches!(
        store.assemble(&id, 2, 8, &eh),
        Err(StoreError::MissingPart(0))
    ));
    assert!(store.list_records().unwrap().is_empty());
}

#[test]
fn a_dropped_uncommitted_part_leaves_nothing() {
    let server = server();
    let store = store(&server);
    let id = UploadId([2; 16]);
    // Small: buffered, never sent.
    let mut w = store.part_writer(&id, 0).unwrap();
    w.write(b"half").unwrap();
    drop(w);
    // Large: already streaming through a multipart upload, then aborted.
    let mut w = store.part_writer(&id, 1).unwrap();
    let big = bytes(WRITE_CHUNK * 2 + MIB, 2);
    for piece in big.chunks(MIB) {
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
    assert_eq!(store.clean_temporary().unwrap(), 0);
}

#[test]
fn a_part_larger_than_one_chunk_streams_through_multipart_and_commits() {
    let server = server();
    let store = store(&server);
    let id = UploadId([12; 16]);
    let data = bytes(WRITE_CHUNK * 3 + 12_345, 12);
    put(&store, &id, 0, &data);
    assert_eq!(store.list_parts(&id).unwrap(), vec![0]);
    let eh = ehrchain::hash::sha256(&data);
    store.assemble(&id, 1, data.len() as u64, &eh).unwrap();
    assert!(read_all(&store, &eh) == data);
}

#[test]
fn resending_a_part_replaces_it() {
    let server = server();
    let store = store(&server);
    let id = UploadId([3; 16]);
    put(&store, &id, 0, b"aaaa");
    put(&store, &id, 0, b"bbbb");
    assert_eq!(store.list_parts(&id).unwrap(), vec![0]);
    let eh = ehrchain::hash::sha256(b"bbbb");
    store.assemble(&id, 1, 4, &eh).unwrap();
    assert_eq!(read_all(&store, &eh), b"bbbb");
}

#[test]
fn delete_removes_records_and_parts_and_absent_is_not_an_error() {
    let server = server();
    let store = store(&server);
    let id = UploadId([4; 16]);
    let eh = store_record(&store, &id, b"to be deleted", 5);
    assert_eq!(store.list_parts(&id).unwrap(), vec![0, 1, 2]);
    store.delete_upload(&id).unwrap();
    store.delete_upload(&id).unwrap();
    assert!(store.list_parts(&id).unwrap().is_empty());
    assert!(store.list_uploads().unwrap().is_empty());
    store.delete_record(&eh).unwrap();
    store.delete_record(&eh).unwrap();
    assert!(matches!(store.open_record(&eh), Err(StoreError::NotFound)));
    assert_eq!(store.record_modified(&eh).unwrap(), None);
    assert!(store.list_records().unwrap().is_empty());
}

#[test]
fn list_records_and_list_uploads_see_every_record_and_upload_with_parts() {
    let server = server();
    let store = store(&server);
    let (a, b, c) = (UploadId([5; 16]), UploadId([6; 16]), UploadId([7; 16]));
    put(&store, &a, 0, b"a");
    put(&store, &b, 3, b"b");
    put(&store, &b, 12, b"b");
    let mut uploads = store.list_uploads().unwrap();
    uploads.sort_by_key(|u| u.0);
    assert_eq!(uploads, vec![a, b]);
    assert_eq!(store.list_parts(&b).unwrap(), vec![3, 12]);
    let e1 = store_record(&store, &c, b"first record", 4);
    store.delete_upload(&c).unwrap();
    let e2 = store_record(&store, &c, b"second record", 100);
    let mut records = store.list_records().unwrap();
    records.sort_unstable();
    let mut expected = vec![e1, e2];
    expected.sort_unstable();
    assert_eq!(records, expected);
    let written = store.record_modified(&e1).unwrap().unwrap();
    assert!(written.abs_diff(ehrchain_server::app::now()) < 60);
}

#[test]
fn ranged_reads_via_seek_return_the_right_bytes() {
    let server = server();
    let store = store(&server);
    let id = UploadId([8; 16]);
    // More than two read windows, so that reads cross window boundaries.
    let data = bytes(READ_WINDOW as usize * 2 + 777, 8);
    let eh = store_record(&store, &id, &data, 3 * MIB);
    let (mut r, len) = store.open_record(&eh).unwrap();
    assert_eq!(len, data.len() as u64);
    let window = READ_WINDOW as usize;
    let check = |r: &mut Box<dyn ehrchain_server::store::RecordReader>, start: usize, n: usize| {
        let mut buf = vec![0u8; n];
        r.read_exact(&mut buf).unwrap();
        assert!(
            buf == data[start..start + n],
            "bytes {start}..{}",
            start + n
        );
    };
    for start in [
        0,
        1,
        window - 10,
        window,
        2 * window - 1,
        data.len() - 777,
        5,
    ] {
        assert_eq!(r.seek(SeekFrom::Start(start as u64)).unwrap(), start as u64);
        check(&mut r, start, 700);
    }
    // Relative seeks, inside and outside the fetched window.
    let pos = r.seek(SeekFrom::Current(1000)).unwrap() as usize;
    assert_eq!(pos, 5 + 700 + 1000);
    check(&mut r, pos, 10);
    let pos = r.seek(SeekFrom::Current(-500)).unwrap() as usize;
    check(&mut r, pos, 10);
    let pos = r.seek(SeekFrom::End(-100)).unwrap() as usize;
    assert_eq!(pos, data.len() - 100);
    let mut tail = Vec::new();
    r.read_to_end(&mut tail).unwrap();
    assert!(tail == data[pos..]);
    // A range that spans the whole record after a seek.
    r.seek(SeekFrom::Start(3)).unwrap();
    let mut rest = Vec::new();
    r.read_to_end(&mut rest).unwrap();
    assert!(rest == data[3..]);
    // At or past the end: nothing; before the start: an error.
    r.seek(SeekFrom::Start(len + 10)).unwrap();
    assert_eq!(r.read(&mut [0u8; 8]).unwrap(), 0);
    assert!(r.seek(SeekFrom::Current(-(len as i64) - 100)).is_err());
}

#[test]
fn a_large_record_that_fails_its_hash_check_is_never_visible() {
    let server = server();
    let store = store(&server);
    let id = UploadId([9; 16]);
    // Over several assembly chunks: the record's multipart upload had
    // parts sent before the hash was known, and is aborted.
    let data = bytes(WRITE_CHUNK * 2 + 3 * MIB, 9);
    for (n, chunk) in data.chunks(4 * MIB).enumerate() {
        put(&store, &id, n as u64, chunk);
    }
    let parts = data.len().div_ceil(4 * MIB) as u64;
    let wrong = [7u8; 32];
    assert!(matches!(
        store.assemble(&id, parts, data.len() as u64, &wrong),
        Err(StoreError::HashMismatch)
    ));
    assert!(matches!(
        store.open_record(&wrong),
        Err(StoreError::NotFound)
    ));
    assert!(store.list_records().unwrap().is_empty());
    assert_no_incomplete_multipart_upload(&server);
    // A declared size shorter than the parts: refused as soon as it is passed.
    let eh = ehrchain::hash::sha256(&data);
    assert!(matches!(
        store.assemble(&id, parts, data.len() as u64 - 1, &eh),
        Err(StoreError::SizeMismatch)
    ));
    assert!(store.list_records().unwrap().is_empty());
    // The right claim then succeeds from the same parts.
    store.assemble(&id, parts, data.len() as u64, &eh).unwrap();
    assert_eq!(store.list_records().unwrap(), vec![eh]);
}

#[test]
fn two_instances_on_one_bucket_share_parts_and_records() {
    let server = server();
    let first = store(&server);
    let second = store(&server);
    let id = UploadId([10; 16]);
    let data = bytes(3 * MIB + 5, 10);
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
    assert!(S3BlobStore::open(&server.config("a/../b")).is_err());
}

#[test]
fn recovery_on_a_shared_bucket_keeps_a_fresh_orphan_and_removes_an_old_one() {
    let server = server();
    let store = store(&server);
    let dir = tempfile::tempdir().unwrap();
    let meta = SqliteMetaStore::open(&dir.path().join("meta.sqlite")).unwrap();
    let id = UploadId([14; 16]);
    let eh = store_record(&store, &id, b"no row yet", 3);
    let written = store.record_modified(&eh).unwrap().unwrap();
    let kept = recover(&meta, &store, written + 5, 600).unwrap();
    assert_eq!(
        (kept.orphan_records_kept, kept.orphan_records_removed),
        (1, 0)
    );
    assert_eq!(kept.stale_uploads_removed, 1);
    assert_eq!(store.list_records().unwrap(), vec![eh]);
    let removed = recover(&meta, &store, written + 601, 600).unwrap();
    assert_eq!(
        (removed.orphan_records_kept, removed.orphan_records_removed),
        (0, 1)
    );
    assert!(store.list_records().unwrap().is_empty());
}

#[test]
fn opening_fails_for_a_missing_bucket_or_wrong_credentials() {
    let server = server();
    let mut missing = server.config("");
    missing.bucket = "no-such-bucket".to_owned();
    assert!(S3BlobStore::open(&missing).is_err());
    let mut wrong = server.config("");
    wrong.secret_access_key = "not-the-secret".to_owned();
    assert!(S3BlobStore::open(&wrong).is_err());
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
    let data = bytes(64 * MIB, 15);
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
