/**
 * The user's wallet (EIP-1193), found by EIP-6963 discovery or, failing
 * that, `window.ethereum`. It only signs and sends: reads go to `Chain`.
 * Wallet errors are turned into `PortalError`s with plain codes
 * (`UserRejected` for 4001, `RequestPending` for -32002, …: errors.ts).
 */
import { checksumAddress, decodeRegistryRevert, type Hex, type TxRequest } from "ehrchain";
import type { Chain, Receipt } from "./chain";
import type { PortalConfig } from "./config";
import { PortalError, walletError } from "./errors";

/** What the portal needs of an EIP-1193 provider. */
export interface Eip1193Provider {
  request(args: { readonly method: string; readonly params?: readonly unknown[] | object }): Promise<unknown>;
  on?(event: string, listener: (...args: never[]) => void): void;
  removeListener?(event: string, listener: (...args: never[]) => void): void;
}

/** EIP-6963 provider info. */
export interface ProviderInfo {
  readonly uuid: string;
  readonly name: string;
  readonly icon: string;
  readonly rdns: string;
}

/** A wallet the page can connect to. */
export interface WalletChoice {
  readonly info: ProviderInfo;
  readonly provider: Eip1193Provider;
}

/** What changed in the wallet (for `onChange` listeners). */
export type WalletChange = "providers" | "connected" | "accountsChanged" | "chainChanged" | "disconnected";

/** `localStorage` key of the last wallet connected (its rdns), to reconnect silently after a reload. */
const LAST_WALLET = "ehrchain.wallet";

/** The fallback entry for an injected `window.ethereum` that did not announce itself. */
function injected(): WalletChoice | undefined {
  const provider = (window as unknown as { ethereum?: Eip1193Provider }).ethereum;
  if (!provider || typeof provider.request !== "function") return undefined;
  return { info: { uuid: "window.ethereum", name: "Browser wallet", icon: "", rdns: "window.ethereum" }, provider };
}

/** The connected wallet: its account and chain, and the requests the portal makes of it. */
export class Wallet {
  #announced = new Map<string, WalletChoice>();
  #provider: Eip1193Provider | undefined;
  #info: ProviderInfo | undefined;
  #account: string | undefined;
  #chainId: number | undefined;
  #listeners = new Set<(change: WalletChange) => void>();
  #detach: (() => void) | undefined;
  #restoring: Promise<void> | undefined;

  /** The wallet of the deployment `config`, reading receipts through `chain`. */
  constructor(
    readonly config: PortalConfig,
    readonly chain: Chain,
  ) {
    window.addEventListener("eip6963:announceProvider", (event) => {
      const detail = (event as CustomEvent<WalletChoice>).detail;
      if (detail?.info?.uuid && typeof detail.provider?.request === "function") {
        this.#announced.set(detail.info.uuid, detail);
        this.#emit("providers");
      }
    });
    this.discover();
  }

  /** Asks the installed wallets to announce themselves (EIP-6963). */
  discover(): void {
    window.dispatchEvent(new Event("eip6963:requestProvider"));
  }

  /** The wallets found: EIP-6963 announcements, else `window.ethereum`. */
  providers(): WalletChoice[] {
    const list = [...this.#announced.values()];
    const fallback = injected();
    if (list.length === 0 && fallback) list.push(fallback);
    return list;
  }

  /** The connected account (EIP-55), if any. */
  get account(): string | undefined {
    return this.#account;
  }

  /** The wallet's current chain id, if connected. */
  get chainId(): number | undefined {
    return this.#chainId;
  }

  /** The connected wallet's name. */
  get name(): string | undefined {
    return this.#info?.name;
  }

  /** Whether the wallet is on the portal's chain. */
  get onRightChain(): boolean {
    return this.#chainId === this.config.chainId;
  }

  /** One request to the connected wallet, its errors turned into PortalErrors. */
  async #request(method: string, params?: readonly unknown[]): Promise<unknown> {
    const provider = this.#provider;
    if (!provider) throw new PortalError("NotConnected", "no wallet is connected");
    try {
      return await provider.request(params === undefined ? { method } : { method, params });
    } catch (err) {
      throw walletError(err);
    }
  }

