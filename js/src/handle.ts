// The life of an object that owns WebAssembly memory: used until freed,
// freed once (a second free is a no-op), and every use after that a typed
// `ObjectFreed` error instead of the glue's "null pointer passed to rust".

import { EhrchainError, describe } from "./errors.js";

/** What the generated glue's classes have in common. */
interface Freeable {
  free(): void;
}

/** @internal Passed by the package's own factories; `new Key()` from outside has none. */
export const INTERNAL: unique symbol = Symbol("ehrchain.internal");

/**
 * An object that owns WebAssembly memory (a secret key, a stream's state).
 * Free it with `free()` or `using` (TypeScript ≥ 5.2, `lib: esnext.disposable`)
 * as soon as it is no longer needed: secrets are zeroised when freed.
 * Garbage collection frees it too, at an unknown time. `free()` is
 * idempotent; any other use after it throws `ObjectFreed`.
 */
export abstract class WasmObject implements Disposable {
  #raw: Freeable | undefined;
  readonly #kind: string;

  /** @internal */
  protected constructor(token: unknown, kind: string, hint: string, raw: () => Freeable) {
    if (token !== INTERNAL) {
      throw new EhrchainError("NotConstructible", `${kind} has no public constructor: use ${hint}`);
    }
    this.#kind = kind;
    this.#raw = raw();
  }

  /** Whether `free()` was called (the object can no longer be used). */
  get freed(): boolean {
    return this.#raw === undefined;
  }

  /** Releases the WebAssembly memory now (zeroising any secret in it). Idempotent. */
  free(): void {
    const raw = this.#raw;
    this.#raw = undefined;
    raw?.free();
  }

  /** `using` support: the same as {@link WasmObject.free}. */
  [Symbol.dispose](): void {
    this.free();
  }

  /** @internal The glue object, or `ObjectFreed`. */
  protected inner<T extends Freeable>(): T {
    if (this.#raw === undefined) {
      throw new EhrchainError("ObjectFreed", `this ${this.#kind} was freed; it can no longer be used`);
    }
    return this.#raw as T;
  }

  /**
   * @internal The glue object of `value`, which must be a live instance of
   * `cls`: `InvalidArgument` naming `what` for anything else (including an
   * object that only pretends to be one), `ObjectFreed` once freed.
   */
  protected static unwrap<T extends Freeable>(
    // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
    cls: Function & { readonly prototype: WasmObject },
    value: unknown,
    what: string,
  ): T {
    if (!(value instanceof WasmObject) || !(value instanceof cls)) {
      throw new EhrchainError("InvalidArgument", `argument ${what} must be a ${cls.name}, got ${describe(value)}`);
    }
    if (!(#raw in value)) {
      throw new EhrchainError("InvalidArgument", `argument ${what} must be a ${cls.name} made by this package, not an imitation`);
    }
    return value.inner<T>();
  }
}
