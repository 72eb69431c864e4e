// The patient's mask key `k_t` (Alg 4: `X`, `Z`, `K`), granting a doctor
// access (Alg 5: `Trans = (vt, R, ST, C1)`), and the doctor's scanner that finds,
// opens and confirms the grants addressed to him.

import * as glue from "./glue.js";
import { object } from "./args.js";
import type { AnchorOpening, CertifiedAnchor, RegistryAnswers } from "./anchors.js";
import { INTERNAL, WasmObject } from "./handle.js";
import { Key } from "./keys.js";
import type { Address, BytesLike, RecordContext, UnixSeconds } from "./types.js";

/** A masked record as filed with the record server: `{X, Z, K}` (32, 32, 16 or 32 bytes). */
export interface MaskedRecord {
  readonly x: Uint8Array;
  readonly z: Uint8Array;
  readonly k: Uint8Array;
}

/** `tx_id` and `K_P`, unmasked from the server's `{Z, K}`. */
export interface Unmasked {
  readonly txId: Uint8Array;
  readonly recordKey: Uint8Array;
}

/**
 * `Trans = (vt, R, ST, C1)`: an authorisation as {@link authoriseTx} sends it
 * (a view tag, then 33, 33 and 609 bytes).
 */
export interface AuthorisationParts<B extends BytesLike = Uint8Array> {
  /**
   * The view tag: the first byte of `SHA-256("ehrchain/v1/view-tag" ‖ r·A)`,
   * an integer 0–255. A scanner compares it before `st`; it filters, `st` proves.
   */
  readonly viewTag: number;
  readonly r: B;
  readonly st: B;
  readonly c1: B;
}

/** What a grant names: the record's context and hash, and its anchor opening (a {@link Handoff} is one). */
export interface GrantRecord<B extends BytesLike = Uint8Array> extends RecordContext, AnchorOpening<B> {
  readonly eh: B;
}

/**
 * An opened access pass (`Scanner.open`): the record, its anchor opening,
 * the mask key `k_t`, and the account that signed it (the patient, once
 * {@link confirmGrant} accepts it).
 *
 * **Owns wasm memory** (its `maskKey`): free it with `grant.free()` or
 * `using grant = scanner.open(found)`. A copy made by spreading
 * (`{ ...grant }`) shares the same `maskKey`: freeing either frees it.
 */
export interface OpenedGrant extends GrantRecord, Disposable {
  /** The signer's address: the patient, once {@link confirmGrant} accepted the grant. */
  readonly patient: Address;
  /** `k_t`, to compute `X` and unmask `{Z, K}`. Owns wasm memory (freed with the grant). */
  readonly maskKey: MaskKey;
  /** The doctor protocol key the grant names (check it is yours). */
  readonly protocolKey: Uint8Array;
  /** `X`, the record's index at its hospital. */
  readonly x: Uint8Array;
  /** The patient's 65-byte EIP-712 `Grant` signature. */
  readonly signature: Uint8Array;
  /** Frees `maskKey`. */
  free(): void;
}

/** The signed fields of an opened grant that {@link confirmGrant} checks (an {@link OpenedGrant} is one). */
export interface GrantProof<B extends BytesLike = Uint8Array> extends GrantRecord<B> {
  readonly protocolKey: B;
  readonly x: B;
  readonly signature: B;
  /** If present, must be the signer. */
  readonly patient?: Address;
}

/** A patient's wallet signature over {@link MaskKey.grantTypedData}, for {@link MaskKey.authoriseSigned}. */
export interface GrantSignature {
  /** 65 bytes `r ‖ s ‖ v`, or the hex a wallet's `eth_signTypedData_v4` returns. */
  readonly signature: BytesLike;
  /** The patient's address (the signer). */
  readonly patient: Address;
}

function context(record: RecordContext, what: string): [string, UnixSeconds] {
  const r = object(record, what);
  return [r.hospital as string, r.time as number];
}

/**
 * The patient's per-record secret `k_t`. It derives the record's index `X`
 * and the masks of `tx_id` and `K_P` at the record server, and signs grants.
 *
 * **Owns wasm memory**: free it or `using`.
 */
export class MaskKey extends WasmObject {
  private constructor(token: unknown, make: () => glue.MaskKey) {
    super(token, "MaskKey", "MaskKey.generate() or MaskKey.fromBytes(secret)", make);
  }

  /** A fresh random `k_t`. */
  static generate(): MaskKey {
    return new MaskKey(INTERNAL, () => glue.MaskKey.generate());
  }

  /** Imports a 32-byte `k_t`. */
  static fromBytes(secret: BytesLike): MaskKey {
    return new MaskKey(INTERNAL, () => glue.MaskKey.fromBytes(secret));
  }

  /** @internal Wraps a glue mask key the package created. */
  static wrap(raw: glue.MaskKey): MaskKey {
    return new MaskKey(INTERNAL, () => raw);
  }

  /** The 32 secret bytes (the caller becomes responsible for them). */
  exportSecret(): Uint8Array {
    return this.inner<glue.MaskKey>().exportSecret();
  }

  /** `X` for the record: its index at the record server (32 bytes). */
  index(record: RecordContext): Uint8Array {
    return this.inner<glue.MaskKey>().index(...context(record, "record"));
  }

