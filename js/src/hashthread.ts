// `eh` on a thread of its own. In a record worker, the segments are sealed or
// opened by WebCrypto, which Chromium runs synchronously on the calling
// thread: hashing the ciphertext on that same thread adds SHA-256's time to
// AES-GCM's for every byte. A second worker (the same script) therefore only
// hashes: the record worker sends it a copy of each piece of ciphertext, in
// order, and keeps sealing or opening while it hashes. The page always
// starts it (jobs.ts): beside a record worker it starts for one job, and
// once for a worker of `createRecordWorker` on that worker's first large
// job. A record worker never starts one itself: in Firefox ESR 153 a
// worker that made one from its own script had to guess module or classic,
// and the `new Worker()` of its second guess, right after ending the first,
// hung that worker for good (about 1 run in 10 of the browser tests under
// load). Only ciphertext ever reaches the hash worker: no key, no plaintext.
//
// Where it cannot start (a CSP that refuses it, a script that fails to
// load), or dies, the record worker hashes on its own thread: the bytes
// and the errors are the same either way.

import * as glue from "./glue.js";
import { EhrchainError } from "./errors.js";
import { platformSubtle } from "./webcrypto.js";
import { BufferPool } from "./blobsource.js";

/** @internal Record worker → its hash worker; `s` numbers the stream (one per job). */
export type ToHashWorker =
  | { readonly t: "hash-hello" }
  | { readonly t: "hash-data"; readonly s: number; readonly chunk: Uint8Array }
  | { readonly t: "hash-end"; readonly s: number }
  | { readonly t: "hash-drop"; readonly s: number };

/** @internal Hash worker → record worker. */
export type FromHashWorker =
  | { readonly t: "hash-ready" }
  /** `buffer`: the piece's buffer, given back to be filled again (no allocation per piece). */
  | { readonly t: "hash-ack"; readonly s: number; readonly bytes: number; readonly buffer: ArrayBuffer }
  | { readonly t: "hash-digest"; readonly s: number; readonly hash: Uint8Array }
  | { readonly t: "hash-error"; readonly s: number; readonly message: string };

/**
 * Bytes sent to the hash worker and not yet hashed, at most: enough to keep
 * it busy while the next segments are sealed, little enough to keep memory
 * bounded (one more segment may be in flight past it).
 */
const AHEAD_BYTES = 4 << 20;

/**
 * Pieces from this size up travel in buffers that go back and forth between
 * the two workers: a fresh megabyte-sized buffer per piece costs the browser
 * an mmap, page faults and an munmap, as much CPU as hashing it. Smaller
 * pieces (the header, a short last segment) are copied.
 */
const POOLED_BYTES = 64 << 10;

/** Buffers kept for reuse, at most (AHEAD_BYTES of 1 MiB pieces, and one in hand). */
const POOL_SIZE = 6;

/** How long a hash worker may take to load before the record worker hashes on its own. */
const READY_MS = 10_000;

/** @internal A stream's SHA-256, computed on another thread. */
export interface HashThread {
  /** Adds a copy of `bytes`; resolves once the hash worker is close enough behind. */
  update(bytes: Uint8Array): Promise<void>;
  /** `eh`, once every byte sent is hashed. */
  digest(): Promise<Uint8Array>;
  /** Ends the stream early: whatever was sent is dropped. */
  drop(): void;
}

/** Where hash messages go: the port between a record worker and its hash worker. */
interface Endpoint {
  postMessage(message: unknown, transfer?: Transferable[]): void;
}

/**
 * @internal Whether a job's ciphertext is hashed on a hash worker: WebCrypto
 * seals or opens it, and it is a stream (size unknown) or a Blob of
 * `THREAD_MIN_SEGMENTS` segments or more. Smaller records are hashed on
 * the record worker: waiting for a second worker would cost them more
 * than it saves.
 */
export function threaded(start: {
  readonly engine: "auto" | "webcrypto" | "wasm" | undefined;
  readonly segmentSize: number | undefined;
  readonly blob: Blob | undefined;
}): boolean {
  if (start.engine === "wasm" || platformSubtle() === undefined) return false;
  const segment = start.segmentSize ?? 1 << 20;
  return start.blob === undefined || start.blob.size >= THREAD_MIN_SEGMENTS * segment;
}

/** See {@link threaded}. */
const THREAD_MIN_SEGMENTS = 8;

/**
 * @internal The hash worker of a record worker, kept for its next jobs:
 * the one behind the port the page hands over (`adopt`). `stream()`
 * resolves to `undefined` while there is none, or where it could not
 * start: the job then hashes inline.
 */
export class HashWorker {
  #port: MessagePort | undefined;
  #ready: Promise<boolean> | undefined;
  #failed: (() => void) | undefined;
  #streams = 0;
  readonly #waiting = new Map<number, Stream>();
  readonly #pool = new BufferPool(POOL_SIZE);

  /** Uses the hash worker behind `port`, which the page started. */
  adopt(port: MessagePort): void {
    if (this.#ready !== undefined) {
      port.close();
      return;
    }
    this.#ready = this.#connect(port);
  }

