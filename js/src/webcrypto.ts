// Record segments sealed and opened by the platform's WebCrypto AES-GCM
// (docs/PROTOCOL.md §7.4): the same Tink stream, byte for byte, as the
// software path in wasm, several times faster. WebCrypto works on the
// calling thread in some browsers and off it in others: while it seals or
// opens the next segments, the ciphertext is hashed (`eh`) in wasm, on this
// thread or, in a record worker, on a hash worker of its own
// (hashthread.ts), so the whole pass runs close to the speed of SHA-256
// alone.
//
// The rules stay in the core: segment sizes, keys and nonces come from the
// wasm `RecordSegments`, and a segment WebCrypto refuses is diagnosed there,
// so both paths give the same codes (`SegmentTampered`, `Truncated`, …).

import type * as glue from "./glue.js";
import { EhrchainError } from "./errors.js";
import type { HashThread } from "./hashthread.js";

/** Which AES-GCM engine a record stream's `transform()` uses. */
export type RecordEngine = "auto" | "webcrypto" | "wasm";

/** Segments handed to WebCrypto before the oldest is waited for. */
const DEPTH = 4;

/** AES-GCM's tag, at the end of every segment. */
const TAG = 16;

/**
 * Output chunks a stream may produce before it is read: the pipeline keeps
 * sealing and hashing while its reader is busy elsewhere (the record worker
 * posting a chunk to the page) rather than stalling at each read.
 */
const OUTPUT_AHEAD = { highWaterMark: 2 };

/** The platform's `crypto.subtle`, if it has one (not on an insecure `http:` page). */
export function platformSubtle(): SubtleCrypto | undefined {
  const c = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto;
  return c?.subtle ?? undefined;
}

/** @internal The engine a `transform()` with option `engine` runs on. */
export function resolveEngine(engine: RecordEngine): SubtleCrypto | undefined {
  const subtle = engine === "wasm" ? undefined : platformSubtle();
  if (engine === "webcrypto" && subtle === undefined) {
    throw new EhrchainError(
      "EngineFailed",
      "WebCrypto (crypto.subtle) is not available here: pages need a secure context (https: or localhost); use engine \"auto\" to fall back to the wasm engine",
    );
  }
  return subtle;
}

function engineFailed(what: string, cause: unknown): EhrchainError {
  const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
  return new EhrchainError("EngineFailed", `WebCrypto failed to ${what} (${detail}); retry, or use engine "wasm"`);
}

/** Whether `view` is all of its buffer (a piece the record worker's source made, that it may reuse). */
function wholeBuffer(view: Uint8Array): boolean {
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength && view.buffer instanceof ArrayBuffer;
}

/** Bytes from the glue, for WebCrypto (which takes no shared buffers). */
type Bytes = Uint8Array<ArrayBuffer>;
const bytes = (b: Uint8Array): Bytes => b as Bytes;

/**
 * Runs a stream step: `ObjectFreed` once the stream's owner was freed, and
 * on any failure the stream's wasm segments and buffers are released
 * before the error goes on.
 */
function guarded(ended: () => boolean, cleanup: () => void) {
  return async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      if (ended()) {
        throw new EhrchainError("ObjectFreed", "this record stream's object was freed; its stream can no longer be used");
      }
      return await work();
    } catch (e) {
      cleanup();
      throw e;
    }
  };
}

function chunkOf(chunk: unknown): Uint8Array {
  if (!(chunk instanceof Uint8Array)) {
    throw new EhrchainError("InvalidStreamParams", "invalid stream parameters: stream chunks must be Uint8Array");
  }
  return chunk;
}

async function importKey(subtle: SubtleCrypto, segments: glue.RecordSegments, usage: KeyUsage): Promise<CryptoKey> {
  const raw = bytes(segments.exportKey());
  try {
    // importKey copies the bytes before it returns: the copy here is wiped
    // at once (and by finally if the call throws); the CryptoKey is not
    // extractable.
    const pending = subtle.importKey("raw", raw, { name: "AES-GCM" }, false, [usage]);
    raw.fill(0);
    return await pending;
  } catch (e) {
    throw engineFailed("import the segment key", e);
  } finally {
    raw.fill(0);
  }
}

/** One segment in WebCrypto: its output, or why it failed. */
type Result = { readonly ok: Uint8Array } | { readonly failed: () => unknown };

/**
 * Segments in flight, delivered in order. Every promise resolves (never
 * rejects), so a stream that errors leaves no unhandled rejection behind.
 */
class InFlight {
  readonly #queue: Promise<Result>[] = [];