  /** `{X, Z, K}` to file with the record server, from `tx_id` and `K_P` (a {@link Handoff} is such a record). */
  mask(record: RecordContext & { readonly txId: BytesLike; readonly recordKey: BytesLike }): MaskedRecord {
    const r = object(record, "record");
    return this.inner<glue.MaskKey>().mask(
      r.hospital as string,
      r.time as number,
      r.txId as BytesLike,
      r.recordKey as BytesLike,
    ) as MaskedRecord;
  }

  /** `tx_id` and `K_P` from the server's `{Z, K}`. */
  unmask(record: RecordContext, masked: { readonly z: BytesLike; readonly k: BytesLike }): Unmasked {
    const m = object(masked, "masked");
    return this.inner<glue.MaskKey>().unmask(
      ...context(record, "record"),
      m.z as BytesLike,
      m.k as BytesLike,
    ) as Unmasked;
  }

  /**
   * The EIP-712 `Grant` typed data (JSON text for `eth_signTypedData_v4`)
   * the patient signs to grant `record` to the doctor whose protocol key is
   * `doctorKey`; pass the signature to {@link MaskKey.authoriseSigned}.
   */
  grantTypedData(doctorKey: BytesLike, record: GrantRecord<BytesLike> | (RecordContext & { readonly eh: BytesLike })): string {
    return this.inner<glue.MaskKey>().grantTypedData(doctorKey, record as never);
  }

  /** Grants `record` to `doctorKey`, signing with the patient's account key: `Trans` for {@link authoriseTx}. */
  authorise(doctorKey: BytesLike, record: GrantRecord<BytesLike>, patient: Key): AuthorisationParts {
    return this.inner<glue.MaskKey>().authorise(doctorKey, record as never, Key.raw(patient, "patient")) as AuthorisationParts;
  }

  /**
   * As {@link MaskKey.authorise}, with the patient's wallet signature over
   * {@link MaskKey.grantTypedData}; `WrongSigner` unless it is `patient`'s.
   */
  authoriseSigned(doctorKey: BytesLike, record: GrantRecord<BytesLike>, signed: GrantSignature): AuthorisationParts {
    const s = object(signed, "signed");
    return this.inner<glue.MaskKey>().authoriseSigned(
      doctorKey,
      record as never,
      s.signature as never,
      s.patient as string,
    ) as AuthorisationParts;
  }
}

/**
 * The doctor's scanner of authorisations, holding a copy of his protocol
 * secret `a`: tests stealth tags and opens the passes addressed to him.
 *
 * **Owns wasm memory**: free it or `using`.
 */
export class Scanner extends WasmObject {
  /** A scanner for the doctor's protocol key (the key is copied: free both). */
  constructor(protocolKey: Key) {
    super(INTERNAL, "Scanner", "new Scanner(protocolKey)", () => new glue.Scanner(Key.raw(protocolKey, "protocolKey")));
  }

  /** @internal */
  static raw(value: unknown, what: string): glue.Scanner {
    return WasmObject.unwrap<glue.Scanner>(Scanner, value, what);
  }

  /**
   * Whether `(viewTag, R, ST)` is addressed to this key: the view tag is
   * compared first (255 of 256 foreign authorisations stop there), then
   * `ST`. A wrong tag, malformed `R` or wrong `ST` is simply no match; a
   * `viewTag` that is not an integer 0–255 throws (`InvalidArgument`, `OutOfRange`).
   */
  matches(authorisation: { readonly viewTag: number; readonly r: BytesLike; readonly st: BytesLike }): boolean {
    const a = object(authorisation, "authorisation");
    return this.inner<glue.Scanner>().matches(a.viewTag as number, a.r as BytesLike, a.st as BytesLike);
  }

  /**
   * Opens an authorisation addressed to this key (a {@link FoundAuthorisation}
   * passes as it is) and recovers its signer. The grant is genuine only once
   * {@link confirmGrant} accepts it. Free the result (it owns `maskKey`).
   */
  open(authorisation: AuthorisationParts<BytesLike>): OpenedGrant {
    const a = object(authorisation, "authorisation");
    const opened = this.inner<glue.Scanner>().open(a.viewTag as number, a.r as BytesLike, a.st as BytesLike, a.c1 as BytesLike) as unknown as
      Omit<OpenedGrant, "maskKey" | "free" | typeof Symbol.dispose> & { maskKey: glue.MaskKey };
    const maskKey = MaskKey.wrap(opened.maskKey);
    const free = () => maskKey.free();
    return { ...opened, maskKey, free, [Symbol.dispose]: free };
  }
}

/**
 * The doctor's check of an opened grant against its record's anchor:
 * anchored by a doctor certified at the time, not tombstoned, and
 * committing to the grant's signer, type and time. The signer is recovered
 * again from the grant's signed fields, so an edited object cannot name
 * another patient. Throws `GrantForged` (and `RecordNotAnchored`,
 * `RecordDeleted`, `AnchorNotCertified`); returns the anchor.
 */
export function confirmGrant(grant: GrantProof<BytesLike>, answers: RegistryAnswers): CertifiedAnchor {
  const a = object(answers, "answers");
  return glue.confirmGrant(grant as never, a.recordStatus as string, a.certificateStatus as string) as CertifiedAnchor;
}
