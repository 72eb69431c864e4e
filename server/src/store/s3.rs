//! [`BlobStore`] on an S3-compatible object store (AWS S3, MinIO, Ceph RGW,
//! Garage, s3s-fs, …), through the `object_store` crate.
//!
//! ```text
//! <prefix>uploads/<upload id>/<n as 10 digits>               acknowledged parts
//! <prefix>records/<eh>/<upload id>/<n as 10 digits>          a record's ciphertext, part by part
//! <prefix>records/<eh>/manifest                              written last: which copies, how long
//! ```
//!
//! (`<eh>` as 64 hex digits.) S3 makes an object visible only when its
//! `PUT` (or the completion of its multipart upload) succeeds, and replaces
//! an earlier object of the same key atomically, which gives the same
//! visibility rule as the file system store's write-fsync-rename:
//!
//! - A part up to [`WRITE_CHUNK`] bytes is buffered and sent as one `PUT`
//!   at [`PartWriter::commit`]; a larger one streams through a multipart
//!   upload, completed at commit. A writer dropped without commit sends
//!   nothing, or aborts its multipart upload: an interrupted part leaves no
//!   object.
//! - [`BlobStore::assemble`] never moves the ciphertext through this
//!   process twice: it copies each part *inside the bucket* (`CopyObject`)
//!   under the record, reads the copies back once in order (ranged `GET`s,
//!   a few fetched ahead), hashing and counting, and writes the record's
//!   manifest (a small JSON object, [`Manifest`]) only if the size and
//!   SHA-256 match `eh`. The record is visible only once its manifest
//!   exists; on a mismatch the copies are removed. It hashes the copies,
//!   not the parts: a part re-sent while the record is being assembled
//!   cannot change what was checked.
//! - Reads are ranged `GET`s of at most [`READ_WINDOW`] bytes within one
//!   copy, a few windows fetched ahead concurrently: memory is bounded, and
//!   a seek starts again at the new position.
//!
//! A process killed in the middle of a multipart upload leaves an
//! *incomplete multipart upload*: invisible to every read and listing, but
//! billed as storage until aborted. [`BlobStore::clean_temporary`] cannot
//! tell which of them belong to a dead instance when several share a bucket,
//! so it does nothing; give the bucket a lifecycle rule that aborts
//! incomplete multipart uploads after a day
//! (`AbortIncompleteMultipartUpload { DaysAfterInitiation: 1 }`). One killed
//! between its copies and its manifest leaves copies without a manifest:
//! listed as a record, so [`super::recover`] removes them once they are
//! older than the orphan grace period.
//!
//! The trait is synchronous; the store owns a small tokio runtime and every
//! call waits for its requests with a runtime-agnostic executor on the
//! calling thread. Call it from a blocking thread (`spawn_blocking`, a plain
//! thread), never from an async task: that would block a runtime worker
//! for the duration of the request.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{
    ClientOptions, MultipartUpload, ObjectMeta, ObjectStore, PutPayload, RetryConfig,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::runtime::{Handle, Runtime};
use tokio::task::JoinHandle;
use zeroize::Zeroize;

use super::{BlobStore, Eh, PartWriter, RecordReader, StoreError, UploadId};

