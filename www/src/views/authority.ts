/**
 * The health authority's view (`#authority`): the hospital directory (list,
 * add, delist), certifying a doctor (EIP-712 certificate signed in the
 * wallet, then registered on chain), and the certificates with their
 * status and a Revoke button. Other accounts see the lists read-only.
 */
import {
  assembleCertificate, certificateTypedData, listHospitalTx, parseCertificate, registerDoctorTx, revokeDoctorTx,
} from "ehrchain";
import { parseCode } from "../codes";
import type { Context } from "../context";
import {
  checkEndpoint, checkHospitalName, listCertificates, listHospitals, type Hospital, type RegisteredCertificate,
} from "../directory";
import { PortalError } from "../errors";
import {
  announce, button, confirmButton, copyButton, dateTime, downloadText, errorBox, field, focus, h, section, short, statusLine, task,
} from "../ui";

/** Seconds in a day. */
const DAY = 86_400;
/** Default validity of a certificate, in days. */
const DEFAULT_DAYS = 365;
/** validFrom is set this far in the past, so a block mined a moment later (clock skew) is inside it. */
const START_SLACK = 60;

/** The view's state, reloaded from the chain after every change. */
interface State {
  hospitals: Hospital[];
  certificates: RegisteredCertificate[];
  /** Result areas, kept across re-renders so an outcome stays on screen after the lists reload. */
  readonly outs: { readonly hospital: HTMLElement; readonly certify: HTMLElement; readonly revoke: HTMLElement };
  /** The certify form's inputs, kept across re-renders so typed values survive a reload of the lists. */
  readonly form: CertifyInputs;
}

/** Renders the authority view into `root`; returns its cleanup. */
export function mount(root: HTMLElement, ctx: Context): () => void {
  const state: State = {
    hospitals: [],
    certificates: [],
    outs: {
      hospital: h("div", { "data-testid": "hospital-result" }),
      certify: h("div", { "data-testid": "certify-result" }),
      revoke: h("div", { "data-testid": "revoke-result" }),
    },
    form: certifyInputs(),
  };
  const notice = h("div", { "data-testid": "authority-notice" });
  const hospitals = h("div");
  const certify = h("div");
  const certificates = h("div");
  root.append(h("h1", {}, "Health authority"), notice, hospitals, certify, certificates);

  const render = () => {
    notice.replaceChildren(...authorityNotice(ctx));
    hospitals.replaceChildren(hospitalSection(ctx, state, reload));
    certify.replaceChildren(certifySection(ctx, state, reload));
    certificates.replaceChildren(certificateSection(ctx, state, reload));
  };
  const loading = h("p", { class: "busy", "data-testid": "authority-loading" }, "Reading the directory and certificates…");
  const reload = async () => {
    [state.hospitals, state.certificates] = await Promise.all([listHospitals(ctx), listCertificates(ctx)]);
    render();
  };
  render();
  root.append(loading);
  reload().then(
    () => loading.remove(),
    (err) => loading.replaceWith(errorBox(err, () => location.reload())),
  );
  return ctx.wallet.onChange((change) => {
    if (change !== "providers") render();
  });
}

/** Whether the connected account is the health authority. */
function isAuthority(ctx: Context): boolean {
  return ctx.wallet.account !== undefined && ctx.wallet.account === ctx.config.authority;
}

/** The connected account, if it is the authority (`NotAuthority` otherwise). */
function requireAuthority(ctx: Context): string {
  const account = ctx.wallet.requireAccount();
  if (account !== ctx.config.authority) {
    throw new PortalError("NotAuthority", `${account} is not the health authority ${ctx.config.authority}`);
  }
  return account;
}

/** Why the view is read-only, when it is. */
function authorityNotice(ctx: Context): HTMLElement[] {
  if (isAuthority(ctx)) return [];
  const who = ctx.wallet.account ? `Your account ${short(ctx.wallet.account)} is not` : "No wallet is connected; you are not";
  return [h(
    "p",
    { class: "note" },
    `${who} the health authority, so you can only look. Only the authority's account (`,
    h("span", { class: "mono" }, ctx.config.authority),
    ") can list hospitals, certify doctors and revoke certificates. ",
    h("a", { href: "#wallet" }, "Connect it on the Wallet page."),
  )];
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

// ---------------------------------------------------------------- hospitals

/** The hospital directory: table, delist buttons and the list form. */
function hospitalSection(ctx: Context, state: State, reload: () => Promise<void>): HTMLElement {
  const out = state.outs.hospital;
  const rows = state.hospitals.map((hospital) =>
    h(
      "tr",
      {},
      h("td", {}, hospital.name),
      h("td", { class: "mono" }, hospital.endpoint),
      h("td", {}, isAuthority(ctx) ? delistButton(ctx, hospital, out, reload) : "—"),
    ),
  );
  const table = state.hospitals.length
    ? h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { "data-testid": "hospital-list" },
          h("caption", {}, "Hospitals in the directory"),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Hospital"), h("th", { scope: "col" }, "Record server"), h("th", { scope: "col" }, "Action"))),
          h("tbody", {}, ...rows),
        ),
      )
    : h("p", { "data-testid": "hospital-list" }, "No hospital is listed yet.");
  const s = section("Hospitals", h("p", {}, "Doctors and patients find each hospital's record server here."), table);
  if (isAuthority(ctx)) s.append(hospitalForm(ctx, out, reload));
  s.append(out);
  return s;
}

