// A user's TypeScript file that uses every export of the package, compiled
// with `tsc --strict` under the `lib` the README gives (tests/types/run.mjs),
// once as a bundler user (moduleResolution "bundler") and once as a Node.js
// user (nodenext), then run: it must type-check with no `any` leaking out
// (`noImplicitAny`, and the `Exact` checks below) and work.
import {
  EhrchainError, errorCodes, WasmObject,
  Key, addressOf, checksumAddress, compressPublicKey,
  sha256, sha3_256, keccak256, hmacSha256, h1,
  hashMessage, recoverMessage, hashTypedData, recoverTypedData,
  certificateTypedData, issueCertificate, assembleCertificate, verifyCertificate, parseCertificate,
  RecordEncryptor, RecordDecryptor, recordAssociatedData, generateRecordKey,
  generateAnchorSalt, anchorCommitment, confirmAnchor,
  sealHandoff, openHandoff, checkHandoffAnchor, generateFilingSecret, filingCommitment,
  MaskKey, Scanner, confirmGrant,
  accessRequestTypedData, assembleAccessRequest, signAccessRequest, verifyAccessRequest,
  uploadRequestTypedData, assembleUploadRequest, signUploadRequest,
  registerDoctorTx, revokeDoctorTx, anchorRecordTx, markDeletedTx, authoriseTx,
  recordStatusCall, certificateStatusCall, authorisationCountCall, decodeRecordStatus, decodeCertificateStatus,
  decodeRegistryLogs, anchoredEhFromReceipt, scanAuthorisations, authorisedTopic, decodeRegistryRevert,
  signTransaction, eciesSeal, eciesOpen,
  encryptInWorker, decryptInWorker, createRecordWorker, recordWorkersSupported, scanInbox,
  markDeletedByPatientTx, unlockMessage, unlockKeys, listHospitalTx, hospitalEndpointCall, decodeHospitalEndpoint, hospitalListedTopic,
} from "ehrchain";
import type {
  Address, BytesLike, Hex, RecordContext, Uint64, UnixSeconds, ErrorCode, RegistryRevert,
  CertificateFields, VerifyCertificateOptions, EncryptOptions, DecryptOptions, AnchorOpening, CertifiedAnchor,
  RegistryAnswers, Handoff, MaskedRecord, Unmasked, AuthorisationParts, GrantRecord, OpenedGrant, GrantProof,
  GrantSignature, AccessFields, VerifyRequestOptions, VerifiedRequest, UploadFields, TxRequest, Registration,
  AnchorFields, RecordStatus, CertificateStatus, LogPosition, RegistryEvent, DecodeLogsOptions,
  FoundAuthorisation, LogLike, ReceiptLike, TxFields, SignedTx, Quantity,
  RecordEngine, RecordJob, RecordJobOptions, DecryptJobOptions, RecordJobResult, RecordProgress,
  InboxScanOptions, InboxProgress, InboxEvent, Eip1193Like, UnlockedKeys, HospitalEntry, PatientRecord,
} from "ehrchain";

/** Compiles only if `T` is exactly `U` (so an `any` result would fail). */
type Exact<T, U> = (<G>() => G extends T ? 1 : 2) extends <G>() => G extends U ? 1 : 2 ? true : false;
function exact<T, U>(_proof: Exact<T, U>): void {}

const registry: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const now: UnixSeconds = Math.floor(Date.now() / 1000);
const hospital = "St Mary's";
const context: RecordContext = { hospital, time: now };

// Keys, hashes, signatures.
using authority = Key.generate();
using doctor = Key.generate();
using protocol = Key.fromBytes(Key.generate().exportSecret());
const pk: Uint8Array = protocol.publicKey({ uncompressed: true });
exact<ReturnType<typeof addressOf>, string>(true);
const addr: Address = checksumAddress(addressOf(compressPublicKey(pk)).slice(2));
const digests: Uint8Array[] = [sha256(new Uint8Array()), sha3_256(pk), keccak256(pk), hmacSha256(pk, pk), h1(pk), hashMessage(pk)];
const message = new TextEncoder().encode("hello");
const signer: Address = recoverMessage(message, doctor.signMessage(message));

// Certificates.
const fields: CertificateFields<BytesLike> = {
  doctor: doctor.address, protocolKey: protocol.publicKey(), hospital, validFrom: now - 60, validUntil: now + 3600, serial: 1,
};
const typed: string = certificateTypedData(fields);
const certificate: string = assembleCertificate(typed, authority.signTypedData(typed));
const same: boolean = certificate === issueCertificate(authority, fields);
const verifyOptions: VerifyCertificateOptions = { authority: authority.address, at: now };
const verified: CertificateFields = verifyCertificate(certificate, verifyOptions);
exact<typeof verified.protocolKey, Uint8Array>(true);
const parsed = parseCertificate(certificate);
const hashOfTyped: Uint8Array = hashTypedData(typed);
const certifier: Address = recoverTypedData(typed, authority.signTypedData(typed));

