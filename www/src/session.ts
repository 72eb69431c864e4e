/**
 * The unlocked session of the connected account: its protocol key and its
 * storage key, derived from the wallet's signature of a fixed message
 * (`unlockMessage`, docs/PROTOCOL.md "Unlocking a protocol key"), so they
 * survive reloads and devices and are never stored. The session locks
 * itself (frees the key) when the wallet's account or chain changes, and
 * aborts the flows that were started under it.
 */
import { unlockKeys, unlockMessage, type Key } from "ehrchain";
import { PortalError } from "./errors";
import { Store } from "./store";
import type { Wallet, WalletChange } from "./wallet";

/** The protocol key and storage key of one account. */
interface Unlocked {
  readonly account: string;
  readonly protocolKey: Key;
  readonly storageKey: CryptoKey;
  readonly store: Store;
}

/** What the session tells its listeners. */
export type SessionChange = "unlocked" | "locked";

/** The session: locked, or unlocked for the wallet's current account. */
export class Session {
  #unlocked: Unlocked | undefined;
  #flows = new AbortController();
  #listeners = new Set<(change: SessionChange) => void>();

  /** A session on `wallet`, which locks on any account, chain or connection change. */
  constructor(readonly wallet: Wallet) {
    wallet.onChange((change) => this.#walletChanged(change));
  }

  /** Whether the protocol key is available. */
  get unlocked(): boolean {
    return this.#unlocked !== undefined;
  }

  /** The account the session is unlocked for. */
  get account(): string {
    return this.#require().account;
  }

  /** The account's protocol key (`Locked` when locked). Do not free it: the session does. */
  get protocolKey(): Key {
    return this.#require().protocolKey;
  }

  /** The account's storage key: a non-extractable AES-GCM WebCrypto key (`Locked` when locked). */
  get storageKey(): CryptoKey {
    return this.#require().storageKey;
  }

  /** The account's local store (`Locked` when locked). */
  get store(): Store {
    return this.#require().store;
  }

  /**
   * Unlocks: the wallet signs `unlockMessage(account)` (EIP-191, no
   * transaction, no fee); `unlockKeys` derives the protocol key and the
   * storage key from the signature. Refused (`AccountChanged`) if the
   * account changes meanwhile.
   */
  async unlock(): Promise<void> {
    await this.wallet.ready(); // a click right after the page loads waits for the wallet's reconnection
    const account = this.wallet.requireAccount();
    if (this.#unlocked?.account === account) return;
    this.lock();
    const signal = this.flowSignal();
    const signature = await this.wallet.personalSign(unlockMessage(account));
    signal.throwIfAborted();
    const { protocolKey, storageKey } = unlockKeys(account, signature);
    let key: CryptoKey;
    try {
      key = await crypto.subtle.importKey("raw", storageKey as Uint8Array<ArrayBuffer>, "AES-GCM", false, ["encrypt", "decrypt"]);
    } finally {
      storageKey.fill(0);
    }
    if (signal.aborted || this.wallet.account !== account) {
      protocolKey.free();
      signal.throwIfAborted();
      throw new PortalError("AccountChanged", "the wallet's account changed while unlocking");
    }
    this.#unlocked = { account, protocolKey, storageKey: key, store: new Store(account, key) };
    this.#emit("unlocked");
  }

  /** Frees the protocol key and forgets the storage key; open flows stop with `AccountChanged`. */
  lock(reason: PortalError = new PortalError("AccountChanged", "the session was locked")): void {
    this.#flows.abort(reason);
    this.#flows = new AbortController();
    const was = this.#unlocked;
    this.#unlocked = undefined;
    if (was) {
      was.protocolKey.free();
      this.#emit("locked");
    }
  }

  /**
   * A signal for a flow starting now: aborted (reason: a PortalError
   * `AccountChanged`) when the wallet's account or chain changes or the
   * session locks. Flows call `signal.throwIfAborted()` after each await.
   */
  flowSignal(): AbortSignal {
    return this.#flows.signal;
  }

  /** Registers `cb` for lock/unlock; returns the unsubscribe function. */
  onChange(cb: (change: SessionChange) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  /** The unlocked state, or `Locked`. */
  #require(): Unlocked {
    if (!this.#unlocked) throw new PortalError("Locked", "the session is locked: unlock first");
    return this.#unlocked;
  }

  /** Any account, chain or connection change locks the session and stops open flows. */
  #walletChanged(change: WalletChange): void {
    if (change === "providers") return;
    if (change === "connected" && this.wallet.account === this.#unlocked?.account) return;
    this.lock(new PortalError("AccountChanged", `the wallet changed (${change}) while a step was open`));
  }

  /** Tells every listener. */
  #emit(change: SessionChange): void {
    for (const cb of this.#listeners) cb(change);
  }
}
