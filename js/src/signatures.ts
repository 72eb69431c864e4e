// EIP-191 personal messages and EIP-712 typed data: hashing and recovery.

import * as glue from "./glue.js";
import type { Address, BytesLike } from "./types.js";

/** The EIP-191 hash of a personal message. */
export function hashMessage(message: Uint8Array): Uint8Array {
  return glue.hashMessage(message);
}

/** The address that `personal_sign`ed `message` with the 65-byte `signature`. */
export function recoverMessage(message: Uint8Array, signature: BytesLike): Address {
  return glue.recoverMessage(message, signature);
}

/** The EIP-712 signing hash of typed-data JSON text. */
export function hashTypedData(typedDataJson: string): Uint8Array {
  return glue.hashTypedData(typedDataJson);
}

/** The address that signed typed-data JSON text (`eth_signTypedData_v4`). */
export function recoverTypedData(typedDataJson: string, signature: BytesLike): Address {
  return glue.recoverTypedData(typedDataJson, signature);
}
