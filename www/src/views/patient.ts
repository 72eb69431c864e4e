/**
 * The patient's view (`#patient`): unlock her protocol key with a wallet
 * signature; show her patient code; receive a record (open the sealed
 * handoff, check its anchor, file `{X, Z, K}` at the hospital); list her
 * records; grant a certified doctor access to one (wallet-signed pass, then
 * an `authorise` transaction, sent through the hospital's relayer by
 * default so her grants share no sender on chain); list her grants; delete
 * a record (her tombstone on chain, then the hospital's copy). Records are kept in this
 * browser: the sealed handoff as it came (encrypted to her key) and the
 * record's mask key sealed under her storage key. Each record and grant is
 * stored sealed under her storage key, in a slot of a random name (store.ts
 * `addSealed`): they link her to records, hospitals and doctors.
 */
import {
  MaskKey, authoriseTx, checkHandoffAnchor, openHandoff, type AuthorisationParts, type CertifiedAnchor, type Handoff,
} from "ehrchain";
import { toHex } from "../chain";
import { formatCode } from "../codes";
import type { Context } from "../context";
import { endpointOf, listCertificates, type RegisteredCertificate } from "../directory";
import { PortalError } from "../errors";
import { deleteMyRecord } from "../deletion";
import { relayAuthorisation } from "../relay";
import { fileIndex } from "../server";
import { openSecret, sealSecret, type SealedEntry } from "../store";
import {
  announce, button, checkField, confirmButton, copyButton, dateTime, errorBox, field, focus, focusIfLost, h, section, short, statusLine, task,
} from "../ui";

/** Store prefix of her records: one sealed `StoredRecord` each, in a slot of a random name. */
const RECORD_PREFIX = "patient/record/";
/** Store prefix of her grants: one sealed `StoredGrant` each, in a slot of a random name. */
const GRANT_PREFIX = "patient/grant/";
/** Where an older portal kept them, in clear, under keys naming the record (`record/<eh>`) and the grant (`grant/<tx hash>`). */
const OLD_RECORD_PREFIX = "record/";
const OLD_GRANT_PREFIX = "grant/";

/** A record kept in this browser (sealed, under `RECORD_PREFIX`). */
interface StoredRecord {
  /** `eh`, hex: the record's id. */
  readonly eh: string;
  /** The sealed handoff as received (hex): only her protocol key opens it. */
  readonly sealed: string;
  /** The record's mask key `k_t`, sealed under her storage key. */
  readonly mask: Uint8Array;
  readonly hospital: string;
  readonly time: number;
  readonly recordType: string;
  /** The doctor who anchored it, and his certificate serial. */
  readonly doctor: string;
  readonly serial: number;
  /** When she received it (Unix seconds). */
  readonly received: number;
  /** Whether `{X, Z, K}` is filed at the hospital. */
  readonly filed: boolean;
  /** Whether she deleted it (tombstone on chain, then the hospital's copy). */
  readonly deleted?: boolean;
}

/** A stored record with the store key it is sealed at. */
type KeptRecord = StoredRecord & { readonly slot: string };

/** A grant she sent (sealed, under `GRANT_PREFIX`). */
interface StoredGrant {
  readonly eh: string;
  readonly hospital: string;
  readonly recordTime: number;
  readonly recordType: string;
  readonly doctor: string;
  readonly serial: number;
  readonly txHash: string;
  /** When it was sent (Unix seconds). */
  readonly at: number;
  /** Who sent the transaction: the hospital's relayer, or her own account. */
  readonly via?: "relay" | "wallet";
}

/** Largest handoff file accepted (a handoff is well under 1 KB). */
const MAX_HANDOFF_FILE = 64 * 1024;

/** Whether `v` has the shape of a `StoredRecord` (as sealed now, or as an older portal stored it in clear). */
function isStoredRecord(v: unknown): v is StoredRecord {
  const r = v as Partial<Record<keyof StoredRecord, unknown>> | null;
  return typeof r === "object" && r !== null && typeof r.eh === "string" && typeof r.sealed === "string" &&
    r.mask instanceof Uint8Array && typeof r.hospital === "string";
}

/** Whether `v` has the shape of a `StoredGrant`. */
function isStoredGrant(v: unknown): v is StoredGrant {
  const g = v as Partial<Record<keyof StoredGrant, unknown>> | null;
  return typeof g === "object" && g !== null && typeof g.txHash === "string" && typeof g.doctor === "string" && typeof g.eh === "string";
}

