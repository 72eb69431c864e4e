#!/usr/bin/env bash
# README's main command: sets up, builds the npm package, the CLI and the
# hospital record server, then starts the whole local environment
# (scripts/devenv.mjs) and stays in the foreground until Ctrl-C, which stops
# everything it started:
#   - a local Ethereum chain (Hardhat 2 node, offline) on 127.0.0.1,
#   - the registry contract, with "St Mary's Hospital" and "Royal Free
#     Hospital" listed in its on-chain directory by the authority (account #0),
#   - one record server per hospital (uploads by signed upload requests only),
#   - the web portal (www/, rebuilt with webpack when its sources or pkg/
#     changed) with its /config.json.
#
#   scripts/dev.sh            # run until Ctrl-C
#   scripts/dev.sh --smoke    # start everything, check it answers, stop (used by the tests)
#   scripts/dev.sh --no-build # skip the portal's webpack build (serve www/dist as it is)
#   scripts/dev.sh --scale    # the record servers' scaled configuration: PostgreSQL and an
#                             # S3-compatible server (s3s-fs), two instances per hospital behind
#                             # a round-robin proxy on the hospital's port (server/README.md)
#
# Environment: CHAIN_PORT (default 8545), SERVER_PORT (default 8700; the
# second hospital's server listens on SERVER_PORT+1), PORTAL_PORT (default
# 8080). Logs and the servers' data: .tmp/dev/ (wiped at every start: the
# chain starts empty each time).
set -euo pipefail
cd "$(dirname "$0")/.."

for arg in "$@"; do
  case "$arg" in
    --smoke|--scale|--no-build|--rebuild) ;;
    *) echo "usage: scripts/dev.sh [--smoke] [--scale] [--no-build | --rebuild]" >&2; exit 2 ;;
  esac
done

bash scripts/setup.sh
bash scripts/build-pkg.sh
bash scripts/build-bins.sh

# exec: Ctrl-C and SIGTERM reach devenv.mjs directly, which stops what it started.
CHAIN_PORT=${CHAIN_PORT:-8545} SERVER_PORT=${SERVER_PORT:-8700} PORTAL_PORT=${PORTAL_PORT:-8080} \
  exec node scripts/devenv.mjs "$@"
