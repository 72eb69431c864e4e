//! The small part of the Solidity ABI the registry needs: static words
//! (`uint64`, `uint256`, `address`, `bytes32`, `bool`) and dynamic `bytes`,
//! encoded as head/tail per the Solidity ABI specification, and decoded
//! strictly (canonical padding, in-bounds offsets).

use crate::account::Address;
use crate::error::{Error, Result};
use crate::hash::keccak256;

/// One ABI value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// `uint64` (or any `uintN` with N ≥ 64 holding a u64).
    Uint(u64),
    /// `address`.
    Address(Address),
    /// `bytes32`.
    Bytes32([u8; 32]),
    /// `bytes` (dynamic).
    Bytes(Vec<u8>),
}

/// Static types a decoder expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `uint64`: the word must fit in 64 bits.
    Uint64,
    /// `uint256` read as u64: larger values are an error.
    Uint256AsU64,
    /// `address`.
    Address,
    /// `bytes32`.
    Bytes32,
    /// `bool`.
    Bool,
    /// `bytes`.
    Bytes,
}

/// The 4-byte selector of a function or error signature such as `"revokeDoctor(uint64)"`.
pub fn selector(signature: &str) -> [u8; 4] {
    let h = keccak256(signature.as_bytes());
    [h[0], h[1], h[2], h[3]]
}

/// The topic 0 of an event signature.
pub fn event_topic(signature: &str) -> [u8; 32] {
    keccak256(signature.as_bytes())
}

fn word_u64(v: u64) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&v.to_be_bytes());
    w
}

/// ABI-encodes `tokens` as a tuple (the arguments of a call).
pub fn encode(tokens: &[Token]) -> Vec<u8> {
    let head_len = 32 * tokens.len();
    let mut head = Vec::with_capacity(head_len);
    let mut tail = Vec::new();
    for t in tokens {
        match t {
            Token::Uint(v) => head.extend_from_slice(&word_u64(*v)),
            Token::Address(a) => {
                let mut w = [0u8; 32];
                w[12..].copy_from_slice(&a.0);
                head.extend_from_slice(&w);
            }
            Token::Bytes32(b) => head.extend_from_slice(b),
            Token::Bytes(b) => {
                head.extend_from_slice(&word_u64((head_len + tail.len()) as u64));
                tail.extend_from_slice(&word_u64(b.len() as u64));
                tail.extend_from_slice(b);
                let pad = (32 - b.len() % 32) % 32;
                tail.extend(std::iter::repeat_n(0u8, pad));
            }
        }
    }
    head.extend_from_slice(&tail);
    head
}

/// Calldata: `selector(signature) ‖ encode(tokens)`.
pub fn call(signature: &str, tokens: &[Token]) -> Vec<u8> {
    let mut out = selector(signature).to_vec();
    out.extend_from_slice(&encode(tokens));
    out
}

/// A decoded value (booleans come back as [`Value::Bool`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// An unsigned integer that fits in 64 bits.
    Uint(u64),
    /// An address.
    Address(Address),
    /// 32 bytes.
    Bytes32([u8; 32]),
    /// A boolean.
    Bool(bool),
    /// Dynamic bytes.
    Bytes(Vec<u8>),
}

fn bad(reason: &'static str) -> Error {
    Error::AbiDecode { reason }
}

fn word(data: &[u8], at: usize) -> Result<[u8; 32]> {
    let end = at.checked_add(32).ok_or(bad("offset overflow"))?;
    let slice = data.get(at..end).ok_or(bad("data too short"))?;
    let mut w = [0u8; 32];
    w.copy_from_slice(slice);
    Ok(w)
}

fn as_u64(w: &[u8; 32], reason: &'static str) -> Result<u64> {
    if w[..24].iter().any(|b| *b != 0) {
        return Err(bad(reason));
    }
    let mut b = [0u8; 8];
    b.copy_from_slice(&w[24..]);
    Ok(u64::from_be_bytes(b))
}

fn as_usize(w: &[u8; 32], reason: &'static str) -> Result<usize> {
    usize::try_from(as_u64(w, reason)?).map_err(|_| bad(reason))
}

/// Decodes `data` as a tuple of `kinds`.
///
/// # Errors
/// [`Error::AbiDecode`] for short data, out-of-range words, non-zero padding
/// or out-of-bounds offsets.
pub fn decode(kinds: &[Kind], data: &[u8]) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(kinds.len());
    for (i, kind) in kinds.iter().enumerate() {
        let w = word(data, 32 * i)?;
        out.push(match kind {
            Kind::Uint64 => Value::Uint(as_u64(&w, "uint64 out of range")?),
            Kind::Uint256AsU64 => Value::Uint(as_u64(&w, "uint256 beyond 64 bits")?),
            Kind::Address => {
                if w[..12].iter().any(|b| *b != 0) {
                    return Err(bad("address with non-zero padding"));
                }
                let mut a = [0u8; 20];
                a.copy_from_slice(&w[12..]);
                Value::Address(Address(a))
            }
            Kind::Bytes32 => Value::Bytes32(w),
            Kind::Bool => match as_u64(&w, "bool out of range")? {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                _ => return Err(bad("bool out of range")),
            },
            Kind::Bytes => {
                let offset = as_usize(&w, "bytes offset out of range")?;
                let len = as_usize(&word(data, offset)?, "bytes length out of range")?;
                let start = offset.checked_add(32).ok_or(bad("offset overflow"))?;
                let end = start.checked_add(len).ok_or(bad("length overflow"))?;
                let bytes = data.get(start..end).ok_or(bad("bytes out of bounds"))?;
                Value::Bytes(bytes.to_vec())
            }
        });
    }
    Ok(out)
}

impl Value {
    /// The integer, if this is one.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Uint(v) => Some(*v),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_match_solidity() {
        // The ERC-20 transfer selector, a well-known constant.
        assert_eq!(
            selector("transfer(address,uint256)"),
            [0xa9, 0x05, 0x9c, 0xbb]
        );
    }

    #[test]
    fn dynamic_bytes_round_trip_with_padding() {
        let tokens = [
            Token::Uint(7),
            Token::Bytes(vec![1, 2, 3]),
            Token::Bytes(vec![9u8; 33]),
        ];
        let enc = encode(&tokens);
        assert_eq!(enc.len(), 32 * 3 + 64 + 96);
        let dec = decode(&[Kind::Uint64, Kind::Bytes, Kind::Bytes], &enc).unwrap();
        assert_eq!(dec[1], Value::Bytes(vec![1, 2, 3]));
        assert_eq!(dec[2], Value::Bytes(vec![9u8; 33]));
        let mut bad_offset = enc.clone();
        bad_offset[63] = 0xff;
        assert!(decode(&[Kind::Uint64, Kind::Bytes], &bad_offset).is_err());
        assert!(decode(&[Kind::Uint64], &enc[..31]).is_err());
        let mut big = enc;
        big[0] = 1;
        assert!(decode(&[Kind::Uint64], &big).is_err());
    }
}
