// Upload requests (docs/PROTOCOL.md §9.1): how a certified doctor's client
// asks a record server to store a new record.

import * as glue from "./glue.js";
import { Key } from "./keys.js";
import type { BytesLike, UnixSeconds } from "./types.js";

/** What an upload request names. */
export interface UploadFields {
  /** The record server's hospital name. */
  readonly hospital: string;
  /** `eh`, SHA-256 of the ciphertext to upload. */
  readonly eh: BytesLike;
  /** The ciphertext's size in bytes. */
  readonly size: number;
  /** {@link filingCommitment}`(F)`. */
  readonly filing: BytesLike;
  /** The time of signing. */
  readonly now: UnixSeconds;
  /** Seconds the request stays valid (at least 1). */
  readonly ttl: number;
}

/** The EIP-712 typed data (JSON text) of a fresh upload request, for the doctor's wallet; then {@link assembleUploadRequest}. */
export function uploadRequestTypedData(upload: UploadFields): string {
  return glue.uploadRequestTypedData(upload as never);
}

/** The signed upload request (JSON: the `authorization` of `POST /v1/uploads`) from the typed data, the wallet's signature and the certificate JSON. */
export function assembleUploadRequest(typedDataJson: string, signature: BytesLike, certificateJson: string): string {
  return glue.assembleUploadRequest(typedDataJson, signature, certificateJson);
}

/** Builds and signs an upload request with the doctor's account key (refusals as {@link signAccessRequest}). */
export function signUploadRequest(doctor: Key, certificateJson: string, upload: UploadFields): string {
  return glue.signUploadRequest(Key.raw(doctor, "doctor"), certificateJson, upload as never);
}
