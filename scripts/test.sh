#!/usr/bin/env bash
# README's test command: installs what is missing (scripts/setup.sh), then runs
# every test suite of the repository. Exits non-zero on the first failure.
#
#   scripts/test.sh            # everything
#   scripts/test.sh rust       # only the named stages (see STAGES below)
set -euo pipefail
cd "$(dirname "$0")/.."

STAGES=(lint rust)
[ $# -gt 0 ] && STAGES=("$@")

bash scripts/setup.sh

stage() { printf '\n=== %s ===\n' "$*" >&2; }

for s in "${STAGES[@]}"; do
  case "$s" in
    lint)
      stage "cargo fmt --check; cargo clippy -D warnings"
      cargo fmt --all -- --check
      cargo clippy --all-targets -- -D warnings
      ;;
    rust)
      stage "cargo test (unit, known-answer vectors, Wycheproof)"
      cargo test --all-targets
      ;;
    *) echo "unknown stage: $s" >&2; exit 2 ;;
  esac
done
stage "all tests passed"
