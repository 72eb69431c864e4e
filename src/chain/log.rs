//! Logs and receipts as Ethereum JSON-RPC returns them (`eth_getLogs`,
//! `eth_getTransactionReceipt`), parsed strictly from their JSON.

use serde_json::Value as Json;

use crate::account::Address;
use crate::error::{Error, Result};

/// One log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    /// The emitting contract.
    pub address: Address,
    /// Topics (topic 0 = event signature hash).
    pub topics: Vec<[u8; 32]>,
    /// Non-indexed data.
    pub data: Vec<u8>,
    /// The transaction that emitted it, when known.
    pub transaction_hash: Option<[u8; 32]>,
    /// Its block, when known.
    pub block_number: Option<u64>,
    /// Its index in the block, when known.
    pub log_index: Option<u64>,
}

fn bad(reason: &'static str) -> Error {
    Error::MalformedEncoding {
        what: "JSON-RPC result",
        reason,
    }
}

/// Reads a JSON-RPC quantity (`"0x1a"`) as u64.
///
/// # Errors
/// [`Error::MalformedEncoding`] if not a hex quantity that fits in 64 bits.
pub fn quantity(value: &Json) -> Result<u64> {
    let text = value.as_str().ok_or(bad("quantity is not a string"))?;
    // The prefix is required: it is what tells a hex quantity from decimal.
    let digits = crate::hex::prefixed_digits(text).ok_or(bad("quantity without 0x"))?;
    if digits.is_empty() || digits.len() > 16 {
        return Err(bad("quantity out of range"));
    }
    u64::from_str_radix(digits, 16).map_err(|_| bad("quantity is not hex"))
}

fn opt_quantity(value: Option<&Json>) -> Result<Option<u64>> {
    match value {
        None | Some(Json::Null) => Ok(None),
        Some(v) => quantity(v).map(Some),
    }
}

fn data(value: Option<&Json>, what: &'static str) -> Result<Vec<u8>> {
    let text = value
        .and_then(Json::as_str)
        .ok_or(bad("missing data field"))?;
    crate::hex::decode(what, text)
}

fn hash32(value: &Json, what: &'static str) -> Result<[u8; 32]> {
    crate::hex::decode_array(
        what,
        "32",
        value.as_str().ok_or(bad("hash is not a string"))?,
    )
}

fn address(value: Option<&Json>) -> Result<Address> {
    Address::parse(value.and_then(Json::as_str).ok_or(bad("missing address"))?)
}

impl Log {
    /// Parses one log object.
    ///
    /// # Errors
    /// [`Error::MalformedEncoding`], [`Error::InvalidHex`], [`Error::InvalidAddress`].
    pub fn from_json(value: &Json) -> Result<Self> {
        let topics = value
            .get("topics")
            .and_then(Json::as_array)
            .ok_or(bad("missing topics"))?
            .iter()
            .map(|t| hash32(t, "topic"))
            .collect::<Result<Vec<_>>>()?;
        Ok(Log {
            address: address(value.get("address"))?,
            topics,
            data: data(value.get("data"), "log data")?,
            transaction_hash: match value.get("transactionHash") {
                None | Some(Json::Null) => None,
                Some(h) => Some(hash32(h, "transactionHash")?),
            },
            block_number: opt_quantity(value.get("blockNumber"))?,
            log_index: opt_quantity(value.get("logIndex"))?,
        })
    }

    /// Parses an array of logs (an `eth_getLogs` result), strictly: one
    /// malformed entry fails the whole array.
    ///
    /// # Errors
    /// [`Error::MalformedEncoding`] unless `value` is an array; as
    /// [`Log::from_json`] for its first malformed entry.
    pub fn many_from_json(value: &Json) -> Result<Vec<Self>> {
        Self::entries(value)?.iter().map(Log::from_json).collect()
    }

