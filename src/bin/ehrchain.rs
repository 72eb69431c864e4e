//! The `ehrchain` command-line tool (subcommands land with the protocol core).

fn main() {}
