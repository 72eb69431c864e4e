// The first thing a record worker runs, before the package (and its wasm)
// loads: bundlers instantiate the wasm module asynchronously, and a message
// that reaches a worker before it listens is lost. This module imports
// nothing, listens at once, and hands what arrived to the real handler.

import type { WorkerScope } from "./jobrunner.js";

interface RawScope {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: "message", listener: (e: MessageEvent) => void): void;
}

/** @internal A scope whose messages are kept from now until a handler listens. */
export function earlyScope(raw: RawScope): WorkerScope {
  const early: MessageEvent[] = [];
  let handler: ((e: MessageEvent) => void) | undefined;
  raw.addEventListener("message", (e) => {
    if (handler === undefined) early.push(e);
    else handler(e);
  });
  return {
    postMessage: (message, transfer) => raw.postMessage(message, transfer ?? []),
    addEventListener: (_type, listener) => {
      handler = listener as (e: MessageEvent) => void;
      for (const e of early.splice(0)) handler(e);
    },
  };
}