/// Bytes buffered before a write becomes a multipart upload, and the size
/// of each of its parts (S3 wants at least 5 MiB for all but the last).
pub const WRITE_CHUNK: usize = 8 << 20;
/// Multipart chunks of one part writer in flight at once: a part writer
/// holds at most `(1 + PART_CONCURRENCY) × WRITE_CHUNK` bytes.
const PART_CONCURRENCY: usize = 2;
/// Part copies (`CopyObject`, inside the bucket) of one assembly in flight
/// at once.
const COPY_CONCURRENCY: usize = 8;
/// Largest ranged `GET` of a record reader (a window never spans two copies).
pub const READ_WINDOW: u64 = 2 << 20;
/// Windows a download fetches ahead of the one being read: it holds at most
/// `(1 + DOWNLOAD_WINDOWS_AHEAD) × READ_WINDOW` bytes (48 MiB). Measured
/// (`examples/s3_throughput`, s3s-fs, 512 MiB, 48 MiB held in each case):
/// 8 MiB windows 5 ahead 248–295 MB/s, 4 MiB 11 ahead 354–384, 2 MiB 23
/// ahead 362–442, 1 MiB 47 ahead 363–477. The S3 server serves more
/// requests in parallel than it serves bytes of one; 2 MiB keeps the
/// request count (a paid service bills requests) at 512 per GiB.
const DOWNLOAD_WINDOWS_AHEAD: usize = 23;
/// Windows the hashing of an assembly fetches ahead (64 MiB at most, one
/// reader per completing upload).
const ASSEMBLY_WINDOWS_AHEAD: usize = 31;
/// Concurrent `DELETE`s when removing an upload's parts.
const DELETE_CONCURRENCY: usize = 8;
/// Worker threads of the store's own runtime (they only drive I/O).
const RUNTIME_THREADS: usize = 2;
/// Bound on one request, body included (a part or window is at most a few
/// MiB, read or written at the store's pace, never at a client's).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const PART_DIGITS: usize = 10;
/// The manifest's name under `records/<eh>/`.
const MANIFEST: &str = "manifest";
/// The manifest's layout version.
pub const MANIFEST_VERSION: u32 = 1;

/// What `records/<eh>/manifest` holds: the upload whose part copies make
/// the record (`records/<eh>/<upload>/<n>`), and their lengths in order.
/// JSON, e.g. `{"version":1,"upload":"<32 hex digits>","parts":[8388608,17]}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// Layout version, [`MANIFEST_VERSION`].
    pub version: u32,
    /// The upload id, 32 hex digits.
    pub upload: String,
    /// Length of each copy, part 0 first.
    pub parts: Vec<u64>,
}

/// Where and how to reach the bucket.
#[derive(Clone, Default)]
pub struct S3Config {
    /// Endpoint URL, e.g. `https://s3.eu-west-1.amazonaws.com` or
    /// `http://127.0.0.1:9000` (path-style requests are used).
    pub endpoint: String,
    /// Bucket name; the bucket must exist.
    pub bucket: String,
    /// Region (`us-east-1` for most S3-compatible services).
    pub region: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key: zeroised on drop, never printed.
    pub secret_access_key: String,
    /// Key prefix of every object (e.g. `ehr/`; empty for the bucket root),
    /// so that several deployments can share a bucket.
    pub prefix: String,
    /// Whether a plain `http://` endpoint is allowed (tests, a private network).
    pub allow_http: bool,
}

impl S3Config {
    /// An `object_store` builder for this bucket: endpoint, bucket, region,
    /// key pair, path-style requests, and the HTTP client `options` with
    /// `allow_http` (the options carry it, so they are given here, not
    /// set afterwards, which would drop it). The store adds its retries.
    pub fn builder(&self, options: ClientOptions) -> AmazonS3Builder {
        AmazonS3Builder::new()
            .with_endpoint(self.endpoint.clone())
            .with_bucket_name(self.bucket.clone())
            .with_region(self.region.clone())
            .with_access_key_id(self.access_key_id.clone())
            .with_secret_access_key(self.secret_access_key.clone())
            .with_virtual_hosted_style_request(false)
            .with_client_options(options.with_allow_http(self.allow_http))
    }
}

impl Drop for S3Config {
    fn drop(&mut self) {
        self.secret_access_key.zeroize();
    }
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("prefix", &self.prefix)
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

fn io_error(message: String) -> StoreError {
    StoreError::Io(io::Error::other(message))
}

fn store_error(e: object_store::Error) -> StoreError {
    match e {
        object_store::Error::NotFound { .. } => StoreError::NotFound,
        other => StoreError::Io(io::Error::other(other)),
    }
}

fn ignore_not_found(r: Result<(), StoreError>) -> Result<(), StoreError> {
    match r {
        Err(StoreError::NotFound) => Ok(()),
        other => other,
    }
}

/// Shuts the runtime down without waiting when the store goes (dropping a
/// runtime inside an async context would panic; this never does).
struct OwnedRuntime(Option<Runtime>);

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// What the store, its writers and readers share.
struct Inner {
    store: Arc<dyn ObjectStore>,
    handle: Handle,
    _runtime: OwnedRuntime,
}

impl Inner {
    /// Runs `fut` on the store's runtime and waits for it on this thread.
    fn run<T, F>(&self, fut: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        futures::executor::block_on(join(self.handle.spawn(fut)))?
    }

