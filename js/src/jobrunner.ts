// The worker's side of record jobs (see jobs.ts for the page's): one job at
// a time, its input read here (a Blob) or pumped from the page, its output
// sent back chunk by chunk with the buffers transferred, never more than the
// page has asked for (so memory stays bounded at any record size). Keys are
// wiped when the job ends, however it ends.

import { EhrchainError } from "./errors.js";
import { RecordDecryptor, RecordEncryptor } from "./records.js";
import { transferable, type FromScanWorker, type FromWorker, type JobMessage, type JobStart, type ToScanWorker, type ToWorker } from "./jobmessages.js";
import { Key } from "./keys.js";
import { Scanner } from "./grants.js";
import { scanTagCandidates } from "./registry.js";
import { HashWorker, serveHashes, threaded, type HashThread, type ToHashWorker } from "./hashthread.js";
import { BufferPool, blobPieces } from "./blobsource.js";

/** @internal What a worker global offers (typed here so the package needs no WebWorker lib). */
export interface WorkerScope {
  postMessage(message: FromWorker | FromScanWorker, transfer?: Transferable[]): void;
  addEventListener(type: "message", listener: (e: MessageEvent<ToWorker | ToScanWorker>) => void): void;
}

/** Tink's default segment size, the package's default. */
const DEFAULT_SEGMENT = 1 << 20;
/** The largest segment size the format takes (64 MiB). */
const MAX_SLICE = 64 << 20;
/** Input buffers a job keeps for its next pieces, at most (8 MiB of 1 MiB segments). */
const INPUT_BUFFERS = 8;

/** AES-GCM tag length. */
const TAG = 16;

/**
 * Where the engine exposes `gc()` (only when the browser was started with
 * `--js-flags=--expose-gc`, as bench/records.mjs does to measure the live
 * memory of a job), collects every 8 MiB of input; a no-op everywhere else.
 */
function collectGarbage(total: number, last: number): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  const step = 8 << 20;
  if (typeof gc === "function" && Math.floor(total / step) !== Math.floor((total - last) / step)) gc();
}

