#!/usr/bin/env bash
# README's main command: sets up, builds the npm package and the CLI, starts a
# local Ethereum chain (Hardhat 2 node, offline) on 127.0.0.1, deploys the
# registry contract and stays in the foreground until Ctrl-C, which stops
# everything it started.
#
#   scripts/dev.sh            # run until Ctrl-C
#   scripts/dev.sh --smoke    # start everything, check it answers, stop (used by the tests)
#
# Environment: CHAIN_PORT (default 8545).
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE=0
[ "${1:-}" = "--smoke" ] && SMOKE=1
CHAIN_PORT=${CHAIN_PORT:-8545}
RPC="http://127.0.0.1:$CHAIN_PORT"
mkdir -p .tmp/chain

bash scripts/setup.sh
bash scripts/build-pkg.sh
cargo build --release --bin ehrchain

# One JSON-RPC call with Node's fetch (no curl needed); prints the result.
rpc() {
  node -e 'fetch(process.argv[1], {method: "POST", headers: {"content-type": "application/json"},
      body: JSON.stringify({jsonrpc: "2.0", id: 1, method: process.argv[2], params: []})})
    .then(r => r.json()).then(j => { if (!("result" in j)) process.exit(1); console.log(j.result); })
    .catch(() => process.exit(1))' "$RPC" "$1"
}

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

if rpc eth_chainId >/dev/null 2>&1; then
  echo "port $CHAIN_PORT is already in use; set CHAIN_PORT" >&2
  exit 1
fi
echo "[dev] starting the local chain on $RPC (log: .tmp/chain/node.log)" >&2
setsid node_modules/.bin/hardhat node --hostname 127.0.0.1 --port "$CHAIN_PORT" >.tmp/chain/node.log 2>&1 &
PIDS+=($!)
for _ in $(seq 1 120); do
  if rpc eth_chainId >/dev/null 2>&1; then break; fi
  sleep 0.5
done
DEPLOYMENT=$(node chain/deploy.js --rpc "$RPC")
echo "[dev] registry deployed: $DEPLOYMENT" >&2

cat >&2 <<MSG

ehrchain development environment
  chain (JSON-RPC)  $RPC   chainId 31337, automine, Hardhat's well-known test accounts
  deployment        $DEPLOYMENT
  npm package       pkg/       (import from "ehrchain" after: npm install ./pkg)
  CLI               target/release/ehrchain --help
Ctrl-C stops everything.
MSG

if [ "$SMOKE" = 1 ]; then
  rpc eth_blockNumber >/dev/null
  echo "[dev] smoke check ok" >&2
  exit 0
fi
wait
