//! What the server reads from the registry contract (`docs/PROTOCOL.md §13`):
//! a certificate's status by serial and a record's status by `eh`.
//!
//! Behind a trait so that tests can stand in a fake chain; the real one is
//! the core crate's blocking JSON-RPC client, called on tokio's blocking pool.
//! Every read goes to the chain: revocations and deletion marks take effect
//! for the next request, with no cache to go stale.

use ehrchain::chain::registry::{CertificateStatus, RecordStatus};
use ehrchain::Address;
use ehrchain_rpc::Client;

/// Read access to the registry.
pub trait ChainView: Send + Sync + std::fmt::Debug + 'static {
    /// `recordStatus(eh)`.
    ///
    /// # Errors
    /// The core crate's RPC and ABI errors.
    fn record_status(&self, eh: &[u8; 32]) -> ehrchain::Result<RecordStatus>;

    /// `certificateStatus(serial)`.
    ///
    /// # Errors
    /// The core crate's RPC and ABI errors.
    fn certificate_status(&self, serial: u64) -> ehrchain::Result<CertificateStatus>;
}

/// The registry at `registry`, read through JSON-RPC.
#[derive(Debug)]
pub struct RpcChain {
    client: Client,
    registry: Address,
}

impl RpcChain {
    /// A reader of `registry` through `rpc_url`.
    ///
    /// # Errors
    /// [`ehrchain::Error::RpcUnreachable`] for a URL that is not HTTP(S).
    pub fn new(rpc_url: &str, registry: Address) -> ehrchain::Result<Self> {
        Ok(RpcChain {
            client: Client::new(rpc_url)?,
            registry,
        })
    }
}

impl ChainView for RpcChain {
    fn record_status(&self, eh: &[u8; 32]) -> ehrchain::Result<RecordStatus> {
        self.client.record_status(&self.registry, eh)
    }

    fn certificate_status(&self, serial: u64) -> ehrchain::Result<CertificateStatus> {
        self.client.certificate_status(&self.registry, serial)
    }
}
