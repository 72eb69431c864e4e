//! Throughput of the S3-compatible blob store against the file system one,
//! in the same run: a record of N MiB (default 512) is uploaded as parts of
//! 8 MiB (four writers at once, as concurrent clients send them),
//! assembled (read, hashed, written and checked), and downloaded (read in
//! 256 KiB pieces, as downloads are served, and hashed).
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
//! Prints one line per store and phase, in MB/s (10^6 bytes per second).
#![allow(clippy::print_stdout, clippy::cast_possible_truncation)]

#[path = "../tests/common/bytes.rs"]
mod bytes;
#[path = "../tests/common/s3.rs"]
mod s3_server;

use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use ehrchain_server::store::fs::FsBlobStore;
use ehrchain_server::store::s3::{S3BlobStore, S3Config};
use ehrchain_server::store::{BlobStore, UploadId};
use sha2::{Digest, Sha256};

type Error = Box<dyn std::error::Error + Send + Sync>;

const MIB: u64 = 1 << 20;
const WRITERS: u64 = 4;
const DOWNLOAD_READ: usize = 256 << 10;

/// Part `n` of the record: deterministic pseudo-random bytes.
fn part_bytes(n: u64, len: u64) -> Vec<u8> {
    bytes::pseudo_random_bytes(len as usize, n.wrapping_add(1))
}

fn mb_per_s(bytes: u64, started: Instant) -> f64 {
    bytes as f64 / 1e6 / started.elapsed().as_secs_f64().max(1e-9)
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
    println!(
        "{name:>3} upload   (parts) {:8.1} MB/s",
        mb_per_s(size, started)
    );

    let started = Instant::now();
    store.assemble(&id, parts, size, &eh)?;
    println!(
        "{name:>3} assemble        {:8.1} MB/s",
        mb_per_s(size, started)
    );

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
    println!(
        "{name:>3} download        {:8.1} MB/s",
        mb_per_s(total, started)
    );
    if total != len || total != size || <[u8; 32]>::from(hasher.finalize()) != eh {
        return Err("the downloaded record differs".into());
    }
    store.delete_upload(&id)?;
    store.delete_record(&eh)?;
    Ok(())
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
    run("s3", Arc::new(S3BlobStore::open(&config)?), size, part)?;
    let dir = tempfile::tempdir()?;
    run("fs", Arc::new(FsBlobStore::open(dir.path())?), size, part)?;
    drop(local);
    Ok(())
}
