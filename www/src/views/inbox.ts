/**
 * The doctor's inbox (`#inbox`): scans the chain for grants addressed to
 * his protocol key (resumable: the scanned block is stored), opens and
 * confirms each match against its anchor, and fetches a record with a
 * signed access request: unmask `tx_id` and `K_P`, read the anchored `eh`
 * from the anchoring receipt, then download, verify and decrypt in a
 * worker straight to disk (save.ts).
 *
 * Each match is kept sealed under the session's storage key (store.ts
 * `addSealed`: one value per match, in a slot of a random name, bound to
 * that slot): the events are public, but which of them are this doctor's
 * is not. The scanned block is stored only after the matches of the blocks
 * before it are, so a match that failed to be stored is found again.
 */
import {
  EhrchainError, Scanner, accessRequestTypedData, anchoredEhFromReceipt, assembleAccessRequest, confirmGrant,
  decryptInWorker, recordAssociatedData, scanInbox, type FoundAuthorisation, type OpenedGrant,
} from "ehrchain";
import { releasedOnNextRead } from "../buffers";
import { toHex } from "../chain";
import type { Context } from "../context";
import { endpointOf } from "../directory";
import { explain, PortalError } from "../errors";
import type { SealedEntry } from "../store";
import { anySignal, storedCertificate } from "../records";
import { prepareSave, saveMethod, saveStream } from "../save";
import * as server from "../server";
import {
  announce, button, dateTime, errorBox, focus, focusIfLost, focusLost, h, progress, section, short, statusLine, task,
} from "../ui";

/** Store prefix of everything the inbox keeps (forgotten together). */
const INBOX_PREFIX = "inbox/";
/** Store key of the last block scanned (a block number, in clear: it says nothing of the grants). */
const SCANNED_KEY = `${INBOX_PREFIX}scannedTo`;
/**
 * Store prefix of the matches found, one sealed `StoredMatch` each under a
 * random slot name (public chain data, but their link to this doctor is
 * not: sealed, and the key does not name the grant).
 */
const MATCH_PREFIX = `${INBOX_PREFIX}match/`;
/** Seconds an access request stays valid. */
const ACCESS_TTL = 300;

/** What the inbox says once a whole scan found nothing. */
const NOTHING_SHARED = "No records are shared with you yet. When a patient grants you access to a record, it appears here; press Scan for new grants to look again.";

/** A match as stored: the authorisation and its block. */
interface StoredMatch {
  readonly authorisation: FoundAuthorisation;
  readonly blockNumber: number;
}

/** Whether `v` has the shape of a `StoredMatch` (as sealed now, or as an older portal stored it in clear). */
function isStoredMatch(v: unknown): v is StoredMatch {
  if (typeof v !== "object" || v === null) return false;
  const m = v as { authorisation?: Partial<Record<keyof FoundAuthorisation, unknown>>; blockNumber?: unknown };
  const a = m.authorisation;
  return typeof m.blockNumber === "number" && typeof a === "object" && a !== null &&
    (typeof a.seq === "number" || typeof a.seq === "bigint") && typeof a.viewTag === "number" &&
    a.r instanceof Uint8Array && a.st instanceof Uint8Array && a.c1 instanceof Uint8Array;
}

/** The identity of a match: its registry sequence number, as text. */
function seqOf(match: StoredMatch): string {
  return String(match.authorisation.seq);
}

/** Renders the inbox into `root`; returns its cleanup (stops the scan, frees the opened grants). */
export function mount(root: HTMLElement, ctx: Context): () => void {
  root.dataset.view = "inbox";
  let leave: (() => void) | undefined;
  const render = (focusScan = false) => {
    leave?.();
    leave = undefined;
    root.replaceChildren(h("h1", {}, "Doctor's inbox"));
    if (!ctx.session.unlocked) {
      root.append(unlockSection(ctx));
      return;
    }
    leave = inbox(root, ctx, () => render(true), focusScan);
  };
  render();
  const off = ctx.session.onChange(() => {
    render();
    focusIfLost(root);
  });
  if (saveMethod() === "download") prepareSave().catch(() => undefined); // the download worker is ready by the first save
  return () => {
    off();
    leave?.();
  };
}

