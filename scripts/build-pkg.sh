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

# The `wasm` profile: release, with the core crate optimised for size
# (Cargo.toml says what it costs; README, "Package size").
cargo build --profile wasm --target wasm32-unknown-unknown --lib
WASM=target/wasm32-unknown-unknown/wasm/ehrchain.wasm

# Up to date? The digest of everything pkg/ is made from (the wasm, the
# TypeScript sources and configs, this script, the package README, the
# pinned tools in package-lock.json) is kept in pkg/.build-inputs, written
# last (a failed build leaves none; npm pack leaves it out: package.json's
# "files"). Several test stages and scripts/dev.sh call this script; only
# the first of them builds. --force rebuilds anyway.
STAMP=pkg/.build-inputs
inputs_digest() {
  { sha256sum "$WASM" scripts/build-pkg.sh scripts/size.mjs docs/PACKAGE.md Cargo.toml package-lock.json
    find js -type f -print0 | sort -z | xargs -0 sha256sum; } | sha256sum | cut -d' ' -f1
}
DIGEST=$(inputs_digest)
if [ "${1:-}" != --force ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$DIGEST" ]; then
  echo "pkg/ is up to date (its inputs are unchanged; scripts/build-pkg.sh --force rebuilds)" >&2
  exit 0
fi
rm -rf pkg
for target in bundler nodejs web; do
  dir=$target; [ "$target" = nodejs ] && dir=node
  wasm-bindgen "$WASM" --target "$target" --out-dir "pkg/$dir" --out-name glue
  rm -f "pkg/$dir/.gitignore"
done

# Size: binaryen's wasm-opt -Oz (npm `binaryen`, a pinned devDependency:
# Debian's 108 breaks wasm-bindgen's externref table) on the wasm-bindgen
# output, with the features rustc's wasm32 target enables, debug info and
# the producers section stripped (README, "Package size"). The three
# targets' wasm are the same bytes: optimised once, copied.
WASM_OPT=node_modules/.bin/wasm-opt
[ -x "$WASM_OPT" ] || { echo "wasm-opt missing: run scripts/setup.sh (npm ci)" >&2; exit 1; }
WASM_OPT_FLAGS=(-Oz --enable-bulk-memory --enable-sign-ext --enable-mutable-globals
  --enable-nontrapping-float-to-int --enable-reference-types --enable-multivalue
  --strip-debug --strip-producers)
OPT_IN=target/pkg-wasm-opt/in.wasm OPT_OUT=target/pkg-wasm-opt/out.wasm
mkdir -p target/pkg-wasm-opt && cp pkg/web/glue_bg.wasm "$OPT_IN"
"$WASM_OPT" "${WASM_OPT_FLAGS[@]}" "$OPT_IN" -o "$OPT_OUT"
for dir in bundler node web; do
  if cmp -s "$OPT_IN" "pkg/$dir/glue_bg.wasm"; then
    cp "$OPT_OUT" "pkg/$dir/glue_bg.wasm"
  else
    "$WASM_OPT" "${WASM_OPT_FLAGS[@]}" "pkg/$dir/glue_bg.wasm" -o "pkg/$dir/glue_bg.wasm"
  fi
done

# The public API, once per target, against that target's glue declarations.
TSC=node_modules/.bin/tsc
[ -x "$TSC" ] || { echo "TypeScript missing: run scripts/setup.sh (npm ci)" >&2; exit 1; }
compile() { # dir entry module resolution spawn [worker]
  local dir=$1 entry=$2 module=$3 resolution=$4 spawn=$5 worker=${6:-} stage=target/pkg-ts/$1
  rm -rf "$stage" && mkdir -p "$stage"
  cp js/src/*.ts "$stage/"
  cp "js/entries/$entry.ts" "$stage/ehrchain.ts"
  # How this target starts a record worker, and the worker's own entry.
  cp "js/entries/spawn-$spawn.ts" "$stage/spawn.ts"
  [ -z "$worker" ] || cp "js/entries/worker-$worker.ts" "$stage/worker.ts"
  cp "pkg/$dir/glue.d.ts" "$stage/glue.d.ts"
  # Declarations keep their doc comments (editors show them); the JS drops
  # them (a third of its size).
  cat > "$stage/tsconfig.json" <<JSON
{ "extends": "../../../js/tsconfig.json",
  "compilerOptions": { "module": "$module", "moduleResolution": "$resolution",
                       "rootDir": ".", "outDir": "../../../pkg/$dir", "emitDeclarationOnly": true },
  "include": ["*.ts"] }
JSON
  cat > "$stage/tsconfig.js.json" <<JSON
{ "extends": "./tsconfig.json",
  "compilerOptions": { "emitDeclarationOnly": false, "declaration": false, "removeComments": true } }
JSON
  "$TSC" -p "$stage/tsconfig.json"
  "$TSC" -p "$stage/tsconfig.js.json"
}
compile bundler default es2022 bundler esm bundler
compile node default commonjs node10 node
compile web web es2022 bundler esm web
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
    "./worker": "./bundler/worker.js",
    "./web/worker": "./web/worker.js",
    "./package.json": "./package.json"
  },
  "files": ["bundler/", "node/", "web/", "README.md"],
  "sideEffects": ["./bundler/glue.js", "./bundler/glue_bg.js"]
}
JSON
cp docs/PACKAGE.md pkg/README.md
echo "pkg/ built: $(du -sh pkg | cut -f1)" >&2
node scripts/size.mjs
echo "$DIGEST" > "$STAMP"