// Records.
const recordKey = generateRecordKey();
const aad = recordAssociatedData(context);
const encOptions: EncryptOptions = { segmentSize: 4096 };
using enc = new RecordEncryptor(recordKey, aad, encOptions);
const ciphertext = new Uint8Array([...enc.push(message), ...enc.finish()]);
const eh: Uint8Array | undefined = enc.hash;
if (eh === undefined) throw new Error("finished encryptors have a hash");
const decOptions: DecryptOptions = { segmentSize: 4096, expectedHash: eh };
using dec = new RecordDecryptor(recordKey, aad, decOptions);
const plain = new Uint8Array([...dec.push(ciphertext), ...dec.finish()]);
const stream: TransformStream<Uint8Array, Uint8Array> = new RecordEncryptor(recordKey, aad).transform();
const engine: RecordEngine = "webcrypto";
const onWebCrypto = new RecordDecryptor(recordKey, aad, { engine, expectedHash: eh });
onWebCrypto.free();

// The inbox: matches as found, progress to resume from.
async function inbox(provider: Eip1193Like, key: Key, saved: number): Promise<number> {
  const opts: InboxScanOptions = { registry: "0x5FbDB2315678afecb367f032d93F642f64180aa3", provider, fromBlock: saved + 1, workers: 2 };
  let scannedTo = saved;
  for await (const e of scanInbox(key, opts)) {
    const ev: InboxEvent = e;
    if (ev.kind === "match") console.log(ev.authorisation.seq, ev.blockNumber);
    else { const p: InboxProgress = ev.progress; scannedTo = p.scannedTo; }
  }
  return scannedTo;
}
void inbox;

// Records off the main thread (browsers; Node has no Web Workers).
if (recordWorkersSupported()) {
  const ac = new AbortController();
  const jobOptions: RecordJobOptions = {
    key: recordKey, associatedData: aad, signal: ac.signal,
    onProgress: (p: RecordProgress) => console.log(p.bytesDone, p.totalBytes, p.mbPerSecond.toFixed(1), p.secondsLeft),
  };
  const job: RecordJob = encryptInWorker(new Blob([message]), jobOptions);
  const worker = createRecordWorker();
  const decOpts: DecryptJobOptions = { ...jobOptions, expectedHash: eh, worker };
  const back: RecordJob = decryptInWorker(job.output, decOpts);
  void back.done.then((r: RecordJobResult) => exact<typeof r.hash, Uint8Array>(true)).finally(() => worker.terminate());
}

// Anchors and the handoff.
const anchorSalt = generateAnchorSalt();
const opening: AnchorOpening = { anchorSalt, recordType: "radiology" };
const commitment = anchorCommitment({ ...opening, doctor: doctor.address, patient: authority.address });
const filingSecret = generateFilingSecret();
const handoff: Handoff<BytesLike> = { ...context, ...opening, txId: "0x" + "11".repeat(32), recordKey, filingSecret, eh };
using patientKey = Key.generate();
const opened: Handoff = openHandoff(patientKey, sealHandoff(patientKey.publicKey(), handoff));
const filing = filingCommitment(opened.filingSecret);

// Masks and grants.
using maskKey = MaskKey.generate();
const masked: MaskedRecord = maskKey.mask(opened);
const unmasked: Unmasked = maskKey.unmask(opened, masked);
const x: Uint8Array = maskKey.index(opened);
const grantRecord: GrantRecord = opened;
const parts: AuthorisationParts = maskKey.authorise(protocol.publicKey(), grantRecord, patientKey);
const grantTyped: string = maskKey.grantTypedData(protocol.publicKey(), grantRecord);
const signed: GrantSignature = { signature: patientKey.signTypedData(grantTyped), patient: patientKey.address };
const parts2: AuthorisationParts = maskKey.authoriseSigned(protocol.publicKey(), grantRecord, signed);
using scanner = new Scanner(protocol);
const mine: boolean = scanner.matches(parts) && scanner.matches(parts2);
{
  using grant: OpenedGrant = scanner.open(parts);
  const proof: GrantProof = grant;
  const owned: MaskKey = grant.maskKey;
  const again: Unmasked = owned.unmask(grant, masked);
  void [proof, again];
}

// Requests.
const access: AccessFields = { hospital, w: x, now, ttl: 300 };
const request: string = signAccessRequest(doctor, certificate, access);
const requestTyped: string = accessRequestTypedData(access);
const request2: string = assembleAccessRequest(requestTyped, doctor.signTypedData(requestTyped), certificate);
const upload: UploadFields = { hospital, eh, size: ciphertext.length, filing, now, ttl: 300 };
const uploadTyped = uploadRequestTypedData(upload);
const uploads: string[] = [signUploadRequest(doctor, certificate, upload), assembleUploadRequest(uploadTyped, doctor.signTypedData(uploadTyped), certificate)];

