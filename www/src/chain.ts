/**
 * Read-only access to the chain: JSON-RPC over `fetch` to `config.rpcUrl`.
 * The wallet only signs and sends; every read (calls, logs, receipts) goes
 * here, so reads work without a wallet and never prompt it.
 */
import {
  certificateStatusCall, decodeRecordStatus, decodeRegistryLogs, keccak256, recordStatusCall,
  type BytesLike, type Hex, type LogLike, type ReceiptLike, type RegistryAnswers, type RegistryEvent, type TxRequest,
} from "ehrchain";
import { PortalError } from "./errors";

/** An `eth_getLogs` filter. */
export interface LogFilter {
  readonly address?: string;
  readonly topics?: readonly (string | readonly string[] | null)[];
  readonly fromBlock?: number | "latest";
  readonly toBlock?: number | "latest";
}

/** A JSON-RPC receipt (hex quantities), as `eth_getTransactionReceipt` answers. */
export type Receipt = ReceiptLike & { readonly transactionHash: Hex; readonly status: string };

/** A JSON-RPC error answer of the node (`code`, `message`, revert `data`). */
export class RpcError extends PortalError {
  /** The JSON-RPC error code. */
  readonly rpcCode: number;
  /** The error's data (revert data of a failed `eth_call`), for `decodeRegistryRevert`. */
  readonly data: unknown;

  /** The node's error `{code, message, data}` for `method`. */
  constructor(method: string, error: { code?: unknown; message?: unknown; data?: unknown }) {
    super("ChainError", `${method}: ${String(error.message ?? "error")}`);
    this.rpcCode = typeof error.code === "number" ? error.code : 0;
    this.data = error.data;
  }
}

/** Blocks per `eth_getLogs` request when scanning events. */
const LOG_PAGE = 10_000;
/** Interval between receipt polls. */
const RECEIPT_POLL_MS = 400;
/** How long `waitForReceipt` waits before giving up (`ReceiptTimeout`). */
const RECEIPT_TIMEOUT_MS = 120_000;

/** `0x`-hex of a block number. */
function quantity(n: number): Hex {
  return `0x${n.toString(16)}`;
}

/** `0x`-lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): Hex {
  return `0x${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** Topic 0 of an event, from its canonical signature. */
export function eventTopic(signature: string): Hex {
  return toHex(keccak256(new TextEncoder().encode(signature)));
}

/** Topics of the registry's certificate events (docs/PROTOCOL.md §13). */
export const DOCTOR_REGISTERED = eventTopic("DoctorRegistered(uint64,address,bytes,uint64,uint64)");
/** Topic of `DoctorRevoked(uint64 indexed serial, uint64 revokedAt)`. */
export const DOCTOR_REVOKED = eventTopic("DoctorRevoked(uint64,uint64)");

/** The chain's JSON-RPC endpoint, read-only. */
export class Chain {
  #id = 0;

  /** A client of the JSON-RPC endpoint `rpcUrl` for the registry `registry`, scanning from `deployBlock`. */
  constructor(
    readonly rpcUrl: string,
    readonly registry: string,
    readonly deployBlock = 0,
  ) {}

  /** One JSON-RPC request (EIP-1193 shape, so `scanInbox` can use this object as its provider). */
  async request(args: { readonly method: string; readonly params?: readonly unknown[] }): Promise<unknown> {
    const body = JSON.stringify({ jsonrpc: "2.0", id: ++this.#id, method: args.method, params: args.params ?? [] });
    let response: Response;
    try {
      response = await fetch(this.rpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body });
    } catch (err) {
      throw new PortalError("ChainUnreachable", `the blockchain node at ${this.rpcUrl} does not answer`, err);
    }
    if (!response.ok) {
      throw new PortalError("ChainUnreachable", `the blockchain node at ${this.rpcUrl} answered HTTP ${response.status}`);
    }
    const json = (await response.json().catch(() => null)) as { result?: unknown; error?: Record<string, unknown> } | null;
    if (json === null) throw new PortalError("ChainError", `${args.method}: the node's answer is not JSON`);
    if (json.error) throw new RpcError(args.method, json.error);
    return json.result;
  }

  /** `eth_call` at the latest block; the answer is hex. Reverts throw an `RpcError` carrying the revert data. */
  async call(tx: TxRequest): Promise<Hex> {
    return (await this.request({ method: "eth_call", params: [{ to: tx.to, data: tx.data }, "latest"] })) as Hex;
  }

  /** The latest block number. */
  async blockNumber(): Promise<number> {
    return Number(await this.request({ method: "eth_blockNumber" }));
  }

  /** `eth_getLogs` for one filter (block numbers as numbers). */
  async getLogs(filter: LogFilter): Promise<LogLike[]> {
    const block = (b: number | "latest" | undefined) => (typeof b === "number" ? quantity(b) : b ?? "latest");
    const params = { ...filter, fromBlock: block(filter.fromBlock), toBlock: block(filter.toBlock) };
    return (await this.request({ method: "eth_getLogs", params: [params] })) as LogLike[];
  }

  /** The registry's events with topic 0 among `topics`, from the deployment block to now, decoded, oldest first. */
  async registryEvents(topics: readonly string[]): Promise<RegistryEvent[]> {
    const latest = await this.blockNumber();
    const logs: LogLike[] = [];
    for (let from = this.deployBlock; from <= latest; from += LOG_PAGE) {
      const to = Math.min(latest, from + LOG_PAGE - 1);
      logs.push(...(await this.getLogs({ address: this.registry, topics: [topics], fromBlock: from, toBlock: to })));
    }
    return decodeRegistryLogs(this.registry, logs, { skipForeign: true });
  }

  /** A transaction's receipt, or `null` while it is pending. */
  async receipt(hash: string): Promise<Receipt | null> {
    return (await this.request({ method: "eth_getTransactionReceipt", params: [hash] })) as Receipt | null;
  }

  /** Polls until the transaction is mined; `ReceiptTimeout` after two minutes, or `signal`'s reason. */
  async waitForReceipt(hash: string, signal?: AbortSignal): Promise<Receipt> {
    const deadline = Date.now() + RECEIPT_TIMEOUT_MS;
    for (;;) {
      const receipt = await this.receipt(hash);
      if (receipt) return receipt;
      if (Date.now() > deadline) throw new PortalError("ReceiptTimeout", `transaction ${hash} is not mined after two minutes`);
      await new Promise((resolve) => setTimeout(resolve, RECEIPT_POLL_MS));
      signal?.throwIfAborted();
    }
  }

  /** The registry's answers about record `eh` (`recordStatus`, then its anchor's `certificateStatus`), for `checkHandoffAnchor`/`confirmGrant`. */
  async answersFor(eh: BytesLike): Promise<RegistryAnswers> {
    const recordStatus = await this.call(recordStatusCall(this.registry, eh));
    const { serial } = decodeRecordStatus(recordStatus);
    return { recordStatus, certificateStatus: await this.call(certificateStatusCall(this.registry, serial)) };
  }
}
