// The Node.js build has no Web Workers: record jobs run on the calling
// thread there (RecordEncryptor/RecordDecryptor.transform(), on Node's
// WebCrypto).
import { EhrchainError } from "./errors.js";

export function spawnRecordWorker(): Worker {
  throw new EhrchainError(
    "EngineFailed",
    "Web Workers are not available in Node.js: use RecordEncryptor/RecordDecryptor.transform() (WebCrypto-accelerated there too)",
  );
}
