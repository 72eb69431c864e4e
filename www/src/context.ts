/** What every view gets: the deployment, the chain reader, the wallet and the session. */
import type { Chain } from "./chain";
import type { PortalConfig } from "./config";
import type { Session } from "./session";
import type { Wallet } from "./wallet";

/** The portal's shared state, built once by main.ts and passed to each view's `mount`. */
export interface Context {
  readonly config: PortalConfig;
  readonly chain: Chain;
  readonly wallet: Wallet;
  readonly session: Session;
}

/** A view's entry point: renders into `root`; may return a cleanup run when the view is left. */
export type Mount = (root: HTMLElement, ctx: Context) => void | (() => void);
