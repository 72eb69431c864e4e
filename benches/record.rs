//! Native benchmarks (`cargo bench`): streaming record encryption + SHA-256
//! and verification + decryption of a 256 MiB record in 1 MiB pieces, and the
//! doctor's per-event stealth-tag test. Figures go to the closing note.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation
)]
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ehrchain::anchor::{AnchorOpening, RecordType};
use ehrchain::grant::{Authorisation, GrantTerms, Scanner};
use ehrchain::mask::{MaskKey, RecordContext};
use ehrchain::record::{Decryptor, Encryptor, RecordKey, DEFAULT_SEGMENT_SIZE};
use ehrchain::SecretKey;

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

criterion_group!(benches, record, scan);
criterion_main!(benches);
