//! `ehrchain`: the command-line tool for hospital-side scripting and batch work.
//!
//! Every subcommand reads its input from stdin or `-i FILE` and writes to
//! stdout or `-o FILE`. With `-o`, output goes to a temporary file in the same
//! directory that is renamed into place only on success, so a failed run
//! leaves no output file. Failures exit with status 1 and one line on stderr:
//! `error[<Code>]: <message>`. Hex output is `0x`-prefixed lowercase.
//! Secret arguments (`--key`, `--secret`, `--authority-secret`,
//! `--protocol-secret`, `--mask-key`) also accept `env:NAME` and `file:PATH`.

mod args;
mod cmd;
mod failure;
mod io;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};
use crate::failure::Failure;

/// Runs the subcommand chosen on the command line.
fn run(cli: Cli) -> Result<(), Failure> {
    let io = &cli.io;
    match cli.command {
        Command::Encrypt(args) => cmd::record::encrypt(io, &args),
        Command::Decrypt {
            stream,
            expect_hash,
        } => cmd::record::decrypt(io, &stream, expect_hash),
        Command::Seal { to } => cmd::ecies::seal(io, &to),
        Command::Open { secret } => cmd::ecies::open(io, &secret),
        Command::Address { secret } => cmd::account::address(io, &secret),
        Command::Pubkey {
            secret,
            uncompressed,
        } => cmd::account::pubkey(io, &secret, uncompressed),
        Command::SignMessage { secret } => cmd::account::sign_message(io, &secret),
        Command::RecoverMessage { signature } => cmd::account::recover_message(io, &signature),
        Command::TypedData(sub) => cmd::typed_data::typed_data(io, sub),
        Command::Cert(sub) => cmd::cert::cert(io, sub),
        Command::Chain(args) => cmd::chain::chain(io, args),
    }
}

/// Runs the CLI and maps failures to exit status 1 and one stderr line.
fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version: print as clap formats them, exit 0.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // Usage errors follow the same one-line convention as the rest.
            let text = e.to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ");
            eprintln!("error[Usage]: {first} (see --help)");
            return ExitCode::FAILURE;
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Protocol(e)) => {
            eprintln!("error[{}]: {e}", e.code());
            ExitCode::FAILURE
        }
        Err(Failure::Io(e)) => {
            eprintln!("error[Io]: {e}");
            ExitCode::FAILURE
        }
    }
}
