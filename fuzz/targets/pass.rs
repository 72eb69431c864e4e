//! Fuzzes [`AccessPass::decode`] (the padded, signed access pass of
//! docs/PROTOCOL.md §5) for a fixed doctor key.
//!
//! Invariants:
//! - `decode` never panics; it fails only with `MalformedEncoding` (layout,
//!   version, padding, fields), `TimeInMilliseconds` (a record time of
//!   10^11 or more) or `GrantForged` (bytes that are no low-s signature),
//!   and succeeds only on exactly 512 bytes;
//! - a decoded pass encodes to 512 bytes that decode to the same pass, and
//!   to the input itself except for the signature's `v` byte (0/1 and
//!   27/28 both accepted, 27/28 written).

use ehrchain::grant::{AccessPass, PASS_LEN};
use ehrchain::{Error, SecretKey};

/// Decodes `data` as a pass and checks the invariants above.
pub fn run(data: &[u8]) {
    let doctor = SecretKey::from_bytes(&[0x33; 32])
        .expect("a valid scalar")
        .public_key();
    match AccessPass::decode(data, doctor) {
        Ok(pass) => {
            assert_eq!(data.len(), PASS_LEN);
            let again = pass.encode();
            assert_eq!(again.len(), PASS_LEN);
            let back = AccessPass::decode(&again, doctor).expect("an encoded pass decodes");
            assert_eq!(back.encode().as_slice(), again.as_slice());
            let differing: Vec<usize> = (0..PASS_LEN).filter(|&i| data[i] != again[i]).collect();
            assert!(
                differing.len() <= 1,
                "only the v byte may differ: {differing:?}"
            );
        }
        Err(
            Error::MalformedEncoding { .. } | Error::TimeInMilliseconds { .. } | Error::GrantForged,
        ) => {}
        Err(other) => panic!("undocumented pass error {other:?}"),
    }
}
