// Entry of the Node.js (CommonJS) and bundler (ES module) builds: the whole API.
export * from "./index.js";
