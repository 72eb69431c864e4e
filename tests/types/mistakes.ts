// Mistakes a user could make, each of which must fail to compile under
// `tsc --strict` (tests/types/run.mjs): every line below is preceded by
// `@ts-expect-error`, which itself fails the build if the line compiles.
import {
  Key, MaskKey, Scanner, RecordEncryptor, RecordDecryptor, issueCertificate, verifyCertificate,
  registerDoctorTx, anchorRecordTx, recordAssociatedData, signTransaction, decodeRecordStatus,
  decodeRegistryLogs, eciesOpen, sha256, confirmGrant, EhrchainError, encryptInWorker,
} from "ehrchain";

declare const key: Key;
declare const maskKey: MaskKey;
const registry = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

// @ts-expect-error Key has no public constructor.
new Key();
// @ts-expect-error MaskKey has no public constructor.
new MaskKey();
// @ts-expect-error A MaskKey is not a Key.
eciesOpen(maskKey, new Uint8Array());
// @ts-expect-error A string is not a Key.
new Scanner("0x01");
// @ts-expect-error publicKey takes an options object, not a boolean.
key.publicKey(true);
// @ts-expect-error Options are checked by name.
key.publicKey({ uncompresed: true });
// @ts-expect-error Bytes are Uint8Array or hex text, not numbers.
sha256(5);
// @ts-expect-error Content to hash is a Uint8Array: a string is never guessed to be text or hex.
sha256("abcd");
// @ts-expect-error Messages are bytes (new TextEncoder().encode(text)), not strings.
key.signMessage("hello");
// @ts-expect-error Bytes are not number arrays.
sha256([1, 2, 3]);
// @ts-expect-error The segment size goes in the options object.
new RecordEncryptor(new Uint8Array(16), new Uint8Array(), 4096);
// @ts-expect-error No undefined placeholder: expectedHash is an option.
new RecordDecryptor(new Uint8Array(16), new Uint8Array(), undefined, new Uint8Array(32));
// @ts-expect-error verifyCertificate takes an options object, not positional booleans.
verifyCertificate("{}", "0x00", 1, false);
// @ts-expect-error issueCertificate takes the fields as an object.
issueCertificate(key, "0x01", new Uint8Array(33), "H", 1, 2, 3);
// @ts-expect-error registerDoctorTx takes the certificate fields, not positional arguments.
registerDoctorTx(registry, 1, "0x01", new Uint8Array(33), 1, 2);
// @ts-expect-error anchorRecordTx needs recordTime and serial.
anchorRecordTx(registry, { eh: new Uint8Array(32), commitment: new Uint8Array(32) });
// @ts-expect-error recordAssociatedData takes the record context object.
recordAssociatedData("H", 1);
// @ts-expect-error A decoded status is not any: it has no such field.
decodeRecordStatus("0x").recordType;
// @ts-expect-error Decoded event bytes are Uint8Array, not strings.
const s: string = decodeRegistryLogs(registry, []).map((e) => (e.event === "Authorised" ? e.r : new Uint8Array()))[0];
// @ts-expect-error Transaction fields: value is wei (bigint, number or decimal string), not a boolean.
signTransaction(key, { chainId: 1, nonce: 0, gas: 1, maxFeePerGas: 1, maxPriorityFeePerGas: 1, value: true });
// @ts-expect-error confirmGrant takes the registry answers as an object.
confirmGrant({} as never, "0x", "0x");
// @ts-expect-error The engine is "auto", "webcrypto" or "wasm".
new RecordEncryptor(new Uint8Array(16), new Uint8Array(), { engine: "gpu" });
// @ts-expect-error A worker job's source is a Blob or a ReadableStream, not bytes.
encryptInWorker(new Uint8Array(4), { key: new Uint8Array(16), associatedData: new Uint8Array() });
// @ts-expect-error A worker job needs its associated data.
encryptInWorker(new Blob([]), { key: new Uint8Array(16) });
declare const scanner: Scanner;
declare const r: Uint8Array;
// @ts-expect-error An authorisation without its view tag is refused.
scanner.open({ r, st: r, c1: r });
// @ts-expect-error The view tag is a number 0–255, not bytes.
scanner.matches({ viewTag: new Uint8Array([1]), r, st: r });
// @ts-expect-error The view tag is a number, not hex text.
scanner.matches({ viewTag: "0x01", r, st: r });
// @ts-expect-error An error code is one of the ErrorCode union.
const c: EhrchainError["code"] = "NoSuchCode";

void [s, c];
