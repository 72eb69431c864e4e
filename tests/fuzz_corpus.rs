//! Stable replay of the fuzz corpora (issue #10): every cargo-fuzz target's
//! `run` (fuzz/targets/<name>.rs, plain functions that need no libFuzzer)
//! over every file of `fuzz/corpus/<name>/` and, if present,
//! `fuzz/regressions/<name>/`. A missing or empty corpus fails the test.
//! Run with `--features kat` to include the `record` target's
//! re-encryption check; see fuzz/README.md.
#![cfg(not(target_arch = "wasm32"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub,
    missing_docs
)]

use std::path::{Path, PathBuf};

#[path = "../fuzz/targets/abi.rs"]
mod abi;
#[path = "../fuzz/targets/authorisation.rs"]
mod authorisation;
#[path = "../fuzz/targets/certificate.rs"]
mod certificate;
#[path = "../fuzz/targets/ecies.rs"]
mod ecies;
#[path = "../fuzz/targets/eip712.rs"]
mod eip712;
#[path = "../fuzz/targets/event.rs"]
mod event;
#[path = "../fuzz/targets/handoff.rs"]
mod handoff;
#[path = "../fuzz/targets/log.rs"]
mod log;
#[path = "../fuzz/targets/pass.rs"]
mod pass;
#[path = "../fuzz/targets/primitives.rs"]
mod primitives;
#[path = "../fuzz/targets/record.rs"]
mod record;
#[path = "../fuzz/targets/request.rs"]
mod request;
#[path = "../fuzz/targets/transaction.rs"]
mod transaction;
#[path = "../fuzz/targets/views.rs"]
mod views;

macro_rules! replay_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                replay(stringify!($name), $name::run);
            }
        )*
    };
}

replay_tests!(
    abi,
    authorisation,
    certificate,
    ecies,
    eip712,
    event,
    handoff,
    log,
    pass,
    primitives,
    record,
    request,
    transaction,
    views,
);

/// The files of `dir`, sorted (none if it does not exist).
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `run` on every corpus and regression input of `target`.
fn replay(target: &str, run: fn(&[u8])) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let corpus = files(&fuzz.join("corpus").join(target));
    assert!(
        !corpus.is_empty(),
        "fuzz/corpus/{target}/ is missing or empty"
    );
    let regressions = files(&fuzz.join("regressions").join(target));
    for path in corpus.iter().chain(&regressions) {
        let data = std::fs::read(path).expect("readable corpus file");
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(
            outcome.is_ok(),
            "fuzz target {target} panicked on {} (hex {})",
            path.display(),
            ehrchain::hex::encode(&data)
        );
    }
}