/** `Omit` over each member of a union. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A promise and its resolver, for one awaited message. */
class Signal {
  #wake: (() => void) | undefined;
  wait(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }
  fire(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

class Job {
  readonly #scope: WorkerScope;
  readonly #start: JobStart;
  #credit: number;
  readonly #creditSignal = new Signal();
  readonly #inputSignal = new Signal();
  readonly #input: Uint8Array[] = [];
  #inputEnd = false;
  #inputError: string | undefined;
  #aborted = false;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  #bytesIn = 0;
  #lastProgress = 0;

  readonly #hashes: HashWorker;
  /** Input buffers WebCrypto is done with, for the next pieces of a Blob. */
  readonly #pool = new BufferPool(INPUT_BUFFERS);

  constructor(scope: WorkerScope, start: JobStart, hashes: HashWorker) {
    this.#scope = scope;
    this.#start = start;
    this.#hashes = hashes;
    this.#credit = start.credit;
  }

  /** The job's number (`JobStart.job`). */
  get id(): number {
    return this.#start.job;
  }

  /** Sends `m` to the page, about this job. */
  #post(m: DistributiveOmit<FromWorker, "job">, transfer?: Transferable[]): void {
    this.#scope.postMessage({ ...m, job: this.#start.job } as FromWorker, transfer);
  }

  message(m: JobMessage): void {
    switch (m.t) {
      case "credit":
        this.#credit += 1;
        this.#creditSignal.fire();
        break;
      case "input":
        this.#input.push(m.chunk);
        this.#inputSignal.fire();
        break;
      case "input-end":
        this.#inputEnd = true;
        this.#inputSignal.fire();
        break;
      case "input-error":
        this.#inputError = m.message;
        this.#inputSignal.fire();
        break;
      case "abort":
        this.#aborted = true;
        this.#creditSignal.fire();
        this.#inputSignal.fire();
        void this.#reader?.cancel("aborted").catch(() => {});
        break;
      default:
        break;
    }
  }

  /** The input, read from the Blob here or pulled from the page. */
  #source(): ReadableStream<Uint8Array> {
    const blob = this.#start.blob;
    if (blob !== undefined) {
      // Segment-sized slices: each is sealed or opened without a copy.
      const s = this.#start;
      const segment = s.segmentSize ?? DEFAULT_SEGMENT;
      const header = 1 + s.key.length + 7;
      let first = true;
      const slice = () => {
        const n = s.op === "decrypt" ? segment : first ? segment - header - TAG : segment - TAG;
        first = false;
        return n > 0 && n <= MAX_SLICE ? n : DEFAULT_SEGMENT;
      };
      return blobPieces(blob, slice, this.#pool);
    }
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (this.#input.length === 0 && !this.#inputEnd && this.#inputError === undefined) {
          this.#post({ t: "pull" });
          while (this.#input.length === 0 && !this.#inputEnd && this.#inputError === undefined && !this.#aborted) {
            await this.#inputSignal.wait();
          }
        }
        const chunk = this.#input.shift();
        if (chunk !== undefined) controller.enqueue(chunk);
        else if (this.#inputError !== undefined) controller.error(new Error(this.#inputError));
        else controller.close();
      },
    });
  }

  /** Counts input bytes on their way in, for progress. */
  #counter(): TransformStream<Uint8Array, Uint8Array> {
    return new TransformStream<Uint8Array, Uint8Array>({
      transform: (chunk, controller) => {
        this.#bytesIn += chunk.byteLength;
        collectGarbage(this.#bytesIn, chunk.byteLength);
        const now = Date.now();
        if (now - this.#lastProgress >= 100) {
          this.#lastProgress = now;
          this.#post({ t: "progress", bytesIn: this.#bytesIn });
        }
        controller.enqueue(chunk);
      },
    });
  }

  async run(): Promise<void> {
    const s = this.#start;
    let stream: RecordEncryptor | RecordDecryptor | undefined;
    let thread: HashThread | undefined;
    try {
      stream =
        s.op === "encrypt"
          ? new RecordEncryptor(s.key, s.associatedData, { segmentSize: s.segmentSize, engine: s.engine })
          : new RecordDecryptor(s.key, s.associatedData, {
              segmentSize: s.segmentSize,
              expectedHash: s.expectedHash,
              engine: s.engine,
            });
      s.key.fill(0);
      // WebCrypto seals or opens here while the hash worker hashes.
      thread = threaded(s) ? await this.#hashes.stream() : undefined;
      this.#reader = this.#source()
        .pipeThrough(this.#counter())
        .pipeThrough(stream.transformChunks(true, thread, (b) => this.#pool.give(b)))
        .getReader();
      let bytesOut = 0;
      for (;;) {
        const { done, value } = await this.#reader.read();
        if (this.#aborted) throw new Error("aborted");
        if (done) break;
        while (this.#credit === 0 && !this.#aborted) await this.#creditSignal.wait();
        if (this.#aborted) throw new Error("aborted");
        this.#credit -= 1;
        bytesOut += value.byteLength;
        const [chunk, transfer] = transferable(value);
        this.#post({ t: "output", chunk, bytesIn: this.#bytesIn }, transfer);
      }
      const hash = stream.hash!;
      this.#post({ t: "done", hash, bytesIn: this.#bytesIn, bytesOut, hashThread: thread !== undefined });
    } catch (e) {
      if (this.#aborted) {
        this.#post({ t: "aborted" });
      } else {
        const typed = e instanceof EhrchainError;
        this.#post({
          t: "error",
          code: typed ? (e as EhrchainError).code : "EngineFailed",
          message: typed ? (e as Error).message : `the record worker failed: ${String((e as Error)?.message ?? e)}`,
        });
      }
    } finally {
      s.key.fill(0);
      stream?.free();
      thread?.drop();
    }
  }
}

/**
 * @internal Serves record jobs on a worker's global scope, once `ready`
 * (the wasm module instantiated) resolves; jobs run one after another.
 */
export function serve(scope: WorkerScope, ready: Promise<unknown>): void {
  let current: Job | undefined;
  const queue: JobStart[] = [];
  // This worker's hash worker, for its jobs (the page pairs it: "pair-hash").
  const hashes = new HashWorker();
  const next = async (): Promise<void> => {
    if (current !== undefined) return;
    const start = queue.shift();
    if (start === undefined) return;
    current = new Job(scope, start, hashes);
    try {
      await ready;
      await current.run();
    } catch (e) {
      scope.postMessage({ t: "error", job: start.job, code: "EngineFailed", message: `the record worker could not start: ${String(e)}` });
    } finally {
      current = undefined;
      void next();
    }
  };
  // Scanning: the protocol key's scanner for this worker's scan, freed
  // (its key wiped) when the scan ends.
  let scanner: Scanner | undefined;
  const scan = async (m: ToScanWorker): Promise<void> => {
    await ready;
    if (m.t === "scan-key") {
      scanner?.free();
      const key = Key.fromBytes(m.secret);
      m.secret.fill(0);
      scanner = new Scanner(key);
      key.free();
    } else if (m.t === "scan-end") {
      scanner?.free();
      scanner = undefined;
    } else if (scanner === undefined) {
      scope.postMessage({ t: "scan-error", id: m.id, code: "EngineFailed", message: "the scan worker has no key" });
    } else {
      try {
        const candidates = scanTagCandidates(scanner, m.sifted);
        const answer: FromScanWorker = { t: "scanned", id: m.id, candidates };
        scope.postMessage(answer, [candidates.buffer]);
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        scope.postMessage({
          t: "scan-error",
          id: m.id,
          code: typeof code === "string" ? code : "EngineFailed",
          message: String((e as Error)?.message ?? e),
        });
      }
    }
  };
  let scans = Promise.resolve();
  scope.addEventListener("message", (e) => {
    const m = e.data;
    if (m.t === "pair-hash") {
      hashes.adopt(m.port);
      return;
    }
    if (m.t === "pair-hash-failed") {
      hashes.adoptedFailed();
      return;
    }
    if (m.t === "serve-hash") {
      const port = m.port;
      const serveOnPort = serveHashes(port, ready);
      port.addEventListener("message", (e: MessageEvent<ToHashWorker>) => serveOnPort(e.data));
      port.start();
      return;
    }
    if (m.t === "scan-key" || m.t === "scan" || m.t === "scan-end") {
      // In order: the key before the scans.
      scans = scans.then(() => scan(m)).catch(() => {});
      return;
    }
    if (m.t === "start") {
      queue.push(m);
      void next();
    } else if (current?.id === m.job) {
      // A message of a job this worker no longer runs (given up by the page) is dropped.
      current.message(m);
    }
  });
}
