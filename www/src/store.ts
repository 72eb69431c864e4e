/**
 * The portal's local storage: an IndexedDB key-value store, one key space
 * per account, and AES-GCM sealing under the session's storage key. Clear
 * values (`get`/`put`) are structured-cloned; sealed values
 * (`putSealed`/`addSealed`/`getSealed`/`listSealed`) are JSON (bytes as
 * hex, bigints as text) sealed with the value's full store key as
 * associated data, so a sealed value opens only at the key it was written
 * to. What is stored, sealed or clear, and why: www/README.md "What the
 * portal stores".
 */
import { PortalError } from "./errors";

/** The IndexedDB database and object store names. */
const DB_NAME = "ehrchain-portal";
const DB_STORE = "kv";
/** AES-GCM nonce length. */
const IV_BYTES = 12;
/** Sealed JSON is padded with spaces to a multiple of this, so sizes say little about the content. */
const PAD_BYTES = 64;
/** Random bytes of a slot name made by `addSealed`. */
const SLOT_BYTES = 12;
/** The domain of a sealed store value's associated data. */
const SEALED_DOMAIN = "ehrchain-portal/sealed-value/v1\n";

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

/**
 * Runs one transaction of the key-value store: `make` issues its requests
 * and returns what to resolve once the transaction completes (a request's
 * result, or a function reading several).
 */
async function run<T>(mode: IDBTransactionMode, make: (store: IDBObjectStore) => IDBRequest<T> | (() => T)): Promise<T> {
  const db = await database();
  return new Promise<T>((resolve, reject) => {
    const tx = db.transaction(DB_STORE, mode);
    const made = make(tx.objectStore(DB_STORE));
    tx.oncomplete = () => resolve(typeof made === "function" ? made() : made.result);
    tx.onerror = () => reject(tx.error ?? new PortalError("StorageUnavailable", "IndexedDB request failed"));
    tx.onabort = () => reject(tx.error ?? new PortalError("StorageUnavailable", "IndexedDB transaction aborted"));
  });
}

/** The key range of every key starting with `from`. */
function prefixRange(from: string): IDBKeyRange {
  return IDBKeyRange.bound(from, `${from}\uffff`);
}

/** A sealed value as listed: its key and what it opened to, or why it did not open. */
export type SealedEntry<T> =
  | { readonly key: string; readonly value: T; readonly error?: undefined }
  | { readonly key: string; readonly value?: undefined; readonly error: PortalError };

/** One account's key space in the portal's IndexedDB, with its storage key for sealed values. */
export class Store {
  readonly #prefix: string;
  readonly #storageKey: CryptoKey;

  /** The key space of `account` (case-insensitive); sealed values under `storageKey` (the session's). */
  constructor(account: string, storageKey: CryptoKey) {
    this.#prefix = `${account.toLowerCase()}/`;
    this.#storageKey = storageKey;
  }

