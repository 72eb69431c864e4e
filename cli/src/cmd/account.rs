//! `address`, `pubkey`, `sign-message` and `recover-message`: an account's
//! keys and its EIP-191 personal-message signatures.

use ehrchain::{hex, SecretKey, Signature};

use crate::args::IoArgs;
use crate::failure::Failure;
use crate::io::{line, read_all, secret_text};

/// `address`: prints the EIP-55 address of the secret key argument.
pub(crate) fn address(io: &IoArgs, secret: &str) -> Result<(), Failure> {
    line(
        io,
        &SecretKey::from_hex(&secret_text(secret)?)?
            .address()
            .to_checksum(),
    )
}

/// `pubkey`: prints the public key of the secret key argument, compressed
/// unless `uncompressed`.
pub(crate) fn pubkey(io: &IoArgs, secret: &str, uncompressed: bool) -> Result<(), Failure> {
    let pk = SecretKey::from_hex(&secret_text(secret)?)?.public_key();
    let bytes = if uncompressed {
        pk.to_uncompressed().to_vec()
    } else {
        pk.to_compressed().to_vec()
    };
    line(io, &hex::encode_prefixed(&bytes))
}

/// `sign-message`: signs the input as an EIP-191 personal message.
pub(crate) fn sign_message(io: &IoArgs, secret: &str) -> Result<(), Failure> {
    let key = SecretKey::from_hex(&secret_text(secret)?)?;
    let sig = ehrchain::signature::sign_personal_message(&key, &read_all(io.input.as_deref())?)?;
    line(io, &hex::encode_prefixed(&sig.to_bytes()))
}

/// `recover-message`: prints the address that signed the input, an EIP-191
/// personal message, with `signature` (hex).
pub(crate) fn recover_message(io: &IoArgs, signature: &str) -> Result<(), Failure> {
    let sig = Signature::from_hex(signature)?;
    let who = ehrchain::signature::recover_personal_message(&read_all(io.input.as_deref())?, &sig)?;
    line(io, &who.to_checksum())
}
