/**
 * Every failure the portal can show, in plain words: `explain(err)` gives a
 * title (what happened), the detail (the failing party's own message) and
 * what to do next, for the portal's own errors (`PortalError`), every
 * `EhrchainError` code of the package (`errorCodes()`), every code of the
 * record server (server/README.md), the registry's revert reasons, wallet
 * (EIP-1193) error codes and network failures.
 */
import { EhrchainError, type ErrorCode } from "ehrchain";

/** The portal's own failure codes. */
export type PortalCode =
  | "ConfigMissing" | "ConfigInvalid"
  | "ChainUnreachable" | "ChainError" | "ReceiptTimeout" | "TransactionReverted"
  | "NoWallet" | "NotConnected" | "WalletLocked" | "WrongChain"
  | "UserRejected" | "RequestPending" | "WalletUnauthorized" | "WalletUnsupported"
  | "WalletDisconnected" | "ChainDisconnected" | "ChainNotAdded" | "WalletFailed"
  | "AccountChanged" | "Locked" | "NotAuthority"
  | "InvalidCode" | "InvalidInput" | "HospitalNotListed" | "DoctorNotCertified"
  | "ServerUnreachable" | "StorageUnavailable" | "StoredSecretUnreadable" | "RecordUnknown";

/** A failure of the portal itself (not of the package, a server or the wallet). */
export class PortalError extends Error {
  /** Stable code, a key of the explanation table. */
  readonly code: PortalCode;
  /** The original error this one stands for (a wallet's or fetch's), if any. */
  override readonly cause?: unknown;

  /** A failure `code` with a message naming what failed (never a secret). */
  constructor(code: PortalCode, message: string, cause?: unknown) {
    super(message);
    this.name = "PortalError";
    this.code = code;
    this.cause = cause;
  }
}

/** What the page shows for a failure. */
export interface Explanation {
  /** The code (portal, package, server, wallet or revert name). */
  readonly code: string;
  /** One plain sentence: what happened. */
  readonly title: string;
  /** The failing party's own message (for the "details" disclosure). */
  readonly detail: string;
  /** What to do next. */
  readonly next: string;
}

/** One row of an explanation table. */
interface Entry {
  readonly title: string;
  readonly next: string;
}

const RETRY = "Try again.";
const REPORT = "This should not happen: please report it to the portal's maintainers with the details below.";
const BAD_DATA = "Check that you pasted or opened the right text or file, complete and unchanged, and try again.";

