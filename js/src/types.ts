// The conventions every export follows, as types.

/**
 * A fixed-size value as the package takes it (a key, hash, signature,
 * salt, `X`, `Z`, `K`, a sealed blob): a `Uint8Array`, or hex text with or
 * without a `0x`/`0X` prefix, digits in either case (what a wallet or a
 * JSON-RPC node returns). Content (messages, plaintext, data to hash,
 * associated data, stream chunks) is a `Uint8Array` only, so a string is
 * never guessed to be text or hex. Bytes the package returns are always
 * `Uint8Array`.
 */
export type BytesLike = Uint8Array | string;

/**
 * `0x`-prefixed lowercase hex: only for values that go to or come from a
 * wallet or a JSON-RPC node as they are (transaction `data`, raw
 * transactions, transaction hashes, topics).
 */
export type Hex = `0x${string}`;

/**
 * An Ethereum address: `0x` (optional on input) and 40 hex digits; mixed
 * case must be a valid EIP-55 checksum. Returned in EIP-55 form.
 */
export type Address = string;

/**
 * A point in time as Unix **seconds** (`Math.floor(Date.now() / 1000)`),
 * an integer. Values of 10^11 and more are refused as milliseconds
 * (`TimeInMilliseconds`).
 */
export type UnixSeconds = number;

/**
 * An unsigned integer from the chain or another party: a `number` up to
 * 2^53-1, a `bigint` beyond (never rounded). Accepted as either.
 */
export type Uint64 = number | bigint;

/** A record's context `(H1, T1)`: the hospital's name and the record's time. */
export interface RecordContext {
  /** `H1`, the hospital's name as the record server knows it. */
  readonly hospital: string;
  /** `T1`, the record's time. */
  readonly time: UnixSeconds;
}
