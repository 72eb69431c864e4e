//! Throughput of the S3-compatible blob store against the file system one,
//! in the same run: a record of N MiB (default 512) is uploaded as parts of
//! 8 MiB (four writers at once, as concurrent clients send them),
//! assembled (copied inside the bucket, read back, hashed and checked), and
//! downloaded (read in 256 KiB pieces, as downloads are served, and hashed).
//!
//! A third row is a reference for the S3 server itself, so that the S3
//! store's figures read as a fraction of what the server does on this
//! machine: the same N MiB sent and fetched with the `object_store` crate
//! directly (same endpoint, bucket and keys, no store in between, nothing
//! hashed):
//!
//! - *upload*: one multipart `PUT` of the whole object, in chunks of the
//!   store's `WRITE_CHUNK` (8 MiB) with as many in flight as the store keeps
//!   when it writes a record (4), the chunks generated one at a time by the
//!   same pseudo-random generator (memory stays bounded);
//! - *download*: one streaming whole-object `GET`, counting bytes, then the
//!   same object as ranged `GET`s of 8 MiB, 4 in flight, printed as
//!   `single / ranged`: whether parallel ranges lift the ceiling.
//!
//! It has no assembly, hence `—` in that column.
//!
//! ```sh
//! cargo run --release -p ehrchain-server --example s3_throughput [MiB] [part MiB]
//! ```
//!
//! With `EHR_S3_ENDPOINT` set it uses that service (`EHR_S3_BUCKET`,
//! `EHR_S3_REGION` (default `us-east-1`), `EHR_S3_ACCESS_KEY_ID`,
//! `EHR_S3_SECRET_ACCESS_KEY`, `EHR_S3_PREFIX` (default
//! `ehrchain-throughput/`), `EHR_S3_ALLOW_HTTP=1`); otherwise it starts
//! `s3s-fs` on a loopback port as the tests do (the S3 protocol over a local
//! disk: it measures the store's own overhead, not a real service).
//! Prints a table, one row per store (and the S3 server's reference row),
//! in MB/s (10^6 bytes per second).
#![allow(clippy::print_stdout, clippy::cast_possible_truncation)]

#[path = "../tests/common/bytes.rs"]
mod bytes;
#[path = "../tests/common/s3.rs"]
mod s3_server;

use std::collections::VecDeque;
use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use ehrchain_server::store::fs::FsBlobStore;
use ehrchain_server::store::s3::{S3BlobStore, S3Config, WRITE_CHUNK};
use ehrchain_server::store::{BlobStore, UploadId};
use futures::stream::StreamExt;
use object_store::path::Path;
use object_store::{ClientOptions, ObjectStore, PutPayload};
use sha2::{Digest, Sha256};

type Error = Box<dyn std::error::Error + Send + Sync>;

const MIB: u64 = 1 << 20;
const WRITERS: u64 = 4;
const DOWNLOAD_READ: usize = 256 << 10;
/// Multipart chunks in flight in the reference `PUT`: as many as the store
/// keeps when it writes a record (`ASSEMBLY_CONCURRENCY` in `store/s3.rs`).
const PUT_IN_FLIGHT: usize = 4;
/// Size of one ranged `GET` of the reference download.
const RANGE: u64 = 8 * MIB;
/// Ranged `GET`s in flight in the reference download.
const RANGES_IN_FLIGHT: usize = 4;
/// Worker threads of the reference's runtime: as many as the store's own.
const REFERENCE_THREADS: usize = 2;

/// Part `n` of the record: deterministic pseudo-random bytes.
fn part_bytes(n: u64, len: u64) -> Vec<u8> {
    bytes::pseudo_random_bytes(len as usize, n.wrapping_add(1))
}

fn mb_per_s(bytes: u64, started: Instant) -> f64 {
    bytes as f64 / 1e6 / started.elapsed().as_secs_f64().max(1e-9)
}

/// One row of the table (the header's columns).
fn row(name: &str, upload: &str, assemble: &str, download: &str) {
    println!("| {name:<31} | {upload:>14} | {assemble:>13} | {download:>24} |");
}

fn header() {
    row("store", "upload MB/s", "assemble MB/s", "download MB/s");
    println!(
        "|{}|{}:|{}:|{}:|",
        "-".repeat(33),
        "-".repeat(15),
        "-".repeat(14),
        "-".repeat(25)
    );
}

fn run(name: &str, store: Arc<dyn BlobStore>, size: u64, part: u64) -> Result<(), Error> {
    let parts = size.div_ceil(part);
    let part_len = move |n: u64| part.min(size - n * part);
    let mut hasher = Sha256::new();
    for n in 0..parts {
        hasher.update(part_bytes(n, part_len(n)));
    }
    let eh: [u8; 32] = hasher.finalize().into();
    let id = UploadId::random()?;

    let started = Instant::now();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = store.clone();
            std::thread::spawn(move || -> Result<(), Error> {
                for n in (w..parts).step_by(WRITERS as usize) {
                    let data = part_bytes(n, part_len(n));
                    let mut writer = store.part_writer(&id, n)?;
                    for piece in data.chunks(64 << 10) {
                        writer.write(piece)?;
                    }
                    writer.commit()?;
                }
                Ok(())
            })
        })
        .collect();
    for writer in writers {
        writer.join().map_err(|_| "a writer panicked")??;
    }
    let upload = mb_per_s(size, started);

    let started = Instant::now();
    store.assemble(&id, parts, size, &eh)?;
    let assemble = mb_per_s(size, started);

    let started = Instant::now();
    let (mut reader, len) = store.open_record(&eh)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; DOWNLOAD_READ];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).ok_or("read past the buffer")?);
        total += n as u64;
    }
    let download = mb_per_s(total, started);
    if total != len || total != size || <[u8; 32]>::from(hasher.finalize()) != eh {
        return Err("the downloaded record differs".into());
    }
    row(
        name,
        &format!("{upload:.1}"),
        &format!("{assemble:.1}"),
        &format!("{download:.1}"),
    );
    store.delete_upload(&id)?;
    store.delete_record(&eh)?;
    Ok(())
}

