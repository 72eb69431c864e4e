//! EIP-1559 transactions, built and signed locally for `eth_sendRawTransaction`
//! (devices without a wallet), and their RLP encoding.
//!
//! ```text
//! raw  = 0x02 ‖ rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gas, to, value, data, accessList = [],
//!                    yParity, r, s])
//! hash = keccak256(raw)                     (the transaction hash, tx_id)
//! sig  = secp256k1 over keccak256(0x02 ‖ rlp([chainId … accessList]))
//! ```

use crate::account::{Address, SecretKey};
use serde_json::Value as Json;

use crate::error::{Error, Result};
use crate::hash::keccak256;
use crate::signature::Signature;

/// An unsigned EIP-1559 transaction (empty access list; `to = None` deploys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eip1559 {
    /// Chain ID (31337 for the local Hardhat node).
    pub chain_id: u64,
    /// Sender's nonce.
    pub nonce: u64,
    /// Priority fee per gas, wei.
    pub max_priority_fee_per_gas: u128,
    /// Maximum fee per gas, wei.
    pub max_fee_per_gas: u128,
    /// Gas limit.
    pub gas_limit: u64,
    /// Recipient; `None` creates a contract.
    pub to: Option<Address>,
    /// Value, wei.
    pub value: u128,
    /// Calldata (or init code).
    pub data: Vec<u8>,
}

impl Eip1559 {
    /// Reads the transaction fields as a dapp writes them (the JS
    /// `TxFields`): `chainId`, `nonce`, `gas` as non-negative integers;
    /// `maxFeePerGas`, `maxPriorityFeePerGas`, `value` as wei, a decimal
    /// string or an integer (absent = 0); `to` an address (absent or `null`
    /// deploys); `data` hex (absent = empty).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the field, [`Error::InvalidAddress`]
    /// for a bad `to`, [`Error::InvalidHex`] for bad `data`.
    pub fn from_json(v: &Json) -> Result<Self> {
        let int = |name: &'static str| -> Result<u64> {
            v.get(name)
                .and_then(Json::as_u64)
                .ok_or(Error::InvalidArgument {
                    what: name,
                    expected: "a non-negative integer",
                })
        };
        let wei = |name: &'static str| -> Result<u128> {
            match v.get(name) {
                None | Some(Json::Null) => Some(0),
                Some(Json::Number(n)) => n.as_u64().map(u128::from),
                Some(Json::String(s)) => s.parse::<u128>().ok(),
                _ => None,
            }
            .ok_or(Error::InvalidArgument {
                what: name,
                expected: "wei as a decimal string",
            })
        };
        let to = match v.get("to") {
            None | Some(Json::Null) => None,
            Some(t) => Some(Address::parse(t.as_str().unwrap_or_default())?),
        };
        let data = match v.get("data").and_then(Json::as_str) {
            Some(d) => crate::hex::decode("data", d)?,
            None => Vec::new(),
        };
        Ok(Eip1559 {
            chain_id: int("chainId")?,
            nonce: int("nonce")?,
            max_priority_fee_per_gas: wei("maxPriorityFeePerGas")?,
            max_fee_per_gas: wei("maxFeePerGas")?,
            gas_limit: int("gas")?,
            to,
            value: wei("value")?,
            data,
        })
    }
}

/// RLP of a byte string.
fn rlp_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    match bytes {
        [b] if *b < 0x80 => out.push(*b),
        _ => {
            rlp_length(out, bytes.len(), 0x80);
            out.extend_from_slice(bytes);
        }
    }
}

/// RLP of an unsigned integer (big-endian, no leading zeros; 0 is the empty string).
fn rlp_uint(out: &mut Vec<u8>, value: u128) {
    let be = value.to_be_bytes();
    let first = be.iter().position(|b| *b != 0).unwrap_or(be.len());
    rlp_bytes(out, &be[first..]);
}

fn rlp_length(out: &mut Vec<u8>, len: usize, offset: u8) {
    if len < 56 {
        // len < 56 so the sum stays below 0xc0 + 56.
        out.push(offset + u8::try_from(len).unwrap_or(55));
    } else {
        let be = (len as u64).to_be_bytes();
        let first = be.iter().position(|b| *b != 0).unwrap_or(7);
        let n = be.len() - first;
        out.push(offset + 55 + u8::try_from(n).unwrap_or(8));
        out.extend_from_slice(&be[first..]);
    }
}

fn rlp_list(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 9);
    rlp_length(&mut out, payload.len(), 0xc0);
    out.extend_from_slice(payload);
    out
}

impl Eip1559 {
    fn fields(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(self.data.len() + 128);
        rlp_uint(&mut p, u128::from(self.chain_id));
        rlp_uint(&mut p, u128::from(self.nonce));
        rlp_uint(&mut p, self.max_priority_fee_per_gas);
        rlp_uint(&mut p, self.max_fee_per_gas);
        rlp_uint(&mut p, u128::from(self.gas_limit));
        match &self.to {
            Some(a) => rlp_bytes(&mut p, &a.0),
            None => rlp_bytes(&mut p, &[]),
        }
        rlp_uint(&mut p, self.value);
        rlp_bytes(&mut p, &self.data);
        p.push(0xc0); // empty access list
        p
    }

