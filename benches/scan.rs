//! Native benchmark of the doctor's per-event authorisation test
//! (`cargo bench --bench scan`, docs/PROTOCOL.md §5): `Scanner::matches` on
//! foreign events whose view tag does not match (one variable-base
//! multiplication and one hash), on matching events (the same plus the
//! fixed-base `h1(a·R)·G` and the `ST` comparison), the version-3 test
//! without a view tag (always both multiplications) and a bare k256 ECDH
//! (one variable-base multiplication and the affine conversion), and
//! foreign events tested 64 at a time (`Scanner::view_tags_match`, one
//! field inversion per batch, what a page scan does) in the same
//! run. Criterion measures each; a closing summary prints tests per second
//! and the ratio `tests/s ÷ ECDH/s` for each path, timing the paths in
//! interleaved short rounds and reporting medians, so that a change in the
//! machine's load during the run shifts all of them alike.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion, Throughput};
use ehrchain::anchor::{AnchorOpening, RecordType};
use ehrchain::grant::{Authorisation, GrantTerms, Scanner};
use ehrchain::mask::{MaskKey, RecordContext};
use ehrchain::SecretKey;
use k256::elliptic_curve::ops::MulByGenerator;
use k256::elliptic_curve::point::AffineCoordinates;
use k256::elliptic_curve::sec1::ToEncodedPoint;
use k256::elliptic_curve::PrimeField;
use k256::{AffinePoint, ProjectivePoint, PublicKey, Scalar};

/// Events prepared per path (the benchmarks cycle through them).
const EVENTS: usize = 64;
/// Rounds of the closing summary; each times every path for [`ROUND_TIME`].
const ROUNDS: usize = 15;
/// How long one round times one path.
const ROUND_TIME: Duration = Duration::from_millis(200);

/// The doctor's protocol secret `a`.
const DOCTOR: [u8; 32] = [0x33; 32];

fn grant_to(doctor: &SecretKey) -> Authorisation {
    let pass = GrantTerms {
        doctor: doctor.public_key(),
        context: RecordContext::new("General Hospital", 1_700_000_000).unwrap(),
        mask_key: MaskKey::generate().unwrap(),
        eh: [3; 32],
        opening: AnchorOpening::generate(RecordType::new("lab").unwrap()).unwrap(),
    }
    .sign(&SecretKey::generate().unwrap())
    .unwrap();
    Authorisation::create(&pass).unwrap()
}

/// The events of each path, for the scanner of [`DOCTOR`].
struct Fixture {
    scanner: Scanner,
    /// `a` as a k256 scalar, for the bare ECDH and the version-3 test.
    a: Scalar,
    /// Grants to other keys whose view tag does not match (255 of 256 do).
    foreign: Vec<Authorisation>,
    /// Grants to [`DOCTOR`].
    mine: Vec<Authorisation>,
    /// The foreign events' `R`, decoded once (what a bare ECDH takes).
    points: Vec<AffinePoint>,
}

fn fixture() -> Fixture {
    let scanner = Scanner::new(SecretKey::from_bytes(&DOCTOR).unwrap());
    let me = SecretKey::from_bytes(&DOCTOR).unwrap();
    let a = Option::<Scalar>::from(Scalar::from_repr(DOCTOR.into())).unwrap();
    let mut foreign = Vec::with_capacity(EVENTS);
    while foreign.len() < EVENTS {
        let auth = grant_to(&SecretKey::generate().unwrap());
        // Keep only the tag-mismatch path: a foreign tag that collides with
        // this key's (1 in 256) takes the full test, measured as "matching".
        let r = PublicKey::from_sec1_bytes(&auth.r).unwrap().to_projective();
        if ehrchain::hash::view_tag(&(r * a)) != auth.view_tag {
            foreign.push(auth);
        }
    }
    let mine: Vec<_> = (0..EVENTS).map(|_| grant_to(&me)).collect();
    let points = foreign
        .iter()
        .map(|auth| *PublicKey::from_sec1_bytes(&auth.r).unwrap().as_affine())
        .collect();
    Fixture {
        scanner,
        a,
        foreign,
        mine,
        points,
    }
}

/// The version-3 test, without a view tag: `compressed(h1(a·R)·G) == ST`.
fn stealth_tag_only(a: &Scalar, auth: &Authorisation) -> bool {
    let Ok(r) = PublicKey::from_sec1_bytes(&auth.r) else {
        return false;
    };
    let Ok(k) = ehrchain::hash::h1(&(r.to_projective() * a)) else {
        return false;
    };
    ProjectivePoint::mul_by_generator(&k)
        .to_affine()
        .to_encoded_point(true)
        .as_bytes()
        == auth.st
}