    /// Starts `op` on the store's runtime; waiting for it is up to the caller.
    fn spawn<T, F>(&self, op: F) -> JoinHandle<Result<T, StoreError>>
    where
        T: Send + 'static,
        F: Future<Output = object_store::Result<T>> + Send + 'static,
    {
        self.handle
            .spawn(async move { op.await.map_err(store_error) })
    }
}

/// Waits for a task of the store's runtime, whichever executor polls.
async fn join<T>(task: JoinHandle<T>) -> Result<T, StoreError> {
    task.await
        .map_err(|e| io_error(format!("S3 request task failed: {e}")))
}

/// Writes one part object: buffered, then a single `PUT`, or a multipart
/// upload of [`WRITE_CHUNK`] chunks ([`PART_CONCURRENCY`] in flight) once
/// more than one chunk was written. Only [`Uploader::finish`] makes the
/// object visible; dropping it aborts.
struct Uploader {
    inner: Arc<Inner>,
    path: Path,
    buf: Vec<u8>,
    multipart: Option<Box<dyn MultipartUpload>>,
    in_flight: VecDeque<JoinHandle<Result<(), StoreError>>>,
}

impl Uploader {
    fn new(inner: Arc<Inner>, path: Path) -> Self {
        Uploader {
            inner,
            path,
            buf: Vec::with_capacity(1 << 20),
            multipart: None,
            in_flight: VecDeque::new(),
        }
    }

    async fn write(&mut self, mut data: &[u8]) -> Result<(), StoreError> {
        while !data.is_empty() {
            if self.buf.len() >= WRITE_CHUNK {
                self.send_chunk().await?;
            }
            let room = WRITE_CHUNK.saturating_sub(self.buf.len()).min(data.len());
            let (now, rest) = data.split_at(room);
            self.buf.extend_from_slice(now);
            data = rest;
        }
        Ok(())
    }

    /// Sends the buffer as the next part of the multipart upload (started
    /// on the first call), keeping at most [`PART_CONCURRENCY`] in flight.
    async fn send_chunk(&mut self) -> Result<(), StoreError> {
        if self.multipart.is_none() {
            let (store, path) = (self.inner.store.clone(), self.path.clone());
            let started = self
                .inner
                .spawn(async move { store.put_multipart(&path).await });
            self.multipart = Some(join(started).await??);
        }
        let Some(multipart) = self.multipart.as_mut() else {
            return Err(io_error("multipart upload lost".to_owned()));
        };
        let data = std::mem::replace(&mut self.buf, Vec::with_capacity(WRITE_CHUNK));
        let part = multipart.put_part(PutPayload::from(data));
        self.in_flight.push_back(self.inner.spawn(part));
        while self.in_flight.len() > PART_CONCURRENCY {
            if let Some(task) = self.in_flight.pop_front() {
                join(task).await??;
            }
        }
        Ok(())
    }

    /// Makes the object visible: the single `PUT`, or the rest of the parts
    /// and the completion of the multipart upload.
    async fn finish(&mut self) -> Result<(), StoreError> {
        if self.multipart.is_none() {
            let (store, path) = (self.inner.store.clone(), self.path.clone());
            let data = PutPayload::from(std::mem::take(&mut self.buf));
            let put = self
                .inner
                .spawn(async move { store.put(&path, data).await });
            join(put).await??;
            return Ok(());
        }
        if !self.buf.is_empty() {
            self.send_chunk().await?;
        }
        while let Some(task) = self.in_flight.pop_front() {
            join(task).await??;
        }
        let Some(mut multipart) = self.multipart.take() else {
            return Err(io_error("multipart upload lost".to_owned()));
        };
        let completed = self.inner.handle.spawn(async move {
            let result = multipart.complete().await;
            (multipart, result)
        });
        let (multipart, result) = join(completed).await?;
        if let Err(e) = result {
            self.multipart = Some(multipart); // aborted on drop
            return Err(store_error(e));
        }
        Ok(())
    }
}

impl Drop for Uploader {
    fn drop(&mut self) {
        for task in self.in_flight.drain(..) {
            task.abort();
        }
        if let Some(mut multipart) = self.multipart.take() {
            // Not waited for: an abort that fails (or never runs because the
            // store is going away) leaves an invisible incomplete upload,
            // which the bucket's lifecycle rule expires.
            drop(self.inner.handle.spawn(async move {
                let _ = multipart.abort().await;
            }));
        }
    }
}

struct S3PartWriter {
    uploader: Uploader,
}

impl PartWriter for S3PartWriter {
    fn write(&mut self, data: &[u8]) -> Result<(), StoreError> {
        futures::executor::block_on(self.uploader.write(data))
    }

