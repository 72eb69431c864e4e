//! The authorisation relayer (issue #13): the server posts a patient's
//! `authorise(vt, R, ST, C1)` (`docs/PROTOCOL.md §5`, §13) from its own
//! account, so that her grants are not linked on chain by their sender.
//!
//! Anyone who reaches the server can make the hospital pay gas, so a relay
//! is bounded: a token bucket per client and one for the whole server
//! ([`RelayBudget`]), taken only once the request is fully validated; and
//! one transaction is submitted at a time ([`Relay::relay`] holds a lock
//! around the nonce read, signing and sending, on the blocking thread
//! itself, so that a request abandoned by its client cannot release it
//! early), so concurrent relays never take the same nonce.
//!
//! Behind [`ChainWriter`] so that tests can stand in a fake chain; the real
//! one ([`RpcRelayer`]) signs EIP-1559 transactions locally with the
//! core's `chain::tx` through `ehrchain_rpc::Client::submit`.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ehrchain::chain::log::Receipt;
use ehrchain::chain::registry::calls;
use ehrchain::grant::Authorisation;
use ehrchain::{Address, SecretKey};
use ehrchain_rpc::Client;

use crate::config::RelayLimits;
use crate::error::ApiError;
use crate::ratelimit::{RateLimiter, TokenBucket};

/// Seconds in the hour the relay budgets are counted over.
const HOUR: f64 = 3600.0;

/// Writes to the registry from the relayer's account.
pub trait ChainWriter: Send + Sync + std::fmt::Debug + 'static {
    /// The relayer's address (the sender of every relayed transaction).
    fn address(&self) -> Address;

    /// Signs and sends `authorise(auth)`; returns the transaction hash.
    /// Reads and uses the account's nonce: [`Relay`] calls it under its
    /// lock, one at a time.
    ///
    /// # Errors
    /// The core crate's `Reverted` (estimation reverted), `Rpc`,
    /// `RpcUnreachable`.
    fn submit_authorise(&self, auth: &Authorisation) -> ehrchain::Result<[u8; 32]>;

    /// The receipt of `tx`, waiting up to `timeout`; `None` if it is not
    /// mined by then.
    ///
    /// # Errors
    /// The core crate's RPC errors.
    fn receipt(&self, tx: &[u8; 32], timeout: Duration) -> ehrchain::Result<Option<Receipt>>;
}

/// The registry at `registry`, written through JSON-RPC with `key`.
#[derive(Debug)]
pub struct RpcRelayer {
    client: Client,
    registry: Address,
    key: Arc<SecretKey>,
}

impl RpcRelayer {
    /// A relayer posting to `registry` through `rpc_url`, signing with `key`.
    ///
    /// # Errors
    /// [`ehrchain::Error::RpcUnreachable`] for a URL that is not HTTP(S).
    pub fn new(rpc_url: &str, registry: Address, key: Arc<SecretKey>) -> ehrchain::Result<Self> {
        Ok(RpcRelayer {
            client: Client::new(rpc_url)?,
            registry,
            key,
        })
    }
}

impl ChainWriter for RpcRelayer {
    fn address(&self) -> Address {
        self.key.address()
    }

    fn submit_authorise(&self, auth: &Authorisation) -> ehrchain::Result<[u8; 32]> {
        self.client
            .submit(&self.key, Some(&self.registry), &calls::authorise(auth))
    }

