// The doctor's record pipeline (www/README.md "Upload", docs/PACKAGE.md
// "Records at browser speed"): encrypt in a worker into the origin-private
// file system (OPFS), sign the upload request with the wallet, upload the
// parts from OPFS (retrying cut parts), complete, anchor on chain, seal the
// handoff to the patient. Each record is kept in the account's store at
// every stage, so a closed tab or a refused signature loses nothing: the
// record is listed as pending and `runRecord` continues from its stage
// (asking the server which parts it still lacks). Each stored record is
// sealed under the session's storage key (it names the patient, the record
// and its anchoring); the record key, filing secret and anchor salt are
// sealed once more inside it, and wiped from memory once used.

import {
  anchorCommitment, anchorRecordTx, assembleUploadRequest, certificateStatusCall, compressPublicKey,
  decodeCertificateStatus, decodeRecordStatus, decodeRegistryLogs, encryptInWorker, filingCommitment,
  generateAnchorSalt, generateFilingSecret, generateRecordKey, parseCertificate, recordAssociatedData,
  recordStatusCall, sealHandoff, uploadRequestTypedData, verifyCertificate, type CertificateFields,
} from "ehrchain";
import { eventTopic, toHex } from "./chain";
import type { PersonCode } from "./codes";
import type { Context } from "./context";
import { endpointOf } from "./directory";
import { explain, PortalError } from "./errors";
import { opfsRoot, opfsWritable } from "./opfs";
import * as server from "./server";
import { openSecret, sealSecret, type SealedEntry } from "./store";
import type { ProgressState } from "./ui";

/** Where a record is in its pipeline; each stage is stored before the next starts. */
export type Stage = "encrypting" | "encrypted" | "uploading" | "uploaded" | "anchored" | "done";

/** A record the doctor created, as kept in the store (`record/<id>`, sealed: store.ts `putSealed`). Bytes are `0x`-hex. */
export interface PendingRecord {
  readonly id: string;
  readonly stage: Stage;
  /** When the doctor created it (Unix seconds). */
  readonly created: number;
  /** `H1`: the doctor's hospital (his certificate's). */
  readonly hospital: string;
  /** `T1`: the record's time (Unix seconds). */
  readonly time: number;
  readonly recordType: string;
  /** The patient's account and protocol public key. */
  readonly patient: string;
  readonly patientKey: string;
  /** The chosen file's name and size (plaintext). */
  readonly fileName: string;
  readonly plainSize: number;
  /** The doctor's certificate serial (anchors are made under it). */
  readonly serial: number;
  /** `u8 len(K_P) ‖ K_P ‖ F ‖ salt`, sealed under the storage key: never in clear. */
  readonly secrets: Uint8Array;
  /** `filingCommitment(F)` and the anchor commitment: public values. */
  readonly filing: string;
  readonly commitment: string;
  /** Once encrypted: the ciphertext's hash and size (the file in OPFS). */
  readonly eh?: string;
  readonly size?: number;
  /** Once the upload is open. */
  readonly endpoint?: string;
  readonly uploadId?: string;
  /** The block before the anchoring was sent (to find its transaction after a reload). */
  readonly anchorFrom?: number;
  /** Once anchored: the anchoring transaction's hash. */
  readonly txId?: string;
  /** Once sealed: the handoff for the patient (hex), safe to keep (only she can open it). */
  readonly handoff?: string;
}

/** What the view learns while a record runs. */
export interface RunHooks {
  /** Cancels the run (the user's Cancel, or the session's flow signal). */
  readonly signal: AbortSignal;
  /** A new stage was stored, or a step began (`text`: a plain sentence for the status line). */
  onStatus(record: PendingRecord, text: string): void;
  /** Progress of the encryption or upload (bytes, MB/s, time left). */
  onProgress(phase: "encrypt" | "upload", state: ProgressState): void;
}

/** The stored certificate key (public JSON: not sealed). */
const CERTIFICATE_KEY = "certificate";
/** The store prefix of records. */
const RECORD_PREFIX = "record/";
/** Seconds an upload request stays valid (servers accept up to 600). */
const UPLOAD_TTL = 300;
/** Parts uploaded at once. */
const PARALLEL_PARTS = 3;
/** Attempts per part before the run stops and offers "Resume". */
const PART_ATTEMPTS = 6;
/** `RecordAnchored(bytes32 indexed eh, address indexed anchoredBy, uint64, bytes32, uint64, uint64)`. */
const RECORD_ANCHORED = eventTopic("RecordAnchored(bytes32,address,uint64,bytes32,uint64,uint64)");

