// Accounts and key handles: `Key` (a secp256k1 secret in wasm memory),
// addresses and public keys.

import * as glue from "./glue.js";
import { flag, options } from "./args.js";
import { INTERNAL, WasmObject } from "./handle.js";
import type { Address, BytesLike } from "./types.js";

/**
 * A secp256k1 secret key held in WebAssembly memory: an Ethereum account
 * key, or a doctor's or patient's protocol key. The secret never leaves
 * wasm memory unless {@link Key.exportSecret} is called; it is zeroised
 * when freed.
 *
 * **Owns wasm memory**: free it with `key.free()` or `using key = …`.
 *
 * ```ts
 * using key = Key.generate();
 * key.address;                 // "0x…" (EIP-55)
 * key.publicKey();             // 33 bytes, compressed
 * ```
 */
export class Key extends WasmObject {
  private constructor(token: unknown, make: () => glue.Key) {
    super(token, "Key", "Key.generate() or Key.fromBytes(secret)", make);
  }

  /** A fresh key from the platform's CSPRNG (`crypto.getRandomValues`). */
  static generate(): Key {
    return new Key(INTERNAL, () => glue.Key.generate());
  }

  /** Imports a 32-byte secret (`InvalidSecretKey` if zero or not below the group order). */
  static fromBytes(secret: BytesLike): Key {
    return new Key(INTERNAL, () => glue.Key.fromBytes(secret));
  }

  /** @internal Wraps a glue key the package made (e.g. {@link unlockKeys}'). */
  static adopt(make: () => glue.Key): Key {
    return new Key(INTERNAL, make);
  }

  /** @internal The glue key of `value` (a live `Key`), for the package's own calls. */
  static raw(value: unknown, what: string): glue.Key {
    return WasmObject.unwrap<glue.Key>(Key, value, what);
  }

  /** The account's EIP-55 address. */
  get address(): Address {
    return this.inner<glue.Key>().address;
  }

  /**
   * The public key: 33 bytes compressed, or 65 uncompressed with
   * `{ uncompressed: true }` (what eciesjs and ethers' `SigningKey` use).
   */
  publicKey(opts?: { readonly uncompressed?: boolean }): Uint8Array {
    const o = options(opts, "options", ["uncompressed"]);
    return this.inner<glue.Key>().publicKey(flag(o.uncompressed, "options.uncompressed", false));
  }

  /** EIP-191 `personal_sign` of `message` (text: `new TextEncoder().encode(text)`): 65 bytes `r ‖ s ‖ v`, v = 27/28. */
  signMessage(message: Uint8Array): Uint8Array {
    return this.inner<glue.Key>().signMessage(message);
  }

  /** `eth_signTypedData_v4` of typed-data JSON text: 65 bytes `r ‖ s ‖ v`. */
  signTypedData(typedDataJson: string): Uint8Array {
    return this.inner<glue.Key>().signTypedData(typedDataJson);
  }

  /** The 32-byte secret. The caller becomes responsible for it (wipe it with `fill(0)`). */
  exportSecret(): Uint8Array {
    return this.inner<glue.Key>().exportSecret();
  }
}

/** The address of a 33- or 65-byte public key. */
export function addressOf(publicKey: BytesLike): Address {
  return glue.addressOf(publicKey);
}

/** An address in EIP-55 form (`InvalidAddress` if malformed or a wrong checksum). */
export function checksumAddress(address: Address): Address {
  return glue.checksumAddress(address);
}

/** The 33-byte compressed form of a public key. */
export function compressPublicKey(publicKey: BytesLike): Uint8Array {
  return glue.compressPublicKey(publicKey);
}
