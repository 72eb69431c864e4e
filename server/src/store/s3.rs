//! [`BlobStore`] on an S3-compatible object store (AWS S3, MinIO, Ceph RGW,
//! Garage, s3s-fs, …), through the `object_store` crate.
//!
//! ```text
//! <prefix>uploads/<upload id>/<n as 10 digits>   acknowledged parts
//! <prefix>records/<eh as 64 hex digits>          visible ciphertexts
//! ```
//!
//! S3 makes an object visible only when its `PUT` (or the completion of its
//! multipart upload) succeeds, and replaces an earlier object of the same
//! key atomically, which gives the same visibility rule as the file system
//! store's write-fsync-rename:
//!
//! - A part up to [`WRITE_CHUNK`] bytes is buffered and sent as one `PUT`
//!   at [`PartWriter::commit`]; a larger one streams through a multipart
//!   upload, completed at commit. A writer dropped without commit sends
//!   nothing, or aborts its multipart upload: an interrupted part leaves no
//!   object.
//! - [`BlobStore::assemble`] streams the parts in order, hashing and
//!   counting as it goes, and writes the record through a multipart upload
//!   (a single `PUT` for a record of at most [`WRITE_CHUNK`] bytes, sent only
//!   after the check) that is *completed* only if the size and SHA-256 match
//!   `eh`; otherwise it is aborted and no record object ever appears.
//! - Reads are ranged `GET`s of [`READ_WINDOW`] bytes, a few windows
//!   fetched ahead concurrently: memory is bounded, and a seek starts again
//!   at the new position.
//!
//! A process killed in the middle of a multipart upload leaves an
//! *incomplete multipart upload*: invisible to every read and listing, but
//! billed as storage until aborted. [`BlobStore::clean_temporary`] cannot
//! tell which of them belong to a dead instance when several share a bucket,
//! so it does nothing; give the bucket a lifecycle rule that aborts
//! incomplete multipart uploads after a day
//! (`AbortIncompleteMultipartUpload { DaysAfterInitiation: 1 }`).
//!
//! The trait is synchronous; the store owns a small tokio runtime and every
//! call waits for its requests with a runtime-agnostic executor on the
//! calling thread. Call it from a blocking thread (`spawn_blocking`, a plain
//! thread), never from an async task: that would block a runtime worker
//! for the duration of the request.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures::stream::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ClientOptions, MultipartUpload, ObjectStore, PutPayload, RetryConfig};
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
/// Multipart chunks of one assembly in flight at once: an assembly holds at
/// most `(1 + ASSEMBLY_CONCURRENCY) × chunk` bytes plus the read-ahead.
const ASSEMBLY_CONCURRENCY: usize = 4;
/// S3 allows 10,000 parts per multipart upload; records larger than
/// `MAX_CHUNKS × WRITE_CHUNK` (70 GiB) use larger chunks.
const MAX_CHUNKS: u64 = 9_000;
/// Blocks of the parts being read during an assembly, queued ahead.
const ASSEMBLY_READ_AHEAD: usize = 4;
/// Size of those blocks.
const ASSEMBLY_READ_BLOCK: usize = 1 << 20;
/// Size of one ranged `GET` of a record reader.
pub const READ_WINDOW: u64 = 8 << 20;
/// Windows a record reader fetches ahead of the one being read: a reader
/// holds at most `(1 + READ_AHEAD_WINDOWS) × READ_WINDOW` bytes.
const READ_AHEAD_WINDOWS: usize = 3;
/// Concurrent `DELETE`s when removing an upload's parts.
const DELETE_CONCURRENCY: usize = 8;
/// Worker threads of the store's own runtime (they only drive I/O).
const RUNTIME_THREADS: usize = 2;
/// Bound on one request, body included (a part or window is at most a few
/// MiB, read or written at the store's pace, never at a client's).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const PART_DIGITS: usize = 10;

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

/// Writes one object: buffered, then a single `PUT`, or a multipart upload
/// once more than one chunk was written. Only [`Uploader::finish`] makes
/// the object visible; dropping it aborts.
struct Uploader {
    inner: Arc<Inner>,
    path: Path,
    chunk: usize,
    concurrency: usize,
    buf: Vec<u8>,
    multipart: Option<Box<dyn MultipartUpload>>,
    in_flight: VecDeque<JoinHandle<Result<(), StoreError>>>,
}

