/**
 * The wallet view (`#wallet`): finds the browser's wallets (EIP-6963, else
 * `window.ethereum`), connects one, shows the account and network, and
 * switches the wallet to the portal's network (adding it if needed).
 */
import type { Context } from "../context";
import type { WalletChoice } from "../wallet";
import { announce, button, focus, h, section, statusLine, task } from "../ui";

/** Renders the wallet view into `root`; returns its cleanup. */
export function mount(root: HTMLElement, ctx: Context): () => void {
  const out = h("div", { "data-testid": "wallet-result" });
  const body = h("div");
  root.append(h("h1", {}, "Your wallet"), intro(), body, out);
  const render = () => body.replaceChildren(...content(ctx, out));
  render();
  return ctx.wallet.onChange(render);
}

/** What a wallet is for, in plain words. */
function intro(): HTMLElement {
  return h(
    "p",
    {},
    "Your wallet is a browser extension that holds your account. The portal asks it to sign and send; " +
      "your account's secret never leaves the wallet.",
  );
}

/** The view's content for the wallet's current state. */
function content(ctx: Context, out: HTMLElement): HTMLElement[] {
  const { wallet, config } = ctx;
  if (!wallet.account) return [chooser(ctx, out)];
  const right = wallet.onRightChain;
  const status = section(
    "Connected",
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Wallet"),
      h("dd", {}, wallet.name ?? "Browser wallet"),
      h("dt", {}, "Account"),
      h("dd", { class: "mono", "data-testid": "wallet-account" }, wallet.account),
      h("dt", {}, "Network"),
      h(
        "dd",
        { "data-testid": "wallet-chain" },
        right ? `${config.chainName} (chain ${config.chainId})` : `Another network (chain ${wallet.chainId ?? "?"})`,
      ),
    ),
  );
  if (!right) {
    const switchButton: HTMLButtonElement = button(`Switch to ${config.chainName}`, () => {
      void task(out, "Asking your wallet to switch network…", async () => {
        await wallet.ensureChain();
        done(out, `Your wallet is on ${config.chainName}.`);
      }, switchButton);
    });
    status.append(
      h("p", { class: "note", "data-testid": "wrong-chain" }, `This portal works on ${config.chainName}. Your wallet is on another network.`),
      switchButton,
    );
  }
  status.append(button("Forget this wallet", () => wallet.disconnect(), { class: "secondary" }));
  return [status];
}

/** The list of wallets to connect, or how to get one. */
function chooser(ctx: Context, out: HTMLElement): HTMLElement {
  const choices = ctx.wallet.providers();
  if (choices.length === 0) {
    return section(
      "No wallet found",
      h(
        "p",
        { "data-testid": "no-wallet" },
        "This browser has no wallet extension. Install one from your browser's extension store " +
          "(for example MetaMask, Rabby or Frame), create or import an account, then reload this page.",
      ),
      button("Look for wallets again", () => {
        ctx.wallet.discover();
        announce("Looking for wallets…");
      }),
    );
  }
  return section(
    "Connect a wallet",
    h("p", {}, "Choose your wallet. It will ask you to allow this site to see your account."),
    h("div", { class: "actions" }, ...choices.map((choice) => connectButton(ctx, choice, out))),
  );
}

/** "Connect <wallet name>". */
function connectButton(ctx: Context, choice: WalletChoice, out: HTMLElement): HTMLButtonElement {
  const b: HTMLButtonElement = button(`Connect ${choice.info.name}`, () => {
    void task(out, "Waiting for your wallet… (check its window)", async () => {
      const account = await ctx.wallet.connect(choice);
      done(out, `Connected ${account}.`);
    }, b);
  });
  return b;
}

/** Shows and announces a success in `out`. */
function done(out: HTMLElement, text: string): void {
  const line = statusLine("wallet-outcome");
  line.classList.add("ok");
  line.textContent = text;
  out.replaceChildren(line);
  announce(text);
  focus(line);
}
