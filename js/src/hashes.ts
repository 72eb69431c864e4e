// Hashes: SHA-256, SHA3-256, Keccak-256, HMAC-SHA-256 and the protocol's `h1`.

import * as glue from "./glue.js";
import type { BytesLike } from "./types.js";

/** SHA-256 of `data`: 32 bytes. */
export function sha256(data: Uint8Array): Uint8Array {
  return glue.sha256(data);
}

/** SHA3-256 (FIPS 202) of `data`: 32 bytes. */
export function sha3_256(data: Uint8Array): Uint8Array {
  return glue.sha3_256(data);
}

/** Keccak-256 (Ethereum's hash) of `data`: 32 bytes. */
export function keccak256(data: Uint8Array): Uint8Array {
  return glue.keccak256(data);
}

/** HMAC-SHA-256 of `message` under `key`: 32 bytes. */
export function hmacSha256(key: BytesLike, message: Uint8Array): Uint8Array {
  return glue.hmacSha256(key, message);
}

/** `h1(P)` (docs/PROTOCOL.md §3): a point (33 or 65 bytes) to a 32-byte scalar. */
export function h1(point: BytesLike): Uint8Array {
  return glue.h1(point);
}
