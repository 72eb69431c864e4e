// The registry contract for a wallet (EIP-1193): `{to, data}` for
// `eth_sendTransaction` and `eth_call`, the views' answers decoded, its
// events decoded from logs and receipts, its reverts named.

import * as glue from "./glue.js";
import { flag, object, options } from "./args.js";
import type { CertificateFields } from "./certificates.js";
import type { AuthorisationParts } from "./grants.js";
import { readableLogs, rpcLogs, rpcReceipt, type LogLike, type ReceiptLike } from "./logs.js";
import { Scanner } from "./grants.js";
import type { Address, BytesLike, Hex, Uint64, UnixSeconds } from "./types.js";

/** A call for a wallet's `eth_sendTransaction` (add `from`) or a node's `eth_call`. */
export interface TxRequest {
  /** The registry's address (EIP-55). */
  readonly to: Address;
  /** ABI-encoded calldata. */
  readonly data: Hex;
}

/** What {@link registerDoctorTx} registers: a certificate's fields (a {@link CertificateFields} passes as it is). */
export type Registration<B extends BytesLike = BytesLike> = Pick<
  CertificateFields<B>,
  "serial" | "doctor" | "protocolKey" | "validFrom" | "validUntil"
>;

/** What {@link anchorRecordTx} anchors (Alg 4 step 3). */
export interface AnchorFields {
  /** `eh`, SHA-256 of the ciphertext. */
  readonly eh: BytesLike;
  /** {@link anchorCommitment} of the record. */
  readonly commitment: BytesLike;
  /** `T1`, the record's time. */
  readonly recordTime: UnixSeconds;
  /** The anchoring doctor's certificate serial (the registry refuses anyone else: `NotCertifiedDoctor`). */
  readonly serial: Uint64;
}

/** `registerDoctor(…)` from the authority's wallet. Same checks as {@link issueCertificate} (`InvalidValidity`, …). */
export function registerDoctorTx(registry: Address, certificate: Registration): TxRequest {
  const c = object(certificate, "certificate");
  return glue.registerDoctorTx(
    registry,
    c.serial as number,
    c.doctor as string,
    c.protocolKey as BytesLike,
    c.validFrom as number,
    c.validUntil as number,
  ) as TxRequest;
}

/** `revokeDoctor(serial)` from the authority's wallet. */
export function revokeDoctorTx(registry: Address, serial: Uint64): TxRequest {
  return glue.revokeDoctorTx(registry, serial) as TxRequest;
}

/** `anchorRecord(eh, commitment, recordTime, serial)` from the certified doctor's wallet. */
export function anchorRecordTx(registry: Address, anchor: AnchorFields): TxRequest {
  const a = object(anchor, "anchor");
  return glue.anchorRecordTx(
    registry,
    a.eh as BytesLike,
    a.commitment as BytesLike,
    a.recordTime as number,
    a.serial as Uint64,
  ) as TxRequest;
}

/** `markDeleted(eh)`: the record's tombstone, from the account that anchored it or the authority. */
export function markDeletedTx(registry: Address, eh: BytesLike): TxRequest {
  return glue.markDeletedTx(registry, eh) as TxRequest;
}

/** What {@link markDeletedByPatientTx} needs of a record: its `eh` and the anchor's opening (a {@link Handoff} passes as it is). */
export interface PatientRecord {
  readonly eh: BytesLike;
  readonly anchorSalt: BytesLike;
  readonly recordType: string;
}

/**
 * `markDeletedByPatient(eh, salt, recordType)` from the patient's wallet:
 * she tombstones her record by opening its anchor commitment with her own
 * address (docs/PROTOCOL.md §4.1; the registry refuses anyone else with
 * `NotRecordPatient`). The opening becomes public with the transaction:
 * the record's type, and that she was its patient. Then ask each server
 * holding it to delete it (`DELETE /v1/records/{eh}`).
 */
export function markDeletedByPatientTx(registry: Address, record: PatientRecord): TxRequest {
  return glue.markDeletedByPatientTx(registry, object(record, "record") as never) as TxRequest;
}

/** `authorise(viewTag, R, ST, C1)` (Alg 5 step 5), from {@link MaskKey.authorise}'s result. Send it from a one-time account or a relayer so grants are not linked by sender. */
export function authoriseTx(registry: Address, authorisation: AuthorisationParts<BytesLike>): TxRequest {
  const a = object(authorisation, "authorisation");
  return glue.authoriseTx(registry, a.viewTag as number, a.r as BytesLike, a.st as BytesLike, a.c1 as BytesLike) as TxRequest;
}

