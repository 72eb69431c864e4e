//! A blocking Ethereum JSON-RPC client over HTTP(S) (native only), for the
//! CLI and the hospital server: read anchors, certificate status and receipts,
//! send locally signed transactions, page through registry events.
#![forbid(unsafe_code)]
#![deny(missing_docs, rustdoc::broken_intra_doc_links)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};

use ehrchain::account::{Address, SecretKey};
use ehrchain::anchor::CertifiedAnchor;
use ehrchain::chain::log::{quantity, Log, Receipt};
use ehrchain::chain::registry::{self, CertificateStatus, RecordStatus};
use ehrchain::chain::scan;
use ehrchain::chain::tx::Eip1559;
use ehrchain::error::{Error, Result};
use ehrchain::grant::Scanner;
use ehrchain::hex::encode_prefixed as hx;

/// A JSON-RPC endpoint.
#[derive(Debug)]
pub struct Client {
    url: String,
    agent: ureq::Agent,
}

fn unreachable(reason: impl Into<String>) -> Error {
    Error::RpcUnreachable {
        reason: reason.into(),
    }
}

fn quantity_u128(value: &Json) -> Result<u128> {
    let text = value.as_str().unwrap_or_default();
    let digits = ehrchain::hex::prefixed_digits(text).unwrap_or_default();
    if digits.is_empty() || digits.len() > 32 {
        return Err(Error::MalformedEncoding {
            what: "JSON-RPC result",
            reason: "quantity out of range",
        });
    }
    u128::from_str_radix(digits, 16).map_err(|_| Error::MalformedEncoding {
        what: "JSON-RPC result",
        reason: "quantity is not hex",
    })
}

/// Extracts revert data from a JSON-RPC error's `data` (a hex string, or an
/// object holding one, depending on the node).
fn revert_data(data: Option<&Json>) -> Option<Vec<u8>> {
    let text = match data? {
        Json::String(s) => s.clone(),
        Json::Object(o) => o.get("data").and_then(Json::as_str)?.to_owned(),
        _ => return None,
    };
    ehrchain::hex::decode("revert data", &text).ok()
}

impl Client {
    /// A client for `url` (`http://` or `https://`), with a 10 s connect and 60 s overall timeout.
    ///
    /// # Errors
    /// [`Error::RpcUnreachable`] for a URL that is not HTTP(S).
    pub fn new(url: &str) -> Result<Self> {
        Self::with_timeout(url, Duration::from_secs(60))
    }

