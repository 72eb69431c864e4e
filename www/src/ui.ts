/**
 * A few DOM helpers (no framework): element creation, labelled fields,
 * buttons, an `aria-live` announcer, error boxes with what to do next,
 * copy and download of text, a progress bar, and `task()`, which runs one
 * user action with its busy state, announcements and error display.
 */
import { explain } from "./errors";

/** Attribute values `h` accepts: text, a flag, a number, or an event listener for `on…` keys. */
type AttrValue = string | number | boolean | undefined | null | ((event: Event) => void);
/** Children `h` accepts. */
type Child = Node | string | number | null | undefined | false;

/**
 * Creates `<tag>` with attributes (`true` → present, `false`/`undefined` →
 * absent, `onclick` etc. → listeners) and children (text or nodes).
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, AttrValue> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (value === true) el.setAttribute(name, "");
    else if (value !== false && value !== undefined && value !== null) el.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) el.append(typeof child === "number" ? String(child) : child);
  }
  return el;
}

let nextId = 0;

/** A unique element id with `prefix`. */
export function uid(prefix = "f"): string {
  return `${prefix}-${++nextId}`;
}

/** A labelled form field: `<label for>` + the input (+ an optional hint, linked with `aria-describedby`). */
export function field(label: string, input: HTMLElement, hint?: string): HTMLDivElement {
  if (!input.id) input.id = uid();
  const wrap = h("div", { class: "field" }, h("label", { for: input.id }, label), input);
  if (hint) {
    const hintId = `${input.id}-hint`;
    wrap.append(h("p", { class: "hint", id: hintId }, hint));
    input.setAttribute("aria-describedby", hintId);
  }
  return wrap;
}

/** A checkbox with its label beside it and an optional hint (described-by). */
export function checkField(label: string, input: HTMLInputElement, hint?: string): HTMLDivElement {
  if (!input.id) input.id = uid();
  const wrap = h("div", { class: "field check" }, input, h("label", { for: input.id }, label));
  if (hint) {
    const hintId = `${input.id}-hint`;
    wrap.append(h("p", { class: "hint", id: hintId }, hint));
    input.setAttribute("aria-describedby", hintId);
  }
  return wrap;
}

/**
 * A button (`start`) that asks before it acts: pressed, it is replaced by a
 * group labelled `label` holding `message`, a danger button `yes` running
 * `onYes(yes)` (the button, to disable while the action runs) and "Cancel",
 * which puts `start` back; focus follows.
 */
export function confirmButton(
  start: string, yes: string, label: string, message: string, onYes: (yes: HTMLButtonElement) => void,
): HTMLElement {
  const cell = h("div");
  const open: HTMLButtonElement = button(start, () => {
    const confirmed: HTMLButtonElement = button(yes, () => onYes(confirmed), { class: "danger" });
    const group = h(
      "div",
      { class: "confirm", role: "group", "aria-label": label },
      h("p", {}, message),
      confirmed,
      button("Cancel", () => {
        group.remove();
        open.hidden = false;
        focus(open);
      }, { class: "secondary" }),
    );
    open.hidden = true;
    cell.append(group);
    focus(confirmed);
  }, { class: "secondary" });
  cell.append(open);
  return cell;
}

/** A `<button type=button>` with `text` running `onClick`. */
export function button(text: string, onClick: (event: Event) => void, attrs: Record<string, AttrValue> = {}): HTMLButtonElement {
  return h("button", { type: "button", ...attrs, onclick: onClick }, text);
}

/** Says `text` through the page's `aria-live` region (and shows it in the status line). */
export function announce(text: string): void {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  // A fresh text node in a later task is read even when the text repeats.
  setTimeout(() => (region.textContent = text), 30);
}

/** Whether keyboard focus is on nothing (the page's body): its element was disabled or removed. */
export function focusLost(): boolean {
  const active = document.activeElement;
  return active === null || active === document.body || active === document.documentElement;
}

/**
 * After `root` was drawn again (the session unlocked or locked): if that
 * took keyboard focus away (it was on a control that is gone or was
 * disabled), puts it on the first section heading (else the `h1`) of
 * `root`, so Tab goes on from there and a screen reader reads where it is.
 */
export function focusIfLost(root: HTMLElement): void {
  if (!focusLost() || !root.isConnected) return;
  const heading = root.querySelector<HTMLElement>("h2") ?? root.querySelector<HTMLElement>("h1");
  if (heading) focus(heading);
}

/** Moves keyboard focus to `el` (made focusable if needed) and scrolls it into view. */
export function focus(el: HTMLElement): void {
  if (!el.hasAttribute("tabindex") && !(el instanceof HTMLButtonElement || el instanceof HTMLInputElement)) {
    el.setAttribute("tabindex", "-1");
  }
  el.focus();
  el.scrollIntoView({ block: "nearest" });
}

/**
 * An error box (`role=alert`): what happened and what to do next in plain
 * words, the code and the original message in a "Details" disclosure, and a
 * "Try again" button when `retry` is given.
 */