  /** Connects `choice` (default: the only or first wallet found), asking it for an account. */
  async connect(choice: WalletChoice | undefined = this.providers()[0]): Promise<string> {
    if (!choice) throw new PortalError("NoWallet", "no EIP-6963 wallet announced itself and window.ethereum is absent");
    this.#attach(choice);
    const accounts = (await this.#request("eth_requestAccounts")) as string[];
    await this.#adopt(accounts);
    if (!this.#account) throw new PortalError("WalletLocked", "the wallet gave no account");
    localStorage.setItem(LAST_WALLET, choice.info.rdns);
    this.#emit("connected");
    return this.#account;
  }

  /** Reconnects without a prompt to the wallet used last time, if it still shares an account (`eth_accounts`). */
  restore(): Promise<void> {
    this.#restoring ??= this.#restore();
    return this.#restoring;
  }

  /** Resolves once the reconnection at page load (`restore`) is over, whatever its outcome. */
  async ready(): Promise<void> {
    await this.#restoring?.catch(() => undefined);
  }

  /** `restore`'s work (once per page). */
  async #restore(): Promise<void> {
    const rdns = localStorage.getItem(LAST_WALLET);
    if (!rdns) return;
    await new Promise((resolve) => setTimeout(resolve, 150)); // let wallets announce
    const choice = this.providers().find((c) => c.info.rdns === rdns);
    if (!choice) return;
    this.#attach(choice);
    try {
      await this.#adopt((await this.#request("eth_accounts")) as string[]);
    } catch {
      return; // a locked or unwilling wallet: stay disconnected, no prompt
    }
    if (this.#account) this.#emit("connected");
  }

  /** Forgets the wallet (EIP-1193 has no disconnect: the site just stops using it). */
  disconnect(): void {
    localStorage.removeItem(LAST_WALLET);
    this.#detach?.();
    this.#provider = this.#info = this.#account = this.#chainId = undefined;
    this.#emit("disconnected");
  }

  /** Uses `choice`'s provider and follows its events. */
  #attach(choice: WalletChoice): void {
    if (this.#provider === choice.provider) return;
    this.#detach?.();
    this.#provider = choice.provider;
    this.#info = choice.info;
    const onAccounts = (accounts: string[]) => {
      void this.#adopt(accounts).then(() => this.#emit(this.#account ? "accountsChanged" : "disconnected"));
    };
    const onChain = (chainId: string) => {
      this.#chainId = Number(chainId);
      this.#emit("chainChanged");
    };
    const onDisconnect = () => {
      this.#account = undefined;
      this.#emit("disconnected");
    };
    const p = choice.provider;
    p.on?.("accountsChanged", onAccounts as never);
    p.on?.("chainChanged", onChain as never);
    p.on?.("disconnect", onDisconnect as never);
    this.#detach = () => {
      p.removeListener?.("accountsChanged", onAccounts as never);
      p.removeListener?.("chainChanged", onChain as never);
      p.removeListener?.("disconnect", onDisconnect as never);
    };
  }

  /** Takes the wallet's first account and reads its chain. */
  async #adopt(accounts: readonly string[]): Promise<void> {
    this.#account = accounts.length > 0 && accounts[0] ? checksumAddress(accounts[0]) : undefined;
    if (this.#account) this.#chainId = Number(await this.#request("eth_chainId"));
  }

  /** Connected, with an account: the account (`NotConnected` otherwise). */
  requireAccount(): string {
    if (!this.#provider) throw new PortalError("NotConnected", "no wallet is connected");
    if (!this.#account) throw new PortalError("WalletLocked", "the wallet shares no account with this site");
    return this.#account;
  }

  /** Switches the wallet to the portal's chain, adding it first if the wallet does not know it (4902). */
  async ensureChain(): Promise<void> {
    this.requireAccount();
    if (this.onRightChain) return;
    const chainId = `0x${this.config.chainId.toString(16)}`;
    try {
      await this.#request("wallet_switchEthereumChain", [{ chainId }]);
    } catch (err) {
      if (!(err instanceof PortalError && err.code === "ChainNotAdded") && !isUnknownChain(err)) throw err;
      await this.#request("wallet_addEthereumChain", [{
        chainId,
        chainName: this.config.chainName,
        rpcUrls: [this.config.rpcUrl],
        nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      }]);
    }
    this.#chainId = Number(await this.#request("eth_chainId"));
    if (!this.onRightChain) throw new PortalError("WrongChain", `the wallet is on chain ${this.#chainId}, not ${this.config.chainId}`);
  }

  /** EIP-191 `personal_sign` of `text` by the account: the 65-byte signature, hex. */
  async personalSign(text: string): Promise<Hex> {
    const account = this.requireAccount();
    const hex = `0x${Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, "0")).join("")}`;
    return (await this.#request("personal_sign", [hex, account])) as Hex;
  }

  /** `eth_signTypedData_v4` of EIP-712 JSON text by the account: the signature, hex. */
  async signTypedData(json: string): Promise<Hex> {
    const account = this.requireAccount();
    return (await this.#request("eth_signTypedData_v4", [account, json])) as Hex;
  }

  /**
   * Sends `tx` from the account (`eth_sendTransaction`) on the portal's
   * chain and waits for its receipt through `Chain`. A registry revert is
   * thrown as the package's `Reverted` error naming the contract error.
   */
  async send(tx: TxRequest, signal?: AbortSignal): Promise<Receipt> {
    const from = this.requireAccount();
    await this.ensureChain();
    signal?.throwIfAborted();
    let hash: string;
    try {
      hash = (await this.#request("eth_sendTransaction", [{ from, to: tx.to, data: tx.data }])) as string;
    } catch (err) {
      throw decodeRegistryRevert(innerCause(err)) ?? err;
    }
    const receipt = await this.chain.waitForReceipt(hash, signal);
    if (Number(receipt.status) !== 1) throw await this.#revertReason(tx, from, hash);
    return receipt;
  }

  /** Why a mined transaction reverted: the registry's error, replayed with `eth_call` from the same sender. */
  async #revertReason(tx: TxRequest, from: string, hash: string): Promise<Error> {
    try {
      await this.chain.request({ method: "eth_call", params: [{ from, to: tx.to, data: tx.data }, "latest"] });
    } catch (err) {
      const decoded = decodeRegistryRevert((err as { data?: unknown }).data ?? err);
      if (decoded) return decoded;
    }
    return new PortalError("TransactionReverted", `transaction ${hash} reverted`);
  }

  /** Registers `cb` for account, chain and connection changes; returns the unsubscribe function. */
  onChange(cb: (change: WalletChange) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  /** Tells every listener. */
  #emit(change: WalletChange): void {
    for (const cb of this.#listeners) cb(change);
  }
}

/** Some wallets report an unknown chain as -32603 with the original 4902 inside `data.originalError`. */
function isUnknownChain(err: unknown): boolean {
  const original = (innerCause(err) as { data?: { originalError?: { code?: unknown } } } | undefined)?.data?.originalError;
  return original?.code === 4902;
}

/** The wallet's original error behind a PortalError (for its revert `data`). */
function innerCause(err: unknown): unknown {
  return err instanceof PortalError && err.cause !== undefined ? err.cause : err;
}
