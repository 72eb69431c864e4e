//! The registry's custom errors: revert data is `selector(signature) ‖
//! arguments`. [`revert_reason`] names the error a reverted call hit;
//! [`decode_revert`] also decodes its arguments.

use core::fmt;

use serde_json::Value as Json;

use crate::chain::abi::{self, Reader};

/// Every custom error of `contracts/EhrRegistry.sol`, as canonical
/// signatures (a test holds this list against the Solidity source).
pub const ERRORS: [&str; 18] = [
    "NotAuthority()",
    "ZeroAddress()",
    "InvalidProtocolKey()",
    "InvalidValidity()",
    "CertificateExists(uint64)",
    "UnknownCertificate(uint64)",
    "AlreadyRevoked(uint64)",
    "InvalidHash()",
    "NotCertifiedDoctor(uint64)",
    "AlreadyAnchored(bytes32)",
    "NotAnchored(bytes32)",
    "NotAnchorOwner(bytes32)",
    "AlreadyDeleted(bytes32)",
    "InvalidPoint()",
    "InvalidCiphertext(uint256)",
    "NotRecordPatient(bytes32)",
    "InvalidHospital()",
    "InvalidEndpoint()",
];

/// Names the registry's custom error in revert data (`"AlreadyAnchored(bytes32)"`),
/// or `None` if the data is not one of them.
pub fn revert_reason(data: &[u8]) -> Option<&'static str> {
    let sel = data.get(..4)?;
    ERRORS.iter().copied().find(|s| abi::selector(s) == sel)
}

/// One decoded argument of a registry error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevertArg {
    /// A `uint64`, or a `uint256` that fits in 64 bits.
    Uint(u64),
    /// A `uint256` beyond 64 bits, in decimal.
    BigUint(String),
    /// A `bytes32`.
    Bytes32([u8; 32]),
}

impl RevertArg {
    /// The argument as JSON: a number, a decimal string (beyond 64 bits) or
    /// `0x` hex.
    pub fn to_json(&self) -> Json {
        match self {
            RevertArg::Uint(v) => Json::from(*v),
            RevertArg::BigUint(decimal) => Json::from(decimal.as_str()),
            RevertArg::Bytes32(word) => Json::from(crate::hex::encode_prefixed(word)),
        }
    }
}

impl fmt::Display for RevertArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RevertArg::Uint(v) => write!(f, "{v}"),
            RevertArg::BigUint(decimal) => f.write_str(decimal),
            RevertArg::Bytes32(word) => f.write_str(&crate::hex::encode_prefixed(word)),
        }
    }
}

/// A registry custom error decoded from revert data: its name, canonical
/// signature and arguments. `Display` gives the error as a call
/// (`NotCertifiedDoctor(7)`), the reason of [`crate::Error::Reverted`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revert {
    /// The error's name (`"NotCertifiedDoctor"`).
    pub name: &'static str,
    /// Its canonical signature (`"NotCertifiedDoctor(uint64)"`).
    pub signature: &'static str,
    /// Its arguments, in order.
    pub args: Vec<RevertArg>,
}

impl Revert {
    /// `{name, signature, args}`, arguments as [`RevertArg::to_json`].
    pub fn to_json(&self) -> Json {
        serde_json::json!({
            "name": self.name,
            "signature": self.signature,
            "args": self.args.iter().map(RevertArg::to_json).collect::<Vec<_>>(),
        })
    }
}

impl fmt::Display for Revert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name)?;
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{arg}")?;
        }
        f.write_str(")")
    }
}

