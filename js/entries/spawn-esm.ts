// How the ES-module builds (bundler, web) start a record worker: the
// `new Worker(new URL("./worker.js", import.meta.url))` form, which webpack 5
// bundles as a worker entry and browsers resolve next to this file.
export function spawnRecordWorker(): Worker {
  return new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: "ehrchain record worker" });
}
