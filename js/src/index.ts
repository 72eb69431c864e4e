// The package's public API: every export, by protocol concept. Conventions
// (docs/PACKAGE.md): bytes in as Uint8Array or hex, out as Uint8Array;
// times in Unix seconds; options objects for optional arguments; every
// error an EhrchainError with a stable code; objects that own wasm memory
// are freed with free() or `using`.

export type { Address, BytesLike, Hex, RecordContext, Uint64, UnixSeconds } from "./types.js";
export { EhrchainError, errorCodes, type ErrorCode, type RegistryRevert } from "./errors.js";
export { WasmObject } from "./handle.js";
export { Key, addressOf, checksumAddress, compressPublicKey } from "./keys.js";
export { sha256, sha3_256, keccak256, hmacSha256, h1 } from "./hashes.js";
export { hashMessage, recoverMessage, hashTypedData, recoverTypedData } from "./signatures.js";
export {
  certificateTypedData,
  issueCertificate,
  assembleCertificate,
  verifyCertificate,
  parseCertificate,
  type CertificateFields,
  type VerifyCertificateOptions,
} from "./certificates.js";
export {
  RecordEncryptor,
  RecordDecryptor,
  recordAssociatedData,
  generateRecordKey,
  type EncryptOptions,
  type DecryptOptions,
  type RecordEngine,
} from "./records.js";
export {
  encryptInWorker,
  decryptInWorker,
  createRecordWorker,
  recordWorkersSupported,
  type RecordJob,
  type RecordJobOptions,
  type DecryptJobOptions,
  type RecordJobResult,
  type RecordProgress,
} from "./jobs.js";
export {
  scanInbox,
  type InboxScanOptions,
  type InboxProgress,
  type InboxEvent,
  type Eip1193Like,
} from "./inbox.js";
export {
  generateAnchorSalt,
  anchorCommitment,
  confirmAnchor,
  type AnchorOpening,
  type CertifiedAnchor,
  type RegistryAnswers,
} from "./anchors.js";
export {
  sealHandoff,
  openHandoff,
  checkHandoffAnchor,
  generateFilingSecret,
  filingCommitment,
  type Handoff,
} from "./handoff.js";
export {
  MaskKey,
  Scanner,
  confirmGrant,
  type MaskedRecord,
  type Unmasked,
  type AuthorisationParts,
  type GrantRecord,
  type OpenedGrant,
  type GrantProof,
  type GrantSignature,
} from "./grants.js";
export {
  accessRequestTypedData,
  assembleAccessRequest,
  signAccessRequest,
  verifyAccessRequest,
  type AccessFields,
  type VerifyRequestOptions,
  type VerifiedRequest,
} from "./requests.js";
export { unlockMessage, unlockKeys, type UnlockedKeys } from "./unlock.js";
export { uploadRequestTypedData, assembleUploadRequest, signUploadRequest, type UploadFields } from "./uploads.js";
export {
  registerDoctorTx,
  revokeDoctorTx,
  anchorRecordTx,
  markDeletedTx,
  markDeletedByPatientTx,
  type PatientRecord,
  authoriseTx,
  recordStatusCall,
  certificateStatusCall,
  authorisationCountCall,
  decodeRecordStatus,
  decodeCertificateStatus,
  decodeRegistryLogs,
  anchoredEhFromReceipt,
  scanAuthorisations,
  authorisedTopic,
  listHospitalTx,
  hospitalEndpointCall,
  decodeHospitalEndpoint,
  hospitalListedTopic,
  type HospitalEntry,
  type TxRequest,
  type Registration,
  type AnchorFields,
  type RecordStatus,
  type CertificateStatus,
  type LogPosition,
  type RegistryEvent,
  type DecodeLogsOptions,
  type FoundAuthorisation,
} from "./registry.js";
export type { LogLike, ReceiptLike } from "./logs.js";
export { decodeRegistryRevert } from "./revert.js";
export { signTransaction, type TxFields, type SignedTx, type Quantity } from "./transactions.js";
export { eciesSeal, eciesOpen } from "./ecies.js";
