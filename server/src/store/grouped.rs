//! The nonce and token writes that both metadata backends group-commit
//! ([`crate::group`]): one queue entry per caller, one outcome each.

use super::Eh;

/// A write that is group-committed.
#[derive(Debug)]
pub(crate) enum Write {
    /// Insert a used nonce unless present; `true` if it was new.
    Nonce { key: [u8; 32], expiry: u64 },
    /// Insert a download token's hash.
    Token { hash: [u8; 32], eh: Eh, expiry: u64 },
    /// A used nonce and, only if it was new, a download token (same expiry).
    NonceThenToken {
        key: [u8; 32],
        expiry: u64,
        token: Option<([u8; 32], Eh)>,
    },
}

/// Each write's own outcome (`true`: a new nonce), or its own error.
pub(crate) type Written = Result<bool, String>;