    fn commit(mut self: Box<Self>) -> Result<(), StoreError> {
        futures::executor::block_on(self.uploader.finish())
    }
}

/// One object of a record and where it starts in the record.
struct Segment {
    path: Path,
    start: u64,
    len: u64,
}

/// A record read through ranged `GET`s of at most [`READ_WINDOW`] bytes of
/// its objects (its part copies), in order.
struct S3RecordReader {
    inner: Arc<Inner>,
    segments: Vec<Segment>,
    len: u64,
    pos: u64,
    /// The fetched bytes at `pos`.
    current: Bytes,
    /// The windows being fetched ahead, in order, by their start.
    ahead: VecDeque<(u64, JoinHandle<Result<Bytes, StoreError>>)>,
    /// How many windows to keep fetching ahead.
    windows_ahead: usize,
}

impl S3RecordReader {
    /// A reader of the objects `parts` (path, length), one after the other,
    /// fetching `windows_ahead` windows ahead of the one being read.
    fn new(
        inner: Arc<Inner>,
        parts: impl IntoIterator<Item = (Path, u64)>,
        windows_ahead: usize,
    ) -> Self {
        let mut len = 0u64;
        let segments = parts
            .into_iter()
            .map(|(path, n)| {
                let segment = Segment {
                    path,
                    start: len,
                    len: n,
                };
                len = len.saturating_add(n);
                segment
            })
            .collect();
        S3RecordReader {
            inner,
            segments,
            len,
            pos: 0,
            current: Bytes::new(),
            ahead: VecDeque::new(),
            windows_ahead,
        }
    }

    /// The window starting at `start`: its object and the byte range in it
    /// (up to [`READ_WINDOW`], never past the object's end).
    fn window(&self, start: u64) -> Option<(&Segment, Range<u64>)> {
        // The last object starting at or before `start`: of several starting
        // there (empty ones), the one that holds bytes.
        let i = self
            .segments
            .partition_point(|s| s.start <= start)
            .checked_sub(1)?;
        let segment = self.segments.get(i)?;
        let from = start.saturating_sub(segment.start);
        let to = from.saturating_add(READ_WINDOW).min(segment.len);
        Some((segment, from..to.max(from)))
    }

    /// Where the window starting at `start` ends in the record.
    fn window_end(&self, start: u64) -> u64 {
        self.window(start)
            .map_or(self.len, |(segment, range)| {
                segment.start.saturating_add(range.end)
            })
            .max(start.saturating_add(1))
    }

    fn fetch(&self, start: u64) -> JoinHandle<Result<Bytes, StoreError>> {
        let Some((segment, range)) = self.window(start) else {
            return self
                .inner
                .handle
                .spawn(async { Err(io_error("read past the record's objects".to_owned())) });
        };
        let (store, path) = (self.inner.store.clone(), segment.path.clone());
        self.inner
            .spawn(async move { store.get_range(&path, range).await })
    }

    fn drop_ahead(&mut self) {
        for (_, task) in self.ahead.drain(..) {
            task.abort();
        }
    }

    /// Starts fetching the windows after `from`, up to `windows_ahead`.
    fn fill_ahead(&mut self, from: u64) {
        let mut next = self
            .ahead
            .back()
            .map_or(from, |(start, _)| self.window_end(*start));
        while self.ahead.len() < self.windows_ahead && next < self.len {
            let task = self.fetch(next);
            self.ahead.push_back((next, task));
            next = self.window_end(next);
        }
    }

