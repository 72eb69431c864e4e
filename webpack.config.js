// webpack 5 build of the portal (issue #13; www/README.md "Build and serve").
//
//   npx webpack --config webpack.config.js                 production (default)
//   npx webpack --config webpack.config.js --mode development
//
// Entries: www/src/main.ts (the page, main.js) and www/src/sw.ts (the
// download service worker, emitted as exactly `sw.js` at the dist root so
// its scope is the whole portal). `import … from "ehrchain"` resolves to
// the package's webpack build in pkg/bundler/, whose record worker
// (`new Worker(new URL("./worker.js", import.meta.url))`) webpack bundles
// as a chunk of its own, like the portal's OPFS writer worker
// (www/src/opfs.ts: `new Worker(new URL("./opfswriter.ts", import.meta.url))`). www/index.html and www/style.css are copied to
// dist as they are. After the build the gzipped size of the JS and wasm is
// printed. Type errors fail the build (ts-loader, full type checking).
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const zlib = require("node:zlib");

const www = path.resolve(__dirname, "www");
const dist = path.join(www, "dist");

/** Static files copied from www/ to the dist root, unchanged. */
const STATIC_FILES = ["index.html", "style.css"];

/** Emits STATIC_FILES into the compilation (no copy or html plugin needed). */
class StaticFilesPlugin {
  apply(compiler) {
    const { RawSource } = compiler.webpack.sources;
    compiler.hooks.thisCompilation.tap("StaticFilesPlugin", (compilation) => {
      compilation.hooks.processAssets.tap(
        { name: "StaticFilesPlugin", stage: compiler.webpack.Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL },
        () => {
          for (const name of STATIC_FILES) {
            const file = path.join(www, name);
            compilation.fileDependencies.add(file); // rebuilt in --watch
            compilation.emitAsset(name, new RawSource(fs.readFileSync(file)));
          }
        },
      );
    });
  }
}

/** Prints "portal bundle: N KB gzipped (js …, wasm …)" after each successful build (read back from dist). */
class BundleSizePlugin {
  apply(compiler) {
    compiler.hooks.done.tap("BundleSizePlugin", (stats) => {
      if (stats.hasErrors()) return;
      const sizes = { js: 0, wasm: 0 };
      for (const name of Object.keys(stats.compilation.assets)) {
        const kind = name.endsWith(".js") ? "js" : name.endsWith(".wasm") ? "wasm" : null;
        if (!kind) continue;
        const bytes = fs.readFileSync(path.join(compiler.outputPath, name));
        sizes[kind] += zlib.gzipSync(bytes, { level: 9 }).length;
      }
      const kb = (n) => (n / 1024).toFixed(1);
      console.log(
        `portal bundle: ${kb(sizes.js + sizes.wasm)} KB gzipped (js ${kb(sizes.js)}, wasm ${kb(sizes.wasm)})`,
      );
    });
  }
}

module.exports = (_env, argv) => ({
  mode: argv.mode ?? "production",
  devtool: argv.mode === "development" ? "source-map" : false,
  context: __dirname,
  entry: {
    main: "./www/src/main.ts",
    sw: "./www/src/sw.ts",
  },
  output: {
    path: dist,
    filename: "[name].js", // sw.ts → exactly sw.js at the root
    chunkFilename: "[name].[contenthash:8].js",
    webassemblyModuleFilename: "[hash].wasm",
    clean: true,
  },
  experiments: { asyncWebAssembly: true },
  resolve: {
    extensions: [".ts", ".js"],
    alias: { ehrchain$: path.resolve(__dirname, "pkg/bundler/ehrchain.js") },
    // The package's own modules import each other as "./x.js".
    extensionAlias: { ".js": [".js", ".ts"] },
  },
  module: {
    rules: [
      {
        test: /\.ts$/,
        include: path.join(www, "src"),
        use: { loader: "ts-loader", options: { configFile: path.join(www, "tsconfig.json") } },
      },
    ],
  },
  plugins: [new StaticFilesPlugin(), new BundleSizePlugin()],
  // Export usage is analysed once for all runtimes (page, record worker), so
  // the wasm module gets one hash and is emitted (and downloaded) once.
  optimization: { usedExports: "global" },
  performance: { hints: false },
  stats: "errors-warnings",
});
