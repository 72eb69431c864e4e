//! Fuzzes the JSON-RPC answer parsers the crate (and `ehrchain-rpc`) reads
//! nodes' results with: [`quantity`], [`Log::from_json`],
//! [`Log::many_from_json`] (`eth_getLogs`) and [`Receipt::from_json`]
//! (`eth_getTransactionReceipt`), all on the same JSON value.
//!
//! Invariants:
//! - no parser panics: `Ok` or a typed `Error`;
//! - whatever parses, written back in the node's JSON shape, parses to the
//!   same value (quantities as `0x` hex, data as hex, addresses EIP-55);
//! - `many_from_json` of an array agrees element by element with `from_json`;
//! - `anchored_eh_in_receipt` on a parsed receipt never panics and fails on
//!   a reverted one.

use ehrchain::chain::log::{quantity, Log, Receipt};
use ehrchain::chain::registry::anchored_eh_in_receipt;
use ehrchain::hex::encode_prefixed as hx;
use ehrchain::{Address, Error};
use serde_json::{json, Value};

/// The registry the receipts are searched for anchors of.
pub const REGISTRY: Address = Address([0x77; 20]);

fn quantity_json(q: u64) -> Value {
    json!(format!("{q:#x}"))
}

fn log_json(log: &Log) -> Value {
    let topics: Vec<String> = log.topics.iter().map(|t| hx(t)).collect();
    json!({
        "address": log.address.to_checksum(),
        "topics": topics,
        "data": hx(&log.data),
        "transactionHash": log.transaction_hash.map(|h| hx(&h)),
        "blockNumber": log.block_number.map(quantity_json),
        "logIndex": log.log_index.map(quantity_json),
    })
}

fn receipt_json(receipt: &Receipt) -> Value {
    json!({
        "transactionHash": hx(&receipt.transaction_hash),
        "blockNumber": quantity_json(receipt.block_number),
        "status": quantity_json(u64::from(receipt.success)),
        "gasUsed": quantity_json(receipt.gas_used),
        "from": receipt.from.to_checksum(),
        "contractAddress": receipt.contract_address.map(|a| a.to_checksum()),
        "logs": receipt.logs.iter().map(log_json).collect::<Vec<_>>(),
    })
}

/// Parses `data` as a JSON-RPC result every way and checks the invariants above.
pub fn run(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if let Ok(q) = quantity(&value) {
        assert_eq!(quantity(&quantity_json(q)), Ok(q));
    }
    if let Ok(log) = Log::from_json(&value) {
        assert_eq!(Log::from_json(&log_json(&log)).as_ref(), Ok(&log));
    }
    if let Ok(logs) = Log::many_from_json(&value) {
        let elements = value.as_array().expect("logs come from an array");
        assert_eq!(logs.len(), elements.len());
        for (log, element) in logs.iter().zip(elements) {
            assert_eq!(Log::from_json(element).as_ref(), Ok(log));
        }
        let again: Vec<Value> = logs.iter().map(log_json).collect();
        assert_eq!(Log::many_from_json(&Value::from(again)).as_ref(), Ok(&logs));
    }
    match Receipt::from_json(&value) {
        Ok(receipt) => {
            assert_eq!(
                Receipt::from_json(&receipt_json(&receipt)).as_ref(),
                Ok(&receipt)
            );
            let anchored = anchored_eh_in_receipt(&receipt, &REGISTRY);
            if !receipt.success {
                assert!(matches!(anchored, Err(Error::Reverted { .. })));
            }
        }
        Err(Error::TransactionNotFound) => assert!(value.is_null()),
        Err(_) => {}
    }
}
