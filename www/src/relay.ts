// Posting a grant through a hospital's relayer (server/README.md,
// `POST /v1/relay/authorise`): the registry then sees the relayer's account
// as the sender, so the patient's grants cannot be linked to her account or
// to each other on chain. The relayer still sees her connection (its IP).

import type { AuthorisationParts } from "ehrchain";
import { ServerError, toHex } from "./server";

/** What a relayer answers once the `authorise` transaction is mined. */
export interface Relayed {
  /** The authorisation transaction's hash. */
  readonly transactionHash: string;
  /** The block it was mined in. */
  readonly blockNumber: number;
}

/**
 * Asks the record server at `endpoint` to send `authorise(viewTag, R, ST, C1)`
 * from its own account. Refusals are `ServerError`s (`RelayNotConfigured`
 * when the hospital runs no relayer, `RateLimited`, `Reverted`…);
 * `ServerUnreachable` when it does not answer.
 */
export async function relayAuthorisation(endpoint: string, parts: AuthorisationParts, signal?: AbortSignal): Promise<Relayed> {
  const body = JSON.stringify({ viewTag: parts.viewTag, r: toHex(parts.r), st: toHex(parts.st), c1: toHex(parts.c1) });
  let response: Response;
  try {
    response = await fetch(`${endpoint}/v1/relay/authorise`, {
      method: "POST",
      body,
      headers: { "Content-Type": "application/json" },
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw new ServerError("ServerUnreachable", `The hospital server at ${endpoint} does not answer.`, 0, endpoint);
  }
  const answer = (await response.json().catch(() => undefined)) as
    | { code?: string; message?: string; transactionHash?: string; blockNumber?: number }
    | undefined;
  if (!response.ok || !answer || typeof answer.transactionHash !== "string") {
    const retryAfter = Number(response.headers.get("Retry-After")) || undefined;
    throw new ServerError(answer?.code ?? "HttpStatus", answer?.message ?? `HTTP ${response.status}`, response.status, endpoint, retryAfter);
  }
  return { transactionHash: answer.transactionHash, blockNumber: Number(answer.blockNumber ?? 0) };
}
