//! The small part of the Solidity ABI the registry needs: static words
//! (`uint64`, `uint256`, `address`, `bytes1`, `bytes32`, `bool`) and dynamic `bytes`,
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
    /// `bytes1`: the byte, then 31 zero bytes (left-aligned).
    Bytes1(u8),
    /// `bytes32`.
    Bytes32([u8; 32]),
    /// `bytes` (dynamic).
    Bytes(Vec<u8>),
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
            Token::Bytes1(b) => {
                let mut w = [0u8; 32];
                w[0] = *b;
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

fn word_as_u64(w: &[u8; 32], reason: &'static str) -> Result<u64> {
    if w[..24].iter().any(|b| *b != 0) {
        return Err(bad(reason));
    }
    let mut b = [0u8; 8];
    b.copy_from_slice(&w[24..]);
    Ok(u64::from_be_bytes(b))
}

fn word_as_usize(w: &[u8; 32], reason: &'static str) -> Result<usize> {
    usize::try_from(word_as_u64(w, reason)?).map_err(|_| bad(reason))
}

/// Reads an ABI-encoded tuple (return data, event data, or one topic)
/// field by field, in order, each read checking its type strictly:
/// canonical zero padding, values in range, dynamic offsets in bounds.
///
/// ```
/// use ehrchain::chain::abi::{encode, Reader, Token};
/// let data = encode(&[Token::Uint(7), Token::Bytes(vec![1, 2, 3])]);
/// let mut r = Reader::new(&data);
/// assert_eq!(r.uint64()?, 7);
/// assert_eq!(r.bytes()?, vec![1, 2, 3]);
/// # Ok::<(), ehrchain::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    /// Byte offset of the next head word.
    next: usize,
}

