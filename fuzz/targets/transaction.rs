//! Fuzzes the transaction fields parser, [`Eip1559::from_json`] (the JS
//! `TxFields` a dapp writes), and checks the signed raw transaction the
//! crate builds from what parses. The crate has no transaction decoder, so
//! the target carries a strict RLP reader of its own as the oracle.
//!
//! Invariants:
//! - `from_json`, `signing_hash` and `sign` never panic;
//! - the parsed fields written back as JSON parse to the same transaction;
//! - `sign(..).raw` is `0x02 ‖ rlp(list)` in canonical RLP (minimal
//!   lengths, integers without leading zeros, nothing after the list)
//!   holding exactly the parsed fields, an empty access list and a
//!   low-`s` signature that recovers the signing key's address;
//!   `hash = keccak256(raw)`.

use std::sync::OnceLock;

use ehrchain::chain::tx::Eip1559;
use ehrchain::hash::keccak256;
use ehrchain::{Address, SecretKey, Signature};
use serde_json::{json, Value};

/// The key the target signs every parsed transaction with.
pub const SENDER_SECRET: [u8; 32] = [0x77; 32];

fn sender() -> &'static (SecretKey, Address) {
    static SENDER: OnceLock<(SecretKey, Address)> = OnceLock::new();
    SENDER.get_or_init(|| {
        let key = SecretKey::from_bytes(&SENDER_SECRET).expect("a valid scalar");
        let address = key.address();
        (key, address)
    })
}

/// One RLP item.
#[derive(Debug, PartialEq, Eq)]
enum Rlp<'a> {
    Bytes(&'a [u8]),
    List(Vec<Rlp<'a>>),
}

/// A canonical length of `n` bytes (no leading zero, at least 56).
fn long_length(bytes: &[u8]) -> Option<usize> {
    if bytes.first() == Some(&0) || bytes.len() > 8 {
        return None;
    }
    let n = bytes.iter().fold(0u64, |n, b| (n << 8) | u64::from(*b));
    let n = usize::try_from(n).ok()?;
    (n >= 56).then_some(n)
}

/// Reads one canonical RLP item at the start of `input`.
fn item(input: &[u8]) -> Option<(Rlp<'_>, &[u8])> {
    let (&prefix, rest) = input.split_first()?;
    let (is_list, len, rest) = match prefix {
        0x00..=0x7f => return Some((Rlp::Bytes(&input[..1]), rest)),
        0x80..=0xb7 => (false, usize::from(prefix - 0x80), rest),
        0xb8..=0xbf => {
            let (len, rest) = rest.split_at_checked(usize::from(prefix - 0xb7))?;
            (false, long_length(len)?, rest)
        }
        0xc0..=0xf7 => (true, usize::from(prefix - 0xc0), rest),
        0xf8..=0xff => {
            let (len, rest) = rest.split_at_checked(usize::from(prefix - 0xf7))?;
            (true, long_length(len)?, rest)
        }
    };
    let (payload, rest) = rest.split_at_checked(len)?;
    if !is_list {
        if let [b] = payload {
            if *b < 0x80 {
                return None; // a single small byte must be itself
            }
        }
        return Some((Rlp::Bytes(payload), rest));
    }
    let mut items = Vec::new();
    let mut payload = payload;
    while !payload.is_empty() {
        let (next, later) = item(payload)?;
        items.push(next);
        payload = later;
    }
    Some((Rlp::List(items), rest))
}

/// A canonical RLP unsigned integer of at most 16 bytes.
fn uint(item: &Rlp<'_>) -> u128 {
    let Rlp::Bytes(bytes) = item else {
        panic!("integer field is a list");
    };
    assert!(bytes.first() != Some(&0), "integer with a leading zero");
    assert!(bytes.len() <= 16, "integer beyond 128 bits");
    bytes.iter().fold(0u128, |n, b| (n << 8) | u128::from(*b))
}

/// A 32-byte scalar written as a minimal RLP integer.
fn scalar(item: &Rlp<'_>) -> [u8; 32] {
    let Rlp::Bytes(bytes) = item else {
        panic!("scalar field is a list");
    };
    assert!(
        bytes.first() != Some(&0) && bytes.len() <= 32,
        "non-minimal scalar"
    );
    let mut out = [0u8; 32];
    out[32 - bytes.len()..].copy_from_slice(bytes);
    out
}

/// The fields as a dapp would write them back.
fn to_json(tx: &Eip1559) -> Value {
    let mut v = json!({
        "chainId": tx.chain_id, "nonce": tx.nonce, "gas": tx.gas_limit,
        "maxPriorityFeePerGas": tx.max_priority_fee_per_gas.to_string(),
        "maxFeePerGas": tx.max_fee_per_gas.to_string(),
        "value": tx.value.to_string(),
        "data": ehrchain::hex::encode_prefixed(&tx.data),
    });
    if let Some(to) = tx.to {
        v["to"] = json!(to.to_checksum());
    }
    v
}

/// Parses `data` as transaction fields JSON, signs, and checks the raw encoding.
pub fn run(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(tx) = Eip1559::from_json(&value) else {
        return;
    };
    assert_eq!(Eip1559::from_json(&to_json(&tx)).as_ref(), Ok(&tx));

    let (key, address) = sender();
    let signed = tx.sign(key).expect("signing cannot fail");
    assert_eq!(signed.from, *address);
    assert_eq!(signed.hash, keccak256(&signed.raw));
    let Some((&0x02, encoded)) = signed.raw.split_first() else {
        panic!("not an EIP-1559 envelope");
    };
    let Some((Rlp::List(fields), [])) = item(encoded) else {
        panic!("raw transaction is not one canonical RLP list");
    };
    let [chain_id, nonce, priority, max_fee, gas, to, value, input, access, parity, r, s] =
        fields.as_slice()
    else {
        panic!(
            "an EIP-1559 transaction has 12 fields, got {}",
            fields.len()
        );
    };
    assert_eq!(uint(chain_id), u128::from(tx.chain_id));
    assert_eq!(uint(nonce), u128::from(tx.nonce));
    assert_eq!(uint(priority), tx.max_priority_fee_per_gas);
    assert_eq!(uint(max_fee), tx.max_fee_per_gas);
    assert_eq!(uint(gas), u128::from(tx.gas_limit));
    let expected_to: &[u8] = match &tx.to {
        Some(a) => &a.0,
        None => &[],
    };
    assert_eq!(*to, Rlp::Bytes(expected_to));
    assert_eq!(uint(value), tx.value);
    assert_eq!(*input, Rlp::Bytes(&tx.data));
    assert_eq!(*access, Rlp::List(Vec::new()));
    let parity = u8::try_from(uint(parity)).expect("parity is 0 or 1");
    let signature = Signature::from_parts(&scalar(r), &scalar(s), parity)
        .expect("a low-s signature with parity 0 or 1");
    assert_eq!(signature.recover_address(&tx.signing_hash()), Ok(*address));
}
