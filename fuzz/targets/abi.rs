//! Fuzzes the ABI tuple [`Reader`] on arbitrary bytes, with the sequence of
//! reads taken from the input.
//!
//! Input: `n ‖ n read codes ‖ data`; `n` is taken mod 9, each code mod 6
//! picks `uint64`, `uint256_as_u64`, `address`, `bytes32`, `bool` or `bytes`.
//!
//! Invariants:
//! - no read panics, and every failure is `Error::AbiDecode`;
//! - values read successfully, encoded again with [`encode`], read back
//!   the same with the same reads;
//! - for an all-static tuple the encoding is canonical: `encode` gives back
//!   exactly the words that were read.

use ehrchain::chain::abi::{encode, Reader, Token};
use ehrchain::Error;

/// One of the reader's typed reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    Uint64,
    Uint256AsU64,
    Address,
    Bytes32,
    Bool,
    Bytes,
}

const READS: [Read; 6] = [
    Read::Uint64,
    Read::Uint256AsU64,
    Read::Address,
    Read::Bytes32,
    Read::Bool,
    Read::Bytes,
];

fn read(reader: &mut Reader<'_>, op: Read) -> Result<Token, Error> {
    Ok(match op {
        Read::Uint64 => Token::Uint(reader.uint64()?),
        Read::Uint256AsU64 => Token::Uint(reader.uint256_as_u64()?),
        Read::Address => Token::Address(reader.address()?),
        Read::Bytes32 => Token::Bytes32(reader.bytes32()?),
        Read::Bool => Token::Uint(u64::from(reader.bool()?)),
        Read::Bytes => Token::Bytes(reader.bytes()?),
    })
}

/// Reads `ops` from `data` in order; the tokens, or the first error.
fn read_all(data: &[u8], ops: &[Read]) -> Result<Vec<Token>, Error> {
    let mut reader = Reader::new(data);
    ops.iter().map(|op| read(&mut reader, *op)).collect()
}

/// Runs the reads the input names on its data and checks the invariants above.
pub fn run(data: &[u8]) {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let Some((codes, tuple)) = rest.split_at_checked(usize::from(n % 9)) else {
        return;
    };
    let ops: Vec<Read> = codes.iter().map(|c| READS[usize::from(c % 6)]).collect();
    let tokens = match read_all(tuple, &ops) {
        Ok(tokens) => tokens,
        Err(Error::AbiDecode { .. }) => return,
        Err(other) => panic!("the ABI reader failed with {other:?}"),
    };
    let again = encode(&tokens);
    assert_eq!(
        read_all(&again, &ops).as_ref(),
        Ok(&tokens),
        "encode/read round trip"
    );
    if !ops.contains(&Read::Bytes) {
        assert_eq!(again, tuple[..32 * ops.len()], "static words are canonical");
    }
}