/// Decodes revert data as one of the registry's errors ([`ERRORS`]), with
/// its arguments; `None` for anything else: another contract's error, a
/// `require` string, data too short, or arguments that are not exactly the
/// error's (wrong length, a `uint64` beyond 64 bits).
pub fn decode_revert(data: &[u8]) -> Option<Revert> {
    let signature = revert_reason(data)?;
    let (name, types) = signature.strip_suffix(')')?.split_once('(')?;
    let types: Vec<&str> = types.split(',').filter(|t| !t.is_empty()).collect();
    let body = data.get(4..)?;
    if body.len() != 32 * types.len() {
        return None;
    }
    let mut reader = Reader::new(body);
    let args = types
        .iter()
        .map(|kind| match *kind {
            "uint64" => reader.uint64().ok().map(RevertArg::Uint),
            "uint256" => reader.bytes32().ok().map(uint256),
            "bytes32" => reader.bytes32().ok().map(RevertArg::Bytes32),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Revert {
        name,
        signature,
        args,
    })
}

/// A `uint256` word as a `u64` if it fits, otherwise in decimal.
fn uint256(word: [u8; 32]) -> RevertArg {
    let (high, low) = word.split_at(24);
    if high.iter().all(|b| *b == 0) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(low);
        return RevertArg::Uint(u64::from_be_bytes(bytes));
    }
    // Long division by 10, most significant byte first.
    let mut number = word;
    let mut digits = Vec::new();
    while number.iter().any(|b| *b != 0) {
        let mut remainder = 0u16;
        for byte in number.iter_mut() {
            let value = (remainder << 8) | u16::from(*byte);
            *byte = u8::try_from(value / 10).unwrap_or(u8::MAX);
            remainder = value % 10;
        }
        digits.push(char::from(b'0' + u8::try_from(remainder).unwrap_or(0)));
    }
    RevertArg::BigUint(digits.iter().rev().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::abi::Token;

    #[test]
    fn revert_data_names_the_registry_error() {
        assert_eq!(
            revert_reason(&[0x30, 0xd2, 0x38, 0x13, 0]),
            Some("AlreadyAnchored(bytes32)")
        );
    }

    #[test]
    fn unknown_or_short_revert_data_names_nothing() {
        assert_eq!(revert_reason(&[1, 2, 3, 4]), None);
        assert_eq!(revert_reason(&[0x30, 0xd2, 0x38]), None);
    }

    /// Revert data of `signature` with arguments made of `seed`.
    fn data_of(signature: &str, seed: u8) -> (Vec<u8>, Vec<RevertArg>) {
        let inner = signature
            .split_once('(')
            .and_then(|(_, rest)| rest.strip_suffix(')'))
            .unwrap();
        let (tokens, args): (Vec<Token>, Vec<RevertArg>) = inner
            .split(',')
            .filter(|t| !t.is_empty())
            .map(|kind| match kind {
                "uint64" | "uint256" => (
                    Token::Uint(u64::from(seed) * 1000 + 7),
                    RevertArg::Uint(u64::from(seed) * 1000 + 7),
                ),
                "bytes32" => (Token::Bytes32([seed; 32]), RevertArg::Bytes32([seed; 32])),
                other => panic!("no test value for {other}"),
            })
            .unzip();
        (abi::call(signature, &tokens), args)
    }

    #[test]
    fn every_registry_error_decodes_to_its_name_and_arguments() {
        for (i, signature) in ERRORS.iter().enumerate() {
            let seed = u8::try_from(i).unwrap() + 1;
            let (data, args) = data_of(signature, seed);
            let revert = decode_revert(&data).unwrap();
            assert_eq!(revert.signature, *signature);
            assert_eq!(
                revert.name,
                signature.split('(').next().unwrap(),
                "{signature}"
            );
            assert_eq!(revert.args, args, "{signature}");
        }
    }

    #[test]
    fn a_revert_reads_as_the_call_that_raised_it() {
        let (data, _) = data_of("NotCertifiedDoctor(uint64)", 0);
        let revert = decode_revert(&data).unwrap();
        assert_eq!(revert.to_string(), "NotCertifiedDoctor(7)");
        assert_eq!(
            revert.to_json(),
            serde_json::json!({"name": "NotCertifiedDoctor", "signature": "NotCertifiedDoctor(uint64)", "args": [7]})
        );
        let (data, _) = data_of("AlreadyAnchored(bytes32)", 0xab);
        assert_eq!(
            decode_revert(&data).unwrap().to_string(),
            format!("AlreadyAnchored(0x{})", "ab".repeat(32))
        );
        let no_args = abi::call("NotAuthority()", &[]);
        assert_eq!(
            decode_revert(&no_args).unwrap().to_string(),
            "NotAuthority()"
        );
    }

    #[test]
    fn a_uint256_beyond_64_bits_is_decimal() {
        let mut data = abi::selector("InvalidCiphertext(uint256)").to_vec();
        let mut word = [0u8; 32];
        word[23] = 1; // 2^64
        data.extend_from_slice(&word);
        assert_eq!(
            decode_revert(&data).unwrap().args,
            vec![RevertArg::BigUint("18446744073709551616".into())]
        );
        data[4..].copy_from_slice(&[0xff; 32]);
        assert_eq!(
            decode_revert(&data).unwrap().args,
            vec![RevertArg::BigUint(
                "115792089237316195423570985008687907853269984665640564039457584007913129639935"
                    .into()
            )]
        );
    }

    #[test]
    fn data_that_is_not_a_registry_error_decodes_to_nothing() {
        // Solidity's Error(string), an unknown selector, short data.
        assert_eq!(decode_revert(&abi::selector("Error(string)")), None);
        assert_eq!(decode_revert(&[1, 2, 3, 4]), None);
        assert_eq!(decode_revert(&[]), None);
        // A registry selector with missing, extra or out-of-range arguments.
        let (mut data, _) = data_of("NotCertifiedDoctor(uint64)", 1);
        assert_eq!(decode_revert(&data[..36 - 1]), None);
        data.push(0);
        assert_eq!(decode_revert(&data), None);
        let mut wide = abi::selector("NotCertifiedDoctor(uint64)").to_vec();
        wide.extend_from_slice(&[0xff; 32]);
        assert_eq!(decode_revert(&wide), None);
        let mut trailing = abi::call("NotAuthority()", &[]);
        trailing.push(0);
        assert_eq!(decode_revert(&trailing), None);
    }
}
