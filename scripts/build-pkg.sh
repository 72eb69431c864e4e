#!/usr/bin/env bash
# Builds the npm package into pkg/ (not committed). Two layers per build
# target (bundler, node, web):
#   glue.js, glue_bg.wasm    the wasm32 release build of the crate through
#                            wasm-bindgen (internal: not exported);
#   ehrchain.js + modules    the public API, js/src/*.ts compiled by tsc
#                            against that target's glue (ES modules for
#                            bundler and web, CommonJS for Node), with its
#                            .d.ts declarations.
# package.json's export conditions give Node the CommonJS build and bundlers
# (webpack 5) the ES-module build; `ehrchain/web` is the no-bundler build
# (`await init()` fetches the .wasm next to it). No download: wasm-bindgen
# comes from scripts/setup.sh, TypeScript from the npm workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --target wasm32-unknown-unknown --lib
WASM=target/wasm32-unknown-unknown/release/ehrchain.wasm
rm -rf pkg
for target in bundler nodejs web; do
  dir=$target; [ "$target" = nodejs ] && dir=node
  wasm-bindgen "$WASM" --target "$target" --out-dir "pkg/$dir" --out-name glue
  rm -f "pkg/$dir/.gitignore"
done

# The public API, once per target, against that target's glue declarations.
TSC=node_modules/.bin/tsc
[ -x "$TSC" ] || { echo "TypeScript missing: run scripts/setup.sh (npm ci)" >&2; exit 1; }
compile() { # dir entry module resolution
  local dir=$1 entry=$2 module=$3 resolution=$4 stage=target/pkg-ts/$1
  rm -rf "$stage" && mkdir -p "$stage"
  cp js/src/*.ts "$stage/"
  cp "js/entries/$entry.ts" "$stage/ehrchain.ts"
  cp "pkg/$dir/glue.d.ts" "$stage/glue.d.ts"
  cat > "$stage/tsconfig.json" <<JSON
{ "extends": "../../../js/tsconfig.json",
  "compilerOptions": { "module": "$module", "moduleResolution": "$resolution",
                       "rootDir": ".", "outDir": "../../../pkg/$dir" },
  "include": ["*.ts"] }
JSON
  "$TSC" -p "$stage/tsconfig.json"
}
compile bundler default es2022 bundler
compile node default commonjs node10
compile web web es2022 bundler
# The ES-module builds are ES modules to Node too (tests import pkg/web).
for dir in bundler web; do echo '{ "type": "module" }' > "pkg/$dir/package.json"; done

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
      "node": {
        "types": "./node/ehrchain.d.ts",
        "default": "./node/ehrchain.js"
      },
      "types": "./bundler/ehrchain.d.ts",
      "default": "./bundler/ehrchain.js"
    },
    "./web": {
      "types": "./web/ehrchain.d.ts",
      "default": "./web/ehrchain.js"
    },
    "./package.json": "./package.json"
  },
  "files": ["bundler/", "node/", "web/", "README.md"],
  "sideEffects": ["./bundler/glue.js", "./bundler/glue_bg.js"]
}
JSON
cp docs/PACKAGE.md pkg/README.md
echo "pkg/ built: $(du -sh pkg | cut -f1)" >&2