/** The locked state: the Unlock button. */
function unlockSection(ctx: Context): HTMLElement {
  const out = h("div", { "data-testid": "unlock-status", "aria-live": "polite" });
  const unlock = button("Unlock", () => void task(out, "Sign the unlock message in your wallet…", () => ctx.session.unlock(), unlock));
  return section(
    "Unlock your doctor key",
    h("p", {}, "Your wallet signs a fixed message (no transaction, no fee); your doctor key, derived from it, finds the records patients granted you."),
    h("div", { class: "actions" }, unlock),
    out,
  );
}

/**
 * The unlocked inbox: scan controls and the list of grants. `restart`
 * draws it again from the store (after the saved inbox is forgotten);
 * `focusScan` moves focus to the scan's status line once drawn. Returns the
 * cleanup.
 */
function inbox(root: HTMLElement, ctx: Context, restart: () => void, focusScan: boolean): () => void {
  const scanner = new Scanner(ctx.session.protocolKey);
  const grants: OpenedGrant[] = [];
  const seen = new Set<string>();
  /** The matches in the store (by seq): a scan that finds one again does not store it twice. */
  const stored = new Set<string>();
  const list = h("ul", { class: "grants", "data-testid": "inbox-list" });
  const empty = h("p", { "data-testid": "inbox-empty" }, "Looking for records shared with you…");
  const status = statusLine("scan-status");
  status.setAttribute("aria-live", "polite");
  const out = h("div");
  let controller: AbortController | undefined;
  const show = (match: StoredMatch) => {
    const key = seqOf(match);
    if (seen.has(key)) return;
    seen.add(key);
    empty.remove();
    list.append(grantItem(ctx, scanner, match, grants));
  };
  const scan = async () => {
    controller?.abort();
    controller = new AbortController();
    const hadFocus = document.activeElement === scanButton; // disabling drops it to the body
    scanButton.disabled = true;
    stopButton.disabled = false;
    out.replaceChildren();
    try {
      const found = await runScan(ctx, anySignal(controller.signal, ctx.session.flowSignal()), status, show, stored);
      const text = scanOutcome(found, seen.size);
      status.textContent = text;
      announce(text);
      if (seen.size === 0) empty.textContent = NOTHING_SHARED;
    } catch (err) {
      if (!controller.signal.aborted) {
        const box = errorBox(err, () => void scan());
        out.replaceChildren(box);
        announce(explain(err).title);
      } else status.textContent += " Stopped.";
    } finally {
      scanButton.disabled = false;
      stopButton.disabled = true;
      if (hadFocus && focusLost()) focus(scanButton);
    }
  };
  /** Saved matches that do not open: say so, and offer to forget the saved inbox and scan the chain again from the start. */
  const unreadable = (bad: SealedEntry<StoredMatch>[]) => {
    const n = bad.length;
    scanButton.disabled = true; // scanning on would not bring them back; forgetting and rescanning does
    empty.remove();
    status.textContent = `${n} saved grant${n === 1 ? "" : "s"} of your inbox could not be opened, so the scan did not start.`;
    const err = bad[0]?.error ?? new PortalError("StoredSecretUnreadable", "the saved inbox does not open");
    const box = errorBox(err);
    const forget: HTMLButtonElement = button("Forget the saved inbox and scan again", () => {
      void task(forgetOut, "Forgetting the saved inbox…", async () => {
        await ctx.session.store.delPrefix(INBOX_PREFIX);
        announce("The saved inbox is forgotten. Scanning the blockchain again from the start.");
        restart();
      }, forget);
    });
    const forgetOut = h("div");
    box.append(
      h("p", {}, "This forgets what this browser saved of your inbox (never the grants themselves: they are on the blockchain) and scans the blockchain again from the start."),
      forget,
      forgetOut,
    );
    out.replaceChildren(box);
    announce(explain(err).title);
  };
  const scanButton = button("Scan for new grants", () => void scan());
  const stopButton = button("Stop scan", () => controller?.abort(), { class: "secondary", disabled: true });
  root.append(
    section(
      "Grants to you",
      h("p", {}, "Patients grant you access on the blockchain; only your key can recognise the grants meant for you. The scan remembers where it stopped."),
      h("div", { class: "actions" }, scanButton, stopButton),
      status,
      out,
      empty,
      list,
    ),
  );
  if (focusScan) focus(status);
  void (async () => {
    let saved: Awaited<ReturnType<typeof savedMatches>>;
    try {
      saved = await savedMatches(ctx);
    } catch (err) {
      out.replaceChildren(errorBox(err, restart));
      announce(explain(err).title);
      return;
    }
    for (const match of saved.matches) {
      stored.add(seqOf(match));
      show(match);
    }
    if (saved.unreadable.length > 0) unreadable(saved.unreadable);
    else await scan();
  })();
  return () => {
    controller?.abort();
    for (const grant of grants) grant.free();
    scanner.free();
  };
}

