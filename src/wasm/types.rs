//! TypeScript declarations of the plain objects the bindings take and return.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Bytes as the bindings take them: a `Uint8Array`, or hex text with or
 *  without `0x`/`0X`, digits in either case (docs/PROTOCOL.md §1).
 *  Messages, plaintexts, hash inputs and associated data take a
 *  `Uint8Array` only (a string there would be ambiguous with text). */
export type BytesLike = Uint8Array | string;
/** Integers from the chain or from other parties' data are `number` up to
 *  2^53-1 and `bigint` beyond (never rounded). */
export type Uint64 = number | bigint;
/** A masked record as filed with the record server: `{X, Z, K}`. */
export interface MaskedRecord { x: Uint8Array; z: Uint8Array; k: Uint8Array }
/** `tx_id` and `K_P`, unmasked. */
export interface Unmasked { txId: Uint8Array; recordKey: Uint8Array }
/** `Trans = (vt, R, ST, C1)`: `viewTag` is the one-byte view tag (0–255). */
export interface AuthorisationParts { viewTag: number; r: Uint8Array; st: Uint8Array; c1: Uint8Array }
/** What a grant names: the record's context and hash, and the opening of
 *  its anchor commitment (a `Handoff` is one). */
export interface GrantRecord {
  hospital: string; time: number; eh: Uint8Array | string; anchorSalt?: Uint8Array | string; recordType?: string;
}
/** An opened access pass: the record, its anchor opening, `k_t`, and the
 *  account that signed it (the patient, once `confirmGrant` accepts it). */
export interface OpenedGrant {
  hospital: string; time: number; eh: Uint8Array; patient: string;
  anchorSalt: Uint8Array; recordType: string; maskKey: MaskKey;
  /** What the patient signed (`confirmGrant` recovers her from these again). */
  protocolKey: Uint8Array; x: Uint8Array; signature: Uint8Array;
}
/** An opened doctor-to-patient handoff. */
export interface Handoff {
  hospital: string; time: number; txId: Uint8Array; recordKey: Uint8Array; filingSecret: Uint8Array;
  eh: Uint8Array; anchorSalt: Uint8Array; recordType: string;
}
/** A record anchor that passed the anchoring rule (docs/PROTOCOL.md §4.1). */
export interface CertifiedAnchor { eh: Uint8Array; doctor: string; serial: Uint64; recordTime: Uint64; anchoredAt: Uint64 }
/** The facts a certificate binds. */
export interface CertificateFields {
  doctor: string; protocolKey: Uint8Array; hospital: string;
  validFrom: number; validUntil: number; serial: number;
}
/** A transaction request for a wallet's `eth_sendTransaction` or `eth_call`. */
export interface TxRequest { to: string; data: string }
/** Fields of an EIP-1559 transaction to sign locally. */
export interface TxFields {
  chainId: number; nonce: number; gas: number;
  maxFeePerGas: string | number; maxPriorityFeePerGas: string | number;
  value?: string | number; to?: string; data?: string;
}
/** A locally signed transaction. */
export interface SignedTx { raw: string; hash: string; from: string }
/** `recordStatus(eh)` decoded. `commitment` is the anchor commitment. */
export interface RecordStatus {
  anchored: boolean; anchoredBy: string; serial: Uint64; anchoredAt: Uint64; commitment: Uint8Array;
  recordTime: Uint64; deleted: boolean; deletedAt: Uint64;
}
/** `certificateStatus(serial)` decoded; `registered` is false for an unknown serial. */
export interface CertificateStatus {
  registered: boolean; doctor: string; validFrom: Uint64; validUntil: Uint64;
  revoked: boolean; revokedAt: Uint64;
}
/** Where a decoded registry event was found (absent for a pending log). */
export interface LogPosition { transactionHash?: string; blockNumber?: Uint64 }
/** One of the registry's events, decoded from a JSON-RPC log; bytes are
 *  `Uint8Array`, addresses EIP-55 text. */
export type RegistryEvent = LogPosition & (
  | { event: "DoctorRegistered"; serial: Uint64; doctor: string; protocolKey: Uint8Array; validFrom: Uint64; validUntil: Uint64 }
  | { event: "DoctorRevoked"; serial: Uint64; revokedAt: Uint64 }
  | { event: "RecordAnchored"; eh: Uint8Array; anchoredBy: string; serial: Uint64; commitment: Uint8Array; recordTime: Uint64; anchoredAt: Uint64 }
  | { event: "RecordDeleted"; eh: Uint8Array; deletedBy: string; deletedAt: Uint64 }
  | { event: "Authorised"; seq: Uint64; viewTag: number; r: Uint8Array; st: Uint8Array; c1: Uint8Array }
);
/** A registry custom error decoded from revert data: integers are
 *  `number` up to 2^53-1 and `bigint` beyond, `bytes32` a `Uint8Array`. */
export interface RegistryRevert { name: string; signature: string; args: Array<Uint64 | Uint8Array> }
/** What `decodeRegistryRevert` returns for a registry error: the
 *  `EhrchainError` a reverted call is, with the decoded error. */
export interface RegistryRevertError extends EhrchainError { code: "Reverted"; revert: RegistryRevert }
/** An `Authorised` event addressed to the scanning doctor's key. */
export interface FoundAuthorisation {
  seq: Uint64; viewTag: number; r: Uint8Array; st: Uint8Array; c1: Uint8Array; transactionHash: string | null;
  /** The block that contains it (`null` for a pending log). */
  blockNumber: Uint64 | null;
}
/** A new upload as a signed upload request names it: `filing` is
 *  `filingCommitment(F)`; `now` and `ttl` are Unix seconds. */
export interface UploadFields {
  hospital: string; eh: Uint8Array | string; size: number; filing: Uint8Array | string; now: number; ttl: number;
}
/** What a server learns from a verified access request. */
export interface VerifiedRequest { doctor: string; serial: number; w: Uint8Array; nonce: Uint8Array; expiry: number }
"#;

#[wasm_bindgen(typescript_custom_section)]
const TS_ERROR_CODES: &'static str = crate::error::TYPESCRIPT_CODES;

#[wasm_bindgen(typescript_custom_section)]
const TS_ERROR: &'static str = r#"
/** What every export throws: `err.name === "EhrchainError"`, `err.code` one of {@link ErrorCode}. */
export interface EhrchainError extends Error { name: "EhrchainError"; code: ErrorCode }
"#;

/// Every error code an `EhrchainError` can carry, in the order of
/// `docs/PROTOCOL.md §11`.
#[wasm_bindgen(js_name = errorCodes, unchecked_return_type = "ErrorCode[]")]
pub fn error_codes() -> js_sys::Array {
    crate::Error::CODES
        .iter()
        .map(|c| JsValue::from_str(c))
        .collect()
}