  get length(): number {
    return this.#queue.length;
  }

  add(p: Promise<Result>): void {
    this.#queue.push(p);
  }

  /** The oldest segment's output; throws its error. */
  async next(): Promise<Uint8Array> {
    const r = await this.#queue.shift()!;
    if ("ok" in r) return r.ok;
    throw r.failed();
  }
}

/**
 * @internal A WebCrypto stream and how to end it early: `release` frees the
 * wasm segments (wiping the key) and our plaintext buffer, for an owner
 * freed while its stream is still open (Transformer `cancel` is not called
 * by every browser).
 */
export interface Engaged {
  readonly stream: TransformStream<Uint8Array, Uint8Array>;
  readonly release: () => void;
}

/** Lifetime of the wasm segments: freed (key wiped) on finish, error, cancel or release. */
function guard(segments: { free(): void }) {
  let freed = false;
  return () => {
    if (!freed) {
      freed = true;
      segments.free();
    }
  };
}

/**
 * @internal Plaintext → ciphertext through WebCrypto, for `segments` taken
 * from an untouched encryptor; `done(eh)` once the output is complete.
 * With `ownsChunks`, a chunk that is exactly a segment is sealed without a
 * copy (the record worker reads its input in segment-sized slices);
 * otherwise chunks are copied, since a writer may reuse its buffer. With
 * `thread`, the ciphertext is hashed there instead of on this thread; a
 * chunk sealed without a copy goes back through `recycle` once WebCrypto
 * has copied it (encrypt() copies its input before it returns).
 */
export function sealingStream(
  subtle: SubtleCrypto,
  segments: glue.RecordSegments,
  done: (hash: Uint8Array) => void,
  ownsChunks: boolean,
  thread?: HashThread,
  recycle?: (buffer: ArrayBuffer) => void,
): Engaged {
  const release = guard(segments);
  // Read once: the hot loop below does not call into wasm for them.
  const first = segments.firstPlaintextLength;
  const later = segments.plaintextLength;
  // The segment being filled: our own buffer (wiped once sealed), or, when
  // the chunks are ours (`ownsChunks`: nobody writes into them later) and
  // one holds a whole segment, a view of it (no copy).
  let own = new Uint8Array(first);
  let held: Uint8Array | undefined;
  let fill = 0;
  let index = 0;
  let key: CryptoKey;
  const inflight = new InFlight();
  const size = () => (index === 0 ? first : later);

  const seal = (last: boolean) => {
    const iv = bytes(segments.nonce(index, last));
    const plaintext = held ?? own.subarray(0, fill);
    // encrypt() copies its input before returning: our copy is wiped right after.
    const p = subtle.encrypt({ name: "AES-GCM", iv }, key, bytes(plaintext)).then(
      (ct): Result => ({ ok: new Uint8Array(ct) }),
      (e): Result => ({ failed: () => engineFailed("seal a segment", e) }),
    );
    if (held === undefined) own.fill(0, 0, fill);
    else if (recycle !== undefined && wholeBuffer(held)) recycle(held.buffer as ArrayBuffer);
    held = undefined;
    inflight.add(p);
    index += 1;
    fill = 0;
    if (own.length !== later) own = new Uint8Array(later);
  };
  const deliver = async (controller: TransformStreamDefaultController<Uint8Array>) => {
    const ct = await inflight.next();
    if (thread === undefined) segments.hash(ct);
    else await thread.update(ct);
    controller.enqueue(ct);
  };
  const cleanup = () => {
    own.fill(0);
    thread?.drop();
    release();
  };
  let ended = false;
  const failing = guarded(() => ended, cleanup);

  const stream = new TransformStream<Uint8Array, Uint8Array>({
    start: (controller) =>
      failing(async () => {
        key = await importKey(subtle, segments, "encrypt");
        const header = segments.header;
        await thread?.update(header);
        controller.enqueue(header);
      }),
    transform: (chunk, controller) =>
      failing(async () => {
        const data = chunkOf(chunk);
        let off = 0;
        while (off < data.length) {
          if (fill === size()) {
            // Full, and more plaintext follows: not the last segment.
            seal(false);
            while (inflight.length > DEPTH) await deliver(controller);
          }
          const n = Math.min(size() - fill, data.length - off);
          if (ownsChunks && fill === 0 && n === size()) {
            held = data.subarray(off, off + n);
          } else {
            own.set(data.subarray(off, off + n), fill);
          }
          fill += n;
          off += n;
        }
      }),
    flush: (controller) =>
      failing(async () => {
        seal(true);
        while (inflight.length > 0) await deliver(controller);
        done(thread === undefined ? segments.finish() : segments.finishWith(await thread.digest()));
        release();
      }),
    cancel: cleanup,
  } as Transformer<Uint8Array, Uint8Array>, undefined, OUTPUT_AHEAD);
  return {
    stream,
    release: () => {
      ended = true;
      cleanup();
    },
  };
}