/** The portal's own codes. */
const PORTAL: Record<PortalCode, Entry> = {
  ConfigMissing: { title: "The portal's settings file (config.json) could not be loaded.", next: "Ask whoever runs this portal to start it with its settings, then reload the page." },
  ConfigInvalid: { title: "The portal's settings file (config.json) is not valid.", next: "Ask whoever runs this portal to fix its settings, then reload the page." },
  ChainUnreachable: { title: "The blockchain node does not answer.", next: "Check your connection; if it works, the node may be down: try again in a moment." },
  ChainError: { title: "The blockchain node refused a request.", next: RETRY },
  ReceiptTimeout: { title: "The transaction was sent but is not confirmed yet.", next: "Wait a little and reload the lists; do not send it again before checking your wallet's activity." },
  TransactionReverted: { title: "The transaction was refused by the registry contract.", next: "Reload the page to see the current state, then try again." },
  NoWallet: { title: "No wallet was found in this browser.", next: "Install a browser wallet extension (for example MetaMask, Rabby or Frame), reload this page, then connect." },
  NotConnected: { title: "No wallet is connected.", next: "Open the Wallet page and connect your wallet." },
  WalletLocked: { title: "Your wallet is locked or shares no account with this site.", next: "Unlock your wallet, then press Connect again." },
  WrongChain: { title: "Your wallet is on another network.", next: "Press the button to switch your wallet to this portal's network." },
  UserRejected: { title: "You declined the request in your wallet.", next: "Nothing was signed or sent. Press the button again when you are ready." },
  RequestPending: { title: "Your wallet is already showing a request from this site.", next: "Open your wallet and answer the request it shows, then try again." },
  WalletUnauthorized: { title: "Your wallet has not allowed this site to use that account.", next: "Connect again and allow the account in your wallet." },
  WalletUnsupported: { title: "Your wallet does not support this request.", next: "Use a wallet that supports signing typed data (EIP-712), such as MetaMask." },
  WalletDisconnected: { title: "Your wallet is disconnected.", next: "Open your wallet, check it is unlocked and online, then connect again." },
  ChainDisconnected: { title: "Your wallet is not connected to this network.", next: "Switch your wallet to this portal's network and try again." },
  ChainNotAdded: { title: "Your wallet does not know this portal's network.", next: "Press the switch button again and accept adding the network." },
  WalletFailed: { title: "Your wallet reported an error.", next: "Open your wallet to see what happened, then try again." },
  AccountChanged: { title: "Your wallet's account or network changed, so this step was stopped.", next: "Nothing more was sent. Check the account shown at the top, unlock again if asked, and start the step again." },
  Locked: { title: "Your records are locked.", next: "Press Unlock and sign the message in your wallet." },
  NotAuthority: { title: "Only the health authority's account may do this.", next: "Connect the health authority's account in your wallet." },
  InvalidCode: { title: "That code cannot be read.", next: "Ask the person for their code again and paste it whole (copy it with their Copy button)." },
  InvalidInput: { title: "Some of the form is not filled in correctly.", next: "Correct that field and try again." },
  HospitalNotListed: { title: "This hospital is not in the hospital directory.", next: "Ask the health authority to list the hospital's server, then try again." },
  DoctorNotCertified: { title: "This doctor has no valid certificate.", next: "Ask the doctor to check with the health authority, or choose another doctor." },
  ServerUnreachable: { title: "The hospital's record server does not answer.", next: "Check your connection; if it works, the server may be down: try again later." },
  StorageUnavailable: { title: "This browser does not let the portal keep data (IndexedDB).", next: "Leave private browsing mode or allow site data, then reload." },
  StoredSecretUnreadable: {
    title: "Something this browser saved for your account could not be opened with your key.",
    next: "It was changed after it was saved, or saved under another key, so it cannot be used. Remove it with the button below, then get it again.",
  },
  RecordUnknown: { title: "That record is not saved in this browser.", next: "Receive the record again from the text or file your doctor gave you." },
};