    /// The digest the sender signs: `keccak256(0x02 ‖ rlp(fields))`.
    pub fn signing_hash(&self) -> [u8; 32] {
        let mut msg = vec![0x02];
        msg.extend_from_slice(&rlp_list(&self.fields()));
        keccak256(&msg)
    }

    /// Signs; returns the raw transaction for `eth_sendRawTransaction`.
    ///
    /// # Errors
    /// Only if signing fails (never for a valid key).
    pub fn sign(&self, key: &SecretKey) -> Result<SignedTransaction> {
        let sig = Signature::sign_prehash(key, &self.signing_hash())?;
        // r and s are 256-bit: encoded as byte strings without leading zeros.
        let mut payload = self.fields();
        rlp_uint(&mut payload, u128::from(sig.parity()));
        rlp_scalar(&mut payload, &sig.r());
        rlp_scalar(&mut payload, &sig.s());
        let mut raw = vec![0x02];
        raw.extend_from_slice(&rlp_list(&payload));
        Ok(SignedTransaction {
            hash: keccak256(&raw),
            raw,
            from: key.address(),
        })
    }
}

fn rlp_scalar(out: &mut Vec<u8>, be: &[u8; 32]) {
    let first = be.iter().position(|b| *b != 0).unwrap_or(be.len());
    rlp_bytes(out, &be[first..]);
}

/// A signed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTransaction {
    /// `0x02 ‖ rlp(…)`, for `eth_sendRawTransaction`.
    pub raw: Vec<u8>,
    /// `keccak256(raw)`: the transaction hash.
    pub hash: [u8; 32],
    /// The sender.
    pub from: Address,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_from_json_read_as_a_dapp_writes_them() {
        let tx = Eip1559::from_json(&serde_json::json!({
            "chainId": 31337, "nonce": 2, "gas": 100000,
            "maxFeePerGas": "3000000000", "maxPriorityFeePerGas": 1,
            "to": "0x5FbDB2315678afecb367f032d93F642f64180aa3", "data": "0x01ff",
        }))
        .unwrap();
        assert_eq!(tx.chain_id, 31337);
        assert_eq!(tx.max_fee_per_gas, 3_000_000_000);
        assert_eq!(tx.value, 0);
        assert_eq!(tx.data, [1, 0xff]);
        assert!(tx.to.is_some());
    }

    #[test]
    fn a_missing_or_fractional_field_is_named_in_the_error() {
        let base = serde_json::json!({"chainId": 1, "nonce": 0, "gas": 21000, "maxFeePerGas": 1, "maxPriorityFeePerGas": 1});
        let mut no_gas = base.clone();
        no_gas.as_object_mut().unwrap().remove("gas");
        assert_eq!(
            Eip1559::from_json(&no_gas),
            Err(Error::InvalidArgument {
                what: "gas",
                expected: "a non-negative integer"
            })
        );
        let mut bad_fee = base.clone();
        bad_fee["maxFeePerGas"] = serde_json::json!("1.5");
        assert_eq!(
            Eip1559::from_json(&bad_fee),
            Err(Error::InvalidArgument {
                what: "maxFeePerGas",
                expected: "wei as a decimal string"
            })
        );
        let mut bad_to = base;
        bad_to["to"] = serde_json::json!(5);
        assert!(matches!(
            Eip1559::from_json(&bad_to),
            Err(Error::InvalidAddress { .. })
        ));
    }

    #[test]
    fn rlp_follows_the_yellow_paper() {
        let mut out = Vec::new();
        rlp_uint(&mut out, 0);
        rlp_uint(&mut out, 0x7f);
        rlp_uint(&mut out, 0x80);
        rlp_uint(&mut out, 1024);
        assert_eq!(out, [0x80, 0x7f, 0x81, 0x80, 0x82, 0x04, 0x00]);
        let mut long = Vec::new();
        rlp_bytes(&mut long, &[0xaa; 60]);
        assert_eq!(&long[..2], &[0xb8, 60]);
        assert_eq!(rlp_list(&[0u8; 60])[..2], [0xf8, 60]);
    }

    #[test]
    fn signed_transaction_recovers_its_sender() {
        let key = SecretKey::generate().unwrap();
        let tx = Eip1559 {
            chain_id: 31337,
            nonce: 3,
            max_priority_fee_per_gas: 1_000_000_000,
            max_fee_per_gas: 30_000_000_000,
            gas_limit: 100_000,
            to: Some(Address([1; 20])),
            value: 0,
            data: vec![1, 2, 3],
        };
        let signed = tx.sign(&key).unwrap();
        assert_eq!(signed.raw[0], 0x02);
        assert_eq!(signed.hash, keccak256(&signed.raw));
        assert_eq!(signed.from, key.address());
    }
}
