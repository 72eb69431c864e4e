//! Native benchmark of public-key recovery, the step every certificate and
//! request check takes (`cargo bench --bench recovery --features
//! libsecp256k1`): k256's `recover_from_prehash` against libsecp256k1
//! (`ehrchain::recovery`), in interleaved short rounds on the same
//! signatures, printing the median rate of each and their ratio, so that a
//! change in the machine's load during the run shifts both alike.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use k256::ecdsa::{RecoveryId, Signature, SigningKey};

/// Signatures prepared (the rounds cycle through them).
const SIGNATURES: usize = 256;
/// Rounds; each times every backend for [`ROUND_TIME`].
const ROUNDS: usize = 15;
/// How long one round times one backend.
const ROUND_TIME: Duration = Duration::from_millis(200);

type Backend = fn(&[u8; 32], &Signature, RecoveryId) -> ehrchain::Result<k256::PublicKey>;

/// Recoveries per second of `backend` over `signed` for about [`ROUND_TIME`].
fn rate(backend: Backend, signed: &[([u8; 32], Signature, RecoveryId)]) -> f64 {
    let started = Instant::now();
    let mut done = 0u64;
    while started.elapsed() < ROUND_TIME {
        for (digest, signature, id) in signed {
            black_box(backend(black_box(digest), signature, *id).unwrap());
        }
        done += signed.len() as u64;
    }
    done as f64 / started.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let signed: Vec<_> = (0..SIGNATURES)
        .map(|i| {
            let key =
                SigningKey::from_bytes(&ehrchain::hash::sha256(&i.to_be_bytes()).into()).unwrap();
            let digest = ehrchain::hash::keccak256(&i.to_be_bytes());
            let (signature, id) = key.sign_prehash_recoverable(&digest).unwrap();
            (digest, signature, id)
        })
        .collect();
    let mut backends: Vec<(&str, Backend)> =
        vec![("k256 recover_from_prehash", ehrchain::recovery::with_k256)];
    #[cfg(feature = "libsecp256k1")]
    backends.push(("libsecp256k1", ehrchain::recovery::with_libsecp256k1));
    let mut rates = vec![Vec::new(); backends.len()];
    for _ in 0..ROUNDS {
        for ((_, backend), r) in backends.iter().zip(rates.iter_mut()) {
            r.push(rate(*backend, &signed));
        }
    }
    let medians: Vec<f64> = rates.into_iter().map(median).collect();
    println!("public-key recovery, one thread, median of {ROUNDS} interleaved rounds:");
    for ((name, _), m) in backends.iter().zip(&medians) {
        println!("  {name:<28} {m:>9.0}/s  ({:.2}x k256)", m / medians[0]);
    }
    if backends.len() == 1 {
        println!("  (libsecp256k1 not compiled in: add --features libsecp256k1)");
    }
}