export function errorBox(err: unknown, retry?: () => void): HTMLDivElement {
  const e = explain(err);
  console.error(err);
  const box = h(
    "div",
    { class: "error", role: "alert", "data-testid": "error", "data-code": e.code, tabindex: -1 },
    h("p", { class: "error-title" }, e.title),
    h("p", {}, e.next),
    h("details", {}, h("summary", {}, "Details"), h("p", {}, `Code: ${e.code}`), h("p", { class: "mono" }, e.detail)),
  );
  if (retry) box.append(button("Try again", retry));
  return box;
}

/** A button that copies `text()` to the clipboard and announces it. */
export function copyButton(label: string, text: () => string): HTMLButtonElement {
  return button(label, () => {
    const value = text();
    navigator.clipboard.writeText(value).then(
      () => announce("Copied."),
      () => announce("Copying was refused by the browser: select the text and copy it by hand."),
    );
  });
}

/** Offers `text` as a file download named `name`. */
export function downloadText(name: string, text: string, type = "application/json"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** What a `progress()` bar shows. */
export interface ProgressState {
  readonly bytesDone: number;
  readonly totalBytes?: number;
  readonly mbPerSecond?: number;
  readonly secondsLeft?: number;
}

/** A progress bar with speed, time left and a Cancel button. */
export interface Progress {
  /** The element to insert. */
  readonly element: HTMLDivElement;
  /** Aborted when the user presses Cancel. */
  readonly signal: AbortSignal;
  /** Shows `state`. */
  update(state: ProgressState): void;
  /** Removes the Cancel button (the work is over); with `note`, the text keeps the bytes done and says `note` instead of speed and time left. */
  finish(note?: string): void;
}

/** A progress bar labelled `label` with a Cancel button. */
export function progress(label: string): Progress {
  const controller = new AbortController();
  const bar = h("progress", { max: 1, value: 0 });
  const text = h("span", { class: "progress-text", "data-testid": "progress-text" }, "Starting…");
  const cancel = button("Cancel", () => controller.abort(new DOMException("Cancelled", "AbortError")));
  const element = h("div", { class: "progress", role: "group", "aria-label": label }, field(label, bar), text, cancel);
  let amount = "";
  return {
    element,
    signal: controller.signal,
    update({ bytesDone, totalBytes, mbPerSecond, secondsLeft }) {
      if (totalBytes) bar.value = bytesDone / totalBytes;
      amount = `${(bytesDone / 1e6).toFixed(1)}${totalBytes ? ` of ${(totalBytes / 1e6).toFixed(1)}` : ""} MB`;
      const parts = [amount];
      if (mbPerSecond !== undefined) parts.push(`${mbPerSecond.toFixed(0)} MB/s`);
      if (secondsLeft !== undefined) parts.push(`${Math.ceil(secondsLeft)} s left`);
      text.textContent = parts.join(", ");
    },
    finish(note) {
      cancel.remove();
      if (note) text.textContent = amount ? `${amount}; ${note}` : note;
    },
  };
}

/** A status line (`<p data-testid>`) for a step's progress and outcome. */
export function statusLine(testid: string): HTMLParagraphElement {
  return h("p", { class: "status", "data-testid": testid });
}

/**
 * Runs one user action: disables `trigger` while it runs, shows and
 * announces `busy` in `out`, and on failure replaces `out`'s content with
 * an error box (with "Try again") and moves focus there. A disabled button
 * loses keyboard focus (to the body): if the action moved it nowhere else,
 * it goes back to `trigger` (or to `out` if `trigger` is gone). Returns
 * whether the action succeeded.
 */
export async function task(
  out: HTMLElement,
  busy: string,
  action: () => Promise<void>,
  trigger?: HTMLButtonElement,
): Promise<boolean> {
  const hadFocus = trigger !== undefined && document.activeElement === trigger;
  if (trigger) trigger.disabled = true;
  out.replaceChildren(h("p", { class: "busy" }, busy));
  announce(busy);
  try {
    await action();
    return true;
  } catch (err) {
    const box = errorBox(err, () => void task(out, busy, action, trigger));
    out.replaceChildren(box);
    announce(explain(err).title);
    focus(box);
    return false;
  } finally {
    if (trigger) trigger.disabled = false;
    if (hadFocus && trigger && focusLost()) {
      if (trigger.isConnected && !trigger.hidden) focus(trigger);
      else if (out.isConnected) focus(out);
    }
  }
}

/** `0x1234…abcd` for a long address or hash. */
export function short(hex: string): string {
  return hex.length > 14 ? `${hex.slice(0, 6)}…${hex.slice(-4)}` : hex;
}

/** A Unix time (seconds) as local date and time text. */
export function dateTime(seconds: number | bigint): string {
  return new Date(Number(seconds) * 1000).toLocaleString();
}

/** A section of a view: `<section aria-labelledby>` with an `<h2>`. */
export function section(title: string, ...children: Child[]): HTMLElement {
  const id = uid("s");
  return h("section", { "aria-labelledby": id }, h("h2", { id }, title), ...children);
}
