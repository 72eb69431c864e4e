// ECIES on secp256k1 in the eciesjs / eciespy format (docs/PROTOCOL.md §6).

import * as glue from "./glue.js";
import { Key } from "./keys.js";
import type { BytesLike } from "./types.js";

/** Encrypts `plaintext` to a 33- or 65-byte public key: `ephemeral key ‖ nonce ‖ tag ‖ ciphertext`. */
export function eciesSeal(recipient: BytesLike, plaintext: Uint8Array): Uint8Array {
  return glue.eciesSeal(recipient, plaintext);
}

/** Decrypts an ECIES ciphertext with the recipient's key (`EciesDecryptFailed` if it does not open). */
export function eciesOpen(key: Key, ciphertext: BytesLike): Uint8Array {
  return glue.eciesOpen(Key.raw(key, "key"), ciphertext);
}
