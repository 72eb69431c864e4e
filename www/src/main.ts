/**
 * The page: loads the deployment (config.json), builds the shared context
 * (chain reader, wallet, session), keeps the header's wallet line up to
 * date, and routes `location.hash` to a view's `mount`.
 */
import { Chain } from "./chain";
import { loadConfig } from "./config";
import type { Context, Mount } from "./context";
import { Session } from "./session";
import { errorBox, h, short } from "./ui";
import { mount as authority } from "./views/authority";
import { mount as doctor } from "./views/doctor";
import { mount as inbox } from "./views/inbox";
import { mount as patient } from "./views/patient";
import { mount as wallet } from "./views/wallet";
import { Wallet } from "./wallet";

/** The views, in nav order: hash route, nav label, entry point. */
const VIEWS: readonly { readonly route: string; readonly label: string; readonly mount: Mount }[] = [
  { route: "wallet", label: "Wallet", mount: wallet },
  { route: "patient", label: "Patient", mount: patient },
  { route: "doctor", label: "Doctor", mount: doctor },
  { route: "inbox", label: "Doctor's inbox", mount: inbox },
  { route: "authority", label: "Health authority", mount: authority },
];

/** The element with id `id` (the shell of index.html). */
function byId(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`index.html lacks #${id}`);
  return el;
}

/** The header's wallet line: account, chain, lock state. */
function renderStatus(ctx: Context): void {
  const { wallet, session, config } = ctx;
  const line = byId("wallet-status");
  if (!wallet.account) {
    line.textContent = "Wallet: not connected.";
    return;
  }
  const chain = wallet.onRightChain ? config.chainName : `wrong network (chain ${wallet.chainId ?? "?"})`;
  const lock = session.unlocked ? "records unlocked" : "records locked";
  line.textContent = `Wallet: ${short(wallet.account)} on ${chain}; ${lock}.`;
  line.title = wallet.account;
}

/** The nav links, the current one marked `aria-current=page`. */
function renderNav(current: string): void {
  const links = VIEWS.map(({ route, label }) =>
    h("a", { href: `#${route}`, "aria-current": route === current ? "page" : undefined }, label),
  );
  byId("nav").replaceChildren(...links);
}

/** Routes the hash to a view, leaving the previous one first. */
function router(ctx: Context): void {
  const main = byId("main");
  let leave: (() => void) | void;
  let first = true;
  const show = () => {
    const route = location.hash.slice(1) || "wallet";
    const view = VIEWS.find((v) => v.route === route) ?? VIEWS[0]!;
    leave?.();
    renderNav(view.route);
    const root = h("div", { "data-view": view.route });
    main.replaceChildren(root);
    document.title = `${view.label}: ehrchain portal`;
    leave = view.mount(root, ctx);
    if (!first) main.focus();
    first = false;
  };
  window.addEventListener("hashchange", show);
  show();
}

/** Starts the portal. */
async function start(): Promise<void> {
  let ctx: Context;
  try {
    const config = await loadConfig();
    const chain = new Chain(config.rpcUrl, config.registry, config.deployBlock);
    const wallet = new Wallet(config, chain);
    const session = new Session(wallet);
    ctx = { config, chain, wallet, session };
  } catch (err) {
    byId("wallet-status").textContent = "";
    byId("main").replaceChildren(h("h1", {}, "The portal cannot start"), errorBox(err, () => location.reload()));
    return;
  }
  ctx.wallet.onChange(() => renderStatus(ctx));
  ctx.session.onChange(() => renderStatus(ctx));
  renderStatus(ctx);
  router(ctx);
  await ctx.wallet.restore();
}

void start();
