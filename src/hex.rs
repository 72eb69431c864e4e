//! Hex text as used at every boundary (CLI, JSON, JS): lowercase, `0x`-prefixed
//! on output; on input an optional `0x`/`0X` prefix and either case.

use crate::error::{Error, Result};

/// The digits of hex text: `text` without its `0x` or `0X` prefix, if it
/// has one (`docs/PROTOCOL.md §1`). Every reader of hex bytes in the crate
/// strips the prefix here, so all accept the same texts.
pub fn digits(text: &str) -> &str {
    prefixed_digits(text).unwrap_or(text)
}

/// The digits after a required `0x` or `0X` prefix, or `None` without one.
/// For hex *integers* (JSON-RPC quantities, EIP-712 integer strings), where
/// the prefix is what tells hex from decimal; bytes take [`digits`].
pub fn prefixed_digits(text: &str) -> Option<&str> {
    text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"))
}

/// Decodes hex text with an optional `0x`/`0X` prefix, digits in either case.
///
/// # Errors
/// [`Error::InvalidHex`] naming `what` if the text is not valid hex.
pub fn decode(what: &'static str, text: &str) -> Result<Vec<u8>> {
    ::hex::decode(digits(text)).map_err(|_| Error::InvalidHex { what })
}

/// Decodes hex text of exactly `N` bytes.
///
/// # Errors
/// [`Error::InvalidHex`] or [`Error::InvalidLength`].
pub fn decode_array<const N: usize>(
    what: &'static str,
    expected: &'static str,
    text: &str,
) -> Result<[u8; N]> {
    let bytes = decode(what, text)?;
    fixed(what, expected, &bytes)
}

/// Copies a slice into an array of exactly `N` bytes.
///
/// # Errors
/// [`Error::InvalidLength`] naming `what` if `bytes.len() != N`.
pub fn fixed<const N: usize>(
    what: &'static str,
    expected: &'static str,
    bytes: &[u8],
) -> Result<[u8; N]> {
    bytes.try_into().map_err(|_| Error::InvalidLength {
        what,
        expected,
        actual: bytes.len(),
    })
}

/// Encodes bytes as `0x`-prefixed lowercase hex.
pub fn encode_prefixed(bytes: &[u8]) -> String {
    format!("0x{}", ::hex::encode(bytes))
}

/// Encodes bytes as lowercase hex without a prefix.
pub fn encode(bytes: &[u8]) -> String {
    ::hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_and_case_are_accepted() {
        assert_eq!(decode("x", "0xABcd").ok(), Some(vec![0xab, 0xcd]));
        assert_eq!(decode("x", "abcd").ok(), Some(vec![0xab, 0xcd]));
        assert_eq!(decode("x", "").ok(), Some(vec![]));
    }

    #[test]
    fn an_upper_case_prefix_is_a_prefix() {
        assert_eq!(digits("0XAB"), "AB");
        assert_eq!(digits("0xab"), "ab");
        assert_eq!(digits("ab"), "ab");
        assert_eq!(prefixed_digits("ab"), None);
        assert_eq!(prefixed_digits("0X1f"), Some("1f"));
    }

    #[test]
    fn malformed_hex_is_refused() {
        assert_eq!(
            decode("key", "0xabc"),
            Err(Error::InvalidHex { what: "key" })
        );
        assert_eq!(decode("key", "zz"), Err(Error::InvalidHex { what: "key" }));
    }

    #[test]
    fn wrong_length_is_refused() {
        let r: Result<[u8; 2]> = decode_array("k", "2", "0x010203");
        assert_eq!(
            r,
            Err(Error::InvalidLength {
                what: "k",
                expected: "2",
                actual: 3
            })
        );
    }
}
