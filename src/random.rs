//! Randomness from the platform CSPRNG (`getrandom`: the OS natively,
//! `crypto.getRandomValues` in browsers and Node).

use crate::error::{Error, Result};

/// `N` random bytes.
///
/// # Errors
/// [`Error::Rng`] if the platform source fails.
pub(crate) fn bytes<const N: usize>() -> Result<zeroize::Zeroizing<[u8; N]>> {
    let mut out = zeroize::Zeroizing::new([0u8; N]);
    getrandom::getrandom(&mut out[..]).map_err(|_| Error::Rng)?;
    Ok(out)
}
