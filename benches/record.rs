//! Native benchmarks (`cargo bench --bench record`): streaming record
//! encryption + SHA-256 and verification + decryption of a 256 MiB record in
//! 1 MiB pieces, the doctor's per-event stealth-tag test, and, to read them
//! against, SHA-256 alone and AES-128-GCM alone over the same pieces: the
//! run ends with a table of ratios (the machine is shared and noisy, so the
//! ratios of one run say more than the absolute figures).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation
)]
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::time::Instant;

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::Aes128Gcm;
use criterion::{criterion_group, Criterion, Throughput};
use ehrchain::anchor::{AnchorOpening, RecordType};
use ehrchain::grant::{Authorisation, GrantTerms, Scanner};
use ehrchain::mask::{MaskKey, RecordContext};
use ehrchain::record::{Decryptor, Encryptor, RecordKey, DEFAULT_SEGMENT_SIZE};
use ehrchain::SecretKey;
use sha2::{Digest, Sha256};

const RECORD: usize = 256 << 20;
const PIECE: usize = 1 << 20;

fn record(c: &mut Criterion) {
    let key = RecordKey::from_bytes(&[7u8; 16]).unwrap();
    let piece: Vec<u8> = (0..PIECE).map(|i| (i % 251) as u8).collect();
    let mut group = c.benchmark_group("record_256MiB");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(RECORD as u64));
    group.bench_function("encrypt+sha256", |b| {
        b.iter(|| {
            let mut enc = Encryptor::new(&key, b"aad", DEFAULT_SEGMENT_SIZE).unwrap();
            let mut out = Vec::with_capacity(2 * PIECE);
            for _ in 0..RECORD / PIECE {
                enc.push(&piece, &mut out).unwrap();
                out.clear();
            }
            enc.finish(&mut out).unwrap()
        })
    });
    let mut ciphertext = Vec::with_capacity(RECORD + RECORD / 1000);
    let mut enc = Encryptor::new(&key, b"aad", DEFAULT_SEGMENT_SIZE).unwrap();
    for _ in 0..RECORD / PIECE {
        enc.push(&piece, &mut ciphertext).unwrap();
    }
    let eh = enc.finish(&mut ciphertext).unwrap();
    group.bench_function("sha256+verify+decrypt", |b| {
        b.iter(|| {
            let mut dec = Decryptor::new(&key, b"aad", DEFAULT_SEGMENT_SIZE).unwrap();
            dec.expect_hash(eh);
            let mut out = Vec::with_capacity(2 * PIECE);
            for chunk in ciphertext.chunks(PIECE) {
                dec.push(chunk, &mut out).unwrap();
                out.clear();
            }
            dec.finish(&mut out).unwrap()
        })
    });
    group.finish();
}

fn scan(c: &mut Criterion) {
    let doctor = SecretKey::generate().unwrap();
    let other = SecretKey::generate().unwrap();
    let pass = GrantTerms {
        doctor: other.public_key(),
        context: RecordContext::new("General Hospital", 1_700_000_000).unwrap(),
        mask_key: MaskKey::generate().unwrap(),
        eh: [1; 32],
        opening: AnchorOpening::generate(RecordType::new("lab").unwrap()).unwrap(),
    }
    .sign(&SecretKey::generate().unwrap())
    .unwrap();
    let auth = Authorisation::create(&pass).unwrap();
    let scanner = Scanner::new(doctor);
    c.bench_function("scan/tag_test_per_event", |b| {
        b.iter(|| scanner.matches(std::hint::black_box(&auth)))
    });
}

/// Seconds for the best of three runs of `f`.
fn best_of_three(mut f: impl FnMut()) -> f64 {
    (0..3)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// The record passes against the primitives alone, in one run, as ratios.
fn ratios() {
    let key = RecordKey::from_bytes(&[7u8; 16]).unwrap();
    let piece: Vec<u8> = (0..PIECE).map(|i| (i % 251) as u8).collect();
    let mib = (RECORD / PIECE) as f64;
    let sha = best_of_three(|| {
        let mut h = Sha256::new();
        for _ in 0..RECORD / PIECE {
            h.update(&piece);
        }
        std::hint::black_box(h.finalize());
    });
    let cipher = Aes128Gcm::new_from_slice(&[7u8; 16]).unwrap();
    let mut buf = piece.clone();
    let aes = best_of_three(|| {
        for i in 0..RECORD / PIECE {
            let mut nonce = [0u8; 12];
            nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
            let tag = cipher
                .encrypt_in_place_detached((&nonce).into(), b"", &mut buf)
                .unwrap();
            std::hint::black_box(tag);
        }
    });
    let mut ciphertext = Vec::with_capacity(RECORD + RECORD / 1000);
    let encrypt = best_of_three(|| {
        ciphertext.clear();
        let mut enc = Encryptor::new(&key, b"aad", DEFAULT_SEGMENT_SIZE).unwrap();
        for _ in 0..RECORD / PIECE {
            enc.push(&piece, &mut ciphertext).unwrap();
        }
        enc.finish(&mut ciphertext).unwrap();
    });
    let decrypt = best_of_three(|| {
        let mut dec = Decryptor::new(&key, b"aad", DEFAULT_SEGMENT_SIZE).unwrap();
        let mut out = Vec::with_capacity(2 * PIECE);
        for chunk in ciphertext.chunks(PIECE) {
            dec.push(chunk, &mut out).unwrap();
            out.clear();
        }
        dec.finish(&mut out).unwrap();
    });
    let rate = |s: f64| mib * PIECE as f64 / 1e6 / s;
    println!("\nnative, 256 MiB in 1 MiB pieces (best of 3)   MB/s   × SHA-256 alone   × AES-128-GCM alone");
    for (name, s) in [
        ("SHA-256 alone (sha2)", sha),
        ("AES-128-GCM alone (aes-gcm)", aes),
        ("encrypt+hash (Encryptor)", encrypt),
        ("verify+decrypt (Decryptor)", decrypt),
    ] {
        println!(
            "  {name:<44} {:>6.0}   {:>15.2}   {:>17.2}",
            rate(s),
            sha / s,
            aes / s
        );
    }
}

criterion_group!(benches, record, scan);

fn main() {
    benches();
    ratios();
    Criterion::default().configure_from_args().final_summary();
}
