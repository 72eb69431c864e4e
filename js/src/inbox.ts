// The doctor's inbox (paper Alg 5 steps 6-8): every `Authorised` event the
// registry ever emitted, tested against the doctor's key, page by page,
// from a block the caller remembers (so a scan resumes where the last one
// stopped), with the matches given as they are found and the testing split
// over Web Workers. Fetching the next page overlaps with testing this one.

import { EhrchainError, describe } from "./errors.js";
import { options } from "./args.js";
import { Key } from "./keys.js";
import { Scanner } from "./grants.js";
import { authorisedTopic, foundAmong, scanTagCandidates, siftAuthorisations, type FoundAuthorisation } from "./registry.js";
import type { LogLike } from "./logs.js";
import type { Address } from "./types.js";
import { recordWorkersSupported } from "./jobs.js";
import { spawnRecordWorker } from "./spawn.js";
import type { FromScanWorker, ToScanWorker } from "./jobmessages.js";

/** What the scan needs of a JSON-RPC provider: EIP-1193's `request` (a wallet's `window.ethereum`, viem's `transport`, …). */
export interface Eip1193Like {
  request(args: { readonly method: string; readonly params?: readonly unknown[] }): Promise<unknown>;
}

/** Options of {@link scanInbox}. */
export interface InboxScanOptions {
  /** The registry contract's address. */
  readonly registry: Address;
  /** Where logs come from (`eth_blockNumber`, `eth_getLogs`). */
  readonly provider: Eip1193Like;
  /** First block to scan: 0, the registry's deployment block, or the last scan's `scannedTo + 1`. Default 0. */
  readonly fromBlock?: number;
  /** Last block to scan (default: the latest block when the scan starts). */
  readonly toBlock?: number;
  /** Blocks per `eth_getLogs` (default 10 000; halved when a provider refuses a range as too large). */
  readonly blocksPerRequest?: number;
  /**
   * Web Workers testing the events in parallel (default: one per core, at
   * most 4, none on a single core; `0` tests on this thread, the only
   * choice in Node). This thread only fetches pages meanwhile. Each worker
   * holds a copy of the protocol key for the scan, wiped when it ends.
   */
  readonly workers?: number;
  /**
   * Stops the scan: the iterator throws `signal.reason` at once, even while
   * a request to the provider or the workers is pending (its answer is
   * dropped).
   */
  readonly signal?: AbortSignal;
}

/** Where a scan is: persist `scannedTo` to resume from `scannedTo + 1`. */
export interface InboxProgress {
  readonly fromBlock: number;
  readonly toBlock: number;
  /** Every block up to this one has been scanned. */
  readonly scannedTo: number;
  /** `Authorised` events tested so far. */
  readonly events: number;
  /** Authorisations addressed to this key found so far. */
  readonly matches: number;
}

/** What {@link scanInbox} yields: a match as soon as its page is tested, then that page's progress. */
export type InboxEvent =
  | { readonly kind: "match"; readonly authorisation: FoundAuthorisation; readonly blockNumber: number }
  | { readonly kind: "progress"; readonly progress: InboxProgress };

const DEFAULT_PAGE = 10_000;

function int(value: unknown, what: string, dflt: number | undefined): number | undefined {
  if (value === undefined) return dflt;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new EhrchainError("InvalidArgument", `option ${what} must be a non-negative integer, got ${describe(value)}`);
  }
  return value;
}

const hexQuantity = (n: number) => `0x${n.toString(16)}`;

function rpcError(method: string, e: unknown): EhrchainError {
  const err = e as { code?: unknown; message?: unknown };
  const message = typeof err?.message === "string" ? err.message : String(e);
  return new EhrchainError("Rpc", `${method} failed: ${message}`);
}

/** A provider's refusal of a block range as too large (Infura -32005, Alchemy, QuickNode, geth's limits). */
function rangeTooLarge(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  const message = typeof err?.message === "string" ? err.message : "";
  return err?.code === -32005 || /more than \d+ results|too many|range|limit exceeded|response size/i.test(message);
}

