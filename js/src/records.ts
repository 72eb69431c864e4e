// Streaming record encryption (Alg 4 step 1, docs/PROTOCOL.md §8): the Tink
// AES-GCM-HKDF streaming format, hashed in the same pass (`eh`).

import * as glue from "./glue.js";
import { object, options } from "./args.js";
import { EhrchainError, describe } from "./errors.js";
import { INTERNAL, WasmObject } from "./handle.js";
import type { BytesLike, RecordContext } from "./types.js";
import { openingStream, resolveEngine, sealingStream, type RecordEngine } from "./webcrypto.js";
import type { HashThread } from "./hashthread.js";

export type { RecordEngine };

/** Options of {@link RecordEncryptor}. */
export interface EncryptOptions {
  /** Ciphertext segment size in bytes (default 1 MiB = 1048576; at most 64 MiB). */
  readonly segmentSize?: number;
  /**
   * The AES-GCM engine of `transform()`: `"auto"` (default) is the
   * platform's WebCrypto where it exists (browsers' secure contexts,
   * workers, Node), else the wasm engine; `"webcrypto"` requires it
   * (`EngineFailed` otherwise); `"wasm"` is the software engine. All give
   * the same bytes and error codes. `push`/`finish` are synchronous and
   * always use the wasm engine.
   */
  readonly engine?: RecordEngine;
}

/** Options of {@link RecordDecryptor}. */
export interface DecryptOptions {
  /** The segment size the record was written with (default 1 MiB). */
  readonly segmentSize?: number;
  /** The anchored `eh`: `finish()` throws `HashMismatch` unless SHA-256 of the ciphertext equals it. */
  readonly expectedHash?: BytesLike;
  /** The AES-GCM engine of `transform()`, as {@link EncryptOptions.engine}. */
  readonly engine?: RecordEngine;
}

type Engine = glue.RecordEncryptor | glue.RecordDecryptor;

/** The `engine` option, checked before any wasm memory is taken. */
function engineOption(value: unknown): RecordEngine {
  if (value === undefined) return "auto";
  if (value === "auto" || value === "webcrypto" || value === "wasm") return value;
  throw new EhrchainError("InvalidArgument", `option engine must be "auto", "webcrypto" or "wasm", got ${describe(value)}`);
}

/** How a stream object is driven: not yet, by `push`/`finish`, or by one `transform()`. */
type Mode = "idle" | "push" | "stream";

abstract class RecordStream extends WasmObject {
  #mode: Mode = "idle";
  #hash: Uint8Array | undefined;
  #release: (() => void) | undefined;
  readonly #engine: RecordEngine;

  /** @internal */
  protected constructor(kind: string, hint: string, engine: RecordEngine, raw: () => Engine) {
    super(INTERNAL, kind, hint, raw);
    this.#engine = engine;
  }

  /** @internal */
  protected use(mode: Exclude<Mode, "idle">): Engine {
    const engine = this.inner<Engine>();
    if (this.#mode === "stream" || (this.#mode === "push" && mode === "stream")) {
      throw new EhrchainError(
        "StreamInUse",
        this.#mode === "stream"
          ? "this object already drives a TransformStream: one object, one stream (create another for another stream)"
          : "push() was already called on this object: use push/finish or transform(), not both",
      );
    }
    this.#mode = mode;
    return engine;
  }

  /**
   * Processes the next piece; returns the output completed so far (may be
   * empty). Not after {@link RecordStream.transform} (`StreamInUse`).
   */
  push(data: Uint8Array): Uint8Array {
    return this.use("push").push(data);
  }

  /** Processes the end of the stream; returns the remaining output. Afterwards `hash` is set. */
  finish(): Uint8Array {
    return this.use("push").finish();
  }

  /** SHA-256 of the ciphertext (`eh`) once finished; `undefined` before. */
  get hash(): Uint8Array | undefined {
    return this.#hash ?? this.inner<Engine>().hash;
  }