/** Records being run on this page (one run per record at a time). */
const running = new Set<string>();

// ---------------------------------------------------------------- certificate

/** A checked certificate: its JSON text and fields. */
export interface Certificate {
  readonly json: string;
  readonly fields: CertificateFields;
}

/** Now, in Unix seconds. */
function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** Whether two byte strings are equal. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Checks certificate JSON for the unlocked doctor: issued by this portal's
 * authority and valid now, for his account and protocol key, registered on
 * chain for him and not revoked. Returns it; throws what to fix.
 */
export async function checkCertificate(ctx: Context, json: string): Promise<Certificate> {
  const text = json.trim();
  const fields = parseCertificate(text);
  verifyCertificate(text, { authority: ctx.config.authority, at: now() });
  if (fields.doctor.toLowerCase() !== ctx.session.account.toLowerCase()) {
    throw new PortalError("DoctorNotCertified", `This certificate is for account ${fields.doctor}, not for the connected account ${ctx.session.account}.`);
  }
  if (!sameBytes(fields.protocolKey, compressPublicKey(ctx.session.protocolKey.publicKey()))) {
    throw new PortalError("DoctorNotCertified", "This certificate names another protocol key than this account's: give the authority your doctor code again.");
  }
  const status = decodeCertificateStatus(await ctx.chain.call(certificateStatusCall(ctx.config.registry, fields.serial)));
  if (!status.registered) throw new PortalError("DoctorNotCertified", `Certificate ${fields.serial} is not registered on the blockchain yet.`);
  if (status.doctor.toLowerCase() !== fields.doctor.toLowerCase()) {
    throw new PortalError("DoctorNotCertified", `Certificate number ${fields.serial} is registered to another doctor on the blockchain.`);
  }
  if (status.revoked) throw new PortalError("DoctorNotCertified", `Certificate ${fields.serial} was revoked by the health authority.`);
  return { json: text, fields };
}

/** Checks and stores the doctor's certificate (public: stored as it is). */
export async function saveCertificate(ctx: Context, json: string): Promise<Certificate> {
  const certificate = await checkCertificate(ctx, json);
  await ctx.session.store.put(CERTIFICATE_KEY, certificate.json);
  return certificate;
}

/** The stored certificate's JSON, if any (unchecked). */
export async function storedCertificate(ctx: Context): Promise<string | undefined> {
  return ctx.session.store.get<string>(CERTIFICATE_KEY);
}

// ---------------------------------------------------------------- store

/** Whether `v` is a record as an older portal stored it (in clear, at `record/<its id>`). */
function isPendingRecord(v: unknown): v is PendingRecord {
  return typeof v === "object" && v !== null && typeof (v as { id?: unknown }).id === "string" &&
    typeof (v as { stage?: unknown }).stage === "string";
}

/**
 * Every record of this account in the store, newest first, and the stored
 * entries that do not open (`StoredSecretUnreadable`). Records an older
 * portal stored in clear are sealed in place first.
 */
export async function listRecords(ctx: Context): Promise<{ records: PendingRecord[]; unreadable: SealedEntry<PendingRecord>[] }> {
  const store = ctx.session.store;
  await store.sealClear(RECORD_PREFIX, isPendingRecord);
  const records: PendingRecord[] = [];
  const unreadable: SealedEntry<PendingRecord>[] = [];
  for (const entry of await store.listSealed<PendingRecord>(RECORD_PREFIX)) {
    if (entry.error === undefined && isPendingRecord(entry.value) && RECORD_PREFIX + entry.value.id === entry.key) records.push(entry.value);
    else unreadable.push(entry.error ? entry : { key: entry.key, error: new PortalError("StoredSecretUnreadable", `the value at "${entry.key}" is not a record`) });
  }
  return { records: records.sort((a, b) => b.created - a.created), unreadable };
}

/** The stored record `id`, opened (`undefined` if absent; `StoredSecretUnreadable` if it does not open). */
export async function loadRecord(ctx: Context, id: string): Promise<PendingRecord | undefined> {
  return ctx.session.store.getSealed<PendingRecord>(RECORD_PREFIX + id);
}