/** What her store holds: records (with their slots), grants, and the entries that do not open. */
interface Kept {
  readonly records: KeptRecord[];
  readonly grants: StoredGrant[];
  readonly unreadable: SealedEntry<unknown>[];
}

/** Her stored records and grants, opened; what an older portal stored in clear is sealed into slots first. */
async function loadKept(ctx: Context): Promise<Kept> {
  const store = ctx.session.store;
  await store.sealClear(OLD_RECORD_PREFIX, isStoredRecord, RECORD_PREFIX);
  await store.sealClear(OLD_GRANT_PREFIX, isStoredGrant, GRANT_PREFIX);
  const [recordEntries, grantEntries] = await Promise.all([
    store.listSealed<StoredRecord>(RECORD_PREFIX),
    store.listSealed<StoredGrant>(GRANT_PREFIX),
  ]);
  const records: KeptRecord[] = [];
  const grants: StoredGrant[] = [];
  const unreadable: SealedEntry<unknown>[] = [];
  const notOfShape = (key: string) => ({ key, error: new PortalError("StoredSecretUnreadable", `the value at "${key}" is not what is kept there`) });
  for (const e of recordEntries) {
    if (e.error) unreadable.push(e);
    else if (isStoredRecord(e.value)) records.push({ ...e.value, slot: e.key });
    else unreadable.push(notOfShape(e.key));
  }
  for (const e of grantEntries) {
    if (e.error) unreadable.push(e);
    else if (isStoredGrant(e.value)) grants.push(e.value);
    else unreadable.push(notOfShape(e.key));
  }
  return { records, grants, unreadable };
}

/** Her stored record of `eh`, if any. */
async function findRecord(ctx: Context, eh: string): Promise<KeptRecord | undefined> {
  return (await loadKept(ctx)).records.find((r) => r.eh === eh);
}

/** Stores `record` with `changes` (sealed, at its slot); returns the new record. */
async function updateRecord(ctx: Context, record: KeptRecord, changes: Partial<StoredRecord>): Promise<KeptRecord> {
  const { slot, ...kept } = record;
  const next: StoredRecord = { ...kept, ...changes };
  await ctx.session.store.putSealed(slot, next);
  return { ...next, slot };
}

/** Renders the patient view into `root`; returns its cleanup. */
export function mount(root: HTMLElement, ctx: Context): () => void {
  const body = h("div");
  root.append(h("h1", {}, "Your health records"), body);
  const render = () => {
    body.replaceChildren(...(ctx.session.unlocked ? unlockedView(ctx) : [unlockSection(ctx)]));
  };
  render();
  const offSession = ctx.session.onChange(() => {
    render();
    focusIfLost(root);
  });
  const offWallet = ctx.wallet.onChange((change) => {
    if (change !== "providers" && !ctx.session.unlocked) render();
  });
  return () => {
    offSession();
    offWallet();
  };
}

/** Seconds now. */
function now(): number {
  return Math.floor(Date.now() / 1000);
}

/** A success line in `out`, announced and focused. */
function success(out: HTMLElement, testid: string, text: string, ...more: HTMLElement[]): void {
  const line = statusLine(testid);
  line.classList.add("ok");
  line.textContent = text;
  out.replaceChildren(line, ...more);
  announce(text);
  focus(line);
}

// ---------------------------------------------------------------- unlock

/** The Unlock step and what it does, in plain words. */
function unlockSection(ctx: Context): HTMLElement {
  const out = h("div", { "data-testid": "unlock-result" });
  const unlock: HTMLButtonElement = button("Unlock my records", () => {
    void task(out, "Sign the message in your wallet…", async () => {
      await ctx.session.unlock();
      announce("Your records are unlocked.");
    }, unlock);
  });
  const connect = ctx.wallet.account ? null : h("p", { class: "note" }, "First connect your wallet on the ", h("a", { href: "#wallet" }, "Wallet page"), ".");
  return section(
    "Unlock",
    h("p", {}, "Records sent to you are locked with your own key. To make that key, your wallet signs a fixed message."),
    h(
      "ul",
      {},
      h("li", {}, "Signing costs nothing: it sends nothing and moves no money."),
      h("li", {}, "The same account always makes the same key, so you can unlock on any device."),
      h("li", {}, "The key stays in this tab. It is forgotten when you close the tab or change account."),
    ),
    h("details", {}, h("summary", {}, "Details"), h("p", {}, "The wallet signs the portal's unlock message with personal_sign (EIP-191); " +
      "the protocol key and the key that protects what this browser stores are derived from that signature.")),
    connect,
    unlock,
    out,
  );
}

