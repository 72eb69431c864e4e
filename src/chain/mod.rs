//! Ethereum: the registry contract's calldata, events and errors
//! ([`registry`]), the ABI subset it needs ([`abi`]), JSON-RPC logs and
//! receipts ([`log`]), the hospital directory ([`directory`]), scanning for a doctor's grants ([`scan`]) and locally
//! signed EIP-1559 transactions ([`tx`]).
//! The JSON-RPC client that talks to a node is the `ehrchain-rpc` crate.

pub mod abi;
pub mod directory;
pub mod log;
pub mod registry;
pub mod scan;
pub mod tx;
