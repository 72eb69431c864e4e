// Doctor certificates (Alg 3): typed data for a wallet, issuing, assembling,
// verifying and reading.

import * as glue from "./glue.js";
import { flag, object, options } from "./args.js";
import { Key } from "./keys.js";
import type { Address, BytesLike, UnixSeconds } from "./types.js";

/**
 * The facts a certificate binds (docs/PROTOCOL.md §4): the doctor's account,
 * his protocol key `A`, his hospital, the validity period `[validFrom,
 * validUntil)` and the authority's serial. Returned with `protocolKey` as
 * 33 compressed bytes; taken with any {@link BytesLike}.
 */
export interface CertificateFields<B extends BytesLike = Uint8Array> {
  /** The doctor's account address. */
  readonly doctor: Address;
  /** The doctor's protocol public key `A` (33 or 65 bytes). */
  readonly protocolKey: B;
  /** The hospital the doctor works at (`H`). */
  readonly hospital: string;
  /** First second of validity. */
  readonly validFrom: UnixSeconds;
  /** First second no longer valid (after `validFrom`). */
  readonly validUntil: UnixSeconds;
  /** The authority's serial number, unique per certificate. */
  readonly serial: number;
}

/** @internal The positional arguments of the glue for `fields`. */
export function certificateArgs(fields: CertificateFields<BytesLike>, what: string) {
  const f = object(fields, what);
  return [f.doctor, f.protocolKey, f.hospital, f.validFrom, f.validUntil, f.serial] as [
    string, BytesLike, string, number, number, number,
  ];
}

/**
 * The EIP-712 typed data of a certificate as JSON text, for the
 * authority's wallet (`eth_signTypedData_v4`); then {@link assembleCertificate}.
 * Throws `InvalidValidity` if `validFrom >= validUntil`.
 */
export function certificateTypedData(fields: CertificateFields<BytesLike>): string {
  return glue.certificateTypedData(...certificateArgs(fields, "fields"));
}

/** Issues a certificate with the authority's key: its canonical JSON text. */
export function issueCertificate(authority: Key, fields: CertificateFields<BytesLike>): string {
  return glue.issueCertificate(Key.raw(authority, "authority"), ...certificateArgs(fields, "fields"));
}

/** The certificate JSON from {@link certificateTypedData}'s JSON and the wallet's 65-byte signature. */
export function assembleCertificate(typedDataJson: string, signature: BytesLike): string {
  return glue.assembleCertificate(typedDataJson, signature);
}

/** How {@link verifyCertificate} checks a certificate. */
export interface VerifyCertificateOptions {
  /** The health authority's address (the trust anchor). */
  readonly authority: Address;
  /** The time to check the validity period at. */
  readonly at: UnixSeconds;
  /** Whether the registry says the certificate is revoked (default `false`). */
  readonly revoked?: boolean;
}

/**
 * Verifies certificate JSON: signed by `authority`, valid at `at`, not
 * `revoked`. Returns its fields; throws `CertificateWrongAuthority`,
 * `CertificateExpired`, `CertificateNotYetValid`, `CertificateRevoked`, ….
 */
export function verifyCertificate(certificateJson: string, opts: VerifyCertificateOptions): CertificateFields {
  const o = options(opts, "options", ["authority", "at", "revoked"], true);
  return glue.verifyCertificate(
    certificateJson,
    o.authority as string,
    o.at as number,
    flag(o.revoked, "options.revoked", false),
  ) as CertificateFields;
}

/** Reads certificate JSON without verifying it. */
export function parseCertificate(certificateJson: string): CertificateFields {
  return glue.parseCertificate(certificateJson) as CertificateFields;
}
