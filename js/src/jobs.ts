// Encrypting and decrypting records off the main thread: the page hands a
// File, Blob or ReadableStream to a Web Worker running the package, and gets
// a ReadableStream of the output, progress, cancellation and the hash. The
// worker runs the same RecordEncryptor/RecordDecryptor (WebCrypto where the
// platform has it), so the bytes and the error codes are those of the
// main-thread API.

import * as glue from "./glue.js";
import { EhrchainError, describe } from "./errors.js";
import { options } from "./args.js";
import type { FromWorker, JobStart, ToWorker } from "./jobmessages.js";
import type { RecordEngine } from "./webcrypto.js";
import type { BytesLike } from "./types.js";
import { spawnRecordWorker } from "./spawn.js";
import { threaded } from "./hashthread.js";

/** Where a job is, for a progress bar. */
export interface RecordProgress {
  /** Input bytes processed so far. */
  readonly bytesDone: number;
  /** Input size, when known (a `Blob`'s size, or option `totalBytes`). */
  readonly totalBytes: number | undefined;
  /** Average speed since the start, in MB/s (10^6 bytes per second). */
  readonly mbPerSecond: number;
  /** Estimated seconds left at that speed, when the size is known. */
  readonly secondsLeft: number | undefined;
}

/** Options common to {@link encryptInWorker} and {@link decryptInWorker}. */
export interface RecordJobOptions {
  /** The record key `K_P` (16 or 32 bytes). The worker wipes its copy when the job ends. */
  readonly key: BytesLike;
  /** The record's associated data ({@link recordAssociatedData}). */
  readonly associatedData: Uint8Array;
  /** Ciphertext segment size (default 1 MiB). */
  readonly segmentSize?: number;
  /** The AES-GCM engine in the worker (default `"auto"`: WebCrypto). */
  readonly engine?: RecordEngine;
  /** Cancels the job: the output stream errors and `done` rejects with `signal.reason`; the worker wipes its keys. */
  readonly signal?: AbortSignal;
  /** Called at most every 100 ms while the job runs, and once at the end. */
  readonly onProgress?: (progress: RecordProgress) => void;
  /** The input size for progress, when the source is a stream (a Blob's size is known). */
  readonly totalBytes?: number;
  /**
   * A worker of yours to run the job on, made with {@link createRecordWorker}
   * (or `new Worker(url-of-ehrchain/worker, { type: "module" })`, which
   * hashes on its own thread); it is left running for the next job, and
   * jobs on one worker run one after another. Default: a fresh worker for
   * this job, ended with it.
   */
  readonly worker?: Worker;
}

/** Options of {@link decryptInWorker}. */
export interface DecryptJobOptions extends RecordJobOptions {
  /** The anchored `eh`: the job fails with `HashMismatch` unless the ciphertext's SHA-256 equals it. */
  readonly expectedHash?: BytesLike;
}

/** What a finished job reports. */
export interface RecordJobResult {
  /** `eh = SHA-256(ciphertext)`. */
  readonly hash: Uint8Array;
  /** Bytes read from the source. */
  readonly bytesIn: number;
  /** Bytes written to `output`. */
  readonly bytesOut: number;
  /** Wall time of the job, in seconds. */
  readonly seconds: number;
  /**
   * Whether the ciphertext was hashed on a thread of its own (the hash
   * worker the package starts beside the record worker) while WebCrypto
   * sealed or opened it: true wherever it could start (engine `"auto"` or
   * `"webcrypto"`) for a stream or a Blob of 8 segments or more (8 MiB by
   * default) on a worker of the package's; false for a smaller Blob, with
   * engine `"wasm"`, on a worker you made with `new Worker()`, or where a
   * second worker cannot start.
   */
  readonly hashThread: boolean;
}

/** A record job running in a worker. */
export interface RecordJob {
  /**
   * The output (ciphertext when encrypting, plaintext when decrypting), as
   * the worker produces it; read it to keep the job going (the worker never
   * runs more than a few segments ahead of the reader). Cancelling it
   * cancels the job. When decrypting, the plaintext is whole and authentic
   * only once `done` resolves.
   */
  readonly output: ReadableStream<Uint8Array>;
  /**
   * Resolves once the output is complete; rejects with the job's
   * `EhrchainError` (or `signal.reason`). The job advances as `output` is
   * read: read it to its end (or cancel it), or `done` waits.
   */
  readonly done: Promise<RecordJobResult>;
}

/** Output chunks in flight between the worker and the reader. */
const CREDIT = 3;

/** How long an aborted job waits for its worker's "aborted" before it lets go of the worker. */
const ABORT_GRACE_MS = 2000;

/** Jobs already queued on a caller's worker: the next one starts after them. */
const queues = new WeakMap<Worker, Promise<unknown>>();