    /// Makes `current` hold the bytes at `pos`, fetching them if needed;
    /// `false` at the end of the record.
    fn fill(&mut self) -> io::Result<bool> {
        if self.pos >= self.len {
            return Ok(false);
        }
        if self.current.is_empty() {
            let task = match self.ahead.pop_front() {
                Some((start, task)) if start == self.pos => task,
                other => {
                    if let Some((_, task)) = other {
                        task.abort();
                    }
                    self.drop_ahead();
                    self.fetch(self.pos)
                }
            };
            self.current = futures::executor::block_on(join(task))
                .and_then(|r| r)
                .map_err(to_io)?;
            if self.current.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "record object is shorter than its length",
                ));
            }
            self.fill_ahead(self.pos.saturating_add(self.current.len() as u64));
        }
        Ok(true)
    }
}

fn to_io(e: StoreError) -> io::Error {
    match e {
        StoreError::Io(e) => e,
        StoreError::NotFound => io::Error::new(io::ErrorKind::NotFound, "record object is gone"),
        other => io::Error::other(other),
    }
}

impl Read for S3RecordReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let chunk = self.next_chunk(buf.len())?;
        buf.get_mut(..chunk.len())
            .ok_or_else(|| io::Error::other("read buffer"))?
            .copy_from_slice(&chunk);
        Ok(chunk.len())
    }
}

impl RecordReader for S3RecordReader {
    /// The fetched window's bytes themselves (no copy).
    fn next_chunk(&mut self, max: usize) -> io::Result<Bytes> {
        if max == 0 || !self.fill()? {
            return Ok(Bytes::new());
        }
        let chunk = self.current.split_to(max.min(self.current.len()));
        self.pos = self.pos.saturating_add(chunk.len() as u64);
        Ok(chunk)
    }
}

impl Seek for S3RecordReader {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        if target != self.pos {
            let skip = target.wrapping_sub(self.pos);
            if target > self.pos && skip < self.current.len() as u64 {
                // Still inside the fetched window.
                let skip = usize::try_from(skip).map_err(io::Error::other)?;
                drop(self.current.split_to(skip));
            } else {
                // Starts again at the new position (the read-ahead is kept
                // if it begins exactly there).
                self.current = Bytes::new();
                if self.ahead.front().is_none_or(|(start, _)| *start != target) {
                    self.drop_ahead();
                }
            }
            self.pos = target;
        }
        Ok(self.pos)
    }
}

impl Drop for S3RecordReader {
    fn drop(&mut self) {
        self.drop_ahead();
    }
}

/// Ciphertext objects in one bucket, under one key prefix.
pub struct S3BlobStore {
    inner: Arc<Inner>,
    /// Normalised: empty, or segments followed by `/`.
    prefix: String,
    endpoint: String,
    bucket: String,
}

