// Streaming record encryption (Alg 4 step 1, docs/PROTOCOL.md §8): the Tink
// AES-GCM-HKDF streaming format, hashed in the same pass (`eh`).

import * as glue from "./glue.js";
import { object, options } from "./args.js";
import { EhrchainError } from "./errors.js";
import { INTERNAL, WasmObject } from "./handle.js";
import type { BytesLike, RecordContext } from "./types.js";

/** Options of {@link RecordEncryptor}. */
export interface EncryptOptions {
  /** Ciphertext segment size in bytes (default 1 MiB = 1048576; at most 64 MiB). */
  readonly segmentSize?: number;
}

/** Options of {@link RecordDecryptor}. */
export interface DecryptOptions {
  /** The segment size the record was written with (default 1 MiB). */
  readonly segmentSize?: number;
  /** The anchored `eh`: `finish()` throws `HashMismatch` unless SHA-256 of the ciphertext equals it. */
  readonly expectedHash?: BytesLike;
}

type Engine = glue.RecordEncryptor | glue.RecordDecryptor;

/** How a stream object is driven: not yet, by `push`/`finish`, or by one `transform()`. */
type Mode = "idle" | "push" | "stream";

abstract class RecordStream extends WasmObject {
  #mode: Mode = "idle";

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
    return this.inner<Engine>().hash;
  }

  /**
   * A `TransformStream` driven by this object, for
   * `readable.pipeThrough(obj.transform())`: bounded memory at any size;
   * read `hash` once the output has closed. Callable once, and not after
   * `push` (`StreamInUse`); any damage errors the stream with its code.
   */
  transform(): TransformStream<Uint8Array, Uint8Array> {
    return this.use("stream").transform();
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
    const o = options(opts, "options", ["segmentSize"]);
    super(INTERNAL, "RecordEncryptor", "new RecordEncryptor(key, associatedData)", () =>
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
    const o = options(opts, "options", ["segmentSize", "expectedHash"]);
    super(INTERNAL, "RecordDecryptor", "new RecordDecryptor(key, associatedData)", () =>
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
