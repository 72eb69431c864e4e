// Logs and receipts as ethers 6, viem and raw JSON-RPC give them, read into
// the JSON-RPC form the core decodes. A field that cannot be read is named
// in the error (`logs[3].topics[0]`).

import { EhrchainError, describe } from "./errors.js";

/**
 * A log as `eth_getLogs` (JSON-RPC), ethers 6 (`provider.getLogs`,
 * `receipt.logs`) or viem (`getLogs`, `getContractEvents`) returns it.
 */
export interface LogLike {
  readonly address: string;
  /** Topic hashes, hex as every library gives them. */
  readonly topics: readonly string[];
  /** The log's data, hex as every library gives it. */
  readonly data: string;
  /** JSON-RPC quantity, ethers `number`, viem `bigint`; absent or `null` for a pending log. */
  readonly blockNumber?: string | number | bigint | null;
  readonly transactionHash?: string | null;
  /** JSON-RPC and viem. */
  readonly logIndex?: string | number | bigint | null;
  /** ethers. */
  readonly index?: number;
}

/**
 * A receipt as `eth_getTransactionReceipt` (JSON-RPC), ethers 6
 * (`await tx.wait()`, `provider.getTransactionReceipt`) or viem
 * (`waitForTransactionReceipt`) returns it.
 */
export interface ReceiptLike {
  readonly logs: readonly LogLike[];
  /** JSON-RPC and viem. */
  readonly transactionHash?: string;
  /** ethers. */
  readonly hash?: string;
  readonly blockNumber: string | number | bigint;
  /** `"0x1"`/`"0x0"`, ethers `1`/`0`, viem `"success"`/`"reverted"`. */
  readonly status: string | number | bigint | null;
  readonly gasUsed: string | number | bigint;
  readonly from: string;
  readonly contractAddress?: string | null;
}

/** The JSON-RPC form of a log. */
interface RpcLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string | null;
  transactionHash: string | null;
  logIndex: string | null;
}

function bad(what: string, expected: string, got: unknown): EhrchainError {
  return new EhrchainError("InvalidArgument", `${what} must be ${expected}, got ${describe(got)}`);
}

function text(value: unknown, what: string): string {
  if (typeof value !== "string") throw bad(what, "a hex string", value);
  return value;
}

/** A JSON-RPC quantity from a hex string, a safe integer or a bigint. */
function quantity(value: unknown, what: string): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return `0x${value.toString(16)}`;
  if (typeof value === "bigint" && value >= 0n) return `0x${value.toString(16)}`;
  throw bad(what, "a non-negative integer (number, bigint or hex quantity)", value);
}

function optQuantity(value: unknown, what: string): string | null {
  return value === undefined || value === null ? null : quantity(value, what);
}

function record(value: unknown, what: string, expected: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw bad(what, expected, value);
  return value as Record<string, unknown>;
}

/** @internal One log in JSON-RPC form, or `InvalidArgument` naming the field. */
export function rpcLog(value: unknown, what: string): RpcLog {
  const log = record(value, what, "a log object");
  const topics = log.topics;
  if (!Array.isArray(topics)) throw bad(`${what}.topics`, "an array of hex strings", topics);
  const hash = log.transactionHash;
  return {
    address: text(log.address, `${what}.address`),
    topics: topics.map((t, i) => text(t, `${what}.topics[${i}]`)),
    data: text(log.data, `${what}.data`),
    blockNumber: optQuantity(log.blockNumber, `${what}.blockNumber`),
    transactionHash: hash === undefined || hash === null ? null : text(hash, `${what}.transactionHash`),
    logIndex: optQuantity(log.logIndex ?? log.index, `${what}.logIndex`),
  };
}

/** @internal Every log in JSON-RPC form; `InvalidArgument` naming the first field that cannot be read. */
export function rpcLogs(logs: unknown, what: string): RpcLog[] {
  if (!Array.isArray(logs)) throw bad(what, "an array of logs", logs);
  return logs.map((l, i) => rpcLog(l, `${what}[${i}]`));
}

/** @internal The logs that can be read, in JSON-RPC form; the others are left out (scanning skips junk). */
export function readableLogs(logs: unknown, what: string): RpcLog[] {
  if (!Array.isArray(logs)) throw bad(what, "an array of logs", logs);
  const out: RpcLog[] = [];
  for (const l of logs) {
    try {
      out.push(rpcLog(l, what));
    } catch {
      // Not a log: scanning skips what it cannot read (docs: scanAuthorisations).
    }
  }
  return out;
}

function status(value: unknown, what: string): string {
  if (value === "success") return "0x1";
  if (value === "reverted") return "0x0";
  if (value === null || value === undefined) throw bad(what, "the receipt's status (pre-Byzantium receipts have none)", value);
  return quantity(value, what);
}

/** @internal A receipt in JSON-RPC form, or `InvalidArgument` naming the field. */
export function rpcReceipt(value: unknown, what: string): Record<string, unknown> {
  if (value === null) return null as unknown as Record<string, unknown>; // the core answers TransactionNotFound
  const r = record(value, what, "a receipt object (or null for an unknown transaction)");
  const hash = r.transactionHash ?? r.hash;
  const contract = r.contractAddress;
  return {
    transactionHash: text(hash, `${what}.transactionHash`),
    blockNumber: quantity(r.blockNumber, `${what}.blockNumber`),
    status: status(r.status, `${what}.status`),
    gasUsed: quantity(r.gasUsed, `${what}.gasUsed`),
    from: text(r.from, `${what}.from`),
    contractAddress: contract === undefined || contract === null ? null : text(contract, `${what}.contractAddress`),
    logs: rpcLogs(r.logs, `${what}.logs`),
  };
}
