#!/usr/bin/env bash
# Installs everything the build, the portal and the tests need, from the package
# registries only (crates.io, PyPI, Debian, npm). Idempotent: a second run only
# checks. Used by README's commands and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = { version = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
: "${WASM_BINDGEN_VERSION:?cannot read the pinned wasm-bindgen version from Cargo.toml}"

log() { printf '[setup] %s\n' "$*" >&2; }

# 1. Rust target for the wasm build.
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# 1b. The toolchains of the declared rust-versions (the `msrv` test stage).
for v in $(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml | sort -u); do
  if ! rustup toolchain list | grep -q "^$v"; then
    log "rustup toolchain install $v"
    rustup toolchain install "$v" --profile minimal
  fi
  if ! rustup target list --installed --toolchain "$v" | grep -qx wasm32-unknown-unknown; then
    rustup target add wasm32-unknown-unknown --toolchain "$v"
  fi
done

# 2. wasm-bindgen CLI, same version as the crate (the test runner comes with it).
if ! command -v wasm-bindgen >/dev/null || ! wasm-bindgen --version | grep -q " $WASM_BINDGEN_VERSION\$"; then
  log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# 3. Browsers and drivers for wasm-bindgen-test and the end-to-end tests.
need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
command -v chromedriver >/dev/null || need_apt+=(chromium-driver)
command -v firefox-esr >/dev/null || need_apt+=(firefox-esr)
# PostgreSQL for the record server's scaled configuration (its tests start a
# throw-away cluster of their own; the system's cluster is not used).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! command -v geckodriver >/dev/null; then
  log "cargo install geckodriver"
  cargo install geckodriver
fi
# An S3-compatible server for the record server's S3 blob store tests and
# `scripts/dev.sh --scale` (0.14.1: later versions need a newer rustc).
if ! command -v s3s-fs >/dev/null || ! s3s-fs --version 2>/dev/null | grep -q ' 0\.14\.1'; then
  log "cargo install s3s-fs 0.14.1"
  cargo install s3s-fs --version 0.14.1 --features binary --force
fi

# 4. Independent implementations for the interop tests (Python side).
if ! python3 -c 'import tink, ecies, eth_account, eth_keys, coincurve, cryptography, google.protobuf, pytest' 2>/dev/null; then
  log "pip install -r tests/interop/requirements.txt"
  python3 -m pip install -q -r tests/interop/requirements.txt
fi

# 5. Node side: the JS test tools, contract toolchain and portal bundler.
if [ -f package.json ] && [ ! -d node_modules ] ; then
  log "npm ci"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
fi
# 5b. binaryen's wasm-opt for the package build (scripts/build-pkg.sh): npm's
# `binaryen` (a pinned devDependency), not Debian's binaryen 108, whose
# wasm-opt rewrites wasm-bindgen's exported externref table as the function
# table even with no pass (the glue then fails at load).
if [ ! -x node_modules/.bin/wasm-opt ]; then
  log "npm ci (binaryen's wasm-opt)"
  npm ci --no-audit --no-fund
fi
log "ok"
