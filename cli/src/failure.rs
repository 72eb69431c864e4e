//! The error type of every subcommand and its conversions.

use std::io;

use ehrchain::Error;

/// A CLI failure: a crate error, or an I/O error on input or output.
pub(crate) enum Failure {
    /// A protocol error from the crate; printed as `error[<Code>]: <message>`.
    Protocol(Error),
    /// An I/O or argument-resolution error; printed as `error[Io]: <message>`.
    Io(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Protocol(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e.to_string())
    }
}