/** Every `EhrchainError` code of the package (docs/PROTOCOL.md §11). */
const PACKAGE: Record<ErrorCode, Entry> = {
  InvalidHex: { title: "Some text that should be hexadecimal is not.", next: BAD_DATA },
  InvalidLength: { title: "A value has the wrong length.", next: BAD_DATA },
  InvalidSecretKey: { title: "A secret key is not valid.", next: REPORT },
  InvalidPublicKey: { title: "A public key is not valid.", next: BAD_DATA },
  InvalidAddress: { title: "An account address is not valid (a typo, or a wrong capital letter).", next: "Copy the address again, whole, and paste it." },
  InvalidSignature: { title: "A signature is not valid.", next: BAD_DATA },
  WrongSigner: { title: "The signature is not from the expected account.", next: "Check that your wallet shows the account named at the top, then sign again." },
  InvalidTypedData: { title: "The data to sign is not valid.", next: REPORT },
  MalformedJson: { title: "The text is not valid JSON.", next: BAD_DATA },
  CertificateMalformed: { title: "The certificate is not in the expected format.", next: "Ask the health authority for the certificate file again." },
  CertificateWrongAuthority: { title: "The certificate was not issued by this portal's health authority.", next: "Ask this health authority for a certificate." },
  CertificateNotYetValid: { title: "The certificate is not valid yet.", next: "Wait until its start date, or ask the authority for a new one." },
  CertificateExpired: { title: "The certificate has expired.", next: "Ask the health authority for a new certificate." },
  CertificateRevoked: { title: "The certificate was revoked by the health authority.", next: "Ask the health authority." },
  CertificateUnknown: { title: "The certificate is not registered on the blockchain.", next: "Ask the health authority to register it." },
  CertificateMismatch: { title: "The certificate's number is registered to another doctor.", next: "Ask the health authority for the right certificate." },
  CertificateWrongHospital: { title: "The certificate is for another hospital.", next: "Upload records to the hospital you are certified for." },
  InvalidArgument: { title: "The portal passed a wrong value to the protocol library.", next: REPORT },
  AbiDecode: { title: "An answer of the blockchain could not be read.", next: "Check that the portal's settings name the right registry contract." },
  WrongContract: { title: "An event came from another contract than the registry.", next: "Check that the portal's settings name the right registry contract." },
  EventNotFound: { title: "The expected registry event is missing from the transaction.", next: "Check the transaction in your wallet's activity." },
  TransactionNotFound: { title: "The transaction was not found on the blockchain.", next: "Wait a moment and try again." },
  Reverted: { title: "The registry contract refused the transaction.", next: "Reload the page to see the current state, then try again." },
  RpcUnreachable: { title: "The blockchain node does not answer.", next: "Check your connection and try again in a moment." },
  Rpc: { title: "The blockchain node refused a request.", next: RETRY },
  InvalidValidity: { title: "The validity period is empty: its end is not after its start.", next: "Enter a validity of at least one day." },
  TimeInMilliseconds: { title: "A time was given in milliseconds instead of seconds.", next: REPORT },
  RequestWrongHospital: { title: "The request names another hospital.", next: RETRY },
  RequestExpired: { title: "The signed request expired before it arrived.", next: "Check your computer's clock and try again." },
  RequestExpiryTooFar: { title: "The signed request is valid for too long.", next: "Check your computer's clock and try again." },
  RequestWrongSigner: { title: "The request was not signed by the certificate's doctor.", next: "Connect the account your certificate names, then try again." },
  EciesTooShort: { title: "The sealed text is too short: it was probably cut off.", next: BAD_DATA },
  EciesDecryptFailed: { title: "This sealed record is not for your account, or it was damaged.", next: "Check that you unlocked the account the doctor sealed it to, and that the text is complete." },
  MalformedEncoding: { title: "The opened data is not in the expected format.", next: BAD_DATA },
  NotForThisKey: { title: "This access was not granted to you.", next: "Ask the patient to grant it to your account." },
  GrantForged: { title: "This access pass was not signed by the record's patient: it is refused.", next: "Ignore it; ask the patient to grant access again if you expected it." },
  RecordNotAnchored: { title: "This record is not registered on the blockchain yet.", next: "Wait until the doctor's transaction is confirmed, then try again." },
  RecordDeleted: { title: "This record was marked deleted on the blockchain.", next: "Ask the doctor or hospital for a new copy if you still need it." },
  AnchorNotCertified: { title: "This record was registered by someone who was not a certified doctor at the time.", next: "Do not trust it; ask your doctor for the record again." },
  AnchorMismatch: { title: "The record's registration on the blockchain does not match this record or patient.", next: "Do not file it; ask your doctor for the record again." },
  InvalidStreamParams: { title: "The record's encryption settings are not valid.", next: REPORT },
  InvalidHeader: { title: "The record file does not start like an encrypted record.", next: BAD_DATA },
  WrongKeyOrAssociatedData: { title: "The record cannot be opened with this key: wrong record or damaged.", next: "Fetch the record again." },
  SegmentTampered: { title: "The record was changed or damaged after it was encrypted.", next: "Fetch the record again; if it persists, tell the hospital." },
  SegmentOutOfOrder: { title: "Parts of the record are out of order.", next: "Fetch the record again." },
  Truncated: { title: "The record is cut short.", next: "Fetch the record again." },
  StreamFinished: { title: "The record stream was already finished.", next: REPORT },
  StreamTooLong: { title: "The record is too long for its encryption format.", next: "Split the record into smaller files." },
  OutOfMemory: { title: "The browser ran out of memory.", next: "Close other tabs and try again." },
  HashMismatch: { title: "The record does not match its registered fingerprint.", next: "Fetch the record again; if it persists, tell the hospital." },
  OutOfRange: { title: "A value is out of its allowed range.", next: "Check the values in the form and try again." },
  Rng: { title: "The browser's random number generator failed.", next: "Reload the page and try again." },
  ObjectFreed: { title: "A key was used after it was wiped.", next: "Reload the page and try again." },
  NotConstructible: { title: "The portal used the protocol library wrongly.", next: REPORT },
  StreamInUse: { title: "The record stream is already in use.", next: REPORT },
  EngineFailed: { title: "The browser could not run the encryption (Web Workers or WebCrypto missing).", next: "Use a current browser on an https:// or localhost address." },
  InvalidEndpoint: { title: "The hospital's server address is not one the portal may use.", next: "The address must start with https:// (http:// only on this computer); ask the health authority to correct it." },
};

