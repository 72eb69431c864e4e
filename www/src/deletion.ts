// The patient's deletion request (the paper's "delete the record", made
// possible): she tombstones the record on chain from her own account by
// opening its anchor commitment (`markDeletedByPatient`, docs/PROTOCOL.md
// §4.1), then asks the hospital that keeps it to delete the ciphertext
// (`DELETE /v1/records/{eh}`, which the server honours only once the chain
// shows the tombstone). Each step can be repeated: a tombstone already on
// chain is not sent twice, and the server's delete is idempotent.

import { decodeRecordStatus, markDeletedByPatientTx, recordStatusCall, type Handoff } from "ehrchain";
import type { Context } from "./context";
import { endpointOf } from "./directory";
import { deleteRecord } from "./server";

/** How far a deletion got. */
export interface Deletion {
  /** The tombstone transaction's hash, or `undefined` if the chain already showed one. */
  readonly tombstone: string | undefined;
  /** Whether the hospital server removed a stored ciphertext (false: it had none left). */
  readonly removed: boolean;
}

/** Whether the registry already marks `eh` deleted. */
async function tombstoned(ctx: Context, eh: Uint8Array): Promise<boolean> {
  return decodeRecordStatus(await ctx.chain.call(recordStatusCall(ctx.config.registry, eh))).deleted;
}

/**
 * Deletes the record of `handoff`: the tombstone through the wallet (unless
 * already on chain), then the hospital server's copy. `onStep` is told
 * which step runs, for the page's status line.
 */
export async function deleteMyRecord(
  ctx: Context,
  handoff: Handoff,
  onStep: (step: "tombstone" | "server") => void,
  signal?: AbortSignal,
): Promise<Deletion> {
  let tombstone: string | undefined;
  if (!(await tombstoned(ctx, handoff.eh))) {
    onStep("tombstone");
    const receipt = await ctx.wallet.send(markDeletedByPatientTx(ctx.config.registry, handoff), signal);
    tombstone = receipt.transactionHash;
  }
  signal?.throwIfAborted();
  onStep("server");
  const answer = await deleteRecord(await endpointOf(ctx, handoff.hospital), handoff.eh, signal);
  return { tombstone, removed: answer.removed };
}
