#!/usr/bin/env bash
# Builds the two native release binaries, target/release/ehrchain (the CLI)
# and target/release/ehrchain-server, in one cargo invocation.
#
# One invocation, not one per package: cargo unifies dependency features per
# invocation, and the two packages ask for different features of a few shared
# crates (serde_json's raw_value, libc's std, ...). Built one after the other,
# each build changed the shared crates' inputs and rebuilt the core crate and
# everything above it for the other, with fat LTO: about 4 minutes lost per
# alternation (three times in a CI run). Every script builds them through this
# one, so the second call is a no-op.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo build --release -p ehrchain-cli --bin ehrchain -p ehrchain-server --bin ehrchain-server "$@"