/** Codes the record server answers with that the package does not have (server/README.md). */
type ServerOnlyCode =
  | "InvalidField" | "InvalidPartNumber" | "InvalidPartSize" | "PartSizeMismatch" | "BodyIncomplete"
  | "Unauthorized" | "InvalidToken" | "TokenExpired" | "FilingNotAuthorised"
  | "UnknownIndex" | "UploadNotFound" | "RecordNotFound" | "NotFound" | "MethodNotAllowed" | "RequestTimeout"
  | "Replay" | "UploadIncomplete" | "UploadCompleted" | "UploadBusy" | "RecordExists" | "IndexExists" | "NotDeletedOnChain"
  | "RecordDeletedOnChain" | "RecordRetired" | "PayloadTooLarge" | "PartTooLarge" | "RecordTooLarge"
  | "RangeNotSatisfiable" | "RateLimited" | "UploadQuotaExceeded" | "Internal"
  | "ChainNotConfigured" | "AccessNotConfigured" | "UploadCapacityExceeded" | "StorageFull" | "RelayNotConfigured";

/** The record server's own codes. */
const SERVER: Record<ServerOnlyCode, Entry> = {
  InvalidField: { title: "The hospital server found a field it cannot accept.", next: REPORT },
  InvalidPartNumber: { title: "The hospital server refused a part of the upload (wrong number).", next: "Restart the upload." },
  InvalidPartSize: { title: "The hospital server refused the upload's part size.", next: REPORT },
  PartSizeMismatch: { title: "A part of the upload has the wrong size.", next: "Restart the upload." },
  BodyIncomplete: { title: "The connection broke while sending.", next: RETRY },
  Unauthorized: { title: "The hospital server does not accept uploads from you.", next: "Check that your certificate is for this hospital." },
  InvalidToken: { title: "The download permission is not valid.", next: "Ask for the record again." },
  TokenExpired: { title: "The download permission has expired.", next: "Ask for the record again." },
  FilingNotAuthorised: { title: "The hospital server refused the filing: the record's filing secret does not match.", next: "Ask your doctor for the record's handoff again." },
  UnknownIndex: { title: "The hospital has no entry for this record: the patient has not filed it there yet.", next: "Ask the patient to file the record with the hospital, then try again." },
  UploadNotFound: { title: "The hospital server no longer knows this upload (it may have expired).", next: "Start the upload again." },
  RecordNotFound: { title: "The hospital server does not have this record.", next: "Ask the hospital or doctor whether it was uploaded." },
  NotFound: { title: "The hospital server does not know this address.", next: "Check the hospital's server address in the directory." },
  MethodNotAllowed: { title: "The hospital server refused the kind of request.", next: "Check the hospital's server address in the directory." },
  RequestTimeout: { title: "The hospital server gave up waiting for the request.", next: RETRY },
  Replay: { title: "This signed request was already used once.", next: "Try again: a new request will be signed." },
  UploadIncomplete: { title: "The upload is missing parts.", next: "Resume the upload." },
  UploadCompleted: { title: "This upload is already complete.", next: "Nothing more to send." },
  UploadBusy: { title: "The hospital server is still finishing this upload.", next: "Wait a few seconds and try again." },
  RecordExists: { title: "The hospital server already has this record.", next: "Nothing more to upload." },
  IndexExists: { title: "A different entry for this record is already filed at the hospital.", next: "This record was filed already; if it was not you, tell the hospital." },
  NotDeletedOnChain: { title: "The record is not marked deleted on the blockchain, so the server keeps it.", next: "Mark it deleted on the blockchain first." },
  RecordDeletedOnChain: { title: "This record was marked deleted on the blockchain.", next: "Ask the doctor or hospital for a new copy if you still need it." },
  RecordRetired: { title: "The hospital deleted this record (retention period or deletion).", next: "Ask the hospital." },
  PayloadTooLarge: { title: "The request is too large for the hospital server.", next: REPORT },
  PartTooLarge: { title: "A part of the upload is too large.", next: "Restart the upload." },
  RecordTooLarge: { title: "The record is larger than the hospital server accepts.", next: "Ask the hospital for its size limit." },
  RangeNotSatisfiable: { title: "The download could not resume where it stopped.", next: "Download the record again from the start." },
  RateLimited: { title: "Too many requests to the hospital server.", next: "Wait a minute and try again." },
  UploadQuotaExceeded: { title: "You have too many unfinished uploads at this hospital.", next: "Finish or cancel an earlier upload, then try again." },
  Internal: { title: "The hospital server failed.", next: "Try again later; if it persists, tell the hospital." },
  ChainNotConfigured: { title: "The hospital server is not connected to the blockchain.", next: "Tell the hospital: its server needs its blockchain settings." },
  AccessNotConfigured: { title: "The hospital server is not set up to give access yet.", next: "Tell the hospital: its server needs its authority and name settings." },
  UploadCapacityExceeded: { title: "The hospital server is full of unfinished uploads.", next: "Try again later." },
  StorageFull: { title: "The hospital server's storage is full.", next: "Try again later, or tell the hospital." },
  RelayNotConfigured: { title: "This hospital does not send grants on patients' behalf.", next: "Send the grant from your own account instead (untick the relay option), or ask the hospital to run its relayer." },
};

