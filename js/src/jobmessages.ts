// The messages between the page and a record worker (docs/PACKAGE.md, "Off
// the main thread"): internal to the package, both ends are in it.

/** @internal What a job does, with what. */
export interface JobStart {
  readonly t: "start";
  /**
   * The job's number, unique in the page: every later message of or about
   * the job carries it, so that a late answer of a job that was given up
   * (an abort the worker did not answer in time) never reaches the next
   * job on the same worker.
   */
  readonly job: number;
  readonly op: "encrypt" | "decrypt";
  readonly key: Uint8Array;
  readonly associatedData: Uint8Array;
  readonly segmentSize: number | undefined;
  readonly expectedHash: Uint8Array | string | undefined;
  readonly engine: "auto" | "webcrypto" | "wasm" | undefined;
  /** A Blob is read in the worker; `undefined`: the page pumps the input. */
  readonly blob: Blob | undefined;
  /** Output chunks the worker may send before it hears `credit`. */
  readonly credit: number;
}

/** @internal Page → worker. */
export type ToWorker =
  | JobStart
  | { readonly t: "input"; readonly job: number; readonly chunk: Uint8Array }
  | { readonly t: "input-end"; readonly job: number }
  | { readonly t: "input-error"; readonly job: number; readonly message: string }
  | { readonly t: "credit"; readonly job: number }
  | { readonly t: "abort"; readonly job: number }
  /** To a record worker, before `start`: a port to the hash worker the page started beside it. */
  | { readonly t: "pair-hash"; readonly port: MessagePort }
  /** To that record worker: its hash worker failed to load. */
  | { readonly t: "pair-hash-failed" }
  /** To the hash worker the page started: serve hashes on `port`. */
  | { readonly t: "serve-hash"; readonly port: MessagePort };

/** @internal Worker → page: each about the job numbered `job`. */
export type FromWorker = { readonly job: number } & (
  | { readonly t: "pull" }
  | { readonly t: "output"; readonly chunk: Uint8Array; readonly bytesIn: number }
  | { readonly t: "progress"; readonly bytesIn: number }
  | { readonly t: "done"; readonly hash: Uint8Array; readonly bytesIn: number; readonly bytesOut: number; readonly hashThread: boolean }
  | { readonly t: "error"; readonly code: string; readonly message: string }
  | { readonly t: "aborted" }
);

/** @internal Page → worker messages of one job: those that carry its `job` number. */
export type JobMessage = Extract<ToWorker, { readonly job: number }>;

/** @internal The transfer list for a chunk: its buffer if the chunk is all of it, else a copy's. */
export function transferable(chunk: Uint8Array): [Uint8Array, Transferable[]] {
  const own =
    chunk.buffer instanceof ArrayBuffer && chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength;
  const sent = own ? chunk : chunk.slice();
  return [sent, [sent.buffer as ArrayBuffer]];
}

/** @internal Page → worker, for scanning the inbox (inbox.ts). */
export type ToScanWorker =
  | { readonly t: "scan-key"; readonly secret: Uint8Array }
  /** `sifted`: `siftAuthorisations` of a slice of a page (transferred). */
  | { readonly t: "scan"; readonly id: number; readonly sifted: Uint8Array }
  | { readonly t: "scan-end" };

/** @internal Worker → page, for scanning. */
export type FromScanWorker =
  /** `candidates`: `scanTagCandidates` of the slice, indices into it (transferred). */
  | { readonly t: "scanned"; readonly id: number; readonly candidates: Uint32Array }
  | { readonly t: "scan-error"; readonly id: number; readonly code: string; readonly message: string };
