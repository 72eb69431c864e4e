// Entry of the no-bundler browser build (`ehrchain/web`): the whole API, and
// `init()` (default export), which fetches and instantiates the .wasm file
// next to this one; await it once before any other call.
export * from "./index.js";
export { default, initSync, type InitInput, type InitOutput, type SyncInitInput } from "./glue.js";