/** Removes stored entries that do not open (`listRecords`'s `unreadable`), and the ciphertext they would have named. */
export async function discardUnreadable(ctx: Context, entries: readonly SealedEntry<PendingRecord>[]): Promise<void> {
  for (const { key } of entries) {
    if (!key.startsWith(RECORD_PREFIX)) continue;
    await removeCiphertext(key.slice(RECORD_PREFIX.length));
    await ctx.session.store.del(key);
  }
}

/** Stores `record` with `changes` (sealed); returns the new record. */
async function save(ctx: Context, record: PendingRecord, changes: Partial<PendingRecord>): Promise<PendingRecord> {
  const next = { ...record, ...changes };
  await ctx.session.store.putSealed(RECORD_PREFIX + record.id, next);
  return next;
}

/** The OPFS file name of a record's ciphertext. */
function opfsName(id: string): string {
  return `record-${id}.ehr`;
}

/** The OPFS root (`StorageUnavailable` where the browser has none). */
const opfs = opfsRoot;

/** Deletes a record's ciphertext from OPFS (nothing if absent). */
async function removeCiphertext(id: string): Promise<void> {
  try {
    await (await opfs()).removeEntry(opfsName(id));
  } catch {
    // absent already
  }
}

/** Forgets a record: abandons its open upload (best effort), deletes its ciphertext and its entry. */
export async function discardRecord(ctx: Context, record: PendingRecord): Promise<void> {
  if (record.stage === "uploading" && record.endpoint && record.uploadId) {
    await server.abortUpload(record.endpoint, record.uploadId).catch(() => undefined);
  }
  await removeCiphertext(record.id);
  await ctx.session.store.del(RECORD_PREFIX + record.id);
}

// ---------------------------------------------------------------- secrets

/** The three secrets of a record. The caller wipes them (`wipe`). */
interface Secrets {
  readonly recordKey: Uint8Array;
  readonly filingSecret: Uint8Array;
  readonly anchorSalt: Uint8Array;
}

/** `u8 len(K_P) ‖ K_P ‖ F ‖ salt`, sealed under the storage key; the packed copy is wiped. */
async function sealSecrets(storageKey: CryptoKey, s: Secrets): Promise<Uint8Array> {
  const packed = new Uint8Array(1 + s.recordKey.length + 64);
  packed[0] = s.recordKey.length;
  packed.set(s.recordKey, 1);
  packed.set(s.filingSecret, 1 + s.recordKey.length);
  packed.set(s.anchorSalt, 33 + s.recordKey.length);
  try {
    return await sealSecret(storageKey, packed);
  } finally {
    packed.fill(0);
  }
}

/** Opens a record's sealed secrets (`StoredSecretUnreadable` under another account). */
async function openSecrets(storageKey: CryptoKey, sealed: Uint8Array): Promise<Secrets> {
  const packed = await openSecret(storageKey, sealed);
  const n = packed[0] ?? 0;
  const secrets = {
    recordKey: packed.slice(1, 1 + n),
    filingSecret: packed.slice(1 + n, 33 + n),
    anchorSalt: packed.slice(33 + n, 65 + n),
  };
  packed.fill(0);
  return secrets;
}

/** Zeroes secrets once used. */
function wipe(s: Secrets): void {
  s.recordKey.fill(0);
  s.filingSecret.fill(0);
  s.anchorSalt.fill(0);
}

// ---------------------------------------------------------------- creating and running

/** What the doctor enters for a new record. */
export interface NewRecord {
  readonly file: File;
  readonly patient: PersonCode;
  readonly recordType: string;
  readonly certificate: Certificate;
}

/** Checks a record type: printable ASCII, at most 32 characters (docs/PROTOCOL.md §4.1). */
export function checkRecordType(text: string): string {
  const type = text.trim();
  if (!/^[\x20-\x7e]{0,32}$/.test(type)) {
    throw new PortalError("InvalidInput", "Record type: use at most 32 plain characters (letters, digits, spaces, punctuation; no accents).");
  }
  return type;
}

/** A random id for a new record. */
function newId(): string {
  return toHex(crypto.getRandomValues(new Uint8Array(8))).slice(2);
}