    fn receipt(&self, tx: &[u8; 32], timeout: Duration) -> ehrchain::Result<Option<Receipt>> {
        match self.client.wait_receipt(tx, timeout) {
            Ok(r) => Ok(Some(r)),
            Err(ehrchain::Error::TransactionNotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The relay budgets: one token bucket per client, one for the server.
#[derive(Debug)]
pub struct RelayBudget {
    per_client: RateLimiter,
    total: TokenBucket,
}

impl RelayBudget {
    /// Buckets of `per_hour_per_client` and `per_hour` tokens, each refilled
    /// evenly over an hour (0: that bound is off).
    pub fn new(limits: &RelayLimits) -> Self {
        let per_hour = |n: u32| (f64::from(n) / HOUR, n);
        let (client_rate, client_burst) = per_hour(limits.per_hour_per_client);
        let (total_rate, total_burst) = per_hour(limits.per_hour);
        RelayBudget {
            per_client: RateLimiter::new(client_rate, client_burst),
            total: TokenBucket::new(total_rate, total_burst),
        }
    }

    /// Takes one relay from `ip`'s bucket, then one from the server's; if
    /// the server's is empty the client's token is given back.
    ///
    /// # Errors
    /// [`ApiError::RateLimited`] with the wait until the empty bucket has a token.
    pub fn take(&self, ip: IpAddr) -> Result<(), ApiError> {
        let limited = |wait: Duration| ApiError::RateLimited {
            retry_after_secs: wait.as_secs().saturating_add(1),
        };
        self.per_client.take(ip).map_err(limited)?;
        if let Err(wait) = self.total.take() {
            self.per_client.refund(ip);
            return Err(limited(wait));
        }
        Ok(())
    }
}

/// What became of a relayed transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relayed {
    /// Mined and successful.
    Mined {
        /// The transaction hash.
        transaction_hash: [u8; 32],
        /// Its block.
        block_number: u64,
    },
    /// Sent, but not mined within the receipt timeout: it may still be.
    Pending {
        /// The transaction hash.
        transaction_hash: [u8; 32],
    },
}

/// The relayer: its chain writer, its nonce lock, its budgets.
#[derive(Debug)]
pub struct Relay {
    writer: Arc<dyn ChainWriter>,
    /// Held around [`ChainWriter::submit_authorise`]: one nonce in use at a time.
    nonce: Mutex<()>,
    budget: RelayBudget,
    receipt_timeout: Duration,
}

impl Relay {
    /// A relay through `writer`, bounded by `limits`.
    pub fn new(writer: Arc<dyn ChainWriter>, limits: &RelayLimits) -> Self {
        Relay {
            writer,
            nonce: Mutex::new(()),
            budget: RelayBudget::new(limits),
            receipt_timeout: limits.receipt_timeout,
        }
    }

    /// The relayer's address.
    pub fn address(&self) -> Address {
        self.writer.address()
    }

    /// Takes one relay of `ip`'s budget and the server's.
    ///
    /// # Errors
    /// [`ApiError::RateLimited`].
    pub fn admit(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.budget.take(ip)
    }

    /// Posts `auth` (blocking: call it on the blocking pool) and waits for
    /// its receipt up to the receipt timeout.
    ///
    /// # Errors
    /// The core crate's `Reverted` (estimation reverted, or the mined
    /// transaction failed: `status 0`), `Rpc`, `RpcUnreachable`; an answer
    /// of the node that cannot be read is `Rpc`.
    pub fn relay(&self, auth: &Authorisation) -> Result<Relayed, ApiError> {
        let transaction_hash = {
            let _nonce = self.nonce.lock().unwrap_or_else(|p| p.into_inner());
            self.writer.submit_authorise(auth).map_err(chain_error)?
        };
        match self
            .writer
            .receipt(&transaction_hash, self.receipt_timeout)
            .map_err(chain_error)?
        {
            None => Ok(Relayed::Pending { transaction_hash }),
            Some(r) if !r.success => Err(ApiError::Protocol(ehrchain::Error::Reverted {
                reason: "status 0".into(),
            })),
            Some(r) => Ok(Relayed::Mined {
                transaction_hash,
                block_number: r.block_number,
            }),
        }
    }
}

/// A failure on the chain's side, as answered: `Reverted`, `Rpc` and
/// `RpcUnreachable` as they are; an answer that could not be read (which the
/// core reports as an encoding error, a client's fault elsewhere) as `Rpc`.
fn chain_error(e: ehrchain::Error) -> ApiError {
    use ehrchain::Error as E;
    match e {
        E::Reverted { .. } | E::Rpc { .. } | E::RpcUnreachable { .. } => ApiError::Protocol(e),
        E::Rng | E::OutOfMemory { .. } => ApiError::Internal(e.to_string()),
        other => ApiError::Protocol(E::Rpc {
            code: 0,
            message: other.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_client: u32, total: u32) -> RelayLimits {
        RelayLimits {
            per_hour_per_client: per_client,
            per_hour: total,
            receipt_timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn a_client_refused_by_the_server_wide_budget_keeps_its_own_token() {
        let b = RelayBudget::new(&limits(2, 1));
        let (a, c): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        assert!(b.take(a).is_ok());
        // The server's bucket is empty: c's token is given back...
        assert!(matches!(b.take(c), Err(ApiError::RateLimited { .. })));
        // ...so c still holds both of its own.
        assert!(b.per_client.take(c).is_ok() && b.per_client.take(c).is_ok());
        assert!(b.per_client.take(c).is_err());
    }

    #[test]
    fn retry_after_names_the_wait_for_the_next_token() {
        let b = RelayBudget::new(&limits(20, 0));
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        assert!((0..20).all(|_| b.take(ip).is_ok()));
        match b.take(ip) {
            Err(ApiError::RateLimited { retry_after_secs }) => {
                assert!(
                    (170..=181).contains(&retry_after_secs),
                    "{retry_after_secs}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn chain_side_failures_keep_their_codes() {
        let unreadable = ehrchain::Error::MalformedEncoding {
            what: "JSON-RPC result",
            reason: "x",
        };
        assert_eq!(chain_error(unreadable).code(), "Rpc");
        let reverted = ehrchain::Error::Reverted { reason: "x".into() };
        assert_eq!(chain_error(reverted).code(), "Reverted");
    }
}
