// What every export throws: one error class with a stable `code`.

import type { ErrorCode } from "./glue.js";
import * as glue from "./glue.js";

export type { ErrorCode };

/**
 * What every export of the package throws (and every stream errors with):
 * `err.name === "EhrchainError"` and `err.code` one of {@link ErrorCode},
 * stable across versions (docs/PROTOCOL.md §11). Branch on `code`, show
 * `message` (it never contains secrets or record contents).
 *
 * ```ts
 * try { dec.finish(); } catch (e) {
 *   if (e instanceof EhrchainError && e.code === "HashMismatch") …
 * }
 * ```
 *
 * Errors raised inside the WebAssembly core are plain `Error` objects with
 * that name and a `code`; `instanceof EhrchainError` is true for them too.
 */
export class EhrchainError extends Error {
  /** The stable, machine-readable code. */
  readonly code: ErrorCode;
  /** For `Reverted` errors decoded from the registry's revert data: the contract error. */
  readonly revert?: RegistryRevert;

  /** An error with `code` and a message saying what to do. */
  constructor(code: ErrorCode, message: string, revert?: RegistryRevert) {
    super(message);
    this.name = "EhrchainError";
    this.code = code;
    if (revert !== undefined) this.revert = revert;
  }

  /** True for this class and for the core's errors (an `Error` named `EhrchainError` with a `code`). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return (
      value instanceof Error &&
      value.name === "EhrchainError" &&
      typeof (value as { code?: unknown }).code === "string"
    );
  }
}

/** A registry custom error, decoded from revert data (see {@link decodeRegistryRevert}). */
export interface RegistryRevert {
  /** The error's name in `contracts/EhrRegistry.sol`, e.g. `"NotCertifiedDoctor"`. */
  readonly name: string;
  /** Its canonical signature, e.g. `"NotCertifiedDoctor(uint64)"`. */
  readonly signature: string;
  /** Its arguments, in order: integers as `number`/`bigint`, `bytes32` as `Uint8Array`. */
  readonly args: readonly (number | bigint | Uint8Array)[];
}

/** Every code an {@link EhrchainError} can carry, in the order of docs/PROTOCOL.md §11. */
export function errorCodes(): ErrorCode[] {
  return glue.errorCodes();
}

/** @internal An argument of the wrong type: `InvalidArgument` naming it. */
export function invalidArgument(what: string, expected: string, got?: unknown): EhrchainError {
  const seen = got === undefined ? "" : `, got ${describe(got)}`;
  return new EhrchainError("InvalidArgument", `argument ${what} must be ${expected}${seen}`);
}

/** @internal A short, secret-free description of a value's type for messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (value instanceof Uint8Array) return `a Uint8Array of ${value.length} bytes`;
  switch (typeof value) {
    case "object": {
      const name = (value as object).constructor?.name;
      return name && name !== "Object" ? `a ${name}` : "an object";
    }
    case "string":
      return "a string";
    case "undefined":
      return "undefined";
    default:
      return `a ${typeof value}`;
  }
}
