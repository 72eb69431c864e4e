//! One module per subcommand group; `main` dispatches to them.

pub(crate) mod account;
pub(crate) mod cert;
pub(crate) mod chain;
pub(crate) mod ecies;
pub(crate) mod record;
pub(crate) mod typed_data;