/**
 * Creates a record (draws its key, filing secret and anchor salt; stores it
 * sealed) and runs its pipeline from the start with `input.file`.
 */
export async function createRecord(ctx: Context, input: NewRecord, hooks: RunHooks): Promise<PendingRecord> {
  const cert = input.certificate.fields;
  const recordType = checkRecordType(input.recordType);
  const secrets = { recordKey: generateRecordKey(), filingSecret: generateFilingSecret(), anchorSalt: generateAnchorSalt() };
  let record: PendingRecord;
  try {
    record = {
      id: newId(),
      stage: "encrypting",
      created: now(),
      hospital: cert.hospital,
      time: now(),
      recordType,
      patient: input.patient.account,
      patientKey: toHex(input.patient.protocolKey),
      fileName: input.file.name,
      plainSize: input.file.size,
      serial: cert.serial,
      secrets: await sealSecrets(ctx.session.storageKey, secrets),
      filing: toHex(filingCommitment(secrets.filingSecret)),
      commitment: toHex(anchorCommitment({
        anchorSalt: secrets.anchorSalt, doctor: cert.doctor, patient: input.patient.account, recordType,
      })),
    };
  } finally {
    wipe(secrets);
  }
  await save(ctx, record, {});
  return runRecord(ctx, record, hooks, input.file);
}

/**
 * Runs a record's pipeline from its stored stage to the sealed handoff.
 * `file` (the plaintext) is needed only while the record is `encrypting`.
 * Stops at the first failure, with the record stored at its last stage:
 * run it again to resume.
 */
export async function runRecord(ctx: Context, start: PendingRecord, hooks: RunHooks, file?: File): Promise<PendingRecord> {
  if (running.has(start.id)) throw new PortalError("InvalidInput", "This record is already being processed on this page.");
  running.add(start.id);
  let record = start;
  try {
    while (record.stage !== "done") {
      hooks.signal.throwIfAborted();
      record = await step(ctx, record, hooks, file);
      hooks.onStatus(record, stageText(record.stage));
    }
    return record;
  } finally {
    running.delete(start.id);
  }
}

/** Whether a record is being run on this page now. */
export function isRunning(id: string): boolean {
  return running.has(id);
}

/** A plain sentence for a stored stage. */
export function stageText(stage: Stage): string {
  switch (stage) {
    case "encrypting": return "Not encrypted yet: choose the file again and resume.";
    case "encrypted": return "Encrypted; waiting for your signature to upload it.";
    case "uploading": return "Upload not finished: Resume sends the parts your hospital's record server is missing.";
    case "uploaded": return "Uploaded; waiting for your wallet to register it on the blockchain.";
    case "anchored": return "Registered on the blockchain; sealing the handoff for the patient.";
    case "done": return "Done: give the sealed handoff to the patient.";
  }
}

/** Runs one stage; returns the record stored at the next one. */
async function step(ctx: Context, record: PendingRecord, hooks: RunHooks, file?: File): Promise<PendingRecord> {
  switch (record.stage) {
    case "encrypting": return encrypt(ctx, record, hooks, file);
    case "encrypted": return openUpload(ctx, record, hooks);
    case "uploading": return upload(ctx, record, hooks);
    case "uploaded": return anchor(ctx, record, hooks);
    case "anchored": return seal(ctx, record, hooks);
    case "done": return record;
  }
}

// ---------------------------------------------------------------- (a) encrypt to OPFS

