/**
 * The doctor's view (`#doctor`): unlock his protocol key, show his doctor
 * code for the health authority, store his certificate, create records
 * (encrypt, upload, anchor, sealed handoff; records.ts) and resume the
 * records a closed tab or a failure left pending.
 */
import { formatCode, parseCode } from "../codes";
import type { Context } from "../context";
import { explain, PortalError } from "../errors";
import {
  createRecord, discardRecord, discardUnreadable, handoffFileName, isRunning, listRecords, loadRecord, runRecord, saveCertificate, stageText,
  storedCertificate, checkCertificate, anySignal, type Certificate, type PendingRecord, type RunHooks,
} from "../records";
import type { SealedEntry } from "../store";
import {
  announce, button, copyButton, dateTime, downloadText, errorBox, field, focus, focusIfLost, h, progress, section, short,
  statusLine, task, type Progress,
} from "../ui";

/** Renders the doctor view into `root`; returns its cleanup. */
export function mount(root: HTMLElement, ctx: Context): () => void {
  root.dataset.view = "doctor";
  const render = () => {
    root.replaceChildren(h("h1", {}, "Doctor"));
    if (!ctx.session.unlocked) {
      root.append(unlockSection(ctx));
      return;
    }
    const pending = h("div", { "data-testid": "pending-records" });
    const refresh = () => void renderPending(ctx, pending, refresh);
    root.append(codeSection(ctx), certificateSection(ctx), newRecordSection(ctx, refresh), section("Pending records", pending));
    refresh();
  };
  render();
  return ctx.session.onChange(() => {
    render();
    focusIfLost(root);
  });
}

// ---------------------------------------------------------------- unlock and code

/** The locked state: what unlocking does, and the Unlock button. */
function unlockSection(ctx: Context): HTMLElement {
  const out = h("div", { "data-testid": "unlock-status", "aria-live": "polite" });
  const unlock = button("Unlock", () => void task(out, "Sign the unlock message in your wallet…", () => ctx.session.unlock(), unlock));
  return section(
    "Unlock your doctor key",
    h("p", {}, "Your wallet signs a fixed message (no transaction, no fee). Your doctor key is derived from that signature: it is never stored, and the same account gives the same key on any computer."),
    h("div", { class: "actions" }, unlock),
    out,
  );
}

/** The doctor code to give to the health authority. */
function codeSection(ctx: Context): HTMLElement {
  const code = formatCode("doctor", ctx.session.account, ctx.session.protocolKey.publicKey());
  return section(
    "Your doctor code",
    h("p", {}, "Give this code to the health authority so it can certify you. It holds your account and your public key only: it is safe to share."),
    h("pre", { "data-testid": "doctor-code", "aria-label": "Your doctor code" }, code),
    h("div", { class: "actions" }, copyButton("Copy doctor code", () => code)),
  );
}

// ---------------------------------------------------------------- certificate

/** The stored certificate's state, and the form to store one. */
function certificateSection(ctx: Context): HTMLElement {
  const status = statusLine("certificate-status");
  const out = h("div", { "aria-live": "polite" });
  const text = h("textarea", { rows: 5, spellcheck: "false" });
  const fileInput = h("input", { type: "file", accept: ".json,application/json,text/plain" });
  fileInput.addEventListener("change", () => {
    const file = fileInput.files?.[0];
    if (file) void file.text().then((t) => { text.value = t; });
  });
  const store = button("Save certificate", () => void task(out, "Checking the certificate on the blockchain…", async () => {
    const certificate = await saveCertificate(ctx, await certificateText(text, fileInput));
    showCertificate(status, certificate);
    out.replaceChildren();
    announce("Certificate saved.");
    focus(status);
    text.value = "";
  }, store));
  void showStored(ctx, status);
  return section(
    "Your certificate",
    status,
    field("Certificate (JSON)", text, "Paste the certificate the health authority gave you, or open its file below."),
    field("Open certificate file", fileInput),
    h("div", { class: "actions" }, store),
    out,
  );
}

/** The certificate text from the text area, else from the chosen file. */
async function certificateText(text: HTMLTextAreaElement, fileInput: HTMLInputElement): Promise<string> {
  if (text.value.trim()) return text.value;
  const file = fileInput.files?.[0];
  if (file) return file.text();
  throw new PortalError("InvalidInput", "Certificate: paste it or open its file.");
}

/** Shows the stored certificate, checked again against the chain now. */
async function showStored(ctx: Context, status: HTMLElement): Promise<void> {
  const json = await storedCertificate(ctx);
  if (!json) {
    status.textContent = "No certificate is stored yet: you need one to create records.";
    return;
  }
  try {
    showCertificate(status, await checkCertificate(ctx, json));
  } catch (err) {
    const e = explain(err);
    status.textContent = `Your stored certificate is not usable: ${e.title} ${e.next}`;
  }
}