  /** The value at `key`, or `undefined`. */
  async get<T>(key: string): Promise<T | undefined> {
    return (await run("readonly", (s) => s.get(this.#prefix + key))) as T | undefined;
  }

  /** Stores `value` at `key` in clear (replacing any): only for what links this account to no patient, record or grant. */
  async put(key: string, value: unknown): Promise<void> {
    await run("readwrite", (s) => s.put(value, this.#prefix + key));
  }

  /** Deletes `key`. */
  async del(key: string): Promise<void> {
    await run("readwrite", (s) => s.delete(this.#prefix + key));
  }

  /** Deletes every key starting with `prefix`, in one transaction. */
  async delPrefix(prefix: string): Promise<void> {
    await run("readwrite", (s) => s.delete(prefixRange(this.#prefix + prefix)));
  }

  /** Every `[key, value]` whose key starts with `prefix`, in key order (keys without the account part). */
  async list<T>(prefix: string): Promise<[string, T][]> {
    const [keys, values] = await run("readonly", (s) => {
      const range = prefixRange(this.#prefix + prefix);
      const k = s.getAllKeys(range);
      const v = s.getAll(range);
      return () => [k.result, v.result] as const;
    });
    return keys.map((k, i) => [String(k).slice(this.#prefix.length), values[i] as T]);
  }

  /** Seals `value` (JSON: `Uint8Array`s, bigints, text, numbers, plain objects) at `key`, replacing any. */
  async putSealed(key: string, value: unknown): Promise<void> {
    const sealed = await this.#seal(key, value);
    await run("readwrite", (s) => s.put(sealed, this.#prefix + key));
  }

  /**
   * Seals `value` into a new slot under `prefix` (a random name: the key
   * says nothing of the value) and resolves its key. Resolves only once
   * the value is stored; rejects if it is not.
   */
  async addSealed(prefix: string, value: unknown): Promise<string> {
    const key = newSlot(prefix);
    await this.putSealed(key, value);
    return key;
  }

  /** The sealed value at `key`, opened; `undefined` if absent; `StoredSecretUnreadable` if it does not open there. */
  async getSealed<T>(key: string): Promise<T | undefined> {
    const raw = await run("readonly", (s) => s.get(this.#prefix + key));
    if (raw === undefined) return undefined;
    return this.#open<T>(key, raw);
  }

  /**
   * Every sealed value under `prefix`, opened, in key order: each entry
   * has its `value`, or the `error` (`StoredSecretUnreadable`) saying it
   * does not open at its key (sealed under another key, altered, or moved
   * from another key). Clear values under `prefix` are not listed: an
   * older portal's are sealed by `sealClear` first.
   */
  async listSealed<T>(prefix: string): Promise<SealedEntry<T>[]> {
    const entries = await this.list<unknown>(prefix);
    const out: SealedEntry<T>[] = [];
    for (const [key, raw] of entries) {
      if (!(raw instanceof Uint8Array)) continue;
      try {
        out.push({ key, value: await this.#open<T>(key, raw) });
      } catch (err) {
        out.push({ key, error: err instanceof PortalError ? err : new PortalError("StoredSecretUnreadable", String(err), err) });
      }
    }
    return out;
  }

  /**
   * Seals what an older portal stored in clear under `prefix` (the values
   * `accept` recognises): into a new random slot under `to` with the old
   * key deleted in the same transaction (when the old key names the
   * value, e.g. a record hash), or in place (`to` undefined). Resolves
   * how many were sealed.
   */
  async sealClear(prefix: string, accept: (value: unknown) => boolean, to?: string): Promise<number> {
    let n = 0;
    for (const [key, raw] of await this.list<unknown>(prefix)) {
      if (raw instanceof Uint8Array || raw === undefined || !accept(raw)) continue;
      const target = to === undefined ? key : newSlot(to);
      const sealed = await this.#seal(target, raw);
      await run("readwrite", (s) => {
        if (target !== key) s.delete(this.#prefix + key);
        return s.put(sealed, this.#prefix + target);
      });
      n++;
    }
    return n;
  }

  /** `value` as JSON, padded, sealed with its full key as associated data. */
  async #seal(key: string, value: unknown): Promise<Uint8Array> {
    const bytes = encodeValue(value);
    try {
      return await sealSecret(this.#storageKey, bytes, associatedData(this.#prefix + key));
    } finally {
      bytes.fill(0);
    }
  }

  /** Opens what `#seal` sealed at `key`. */
  async #open<T>(key: string, raw: unknown): Promise<T> {
    if (!(raw instanceof Uint8Array)) {
      throw new PortalError("StoredSecretUnreadable", `the value stored at "${key}" is not a sealed value`);
    }
    const bytes = await openSecret(this.#storageKey, raw, associatedData(this.#prefix + key));
    try {
      return decodeValue(bytes) as T;
    } catch (err) {
      throw new PortalError("StoredSecretUnreadable", `the value stored at "${key}" opened but is not readable`, err);
    } finally {
      bytes.fill(0);
    }
  }
}

/** A new random slot key under `prefix`. */
function newSlot(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(SLOT_BYTES));
  return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The associated data of a sealed value at `fullKey` (account and key). */
function associatedData(fullKey: string): Uint8Array {
  return new TextEncoder().encode(SEALED_DOMAIN + fullKey);
}

/** `value` as JSON bytes: `Uint8Array` → `{"$bytes": hex}`, bigint → `{"$bigint": text}`; padded with spaces to a multiple of PAD_BYTES. */
function encodeValue(value: unknown): Uint8Array {
  const json = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Uint8Array) return { $bytes: Array.from(v, (b) => b.toString(16).padStart(2, "0")).join("") };
    if (typeof v === "bigint") return { $bigint: v.toString() };
    return v;
  });
  const text = new TextEncoder().encode(json);
  const out = new Uint8Array(Math.ceil((text.length + 1) / PAD_BYTES) * PAD_BYTES).fill(0x20);
  out.set(text);
  text.fill(0);
  return out;
}

/** What `encodeValue` encoded. */
function decodeValue(bytes: Uint8Array): unknown {
  return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes), (_key, v: unknown) => {
    if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      const keys = Object.keys(v);
      const o = v as Record<string, unknown>;
      if (keys.length === 1 && typeof o.$bytes === "string") {
        const hex = o.$bytes;
        if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new SyntaxError("bad $bytes");
        return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
      }
      if (keys.length === 1 && typeof o.$bigint === "string") return BigInt(o.$bigint);
    }
    return v;
  });
}

/**
 * Seals `bytes` under the session's storage key (AES-GCM, random 12-byte
 * nonce, optional associated data): `nonce ‖ ciphertext ‖ tag`.
 */
export async function sealSecret(storageKey: CryptoKey, bytes: Uint8Array, associatedData?: Uint8Array): Promise<Uint8Array> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const params: AesGcmParams = { name: "AES-GCM", iv };
  if (associatedData) params.additionalData = associatedData as Uint8Array<ArrayBuffer>;
  const sealed = new Uint8Array(await crypto.subtle.encrypt(params, storageKey, bytes as Uint8Array<ArrayBuffer>));
  const out = new Uint8Array(IV_BYTES + sealed.length);
  out.set(iv);
  out.set(sealed, IV_BYTES);
  return out;
}

/**
 * Opens what `sealSecret` sealed, with the same associated data
 * (`StoredSecretUnreadable` under another key, with other associated data,
 * or if altered). The caller wipes the result.
 */
export async function openSecret(storageKey: CryptoKey, sealed: Uint8Array, associatedData?: Uint8Array): Promise<Uint8Array> {
  try {
    const own = sealed as Uint8Array<ArrayBuffer>;
    const iv = own.subarray(0, IV_BYTES);
    const params: AesGcmParams = { name: "AES-GCM", iv };
    if (associatedData) params.additionalData = associatedData as Uint8Array<ArrayBuffer>;
    return new Uint8Array(await crypto.subtle.decrypt(params, storageKey, own.subarray(IV_BYTES)));
  } catch (err) {
    throw new PortalError("StoredSecretUnreadable", "a stored value does not open under this account's storage key", err);
  }
}
