// Locally signed EIP-1559 transactions, for `eth_sendRawTransaction`
// without a wallet (e.g. a patient's one-time account for a grant).

import * as glue from "./glue.js";
import { object } from "./args.js";
import { EhrchainError, describe } from "./errors.js";
import { Key } from "./keys.js";
import type { Address, Hex } from "./types.js";

/** An integer a wallet or ethers gives: a safe-integer `number`, a `bigint`, or a decimal string (wei). */
export type Quantity = number | bigint | string;

/** The fields of an EIP-1559 transaction to sign. */
export interface TxFields {
  readonly chainId: number | bigint;
  readonly nonce: number | bigint;
  /** The gas limit. */
  readonly gas: number | bigint;
  /** Wei. */
  readonly maxFeePerGas: Quantity;
  /** Wei. */
  readonly maxPriorityFeePerGas: Quantity;
  /** Wei (default 0). */
  readonly value?: Quantity;
  /** The callee; absent or `null` to deploy. */
  readonly to?: Address | null;
  /** Calldata hex (default empty); a {@link TxRequest}'s `data`. */
  readonly data?: Hex | string;
}

/** A locally signed transaction. */
export interface SignedTx {
  /** For `eth_sendRawTransaction`. */
  readonly raw: Hex;
  /** Its hash (`tx_id` for an anchoring). */
  readonly hash: Hex;
  /** The signer's address. */
  readonly from: Address;
}

function int(value: unknown, what: string): number {
  if (typeof value === "bigint" && value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
  if (typeof value === "number") return value; // the core checks the range
  throw new EhrchainError("InvalidArgument", `tx.${what} must be a non-negative integer, got ${describe(value)}`);
}

function wei(value: unknown, what: string): string | number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string" || typeof value === "number") return value;
  throw new EhrchainError("InvalidArgument", `tx.${what} must be wei (bigint, number or decimal string), got ${describe(value)}`);
}

/** Signs an EIP-1559 transaction with `key`; `{raw, hash, from}` for `eth_sendRawTransaction`. */
export function signTransaction(key: Key, tx: TxFields): SignedTx {
  const t = object(tx, "tx");
  const fields = {
    chainId: int(t.chainId, "chainId"),
    nonce: int(t.nonce, "nonce"),
    gas: int(t.gas, "gas"),
    maxFeePerGas: wei(t.maxFeePerGas, "maxFeePerGas"),
    maxPriorityFeePerGas: wei(t.maxPriorityFeePerGas, "maxPriorityFeePerGas"),
    value: wei(t.value, "value"),
    to: t.to,
    data: t.data,
  };
  return glue.signTransaction(Key.raw(key, "key"), fields as never) as unknown as SignedTx;
}
