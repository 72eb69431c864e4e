#!/usr/bin/env bash
# Builds the npm package into pkg/ (not committed): the wasm32 release build of
# the crate, run through wasm-bindgen twice (bundler + Node.js targets), with a
# package.json whose export conditions give Node the CommonJS build and
# bundlers (webpack 5) the ES-module build; `ehrchain/web` is the no-bundler
# build (`await init()` fetches the .wasm next to it). No download: wasm-bindgen comes
# from scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --target wasm32-unknown-unknown --lib
WASM=target/wasm32-unknown-unknown/release/ehrchain.wasm
rm -rf pkg
wasm-bindgen "$WASM" --target bundler --out-dir pkg/bundler --out-name ehrchain
wasm-bindgen "$WASM" --target nodejs --out-dir pkg/node --out-name ehrchain
wasm-bindgen "$WASM" --target web --out-dir pkg/web --out-name ehrchain
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
cat > pkg/package.json <<JSON
{
  "name": "ehrchain",
  "version": "$VERSION",
  "description": "Patient-controlled sharing of encrypted health records anchored on Ethereum (WebAssembly).",
  "license": "MIT OR Apache-2.0",
  "main": "./node/ehrchain.js",
  "module": "./bundler/ehrchain.js",
  "types": "./bundler/ehrchain.d.ts",
  "exports": {
    ".": {
      "types": "./bundler/ehrchain.d.ts",
      "node": "./node/ehrchain.js",
      "default": "./bundler/ehrchain.js"
    },
    "./web": {
      "types": "./web/ehrchain.d.ts",
      "default": "./web/ehrchain.js"
    }
  },
  "files": ["bundler/", "node/", "web/", "README.md"],
  "sideEffects": ["./bundler/ehrchain.js", "./bundler/ehrchain_bg.js"]
}
JSON
cp docs/PACKAGE.md pkg/README.md
rm -f pkg/bundler/.gitignore pkg/node/.gitignore pkg/web/.gitignore
echo "pkg/ built: $(du -sh pkg | cut -f1)" >&2
