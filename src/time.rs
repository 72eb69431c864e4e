//! Times as the protocol takes them: Unix seconds (`docs/PROTOCOL.md §1`).
//!
//! Every time the core accepts (a record's `T1`, a certificate's validity,
//! a request's `now`, a verifier's `at`) is a count of seconds since
//! 1970-01-01 UTC. JavaScript's `Date.now()` counts milliseconds, and a
//! time in milliseconds passed where seconds are expected would silently
//! make a record dated in the year 50 000 or a certificate that never
//! expires; [`unix_seconds`] refuses such values instead
//! ([`Error::TimeInMilliseconds`]).

use crate::error::{Error, Result};

/// The first value refused as a time: 10¹¹ seconds (the year 5138).
///
/// Every time in seconds a protocol run can meet is far below it, and every
/// time in milliseconds since 1973-03-03 (10¹¹ ms) is above it, so a value at
/// or over this bound is a millisecond timestamp (`Date.now()`) passed by
/// mistake, never a date anyone means.
pub const MAX_UNIX_SECONDS: u64 = 100_000_000_000;

/// Checks that `value`, named `what` in the error, is a time in Unix seconds.
///
/// # Errors
/// [`Error::TimeInMilliseconds`] if `value ≥` [`MAX_UNIX_SECONDS`].
pub fn unix_seconds(what: &'static str, value: u64) -> Result<u64> {
    if value >= MAX_UNIX_SECONDS {
        return Err(Error::TimeInMilliseconds { what });
    }
    Ok(value)
}

/// A validity period `[from, until)` in Unix seconds: the one check shared
/// by certificates (`CertificateBody::check`) and the registry's
/// `registerDoctor` calldata, so both refuse the same periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// Start, inclusive.
    pub from: u64,
    /// End, exclusive.
    pub until: u64,
}

impl Validity {
    /// A non-empty period of times in seconds, named `validFrom` and
    /// `validUntil` in errors.
    ///
    /// # Errors
    /// [`Error::TimeInMilliseconds`] if either end is in milliseconds;
    /// [`Error::InvalidValidity`] unless `from < until`.
    pub fn new(from: u64, until: u64) -> Result<Self> {
        unix_seconds("validFrom", from)?;
        unix_seconds("validUntil", until)?;
        if from >= until {
            return Err(Error::InvalidValidity);
        }
        Ok(Validity { from, until })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_accepted_up_to_the_bound() {
        assert_eq!(unix_seconds("t", 0), Ok(0));
        assert_eq!(unix_seconds("t", 1_700_000_000), Ok(1_700_000_000));
        assert_eq!(
            unix_seconds("t", MAX_UNIX_SECONDS - 1),
            Ok(MAX_UNIX_SECONDS - 1)
        );
    }

    #[test]
    fn milliseconds_are_refused() {
        assert_eq!(
            unix_seconds("now", 1_700_000_000_000),
            Err(Error::TimeInMilliseconds { what: "now" })
        );
        assert_eq!(
            unix_seconds("now", MAX_UNIX_SECONDS),
            Err(Error::TimeInMilliseconds { what: "now" })
        );
    }

    #[test]
    fn an_empty_period_is_refused() {
        assert_eq!(Validity::new(5, 5), Err(Error::InvalidValidity));
        assert_eq!(Validity::new(6, 5), Err(Error::InvalidValidity));
        assert_eq!(Validity::new(5, 6), Ok(Validity { from: 5, until: 6 }));
    }

    #[test]
    fn a_period_in_milliseconds_is_refused_before_its_order() {
        assert_eq!(
            Validity::new(1_700_000_000_000, 1_800_000_000),
            Err(Error::TimeInMilliseconds { what: "validFrom" })
        );
        assert_eq!(
            Validity::new(1_700_000_000, 1_800_000_000_000),
            Err(Error::TimeInMilliseconds { what: "validUntil" })
        );
    }
}