    /// Parses an array of logs one by one, skipping every entry that is not
    /// a well-formed log (`null`, a number, `{}`, non-hex data...): for
    /// scanning, where anyone can post to the chain and nothing of it may
    /// stop a reader from finding what is his.
    ///
    /// # Errors
    /// [`Error::MalformedEncoding`] only if `value` is not an array.
    pub fn many_lenient(value: &Json) -> Result<Vec<Self>> {
        Ok(Self::entries(value)?
            .iter()
            .filter_map(|entry| Log::from_json(entry).ok())
            .collect())
    }

    fn entries(value: &Json) -> Result<&Vec<Json>> {
        value.as_array().ok_or(bad("logs must be an array"))
    }
}

/// The fields of a transaction receipt the protocol uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The transaction hash (`tx_id`).
    pub transaction_hash: [u8; 32],
    /// Its block.
    pub block_number: u64,
    /// Whether it succeeded (`status == 1`).
    pub success: bool,
    /// Gas used.
    pub gas_used: u64,
    /// The sender.
    pub from: Address,
    /// The created contract, for a deployment.
    pub contract_address: Option<Address>,
    /// Its logs.
    pub logs: Vec<Log>,
}

impl Receipt {
    /// Parses an `eth_getTransactionReceipt` result object.
    ///
    /// # Errors
    /// [`Error::TransactionNotFound`] for `null`; otherwise as [`Log::from_json`].
    pub fn from_json(value: &Json) -> Result<Self> {
        if value.is_null() {
            return Err(Error::TransactionNotFound);
        }
        Ok(Receipt {
            transaction_hash: hash32(
                value
                    .get("transactionHash")
                    .ok_or(bad("missing transactionHash"))?,
                "transactionHash",
            )?,
            block_number: quantity(value.get("blockNumber").ok_or(bad("missing blockNumber"))?)?,
            success: match quantity(value.get("status").ok_or(bad("missing status"))?)? {
                0 => false,
                1 => true,
                _ => return Err(bad("status must be 0x0 or 0x1")),
            },
            gas_used: quantity(value.get("gasUsed").ok_or(bad("missing gasUsed"))?)?,
            from: address(value.get("from"))?,
            contract_address: match value.get("contractAddress") {
                None | Some(Json::Null) => None,
                Some(a) => Some(address(Some(a))?),
            },
            logs: Log::many_from_json(value.get("logs").ok_or(bad("missing logs"))?)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good_log() -> Json {
        json!({
            "address": "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf",
            "topics": [format!("0x{}", "11".repeat(32))],
            "data": "0x0102",
            "transactionHash": format!("0x{}", "22".repeat(32)),
            "blockNumber": "0x10",
            "logIndex": "0x0",
        })
    }

    #[test]
    fn a_lenient_parse_skips_what_is_not_a_log() {
        let mut bad_data = good_log();
        bad_data["data"] = json!("0xzz");
        let logs = json!([null, 5, {}, "log", bad_data, good_log(), [good_log()]]);
        let parsed = Log::many_lenient(&logs).unwrap();
        assert_eq!(parsed, vec![Log::from_json(&good_log()).unwrap()]);
        assert_eq!(parsed[0].data, vec![1, 2]);
        assert_eq!(parsed[0].block_number, Some(16));
    }

    #[test]
    fn a_strict_parse_fails_on_the_first_bad_entry() {
        assert_eq!(
            Log::many_from_json(&json!([good_log(), null])),
            Err(Error::MalformedEncoding {
                what: "JSON-RPC result",
                reason: "missing topics"
            })
        );
    }

    #[test]
    fn logs_that_are_not_an_array_are_refused_even_leniently() {
        for value in [json!({}), json!(null), json!("[]")] {
            assert_eq!(
                Log::many_lenient(&value),
                Err(Error::MalformedEncoding {
                    what: "JSON-RPC result",
                    reason: "logs must be an array"
                })
            );
        }
    }

    #[test]
    fn a_quantity_takes_either_prefix_and_nothing_else() {
        assert_eq!(quantity(&json!("0x1a")), Ok(26));
        assert_eq!(quantity(&json!("0X1A")), Ok(26));
        assert_eq!(quantity(&json!("1a")), Err(bad("quantity without 0x")));
    }
}
