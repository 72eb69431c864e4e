// Unlocking a protocol key with a wallet (docs/PROTOCOL.md §15): the key
// that receives grants and handoffs is derived from the account's
// `personal_sign` signature of a fixed text, never stored.

import * as glue from "./glue.js";
import { Key } from "./keys.js";
import type { Address, BytesLike } from "./types.js";

/** What {@link unlockKeys} derives from a wallet signature. */
export interface UnlockedKeys {
  /** The account's protocol key (owns wasm memory: `free()` it when the session ends). */
  readonly protocolKey: Key;
  /**
   * 32 bytes to wrap the app's locally stored secrets (e.g.
   * `crypto.subtle.importKey("raw", storageKey, "AES-GCM", false, […])`);
   * wipe it with `fill(0)` once imported.
   */
  readonly storageKey: Uint8Array;
}

/**
 * The text `account` signs with its wallet's `personal_sign` (EIP-191) to
 * unlock its protocol key: fixed but for the account's EIP-55 address, and
 * saying what the signature does. `InvalidAddress` for a malformed account.
 *
 * ```ts
 * const text = unlockMessage(account);
 * const signature = await ethereum.request({ method: "personal_sign",
 *   params: [bytesToHex(new TextEncoder().encode(text)), account] });
 * const { protocolKey, storageKey } = unlockKeys(account, signature);
 * ```
 */
export function unlockMessage(account: Address): string {
  return glue.unlockMessage(account);
}

/**
 * Derives `account`'s protocol key and storage key from its signature of
 * {@link unlockMessage}`(account)`. Wallets sign deterministically (RFC
 * 6979), so the same account gives the same keys on every device.
 * `WrongSigner` if the signature is not `account`'s over that text;
 * `InvalidSignature` if it is malformed.
 */
export function unlockKeys(account: Address, signature: BytesLike): UnlockedKeys {
  const out = glue.unlockKeys(account, signature) as { protocolKey: glue.Key; storageKey: Uint8Array };
  return { protocolKey: Key.adopt(() => out.protocolKey), storageKey: out.storageKey };
}