/** Everything once unlocked. Forms are built once; only the lists are redrawn after a change. */
function unlockedView(ctx: Context): HTMLElement[] {
  const records = h("div");
  // The records' outcome line outlives the list it is drawn under, which each change redraws.
  const recordsOut = h("div", { "data-testid": "records-result" });
  const grants = h("div");
  const grantForm = grantSection(ctx, () => refresh());
  const refresh = async () => {
    const kept = await loadKept(ctx);
    const mine = kept.records.sort((a, b) => b.received - a.received);
    const problem = kept.unreadable.length > 0 ? unreadableBox(ctx, kept.unreadable, refresh) : null;
    records.replaceChildren(...(problem ? [problem] : []), recordsSection(ctx, mine, refresh, recordsOut));
    grantForm.update(mine.filter((r) => r.filed && !r.deleted));
    grants.replaceChildren(grantsSection(kept.grants.sort((a, b) => b.at - a.at)));
  };
  refresh().catch((err) => records.replaceChildren(errorBox(err, () => void refresh())));
  return [codeSection(ctx), receiveSection(ctx, refresh), records, grantForm.element, grants];
}

/** Stored entries that do not open (`StoredSecretUnreadable`): say so, with a button that removes them. */
function unreadableBox(ctx: Context, unreadable: SealedEntry<unknown>[], refresh: () => Promise<void>): HTMLElement {
  const n = unreadable.length;
  const box = errorBox(unreadable[0]?.error);
  const out = h("div");
  const remove: HTMLButtonElement = button(`Remove ${n === 1 ? "the saved item" : `the ${n} saved items`} that cannot be opened`, () => {
    void task(out, "Removing…", async () => {
      for (const { key } of unreadable) await ctx.session.store.del(key);
      announce("Removed.");
      await refresh();
    }, remove);
  });
  box.append(h("p", {}, "Removing forgets it in this browser only: receive a record again from your doctor's handoff; " +
    "your grants stay on the blockchain."), remove, out);
  return box;
}

/** Her patient code, with Copy. */
function codeSection(ctx: Context): HTMLElement {
  const code = formatCode("patient", ctx.session.account, ctx.session.protocolKey.publicKey());
  return section(
    "Your patient code",
    h("p", {}, "Give this code to your doctor so that records can be sent to you. It holds no secret."),
    h("p", { class: "mono", "data-testid": "patient-code" }, code),
    copyButton("Copy my patient code", () => code),
  );
}

// ---------------------------------------------------------------- receive

/** "Receive a record": paste or open the sealed handoff, check it, file it. */
function receiveSection(ctx: Context, refresh: () => Promise<void>): HTMLElement {
  const out = h("div", { "data-testid": "receive-result" });
  const text = h("textarea", { rows: 4, autocomplete: "off", spellcheck: "false" });
  const file = h("input", { type: "file", accept: ".txt,.json,.handoff,text/plain,application/octet-stream" });
  file.addEventListener("change", () => {
    const f = file.files?.[0];
    if (!f) return;
    void task(out, "Reading the file…", async () => {
      if (f.size > MAX_HANDOFF_FILE) throw new PortalError("InvalidInput", "Record file: this file is too large to be a record handoff");
      text.value = handoffText(new Uint8Array(await f.arrayBuffer()));
      out.replaceChildren();
      announce("File read. Press Open record.");
    });
  });
  const open: HTMLButtonElement = button("Open record", () => {
    void task(out, "Opening and checking the record…", () => receive(ctx, text.value, out, refresh), open);
  });
  return section(
    "Receive a record",
    h("p", {}, "Your doctor gives you a locked record as text or as a file. Paste the text or open the file."),
    field("Record from your doctor", text),
    field("Or open a record file", file),
    open,
    out,
  );
}

/** A handoff file's content as text: the text itself if it is text, else its bytes as hex. */
function handoffText(bytes: Uint8Array): string {
  const asText = new TextDecoder("utf-8", { fatal: false }).decode(bytes).trim();
  return /^[\x20-\x7e\s]*$/.test(asText) ? asText : toHex(bytes);
}