/** One line saying what the certificate allows. */
function showCertificate(status: HTMLElement, certificate: Certificate): void {
  const f = certificate.fields;
  status.classList.add("ok");
  status.textContent = `Certified at ${f.hospital} (certificate ${f.serial}, valid until ${dateTime(f.validUntil)}).`;
}

// ---------------------------------------------------------------- new record

/** The form that creates a record, and where its run is shown. */
function newRecordSection(ctx: Context, refresh: () => void): HTMLElement {
  const patient = h("textarea", { rows: 3, spellcheck: "false" });
  const type = h("input", { type: "text", maxlength: 32, autocomplete: "off" });
  const file = h("input", { type: "file" });
  const out = h("div", { "data-testid": "record-output" });
  const create = button("Create record", () => void start());
  const start = async () => {
    create.disabled = true;
    try {
      const input = await readForm(ctx, patient.value, type.value, file.files?.[0]);
      await showRun(ctx, out, (hooks) => createRecord(ctx, input, hooks), input.file);
      patient.value = type.value = file.value = "";
    } catch (err) {
      out.replaceChildren(errorBox(err));
      focus(out.firstElementChild as HTMLElement);
    } finally {
      create.disabled = false;
      refresh();
    }
  };
  return section(
    "Create a record",
    h("p", {}, "The file is encrypted on this computer, uploaded to your hospital's record server, registered on the blockchain, and its key is sealed for the patient only."),
    field("Patient code", patient, "Paste the code from the patient's portal page (it starts with ehrchain-patient:)."),
    field("Record type", type, "For example: radiology. At most 32 plain characters; it is not published."),
    field("Record file", file, "Any file, of any size."),
    h("div", { class: "actions" }, create),
    out,
  );
}

/** Reads and checks the form (the stored certificate is checked against the chain again). */
async function readForm(ctx: Context, patientText: string, type: string, file: File | undefined) {
  const patient = parseCode("patient", patientText);
  if (!file) throw new PortalError("InvalidInput", "Record file: choose the file to send.");
  const json = await storedCertificate(ctx);
  if (!json) throw new PortalError("DoctorNotCertified", "Save your certificate above first.");
  const certificate = await checkCertificate(ctx, json);
  return { file, patient, recordType: type, certificate };
}

/**
 * Runs a record (new or resumed) in `out`: a status line, a progress bar
 * per phase (with Cancel), then the sealed handoff; on failure an error
 * box with "Resume".
 */
async function showRun(
  ctx: Context,
  out: HTMLElement,
  run: (hooks: RunHooks) => Promise<PendingRecord>,
  file?: File,
): Promise<void> {
  let latest: PendingRecord | undefined;
  const controller = new AbortController();
  const status = statusLine("record-status");
  status.setAttribute("aria-live", "polite");
  const bars = h("div");
  out.replaceChildren(status, bars);
  let bar: { phase: string; view: Progress } | undefined;
  const hooks: RunHooks = {
    signal: anySignal(controller.signal, ctx.session.flowSignal()),
    onStatus: (record, text) => {
      latest = record;
      status.textContent = text;
      announce(text);
    },
    onProgress: (phase, state) => {
      if (bar?.phase !== phase) {
        bar?.view.finish();
        const view = progress(phase === "encrypt" ? "Encrypting" : "Uploading");
        view.element.dataset.testid = `${phase}-progress`;
        view.element.setAttribute("aria-live", "polite");
        view.signal.addEventListener("abort", () => controller.abort(view.signal.reason));
        bars.replaceChildren(view.element);
        bar = { phase, view };
      }
      bar.view.update(state);
    },
  };
  try {
    const record = await run(hooks);
    bar?.view.finish();
    bars.replaceChildren();
    status.classList.add("ok");
    out.append(handoffBox(record));
  } catch (err) {
    bar?.view.finish("stopped");
    const failed = latest;
    status.textContent = failed
      ? "Not finished. The record is kept in this browser: press Resume once the problem below is solved."
      : "The record was not created.";
    const box = errorBox(err);
    if (failed) box.append(button("Resume", () => void resumeStored(ctx, out, failed.id, file)));
    out.append(box);
    announce(explain(err).title);
    focus(box);
  }
}

/** Resumes the stored record `id` (its latest stage) in `out`. */
async function resumeStored(ctx: Context, out: HTMLElement, id: string, file?: File): Promise<void> {
  let record: PendingRecord | undefined;
  try {
    record = await loadRecord(ctx, id);
  } catch (err) {
    out.replaceChildren(errorBox(err));
    return;
  }
  if (!record) {
    out.replaceChildren(errorBox(new PortalError("RecordUnknown", "This record is no longer stored in this browser.")));
    return;
  }
  await showRun(ctx, out, (hooks) => runRecord(ctx, record, hooks, file), file);
}