/**
 * The matches saved in the store, opened, in sequence order, and those that
 * do not open (`StoredSecretUnreadable`). Matches an older portal stored in
 * clear (under keys naming their seq) are sealed into slots first.
 */
async function savedMatches(ctx: Context): Promise<{ matches: StoredMatch[]; unreadable: SealedEntry<StoredMatch>[] }> {
  const store = ctx.session.store;
  await store.sealClear(MATCH_PREFIX, isStoredMatch, MATCH_PREFIX);
  const matches: StoredMatch[] = [];
  const unreadable: SealedEntry<StoredMatch>[] = [];
  for (const entry of await store.listSealed<StoredMatch>(MATCH_PREFIX)) {
    if (entry.error === undefined && isStoredMatch(entry.value)) matches.push(entry.value);
    else unreadable.push(entry.error ? entry : { key: entry.key, error: new PortalError("StoredSecretUnreadable", `the value at "${entry.key}" is not an inbox match`) });
  }
  matches.sort((a, b) => {
    const d = BigInt(a.authorisation.seq) - BigInt(b.authorisation.seq);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  });
  return { matches, unreadable };
}

/** The sentence ending a scan that found `found` new grants, with `listed` grants listed in all. */
function scanOutcome(found: number, listed: number): string {
  if (found > 0) return `Scan complete: ${found} new grant${found === 1 ? "" : "s"} for you.`;
  if (listed > 0) return `Scan complete: nothing new since the last scan (${listed} grant${listed === 1 ? "" : "s"} listed below).`;
  return "Scan complete: no records are shared with you.";
}

/**
 * Scans from the stored block on; stores each new match (sealed) before
 * showing it, and the scanned block after the matches of its page: if a
 * match cannot be stored the scan stops with that error and the stored
 * block stays before it, so the next scan finds it again. `stored` holds
 * the seqs already stored. Resolves the number of new matches.
 */
async function runScan(
  ctx: Context, signal: AbortSignal, status: HTMLElement, show: (m: StoredMatch) => void, stored: Set<string>,
): Promise<number> {
  const store = ctx.session.store;
  const saved = await store.get<number>(SCANNED_KEY);
  const fromBlock = saved === undefined ? ctx.config.deployBlock : saved + 1;
  status.textContent = `Scanning the blockchain from block ${fromBlock}…`;
  const scan = scanInbox(ctx.session.protocolKey, { registry: ctx.config.registry, provider: ctx.chain, fromBlock, signal });
  let matches = 0;
  for await (const event of scan) {
    if (event.kind === "match") {
      const match: StoredMatch = { authorisation: event.authorisation, blockNumber: event.blockNumber };
      if (!stored.has(seqOf(match))) {
        await store.addSealed(MATCH_PREFIX, match);
        stored.add(seqOf(match));
        matches++;
      }
      show(match);
    } else {
      const p = event.progress;
      await store.put(SCANNED_KEY, p.scannedTo);
      const span = Math.max(1, p.toBlock - p.fromBlock + 1);
      const done = Math.max(0, p.scannedTo - p.fromBlock + 1);
      status.textContent = `Scanned ${done} of ${span} blocks (up to block ${p.scannedTo}); ${p.events} grants tested, ${matches} new for you.`;
    }
  }
  return matches;
}

// ---------------------------------------------------------------- one grant

/** One match: opened and confirmed, with "Get record"; or why it is refused. */
function grantItem(ctx: Context, scanner: Scanner, match: StoredMatch, grants: OpenedGrant[]): HTMLElement {
  const item = h("li", { "data-testid": "grant", "data-seq": String(match.authorisation.seq) });
  const check = h("p", { class: "busy" }, "Checking this grant against the blockchain…");
  item.append(check);
  void (async () => {
    let grant: OpenedGrant;
    try {
      grant = scanner.open(match.authorisation);
    } catch (err) {
      return refuse(item, check, err);
    }
    grants.push(grant);
    try {
      confirmGrant(grant, await ctx.chain.answersFor(grant.eh));
    } catch (err) {
      return refuse(item, check, err, grant);
    }
    check.remove();
    item.dataset.state = "confirmed";
    item.prepend(describe(grant, "grant-summary"));
    item.append(fetchControls(ctx, grant));
  })();
  return item;
}