/** The sealed handoff from pasted text: hex (any `label:` prefix, `0x` and whitespace are ignored). */
function sealedFrom(text: string): string {
  const compact = text.replace(/\s+/g, "").replace(/^[a-z][a-z0-9-]*:/i, "");
  if (compact === "") throw new PortalError("InvalidInput", "Record from your doctor: paste the text or open the file first");
  const hex = compact.replace(/^0x/i, "");
  if (!/^[0-9a-f]+$/i.test(hex) || hex.length % 2 !== 0) {
    throw new PortalError("InvalidInput", "Record from your doctor: the text is not a locked record (it should be letters a–f and digits)");
  }
  return `0x${hex.toLowerCase()}`;
}

/** Overwrites the handoff's secrets once they are no longer needed. */
function wipe(handoff: Handoff): void {
  for (const bytes of [handoff.recordKey, handoff.filingSecret, handoff.txId, handoff.anchorSalt]) bytes.fill(0);
}

/** Opens and checks a pasted handoff and shows what it is, with "File it with <hospital>". */
async function receive(ctx: Context, text: string, out: HTMLElement, refresh: () => Promise<void>): Promise<void> {
  const signal = ctx.session.flowSignal();
  const sealed = sealedFrom(text);
  const handoff = openHandoff(ctx.session.protocolKey, sealed);
  let anchor: CertifiedAnchor;
  try {
    anchor = checkHandoffAnchor(handoff, ctx.session.account, await ctx.chain.answersFor(handoff.eh));
  } finally {
    wipe(handoff);
  }
  signal.throwIfAborted();
  const eh = toHex(handoff.eh);
  const existing = await findRecord(ctx, eh);
  const facts = recordFacts(handoff, anchor, eh);
  if (existing?.filed) {
    success(out, "receive-outcome", `You already have this record, filed with ${handoff.hospital}.`, facts);
    return;
  }
  const fileButton: HTMLButtonElement = button(`File it with ${handoff.hospital}`, () => {
    void task(fileOut, `Filing the record with ${handoff.hospital}…`, async () => {
      await keepAndFile(ctx, sealed, anchor);
      await refresh();
      success(fileOut, "file-outcome", `The record is filed with ${handoff.hospital}. You can now grant a doctor access to it.`);
    }, fileButton);
  });
  const fileOut = h("div", { "data-testid": "file-result" });
  success(out, "receive-outcome", "This record is genuine and registered for you:", facts,
    h("p", {}, `Filing tells ${handoff.hospital} how a doctor you choose can find it. The hospital learns nothing it can read.`),
    fileButton, fileOut);
}

/** What a record is, in plain words, with the protocol values in Details. */
function recordFacts(handoff: Handoff, anchor: CertifiedAnchor, eh: string): HTMLElement {
  const item = (term: string, value: string, testid: string) =>
    [h("dt", {}, term), h("dd", { "data-testid": testid }, value)];
  return h(
    "div",
    { "data-testid": "record-facts" },
    h(
      "dl",
      { class: "facts" },
      ...item("Hospital", handoff.hospital, "record-hospital"),
      ...item("Time", dateTime(handoff.time), "record-time"),
      ...item("Type", handoff.recordType || "(not given)", "record-type"),
      ...item("Registered by", `${anchor.doctor} (certificate ${anchor.serial})`, "record-doctor"),
      ...item("Registered on", dateTime(anchor.anchoredAt), "record-anchored"),
    ),
    h("details", {}, h("summary", {}, "Details"),
      h("p", { class: "mono" }, `Record hash (eh): ${eh}`),
      h("p", { class: "mono" }, `Anchoring transaction: ${toHex(handoff.txId)}`)),
  );
}

/** Keeps the record in the store (once) and files it at its hospital. */
async function keepAndFile(ctx: Context, sealed: string, anchor: CertifiedAnchor): Promise<void> {
  const signal = ctx.session.flowSignal();
  const handoff = openHandoff(ctx.session.protocolKey, sealed);
  const eh = toHex(handoff.eh);
  let record = await findRecord(ctx, eh);
  if (!record) {
    const maskKey = MaskKey.generate();
    const secret = maskKey.exportSecret();
    maskKey.free();
    let fresh: StoredRecord;
    try {
      fresh = {
        eh, sealed, mask: await sealSecret(ctx.session.storageKey, secret),
        hospital: handoff.hospital, time: handoff.time, recordType: handoff.recordType,
        doctor: anchor.doctor, serial: Number(anchor.serial), received: now(), filed: false,
      };
    } finally {
      secret.fill(0);
    }
    record = { ...fresh, slot: await ctx.session.store.addSealed(RECORD_PREFIX, fresh) };
  }
  wipe(handoff);
  signal.throwIfAborted();
  await fileRecord(ctx, record, signal);
}

