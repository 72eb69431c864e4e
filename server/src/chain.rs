//! What the server reads from the registry contract (`docs/PROTOCOL.md §13`):
//! the chain's newest block number, and a certificate's status by serial and
//! a record's status by `eh`, each **at a given block**.
//!
//! Behind a trait so that tests can stand in a fake chain; the real one is
//! the core crate's blocking JSON-RPC client, called on tokio's blocking pool.
//! Handlers never call it directly: they go through
//! [`ChainState`](crate::chainstate::ChainState), which reads each status
//! once per block and shares it between concurrent decisions.

use std::time::Duration;

use ehrchain::chain::registry::{CertificateStatus, RecordStatus};
use ehrchain::Address;
use ehrchain_rpc::Client;

/// Longest a registry read may take before it counts as the chain being
/// unreachable (the default client's 60 s would hold decisions far beyond
/// their own deadline).
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Read access to the registry, at explicit block numbers.
pub trait ChainView: Send + Sync + std::fmt::Debug + 'static {
    /// `eth_blockNumber`: the newest block the node has.
    ///
    /// # Errors
    /// The core crate's RPC errors.
    fn block_number(&self) -> ehrchain::Result<u64>;

    /// `recordStatus(eh)` in the state after block `block`.
    ///
    /// # Errors
    /// The core crate's RPC and ABI errors (a node that does not have
    /// `block` answers an error, never another block's state).
    fn record_status_at(&self, eh: &[u8; 32], block: u64) -> ehrchain::Result<RecordStatus>;

    /// `certificateStatus(serial)` in the state after block `block`.
    ///
    /// # Errors
    /// As [`ChainView::record_status_at`].
    fn certificate_status_at(&self, serial: u64, block: u64)
        -> ehrchain::Result<CertificateStatus>;
}

/// The registry at `registry`, read through JSON-RPC.
#[derive(Debug)]
pub struct RpcChain {
    client: Client,
    registry: Address,
}

impl RpcChain {
    /// A reader of `registry` through `rpc_url`; each read gives up after
    /// [`READ_TIMEOUT`].
    ///
    /// # Errors
    /// [`ehrchain::Error::RpcUnreachable`] for a URL that is not HTTP(S).
    pub fn new(rpc_url: &str, registry: Address) -> ehrchain::Result<Self> {
        Ok(RpcChain {
            client: Client::with_timeout(rpc_url, READ_TIMEOUT)?,
            registry,
        })
    }
}

impl ChainView for RpcChain {
    fn block_number(&self) -> ehrchain::Result<u64> {
        self.client.block_number()
    }

    fn record_status_at(&self, eh: &[u8; 32], block: u64) -> ehrchain::Result<RecordStatus> {
        self.client.record_status_at(&self.registry, eh, block)
    }

    fn certificate_status_at(
        &self,
        serial: u64,
        block: u64,
    ) -> ehrchain::Result<CertificateStatus> {
        self.client
            .certificate_status_at(&self.registry, serial, block)
    }
}