/// The S3 server's own figures, through `object_store` without the store:
/// (multipart `PUT`, single streaming `GET`, parallel ranged `GET`s), MB/s.
fn reference(config: &S3Config, size: u64) -> Result<(f64, f64, f64), Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(REFERENCE_THREADS)
        .enable_all()
        .build()?;
    let _entered = runtime.enter();
    let store: Arc<dyn ObjectStore> = Arc::new(config.builder(ClientOptions::new()).build()?);
    let path = Path::from(format!(
        "{}/reference/{}",
        config.prefix.trim_matches('/'),
        UploadId::random()?.to_hex()
    ));
    let result = runtime.block_on(reference_io(store.clone(), path.clone(), size));
    // Removed whatever happened (a failed multipart upload is aborted).
    let _ = runtime.block_on(async move { store.delete(&path).await });
    result
}

async fn reference_io(
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
) -> Result<(f64, f64, f64), Error> {
    let chunk = WRITE_CHUNK as u64;

    // (a) One multipart PUT, chunks generated one at a time.
    let started = Instant::now();
    let mut upload = store.put_multipart(&path).await?;
    let sent = async {
        let mut in_flight = VecDeque::new();
        for n in 0..size.div_ceil(chunk) {
            let data = part_bytes(n, chunk.min(size - n * chunk));
            in_flight.push_back(tokio::spawn(upload.put_part(PutPayload::from(data))));
            while in_flight.len() > PUT_IN_FLIGHT {
                if let Some(task) = in_flight.pop_front() {
                    task.await??;
                }
            }
        }
        while let Some(task) = in_flight.pop_front() {
            task.await??;
        }
        Ok::<_, Error>(())
    }
    .await;
    match sent {
        Ok(()) => {
            upload.complete().await?;
        }
        Err(e) => {
            let _ = upload.abort().await;
            return Err(e);
        }
    }
    let put = mb_per_s(size, started);

    // (b) One streaming whole-object GET.
    let started = Instant::now();
    let mut stream = store.get(&path).await?.into_stream();
    let mut total = 0u64;
    while let Some(bytes) = stream.next().await {
        total += bytes?.len() as u64;
    }
    let single = mb_per_s(total, started);
    if total != size {
        return Err(format!("the GET returned {total} bytes, not {size}").into());
    }

    // (c) The same object as ranged GETs, a few in flight.
    let started = Instant::now();
    let mut fetched = futures::stream::iter(0..size.div_ceil(RANGE))
        .map(|i| {
            let (store, path) = (store.clone(), path.clone());
            let range = i * RANGE..((i + 1) * RANGE).min(size);
            tokio::spawn(async move { store.get_range(&path, range).await })
        })
        .buffered(RANGES_IN_FLIGHT);
    let mut total = 0u64;
    while let Some(bytes) = fetched.next().await {
        total += bytes??.len() as u64;
    }
    let ranged = mb_per_s(total, started);
    if total != size {
        return Err(format!("the ranged GETs returned {total} bytes, not {size}").into());
    }

    // Outside the timings: the object holds the bytes that were sent.
    let first = store.get_range(&path, 0..chunk.min(size)).await?;
    if first.as_ref() != part_bytes(0, chunk.min(size)).as_slice() {
        return Err("the object read back differs from the one sent".into());
    }
    Ok((put, single, ranged))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let mib: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(512);
    let part_mib: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(8);
    let (size, part) = (mib.max(1) * MIB, part_mib.max(1) * MIB);

    let mut local = None;
    let config = match env("EHR_S3_ENDPOINT") {
        Some(endpoint) => S3Config {
            endpoint,
            bucket: env("EHR_S3_BUCKET").ok_or("EHR_S3_BUCKET is not set")?,
            region: env("EHR_S3_REGION").unwrap_or_else(|| "us-east-1".to_owned()),
            access_key_id: env("EHR_S3_ACCESS_KEY_ID").unwrap_or_default(),
            secret_access_key: env("EHR_S3_SECRET_ACCESS_KEY").unwrap_or_default(),
            prefix: env("EHR_S3_PREFIX").unwrap_or_else(|| "ehrchain-throughput/".to_owned()),
            allow_http: env("EHR_S3_ALLOW_HTTP").is_some_and(|v| v == "1"),
        },
        None => {
            let server = s3_server::S3sFs::start()?;
            let config = server.config("");
            local = Some(server);
            config
        }
    };
    println!(
        "{mib} MiB record in {part_mib} MiB parts; S3: {}{}",
        config.endpoint,
        if local.is_some() {
            " (s3s-fs on a temporary directory)"
        } else {
            ""
        }
    );
    println!();
    header();
    run("s3", Arc::new(S3BlobStore::open(&config)?), size, part)?;
    let (put, single, ranged) = reference(&config, size)?;
    row(
        "s3 server (object_store direct)",
        &format!("{put:.1}"),
        "—",
        &format!("{single:.1} / {ranged:.1}"),
    );
    let dir = tempfile::tempdir()?;
    run("fs", Arc::new(FsBlobStore::open(dir.path())?), size, part)?;
    drop(local);
    println!();
    println!(
        "s3 server: one multipart PUT ({} MiB chunks, {PUT_IN_FLIGHT} in flight); \
         download = one streaming GET / ranged GETs ({} MiB, {RANGES_IN_FLIGHT} in flight)",
        WRITE_CHUNK >> 20,
        RANGE / MIB
    );
    Ok(())
}