/** Files a stored record's `{X, Z, K}` at its hospital's record server and marks it filed. */
async function fileRecord(ctx: Context, record: KeptRecord, signal: AbortSignal): Promise<void> {
  const endpoint = await endpointOf(ctx, record.hospital);
  const handoff = openHandoff(ctx.session.protocolKey, record.sealed);
  const maskKey = await maskKeyOf(ctx, record);
  try {
    const { x, z, k } = maskKey.mask(handoff);
    await fileIndex(endpoint, { x, z, k, eh: handoff.eh, filingSecret: handoff.filingSecret }, signal);
  } finally {
    maskKey.free();
    wipe(handoff);
  }
  await updateRecord(ctx, record, { filed: true });
}

/** The record's mask key, unsealed from the store. Free it after use. */
async function maskKeyOf(ctx: Context, record: StoredRecord): Promise<MaskKey> {
  const secret = await openSecret(ctx.session.storageKey, record.mask);
  try {
    return MaskKey.fromBytes(secret);
  } finally {
    secret.fill(0);
  }
}

// ---------------------------------------------------------------- records

/** Her records, with their filing state and "Retry filing". */
function recordsSection(ctx: Context, records: KeptRecord[], refresh: () => Promise<void>, out: HTMLElement): HTMLElement {
  if (records.length === 0) {
    return section("Your records", h("p", { "data-testid": "record-list" }, "No record yet. Records you receive appear here."));
  }
  const rows = records.map((r) => {
    const state = r.deleted ? "deleted" : r.filed ? "filed" : "not yet filed";
    const action = r.deleted ? "—" : r.filed ? deleteButton(ctx, r, out, refresh) : retryButton(ctx, r, out, refresh);
    return h(
      "tr",
      { "data-testid": "record-row", "data-eh": r.eh },
      h("td", {}, r.hospital),
      h("td", {}, dateTime(r.time)),
      h("td", {}, r.recordType || "—"),
      h("td", { "data-testid": "record-state" }, state),
      h("td", {}, action),
    );
  });
  const head = ["Hospital", "Time", "Type", "State", "Action"].map((t) => h("th", { scope: "col" }, t));
  return section(
    "Your records",
    h("div", { class: "table-wrap" }, h("table", { "data-testid": "record-list" },
      h("caption", {}, "Records kept in this browser"),
      h("thead", {}, h("tr", {}, ...head)), h("tbody", {}, ...rows))),
    out,
  );
}

/** "Delete record", with a confirm step that says what the deletion makes public. */
function deleteButton(ctx: Context, record: KeptRecord, out: HTMLElement, refresh: () => Promise<void>): HTMLElement {
  const name = `${record.hospital}, ${dateTime(record.time)}`;
  const message = `Delete your ${record.recordType || "record"} from ${name}? This cannot be undone: no doctor can fetch it ` +
    `any more, and ${record.hospital} deletes its copy. The deletion is public on the blockchain, with the record's ` +
    "type, and shows that you were its patient.";
  return confirmButton(`Delete record ${name}`, `Yes, delete record ${name}`, `Confirm deleting record ${name}`, message, (yes) => {
    void task(out, "Preparing the deletion…", async () => {
      const signal = ctx.session.flowSignal();
      const handoff = openHandoff(ctx.session.protocolKey, record.sealed);
      try {
        const done = await deleteMyRecord(ctx, handoff, (step) => {
          const text = step === "tombstone"
            ? "Confirm the deletion in your wallet (a transaction)…"
            : `Asking ${record.hospital} to delete its copy…`;
          out.replaceChildren(h("p", { class: "busy" }, text));
          announce(text);
        }, signal);
        await updateRecord(ctx, record, { deleted: true });
        await refresh();
        success(out, "delete-outcome", done.removed
          ? `The record is deleted: marked deleted on the blockchain, and ${record.hospital} removed its copy.`
          : `The record is marked deleted on the blockchain; ${record.hospital} had no copy left.`);
      } finally {
        wipe(handoff);
      }
    }, yes);
  });
}