/** The form that lists (or moves) a hospital's record server. */
function hospitalForm(ctx: Context, out: HTMLElement, reload: () => Promise<void>): HTMLElement {
  const name = h("input", { type: "text", autocomplete: "off", required: true });
  const url = h("input", { type: "url", autocomplete: "off", required: true, placeholder: "https://records.hospital.example" });
  const save: HTMLButtonElement = button("Save hospital", () => {
    void task(out, "Checking the form…", async () => {
      const signal = ctx.session.flowSignal();
      requireAuthority(ctx);
      const entry = { hospital: checkHospitalName(name.value), endpoint: checkEndpoint(url.value) };
      out.replaceChildren(h("p", { class: "busy" }, "Confirm the transaction in your wallet…"));
      await ctx.wallet.send(listHospitalTx(ctx.config.registry, entry), signal);
      await reload();
      success(out, "hospital-outcome", `${entry.hospital} is listed with ${entry.endpoint}.`);
    }, save);
  });
  return h(
    "form",
    { "aria-label": "List a hospital", onsubmit: (e: Event) => e.preventDefault() },
    h("h3", {}, "List a hospital or change its server"),
    field("Hospital name", name, "Exactly as doctors' certificates and records name it."),
    field("Server address", url, "https://… (http:// only for localhost or 127.0.0.1)."),
    save,
  );
}

/** "Delist <name>", with a confirm step. */
function delistButton(ctx: Context, hospital: Hospital, out: HTMLElement, reload: () => Promise<void>): HTMLElement {
  const message = `Patients will no longer find ${hospital.name}'s server to file new records.`;
  return confirmButton(`Delist ${hospital.name}`, `Yes, delist ${hospital.name}`, `Confirm delisting ${hospital.name}`, message, (yes) => {
    void task(out, "Confirm the transaction in your wallet…", async () => {
      const signal = ctx.session.flowSignal();
      requireAuthority(ctx);
      await ctx.wallet.send(listHospitalTx(ctx.config.registry, { hospital: hospital.name, endpoint: "" }), signal);
      await reload();
      success(out, "hospital-outcome", `${hospital.name} was removed from the directory.`);
    }, yes);
  });
}

// ---------------------------------------------------------------- certify

/** The next free serial: one above the highest registered. */
function nextSerial(state: State): number {
  return state.certificates.reduce((max, c) => Math.max(max, c.serial), 0) + 1;
}

/** The form that certifies a doctor. */
function certifySection(ctx: Context, state: State, reload: () => Promise<void>): HTMLElement {
  const out = state.outs.certify;
  if (!isAuthority(ctx)) return section("Certify a doctor", h("p", {}, "Only the health authority can certify doctors."));
  const { code, hospital, days, serial } = state.form;
  const chosen = hospital.value;
  hospital.replaceChildren(...state.hospitals.map((x) => h("option", { value: x.name, selected: x.name === chosen }, x.name)));
  if (!serial.dataset.touched) serial.value = String(nextSerial(state));
  const certify: HTMLButtonElement = button("Certify doctor", () => {
    void task(out, "Checking the form…", async () => {
      await certifyDoctor(ctx, state, state.form, out, reload);
      delete serial.dataset.touched;
      serial.value = String(nextSerial(state));
      code.value = "";
    }, certify);
  });
  const noHospital = state.hospitals.length === 0
    ? h("p", { class: "note" }, "List the doctor's hospital above first: the certificate names it.")
    : null;
  return section(
    "Certify a doctor",
    h("p", {}, "The doctor copies his doctor code from his Doctor page and gives it to you. " +
      "You sign his certificate in your wallet (free), then register it on the blockchain (a transaction)."),
    noHospital,
    h(
      "form",
      { "aria-label": "Certify a doctor", onsubmit: (e: Event) => e.preventDefault() },
      field("Doctor's code", code, "It starts with ehrchain-doctor:"),
      field("Hospital", hospital),
      field("Valid for (days)", days, "Starts now."),
      field("Certificate number", serial, "Each certificate has its own number; the next free one is filled in."),
      certify,
    ),
    out,
  );
}

/** The certify form's inputs. */
interface CertifyInputs {
  readonly code: HTMLTextAreaElement;
  readonly hospital: HTMLSelectElement;
  readonly days: HTMLInputElement;
  readonly serial: HTMLInputElement;
}

/** The certify form's inputs (created once per mount). */
function certifyInputs(): CertifyInputs {
  const serial = h("input", { type: "number", min: 1, step: 1, inputmode: "numeric" });
  serial.addEventListener("input", () => (serial.dataset.touched = "1"));
  return {
    code: h("textarea", { rows: 3, autocomplete: "off", spellcheck: "false" }),
    hospital: h("select", {}),
    days: h("input", { type: "number", min: 1, max: 36500, step: 1, value: DEFAULT_DAYS, inputmode: "numeric" }),
    serial,
  };
}