impl<'a> Reader<'a> {
    /// A reader at the first head word of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, next: 0 }
    }

    fn head(&mut self) -> Result<[u8; 32]> {
        let w = word(self.data, self.next)?;
        self.next += 32;
        Ok(w)
    }

    /// A `uint64` (or a `uintN` that must fit in 64 bits).
    ///
    /// # Errors
    /// [`Error::AbiDecode`] for short data or a value beyond 64 bits.
    pub fn uint64(&mut self) -> Result<u64> {
        word_as_u64(&self.head()?, "uint64 out of range")
    }

    /// A `uint256` that must fit in 64 bits (sequence numbers).
    ///
    /// # Errors
    /// [`Error::AbiDecode`] for short data or a value beyond 64 bits.
    pub fn uint256_as_u64(&mut self) -> Result<u64> {
        word_as_u64(&self.head()?, "uint256 beyond 64 bits")
    }

    /// An `address`.
    ///
    /// # Errors
    /// [`Error::AbiDecode`] for short data or non-zero padding.
    pub fn address(&mut self) -> Result<Address> {
        let w = self.head()?;
        if w[..12].iter().any(|b| *b != 0) {
            return Err(bad("address with non-zero padding"));
        }
        let mut a = [0u8; 20];
        a.copy_from_slice(&w[12..]);
        Ok(Address(a))
    }

    /// A `bytes1` (left-aligned: the byte, then 31 zero bytes, as Solidity's
    /// decoder requires).
    ///
    /// # Errors
    /// [`Error::AbiDecode`] for short data or non-zero padding.
    pub fn bytes1(&mut self) -> Result<u8> {
        let w = self.head()?;
        if w[1..].iter().any(|b| *b != 0) {
            return Err(bad("bytes1 with non-zero padding"));
        }
        Ok(w[0])
    }

    /// A `bytes32`.
    ///
    /// # Errors
    /// [`Error::AbiDecode`] for short data.
    pub fn bytes32(&mut self) -> Result<[u8; 32]> {
        self.head()
    }

    /// A `bool` (the word must be 0 or 1).
    ///
    /// # Errors
    /// [`Error::AbiDecode`] for short data or any other word.
    pub fn bool(&mut self) -> Result<bool> {
        match word_as_u64(&self.head()?, "bool out of range")? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(bad("bool out of range")),
        }
    }

    /// A dynamic `bytes`: the head word is its offset in the tuple.
    ///
    /// # Errors
    /// [`Error::AbiDecode`] for an offset or length out of bounds.
    pub fn bytes(&mut self) -> Result<Vec<u8>> {
        let offset = word_as_usize(&self.head()?, "bytes offset out of range")?;
        let len = word_as_usize(&word(self.data, offset)?, "bytes length out of range")?;
        let start = offset.checked_add(32).ok_or(bad("offset overflow"))?;
        let end = start.checked_add(len).ok_or(bad("length overflow"))?;
        let bytes = self
            .data
            .get(start..end)
            .ok_or(bad("bytes out of bounds"))?;
        Ok(bytes.to_vec())
    }

    /// A dynamic `string`: encoded as `bytes`, and must be UTF-8.
    ///
    /// # Errors
    /// [`Error::AbiDecode`] as [`Reader::bytes`], or for text that is not UTF-8.
    pub fn string(&mut self) -> Result<String> {
        String::from_utf8(self.bytes()?).map_err(|_| bad("string is not UTF-8"))
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

    fn tuple() -> Vec<u8> {
        encode(&[
            Token::Uint(7),
            Token::Bytes(vec![1, 2, 3]),
            Token::Bytes(vec![9u8; 33]),
        ])
    }

    fn bad(reason: &'static str) -> Result<Vec<u8>> {
        Err(Error::AbiDecode { reason })
    }

    #[test]
    fn dynamic_bytes_are_padded_to_words_and_read_back() {
        let enc = tuple();
        assert_eq!(enc.len(), 32 * 3 + 64 + 96);
        let mut r = Reader::new(&enc);
        assert_eq!(r.uint64(), Ok(7));
        assert_eq!(r.bytes(), Ok(vec![1, 2, 3]));
        assert_eq!(r.bytes(), Ok(vec![9u8; 33]));
    }

    #[test]
    fn an_offset_beyond_the_data_is_refused() {
        let mut enc = tuple();
        enc[63] = 0xff;
        let mut r = Reader::new(&enc);
        assert_eq!(r.uint64(), Ok(7));
        assert_eq!(r.bytes(), bad("data too short"));
    }

    #[test]
    fn a_bytes1_is_left_aligned_and_its_padding_must_be_zero() {
        let mut enc = encode(&[Token::Bytes1(0xab), Token::Uint(7)]);
        assert_eq!(enc[0], 0xab);
        assert!(enc[1..32].iter().all(|b| *b == 0));
        assert_eq!(Reader::new(&enc).bytes1(), Ok(0xab));
        enc[31] = 1;
        assert_eq!(
            Reader::new(&enc).bytes1(),
            Err(Error::AbiDecode {
                reason: "bytes1 with non-zero padding"
            })
        );
    }

    #[test]
    fn short_data_is_refused() {
        let enc = tuple();
        assert_eq!(
            Reader::new(&enc[..31]).uint64(),
            Err(Error::AbiDecode {
                reason: "data too short"
            })
        );
    }

    #[test]
    fn a_uint64_beyond_64_bits_is_refused() {
        let mut enc = tuple();
        enc[0] = 1;
        assert_eq!(
            Reader::new(&enc).uint64(),
            Err(Error::AbiDecode {
                reason: "uint64 out of range"
            })
        );
    }

    #[test]
    fn non_canonical_address_and_bool_words_are_refused() {
        let mut w = [0u8; 32];
        w[0] = 1;
        assert_eq!(
            Reader::new(&w).address(),
            Err(Error::AbiDecode {
                reason: "address with non-zero padding"
            })
        );
        let mut two = [0u8; 32];
        two[31] = 2;
        assert_eq!(
            Reader::new(&two).bool(),
            Err(Error::AbiDecode {
                reason: "bool out of range"
            })
        );
    }
}
