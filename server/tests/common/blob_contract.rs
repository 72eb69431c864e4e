//! The behavioural contract of [`BlobStore`], written once and run by
//! `tests/blob_store.rs` against every backend (the file system and S3):
//! one function per property, each taking a fresh backend. `put`,
//! `store_record` and `read_all` are also what the S3-only tests use.

use std::io::{ErrorKind, Read, Seek, SeekFrom};

use ehrchain_server::store::s3::{READ_WINDOW, WRITE_CHUNK};
use ehrchain_server::store::sqlite::SqliteMetaStore;
use ehrchain_server::store::{recover, BlobStore, RecordReader, StoreError, UploadId};

use crate::bytes::pseudo_random_bytes;

pub(crate) const MIB: usize = 1 << 20;

/// A blob backend under test: a fresh, empty store (with whatever keeps it
/// alive).
pub(crate) trait BlobBackend {
    /// The store.
    fn store(&self) -> &dyn BlobStore;
    /// Asserts that nothing of a write that was dropped or refused is left
    /// in the backing storage (no temporary file, no incomplete multipart
    /// upload).
    fn assert_nothing_left_behind(&self);
}

/// Writes part `n` in body-sized pieces, as the handler does, and commits it.
pub(crate) fn put(store: &dyn BlobStore, id: &UploadId, n: u64, data: &[u8]) {
    let mut w = store.part_writer(id, n).unwrap();
    for piece in data.chunks(64 << 10) {
        w.write(piece).unwrap();
    }
    w.commit().unwrap();
}

/// Uploads `data` in parts of `part` bytes and assembles it; returns its eh.
pub(crate) fn store_record(
    store: &dyn BlobStore,
    id: &UploadId,
    data: &[u8],
    part: usize,
) -> [u8; 32] {
    for (n, chunk) in data.chunks(part).enumerate() {
        put(store, id, n as u64, chunk);
    }
    let eh = ehrchain::hash::sha256(data);
    let parts = data.len().div_ceil(part) as u64;
    store.assemble(id, parts, data.len() as u64, &eh).unwrap();
    eh
}

/// A record's whole ciphertext, checked against the length it was opened with.
pub(crate) fn read_all(store: &dyn BlobStore, eh: &[u8; 32]) -> Vec<u8> {
    let (mut r, len) = store.open_record(eh).unwrap();
    let mut back = Vec::new();
    r.read_to_end(&mut back).unwrap();
    assert_eq!(back.len() as u64, len);
    back
}

pub(crate) fn parts_assemble_into_a_record_only_if_the_hash_matches(b: &dyn BlobBackend) {
    let store = b.store();
    let id = UploadId([1; 16]);
    put(store, &id, 1, b"world");
    put(store, &id, 0, b"hello ");
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
    b.assert_nothing_left_behind();
    store.assemble(&id, 2, 11, &eh).unwrap();
    assert_eq!(store.list_records().unwrap(), vec![eh]);
    assert_eq!(read_all(store, &eh), b"hello world");
    b.assert_nothing_left_behind();
}

pub(crate) fn a_missing_first_part_is_reported_as_missing(b: &dyn BlobBackend) {
    let store = b.store();
    let id = UploadId([11; 16]);
    put(store, &id, 1, b"tail");
    let eh = ehrchain::hash::sha256(b"headtail");
    assert!(matches!(
        store.assemble(&id, 2, 8, &eh),
        Err(StoreError::MissingPart(0))
    ));
    assert!(store.list_records().unwrap().is_empty());
}

pub(crate) fn a_dropped_uncommitted_part_leaves_nothing(b: &dyn BlobBackend) {
    let store = b.store();
    let id = UploadId([2; 16]);
    // Small (an S3 writer buffers it, never sends it).
    let mut w = store.part_writer(&id, 0).unwrap();
    w.write(b"half").unwrap();
    drop(w);
    // Larger than one write chunk (an S3 writer is already streaming it).
    let mut w = store.part_writer(&id, 1).unwrap();
    let big = pseudo_random_bytes(WRITE_CHUNK * 2 + MIB, 2);
    for piece in big.chunks(MIB) {
        w.write(piece).unwrap();
    }
    drop(w);
    b.assert_nothing_left_behind();
    assert!(store.list_parts(&id).unwrap().is_empty());
    // Not `list_uploads`: the file system store keeps the upload's (empty)
    // directory, so it still names the upload (start-up recovery removes it).
}

pub(crate) fn a_part_larger_than_one_write_chunk_commits_whole(b: &dyn BlobBackend) {
    let store = b.store();
    let id = UploadId([12; 16]);
    let data = pseudo_random_bytes(WRITE_CHUNK * 3 + 12_345, 12);
    put(store, &id, 0, &data);
    assert_eq!(store.list_parts(&id).unwrap(), vec![0]);
    let eh = ehrchain::hash::sha256(&data);
    store.assemble(&id, 1, data.len() as u64, &eh).unwrap();
    assert!(read_all(store, &eh) == data);
}

pub(crate) fn resending_a_part_replaces_it(b: &dyn BlobBackend) {
    let store = b.store();
    let id = UploadId([3; 16]);
    put(store, &id, 0, b"aaaa");
    put(store, &id, 0, b"bbbb");
    assert_eq!(store.list_parts(&id).unwrap(), vec![0]);
    let eh = ehrchain::hash::sha256(b"bbbb");
    store.assemble(&id, 1, 4, &eh).unwrap();
    assert_eq!(read_all(store, &eh), b"bbbb");
}

