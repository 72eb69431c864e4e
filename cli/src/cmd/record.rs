//! `encrypt` and `decrypt`: streaming record encryption (Tink AES-GCM-HKDF).

use std::io::{self, Read};

use ehrchain::record::{Decryptor, Encryptor};
use ehrchain::{hex, Error};

use crate::args::{IoArgs, StreamArgs};
use crate::failure::Failure;
use crate::io::{open_input, record_key, with_output, Sink};

/// Size of the pieces read from the input when streaming records.
const CHUNK: usize = 1 << 16;

/// `encrypt`: writes the ciphertext, then prints its SHA-256 hex on stderr.
pub(crate) fn encrypt(io: &IoArgs, args: &StreamArgs) -> Result<(), Failure> {
    let key = record_key(&args.key)?;
    let aad = hex::decode("aad", &args.aad)?;
    let mut enc = Encryptor::new(&key, &aad, args.segment_size)?;
    let mut hash = [0u8; 32];
    with_output(io, |out| {
        stream(io, out, |data, produced| enc.push(data, produced))?;
        let mut tail = Vec::new();
        hash = enc.finish(&mut tail)?;
        Ok(out.write(&tail)?)
    })?;
    eprintln!("{}", hex::encode(&hash));
    Ok(())
}

/// `decrypt`: writes the plaintext; with `expect_hash`, also checks the
/// ciphertext's SHA-256.
pub(crate) fn decrypt(
    io: &IoArgs,
    args: &StreamArgs,
    expect_hash: Option<String>,
) -> Result<(), Failure> {
    let key = record_key(&args.key)?;
    let aad = hex::decode("aad", &args.aad)?;
    let mut dec = Decryptor::new(&key, &aad, args.segment_size)?;
    if let Some(eh) = expect_hash {
        dec.expect_hash(hex::decode_array("expected hash", "32", &eh)?);
    }
    with_output(io, |out| {
        stream(io, out, |data, produced| dec.push(data, produced))?;
        let mut tail = Vec::new();
        dec.finish(&mut tail)?;
        Ok(out.write(&tail)?)
    })
}

/// Streams the input through `step` in [`CHUNK`]-sized pieces.
fn stream(
    io: &IoArgs,
    out: &mut Sink,
    mut step: impl FnMut(&[u8], &mut Vec<u8>) -> Result<(), Error>,
) -> Result<(), Failure> {
    let mut input = open_input(io.input.as_deref())?;
    let mut chunk = vec![0u8; CHUNK];
    let mut produced = Vec::with_capacity(2 * CHUNK);
    loop {
        let n = match input.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        step(&chunk[..n], &mut produced)?;
        out.write(&produced)?;
        produced.clear();
    }
}