/**
 * `work`, or `signal.reason` as soon as the signal aborts: a provider's
 * request cannot be cancelled (EIP-1193 has no signal), so an abort stops
 * the wait, and whatever `work` comes to is dropped.
 */
function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/** Bytes per log in `siftAuthorisations`' output. */
const SIFTED_BYTES = 35;

/**
 * Workers testing the view tags of slices of a page in parallel: each gets
 * the page's sifted view tags and `R`s (35 bytes a log, transferred, not
 * the logs) and answers the indices of its candidates.
 */
class ScanPool {
  readonly #workers: Worker[];
  #next = 0;
  readonly #waiting = new Map<number, { resolve: (f: Uint32Array) => void; reject: (e: unknown) => void }>();

  constructor(size: number, secret: Uint8Array) {
    this.#workers = [];
    try {
      for (let i = 0; i < size; i++) {
        const w = spawnRecordWorker();
        w.addEventListener("message", (e: MessageEvent<FromScanWorker>) => this.#answer(e.data));
        w.addEventListener("error", (e: ErrorEvent) => this.#failAll(new EhrchainError("EngineFailed", `a scan worker could not start or died (${e.message || "no detail"})`)));
        const m: ToScanWorker = { t: "scan-key", secret };
        w.postMessage(m);
        this.#workers.push(w);
      }
    } finally {
      secret.fill(0);
    }
  }

  #answer(m: FromScanWorker): void {
    const waiter = this.#waiting.get(m.id);
    if (waiter === undefined) return;
    this.#waiting.delete(m.id);
    if (m.t === "scanned") waiter.resolve(m.candidates);
    else waiter.reject(new EhrchainError(m.code as EhrchainError["code"], m.message));
  }

  #failAll(e: unknown): void {
    // A dead worker answers nothing: every later scan fails at once too.
    this.#failed ??= { error: e };
    for (const w of this.#waiting.values()) w.reject(e);
    this.#waiting.clear();
  }

  #failed: { error: unknown } | undefined;

  /** The indices of the candidates among the logs `sifted` describes. */
  async candidates(sifted: Uint8Array): Promise<number[]> {
    if (this.#failed !== undefined) throw this.#failed.error;
    const count = sifted.length / SIFTED_BYTES;
    const n = this.#workers.length;
    const per = Math.ceil(count / n);
    const parts: Promise<number[]>[] = [];
    for (let i = 0; i < n && i * per < count; i++) {
      const id = this.#next++;
      const first = i * per;
      // A copy of the slice of its own, transferred to the worker.
      const slice = sifted.slice(first * SIFTED_BYTES, Math.min(count, first + per) * SIFTED_BYTES);
      parts.push(
        new Promise<Uint32Array>((resolve, reject) => {
          this.#waiting.set(id, { resolve, reject });
          const m: ToScanWorker = { t: "scan", id, sifted: slice };
          this.#workers[i]!.postMessage(m, [slice.buffer]);
        }).then((found) => Array.from(found, (k) => first + k)),
      );
    }
    return (await Promise.all(parts)).flat();
  }

  close(): void {
    // The workers' key copies go with them.
    for (const w of this.#workers) {
      const m: ToScanWorker = { t: "scan-end" };
      w.postMessage(m);
      w.terminate();
    }
    this.#failAll(new EhrchainError("EngineFailed", "the scan ended"));
  }
}

/**
 * Scans the registry for authorisations addressed to `protocolKey` (the
 * doctor's inbox): an async iterator of matches, each as soon as its page of
 * events is tested, and of progress after each page. Persist
 * `progress.scannedTo` and pass `scannedTo + 1` as `fromBlock` next time:
 * only new blocks are fetched and tested. Matches still need
 * `scanner.open()` and {@link confirmGrant}: a match only says the event is
 * addressed to this key.
 *
 * ```ts
 * for await (const e of scanInbox(myKey, { registry, provider: window.ethereum, fromBlock: saved + 1 })) {
 *   if (e.kind === "match") show(e.authorisation);
 *   else { bar.value = e.progress.scannedTo; save(e.progress.scannedTo); }
 * }
 * ```
 *
 * Errors: `Rpc` when the provider fails, `EngineFailed` when a worker does;
 * `signal.reason` once aborted.
 */
export async function* scanInbox(protocolKey: Key, opts: InboxScanOptions): AsyncGenerator<InboxEvent, InboxProgress, void> {
  const o = options(
    opts,
    "options",
    ["registry", "provider", "fromBlock", "toBlock", "blocksPerRequest", "workers", "signal"],
    true,
  );
  const provider = o.provider as Eip1193Like;
  if (typeof provider?.request !== "function") {
    throw new EhrchainError("InvalidArgument", "option provider must have an EIP-1193 request({ method, params }) method");
  }
  const registry = o.registry as Address;
  const signal = o.signal as AbortSignal | undefined;
  const fromBlock = int(o.fromBlock, "fromBlock", 0)!;
  let page = Math.max(1, int(o.blocksPerRequest, "blocksPerRequest", DEFAULT_PAGE)!);
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  const workers = recordWorkersSupported() ? int(o.workers, "workers", cores >= 2 ? Math.min(4, cores) : 0)! : 0;
  const call = async (method: string, params: unknown[]) => {
    try {
      return await provider.request({ method, params });
    } catch (e) {
      throw Object.assign(rpcError(method, e), { tooLarge: rangeTooLarge(e) });
    }
  };
  let toBlock = int(o.toBlock, "toBlock", undefined);
  if (toBlock === undefined) toBlock = Number(BigInt((await unlessAborted(call("eth_blockNumber", []), signal)) as string));
  const topic = authorisedTopic();

  // One page of logs; a range the provider finds too large is halved.
  const fetchPage = async (from: number): Promise<{ logs: LogLike[]; to: number }> => {
    for (;;) {
      const to = Math.min(from + page - 1, toBlock!);
      try {
        const logs = (await call("eth_getLogs", [
          { address: registry, topics: [topic], fromBlock: hexQuantity(from), toBlock: hexQuantity(to) },
        ])) as LogLike[];
        if (!Array.isArray(logs)) throw new EhrchainError("Rpc", "eth_getLogs did not answer an array");
        return { logs, to };
      } catch (e) {
        if ((e as { tooLarge?: boolean }).tooLarge && to > from) {
          page = Math.max(1, Math.floor((to - from + 1) / 2));
          continue;
        }
        throw e;
      }
    }
  };

  // This thread's scanner checks the candidates in full (and tests the
  // view tags too without workers).
  const scanner = new Scanner(protocolKey);
  let pool: ScanPool | undefined;
  try {
    pool = workers === 0 ? undefined : new ScanPool(workers, protocolKey.exportSecret());
  } catch (e) {
    scanner.free();
    throw e;
  }
  let events = 0;
  let matches = 0;
  let progress: InboxProgress = { fromBlock, toBlock, scannedTo: fromBlock - 1, events, matches };
  try {
    let from = fromBlock;
    let next = from <= toBlock ? fetchPage(from) : undefined;
    next?.catch(() => {});
    while (next !== undefined) {
      signal?.throwIfAborted();
      const { logs, to } = await unlessAborted(next, signal);
      // The next page is fetched while this one is tested.
      next = to < toBlock ? fetchPage(to + 1) : undefined;
      next?.catch(() => {});
      // The view tags are tested in the workers (or here), only the
      // candidates decoded in full and checked here.
      const sifted = siftAuthorisations(registry, logs);
      const candidates = pool ? await unlessAborted(pool.candidates(sifted), signal) : scanTagCandidates(scanner, sifted);
      const found = foundAmong(scanner, registry, logs, candidates);
      events += logs.length;
      for (const authorisation of found) {
        matches += 1;
        const blockNumber = authorisation.blockNumber === null ? to : Number(authorisation.blockNumber);
        yield { kind: "match", authorisation, blockNumber };
        signal?.throwIfAborted();
      }
      progress = { fromBlock, toBlock, scannedTo: to, events, matches };
      yield { kind: "progress", progress };
      signal?.throwIfAborted();
      from = to + 1;
    }
    return progress;
  } finally {
    pool?.close();
    scanner.free();
  }
}