impl fmt::Debug for S3BlobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3BlobStore")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl S3BlobStore {
    /// Connects to `config.bucket` at `config.endpoint` and checks that the
    /// bucket can be listed with the credentials given.
    ///
    /// # Errors
    /// [`StoreError::Io`] if the prefix is not a valid key prefix, the
    /// store's runtime cannot start, the endpoint is invalid or the bucket
    /// is not reachable.
    pub fn open(config: &S3Config) -> Result<Self, StoreError> {
        let prefix = config.prefix.trim_matches('/');
        let prefix = if prefix.is_empty() {
            String::new()
        } else {
            Path::parse(prefix).map_err(|e| io_error(format!("invalid S3 key prefix: {e}")))?;
            format!("{prefix}/")
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(RUNTIME_THREADS)
            .thread_name("ehrchain-s3")
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let runtime = OwnedRuntime(Some(runtime));
        let store = {
            let _entered = handle.enter();
            config
                .builder(
                    ClientOptions::new()
                        .with_timeout(REQUEST_TIMEOUT)
                        .with_connect_timeout(CONNECT_TIMEOUT),
                )
                .with_retry(RetryConfig {
                    max_retries: 3,
                    retry_timeout: Duration::from_secs(30),
                    ..RetryConfig::default()
                })
                .build()
                .map_err(|e| io_error(format!("S3 configuration: {e}")))?
        };
        let s3 = S3BlobStore {
            inner: Arc::new(Inner {
                store: Arc::new(store),
                handle,
                _runtime: runtime,
            }),
            prefix,
            endpoint: config.endpoint.clone(),
            bucket: config.bucket.clone(),
        };
        let store = s3.inner.store.clone();
        let root = s3.key("");
        s3.inner
            .run(async move {
                store
                    .list_with_delimiter(Some(&root))
                    .await
                    // A missing bucket is answered 404: not a missing object.
                    .map_err(|e| StoreError::Io(io::Error::other(e)))
            })
            .map_err(|e| {
                io_error(format!(
                    "S3 bucket {} at {} is not reachable: {e}",
                    s3.bucket, s3.endpoint
                ))
            })?;
        Ok(s3)
    }

    fn key(&self, rest: &str) -> Path {
        Path::from(format!("{}{rest}", self.prefix))
    }

    fn uploads_path(&self) -> Path {
        self.key("uploads")
    }

    fn upload_path(&self, id: &UploadId) -> Path {
        self.key(&format!("uploads/{}", id.to_hex()))
    }

    fn part_path(&self, id: &UploadId, n: u64) -> Path {
        self.key(&format!("uploads/{}/{n:0PART_DIGITS$}", id.to_hex()))
    }

    fn records_path(&self) -> Path {
        self.key("records")
    }

    /// `records/<eh>`: the directory of a record's copies and manifest.
    fn record_path(&self, eh: &Eh) -> Path {
        self.key(&format!("records/{}", hex::encode(eh)))
    }

    fn manifest_path(&self, eh: &Eh) -> Path {
        self.key(&format!("records/{}/{MANIFEST}", hex::encode(eh)))
    }

    fn copies_path(&self, eh: &Eh, upload: &UploadId) -> Path {
        self.key(&format!("records/{}/{}", hex::encode(eh), upload.to_hex()))
    }

    fn copy_path(&self, eh: &Eh, upload: &UploadId, n: u64) -> Path {
        self.key(&format!(
            "records/{}/{}/{n:0PART_DIGITS$}",
            hex::encode(eh),
            upload.to_hex()
        ))
    }

    /// The upload and copy lengths that the record's manifest names, `None`
    /// if it has none.
    fn manifest(&self, eh: &Eh) -> Result<Option<(UploadId, Vec<u64>)>, StoreError> {
        let (store, path) = (self.inner.store.clone(), self.manifest_path(eh));
        let got = self.inner.run(async move {
            let got = store.get(&path).await.map_err(store_error)?;
            got.bytes().await.map_err(store_error)
        });
        let bytes = match got {
            Ok(bytes) => bytes,
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        serde_json::from_slice::<Manifest>(&bytes)
            .ok()
            .filter(|m| m.version == MANIFEST_VERSION)
            .and_then(|m| Some((UploadId::parse(&m.upload)?, m.parts)))
            .map(Some)
            .ok_or_else(|| {
                io_error(format!(
                    "the manifest of record {} is damaged or of an unknown version",
                    hex::encode(eh)
                ))
            })
    }

    /// The object at `path`, `None` if absent.
    fn head(&self, path: Path) -> Result<Option<ObjectMeta>, StoreError> {
        let store = self.inner.store.clone();
        match self
            .inner
            .run(async move { store.head(&path).await.map_err(store_error) })
        {
            Ok(meta) => Ok(Some(meta)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Removes every object under `prefix` (absent is not an error).
    fn delete_all(&self, prefix: Path) -> Result<(), StoreError> {
        let keys = self.list_keys(prefix)?;
        let store = self.inner.store.clone();
        self.inner.run(async move {
            futures::stream::iter(keys)
                .map(|key| {
                    let store = store.clone();
                    async move { ignore_not_found(store.delete(&key).await.map_err(store_error)) }
                })
                .buffer_unordered(DELETE_CONCURRENCY)
                .try_collect::<Vec<()>>()
                .await
                .map(drop)
        })
    }

    /// Copies parts `0..parts` of `upload` under the record inside the
    /// bucket, checks their lengths against `size` and their hash against
    /// `eh`, and returns the copies' lengths.
    fn copy_and_check(
        &self,
        upload: &UploadId,
        parts: u64,
        size: u64,
        eh: &Eh,
    ) -> Result<Vec<u64>, StoreError> {
        let copies: Vec<(u64, Path, Path)> = (0..parts)
            .map(|n| (n, self.part_path(upload, n), self.copy_path(eh, upload, n)))
            .collect();
        let store = self.inner.store.clone();
        let copied: Vec<(u64, Result<(), StoreError>)> = self.inner.run(async move {
            Ok(futures::stream::iter(copies)
                .map(|(n, from, to)| {
                    let store = store.clone();
                    async move { (n, store.copy(&from, &to).await.map_err(store_error)) }
                })
                .buffered(COPY_CONCURRENCY)
                .collect()
                .await)
        })?;
        let lengths: HashMap<u64, u64> = self
            .list_objects(self.copies_path(eh, upload))?
            .into_iter()
            .filter_map(|meta| {
                let name = meta.location.filename()?;
                (name.len() == PART_DIGITS).then_some(())?;
                Some((name.parse().ok()?, meta.size))
            })
            .collect();
        // In part order, so that a size overrun is reported ahead of a later
        // missing part, as by the file system store.
        let mut total: u64 = 0;
        let mut kept = Vec::with_capacity(copied.len());
        for (n, outcome) in copied {
            match outcome {
                Err(StoreError::NotFound) => return Err(StoreError::MissingPart(n)),
                other => other?,
            }
            let len = *lengths.get(&n).ok_or(StoreError::MissingPart(n))?;
            total = total.saturating_add(len);
            if total > size {
                return Err(StoreError::SizeMismatch);
            }
            kept.push(len);
        }
        if total != size {
            return Err(StoreError::SizeMismatch);
        }
        let mut reader = S3RecordReader::new(
            self.inner.clone(),
            (0u64..)
                .zip(kept.iter())
                .map(|(n, len)| (self.copy_path(eh, upload, n), *len)),
            ASSEMBLY_WINDOWS_AHEAD,
        );
        let mut hasher = Sha256::new();
        loop {
            let window = reader.next_chunk(usize::MAX)?;
            if window.is_empty() {
                break;
            }
            hasher.update(window);
        }
        if <[u8; 32]>::from(hasher.finalize()) != *eh {
            return Err(StoreError::HashMismatch);
        }
        Ok(kept)
    }

    /// Every object under `prefix`.
    fn list_objects(&self, prefix: Path) -> Result<Vec<ObjectMeta>, StoreError> {
        let store = self.inner.store.clone();
        self.inner.run(async move {
            store
                .list(Some(&prefix))
                .try_collect()
                .await
                .map_err(store_error)
        })
    }

    /// The key of every object under `prefix`.
    fn list_keys(&self, prefix: Path) -> Result<Vec<Path>, StoreError> {
        Ok(self
            .list_objects(prefix)?
            .into_iter()
            .map(|meta| meta.location)
            .collect())
    }

    /// The names of the "directories" right under `prefix` (key prefixes
    /// followed by `/`).
    fn directories(&self, prefix: Path) -> Result<Vec<String>, StoreError> {
        let store = self.inner.store.clone();
        let listed = self.inner.run(async move {
            store
                .list_with_delimiter(Some(&prefix))
                .await
                .map_err(store_error)
        })?;
        Ok(listed
            .common_prefixes
            .iter()
            .filter_map(|p| Some(p.filename()?.to_owned()))
            .collect())
    }
}

fn parse_eh(name: &str) -> Option<Eh> {
    let mut eh = [0u8; 32];
    (name.len() == 64).then_some(())?;
    hex::decode_to_slice(name, &mut eh).ok()?;
    Some(eh)
}

impl BlobStore for S3BlobStore {
    fn part_writer(&self, upload: &UploadId, n: u64) -> Result<Box<dyn PartWriter>, StoreError> {
        Ok(Box::new(S3PartWriter {
            uploader: Uploader::new(self.inner.clone(), self.part_path(upload, n)),
        }))
    }

    fn list_parts(&self, upload: &UploadId) -> Result<Vec<u64>, StoreError> {
        let mut parts: Vec<u64> = self
            .list_keys(self.upload_path(upload))?
            .iter()
            .filter_map(|key| {
                let name = key.filename()?;
                (name.len() == PART_DIGITS).then_some(())?;
                name.parse().ok()
            })
            .collect();
        parts.sort_unstable();
        Ok(parts)
    }

    fn assemble(
        &self,
        upload: &UploadId,
        parts: u64,
        size: u64,
        eh: &Eh,
    ) -> Result<(), StoreError> {
        let checked = self
            .copy_and_check(upload, parts, size, eh)
            .and_then(|lengths| {
                let manifest = serde_json::to_vec(&Manifest {
                    version: MANIFEST_VERSION,
                    upload: upload.to_hex(),
                    parts: lengths,
                })
                .map_err(|e| io_error(format!("manifest: {e}")))?;
                let (store, path) = (self.inner.store.clone(), self.manifest_path(eh));
                self.inner.run(async move {
                    store
                        .put(&path, PutPayload::from(manifest))
                        .await
                        .map(drop)
                        .map_err(store_error)
                })
            });
        if checked.is_err() {
            // Best effort: copies left by a failure here are listed as an
            // orphan record and removed by a later recovery.
            let _ = self.delete_all(self.copies_path(eh, upload));
        }
        checked
    }

    fn open_record(&self, eh: &Eh) -> Result<(Box<dyn RecordReader>, u64), StoreError> {
        let (upload, parts) = self.manifest(eh)?.ok_or(StoreError::NotFound)?;
        let reader = S3RecordReader::new(
            self.inner.clone(),
            (0u64..)
                .zip(parts)
                .map(|(n, len)| (self.copy_path(eh, &upload, n), len)),
            DOWNLOAD_WINDOWS_AHEAD,
        );
        let len = reader.len;
        Ok((Box::new(reader), len))
    }

    /// The manifest first (the record stops being visible), then its
    /// copies (every upload's).
    fn delete_record(&self, eh: &Eh) -> Result<(), StoreError> {
        let (store, path) = (self.inner.store.clone(), self.manifest_path(eh));
        ignore_not_found(
            self.inner
                .run(async move { store.delete(&path).await.map_err(store_error) }),
        )?;
        self.delete_all(self.record_path(eh))
    }

    fn delete_upload(&self, upload: &UploadId) -> Result<(), StoreError> {
        self.delete_all(self.upload_path(upload))
    }

    /// Every `records/<eh>` that holds anything: a manifest, or copies
    /// without one (an assembly cut short).
    fn list_records(&self) -> Result<Vec<Eh>, StoreError> {
        Ok(self
            .directories(self.records_path())?
            .iter()
            .filter_map(|name| parse_eh(name))
            .collect())
    }

    /// When the manifest was written; without one, when the newest of the
    /// record's copies was.
    fn record_modified(&self, eh: &Eh) -> Result<Option<u64>, StoreError> {
        let seconds =
            |meta: &ObjectMeta| u64::try_from(meta.last_modified.timestamp()).unwrap_or(0);
        if let Some(meta) = self.head(self.manifest_path(eh))? {
            return Ok(Some(seconds(&meta)));
        }
        Ok(self
            .list_objects(self.record_path(eh))?
            .iter()
            .map(seconds)
            .max())
    }

    fn list_uploads(&self) -> Result<Vec<UploadId>, StoreError> {
        Ok(self
            .directories(self.uploads_path())?
            .iter()
            .filter_map(|name| UploadId::parse(name))
            .collect())
    }

    /// Always 0: an interrupted write leaves at most an incomplete multipart
    /// upload, invisible to reads and listings; the bucket's lifecycle rule
    /// (abort incomplete multipart uploads after a day) removes it.
    fn clean_temporary(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    fn free_bytes(&self) -> Option<u64> {
        None
    }
}