/**
 * The workers of {@link createRecordWorker}, each with the hash worker the
 * page started for it (on its first job that hashes on one), ended with it.
 */
const kept = new WeakMap<Worker, KeptWorker>();

/** What the package keeps about a worker of {@link createRecordWorker}. */
interface KeptWorker {
  /** Its hash worker, once paired. */
  helper: Worker | undefined;
  /** Whether a hash worker was started for it (even one that then failed). */
  paired: boolean;
  /** Whether `terminate()` was called. */
  ended: boolean;
  /** The jobs running or queued on it, each failed by `terminate()`. */
  readonly jobs: Set<() => void>;
}

/** The last job number given (`JobStart.job`). */
let lastJob = 0;

/** Whether this platform can run record jobs in a worker (module Web Workers). */
export function recordWorkersSupported(): boolean {
  return typeof (globalThis as { Worker?: unknown }).Worker === "function";
}

/** A record worker, or `EngineFailed` where there are no Web Workers. */
function newRecordWorker(): Worker {
  if (!recordWorkersSupported()) {
    throw new EhrchainError("EngineFailed", "Web Workers are not available here: use RecordEncryptor/RecordDecryptor.transform() on this thread");
  }
  return spawnRecordWorker();
}

/**
 * A new Web Worker running the package's record jobs, to pass as option
 * `worker` to several jobs (saves starting one per job). End it with
 * `worker.terminate()`, which also ends the hash worker the package starts
 * beside it for its large jobs. `EngineFailed` where there are no Web
 * Workers (Node).
 */
export function createRecordWorker(): Worker {
  const worker = newRecordWorker();
  const state: KeptWorker = { helper: undefined, paired: false, ended: false, jobs: new Set() };
  kept.set(worker, state);
  const end = worker.terminate.bind(worker);
  Object.defineProperty(worker, "terminate", {
    configurable: true,
    value: () => {
      state.ended = true;
      state.helper?.terminate();
      end();
      for (const ended of [...state.jobs]) ended();
    },
  });
  return worker;
}

/**
 * Encrypts a record in a Web Worker: `source` (a `File`, `Blob` or
 * `ReadableStream<Uint8Array>`) in, ciphertext out as `job.output`, `eh` in
 * `(await job.done).hash`. The page stays responsive at any size, and
 * memory stays bounded by a few segments as long as `output` is read.
 *
 * ```ts
 * const job = encryptInWorker(file, { key, associatedData, signal, onProgress: (p) => bar.value = p.bytesDone });
 * await job.output.pipeTo(uploadSink);
 * const { hash } = await job.done;
 * ```
 */
export function encryptInWorker(source: Blob | ReadableStream<Uint8Array>, opts: RecordJobOptions): RecordJob {
  return startJob("encrypt", source, opts, ["key", "associatedData", "segmentSize", "engine", "signal", "onProgress", "totalBytes", "worker"]);
}

/**
 * Verifies and decrypts a record in a Web Worker, as {@link encryptInWorker};
 * with `expectedHash` (the anchored `eh`) the job fails with `HashMismatch`
 * unless the ciphertext is the anchored one. Damage errors `output` and
 * rejects `done` with the code the main-thread decryptor gives.
 */
export function decryptInWorker(source: Blob | ReadableStream<Uint8Array>, opts: DecryptJobOptions): RecordJob {
  return startJob("decrypt", source, opts, [
    "key", "associatedData", "segmentSize", "engine", "signal", "onProgress", "totalBytes", "worker", "expectedHash",
  ]);
}

/**
 * A hash worker beside a record worker the page starts for one job (the
 * same script; hashthread.ts), connected to it by a port, so that both load
 * at once rather than one after the other. `undefined` if it cannot start:
 * the record worker then hashes on its own thread.
 */
function pairHashWorker(worker: Worker): Worker | undefined {
  let helper: Worker;
  try {
    helper = spawnRecordWorker();
  } catch {
    return undefined;
  }
  const channel = new MessageChannel();
  const serve: ToWorker = { t: "serve-hash", port: channel.port2 };
  helper.postMessage(serve, [channel.port2]);
  const pair: ToWorker = { t: "pair-hash", port: channel.port1 };
  worker.postMessage(pair, [channel.port1]);
  helper.addEventListener("error", (e: ErrorEvent) => {
    e.preventDefault();
    const failed: ToWorker = { t: "pair-hash-failed" };
    worker.postMessage(failed);
  });
  return helper;
}

/** A job that failed before it started: `output` errors and `done` rejects with `error`. */
function failedJob(error: unknown): RecordJob {
  const done = Promise.reject(error);
  done.catch(() => {});
  const output = new ReadableStream<Uint8Array>({
    start: (controller) => controller.error(error),
  });
  return { output, done };
}