/** The sealed handoff: text to copy, and a file to download. */
function handoffBox(record: PendingRecord): HTMLElement {
  const text = h("textarea", { rows: 4, readonly: true, "data-testid": "handoff", spellcheck: "false" });
  text.value = record.handoff ?? "";
  return h(
    "div",
    { class: "handoff" },
    h("p", { class: "ok" }, `The record for patient ${short(record.patient)} is uploaded and registered. Give the patient this sealed handoff: only she can open it.`),
    field("Sealed handoff for the patient", text),
    h("div", { class: "actions" },
      copyButton("Copy handoff", () => text.value),
      button("Download handoff file", () => downloadText(handoffFileName(record), text.value, "text/plain")),
    ),
  );
}

// ---------------------------------------------------------------- pending records

/** Lists the stored records: pending ones with Resume and Discard, finished ones with their handoff. */
async function renderPending(ctx: Context, list: HTMLElement, refresh: () => void): Promise<void> {
  let listed: Awaited<ReturnType<typeof listRecords>>;
  try {
    listed = await listRecords(ctx);
  } catch (err) {
    list.replaceChildren(errorBox(err, refresh));
    return;
  }
  const { records, unreadable } = listed;
  const problem = unreadable.length > 0 ? unreadableBox(ctx, unreadable, refresh) : null;
  if (records.length === 0) {
    list.replaceChildren(...(problem ? [problem] : []), h("p", {}, "No records yet."));
    return;
  }
  list.replaceChildren(...(problem ? [problem] : []), h("ul", { class: "records" }, ...records.map((r) => pendingItem(ctx, r, refresh))));
}

/** Stored records that do not open (`StoredSecretUnreadable`): say so, with a button that removes them. */
function unreadableBox(ctx: Context, unreadable: readonly SealedEntry<PendingRecord>[], refresh: () => void): HTMLElement {
  const n = unreadable.length;
  const box = errorBox(unreadable[0]?.error);
  const out = h("div");
  const remove: HTMLButtonElement = button(`Remove ${n === 1 ? "the saved record" : `the ${n} saved records`} that cannot be opened`, () => {
    void task(out, "Removing…", async () => {
      await discardUnreadable(ctx, unreadable);
      announce("Removed.");
      refresh();
    }, remove);
  });
  box.append(h("p", {}, "Removing forgets an unfinished record in this browser: create it again from its file."), remove, out);
  return box;
}

/** One stored record. */
function pendingItem(ctx: Context, record: PendingRecord, refresh: () => void): HTMLElement {
  const out = h("div");
  const label = `${record.recordType || "Record"} "${record.fileName}" for ${short(record.patient)}, ${dateTime(record.created)}`;
  const item = h("li", { "data-testid": "pending-record", "data-stage": record.stage, "data-record": record.id },
    h("p", {}, h("strong", {}, label)),
    h("p", { "data-testid": "pending-stage" }, stageText(record.stage)),
  );
  if (record.stage === "done") {
    item.append(handoffBox(record), h("div", { class: "actions" }, removeButton(ctx, record, "Remove from list", refresh)));
    return item;
  }
  const again = h("input", { type: "file" });
  const resume = () => {
    const file = again.files?.[0];
    void showRun(ctx, out, (hooks) => runRecord(ctx, record, hooks, file), file).then(refresh);
  };
  const resumeButton = button("Resume", resume, { "aria-label": `Resume ${label}` });
  resumeButton.disabled = isRunning(record.id);
  if (record.stage === "encrypting") item.append(field("Choose the same file again", again));
  item.append(h("div", { class: "actions" }, resumeButton, removeButton(ctx, record, "Discard", refresh)), out);
  return item;
}

/** A button that forgets a record; an unfinished one only after "Yes, discard it". */
function removeButton(ctx: Context, record: PendingRecord, text: string, refresh: () => void): HTMLElement {
  const wrap = h("span");
  const forget = async () => {
    wrap.replaceChildren(h("span", { class: "busy" }, "Removing…"));
    await discardRecord(ctx, record).catch((err) => wrap.replaceChildren(errorBox(err)));
    refresh();
  };
  const first = button(text, () => {
    if (record.stage === "done") return void forget();
    const confirm = h("div", { class: "confirm", role: "group", "aria-label": "Confirm discarding" },
      h("p", {}, "Discard this record? Its upload is abandoned; to send it, you would create it again."),
      button("Yes, discard it", () => void forget(), { class: "danger" }),
      button("Keep it", () => wrap.replaceChildren(first), { class: "secondary" }),
    );
    wrap.replaceChildren(confirm);
    focus(confirm);
  }, { class: "secondary" });
  wrap.append(first);
  return wrap;
}
