//! `seal` and `open`: ECIES in the eciesjs/eciespy format.

use ehrchain::{ecies, PublicKey, SecretKey};

use crate::args::IoArgs;
use crate::failure::Failure;
use crate::io::{read_all, secret_text, with_output};

/// `seal`: ECIES-encrypts the input to the public key `to` (hex).
pub(crate) fn seal(io: &IoArgs, to: &str) -> Result<(), Failure> {
    let to = PublicKey::from_hex("recipient public key", to)?;
    let sealed = ecies::seal(&to, &read_all(io.input.as_deref())?)?;
    with_output(io, |out| Ok(out.write(&sealed)?))
}

/// `open`: ECIES-decrypts the input with the secret key argument `secret`.
pub(crate) fn open(io: &IoArgs, secret: &str) -> Result<(), Failure> {
    let secret = SecretKey::from_hex(&secret_text(secret)?)?;
    let plain = ecies::open(&secret, &read_all(io.input.as_deref())?)?;
    with_output(io, |out| Ok(out.write(&plain)?))
}
