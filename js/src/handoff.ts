// The doctor-to-patient handoff of a new record (docs/PROTOCOL.md §10):
// `tx_id`, `K_P`, the filing secret, `eh` and the anchor opening, sealed to
// the patient's key.

import * as glue from "./glue.js";
import { object } from "./args.js";
import type { AnchorOpening, CertifiedAnchor, RegistryAnswers } from "./anchors.js";
import { Key } from "./keys.js";
import type { Address, BytesLike, RecordContext } from "./types.js";

/** A new record's handoff: everything the patient needs to file and grant it. */
export interface Handoff<B extends BytesLike = Uint8Array> extends RecordContext, AnchorOpening<B> {
  /** `tx_id`, the anchoring transaction's hash (32 bytes). */
  readonly txId: B;
  /** `K_P`, the record key (16 or 32 bytes). */
  readonly recordKey: B;
  /** `F`, the filing secret (32 bytes) that lets her file `{X, Z, K}`. */
  readonly filingSecret: B;
  /** `eh`, SHA-256 of the ciphertext. */
  readonly eh: B;
}

/** Seals a handoff to the patient's public key (33 or 65 bytes): the bytes to give her. */
export function sealHandoff(patientPublicKey: BytesLike, handoff: Handoff<BytesLike>): Uint8Array {
  return glue.sealHandoff(patientPublicKey, handoff as never);
}

/** Opens a sealed handoff with the patient's protocol key. Check it with {@link checkHandoffAnchor} before filing. */
export function openHandoff(patient: Key, sealed: BytesLike): Handoff {
  return glue.openHandoff(Key.raw(patient, "patient"), sealed) as Handoff;
}

/**
 * The patient's check of a handoff's anchor: anchored by a doctor certified
 * at the time, not tombstoned, and committing to her address `patient`,
 * the handoff's record type and time. Throws `RecordNotAnchored`,
 * `RecordDeleted`, `AnchorNotCertified` or `AnchorMismatch`.
 */
export function checkHandoffAnchor(
  handoff: Handoff<BytesLike>,
  patient: Address,
  answers: RegistryAnswers,
): CertifiedAnchor {
  const a = object(answers, "answers");
  return glue.checkHandoffAnchor(
    handoff as never,
    patient,
    a.recordStatus as string,
    a.certificateStatus as string,
  ) as CertifiedAnchor;
}

/** A fresh 32-byte filing secret `F`: upload with {@link filingCommitment}`(F)`, seal `F` in the handoff. */
export function generateFilingSecret(): Uint8Array {
  return glue.generateFilingSecret();
}

/** `SHA-256("ehrchain/v1/filing" ‖ F)`, what the record server is given at upload. */
export function filingCommitment(filingSecret: BytesLike): Uint8Array {
  return glue.filingCommitment(filingSecret);
}