/** The registry contract's custom errors (contracts/EhrRegistry.sol), by name. */
const REVERTS: Record<string, Entry> = {
  NotAuthority: { title: "Only the health authority's account may do this.", next: "Connect the health authority's account in your wallet." },
  ZeroAddress: { title: "The doctor's address is empty.", next: "Check the doctor's code." },
  InvalidProtocolKey: { title: "The doctor's key in the code is not valid.", next: "Ask the doctor for his code again." },
  InvalidValidity: { title: "The validity period is empty.", next: "Enter a validity of at least one day." },
  CertificateExists: { title: "A certificate with this number is already registered.", next: "Use the next free number (reload the page to see it)." },
  UnknownCertificate: { title: "No certificate with this number is registered.", next: "Reload the list of certificates." },
  AlreadyRevoked: { title: "This certificate is already revoked.", next: "Reload the list of certificates." },
  InvalidHash: { title: "The record's fingerprint is empty.", next: REPORT },
  NotCertifiedDoctor: { title: "Your certificate does not allow this now (unknown, revoked, expired or another doctor's).", next: "Check your certificate with the health authority." },
  AlreadyAnchored: { title: "This record is already registered on the blockchain.", next: "Nothing more to do." },
  NotAnchored: { title: "This record is not registered on the blockchain.", next: "Check the record." },
  NotAnchorOwner: { title: "Only the doctor who registered the record, or the authority, may do this.", next: "Use the account that registered the record." },
  AlreadyDeleted: { title: "This record is already marked deleted.", next: "Nothing more to do." },
  InvalidPoint: { title: "The grant's data is not valid.", next: REPORT },
  InvalidCiphertext: { title: "The grant's sealed pass has the wrong length.", next: REPORT },
  NotRecordPatient: { title: "Only the record's patient may ask for its deletion, from her own account.", next: "Connect the account the record was made for, and use the record as you received it." },
  InvalidHospital: { title: "The hospital's name is empty or too long.", next: "Enter a name of 1 to 255 characters." },
  InvalidEndpoint: { title: "The server address is too long.", next: "Enter an address of at most 256 characters." },
};

/**
 * EIP-1193 / JSON-RPC error codes of wallets, mapped to portal codes
 * (4001 user rejected, -32002 request already pending, 4100 unauthorized,
 * 4200 unsupported method, 4900 disconnected, 4901 chain disconnected,
 * 4902 unknown chain).
 */