    /// A client for `url` whose calls give up after `timeout` (connecting
    /// included, itself at most 10 s): for readers that must fail closed
    /// quickly rather than wait on a node that hangs.
    ///
    /// # Errors
    /// [`Error::RpcUnreachable`] for a URL that is not HTTP(S).
    pub fn with_timeout(url: &str, timeout: Duration) -> Result<Self> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(unreachable("RPC URL must start with http:// or https://"));
        }
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(timeout.min(Duration::from_secs(10)))
            .timeout(timeout)
            .build();
        Ok(Client {
            url: url.to_owned(),
            agent,
        })
    }

    /// One JSON-RPC call; returns `result`.
    ///
    /// # Errors
    /// [`Error::RpcUnreachable`] (network, HTTP status, non-JSON answer),
    /// [`Error::Reverted`] for an execution revert carrying a registry error,
    /// [`Error::Rpc`] for other JSON-RPC errors.
    pub fn call(&self, method: &str, params: Json) -> Result<Json> {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        let response = match self.agent.post(&self.url).send_json(body) {
            Ok(r) => r,
            Err(ureq::Error::Status(code, r)) => {
                // Some nodes answer JSON-RPC errors with HTTP 4xx/5xx and a JSON body.
                match r.into_json::<Json>() {
                    Ok(j) if j.get("error").is_some() => return Self::result(j),
                    _ => return Err(unreachable(format!("HTTP status {code}"))),
                }
            }
            Err(ureq::Error::Transport(t)) => return Err(unreachable(t.to_string())),
        };
        let answer: Json = response
            .into_json()
            .map_err(|e| unreachable(format!("invalid JSON answer: {e}")))?;
        Self::result(answer)
    }

    fn result(answer: Json) -> Result<Json> {
        if let Some(err) = answer.get("error") {
            if let Some(reason) = revert_data(err.get("data"))
                .as_deref()
                .and_then(registry::revert_reason)
            {
                return Err(Error::Reverted {
                    reason: reason.to_owned(),
                });
            }
            return Err(Error::Rpc {
                code: err.get("code").and_then(Json::as_i64).unwrap_or(0),
                message: err
                    .get("message")
                    .and_then(Json::as_str)
                    .unwrap_or("")
                    .chars()
                    .take(300)
                    .collect(),
            });
        }
        answer
            .get("result")
            .cloned()
            .ok_or_else(|| unreachable("answer has neither result nor error"))
    }

    /// `eth_chainId`.
    ///
    /// # Errors
    /// As [`Client::call`].
    pub fn chain_id(&self) -> Result<u64> {
        quantity(&self.call("eth_chainId", json!([]))?)
    }

    /// `eth_blockNumber`.
    ///
    /// # Errors
    /// As [`Client::call`].
    pub fn block_number(&self) -> Result<u64> {
        quantity(&self.call("eth_blockNumber", json!([]))?)
    }

    /// `eth_call` of `data` on `to` at the latest block; returns the return data.
    ///
    /// # Errors
    /// As [`Client::call`].
    pub fn eth_call(&self, to: &Address, data: &[u8]) -> Result<Vec<u8>> {
        self.eth_call_with(to, data, json!("latest"))
    }

    /// `eth_call` of `data` on `to` at block `block`: the state after that
    /// block, whatever was mined since. A node that does not have the block
    /// yet (or no longer has its state) answers an error, never another
    /// block's state.
    ///
    /// # Errors
    /// As [`Client::call`].
    pub fn eth_call_at(&self, to: &Address, data: &[u8], block: u64) -> Result<Vec<u8>> {
        self.eth_call_with(to, data, json!(format!("0x{block:x}")))
    }

    fn eth_call_with(&self, to: &Address, data: &[u8], block: Json) -> Result<Vec<u8>> {
        let r = self.call(
            "eth_call",
            json!([{ "to": to.to_checksum(), "data": hx(data) }, block]),
        )?;
        ehrchain::hex::decode("eth_call result", r.as_str().unwrap_or_default())
    }

    /// The receipt of `tx_hash`.
    ///
    /// # Errors
    /// [`Error::TransactionNotFound`] if the node knows no such (mined) transaction.
    pub fn receipt(&self, tx_hash: &[u8; 32]) -> Result<Receipt> {
        Receipt::from_json(&self.call("eth_getTransactionReceipt", json!([hx(tx_hash)]))?)
    }

    /// Waits up to `timeout` for the receipt of `tx_hash`.
    ///
    /// # Errors
    /// [`Error::TransactionNotFound`] after the timeout.
    pub fn wait_receipt(&self, tx_hash: &[u8; 32], timeout: Duration) -> Result<Receipt> {
        let start = Instant::now();
        loop {
            match self.receipt(tx_hash) {
                Err(Error::TransactionNotFound) if start.elapsed() < timeout => {
                    std::thread::sleep(Duration::from_millis(200));
                }
                other => return other,
            }
        }
    }

    /// Logs of `address` with topic 0 `topic0` in `from..=to`.
    ///
    /// # Errors
    /// As [`Client::call`] and [`Log::from_json`].
    pub fn logs(
        &self,
        address: &Address,
        topic0: &[u8; 32],
        from: u64,
        to: u64,
    ) -> Result<Vec<Log>> {
        Log::many_from_json(&self.logs_json(address, topic0, from, to)?)
    }

    /// The raw `eth_getLogs` answer for `address` and `topic0` in blocks
    /// `from..=to`.
    fn logs_json(&self, address: &Address, topic0: &[u8; 32], from: u64, to: u64) -> Result<Json> {
        let filter = json!({
            "address": address.to_checksum(),
            "topics": [hx(topic0)],
            "fromBlock": format!("{from:#x}"),
            "toBlock": format!("{to:#x}"),
        });
        self.call("eth_getLogs", json!([filter]))
    }

    /// Builds, signs and sends an EIP-1559 transaction from `key`, then waits
    /// for its receipt (up to 120 s): [`Client::submit`], then
    /// [`Client::wait_receipt`].
    ///
    /// # Errors
    /// As [`Client::submit`]; [`Error::Reverted`] if execution reverts;
    /// [`Error::TransactionNotFound`] if it is not mined in time.
    pub fn send(&self, key: &SecretKey, to: Option<&Address>, data: &[u8]) -> Result<Receipt> {
        let hash = self.submit(key, to, data)?;
        let receipt = self.wait_receipt(&hash, Duration::from_secs(120))?;
        if !receipt.success {
            return Err(Error::Reverted {
                reason: "status 0".into(),
            });
        }
        Ok(receipt)
    }

    /// Builds, signs and sends an EIP-1559 transaction from `key` without
    /// waiting for it to be mined; returns its hash. Gas is estimated
    /// (+20 %); fees follow the node's suggestion (`eth_maxPriorityFeePerGas`,
    /// twice the latest base fee); the nonce is the node's count of `key`'s
    /// transactions including pending ones.
    ///
    /// The nonce is read and used without a lock: a caller that submits
    /// from one key on several threads MUST serialise its calls (one
    /// `submit` at a time per key), or two transactions may take the same
    /// nonce and one of them be refused.
    ///
    /// # Errors
    /// [`Error::Reverted`] if estimation reverts with a registry error;
    /// [`Error::Rpc`] for other node refusals (insufficient funds, nonce
    /// too low, …); [`Error::RpcUnreachable`].
    pub fn submit(&self, key: &SecretKey, to: Option<&Address>, data: &[u8]) -> Result<[u8; 32]> {
        let from = key.address().to_checksum();
        let mut call = json!({ "from": from, "data": hx(data) });
        if let Some(to) = to {
            call["to"] = json!(to.to_checksum());
        }
        let gas = quantity(&self.call("eth_estimateGas", json!([call]))?)?;
        let priority = quantity_u128(&self.call("eth_maxPriorityFeePerGas", json!([]))?)?;
        let block = self.call("eth_getBlockByNumber", json!(["latest", false]))?;
        let base = block
            .get("baseFeePerGas")
            .map(quantity_u128)
            .transpose()?
            .unwrap_or(0);
        let tx = Eip1559 {
            chain_id: self.chain_id()?,
            nonce: quantity(&self.call("eth_getTransactionCount", json!([from, "pending"]))?)?,
            max_priority_fee_per_gas: priority,
            max_fee_per_gas: base.saturating_mul(2).saturating_add(priority),
            gas_limit: gas.saturating_add(gas / 5),
            to: to.copied(),
            value: 0,
            data: data.to_vec(),
        };
        let signed = tx.sign(key)?;
        let hash_json = self.call("eth_sendRawTransaction", json!([hx(&signed.raw)]))?;
        let hash = ehrchain::hex::decode_array(
            "transaction hash",
            "32",
            hash_json.as_str().unwrap_or_default(),
        )?;
        if hash != signed.hash {
            return Err(Error::MalformedEncoding {
                what: "JSON-RPC result",
                reason: "the node names another transaction hash than the one sent",
            });
        }
        Ok(hash)
    }

    /// The registry's `recordStatus(eh)`.
    ///
    /// # Errors
    /// As [`Client::eth_call`] and [`RecordStatus::decode`].
    pub fn record_status(&self, registry: &Address, eh: &[u8; 32]) -> Result<RecordStatus> {
        RecordStatus::decode(&self.eth_call(registry, &registry::record_status(eh))?)
    }

    /// The registry's `recordStatus(eh)` at block `block`.
    ///
    /// # Errors
    /// As [`Client::eth_call_at`] and [`RecordStatus::decode`].
    pub fn record_status_at(
        &self,
        registry: &Address,
        eh: &[u8; 32],
        block: u64,
    ) -> Result<RecordStatus> {
        RecordStatus::decode(&self.eth_call_at(registry, &registry::record_status(eh), block)?)
    }

    /// The registry's `certificateStatus(serial)` at block `block`.
    ///
    /// # Errors
    /// As [`Client::eth_call_at`] and [`CertificateStatus::decode`].
    pub fn certificate_status_at(
        &self,
        registry: &Address,
        serial: u64,
        block: u64,
    ) -> Result<CertificateStatus> {
        CertificateStatus::decode(&self.eth_call_at(
            registry,
            &registry::certificate_status(serial),
            block,
        )?)
    }

    /// The registry's `certificateStatus(serial)`.
    ///
    /// # Errors
    /// As [`Client::eth_call`] and [`CertificateStatus::decode`].
    pub fn certificate_status(&self, registry: &Address, serial: u64) -> Result<CertificateStatus> {
        CertificateStatus::decode(&self.eth_call(registry, &registry::certificate_status(serial))?)
    }

    /// The anchor of `eh`, checked by the anchoring rule
    /// ([`CertifiedAnchor::confirm`]): `recordStatus(eh)`, then
    /// `certificateStatus` of the anchor's serial.
    ///
    /// # Errors
    /// As [`Client::eth_call`]; [`Error::RecordNotAnchored`],
    /// [`Error::RecordDeleted`], [`Error::AnchorNotCertified`].
    pub fn certified_anchor(&self, registry: &Address, eh: &[u8; 32]) -> Result<CertifiedAnchor> {
        let record = self.record_status(registry, eh)?;
        if !record.anchored {
            return Err(Error::RecordNotAnchored);
        }
        let certificate = self.certificate_status(registry, record.serial)?;
        CertifiedAnchor::confirm(eh, &record, &certificate)
    }

    /// `eh` anchored by transaction `tx_id` (Alg 5 step 13).
    ///
    /// # Errors
    /// [`Error::TransactionNotFound`], [`Error::Reverted`] (the transaction
    /// failed), [`Error::EventNotFound`] (no anchoring event of this registry
    /// in that transaction).
    pub fn anchored_eh(&self, registry: &Address, tx_id: &[u8; 32]) -> Result<[u8; 32]> {
        registry::anchored_eh_in_receipt(&self.receipt(tx_id)?, registry)
    }

    /// Scans the registry's `Authorised` events in `from..=to` (pages of
    /// `page` blocks) and returns those addressed to `scanner`'s key with
    /// their sequence numbers and transaction hashes.
    ///
    /// # Errors
    /// As [`Client::logs`]; a malformed event is skipped, not fatal.
    pub fn scan(
        &self,
        registry: &Address,
        scanner: &Scanner,
        from: u64,
        to: u64,
        page: u64,
    ) -> Result<Vec<Found>> {
        let topic = registry::authorised_topic();
        let mut found = Vec::new();
        let mut start = from;
        let page = page.max(1);
        while start <= to {
            let end = start.saturating_add(page - 1).min(to);
            let logs = self.logs_json(registry, &topic, start, end)?;
            found.extend(scan::authorisations_in_json(scanner, registry, &logs)?);
            if end == u64::MAX {
                break;
            }
            start = end + 1;
        }
        Ok(found)
    }
}

pub use ehrchain::chain::scan::Found;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_that_does_not_answer_is_a_typed_error() {
        // Port 9 (discard) on loopback: nothing listens there.
        let c = Client::new("http://127.0.0.1:9").unwrap();
        assert!(matches!(c.chain_id(), Err(Error::RpcUnreachable { .. })));
        assert!(matches!(
            Client::new("ftp://x"),
            Err(Error::RpcUnreachable { .. })
        ));
    }
}