/** A bytes-like option (`key`, `expectedHash`): a copy, read by the core's one hex rule. */
function bytesArg(value: unknown, what: "key" | "expectedHash"): Uint8Array {
  if (value instanceof Uint8Array) return value.slice();
  return glue.jobBytesOption(what, value);
}

function startJob(
  op: "encrypt" | "decrypt",
  source: Blob | ReadableStream<Uint8Array>,
  opts: RecordJobOptions | DecryptJobOptions,
  allowed: string[],
): RecordJob {
  const o = options(opts, "options", allowed, true);
  const isBlob = typeof Blob === "function" && source instanceof Blob;
  if (!isBlob && !(typeof ReadableStream === "function" && source instanceof ReadableStream)) {
    throw new EhrchainError("InvalidArgument", `argument source must be a File, Blob or ReadableStream, got ${describe(source)}`);
  }
  if (!(o.associatedData instanceof Uint8Array)) {
    throw new EhrchainError("InvalidArgument", `option associatedData must be a Uint8Array, got ${describe(o.associatedData)}`);
  }
  if (o.totalBytes !== undefined && !(typeof o.totalBytes === "number" && Number.isSafeInteger(o.totalBytes) && o.totalBytes >= 0)) {
    throw new EhrchainError("InvalidArgument", `option totalBytes must be a non-negative integer, got ${describe(o.totalBytes)}`);
  }
  const signal = o.signal as AbortSignal | undefined;
  if (signal !== undefined && !(typeof AbortSignal === "function" && signal instanceof AbortSignal)) {
    throw new EhrchainError("InvalidArgument", `option signal must be an AbortSignal, got ${describe(signal)}`);
  }
  const onProgress = o.onProgress as ((p: RecordProgress) => void) | undefined;
  if (onProgress !== undefined && typeof onProgress !== "function") {
    throw new EhrchainError("InvalidArgument", "option onProgress must be a function");
  }
  const id = (lastJob += 1);
  const start: JobStart = {
    t: "start",
    job: id,
    op,
    key: bytesArg(o.key, "key"),
    associatedData: o.associatedData.slice(),
    segmentSize: o.segmentSize as number | undefined,
    expectedHash: o.expectedHash === undefined ? undefined : bytesArg(o.expectedHash, "expectedHash"),
    engine: o.engine as RecordEngine | undefined,
    blob: isBlob ? (source as Blob) : undefined,
    credit: CREDIT,
  };
  const own = o.worker === undefined;
  const ours = own ? undefined : kept.get(o.worker as Worker);
  if (ours?.ended) {
    start.key.fill(0);
    throw new EhrchainError("ObjectFreed", "option worker was ended with terminate(); start another with createRecordWorker()");
  }
  if (signal?.aborted) {
    // Already aborted: no worker is started for it.
    start.key.fill(0);
    return failedJob(signal.reason);
  }
  const worker = own ? newRecordWorker() : (o.worker as Worker);
  // The hash worker, started here beside the record worker (hashthread.ts):
  // one for this job's own worker, or one for the life of a worker of
  // createRecordWorker (the pairing reaches it before this job's start).
  // A worker the caller made itself hashes inline.
  const helper = own && threaded(start) ? pairHashWorker(worker) : undefined;
  if (ours !== undefined && !ours.paired && threaded(start)) {
    ours.paired = true;
    ours.helper = pairHashWorker(worker);
  }
  const total = isBlob ? (source as Blob).size : (o.totalBytes as number | undefined);

  let resolveDone!: (r: RecordJobResult) => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<RecordJobResult>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });
  // A caller who only reads `output` sees the error there: no unhandled rejection.
  done.catch(() => {});

  const chunks: Uint8Array[] = [];
  let wake: (() => void) | undefined;
  let failure: { error: unknown } | undefined;
  let finished = false;
  /** Whether `start` went to the worker (a caller's worker runs earlier jobs first). */
  let begun = false;
  let started = 0;
  let lastReport = 0;
  let input: ReadableStreamDefaultReader<Uint8Array> | undefined;

  const send = (m: ToWorker, transfer: Transferable[] = []) => worker.postMessage(m, transfer);
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const report = (bytesIn: number, force: boolean) => {
    if (onProgress === undefined) return;
    const now = performance.now();
    if (!force && now - lastReport < 100) return;
    lastReport = now;
    const seconds = Math.max((now - started) / 1000, 1e-6);
    const rate = bytesIn / seconds;
    onProgress({
      bytesDone: bytesIn,
      totalBytes: total,
      mbPerSecond: rate / 1e6,
      secondsLeft: total === undefined || rate === 0 ? undefined : Math.max(total - bytesIn, 0) / rate,
    });
  };
  let settle!: () => void;
  const ended = new Promise<void>((r) => {
    settle = r;
  });
  const cleanup = () => {
    start.key.fill(0);
    ours?.jobs.delete(terminated);
    worker.removeEventListener("message", onMessage);
    worker.removeEventListener("error", onError);
    signal?.removeEventListener("abort", onAbort);
    if (own) worker.terminate();
    helper?.terminate();
    settle();
  };
  const fail = (error: unknown) => {
    if (finished) return;
    finished = true;
    failure = { error };
    chunks.length = 0;
    rejectDone(error);
    void input?.cancel(error).catch(() => {});
    poke();
  };
  const onMessage = (e: MessageEvent<FromWorker>) => {
    const m = e.data;
    // Another job's (on a reused worker): a late answer of one given up.
    if (m.job !== id) return;
    switch (m.t) {
      case "pull":
        void pump();
        break;
      case "output":
        if (finished) return;
        chunks.push(m.chunk);
        report(m.bytesIn, false);
        poke();
        break;
      case "progress":
        report(m.bytesIn, false);
        break;
      case "done":
        if (finished) return;
        finished = true;
        report(m.bytesIn, true);
        resolveDone({
          hash: m.hash,
          bytesIn: m.bytesIn,
          bytesOut: m.bytesOut,
          seconds: (performance.now() - started) / 1000,
          hashThread: m.hashThread,
        });
        poke();
        cleanup();
        break;
      case "error":
        fail(new EhrchainError(m.code as EhrchainError["code"], m.message));
        cleanup();
        break;
      case "aborted":
        cleanup();
        break;
    }
  };
  const onError = (e: ErrorEvent) => {
    fail(new EhrchainError("EngineFailed", `the record worker could not start or died (${e.message || "no detail"}); reload the page and retry`));
    cleanup();
  };
  const abort = (reason: unknown) => {
    if (finished) return;
    fail(reason);
    if (!begun) {
      // Still queued behind other jobs: the worker never heard of it.
      cleanup();
      return;
    }
    send({ t: "abort", job: id });
    // The worker wipes its keys and answers "aborted"; a worker that does not
    // is ended if it is this job's, and a caller's goes on to its next job
    // (which the worker starts once this one stops).
    setTimeout(cleanup, ABORT_GRACE_MS);
  };
  const onAbort = () => abort(signal!.reason);
  const terminated = () => {
    fail(new EhrchainError("ObjectFreed", "the record worker was ended with terminate() before this job finished; start another with createRecordWorker() and run the job again"));
    cleanup();
  };
  const pump = async () => {
    try {
      input ??= (source as ReadableStream<Uint8Array>).getReader();
      const { done: end, value } = await input.read();
      if (finished) return;
      if (end) send({ t: "input-end", job: id });
      else if (!(value instanceof Uint8Array)) {
        throw new EhrchainError("InvalidStreamParams", "invalid stream parameters: stream chunks must be Uint8Array");
      } else {
        // A copy: the caller's chunk may still be read elsewhere (a tee()).
        const chunk = value.slice();
        send({ t: "input", job: id, chunk }, [chunk.buffer]);
      }
    } catch (e) {
      if (finished) return;
      if (e instanceof EhrchainError) {
        fail(e);
        send({ t: "abort", job: id });
      } else {
        send({ t: "input-error", job: id, message: `reading the source failed: ${String((e as Error)?.message ?? e)}` });
      }
    }
  };

  const output = new ReadableStream<Uint8Array>(
    {
      pull: async (controller) => {
        for (;;) {
          const chunk = chunks.shift();
          if (chunk !== undefined) {
            controller.enqueue(chunk);
            if (!finished) send({ t: "credit", job: id });
            return;
          }
          if (failure !== undefined) {
            controller.error(failure.error);
            return;
          }
          if (finished) {
            controller.close();
            return;
          }
          await new Promise<void>((r) => {
            wake = r;
          });
        }
      },
      cancel: (reason) => abort(reason ?? new DOMException("the output stream was cancelled", "AbortError")),
    },
    { highWaterMark: 0 },
  );

  const begin = () => {
    // Failed while it waited for the worker (aborted, cancelled, the worker
    // ended): never started, so the worker goes on to the next job.
    if (finished) return;
    begun = true;
    worker.addEventListener("message", onMessage);
    worker.addEventListener("error", onError);
    started = performance.now();
    lastReport = started;
    send(start);
    start.key.fill(0);
  };
  signal?.addEventListener("abort", onAbort);
  ours?.jobs.add(terminated);
  if (own) {
    begin();
  } else {
    const before = queues.get(worker) ?? Promise.resolve();
    queues.set(worker, before.then(() => {
      begin();
      return ended;
    }));
  }
  return { output, done };
}
