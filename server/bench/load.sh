#!/usr/bin/env bash
# Load benchmark of the record server (see load.mjs for what it measures).
# Builds what it needs first, then runs the Node client against 127.0.0.1 only.
#
#   bash server/bench/load.sh                       # stub chain and Hardhat
#   BENCH_CHAIN=stub BENCH_REQUESTS=5000 bash server/bench/load.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/build-bins.sh
cargo build --release -p ehrchain-server --example verify_rate
[ -f .tmp/contracts/EhrRegistry.json ] || node chain/compile.js
[ -d pkg/node ] || bash scripts/build-pkg.sh
exec node server/bench/load.mjs
