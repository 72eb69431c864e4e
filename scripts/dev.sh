#!/usr/bin/env bash
# README's main command: sets up, builds the npm package, the CLI and the
# hospital record server, starts a local Ethereum chain (Hardhat 2 node,
# offline) on 127.0.0.1, deploys the registry contract, starts the record
# server against it and stays in the foreground until Ctrl-C, which stops
# everything it started.
#
#   scripts/dev.sh            # run until Ctrl-C
#   scripts/dev.sh --smoke    # start everything, check it answers, stop (used by the tests)
#
# Environment: CHAIN_PORT (default 8545), SERVER_PORT (default 8700),
# HOSPITAL (default "St Mary's Hospital").
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE=0
[ "${1:-}" = "--smoke" ] && SMOKE=1
CHAIN_PORT=${CHAIN_PORT:-8545}
RPC="http://127.0.0.1:$CHAIN_PORT"
SERVER_PORT=${SERVER_PORT:-8700}
HOSPITAL=${HOSPITAL:-"St Mary's Hospital"}
mkdir -p .tmp/chain

bash scripts/setup.sh
bash scripts/build-pkg.sh
cargo build --release -p ehrchain-cli --bin ehrchain
cargo build --release -p ehrchain-server --bin ehrchain-server

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
field() { node -e 'console.log(JSON.parse(process.argv[1])[process.argv[2]])' "$DEPLOYMENT" "$1"; }
REGISTRY=$(field registry)
AUTHORITY=$(field authority)

# The chain starts empty each time, so the server's store does too (its
# records would point at anchors of a chain that no longer exists).
DATA_DIR=.tmp/dev/server
rm -rf "$DATA_DIR"
mkdir -p "$DATA_DIR"
echo "[dev] starting the record server on http://127.0.0.1:$SERVER_PORT (log: .tmp/dev/server.log)" >&2
setsid env EHR_LISTEN="127.0.0.1:$SERVER_PORT" EHR_DATA_DIR="$DATA_DIR" EHR_RPC_URL="$RPC" \
  EHR_REGISTRY="$REGISTRY" EHR_AUTHORITY="$AUTHORITY" EHR_HOSPITAL="$HOSPITAL" \
  EHR_ALLOWED_ORIGINS="http://127.0.0.1:8080,http://localhost:8080" EHR_OPEN_UPLOADS=true \
  target/release/ehrchain-server >.tmp/dev/server.log 2>&1 &
PIDS+=($!)
for _ in $(seq 1 60); do
  if node -e 'fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1)).catch(() => process.exit(1))' \
      "http://127.0.0.1:$SERVER_PORT/healthz"; then break; fi
  sleep 0.5
done

cat >&2 <<MSG

ehrchain development environment
  chain (JSON-RPC)  $RPC   chainId 31337, automine, Hardhat's well-known test accounts
  deployment        $DEPLOYMENT
  record server     http://127.0.0.1:$SERVER_PORT   hospital "$HOSPITAL", data in $DATA_DIR
  npm package       pkg/       (import from "ehrchain" after: npm install ./pkg)
  CLI               target/release/ehrchain --help
Ctrl-C stops everything.
MSG

if [ "$SMOKE" = 1 ]; then
  rpc eth_blockNumber >/dev/null
  node -e 'fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1)).catch(() => process.exit(1))' \
    "http://127.0.0.1:$SERVER_PORT/healthz"
  echo "[dev] smoke check ok" >&2
  exit 0
fi
wait
