// The registry's reverts, named: what ethers shows as "unknown custom error
// 0x31212686" becomes `Reverted` naming `NotCertifiedDoctor(7)`.

import * as glue from "./glue.js";
import type { EhrchainError } from "./errors.js";
import type { BytesLike } from "./types.js";

/** Where ethers 6, viem and EIP-1193 providers put revert data in their errors. */
const NESTED = ["data", "error", "info", "cause", "raw", "revert", "details"] as const;

/** Hex strings found in `value` and the objects it nests (breadth first, bounded). */
function candidates(value: unknown): string[] {
  const found: string[] = [];
  const queue: unknown[] = [value];
  const seen = new Set<unknown>();
  while (queue.length > 0 && seen.size < 64) {
    const v = queue.shift();
    if (typeof v === "string") {
      if (/^0x[0-9a-fA-F]{8,}$/.test(v)) found.push(v);
    } else if (v instanceof Uint8Array) {
      found.push(`0x${Array.from(v, (b) => b.toString(16).padStart(2, "0")).join("")}`);
    } else if (typeof v === "object" && v !== null && !seen.has(v)) {
      seen.add(v);
      for (const key of NESTED) {
        try {
          queue.push((v as Record<string, unknown>)[key]);
        } catch {
          // A throwing getter is not revert data.
        }
      }
    }
  }
  return found;
}

/**
 * The registry's custom error in revert data, as the package's `Reverted`
 * error naming it (`err.revert` holds the name, signature and arguments);
 * `undefined` if there is none. Takes the revert data itself (hex or
 * bytes) or the error a failed call threw (ethers 6, viem, an EIP-1193
 * provider), so a dapp can write:
 *
 * ```ts
 * try { await contract.anchorRecord(…) } catch (e) { throw decodeRegistryRevert(e) ?? e; }
 * ```
 */
export function decodeRegistryRevert(errorOrData: BytesLike | unknown): EhrchainError | undefined {
  for (const data of candidates(errorOrData)) {
    const decoded = glue.decodeRegistryRevert(data) as EhrchainError | undefined;
    if (decoded !== undefined) return decoded;
  }
  return undefined;
}
