// Reading the JS-shaped arguments the core cannot see: options objects and
// the plain objects a caller builds. Values themselves (bytes, integers,
// addresses) are checked by the core, which names the argument.

import { invalidArgument, describe } from "./errors.js";

/** @internal A non-null, non-array object, or `InvalidArgument` naming `what`. */
export function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw invalidArgument(what, "an object", value);
  }
  return value as Record<string, unknown>;
}

/**
 * @internal An options object: `undefined` (all defaults) or an object
 * whose keys are among `known`; an unknown key (a typo) is `InvalidArgument`
 * naming it, so a misspelt option is never silently ignored.
 */
export function options<K extends string>(
  value: unknown,
  what: string,
  known: readonly K[],
  required = false,
): Partial<Record<K, unknown>> {
  if (value === undefined && !required) return {};
  const obj = object(value, what);
  for (const key of Object.keys(obj)) {
    if (!(known as readonly string[]).includes(key)) {
      throw invalidArgument(`${what}.${key}`, `one of the known options (${known.join(", ")})`);
    }
  }
  return obj as Partial<Record<K, unknown>>;
}

/** @internal An optional boolean option (absent = `fallback`). */
export function flag(value: unknown, what: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw invalidArgument(what, "a boolean", value);
  return value;
}

/** @internal An array, or `InvalidArgument` naming `what`. */
export function array(value: unknown, what: string): readonly unknown[] {
  if (!Array.isArray(value)) throw invalidArgument(what, "an array", value);
  return value;
}

export { describe };