/** `recordStatus(eh)` for `eth_call`; decode the answer with {@link decodeRecordStatus}. */
export function recordStatusCall(registry: Address, eh: BytesLike): TxRequest {
  return glue.recordStatusCall(registry, eh) as TxRequest;
}

/** `certificateStatus(serial)` for `eth_call`; decode with {@link decodeCertificateStatus}. */
export function certificateStatusCall(registry: Address, serial: Uint64): TxRequest {
  return glue.certificateStatusCall(registry, serial) as TxRequest;
}

/** `authorisationCount()` for `eth_call` (the answer is one uint256 word). */
export function authorisationCountCall(registry: Address): TxRequest {
  return glue.authorisationCountCall(registry) as TxRequest;
}

/** `recordStatus(eh)` decoded. A record never anchored has `anchored: false` and zeros. */
export interface RecordStatus {
  readonly anchored: boolean;
  readonly anchoredBy: Address;
  readonly serial: Uint64;
  readonly anchoredAt: Uint64;
  /** The anchor commitment (32 bytes): the record type is not on chain, only committed to. */
  readonly commitment: Uint8Array;
  readonly recordTime: Uint64;
  readonly deleted: boolean;
  readonly deletedAt: Uint64;
}

/** `certificateStatus(serial)` decoded; `registered` is false for an unknown serial. */
export interface CertificateStatus {
  readonly registered: boolean;
  readonly doctor: Address;
  readonly validFrom: Uint64;
  readonly validUntil: Uint64;
  readonly revoked: boolean;
  readonly revokedAt: Uint64;
}

/** Decodes the `eth_call` answer (hex text) of {@link recordStatusCall}. */
export function decodeRecordStatus(data: string): RecordStatus {
  return glue.decodeRecordStatus(data) as unknown as RecordStatus;
}

/** Decodes the `eth_call` answer (hex text) of {@link certificateStatusCall}. */
export function decodeCertificateStatus(data: string): CertificateStatus {
  return glue.decodeCertificateStatus(data) as unknown as CertificateStatus;
}

/** Where a decoded event was found (absent for a pending log). */
export interface LogPosition {
  readonly transactionHash?: Hex;
  readonly blockNumber?: Uint64;
}

/** One of the registry's events, decoded. */
export type RegistryEvent = LogPosition &
  (
    | {
        readonly event: "DoctorRegistered";
        readonly serial: Uint64;
        readonly doctor: Address;
        readonly protocolKey: Uint8Array;
        readonly validFrom: Uint64;
        readonly validUntil: Uint64;
      }
    | { readonly event: "DoctorRevoked"; readonly serial: Uint64; readonly revokedAt: Uint64 }
    | {
        readonly event: "RecordAnchored";
        readonly eh: Uint8Array;
        readonly anchoredBy: Address;
        readonly serial: Uint64;
        readonly commitment: Uint8Array;
        readonly recordTime: Uint64;
        readonly anchoredAt: Uint64;
      }
    | { readonly event: "RecordDeleted"; readonly eh: Uint8Array; readonly deletedBy: Address; readonly deletedAt: Uint64 }
    | {
        readonly event: "HospitalListed";
        /** The hospital's name `H1`. */
        readonly hospital: string;
        /** Its record server's base URL; `""` when delisted. */
        readonly endpoint: string;
      }
    | {
        readonly event: "Authorised";
        readonly seq: Uint64;
        /** The view tag, 0–255. */
        readonly viewTag: number;
        readonly r: Uint8Array;
        readonly st: Uint8Array;
        readonly c1: Uint8Array;
      }
  );

/** Options of {@link decodeRegistryLogs}. */
export interface DecodeLogsOptions {
  /** Leave out logs of other contracts instead of throwing `WrongContract` (default `false`). */
  readonly skipForeign?: boolean;
}

/**
 * Decodes the registry's events among `logs` (an `eth_getLogs` result, a
 * receipt's `logs`, ethers' or viem's `Log` objects). A log of another
 * contract is `WrongContract` unless `skipForeign`; a log that cannot be
 * read is `InvalidArgument` naming its field.
 */
export function decodeRegistryLogs(registry: Address, logs: readonly LogLike[], opts?: DecodeLogsOptions): RegistryEvent[] {
  const o = options(opts, "options", ["skipForeign"]);
  return glue.decodeRegistryLogs(
    registry,
    rpcLogs(logs, "logs") as never,
    flag(o.skipForeign, "options.skipForeign", false),
  ) as unknown as RegistryEvent[];
}

/**
 * `eh` from the receipt of the anchoring transaction `tx_id` (Alg 5 step
 * 13): a JSON-RPC, ethers 6 or viem receipt. `Reverted` for a reverted
 * transaction, `EventNotFound` if it anchored nothing in this registry.
 */