/** Certifies: checks the form, signs the certificate in the wallet, registers it, shows it. */
async function certifyDoctor(
  ctx: Context, state: State, form: CertifyInputs, out: HTMLElement, reload: () => Promise<void>,
): Promise<void> {
  const signal = ctx.session.flowSignal();
  requireAuthority(ctx);
  const doctor = parseCode("doctor", form.code.value);
  const hospital = form.hospital.value;
  if (!hospital) throw new PortalError("InvalidInput", "Hospital: list the doctor's hospital first, then choose it");
  const days = Number(form.days.value);
  if (!Number.isInteger(days) || days < 1 || days > 36_500) throw new PortalError("InvalidInput", "Valid for: enter a whole number of days from 1 to 36500");
  const serial = Number(form.serial.value);
  if (!Number.isSafeInteger(serial) || serial < 1) throw new PortalError("InvalidInput", "Certificate number: enter a whole number from 1");
  if (state.certificates.some((c) => c.serial === serial)) {
    throw new PortalError("InvalidInput", `Certificate number: ${serial} is taken; the next free one is ${nextSerial(state)}`);
  }
  const now = Math.floor(Date.now() / 1000);
  const typed = certificateTypedData({
    doctor: doctor.account, protocolKey: doctor.protocolKey, hospital,
    validFrom: now - START_SLACK, validUntil: now + days * DAY, serial,
  });
  out.replaceChildren(h("p", { class: "busy" }, "Sign the certificate in your wallet (this costs nothing)…"));
  announce("Sign the certificate in your wallet.");
  const certificate = assembleCertificate(typed, await ctx.wallet.signTypedData(typed));
  signal.throwIfAborted();
  out.replaceChildren(h("p", { class: "busy" }, "Confirm the registration transaction in your wallet…"));
  announce("Confirm the transaction in your wallet.");
  await ctx.wallet.send(registerDoctorTx(ctx.config.registry, parseCertificate(certificate)), signal);
  await reload();
  showCertificate(out, certificate, serial, doctor.account);
}

/** The certificate to hand to the doctor: text, Copy and Download. */
function showCertificate(out: HTMLElement, certificate: string, serial: number, doctor: string): void {
  success(
    out,
    "certify-outcome",
    `Certificate ${serial} for ${short(doctor)} is registered. Give this certificate to the doctor:`,
    h("pre", { "data-testid": "certificate-json", "aria-label": "Certificate" }, certificate),
    h(
      "div",
      { class: "actions" },
      copyButton("Copy certificate", () => certificate),
      button("Download certificate", () => downloadText(`certificate-${serial}.json`, certificate)),
    ),
  );
}

// ---------------------------------------------------------------- certificates

/** The certificates table with status and Revoke. */
function certificateSection(ctx: Context, state: State, reload: () => Promise<void>): HTMLElement {
  const out = state.outs.revoke;
  if (state.certificates.length === 0) {
    return section("Certificates", h("p", { "data-testid": "certificate-list" }, "No certificate is registered yet."), out);
  }
  const head = ["Number", "Doctor", "Valid from", "Valid until", "Status", "Action"].map((t) => h("th", { scope: "col" }, t));
  const rows = state.certificates.map((c) =>
    h(
      "tr",
      { "data-serial": c.serial },
      h("td", {}, c.serial),
      h("td", { class: "mono", title: c.doctor }, c.doctor),
      h("td", {}, dateTime(c.validFrom)),
      h("td", {}, dateTime(c.validUntil)),
      h("td", { "data-testid": `certificate-status-${c.serial}` }, c.state),
      h("td", {}, isAuthority(ctx) && !c.revoked ? revokeButton(ctx, c, out, reload) : "—"),
    ),
  );
  return section(
    "Certificates",
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { "data-testid": "certificate-list" },
        h("caption", {}, "Registered doctor certificates"),
        h("thead", {}, h("tr", {}, ...head)),
        h("tbody", {}, ...rows),
      ),
    ),
    out,
  );
}

/** "Revoke certificate N", with a confirm step. */
function revokeButton(ctx: Context, c: RegisteredCertificate, out: HTMLElement, reload: () => Promise<void>): HTMLElement {
  const message = `Revoke certificate ${c.serial} of ${short(c.doctor)}? This cannot be undone; ` +
    "the doctor can no longer register records or fetch records granted to him.";
  const n = c.serial;
  return confirmButton(`Revoke certificate ${n}`, `Yes, revoke certificate ${n}`, `Confirm revoking certificate ${n}`, message, (yes) => {
    void task(out, "Confirm the transaction in your wallet…", async () => {
      const signal = ctx.session.flowSignal();
      requireAuthority(ctx);
      await ctx.wallet.send(revokeDoctorTx(ctx.config.registry, c.serial), signal);
      await reload();
      success(out, "revoke-outcome", `Certificate ${c.serial} is revoked.`);
    }, yes);
  });
}