/** A grant that failed its checks: what and why, in plain words. */
function refuse(item: HTMLElement, check: HTMLElement, err: unknown, grant?: OpenedGrant): void {
  const e = explain(err);
  item.dataset.state = "refused";
  const line = h("p", { "data-testid": "grant-refused", "data-code": e.code }, `Refused: ${e.title} ${e.next}`);
  check.replaceWith(...(grant ? [describe(grant, "grant-summary")] : []), line);
}

/** What a grant names. */
function describe(grant: OpenedGrant, testid: string): HTMLElement {
  const type = grant.recordType || "Record";
  return h("p", { "data-testid": testid },
    h("strong", {}, `${type} from ${grant.hospital}`),
    `, ${dateTime(grant.time)}, granted by patient ${short(grant.patient)}.`,
  );
}

/** What a granted access gives: where to download, and the key (wiped once used or abandoned). */
interface Access {
  readonly url: string;
  readonly size: number;
  readonly expiry: number;
  readonly recordKey: Uint8Array;
  readonly anchored: Uint8Array;
}

/** "Get record" (signed access request), then "Save record" (download, verify, decrypt, save). */
function fetchControls(ctx: Context, grant: OpenedGrant): HTMLElement {
  const out = h("div", { "data-testid": "fetch-output" });
  const status = statusLine("fetch-status");
  status.setAttribute("aria-live", "polite");
  const wrap = h("div", {}, status, out);
  const get: HTMLButtonElement = button("Get record", () => {
    status.classList.remove("ok");
    void task(out, "Sign the access request in your wallet…", async () => {
      const access = await requestAccess(ctx, grant, (text) => { status.textContent = text; });
      offerSave(ctx, grant, access, status, out);
    }, get).then((ok) => {
      if (!ok) status.textContent = ""; // the error box below says what happened
    });
  });
  wrap.prepend(h("div", { class: "actions" }, get));
  return wrap;
}

/**
 * The signed access request (Alg 5 steps 9–13): the record's hospital from
 * the directory, the wallet's signature, the server's `{Z, K}` unmasked to
 * `tx_id` and `K_P`, and the anchored `eh` from the anchoring receipt.
 */
async function requestAccess(ctx: Context, grant: OpenedGrant, say: (text: string) => void): Promise<Access> {
  const certificate = await storedCertificate(ctx);
  if (!certificate) throw new PortalError("DoctorNotCertified", "Save your certificate on the Doctor page first: the hospital asks for it.");
  const endpoint = await endpointOf(ctx, grant.hospital);
  await ctx.wallet.ensureChain();
  say("Sign the access request in your wallet.");
  const typed = accessRequestTypedData({ hospital: grant.hospital, w: grant.x, now: Math.floor(Date.now() / 1000), ttl: ACCESS_TTL });
  const signature = await ctx.wallet.signTypedData(typed);
  say(`Asking ${grant.hospital} for the record…`);
  const answer = await server.access(endpoint, assembleAccessRequest(typed, signature, certificate));
  const { txId, recordKey } = grant.maskKey.unmask(grant, { z: answer.z, k: answer.k });
  say("Checking the record's registration on the blockchain…");
  try {
    const receipt = await ctx.chain.receipt(toHex(txId));
    if (!receipt) throw new EhrchainError("TransactionNotFound", "The record's registration transaction is not on the blockchain.");
    const anchored = anchoredEhFromReceipt(ctx.config.registry, receipt);
    if (toHex(anchored) !== toHex(grant.eh)) {
      throw new EhrchainError("HashMismatch", "The hospital's answer points at another record than the patient granted.");
    }
    return { url: server.downloadUrl(endpoint, answer.download), size: answer.size, expiry: answer.expiry, recordKey, anchored };
  } catch (err) {
    recordKey.fill(0);
    throw err;
  } finally {
    txId.fill(0);
  }
}