  /**
   * A `TransformStream` driven by this object, for
   * `readable.pipeThrough(obj.transform())`: bounded memory at any size;
   * read `hash` once the output has closed. Callable once, and not after
   * `push` (`StreamInUse`); any damage errors the stream with its code.
   * Runs on WebCrypto where the platform has it (option `engine`).
   */
  transform(): TransformStream<Uint8Array, Uint8Array> {
    return this.transformChunks(false);
  }

  /**
   * @internal `transform()`, told whether its chunks are handed over (the
   * record worker's own slices, never written again: sealed without a copy),
   * and where to hash the ciphertext when WebCrypto seals or opens it
   * (`thread`: a hash worker; dropped if the wasm engine runs instead);
   * `recycle` gets back each input buffer WebCrypto is done with.
   */
  transformChunks(
    ownsChunks: boolean,
    thread?: HashThread,
    recycle?: (buffer: ArrayBuffer) => void,
  ): TransformStream<Uint8Array, Uint8Array> {
    let subtle: SubtleCrypto | undefined;
    let engine: Engine;
    try {
      subtle = resolveEngine(this.#engine);
      engine = this.use("stream");
    } catch (e) {
      thread?.drop();
      throw e;
    }
    if (subtle === undefined) {
      thread?.drop();
      return engine.transform();
    }
    const done = (hash: Uint8Array) => {
      this.#hash = hash;
    };
    const engaged =
      engine instanceof glue.RecordEncryptor
        ? sealingStream(subtle, engine.segments(), done, ownsChunks, thread, recycle)
        : openingStream(subtle, engine, done, ownsChunks, thread, recycle);
    this.#release = engaged.release;
    return engaged.stream;
  }

  /** Releases the WebAssembly memory now, the WebCrypto stream's segment key included. Idempotent. */
  override free(): void {
    this.#release?.();
    super.free();
  }
}

/**
 * Encrypts a record piece by piece and computes `eh = SHA-256(ciphertext)`
 * in the same pass. One object encrypts one record, either by
 * `push`/`finish` or through one `transform()`.
 *
 * **Owns wasm memory** (the record key's segment keys): free it or `using`.
 *
 * ```ts
 * const key = generateRecordKey();
 * const enc = new RecordEncryptor(key, recordAssociatedData({ hospital: "St Mary", time }));
 * const ciphertext = file.stream().pipeThrough(enc.transform());
 * // … once `ciphertext` is fully read: enc.hash is eh
 * ```
 */
export class RecordEncryptor extends RecordStream {
  /**
   * An encryptor for a 16- or 32-byte record key `K_P` and the record's
   * associated data ({@link recordAssociatedData}).
   */
  constructor(key: BytesLike, associatedData: Uint8Array, opts?: EncryptOptions) {
    const o = options(opts, "options", ["segmentSize", "engine"]);
    super("RecordEncryptor", "new RecordEncryptor(key, associatedData)", engineOption(o.engine), () =>
      new glue.RecordEncryptor(key, associatedData, o.segmentSize as number | undefined),
    );
  }
}

/**
 * Decrypts and verifies a record piece by piece, hashing the ciphertext in
 * the same pass. Output of `push` is plaintext of segments that
 * authenticated; the record is whole and verified only once `finish()`
 * returned (or the transform's output closed without error).
 *
 * **Owns wasm memory**: free it or `using`.
 */
export class RecordDecryptor extends RecordStream {
  /** A decryptor for the key and associated data the record was written with. */
  constructor(key: BytesLike, associatedData: Uint8Array, opts?: DecryptOptions) {
    const o = options(opts, "options", ["segmentSize", "expectedHash", "engine"]);
    super("RecordDecryptor", "new RecordDecryptor(key, associatedData)", engineOption(o.engine), () =>
      new glue.RecordDecryptor(
        key,
        associatedData,
        o.segmentSize as number | undefined,
        o.expectedHash as BytesLike | undefined,
      ),
    );
  }
}

/** The associated data that binds a record's ciphertext to its context `(H1, T1)`. */
export function recordAssociatedData(record: RecordContext): Uint8Array {
  const r = object(record, "record");
  return glue.recordAssociatedData(r.hospital as string, r.time as number);
}

/** A fresh 16-byte record key `K_P`. */
export function generateRecordKey(): Uint8Array {
  return glue.generateRecordKey();
}