export const WALLET_CODES: Readonly<Record<number, PortalCode>> = {
  4001: "UserRejected",
  [-32002]: "RequestPending",
  4100: "WalletUnauthorized",
  4200: "WalletUnsupported",
  4900: "WalletDisconnected",
  4901: "ChainDisconnected",
  4902: "ChainNotAdded",
  [-32601]: "WalletUnsupported",
};

/** A value's own `code` property, if it has one. */
function codeOf(err: unknown): unknown {
  return typeof err === "object" && err !== null && "code" in err ? (err as { code: unknown }).code : undefined;
}

/** A value's `message`, or its text. */
function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === "object" && err !== null && "message" in err) return String((err as { message: unknown }).message);
  return String(err);
}

/** Whether `err` is the record-server client's `ServerError` (`{ code, status, message }`). */
function isServerError(err: unknown): err is { code: string; status: number; message: string } {
  return typeof codeOf(err) === "string" && typeof (err as { status?: unknown }).status === "number";
}

/** Converts an error a wallet threw (EIP-1193 `{code, message, data}`) into a PortalError; others pass as they are. */
export function walletError(err: unknown): unknown {
  if (err instanceof PortalError || err instanceof EhrchainError) return err;
  const code = codeOf(err);
  if (typeof code === "number") {
    const portal = WALLET_CODES[code] ?? "WalletFailed";
    return new PortalError(portal, `wallet error ${code}: ${messageOf(err)}`, err);
  }
  return err;
}

/** The plain explanation of any error the portal can meet. */
export function explain(err: unknown): Explanation {
  const detail = messageOf(err);
  const make = (code: string, entry: Entry | undefined, prefix = ""): Explanation => ({
    code,
    title: entry?.title ?? "Something went wrong.",
    detail: prefix + detail,
    next: entry?.next ?? RETRY,
  });
  if (err instanceof PortalError) {
    // Form and code errors carry their own plain sentence naming the field: show it as the title.
    const own = err.code === "InvalidInput" || err.code === "InvalidCode";
    const entry = PORTAL[err.code];
    return make(err.code, own ? { title: err.message, next: entry.next } : entry);
  }
  if (err instanceof EhrchainError) {
    const revert = err.revert?.name;
    if (revert !== undefined && REVERTS[revert]) return make(revert, REVERTS[revert]);
    return make(err.code, PACKAGE[err.code]);
  }
  if (isServerError(err)) {
    const entry = SERVER[err.code as ServerOnlyCode] ?? PACKAGE[err.code as ErrorCode] ?? PORTAL[err.code as PortalCode];
    const prefix = err.status > 0 ? `The hospital server answered ${err.status}: ` : "";
    return make(err.code, entry, prefix);
  }
  if (err instanceof Error && err.name === "SaveError" && typeof codeOf(err) === "string") {
    // save.ts's SaveFailed / SaveUnsupported carry their own plain sentence saying what to do.
    return make(String(codeOf(err)), { title: "The record could not be saved on this computer.", next: err.message });
  }
  if (err instanceof DOMException && err.name === "AbortError") {
    return { code: "Aborted", title: "Stopped.", detail, next: "Start again when you are ready." };
  }
  if (err instanceof DOMException && err.name === "QuotaExceededError") {
    return { code: "QuotaExceeded", title: "This browser's storage for the portal is full.", detail, next: "Free some disk space or site data, then try again." };
  }
  const code = codeOf(err);
  if (typeof code === "number") {
    const portal = WALLET_CODES[code] ?? "WalletFailed";
    return make(String(code), PORTAL[portal]);
  }
  if (err instanceof TypeError && /fetch|network|load failed/i.test(detail)) {
    return make("NetworkError", { title: "A server does not answer (network error).", next: "Check your connection and try again." });
  }
  return make("Unknown", undefined);
}

/** Every code `explain` has a table entry for (portal, package, server, revert), for tests and docs. */
export function explainedCodes(): string[] {
  return [...Object.keys(PORTAL), ...Object.keys(PACKAGE), ...Object.keys(SERVER), ...Object.keys(REVERTS)];
}
