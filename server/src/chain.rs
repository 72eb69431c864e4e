//! What the server reads from the registry contract (`docs/PROTOCOL.md §13`):
//! a certificate's status by serial and a record's status by `eh`.
//!
//! Behind a trait so that tests can stand in a fake chain; the real one is
//! the core crate's blocking JSON-RPC client, called on tokio's blocking pool.
//! Every read goes to the chain: revocations and deletion marks take effect
//! for the next request, with no cache to go stale. A record is served and
//! filed only if a doctor certified at the time anchored it
//! ([`ChainView::certified_anchor`]).

use ehrchain::anchor::CertifiedAnchor;
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

    /// The anchor of `eh` under the anchoring rule
    /// ([`CertifiedAnchor::confirm`]): `recordStatus(eh)`, then
    /// `certificateStatus` of the anchor's serial.
    ///
    /// # Errors
    /// The reads' errors; `RecordNotAnchored`, `RecordDeleted`,
    /// `AnchorNotCertified`.
    fn certified_anchor(&self, eh: &[u8; 32]) -> ehrchain::Result<CertifiedAnchor> {
        let record = self.record_status(eh)?;
        if !record.anchored {
            return Err(ehrchain::Error::RecordNotAnchored);
        }
        if record.deleted {
            return Err(ehrchain::Error::RecordDeleted);
        }
        let certificate = self.certificate_status(record.serial)?;
        CertifiedAnchor::confirm(eh, &record, &certificate)
    }
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
