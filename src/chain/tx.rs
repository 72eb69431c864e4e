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
use crate::error::Result;
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
