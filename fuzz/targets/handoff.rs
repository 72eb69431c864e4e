//! Fuzzes [`RecordHandoff::decode`] (the doctor-to-patient handoff
//! plaintext, docs/PROTOCOL.md §10) and [`RecordContext::decode_prefix`].
//!
//! Invariants:
//! - neither panics; both fail only with `MalformedEncoding` or
//!   `TimeInMilliseconds` (a record time of 10^11 or more, docs/PROTOCOL.md §1);
//! - both formats are canonical: a decoded handoff encodes to exactly the
//!   input, a decoded context to exactly the prefix it consumed.

use ehrchain::handoff::RecordHandoff;
use ehrchain::mask::RecordContext;
use ehrchain::Error;

/// Decodes `data` both ways and checks the invariants above.
pub fn run(data: &[u8]) {
    match RecordHandoff::decode(data) {
        Ok(h) => assert_eq!(
            h.encode().as_slice(),
            data,
            "the handoff encoding is canonical"
        ),
        Err(Error::MalformedEncoding { .. } | Error::TimeInMilliseconds { .. }) => {}
        Err(other) => panic!("undocumented handoff error {other:?}"),
    }
    match RecordContext::decode_prefix("context", data) {
        Ok((ctx, rest)) => {
            let used = data.len() - rest.len();
            assert_eq!(
                ctx.encode().as_slice(),
                &data[..used],
                "the context encoding is canonical"
            );
        }
        Err(Error::MalformedEncoding { .. } | Error::TimeInMilliseconds { .. }) => {}
        Err(other) => panic!("undocumented context error {other:?}"),
    }
}