/** "Retry filing" for a record not filed yet. */
function retryButton(ctx: Context, record: KeptRecord, out: HTMLElement, refresh: () => Promise<void>): HTMLButtonElement {
  const b: HTMLButtonElement = button(`Retry filing with ${record.hospital}`, () => {
    void task(out, `Filing the record with ${record.hospital}…`, async () => {
      await fileRecord(ctx, record, ctx.session.flowSignal());
      await refresh();
      announce(`The record is filed with ${record.hospital}.`);
    }, b);
  });
  return b;
}

// ---------------------------------------------------------------- grants

/** The grant form: its element, and `update` to show the filed records it can grant. */
interface GrantForm {
  readonly element: HTMLElement;
  update(records: StoredRecord[]): void;
}

/** "Grant a doctor": a filed record and a certified doctor, then wallet signature and transaction. */
function grantSection(ctx: Context, refresh: () => Promise<void>): GrantForm {
  const out = h("div", { "data-testid": "grant-result" });
  const empty = h("p", {}, "Once a record is filed with its hospital, you can let a doctor see it here.");
  let records: StoredRecord[] = [];
  const record = h("select", {});
  const doctor = h("select", {}, h("option", { value: "" }, "Loading certified doctors…"));
  const address = h("input", { type: "text", autocomplete: "off", spellcheck: "false", placeholder: "0x…" });
  const viaRelay = h("input", { type: "checkbox", checked: true }) as HTMLInputElement;
  let certificates: RegisteredCertificate[] = [];
  listCertificates(ctx).then((list) => {
    certificates = list;
    // One entry per doctor: his latest valid certificate.
    const latest = new Map<string, RegisteredCertificate>();
    for (const c of list) if (c.state === "valid") latest.set(c.doctor, c);
    const valid = [...latest.values()];
    doctor.replaceChildren(
      h("option", { value: "" }, valid.length ? "Choose a doctor" : "No certified doctor found"),
      ...valid.map((c) => h("option", { value: String(c.serial) },
        `${c.doctor}, certificate ${c.serial}, ${c.state} until ${dateTime(c.validUntil)}`)),
    );
  }, (err) => out.replaceChildren(errorBox(err)));
  const grant: HTMLButtonElement = button("Grant access", () => {
    void task(out, "Preparing the grant…", async () => {
      const chosen = chooseDoctor(certificates, doctor.value, address.value);
      const stored = records.find((r) => r.eh === record.value);
      if (!stored) throw new PortalError("RecordUnknown", "the chosen record is not in this browser's store");
      await grantAccess(ctx, stored, chosen, out, viaRelay.checked);
      await refresh();
    }, grant);
  });
  const form = h(
    "form",
    { "aria-label": "Grant a doctor access", onsubmit: (e: Event) => e.preventDefault(), hidden: true },
    field("Record", record),
    field("Doctor", doctor, "Doctors certified by the health authority."),
    field("Or the doctor's account address", address, "Used instead of the list when filled in."),
    checkField("Send it through the record's hospital (recommended)", viaRelay,
      "The hospital's server sends the grant for you, so the blockchain does not show your account as its sender and your " +
      "grants cannot be linked to each other there. The hospital still sees your connection. Untick to send it from your own account."),
    h("p", { class: "note", "data-testid": "sender-note" }, "Nobody can see on the blockchain to which doctor or for which record " +
      "a grant is; grants sent from your own account can be linked to each other by their sender."),
    grant,
  );
  const element = section(
    "Grant a doctor access",
    h("p", {}, "Choose a record and the doctor who may see it. Your wallet signs a permission (free), then sends it (a transaction)."),
    empty,
    form,
    out,
  );
  const update = (filed: StoredRecord[]) => {
    records = filed;
    const selected = record.value;
    record.replaceChildren(...filed.map((r) =>
      h("option", { value: r.eh, selected: r.eh === selected },
        `${r.hospital}, ${dateTime(r.time)}${r.recordType ? `, ${r.recordType}` : ""}`)));
    form.hidden = filed.length === 0;
    empty.hidden = filed.length > 0;
  };
  return { element, update };
}

