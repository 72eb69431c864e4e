//! The native CPU cost of what every access decision verifies offline
//! (`docs/PROTOCOL.md §9`): parsing a signed request and
//! `SignedRequest::verify_offline`, whose two ECDSA public-key recoveries
//! (the authority's signature on the certificate, the doctor's on the
//! request) dominate. Run by `server/bench/load.mjs` so that the decision
//! rate reads as a fraction of this machine's limit.
//!
//! ```sh
//! cargo run --release -p ehrchain-server --example verify_rate [seconds]
//! ```
//! Prints one JSON line: `{"verificationsPerSec", "recoveriesPerSec",
//! "cachedVerificationsPerSec", "threads": 1}`: the last with the server's
//! certificate cache warm (`src/issuers.rs`), one recovery per decision.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use ehrchain::cert::CertificateBody;
use ehrchain::request::{AccessRequest, SignedRequest};
use ehrchain::SecretKey;
use ehrchain_server::issuers::IssuerCache;

const HOSPITAL: &str = "Bench Hospital";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let secs: f64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(2.0);
    let now = ehrchain_server::app::now();
    let authority = SecretKey::generate()?;
    let doctor = SecretKey::generate()?;
    let cert = CertificateBody {
        doctor: doctor.address(),
        protocol_key: SecretKey::generate()?.public_key(),
        hospital: HOSPITAL.into(),
        valid_from: now - 60,
        valid_until: now + 86_400,
        serial: 1,
    }
    .sign(&authority)?;
    let json = AccessRequest::new(HOSPITAL, [5; 32], now, 600)?
        .sign(&doctor, cert, now)?
        .to_json();
    let address = authority.address();
    let deadline = Duration::from_secs_f64(secs / 2.0);
    let rate = |issuers: &dyn Fn(&SignedRequest) -> ehrchain::Result<()>| {
        let started = Instant::now();
        let mut n = 0u64;
        while started.elapsed() < deadline {
            let request = SignedRequest::from_json(&json)?;
            // Not confirmed on chain here: only the offline cost is measured.
            std::hint::black_box(issuers(&request))?;
            n += 1;
        }
        Ok::<_, ehrchain::Error>(n as f64 / started.elapsed().as_secs_f64())
    };
    let plain = rate(&|r| r.verify_offline(&address, HOSPITAL, now, 600).map(drop))?;
    let cache = IssuerCache::new(Some(address));
    let cached = rate(&|r| {
        r.verify_offline_using(&cache, &address, HOSPITAL, now, 600)
            .map(drop)
    })?;
    println!(
        "{{\"verificationsPerSec\":{plain:.0},\"recoveriesPerSec\":{:.0},\"cachedVerificationsPerSec\":{cached:.0},\"threads\":1}}",
        plain * 2.0
    );
    Ok(())
}
