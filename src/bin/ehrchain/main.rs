//! `ehrchain`: the command-line tool for hospital-side scripting and batch work
//! (see `cli` for the conventions). Native only: on wasm32 this binary is empty.

#[cfg(not(target_arch = "wasm32"))]
mod cli;

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(target_arch = "wasm32")]
fn main() {}