export function anchoredEhFromReceipt(registry: Address, receipt: ReceiptLike): Uint8Array {
  return glue.anchoredEhFromReceipt(registry, rpcReceipt(receipt, "receipt") as never);
}

/** An `Authorised` event addressed to the scanning doctor's key. */
export interface FoundAuthorisation extends AuthorisationParts {
  /** The registry's sequence number of the authorisation. */
  readonly seq: Uint64;
  readonly transactionHash: Hex | null;
  /** The block that contains it (`null` for a pending log). */
  readonly blockNumber: Uint64 | null;
}

/**
 * The authorisations among `logs` (from `eth_getLogs` with topic
 * {@link authorisedTopic}, or ethers/viem logs) addressed to `scanner`'s key.
 * Logs of other contracts, other events and anything malformed (`null`,
 * `{}`, bad hex) are skipped. Only the view tag and `R` of each log are
 * read until its view tag matches: a page of foreign grants costs one
 * scalar multiplication each.
 */
export function scanAuthorisations(scanner: Scanner, registry: Address, logs: readonly LogLike[]): FoundAuthorisation[] {
  const raw = Scanner.raw(scanner, "scanner");
  if (!Array.isArray(logs)) readableLogs(logs, "logs"); // throws InvalidArgument
  return foundAmong(scanner, registry, logs, glue.scanTagCandidates(raw, siftAuthorisations(registry, logs)));
}

/**
 * @internal The key-free half of a scan split across threads: the view tag
 * and `R` of each log, 35 bytes per log, for {@link scanTagCandidates} in
 * the workers that hold the key.
 */
export function siftAuthorisations(registry: Address, logs: readonly unknown[]): Uint8Array {
  return glue.siftAuthorisations(registry, logs as never);
}

/** @internal The worker's half: the indices of the sifted logs whose view tag is this key's (or that need a full decoding). */
export function scanTagCandidates(scanner: Scanner, sifted: Uint8Array): Uint32Array {
  return glue.scanTagCandidates(Scanner.raw(scanner, "scanner"), sifted);
}

/** @internal The last step: the candidates among `logs` decoded in full and checked (stealth tag `ST`). */
export function foundAmong(scanner: Scanner, registry: Address, logs: readonly unknown[], candidates: ArrayLike<number>): FoundAuthorisation[] {
  const picked = Array.from(candidates, (i) => logs[i]);
  return glue.scanAuthorisations(Scanner.raw(scanner, "scanner"), registry, readableLogs(picked, "logs") as never) as unknown as FoundAuthorisation[];
}

/** Topic 0 of the registry's `Authorised` event, for an `eth_getLogs` filter. */
export function authorisedTopic(): Hex {
  return glue.authorisedTopic() as Hex;
}

/** A hospital directory entry: the name records and certificates carry, and its record server's base URL. */
export interface HospitalEntry {
  /** The hospital's name `H1` (1 to 255 bytes of UTF-8). */
  readonly hospital: string;
  /**
   * The base URL of its record server (`https://…`, or `http://` to this
   * machine; no trailing `/`), or `""` to delist the hospital.
   */
  readonly endpoint: string;
}

/**
 * `listHospital(hospital, endpoint)` from the authority's wallet: lists a
 * hospital's record server in the registry's directory (docs/PROTOCOL.md
 * §13.1), replacing an earlier entry; `endpoint: ""` delists it.
 * `InvalidEndpoint` for a URL no client would follow, `OutOfRange` for an
 * empty or over-long name.
 */
export function listHospitalTx(registry: Address, entry: HospitalEntry): TxRequest {
  const e = object(entry, "entry");
  return glue.listHospitalTx(registry, e.hospital as string, e.endpoint as string) as TxRequest;
}

/** `hospitalEndpoint(hospital)` for `eth_call`; decode the answer with {@link decodeHospitalEndpoint}. */
export function hospitalEndpointCall(registry: Address, hospital: string): TxRequest {
  return glue.hospitalEndpointCall(registry, hospital) as TxRequest;
}

/**
 * Decodes the `eth_call` answer of {@link hospitalEndpointCall}: the
 * record server's base URL, or `""` when the hospital is not listed.
 * `InvalidEndpoint` for a listed URL no client may follow (never fetch it).
 */
export function decodeHospitalEndpoint(data: string): string {
  return glue.decodeHospitalEndpoint(data);
}

/** Topic 0 of the registry's `HospitalListed` event, for an `eth_getLogs` filter. */
export function hospitalListedTopic(): Hex {
  return glue.hospitalListedTopic() as Hex;
}