/** Encrypts `file` in a worker into the record's OPFS file; stores `eh` and the size. */
async function encrypt(ctx: Context, record: PendingRecord, hooks: RunHooks, file?: File): Promise<PendingRecord> {
  if (!file) throw new PortalError("InvalidInput", "The encryption of this record did not finish: choose the same file again, then press Resume.");
  if (file.size !== record.plainSize) {
    throw new PortalError("InvalidInput", `That file is ${file.size} bytes; this record's file "${record.fileName}" was ${record.plainSize} bytes. Choose the same file.`);
  }
  hooks.onStatus(record, "Encrypting the file on this computer…");
  await checkSpace(file.size);
  const name = opfsName(record.id);
  const { recordKey } = await openSecrets(ctx.session.storageKey, record.secrets).then((s) => {
    s.filingSecret.fill(0);
    s.anchorSalt.fill(0);
    return s;
  });
  try {
    // Written by the portal's OPFS writer worker through a sync access handle
    // where the browser has one, else by createWritable() (opfs.ts).
    const writable = await opfsWritable(name);
    let job: ReturnType<typeof encryptInWorker>;
    try {
      job = encryptInWorker(file, {
        key: recordKey,
        associatedData: recordAssociatedData({ hospital: record.hospital, time: record.time }),
        signal: hooks.signal,
        onProgress: (p) => hooks.onProgress("encrypt", stateOf(p)),
      });
      job.done.catch(() => undefined); // reported through pipeTo
      await job.output.pipeTo(writable);
    } catch (err) {
      await writable.abort(err).catch(() => undefined); // removes the partial file (a no-op if the pipe aborted it)
      await removeCiphertext(record.id);
      throw err;
    }
    const { hash, bytesOut } = await job.done;
    const written = (await (await (await opfs()).getFileHandle(name)).getFile()).size;
    if (written !== bytesOut) throw new PortalError("StorageUnavailable", `The encrypted file is ${written} bytes instead of ${bytesOut}: the browser's storage failed.`);
    return save(ctx, record, { stage: "encrypted", eh: toHex(hash), size: bytesOut });
  } finally {
    recordKey.fill(0);
  }
}

/** A job's progress as the progress bar takes it. */
function stateOf(p: { bytesDone: number; totalBytes: number | undefined; mbPerSecond: number; secondsLeft: number | undefined }): ProgressState {
  const state: { bytesDone: number; totalBytes?: number; mbPerSecond?: number; secondsLeft?: number } = { bytesDone: p.bytesDone, mbPerSecond: p.mbPerSecond };
  if (p.totalBytes !== undefined) state.totalBytes = p.totalBytes;
  if (p.secondsLeft !== undefined) state.secondsLeft = p.secondsLeft;
  return state;
}

/** Refuses to start when the browser's storage quota cannot hold the ciphertext. */
async function checkSpace(size: number): Promise<void> {
  const estimate = await navigator.storage?.estimate?.().catch(() => undefined);
  if (!estimate?.quota) return;
  const free = estimate.quota - (estimate.usage ?? 0);
  if (size * 1.01 + 1e6 > free) {
    throw new PortalError("StorageUnavailable", `The browser lets this site store ${(free / 1e6).toFixed(0)} MB more, and the encrypted record needs ${(size / 1e6).toFixed(0)} MB: free some disk space.`);
  }
}

// ---------------------------------------------------------------- (b) signed upload request

/** The wallet signs an upload request; the doctor's hospital's server opens the upload. */
async function openUpload(ctx: Context, record: PendingRecord, hooks: RunHooks): Promise<PendingRecord> {
  const certificate = await requireCertificate(ctx, record);
  const endpoint = await endpointOf(ctx, record.hospital);
  hooks.onStatus(record, "Sign the upload request in your wallet.");
  await ctx.wallet.ensureChain();
  const typed = uploadRequestTypedData({
    hospital: record.hospital, eh: record.eh as string, size: record.size as number, filing: record.filing, now: now(), ttl: UPLOAD_TTL,
  });
  const signature = await ctx.wallet.signTypedData(typed);
  hooks.signal.throwIfAborted();
  const authorization = assembleUploadRequest(typed, signature, certificate);
  hooks.onStatus(record, "Opening the upload at your hospital's record server…");
  try {
    const opened = await withRetry(() => server.createUpload(endpoint, {
      eh: record.eh as string, size: record.size as number, filing: record.filing, authorization,
    }, hooks.signal), hooks.signal);
    return save(ctx, record, { stage: "uploading", endpoint, uploadId: opened.uploadId });
  } catch (err) {
    // Our eh is unique to this record: if the server has it, it is ours, already complete.
    if (err instanceof server.ServerError && err.code === "RecordExists") return save(ctx, record, { stage: "uploaded", endpoint });
    throw err;
  }
}

/** The stored certificate, for the record's serial (`DoctorNotCertified` when missing or another). */
async function requireCertificate(ctx: Context, record: PendingRecord): Promise<string> {
  const json = await storedCertificate(ctx);
  if (!json || parseCertificate(json).serial !== record.serial) {
    throw new PortalError("DoctorNotCertified", `The certificate (number ${record.serial}) this record was made under is not stored here: open it again above.`);
  }
  if (ctx.wallet.account?.toLowerCase() !== parseCertificate(json).doctor.toLowerCase()) {
    throw new PortalError("AccountChanged", "The wallet's account is not the certificate's doctor.");
  }
  return json;
}