/** A file name for a granted record (the protocol carries no file name). */
function fileName(grant: OpenedGrant): string {
  const type = grant.recordType.replace(/[^A-Za-z0-9-]+/g, "-").replace(/^-+|-+$/g, "") || "record";
  const day = new Date(grant.time * 1000).toISOString().slice(0, 10);
  return `${type}-${day}-${toHex(grant.eh).slice(2, 10)}.bin`;
}

/** Offers "Save record" until the download permission expires; the key is wiped after. */
function offerSave(ctx: Context, grant: OpenedGrant, access: Access, status: HTMLElement, out: HTMLElement): void {
  const seconds = Math.max(0, access.expiry - Math.floor(Date.now() / 1000));
  const text = `The hospital granted the download. Press Save record within ${Math.floor(seconds / 60)} min ${seconds % 60} s.`;
  status.textContent = text;
  announce(text);
  const expire = setTimeout(() => {
    access.recordKey.fill(0);
    save.disabled = true;
    status.textContent = "The download permission expired: press Get record again.";
  }, seconds * 1000);
  const save: HTMLButtonElement = button("Save record", () => {
    clearTimeout(expire);
    save.disabled = true;
    void saveRecord(ctx, grant, access, status, out).finally(() => access.recordKey.fill(0));
  });
  out.replaceChildren(h("div", { class: "actions" }, save));
  focus(save);
}

/**
 * Downloads, verifies and decrypts the record in a worker, straight into
 * `saveStream` (call it before any await: the save picker needs the click).
 */
async function saveRecord(ctx: Context, grant: OpenedGrant, access: Access, status: HTMLElement, out: HTMLElement): Promise<void> {
  const bar = progress("Downloading and decrypting");
  bar.element.dataset.testid = "download-progress";
  bar.element.setAttribute("aria-live", "polite");
  const signal = anySignal(bar.signal, ctx.session.flowSignal());
  const name = fileName(grant);
  const plaintext = deferred(async () => {
    status.textContent = "Downloading, verifying and decrypting…";
    const response = await server.download(access.url, signal);
    if (!response.body) throw new PortalError("ServerUnreachable", "The hospital's server sent no record.");
    // Each network chunk's memory goes back once the job has copied it (buffers.ts).
    const job = decryptInWorker(releasedOnNextRead(response.body), {
      key: access.recordKey,
      associatedData: recordAssociatedData(grant),
      expectedHash: access.anchored,
      totalBytes: access.size,
      signal,
      onProgress: (p) => bar.update({ bytesDone: p.bytesDone, totalBytes: access.size, mbPerSecond: p.mbPerSecond, ...(p.secondsLeft === undefined ? {} : { secondsLeft: p.secondsLeft }) }),
    });
    job.done.catch(() => undefined); // reported through the stream
    return { stream: job.output, done: job.done };
  });
  const saving = saveStream(plaintext, { filename: name, signal }); // first: keeps the click for the picker
  out.replaceChildren(bar.element);
  try {
    await saving;
    bar.finish();
    const done = `Saved "${name}": the record matches its registration on the blockchain.`;
    status.textContent = done;
    status.classList.add("ok");
    out.replaceChildren();
    announce(done);
    if (focusLost()) focus(status); // "Save record" was disabled, then removed
  } catch (err) {
    bar.finish("stopped");
    const e = explain(err);
    status.classList.remove("ok");
    status.textContent = "The record was not saved; any partial file was discarded.";
    const box = errorBox(err);
    box.dataset.testid = "fetch-error";
    out.replaceChildren(box);
    announce(e.title);
    focus(box);
  }
}

/**
 * A stream that starts its source only when first read (after the save
 * picker or the download began), and closes only once the decryption job
 * is done (the record authenticated whole).
 */
function deferred(open: () => Promise<{ stream: ReadableStream<Uint8Array>; done: Promise<unknown> }>): ReadableStream<Uint8Array> {
  let source: Promise<{ reader: ReadableStreamDefaultReader<Uint8Array>; done: Promise<unknown> }> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        source ??= open().then(({ stream, done }) => ({ reader: stream.getReader(), done }));
        const { reader, done } = await source;
        const next = await reader.read();
        if (!next.done) return controller.enqueue(next.value);
        await done;
        controller.close();
      },
      async cancel(reason) {
        const opened = await source?.catch(() => undefined);
        await opened?.reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
