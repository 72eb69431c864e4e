//! TypeScript declarations of the plain objects the bindings take and return.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Integers from the chain or from other parties' data are `number` up to
 *  2^53-1 and `bigint` beyond (never rounded). */
export type Uint64 = number | bigint;
/** A masked record as filed with the record server: `{X, Z, K}`. */
export interface MaskedRecord { x: Uint8Array; z: Uint8Array; k: Uint8Array }
/** `tx_id` and `K_P`, unmasked. */
export interface Unmasked { txId: Uint8Array; recordKey: Uint8Array }
/** `Trans = (R, ST, C1)`. */
export interface AuthorisationParts { r: Uint8Array; st: Uint8Array; c1: Uint8Array }
/** An opened access pass: the record context and `k_t`. */
export interface OpenedPass { hospital: string; time: number; maskKey: MaskKey }
/** An opened doctor-to-patient handoff. */
export interface Handoff { hospital: string; time: number; txId: Uint8Array; recordKey: Uint8Array }
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
