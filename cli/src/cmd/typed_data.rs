//! `typed-data`: EIP-712 hashing, signing and recovery of
//! eth_signTypedData_v4 JSON.

use ehrchain::{hex, SecretKey, Signature, TypedData};

use crate::args::{IoArgs, TypedDataCommand};
use crate::failure::Failure;
use crate::io::{line, read_text, secret_text};

/// `typed-data <cmd>`: parses the typed data on the input, then runs `cmd`.
pub(crate) fn typed_data(io: &IoArgs, cmd: TypedDataCommand) -> Result<(), Failure> {
    let data = TypedData::from_json(&read_text(io.input.as_deref())?)?;
    let text = match cmd {
        TypedDataCommand::Hash => hex::encode_prefixed(&data.signing_hash()?),
        TypedDataCommand::Sign { secret } => hex::encode_prefixed(
            &data
                .sign(&SecretKey::from_hex(&secret_text(&secret)?)?)?
                .to_bytes(),
        ),
        TypedDataCommand::Recover { signature } => data
            .recover(&Signature::from_hex(&signature)?)?
            .to_checksum(),
    };
    line(io, &text)
}
