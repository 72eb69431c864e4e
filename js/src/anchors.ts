// The record anchor (docs/PROTOCOL.md §4.1): its commitment, and the
// anchoring rule applied to the registry's answers.

import * as glue from "./glue.js";
import { object } from "./args.js";
import type { Address, BytesLike, Uint64 } from "./types.js";

/**
 * The registry's `eth_call` answers about one record, hex text as the node
 * returns them: `recordStatus` for {@link recordStatusCall}`(registry, eh)`,
 * `certificateStatus` for {@link certificateStatusCall}`(registry, <the anchor's serial>)`
 * (the serial is the record status's `serial`).
 */
export interface RegistryAnswers {
  readonly recordStatus: string;
  readonly certificateStatus: string;
}

/** A record anchor that passed the anchoring rule: anchored by a doctor certified at the time, not tombstoned. */
export interface CertifiedAnchor {
  readonly eh: Uint8Array;
  /** The anchoring doctor's account. */
  readonly doctor: Address;
  /** His certificate's serial. */
  readonly serial: Uint64;
  /** `T1` as anchored. */
  readonly recordTime: Uint64;
  /** The block time of the anchoring. */
  readonly anchoredAt: Uint64;
}

/** What an anchor commitment commits to (docs/PROTOCOL.md §4.1). */
export interface AnchorOpening<B extends BytesLike = Uint8Array> {
  /** 32 random bytes ({@link generateAnchorSalt}), sealed to the patient in the handoff. */
  readonly anchorSalt: B;
  /** The record type `Ty1`: printable ASCII, at most 32 bytes (e.g. `"radiology"`). */
  readonly recordType: string;
}

/** 32 random bytes for a new record's anchor commitment. */
export function generateAnchorSalt(): Uint8Array {
  return glue.generateAnchorSalt();
}

/**
 * `SHA-256("ehrchain/v1/anchor" ‖ salt ‖ doctor ‖ patient ‖ u8 len(Ty1) ‖ Ty1)`:
 * what {@link anchorRecordTx} anchors instead of the record type. `doctor`
 * is the anchoring (certified) account, `patient` the patient's.
 */
export function anchorCommitment(
  commitment: AnchorOpening<BytesLike> & { readonly doctor: Address; readonly patient: Address },
): Uint8Array {
  const c = object(commitment, "commitment");
  return glue.anchorCommitment(c.anchorSalt as BytesLike, c.doctor as string, c.patient as string, c.recordType as string);
}

/**
 * The anchoring rule on the registry's answers for `eh`; returns the
 * anchor. Throws `RecordNotAnchored`, `RecordDeleted` or `AnchorNotCertified`.
 */
export function confirmAnchor(eh: BytesLike, answers: RegistryAnswers): CertifiedAnchor {
  const a = object(answers, "answers");
  return glue.confirmAnchor(eh, a.recordStatus as string, a.certificateStatus as string) as CertifiedAnchor;
}