/** The doctor's valid certificate, from the typed address (if any) or the list choice. */
function chooseDoctor(certificates: RegisteredCertificate[], serial: string, address: string): RegisteredCertificate {
  const typed = address.trim().toLowerCase();
  if (typed) {
    if (!/^0x[0-9a-f]{40}$/.test(typed)) throw new PortalError("InvalidInput", "Doctor's account address: it is 0x followed by 40 letters a–f and digits");
    const found = certificates.filter((c) => c.doctor.toLowerCase() === typed && c.state === "valid");
    const latest = found.sort((a, b) => b.serial - a.serial)[0];
    if (!latest) throw new PortalError("DoctorNotCertified", `${address.trim()} has no valid certificate`);
    return latest;
  }
  const chosen = certificates.find((c) => String(c.serial) === serial);
  if (!chosen) throw new PortalError("InvalidInput", "Doctor: choose a doctor in the list or type his account address");
  if (chosen.state !== "valid") throw new PortalError("DoctorNotCertified", `certificate ${chosen.serial} is ${chosen.state}`);
  return chosen;
}

/** Signs the grant in the wallet, sends `authorise`, and keeps the grant. */
async function grantAccess(
  ctx: Context, record: StoredRecord, doctor: RegisteredCertificate, out: HTMLElement, viaRelay: boolean,
): Promise<void> {
  const signal = ctx.session.flowSignal();
  const account = ctx.session.account;
  const handoff = openHandoff(ctx.session.protocolKey, record.sealed);
  const maskKey = await maskKeyOf(ctx, record);
  let trans: AuthorisationParts;
  try {
    const typed = maskKey.grantTypedData(doctor.protocolKey, handoff);
    out.replaceChildren(h("p", { class: "busy" }, "Sign the permission in your wallet (this costs nothing)…"));
    announce("Sign the permission in your wallet.");
    const signature = await ctx.wallet.signTypedData(typed);
    signal.throwIfAborted();
    trans = maskKey.authoriseSigned(doctor.protocolKey, handoff, { signature, patient: account });
  } finally {
    maskKey.free();
    wipe(handoff);
  }
  let txHash: string;
  if (viaRelay) {
    const busy = `${record.hospital} is sending the grant for you…`;
    out.replaceChildren(h("p", { class: "busy" }, busy));
    announce(busy);
    txHash = (await relayAuthorisation(await endpointOf(ctx, record.hospital), trans, signal)).transactionHash;
  } else {
    out.replaceChildren(h("p", { class: "busy" }, "Confirm the transaction in your wallet…"));
    announce("Confirm the transaction in your wallet.");
    txHash = (await ctx.wallet.send(authoriseTx(ctx.config.registry, trans), signal)).transactionHash;
  }
  const grant: StoredGrant = {
    eh: record.eh, hospital: record.hospital, recordTime: record.time, recordType: record.recordType,
    doctor: doctor.doctor, serial: doctor.serial, txHash, at: now(), via: viaRelay ? "relay" : "wallet",
  };
  await ctx.session.store.addSealed(GRANT_PREFIX, grant);
  success(out, "grant-outcome", `Doctor ${short(doctor.doctor)} can now see your ${record.hospital} record.`);
}

/** The grants she sent from this browser. */
function grantsSection(grants: StoredGrant[]): HTMLElement {
  if (grants.length === 0) return section("Your grants", h("p", { "data-testid": "grant-list" }, "You have not granted anyone access yet."));
  const head = ["Doctor", "Certificate", "Record", "Granted on", "Sent by", "Transaction"].map((t) => h("th", { scope: "col" }, t));
  const rows = grants.map((g) => h(
    "tr",
    { "data-testid": "grant-row" },
    h("td", { class: "mono" }, g.doctor),
    h("td", {}, g.serial),
    h("td", {}, `${g.hospital}, ${dateTime(g.recordTime)}`),
    h("td", {}, dateTime(g.at)),
    h("td", {}, g.via === "relay" ? `${g.hospital}'s relay` : "your account"),
    h("td", { class: "mono", title: g.txHash }, short(g.txHash)),
  ));
  return section(
    "Your grants",
    h("div", { class: "table-wrap" }, h("table", { "data-testid": "grant-list" },
      h("caption", {}, "Doctors you granted access"),
      h("thead", {}, h("tr", {}, ...head)), h("tbody", {}, ...rows))),
  );
}
