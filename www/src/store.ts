/**
 * The portal's local storage: an IndexedDB key-value store, one key space
 * per account, and AES-GCM sealing of secrets under the session's storage
 * key (no secret is ever stored in clear). Values are structured-cloned
 * (objects, `Uint8Array`s, numbers, text).
 */
import { PortalError } from "./errors";

/** The IndexedDB database and object store names. */
const DB_NAME = "ehrchain-portal";
const DB_STORE = "kv";
/** AES-GCM nonce length. */
const IV_BYTES = 12;

let opened: Promise<IDBDatabase> | undefined;

/** Opens (once) the portal's database. */
function database(): Promise<IDBDatabase> {
  opened ??= new Promise<IDBDatabase>((resolve, reject) => {
    let request: IDBOpenDBRequest;
    try {
      request = indexedDB.open(DB_NAME, 1);
    } catch (err) {
      reject(new PortalError("StorageUnavailable", "IndexedDB cannot be opened", err));
      return;
    }
    request.onupgradeneeded = () => request.result.createObjectStore(DB_STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(new PortalError("StorageUnavailable", `IndexedDB: ${request.error?.message ?? "open failed"}`));
  });
  opened.catch(() => (opened = undefined));
  return opened;
}

/** Runs one request in a transaction of the key-value store. */
async function run<T>(mode: IDBTransactionMode, make: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await database();
  return new Promise<T>((resolve, reject) => {
    const tx = db.transaction(DB_STORE, mode);
    const request = make(tx.objectStore(DB_STORE));
    tx.oncomplete = () => resolve(request.result);
    tx.onerror = () => reject(tx.error ?? request.error);
    tx.onabort = () => reject(tx.error ?? new PortalError("StorageUnavailable", "IndexedDB transaction aborted"));
  });
}

/** One account's key space in the portal's IndexedDB. */
export class Store {
  readonly #prefix: string;

  /** The key space of `account` (case-insensitive). */
  constructor(account: string) {
    this.#prefix = `${account.toLowerCase()}/`;
  }

  /** The value at `key`, or `undefined`. */
  async get<T>(key: string): Promise<T | undefined> {
    return (await run("readonly", (s) => s.get(this.#prefix + key))) as T | undefined;
  }

  /** Stores `value` at `key` (replacing any). */
  async put(key: string, value: unknown): Promise<void> {
    await run("readwrite", (s) => s.put(value, this.#prefix + key));
  }

  /** Deletes `key`. */
  async del(key: string): Promise<void> {
    await run("readwrite", (s) => s.delete(this.#prefix + key));
  }

  /** Every `[key, value]` whose key starts with `prefix`, in key order (keys without the account part). */
  async list<T>(prefix: string): Promise<[string, T][]> {
    const from = this.#prefix + prefix;
    const range = IDBKeyRange.bound(from, `${from}\uffff`);
    const [keys, values] = await Promise.all([
      run("readonly", (s) => s.getAllKeys(range)),
      run("readonly", (s) => s.getAll(range)),
    ]);
    return keys.map((k, i) => [String(k).slice(this.#prefix.length), values[i] as T]);
  }
}

/** Seals `bytes` under the session's storage key (AES-GCM, random 12-byte nonce): `nonce ‖ ciphertext ‖ tag`. */
export async function sealSecret(storageKey: CryptoKey, bytes: Uint8Array): Promise<Uint8Array> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, storageKey, bytes as Uint8Array<ArrayBuffer>));
  const out = new Uint8Array(IV_BYTES + sealed.length);
  out.set(iv);
  out.set(sealed, IV_BYTES);
  return out;
}

/** Opens what `sealSecret` sealed (`StoredSecretUnreadable` under another key or if altered). The caller wipes the result. */
export async function openSecret(storageKey: CryptoKey, sealed: Uint8Array): Promise<Uint8Array> {
  try {
    const own = sealed as Uint8Array<ArrayBuffer>;
    const iv = own.subarray(0, IV_BYTES);
    return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv }, storageKey, own.subarray(IV_BYTES)));
  } catch (err) {
    throw new PortalError("StoredSecretUnreadable", "a stored secret does not open under this account's storage key", err);
  }
}
