/**
 * Doctor and patient codes: the text a person copies from the portal and
 * gives to someone else (a doctor to the health authority, a patient to
 * anyone who must seal a record to her). Format:
 *
 *     ehrchain-doctor:<account address, EIP-55>:<protocol public key, 33 bytes hex>:<check>
 *     ehrchain-patient:…same…
 *
 * `<check>` is 8 hex digits of SHA-256 over the text before it, so a code
 * cut short or mistyped is refused with a clear error rather than read as
 * another key. Whitespace (a line break from an e-mail) is ignored.
 */
import { checksumAddress, compressPublicKey, sha256, type Address } from "ehrchain";
import { toHex } from "./chain";
import { PortalError } from "./errors";

/** Who a code belongs to. */
export type CodeKind = "doctor" | "patient";

/** What a code carries. */
export interface PersonCode {
  readonly kind: CodeKind;
  /** The person's account (EIP-55). */
  readonly account: Address;
  /** The person's protocol public key, 33 bytes compressed. */
  readonly protocolKey: Uint8Array;
}

/** The 8 hex check digits of `body`. */
function check(body: string): string {
  return toHex(sha256(new TextEncoder().encode(body))).slice(2, 10);
}

/** The code of `account` with protocol key `protocolKey`. */
export function formatCode(kind: CodeKind, account: Address, protocolKey: Uint8Array): string {
  const body = `ehrchain-${kind}:${checksumAddress(account)}:${toHex(compressPublicKey(protocolKey))}`;
  return `${body}:${check(body)}`;
}

/** Reads a `kind` code; `InvalidCode` with a plain reason otherwise. */
export function parseCode(kind: CodeKind, text: string): PersonCode {
  const code = text.replace(/\s+/g, "");
  const bad = (why: string) => new PortalError("InvalidCode", why);
  if (code === "") throw bad(`Paste the ${kind}'s code.`);
  const parts = code.split(":");
  const prefix = parts[0]?.toLowerCase();
  if (prefix === `ehrchain-${kind === "doctor" ? "patient" : "doctor"}`) {
    throw bad(`This is a ${kind === "doctor" ? "patient" : "doctor"}'s code; a ${kind}'s code is needed here.`);
  }
  if (prefix !== `ehrchain-${kind}`) throw bad(`A ${kind}'s code starts with "ehrchain-${kind}:".`);
  if (parts.length !== 4) throw bad("The code is incomplete: part of it is missing.");
  const [, account = "", key = "", digits = ""] = parts;
  if (check(`${parts[0]}:${account}:${key}`) !== digits.toLowerCase()) {
    throw bad("The code has a typo or is cut short (its last 8 characters do not match the rest).");
  }
  let address: Address;
  let protocolKey: Uint8Array;
  try {
    address = checksumAddress(account);
  } catch {
    throw bad("The account address in the code is not valid.");
  }
  try {
    protocolKey = compressPublicKey(key);
    if (protocolKey.length !== 33) throw new Error("length");
  } catch {
    throw bad("The key in the code is not valid.");
  }
  return { kind, account: address, protocolKey };
}
