//! Fuzzes [`Authorisation::from_parts`] on `(vt, R, ST, C1)` split from the
//! input, and [`Scanner::open`] with a fixed doctor key on whatever parses.
//!
//! Input: `u8 vt ‖ u8 len(R) ‖ u8 len(ST) ‖ R ‖ ST ‖ C1` (each length taken
//! mod 40, cut to what is left; `C1` is the rest).
//!
//! Invariants:
//! - `from_parts` and `open` never panic: `Ok` or a typed `Error`;
//! - a parsed authorisation holds exactly the four fields it was given;
//! - `open` answers `NotForThisKey` exactly when `matches` is false, and
//!   `matches` agrees with `matches_parts` on the raw bytes;
//! - an opened pass re-encodes to the very plaintext sealed in `C1`
//!   (the pass encoding is canonical) and its signer is the patient named.

use std::sync::OnceLock;

use ehrchain::{ecies, Authorisation, Error, Scanner, SecretKey};

/// The doctor's protocol secret `a` (seeds are sealed to its public key).
pub const DOCTOR_SECRET: [u8; 32] = [0x33; 32];

fn doctor() -> &'static (Scanner, SecretKey) {
    static DOCTOR: OnceLock<(Scanner, SecretKey)> = OnceLock::new();
    DOCTOR.get_or_init(|| {
        let key = || SecretKey::from_bytes(&DOCTOR_SECRET).expect("a valid scalar");
        (Scanner::new(key()), key())
    })
}

/// `(vt, R, ST, C1)` as split from the input.
type Parts<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

/// Splits `data` into `(vt, R, ST, C1)`.
fn split(data: &[u8]) -> Option<Parts<'_>> {
    let (&view_tag, rest) = data.split_first()?;
    let (&r_len, rest) = rest.split_first()?;
    let (&st_len, rest) = rest.split_first()?;
    let (r, rest) = rest.split_at(usize::from(r_len % 40).min(rest.len()));
    let (st, c1) = rest.split_at(usize::from(st_len % 40).min(rest.len()));
    Some((view_tag, r, st, c1))
}

/// Parses and opens the authorisation in `data`, checking the invariants above.
pub fn run(data: &[u8]) {
    let Some((view_tag, r, st, c1)) = split(data) else {
        return;
    };
    let Ok(auth) = Authorisation::from_parts(view_tag, r, st, c1) else {
        return;
    };
    assert_eq!(
        (auth.view_tag, &auth.r[..], &auth.st[..], &auth.c1[..]),
        (view_tag, r, st, c1),
        "from_parts keeps its fields"
    );
    let (scanner, secret) = doctor();
    let matches = scanner.matches(&auth);
    assert_eq!(matches, scanner.matches_parts(view_tag, r, st));
    if matches {
        // The view tag filters: any other tag on the same (R, ST) is no match.
        assert!(!scanner.matches_parts(view_tag ^ 1, r, st));
    }
    match scanner.open(&auth) {
        Err(Error::NotForThisKey) => assert!(!matches, "a matching tag was refused"),
        Err(_) => assert!(matches, "a foreign tag got past the match"),
        Ok(opened) => {
            assert!(matches);
            let plain = ecies::open(secret, &auth.c1).expect("it opened once");
            assert_eq!(
                opened.pass.encode().as_slice(),
                plain.as_slice(),
                "the pass encoding is canonical"
            );
            assert_eq!(opened.pass.signer(), Ok(opened.patient));
            assert_eq!(opened.pass.terms.doctor, scanner.public_key());
        }
    }
}