// ---------------------------------------------------------------- (c, d) parts and completion

/** Uploads the parts the server lacks from the OPFS file, then completes the upload. */
async function upload(ctx: Context, record: PendingRecord, hooks: RunHooks): Promise<PendingRecord> {
  const endpoint = record.endpoint as string;
  const uploadId = record.uploadId as string;
  let state: server.UploadState;
  try {
    state = await withRetry(() => server.uploadStatus(endpoint, uploadId, hooks.signal), hooks.signal);
  } catch (err) {
    // The upload expired or was dropped: sign a new one (the ciphertext is still here).
    if (err instanceof server.ServerError && err.code === "UploadNotFound") return save(ctx, record, { stage: "encrypted" });
    throw err;
  }
  if (state.state !== "complete" && state.missing.length > 0) {
    const file = await ciphertext(record);
    await sendParts(file, state, record, hooks);
  }
  hooks.onStatus(record, "The hospital's server is checking the upload…");
  try {
    await withRetry(() => server.completeUpload(endpoint, uploadId, hooks.signal), hooks.signal);
  } catch (err) {
    if (err instanceof server.ServerError && err.code === "UploadIncomplete") return record; // upload the missing parts again
    throw err;
  }
  return save(ctx, record, { stage: "uploaded" });
}

/** The record's ciphertext in OPFS (`RecordUnknown` if the browser lost it). */
async function ciphertext(record: PendingRecord): Promise<File> {
  try {
    const file = await (await (await opfs()).getFileHandle(opfsName(record.id))).getFile();
    if (file.size === record.size) return file;
  } catch {
    // fall through
  }
  throw new PortalError("RecordUnknown", "The encrypted copy of this record is no longer in this browser: discard it and create the record again.");
}

/** Sends the missing parts, a few at a time; progress counts the parts the server acknowledged. */
async function sendParts(file: File, state: server.UploadState, record: PendingRecord, hooks: RunHooks): Promise<void> {
  const partSize = state.partSize as number;
  const total = file.size;
  const partBytes = (n: number) => Math.min(partSize, total - n * partSize);
  const queue = [...state.missing];
  let done = total - queue.reduce((sum, n) => sum + partBytes(n), 0);
  const startDone = done;
  const started = performance.now();
  const report = () => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? (done - startDone) / 1e6 / seconds : 0;
    const state: { bytesDone: number; totalBytes: number; mbPerSecond: number; secondsLeft?: number } = { bytesDone: done, totalBytes: total, mbPerSecond: rate };
    if (rate > 0) state.secondsLeft = (total - done) / 1e6 / rate;
    hooks.onProgress("upload", state);
  };
  hooks.onStatus(record, "Uploading the encrypted record…");
  report();
  let retrying = false;
  const onRetry = (err: unknown, seconds: number, attempt: number) => {
    retrying = true;
    hooks.onStatus(record, `${explain(err).title} Trying again in ${seconds} s (attempt ${attempt} of ${PART_ATTEMPTS}); the parts already sent are kept.`);
  };
  const worker = async () => {
    for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
      const part = n;
      const body = file.slice(part * partSize, part * partSize + partBytes(part), "application/octet-stream");
      await withRetry(() => server.putPart(record.endpoint as string, record.uploadId as string, part, body, hooks.signal), hooks.signal, onRetry);
      done += body.size;
      if (retrying) {
        retrying = false;
        hooks.onStatus(record, "Uploading the encrypted record…");
      }
      report();
    }
  };
  const workers = Array.from({ length: Math.min(PARALLEL_PARTS, queue.length) }, worker);
  const results = await Promise.allSettled(workers);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}

/**
 * Runs `action`, retrying transient server failures with exponential
 * backoff (1, 2, 4, 8, 16 s, or the server's `Retry-After`), telling
 * `onRetry` (the failure, the seconds to wait, the next attempt) before each
 * wait; then throws the last error (the view offers "Resume").
 */