/**
 * @internal Ciphertext → plaintext through WebCrypto: the header is read
 * with `engine.segments(header)`; `done(eh)` once the record is whole,
 * authentic and (if expected) its hash checked. With `thread`, the
 * ciphertext is hashed there instead of on this thread; a chunk opened
 * without a copy goes back through `recycle` once it opened (one that
 * failed is kept for the diagnosis).
 */
export function openingStream(
  subtle: SubtleCrypto,
  engine: glue.RecordDecryptor,
  done: (hash: Uint8Array) => void,
  ownsChunks: boolean,
  thread?: HashThread,
  recycle?: (buffer: ArrayBuffer) => void,
): Engaged {
  const header = new Uint8Array(engine.headerLength);
  let headerFill = 0;
  let segments: glue.RecordSegments | undefined;
  let release = () => thread?.drop();
  let key: CryptoKey;
  let later = 0;
  // The segment being filled: our buffer, or a view of a chunk holding all of it.
  let pending = new Uint8Array(0);
  let held: Uint8Array | undefined;
  let fill = 0;
  let index = 0;
  const inflight = new InFlight();

  const open = (last: boolean) => {
    const s = segments!;
    const i = index;
    const segment = held ?? pending.subarray(0, fill);
    const reusable = held !== undefined && recycle !== undefined && wholeBuffer(held);
    held = undefined;
    const p = subtle.decrypt({ name: "AES-GCM", iv: bytes(s.nonce(i, last)) }, key, bytes(segment)).then(
      (pt): Result => {
        if (reusable) recycle!(segment.buffer as ArrayBuffer);
        return { ok: new Uint8Array(pt) };
      },
      (): Result => ({ failed: () => s.diagnose(i, last, segment) }),
    );
    inflight.add(p);
    index += 1;
    // A fresh buffer if the one in flight was ours: it is kept for a diagnosis.
    if (segment.buffer === pending.buffer || pending.length !== later) pending = new Uint8Array(later);
    fill = 0;
  };
  const deliver = async (controller: TransformStreamDefaultController<Uint8Array>) => {
    controller.enqueue(await inflight.next());
  };
  let ended = false;
  const failing = guarded(
    () => ended,
    () => release(),
  );

  const stream = new TransformStream<Uint8Array, Uint8Array>({
    transform: (chunk, controller) =>
      failing(async () => {
        let data = chunkOf(chunk);
        if (segments === undefined) {
          const n = Math.min(header.length - headerFill, data.length);
          header.set(data.subarray(0, n), headerFill);
          headerFill += n;
          data = data.subarray(n);
          if (headerFill < header.length) return;
          const s = engine.segments(header);
          segments = s;
          const free = guard(s);
          release = () => {
            thread?.drop();
            free();
          };
          key = await importKey(subtle, s, "decrypt");
          await thread?.update(header);
          later = s.plaintextLength + TAG;
          pending = new Uint8Array(s.firstPlaintextLength + TAG);
        }
        // Hashed here, on this thread, while WebCrypto opens earlier
        // segments, or on the hash thread.
        if (thread === undefined) segments.hash(data);
        else await thread.update(data);
        let off = 0;
        while (off < data.length) {
          if (fill === pending.length) {
            open(false);
            while (inflight.length > DEPTH) await deliver(controller);
          }
          const n = Math.min(pending.length - fill, data.length - off);
          if (ownsChunks && fill === 0 && n === pending.length) held = data.subarray(off, off + n);
          else pending.set(data.subarray(off, off + n), fill);
          fill += n;
          off += n;
        }
      }),
    flush: (controller) =>
      failing(async () => {
        // No complete header: the software engine, untouched, says `Truncated`.
        if (segments === undefined) engine.finish();
        const s = segments!;
        s.checkLast(index, fill);
        open(true);
        while (inflight.length > 0) await deliver(controller);
        done(thread === undefined ? s.finish() : s.finishWith(await thread.digest()));
        release();
      }),
    cancel: () => release(),
  } as Transformer<Uint8Array, Uint8Array>, undefined, OUTPUT_AHEAD);
  return {
    stream,
    release: () => {
      ended = true;
      release();
    },
  };
}