// Registry calls, views, events, receipts, reverts.
const registration: Registration = parsed;
const txs: TxRequest[] = [
  registerDoctorTx(registry, registration),
  revokeDoctorTx(registry, 1n),
  anchorRecordTx(registry, { eh, commitment, recordTime: now, serial: 1 } satisfies AnchorFields),
  markDeletedTx(registry, eh),
  authoriseTx(registry, parts),
  recordStatusCall(registry, eh),
  certificateStatusCall(registry, 1),
  authorisationCountCall(registry),
];
const data: Hex = txs[0]!.data;
const logs: LogLike[] = [];
const decodeOptions: DecodeLogsOptions = { skipForeign: true };
const events: RegistryEvent[] = decodeRegistryLogs(registry, logs, decodeOptions);
for (const e of events) {
  const where: LogPosition = e;
  if (e.event === "RecordAnchored") { const h: Uint8Array = e.eh; const s: Uint64 = e.serial; void [h, s, where]; }
}
const found: FoundAuthorisation[] = scanAuthorisations(scanner, registry, logs);
for (const f of found) {
  // A found authorisation carries its view tag and goes as it is to open and authoriseTx.
  const tag: number = f.viewTag;
  const again: AuthorisationParts = f;
  void [tag, scanner.matches(f), authoriseTx(registry, again)];
  using g: OpenedGrant = scanner.open(f);
  void g;
}
for (const e of events) if (e.event === "Authorised") { const t: number = e.viewTag; void t; }
// Parts as hex text (what a relayer might hold) type-check too.
function relay(hexParts: AuthorisationParts<string>): TxRequest { return authoriseTx(registry, hexParts); }
void relay;
const topic: Hex = authorisedTopic();
function onReceipt(receipt: ReceiptLike): Uint8Array { return anchoredEhFromReceipt(registry, receipt); }
function onAnswers(answers: RegistryAnswers): CertifiedAnchor[] {
  const status: RecordStatus = decodeRecordStatus(answers.recordStatus);
  const cert: CertificateStatus = decodeCertificateStatus(answers.certificateStatus);
  const fromHandoff: CertifiedAnchor = checkHandoffAnchor(opened, patientKey.address, answers);
  void [status.commitment satisfies Uint8Array, cert.revoked satisfies boolean];
  return [confirmAnchor(eh!, answers), confirmGrant(opened as unknown as GrantProof, answers), fromHandoff];
}
function onRequest(json: string, certificateStatus: string): VerifiedRequest {
  const options: VerifyRequestOptions = { authority: authority.address, hospital, now, maxTtl: 600, certificateStatus };
  return verifyAccessRequest(json, options);
}
const revert: EhrchainError | undefined = decodeRegistryRevert("0x");
const named: RegistryRevert | undefined = revert?.revert;
const value: Quantity = 10n ** 18n;
const tx: TxFields = { chainId: 31337, nonce: 0, gas: 21_000n, maxFeePerGas: 10n ** 9n, maxPriorityFeePerGas: "1000000000", value, to: addr };
const signedTx: SignedTx = signTransaction(doctor, tx);

// ECIES, errors.
const sealed = eciesSeal(protocol.publicKey(), message);
const roundTrip: Uint8Array = eciesOpen(protocol, sealed);
try {
  Key.fromBytes(new Uint8Array(32));
} catch (e) {
  if (e instanceof EhrchainError) {
    const code: ErrorCode = e.code;
    if (!errorCodes().includes(code)) throw new Error("unknown code");
  }
}
const isObject: boolean = protocol instanceof WasmObject && !protocol.freed;

// Unlocking a protocol key with a wallet signature; the hospital directory.
const unlockText: string = unlockMessage(doctor.address);
const unlocked: UnlockedKeys = unlockKeys(doctor.address, doctor.signMessage(new TextEncoder().encode(unlockText)));
const storageKey: Uint8Array = unlocked.storageKey;
unlocked.protocolKey.free();
storageKey.fill(0);
const entry: HospitalEntry = { hospital: "St Mary's Hospital", endpoint: "https://records.stmarys.example" };
const listing: TxRequest = listHospitalTx(registry, entry);
const lookup: TxRequest = hospitalEndpointCall(registry, entry.hospital);
const listedAt: string = decodeHospitalEndpoint("0x" + "00".repeat(31) + "20" + "00".repeat(32));
const directoryTopic: Hex = hospitalListedTopic();
for (const e of events) if (e.event === "HospitalListed") { const h: string = e.hospital; const u: string = e.endpoint; void [h, u]; }

const patientRecord: PatientRecord = opened;
const tombstone: TxRequest = markDeletedByPatientTx(registry, patientRecord);
void [unlockText, listing, lookup, listedAt, directoryTopic, tombstone];
void [digests, signer, same, hashOfTyped, certifier, plain, stream, unmasked, mine, request, request2, uploads,
  data, found, topic, onReceipt, onAnswers, onRequest, named, signedTx, roundTrip, isObject];
console.log("usage ok");