async function withRetry<T>(
  action: () => Promise<T>,
  signal: AbortSignal,
  onRetry?: (err: unknown, seconds: number, attempt: number) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (!server.retryable(err) || attempt >= PART_ATTEMPTS) throw err;
      const wait = Math.min((err as server.ServerError).retryAfter ?? 2 ** (attempt - 1), 30);
      onRetry?.(err, wait, attempt + 1);
      await sleep(wait * 1000, signal);
    }
  }
}

/** Waits `ms`, or rejects with the signal's reason. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", stop, { once: true });
  });
}

// ---------------------------------------------------------------- (e) anchor

/** Anchors `eh` from the doctor's wallet (or finds the anchoring sent before a reload). */
async function anchor(ctx: Context, record: PendingRecord, hooks: RunHooks): Promise<PendingRecord> {
  await requireCertificate(ctx, record);
  const earlier = await findAnchoring(ctx, record);
  if (earlier) return save(ctx, record, { stage: "anchored", txId: earlier });
  const from = await ctx.chain.blockNumber();
  record = await save(ctx, record, { anchorFrom: from });
  hooks.onStatus(record, "Confirm the registration of the record in your wallet.");
  const tx = anchorRecordTx(ctx.config.registry, {
    eh: record.eh as string, commitment: record.commitment, recordTime: record.time, serial: record.serial,
  });
  try {
    const receipt = await ctx.wallet.send(tx, hooks.signal);
    return save(ctx, record, { stage: "anchored", txId: receipt.transactionHash });
  } catch (err) {
    const found = await findAnchoring(ctx, record).catch(() => undefined); // anchored meanwhile (another tab)?
    if (found) return save(ctx, record, { stage: "anchored", txId: found });
    throw err;
  }
}

/** The hash of the transaction that anchored the record's `eh` from this account, if it is anchored. */
async function findAnchoring(ctx: Context, record: PendingRecord): Promise<string | undefined> {
  const status = decodeRecordStatus(await ctx.chain.call(recordStatusCall(ctx.config.registry, record.eh as string)));
  if (!status.anchored) return undefined;
  if (status.anchoredBy.toLowerCase() !== ctx.session.account.toLowerCase()) {
    throw new PortalError("InvalidInput", "Someone else registered this record's fingerprint first: discard it and create the record again.");
  }
  const logs = await ctx.chain.getLogs({
    address: ctx.config.registry,
    topics: [RECORD_ANCHORED, record.eh as string],
    fromBlock: record.anchorFrom ?? ctx.config.deployBlock,
  });
  const event = decodeRegistryLogs(ctx.config.registry, logs, { skipForeign: true })
    .find((e) => e.event === "RecordAnchored" && e.anchoredBy.toLowerCase() === ctx.session.account.toLowerCase());
  return event?.transactionHash;
}

// ---------------------------------------------------------------- (f) handoff

/** Seals the handoff to the patient, stores it, and deletes the ciphertext from OPFS. */
async function seal(ctx: Context, record: PendingRecord, hooks: RunHooks): Promise<PendingRecord> {
  hooks.onStatus(record, "Sealing the handoff for the patient…");
  const secrets = await openSecrets(ctx.session.storageKey, record.secrets);
  let sealed: Uint8Array;
  try {
    sealed = sealHandoff(record.patientKey, {
      hospital: record.hospital, time: record.time, txId: record.txId as string, recordKey: secrets.recordKey,
      filingSecret: secrets.filingSecret, eh: record.eh as string, anchorSalt: secrets.anchorSalt, recordType: record.recordType,
    });
  } finally {
    wipe(secrets);
  }
  // The secrets are not needed any more: only the handoff (sealed to the patient) is kept.
  const done = await save(ctx, record, { stage: "done", handoff: toHex(sealed), secrets: new Uint8Array() });
  await removeCiphertext(record.id);
  return done;
}

/** A file name for a record's handoff. */
export function handoffFileName(record: PendingRecord): string {
  const type = record.recordType.replace(/[^A-Za-z0-9-]+/g, "-").replace(/^-+|-+$/g, "") || "record";
  return `handoff-${type}-${record.id}.txt`;
}

/** An AbortSignal aborted when any of `signals` is (AbortSignal.any is missing in older browsers). */
export function anySignal(...signals: AbortSignal[]): AbortSignal {
  const controller = new AbortController();
  for (const s of signals) {
    if (s.aborted) {
      controller.abort(s.reason);
      break;
    }
    s.addEventListener("abort", () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}
