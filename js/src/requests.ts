// Access requests (Alg 5 steps 9–12): what a doctor signs to fetch `{Z, K}`
// and the ciphertext from a record server, and the server's checks.

import * as glue from "./glue.js";
import { object, options } from "./args.js";
import { Key } from "./keys.js";
import type { Address, BytesLike, Uint64, UnixSeconds } from "./types.js";

/** What an access request asks for. A fresh random nonce is drawn for each request. */
export interface AccessFields {
  /** The record server's hospital name (`H1`). */
  readonly hospital: string;
  /** `W = X`, the record's index (32 bytes). */
  readonly w: BytesLike;
  /** The time of signing. */
  readonly now: UnixSeconds;
  /** Seconds the request stays valid (at least 1; servers cap it). */
  readonly ttl: number;
}

function accessArgs(request: AccessFields): [string, BytesLike, number, number] {
  const r = object(request, "request");
  return [r.hospital as string, r.w as BytesLike, r.now as number, r.ttl as number];
}

/** The EIP-712 typed data (JSON text) of a fresh access request, for the doctor's wallet; then {@link assembleAccessRequest}. */
export function accessRequestTypedData(request: AccessFields): string {
  return glue.accessRequestTypedData(...accessArgs(request));
}

/** The request JSON to send to the record server, from the typed data, the wallet's signature and the doctor's certificate JSON. */
export function assembleAccessRequest(typedDataJson: string, signature: BytesLike, certificateJson: string): string {
  return glue.assembleAccessRequest(typedDataJson, signature, certificateJson);
}

/**
 * Builds and signs an access request with the doctor's account key in one
 * step. Refuses what a server would: a certificate not valid at `now`
 * (`CertificateExpired`, `CertificateNotYetValid`), a TTL of 0.
 */
export function signAccessRequest(doctor: Key, certificateJson: string, request: AccessFields): string {
  return glue.signAccessRequest(Key.raw(doctor, "doctor"), certificateJson, ...accessArgs(request));
}

/** How a record server checks an access request ({@link verifyAccessRequest}). */
export interface VerifyRequestOptions {
  /** The health authority's address. */
  readonly authority: Address;
  /** This server's hospital name. */
  readonly hospital: string;
  /** The time now. */
  readonly now: UnixSeconds;
  /** The longest TTL this server accepts, in seconds. */
  readonly maxTtl: number;
  /** The `eth_call` answer of `certificateStatusCall(registry, <the request's serial>)`. */
  readonly certificateStatus: string;
}

/** What a server learns from a verified access request. */
export interface VerifiedRequest {
  readonly doctor: Address;
  readonly serial: Uint64;
  readonly w: Uint8Array;
  /** The one-time nonce: the server must refuse it a second time (`Replay`). */
  readonly nonce: Uint8Array;
  readonly expiry: Uint64;
}

/**
 * A record server's checks of an access request, all but nonce freshness:
 * certificate (authority, validity, registered, not revoked), signer,
 * hospital, expiry and TTL.
 */
export function verifyAccessRequest(requestJson: string, opts: VerifyRequestOptions): VerifiedRequest {
  const o = options(opts, "options", ["authority", "hospital", "now", "maxTtl", "certificateStatus"], true);
  return glue.verifyAccessRequest(
    requestJson,
    o.authority as string,
    o.hospital as string,
    o.now as number,
    o.maxTtl as number,
    o.certificateStatus as string,
  ) as unknown as VerifiedRequest;
}