/// A bare ECDH: one variable-base multiplication of a decoded point, then
/// the affine x coordinate (k256's `diffie_hellman` does exactly this).
fn ecdh(a: &Scalar, point: &AffinePoint) -> [u8; 32] {
    (ProjectivePoint::from(*point) * a).to_affine().x().into()
}

fn scan(c: &mut Criterion) {
    let f = fixture();
    let mut group = c.benchmark_group("scan");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function("foreign event (view tag mismatch)", |b| {
        b.iter(|| {
            i = (i + 1) % EVENTS;
            assert!(!f.scanner.matches(black_box(&f.foreign[i])));
        })
    });
    group.bench_function("matching event (view tag, then ST)", |b| {
        b.iter(|| {
            i = (i + 1) % EVENTS;
            assert!(f.scanner.matches(black_box(&f.mine[i])));
        })
    });
    group.bench_function("foreign event, version-3 test (ST only)", |b| {
        b.iter(|| {
            i = (i + 1) % EVENTS;
            assert!(!stealth_tag_only(&f.a, black_box(&f.foreign[i])));
        })
    });
    group.bench_function("bare k256 ECDH (one variable-base multiplication)", |b| {
        b.iter(|| {
            i = (i + 1) % EVENTS;
            black_box(ecdh(&f.a, black_box(&f.points[i])))
        })
    });
    group.finish();
}

/// Calls of `test` per second over [`ROUND_TIME`].
fn per_second(test: &mut dyn FnMut(usize)) -> f64 {
    let start = Instant::now();
    let mut calls = 0usize;
    while start.elapsed() < ROUND_TIME {
        for _ in 0..64 {
            test(calls % EVENTS);
            calls += 1;
        }
    }
    calls as f64 / start.elapsed().as_secs_f64()
}

/// One timed path of the summary: its name and the test of event `i`.
type Path<'a> = (&'static str, Box<dyn FnMut(usize) + 'a>);

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The closing summary: tests per second and the ratio to ECDH per second,
/// medians over [`ROUNDS`] interleaved rounds (the ratio is taken within
/// each round, then its median).
fn summary() {
    let f = fixture();
    let probes: Vec<(u8, [u8; 33])> = f
        .foreign
        .iter()
        .map(|auth| (auth.view_tag, auth.r))
        .collect();
    let mut paths: [Path<'_>; 5] = [
        (
            "bare k256 ECDH",
            Box::new(|i| {
                black_box(ecdh(&f.a, black_box(&f.points[i])));
            }),
        ),
        (
            "foreign event (view tag mismatch)",
            Box::new(|i| assert!(!f.scanner.matches(black_box(&f.foreign[i])))),
        ),
        (
            "foreign events in a batch of 64 (view_tags_match)",
            // The batch is tested at the first event of each cycle of 64:
            // per call, one event's share.
            Box::new(|i| {
                if i == 0 {
                    assert!(!f
                        .scanner
                        .view_tags_match(black_box(&probes))
                        .contains(&true));
                }
            }),
        ),
        (
            "matching event (view tag, then ST)",
            Box::new(|i| assert!(f.scanner.matches(black_box(&f.mine[i])))),
        ),
        (
            "foreign event, version-3 test (ST only)",
            Box::new(|i| assert!(!stealth_tag_only(&f.a, black_box(&f.foreign[i])))),
        ),
    ];
    let mut rates = vec![Vec::with_capacity(ROUNDS); paths.len()];
    for _ in 0..ROUNDS {
        for (k, (_, test)) in paths.iter_mut().enumerate() {
            rates[k].push(per_second(test.as_mut()));
        }
    }
    println!(
        "\nauthorisation tests per second (one core; median of {ROUNDS} interleaved rounds of {ROUND_TIME:?} per path):"
    );
    println!("  {:<42} {:>10.0} /s", paths[0].0, median(rates[0].clone()));
    for k in 1..paths.len() {
        let ratios = rates[k].iter().zip(&rates[0]).map(|(t, e)| t / e).collect();
        println!(
            "  {:<42} {:>10.0} /s   tests/s ÷ ECDH/s = {:.2}",
            paths[k].0,
            median(rates[k].clone()),
            median(ratios)
        );
    }
}

criterion_group!(benches, scan);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