pub(crate) fn delete_removes_records_and_parts_and_absent_is_not_an_error(b: &dyn BlobBackend) {
    let store = b.store();
    let id = UploadId([4; 16]);
    let eh = store_record(store, &id, b"to be deleted", 5);
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

pub(crate) fn list_records_and_list_uploads_see_every_record_and_upload_with_parts(
    b: &dyn BlobBackend,
) {
    let store = b.store();
    let (u1, u2, u3) = (UploadId([5; 16]), UploadId([6; 16]), UploadId([7; 16]));
    put(store, &u1, 0, b"a");
    put(store, &u2, 3, b"b");
    put(store, &u2, 12, b"b");
    let mut uploads = store.list_uploads().unwrap();
    uploads.sort_by_key(|u| u.0);
    assert_eq!(uploads, vec![u1, u2]);
    assert_eq!(store.list_parts(&u2).unwrap(), vec![3, 12]);
    let e1 = store_record(store, &u3, b"first record", 4);
    store.delete_upload(&u3).unwrap();
    let e2 = store_record(store, &u3, b"second record", 100);
    let mut records = store.list_records().unwrap();
    records.sort_unstable();
    let mut expected = vec![e1, e2];
    expected.sort_unstable();
    assert_eq!(records, expected);
    let written = store.record_modified(&e1).unwrap().unwrap();
    assert!(written.abs_diff(ehrchain_server::app::now()) < 60);
}

pub(crate) fn ranged_reads_via_seek_return_the_right_bytes(b: &dyn BlobBackend) {
    let store = b.store();
    let id = UploadId([8; 16]);
    // More than two S3 read windows, so that reads cross window boundaries.
    let data = pseudo_random_bytes(READ_WINDOW as usize * 2 + 777, 8);
    let eh = store_record(store, &id, &data, 3 * MIB);
    let (mut r, len) = store.open_record(&eh).unwrap();
    assert_eq!(len, data.len() as u64);
    let window = READ_WINDOW as usize;
    let check = |r: &mut Box<dyn RecordReader>, start: usize, n: usize| {
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
        3 * MIB - 10, // across two parts
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
    // Pieces as downloads take them: at most the size asked, empty only at
    // the end, the same bytes.
    r.seek(SeekFrom::Start(10)).unwrap();
    let mut pieces = Vec::new();
    loop {
        let piece = r.next_chunk(100_000).unwrap();
        if piece.is_empty() {
            break;
        }
        assert!(piece.len() <= 100_000, "{}", piece.len());
        pieces.extend_from_slice(&piece);
    }
    assert!(pieces == data[10..]);
    // A range that spans the whole record after a seek.
    r.seek(SeekFrom::Start(3)).unwrap();
    let mut rest = Vec::new();
    r.read_to_end(&mut rest).unwrap();
    assert!(rest == data[3..]);
    // At or past the end: nothing; before the start: an error.
    r.seek(SeekFrom::Start(len + 10)).unwrap();
    assert_eq!(r.read(&mut [0u8; 8]).unwrap(), 0);
    let before_start = r.seek(SeekFrom::Current(-(len as i64) - 100)).unwrap_err();
    assert_eq!(
        before_start.kind(),
        ErrorKind::InvalidInput,
        "{before_start}"
    );
}

pub(crate) fn a_large_record_that_fails_its_hash_check_is_never_visible(b: &dyn BlobBackend) {
    let store = b.store();
    let id = UploadId([9; 16]);
    // Over several assembly chunks: on S3 the record's multipart upload had
    // parts sent before the hash was known, and is aborted.
    let data = pseudo_random_bytes(WRITE_CHUNK * 2 + 3 * MIB, 9);
    for (n, chunk) in data.chunks(4 * MIB).enumerate() {
        put(store, &id, n as u64, chunk);
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
    b.assert_nothing_left_behind();
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

/// A metadata store with no rows, for [`recover`].
fn empty_meta() -> (tempfile::TempDir, SqliteMetaStore) {
    let dir = tempfile::tempdir().unwrap();
    let meta = SqliteMetaStore::open(&dir.path().join("meta.sqlite")).unwrap();
    (dir, meta)
}

pub(crate) fn recovery_keeps_a_fresh_orphan_within_the_grace_period_and_removes_an_old_one(
    b: &dyn BlobBackend,
) {
    let store = b.store();
    let (_dir, meta) = empty_meta();
    let id = UploadId([14; 16]);
    let eh = store_record(store, &id, b"no row yet", 3);
    let written = store.record_modified(&eh).unwrap().unwrap();
    assert!(written.abs_diff(ehrchain_server::app::now()) < 60);
    assert_eq!(store.record_modified(&[9; 32]).unwrap(), None);

    // Written just now: perhaps another instance is about to commit it.
    let kept = recover(&meta, store, written + 5, 600).unwrap();
    assert_eq!(
        (kept.orphan_records_kept, kept.orphan_records_removed),
        (1, 0)
    );
    assert_eq!(kept.stale_uploads_removed, 1, "its upload is not open");
    assert_eq!(store.list_records().unwrap(), vec![eh]);

    // Written longer ago than the grace period: an orphan, removed.
    let removed = recover(&meta, store, written + 601, 600).unwrap();
    assert_eq!(
        (removed.orphan_records_kept, removed.orphan_records_removed),
        (0, 1)
    );
    assert!(store.list_records().unwrap().is_empty());
}

pub(crate) fn recovery_without_a_grace_period_removes_every_orphan(b: &dyn BlobBackend) {
    let store = b.store();
    let (_dir, meta) = empty_meta();
    let eh = store_record(store, &UploadId([5; 16]), b"orphan", 6);
    let written = store.record_modified(&eh).unwrap().unwrap();
    let report = recover(&meta, store, written, 0).unwrap();
    assert_eq!(report.orphan_records_removed, 1);
    assert!(store.list_records().unwrap().is_empty());
}