  /**
   * The page's hash worker failed to start or died: the streams on it fail
   * (their jobs with `EngineFailed`), and later jobs hash on the record worker.
   */
  adoptedFailed(): void {
    this.#failed?.();
    this.#ready = Promise.resolve(false);
    for (const stream of this.#waiting.values()) stream.fail("the hash worker died");
  }

  /** A fresh stream on the hash worker, or `undefined` if there is none. */
  async stream(): Promise<HashThread | undefined> {
    if (this.#ready === undefined || !(await this.#ready)) return undefined;
    const s = (this.#streams += 1);
    const stream = new Stream(this.#port!, s, this.#pool, () => this.#waiting.delete(s));
    this.#waiting.set(s, stream);
    return stream;
  }

  /** Says hello on `port`; resolves whether the hash worker answered, within READY_MS (else closes it). */
  #connect(port: MessagePort): Promise<boolean> {
    this.#port = port;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => settle(false), READY_MS);
      let settled = false;
      const settle = (ok: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (!ok) port.close();
        resolve(ok);
      };
      this.#failed = () => settle(false);
      port.addEventListener("message", (e: MessageEvent<FromHashWorker>) => {
        const m = e.data;
        if (m.t === "hash-ready") settle(true);
        else this.#waiting.get(m.s)?.answer(m);
      });
      port.start();
      const hello: ToHashWorker = { t: "hash-hello" };
      port.postMessage(hello);
    });
  }
}

/** One stream's side of the hash worker. */
class Stream implements HashThread {
  readonly #worker: Endpoint;
  readonly #s: number;
  readonly #pool: BufferPool;
  readonly #forget: () => void;
  #ahead = 0;
  #wake: (() => void) | undefined;
  #result: { resolve: (h: Uint8Array) => void; reject: (e: unknown) => void } | undefined;
  #failure: EhrchainError | undefined;
  /** Digested, failed or dropped: the hash worker holds nothing for it. */
  #ended = false;

  constructor(worker: Endpoint, s: number, pool: BufferPool, forget: () => void) {
    this.#worker = worker;
    this.#s = s;
    this.#pool = pool;
    this.#forget = forget;
  }

  async update(bytes: Uint8Array): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    if (bytes.length === 0) return;
    const chunk = this.#piece(bytes.length);
    chunk.set(bytes);
    this.#ahead += chunk.length;
    const m: ToHashWorker = { t: "hash-data", s: this.#s, chunk };
    this.#worker.postMessage(m, [chunk.buffer as ArrayBuffer]);
    while (this.#ahead > AHEAD_BYTES && this.#failure === undefined) {
      await new Promise<void>((r) => {
        this.#wake = r;
      });
    }
    if (this.#failure !== undefined) throw this.#failure;
  }

  /** `length` bytes to send: a pooled buffer for a large piece, else a fresh one. */
  #piece(length: number): Uint8Array {
    return new Uint8Array(length < POOLED_BYTES ? new ArrayBuffer(length) : this.#pool.take(length));
  }

  digest(): Promise<Uint8Array> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#result = { resolve, reject };
      const m: ToHashWorker = { t: "hash-end", s: this.#s };
      this.#worker.postMessage(m);
    });
  }

  drop(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#forget();
    const m: ToHashWorker = { t: "hash-drop", s: this.#s };
    this.#worker.postMessage(m);
  }

  /** @internal A message of the hash worker about this stream. */
  answer(m: FromHashWorker): void {
    if (m.t === "hash-ack") {
      this.#ahead -= m.bytes;
      if (m.buffer.byteLength >= POOLED_BYTES) this.#pool.give(m.buffer);
      this.#poke();
    } else if (m.t === "hash-digest") {
      this.#ended = true;
      this.#forget();
      this.#result?.resolve(m.hash);
    } else if (m.t === "hash-error") {
      this.fail(m.message);
    }
  }

  /** @internal The hash worker failed this stream. */
  fail(message: string): void {
    this.#ended = true;
    this.#forget();
    this.#failure = new EhrchainError("EngineFailed", `hashing the record failed: ${message}; retry`);
    this.#result?.reject(this.#failure);
    this.#poke();
  }

  #poke(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }
}

/**
 * @internal The hash worker's side, answering on `port`: one `StreamHash`
 * per stream, fed in the order the pieces arrive; `ready` is the package's
 * wasm being instantiated.
 */
export function serveHashes(port: Endpoint, ready: Promise<unknown>): (m: ToHashWorker) => void {
  const streams = new Map<number, glue.StreamHash>();
  let queue = Promise.resolve();
  const handle = (m: ToHashWorker) => {
    if (m.t === "hash-hello") {
      port.postMessage({ t: "hash-ready" } satisfies FromHashWorker);
      return;
    }
    let hash = streams.get(m.s);
    try {
      if (m.t === "hash-data") {
        if (hash === undefined) {
          hash = new glue.StreamHash();
          streams.set(m.s, hash);
        }
        hash.update(m.chunk);
        const buffer = m.chunk.buffer as ArrayBuffer;
        port.postMessage({ t: "hash-ack", s: m.s, bytes: m.chunk.length, buffer } satisfies FromHashWorker, [buffer]);
      } else if (m.t === "hash-end") {
        streams.delete(m.s);
        const digest = hash ?? new glue.StreamHash();
        const out = new Uint8Array(digest.finish());
        digest.free();
        port.postMessage({ t: "hash-digest", s: m.s, hash: out } satisfies FromHashWorker, [out.buffer]);
      } else {
        streams.delete(m.s);
        hash?.free();
      }
    } catch (e) {
      streams.delete(m.s);
      hash?.free();
      port.postMessage({ t: "hash-error", s: m.s, message: String((e as Error)?.message ?? e) } satisfies FromHashWorker);
    }
  };
  // In order, once the wasm is there.
  return (m) => {
    queue = queue.then(() => ready).then(() => handle(m)).catch(() => {});
  };
}