impl Uploader {
    fn new(inner: Arc<Inner>, path: Path, chunk: usize, concurrency: usize, hint: usize) -> Self {
        Uploader {
            inner,
            path,
            chunk,
            concurrency,
            buf: Vec::with_capacity(hint.min(chunk)),
            multipart: None,
            in_flight: VecDeque::new(),
        }
    }

    async fn write(&mut self, mut data: &[u8]) -> Result<(), StoreError> {
        while !data.is_empty() {
            if self.buf.len() >= self.chunk {
                self.send_chunk().await?;
            }
            let room = self.chunk.saturating_sub(self.buf.len()).min(data.len());
            let (now, rest) = data.split_at(room);
            self.buf.extend_from_slice(now);
            data = rest;
        }
        Ok(())
    }

    /// Sends the buffer as the next part of the multipart upload (started
    /// on the first call), keeping at most `concurrency` parts in flight.
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
        let data = std::mem::replace(&mut self.buf, Vec::with_capacity(self.chunk));
        let part = multipart.put_part(PutPayload::from(data));
        self.in_flight.push_back(self.inner.spawn(part));
        while self.in_flight.len() > self.concurrency {
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

/// A record read through ranged `GET`s of [`READ_WINDOW`] bytes.
struct S3RecordReader {
    inner: Arc<Inner>,
    path: Path,
    len: u64,
    pos: u64,
    /// The fetched bytes at `pos`.
    current: Bytes,
    /// The windows being fetched ahead, in order, by their start.
    ahead: VecDeque<(u64, JoinHandle<Result<Bytes, StoreError>>)>,
}

impl S3RecordReader {
    fn fetch(&self, start: u64) -> JoinHandle<Result<Bytes, StoreError>> {
        let end = start.saturating_add(READ_WINDOW).min(self.len);
        let (store, path) = (self.inner.store.clone(), self.path.clone());
        self.inner
            .spawn(async move { store.get_range(&path, start..end).await })
    }

    fn drop_ahead(&mut self) {
        for (_, task) in self.ahead.drain(..) {
            task.abort();
        }
    }

    /// Starts fetching the windows after `from`, up to [`READ_AHEAD_WINDOWS`].
    fn fill_ahead(&mut self, from: u64) {
        let mut next = self
            .ahead
            .back()
            .map_or(from, |(start, _)| start.saturating_add(READ_WINDOW));
        while self.ahead.len() < READ_AHEAD_WINDOWS && next < self.len {
            let task = self.fetch(next);
            self.ahead.push_back((next, task));
            next = next.saturating_add(READ_WINDOW);
        }
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
        if buf.is_empty() || self.pos >= self.len {
            return Ok(0);
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
        let n = buf.len().min(self.current.len());
        let chunk = self.current.split_to(n);
        buf.get_mut(..n)
            .ok_or_else(|| io::Error::other("read buffer"))?
            .copy_from_slice(&chunk);
        self.pos = self.pos.saturating_add(n as u64);
        Ok(n)
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

/// Streams parts `paths` in order into `tx`; a missing part ends the stream
/// with [`StoreError::MissingPart`].
async fn read_parts(
    store: Arc<dyn ObjectStore>,
    paths: Vec<Path>,
    tx: tokio::sync::mpsc::Sender<Result<Bytes, StoreError>>,
) {
    // Body chunks (often a few KiB) are gathered into blocks, so that the
    // assembling thread is woken once per block, not once per chunk.
    let mut block = BytesMut::new();
    for (n, path) in (0u64..).zip(paths) {
        let failure = match store.get(&path).await {
            Ok(got) => {
                let mut stream = got.into_stream();
                let mut failure = None;
                while let Some(item) = stream.next().await {
                    match item {
                        Ok(data) => {
                            block.extend_from_slice(&data);
                            if block.len() >= ASSEMBLY_READ_BLOCK
                                && tx.send(Ok(block.split().freeze())).await.is_err()
                            {
                                return;
                            }
                        }
                        Err(e) => {
                            failure = Some(store_error(e));
                            break;
                        }
                    }
                }
                failure
            }
            Err(object_store::Error::NotFound { .. }) => Some(StoreError::MissingPart(n)),
            Err(e) => Some(store_error(e)),
        };
        if let Some(e) = failure {
            // The bytes before the failure first: a size overrun is reported
            // ahead of a later missing part, as by the file system store.
            if !block.is_empty() {
                let _ = tx.send(Ok(block.split().freeze())).await;
            }
            let _ = tx.send(Err(e)).await;
            return;
        }
    }
    if !block.is_empty() {
        let _ = tx.send(Ok(block.freeze())).await;
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

    fn record_path(&self, eh: &Eh) -> Path {
        self.key(&format!("records/{}", hex::encode(eh)))
    }

    /// Every object under `prefix`.
    fn list_keys(&self, prefix: Path) -> Result<Vec<Path>, StoreError> {
        let store = self.inner.store.clone();
        self.inner.run(async move {
            store
                .list(Some(&prefix))
                .map_ok(|meta| meta.location)
                .try_collect()
                .await
                .map_err(store_error)
        })
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
            uploader: Uploader::new(
                self.inner.clone(),
                self.part_path(upload, n),
                WRITE_CHUNK,
                PART_CONCURRENCY,
                1 << 20,
            ),
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
        let paths: Vec<Path> = (0..parts).map(|n| self.part_path(upload, n)).collect();
        let chunk = usize::try_from(size.div_ceil(MAX_CHUNKS))
            .unwrap_or(usize::MAX)
            .max(WRITE_CHUNK);
        let (tx, mut rx) = tokio::sync::mpsc::channel(ASSEMBLY_READ_AHEAD);
        let reader = self
            .inner
            .handle
            .spawn(read_parts(self.inner.store.clone(), paths, tx));
        let mut uploader = Uploader::new(
            self.inner.clone(),
            self.record_path(eh),
            chunk,
            ASSEMBLY_CONCURRENCY,
            usize::try_from(size).unwrap_or(usize::MAX),
        );
        let result = futures::executor::block_on(async {
            let mut hasher = Sha256::new();
            let mut total: u64 = 0;
            while let Some(data) = rx.recv().await {
                let data = data?;
                total = total.saturating_add(data.len() as u64);
                if total > size {
                    return Err(StoreError::SizeMismatch);
                }
                hasher.update(&data);
                uploader.write(&data).await?;
            }
            if total != size {
                return Err(StoreError::SizeMismatch);
            }
            if <[u8; 32]>::from(hasher.finalize()) != *eh {
                return Err(StoreError::HashMismatch);
            }
            uploader.finish().await
        });
        reader.abort();
        result // on failure, dropping `uploader` aborts the record's upload
    }

    fn open_record(&self, eh: &Eh) -> Result<(Box<dyn RecordReader>, u64), StoreError> {
        let (store, path) = (self.inner.store.clone(), self.record_path(eh));
        let head_path = path.clone();
        let meta = self
            .inner
            .run(async move { store.head(&head_path).await.map_err(store_error) })?;
        Ok((
            Box::new(S3RecordReader {
                inner: self.inner.clone(),
                path,
                len: meta.size,
                pos: 0,
                current: Bytes::new(),
                ahead: VecDeque::new(),
            }),
            meta.size,
        ))
    }

    fn delete_record(&self, eh: &Eh) -> Result<(), StoreError> {
        let (store, path) = (self.inner.store.clone(), self.record_path(eh));
        ignore_not_found(
            self.inner
                .run(async move { store.delete(&path).await.map_err(store_error) }),
        )
    }

    fn delete_upload(&self, upload: &UploadId) -> Result<(), StoreError> {
        let keys = self.list_keys(self.upload_path(upload))?;
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

    fn list_records(&self) -> Result<Vec<Eh>, StoreError> {
        Ok(self
            .list_keys(self.records_path())?
            .iter()
            .filter_map(|key| parse_eh(key.filename()?))
            .collect())
    }

    /// The object's `Last-Modified`. S3 may date an object written by a
    /// multipart upload from the upload's start, so an orphan grace period
    /// must exceed the slowest assembly.
    fn record_modified(&self, eh: &Eh) -> Result<Option<u64>, StoreError> {
        let (store, path) = (self.inner.store.clone(), self.record_path(eh));
        match self
            .inner
            .run(async move { store.head(&path).await.map_err(store_error) })
        {
            Ok(meta) => Ok(Some(
                u64::try_from(meta.last_modified.timestamp()).unwrap_or(0),
            )),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn list_uploads(&self) -> Result<Vec<UploadId>, StoreError> {
        let (store, prefix) = (self.inner.store.clone(), self.uploads_path());
        let listed = self.inner.run(async move {
            store
                .list_with_delimiter(Some(&prefix))
                .await
                .map_err(store_error)
        })?;
        Ok(listed
            .common_prefixes
            .iter()
            .filter_map(|p| UploadId::parse(p.filename()?))
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
