//! Ethereum: the registry contract's calldata, events and errors
//! ([`registry`]), the ABI subset it needs ([`abi`]), JSON-RPC logs and
//! receipts ([`log`]), locally signed EIP-1559 transactions ([`tx`]) and, on
//! native targets, a JSON-RPC client ([`rpc`]).

pub mod abi;
pub mod log;
pub mod registry;
#[cfg(not(target_arch = "wasm32"))]
pub mod rpc;
pub mod tx;
