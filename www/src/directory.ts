/**
 * The registry's hospital directory (docs/PROTOCOL.md §13.1): which record
 * server serves which hospital name. The authority lists and delists
 * entries; everyone reads them from the chain.
 */
import {
  certificateStatusCall, decodeCertificateStatus, decodeHospitalEndpoint, hospitalEndpointCall, hospitalListedTopic,
} from "ehrchain";
import { DOCTOR_REGISTERED, DOCTOR_REVOKED } from "./chain";
import type { Context } from "./context";
import { PortalError } from "./errors";

/** A listed hospital. */
export interface Hospital {
  /** Its name `H1`, as records and certificates carry it. */
  readonly name: string;
  /** Its record server's base URL. */
  readonly endpoint: string;
}

/** The record server of `hospital` from the registry (`HospitalNotListed` when none). */
export async function endpointOf(ctx: Context, hospital: string): Promise<string> {
  const endpoint = decodeHospitalEndpoint(await ctx.chain.call(hospitalEndpointCall(ctx.config.registry, hospital)));
  if (endpoint === "") throw new PortalError("HospitalNotListed", `"${hospital}" has no record server in the directory`);
  return endpoint;
}

/** The listed hospitals (the latest `HospitalListed` event per name, delisted ones left out), by name. */
export async function listHospitals(ctx: Context): Promise<Hospital[]> {
  const latest = new Map<string, string>();
  for (const event of await ctx.chain.registryEvents([hospitalListedTopic()])) {
    if (event.event === "HospitalListed") latest.set(event.hospital, event.endpoint);
  }
  return [...latest]
    .filter(([, endpoint]) => endpoint !== "")
    .map(([name, endpoint]) => ({ name, endpoint }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Hosts a record server may be reached over plain http (this machine only). */
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Checks a record server's base URL typed by the authority and returns it
 * normalised (no trailing `/`): `https://…`, or `http://` only for this
 * machine; no user name, query or fragment. `InvalidInput` otherwise.
 */
export function checkEndpoint(text: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new PortalError("InvalidInput", "Server address: enter a full address such as https://records.hospital.example");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.has(url.hostname))) {
    throw new PortalError("InvalidInput", "Server address: it must start with https:// (http:// only for localhost or 127.0.0.1)");
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new PortalError("InvalidInput", "Server address: remove the user name, ?query or #fragment");
  }
  const normalised = `${url.origin}${url.pathname}`.replace(/\/+$/, "");
  if (new TextEncoder().encode(normalised).length > 256) {
    throw new PortalError("InvalidInput", "Server address: at most 256 characters");
  }
  return normalised;
}

/** Checks a hospital name (1–255 bytes of UTF-8, trimmed); `InvalidInput` otherwise. */
export function checkHospitalName(text: string): string {
  const name = text.trim();
  const bytes = new TextEncoder().encode(name).length;
  if (bytes === 0 || bytes > 255) throw new PortalError("InvalidInput", "Hospital name: enter 1 to 255 characters");
  return name;
}

/** A certificate's state now. */
export type CertificateState = "valid" | "not yet valid" | "expired" | "revoked";

/** A doctor certificate as registered on chain (`DoctorRegistered`), with its status. */
export interface RegisteredCertificate {
  readonly serial: number;
  /** The doctor's account (EIP-55). */
  readonly doctor: string;
  /** His protocol public key (33 bytes). */
  readonly protocolKey: Uint8Array;
  readonly validFrom: number;
  readonly validUntil: number;
  readonly revoked: boolean;
  /** Its state at the time of listing. */
  readonly state: CertificateState;
}

/** The state of a certificate at `now` (Unix seconds). */
export function certificateState(c: { validFrom: number; validUntil: number; revoked: boolean }, now: number): CertificateState {
  if (c.revoked) return "revoked";
  if (now < c.validFrom) return "not yet valid";
  if (now >= c.validUntil) return "expired";
  return "valid";
}

/**
 * Every registered certificate, by serial: the `DoctorRegistered` and
 * `DoctorRevoked` events since the deployment, each confirmed with
 * `certificateStatus(serial)`.
 */
export async function listCertificates(ctx: Context): Promise<RegisteredCertificate[]> {
  const events = await ctx.chain.registryEvents([DOCTOR_REGISTERED, DOCTOR_REVOKED]);
  const bySerial = new Map<number, Omit<RegisteredCertificate, "state" | "revoked">>();
  for (const e of events) {
    if (e.event !== "DoctorRegistered") continue;
    bySerial.set(Number(e.serial), {
      serial: Number(e.serial), doctor: e.doctor, protocolKey: e.protocolKey,
      validFrom: Number(e.validFrom), validUntil: Number(e.validUntil),
    });
  }
  const now = Math.floor(Date.now() / 1000);
  const statuses = await Promise.all(
    [...bySerial.keys()].map(async (serial) =>
      decodeCertificateStatus(await ctx.chain.call(certificateStatusCall(ctx.config.registry, serial)))),
  );
  return [...bySerial.values()].map((c, i) => {
    const revoked = statuses[i]?.revoked ?? false;
    return { ...c, revoked, state: certificateState({ ...c, revoked }, now) };
  }).sort((a, b) => a.serial - b.serial);
}
