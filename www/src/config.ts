/**
 * The portal's deployment, read at run time from `./config.json` (written
 * by the dev environment next to the bundle, never built into it).
 */
import { checksumAddress, type Address } from "ehrchain";
import { PortalError } from "./errors";

/** Where the portal's chain and registry are. */
export interface PortalConfig {
  /** The chain's id (EIP-155), e.g. 31337 for the local Hardhat chain. */
  readonly chainId: number;
  /** A human name of the chain, for the wallet's "add network" dialog. */
  readonly chainName: string;
  /** JSON-RPC URL the portal reads from (and the wallet is told to add). */
  readonly rpcUrl: string;
  /** The registry contract (EIP-55). */
  readonly registry: Address;
  /** The block the registry was deployed in: event scans start here. */
  readonly deployBlock: number;
  /** The health authority's account (EIP-55), the certificates' issuer. */
  readonly authority: Address;
}

/** Reads a chain id or block number given as a JSON number or as hex/decimal text. */
function integer(value: unknown, name: string): number {
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw new PortalError("ConfigInvalid", `config.json: ${name} must be a non-negative integer`);
  }
  return n;
}

/** Reads a non-empty text field. */
function text(value: unknown, name: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new PortalError("ConfigInvalid", `config.json: ${name} must be a non-empty text`);
  }
  return value.trim();
}

/** Reads an address field (any case; a mixed-case one must be a valid checksum). */
function address(value: unknown, name: string): Address {
  try {
    return checksumAddress(text(value, name));
  } catch {
    throw new PortalError("ConfigInvalid", `config.json: ${name} is not an account address`);
  }
}

/** Checks the parsed JSON of config.json and returns it typed. */
export function parseConfig(json: unknown): PortalConfig {
  if (typeof json !== "object" || json === null) {
    throw new PortalError("ConfigInvalid", "config.json must hold a JSON object");
  }
  const c = json as Record<string, unknown>;
  return {
    chainId: integer(c.chainId, "chainId"),
    chainName: typeof c.chainName === "string" && c.chainName.trim() ? c.chainName.trim() : `Chain ${String(c.chainId)}`,
    rpcUrl: new URL(text(c.rpcUrl, "rpcUrl"), location.href).href,
    registry: address(c.registry, "registry"),
    deployBlock: c.deployBlock === undefined ? 0 : integer(c.deployBlock, "deployBlock"),
    authority: address(c.authority, "authority"),
  };
}

/** Fetches and checks `./config.json` (next to the page). */
export async function loadConfig(url = "./config.json"): Promise<PortalConfig> {
  let response: Response;
  try {
    response = await fetch(url, { cache: "no-store" });
  } catch {
    throw new PortalError("ConfigMissing", `${url} could not be fetched`);
  }
  if (!response.ok) throw new PortalError("ConfigMissing", `${url} answered ${response.status}`);
  let json: unknown;
  try {
    json = await response.json();
  } catch {
    throw new PortalError("ConfigInvalid", `${url} is not JSON`);
  }
  return parseConfig(json);
}
