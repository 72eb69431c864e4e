// Saving a stream to disk without holding it in memory.
//
// - "picker": where the browser has the File System Access API
//   (`showSaveFilePicker`, Chromium), the user picks a file and the stream
//   is piped into it; on any failure the writable is aborted, so no half
//   file is committed (Chromium writes to a temporary file until `close`).
// - "download": elsewhere (Firefox), a streamed download through the
//   service worker sw.ts: the page announces the download to the worker
//   with a MessagePort and sends the stream's chunks over it, one at a time
//   on the worker's request, each chunk's buffer transferred (moved, not
//   copied), then navigates a hidden iframe to `download/<id>`; the worker
//   answers with a response streaming it as an attachment. An error on the
//   page's side errors that response: the browser marks the download failed.
//   (Not a transferred ReadableStream: its chunks are copied into each
//   message, and Chromium holds those copies until it collects garbage: the
//   renderer grew by ~320 MB instead of ~100 MB while a 2 GiB record was
//   saved; bench/portal.mjs.)
// - "blob": last resort where there are no service workers either (e.g. a
//   private window in Firefox): the whole stream in memory, then a download.
//
// `?save=download` in the page's URL forces the service-worker path (tests).
//
// The picker path gives each chunk's memory back once the file has a copy
// of it (buffers.ts), rather than leaving it to the garbage collector.

import { release } from "./buffers";

/**
 * A save that could not happen (`SaveFailed`: the browser never started the
 * download; `SaveUnsupported`: no way to save here). A cancelled save
 * rejects with an `AbortError` DOMException instead.
 */
export class SaveError extends Error {
  /** `SaveFailed` or `SaveUnsupported`. */
  readonly code: "SaveFailed" | "SaveUnsupported";

  /** A failure `code` with a plain sentence saying what to do. */
  constructor(code: "SaveFailed" | "SaveUnsupported", message: string) {
    super(message);
    this.name = "SaveError";
    this.code = code;
  }
}

/** The rejection of a save the user (or the portal) cancelled. */
function cancelled(message: string): DOMException {
  return new DOMException(message, "AbortError");
}

/** How {@link saveStream} saves, in this browser. */
export type SaveMethod = "picker" | "download" | "blob";

/** What {@link saveStream} needs besides the stream. */
export interface SaveOptions {
  /** The suggested file name. */
  readonly filename: string;
  /** The exact size in bytes, when known (sent as `Content-Length`). */
  readonly size?: number;
  /** Stops the save: the file is dropped (picker) or the download fails. */
  readonly signal?: AbortSignal;
}

/** The File System Access API's picker (not in TypeScript's DOM lib). */
type SavePicker = (options: { suggestedName?: string }) => Promise<FileSystemFileHandle>;

/** The picker of this browser, if it has one. */
function picker(): SavePicker | undefined {
  const candidate = (window as unknown as { showSaveFilePicker?: SavePicker }).showSaveFilePicker;
  return typeof candidate === "function" ? candidate.bind(window) : undefined;
}

/** The save method this page uses: `?save=download` (or `?save=blob`) forces one, else the best available. */
export function saveMethod(): SaveMethod {
  const forced = new URLSearchParams(location.search).get("save");
  if (forced === "download" || forced === "blob") return forced;
  if (picker()) return "picker";
  return "serviceWorker" in navigator ? "download" : "blob";
}

/**
 * Saves `stream` as a file named `filename`; resolves once every byte is
 * handed to the file (picker) or to the browser's download (service worker).
 * Rejects, and leaves no complete-looking file, if the stream errors, the
 * signal aborts or the user cancels. Call it straight from a click handler
 * (before any `await`): the picker needs the user's gesture.
 */
export function saveStream(stream: ReadableStream<Uint8Array>, options: SaveOptions): Promise<void> {
  const method = saveMethod();
  if (method === "picker") return viaPicker(stream, options, picker() as SavePicker);
  if (method === "download") return viaServiceWorker(stream, options);
  return viaBlob(stream, options);
}

/** The picker path: pipe into the chosen file; abort the writable on failure. */
async function viaPicker(stream: ReadableStream<Uint8Array>, options: SaveOptions, pick: SavePicker): Promise<void> {
  let handle: FileSystemFileHandle;
  try {
    handle = await pick({ suggestedName: options.filename }); // first call: keeps the user's gesture
  } catch (err) {
    await stream.cancel(err).catch(() => undefined);
    if (err instanceof DOMException && err.name === "AbortError") {
      throw cancelled("No file was chosen, so the record was not saved.");
    }
    throw err;
  }
  const writer = (await handle.createWritable()).getWriter();
  // A write resolves once the bytes are written (the browser copied them
  // when it took the chunk): the chunk's memory goes back then.
  const file = new WritableStream<Uint8Array>({
    write: async (chunk) => {
      await writer.write(chunk);
      release(chunk);
    },
    close: () => writer.close(),
  });
  try {
    await stream.pipeTo(file, options.signal ? { signal: options.signal } : {});
  } catch (err) {
    await writer.abort(err).catch(() => undefined); // nothing is committed
    throw err;
  }
}

/** The last resort: collect the stream, then download it from an object URL. */
async function viaBlob(stream: ReadableStream<Uint8Array>, options: SaveOptions): Promise<void> {
  const blob = await new Response(options.signal ? cancellable(stream, options.signal) : stream).blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = options.filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** `stream`, erroring with the signal's reason once it aborts. */
function cancellable(stream: ReadableStream<Uint8Array>, signal: AbortSignal): ReadableStream<Uint8Array> {
  return stream.pipeThrough(new TransformStream<Uint8Array, Uint8Array>(), { signal });
}

/** The registration of the download worker, once (registered on first use, or by {@link prepareSave}). */
let registration: Promise<ServiceWorkerRegistration> | undefined;

/** Registers the download worker (`sw.js`, scope: the portal) and waits until it is active. */
export function prepareSave(): Promise<ServiceWorkerRegistration> {
  if (!("serviceWorker" in navigator)) {
    return Promise.reject(new SaveError("SaveUnsupported", "This browser cannot save large files here (no service workers)."));
  }
  registration ??= (async () => {
    const base = new URL("./", location.href);
    await navigator.serviceWorker.register(new URL("sw.js", base), { scope: base.pathname });
    return navigator.serviceWorker.ready;
  })();
  registration.catch(() => { registration = undefined; });
  return registration;
}

/** A random id for a download URL. */
function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** How long the browser may take to ask the worker for an announced download. */
const START_TIMEOUT_MS = 30_000;
/** How often the page pings the worker during a download (keeps it alive). */
const PING_MS = 10_000;

/** The service-worker path: hand the stream to the worker, then navigate a hidden iframe to it. */
async function viaServiceWorker(stream: ReadableStream<Uint8Array>, options: SaveOptions): Promise<void> {
  const reg = await prepareSave().catch(async (err: unknown) => {
    await stream.cancel(err).catch(() => undefined);
    throw err;
  });
  const worker = reg.active;
  if (!worker) throw new SaveError("SaveUnsupported", "The download helper of this page is not running; reload the page.");
  const id = randomId();
  const channel = new MessageChannel();
  const feed = new Feed(stream, channel.port1, options.signal);
  worker.postMessage({ type: "download", id, filename: options.filename, size: options.size }, [channel.port2]);
  const ping = setInterval(() => reg.active?.postMessage({ type: "ping" }), PING_MS);
  const frame = document.createElement("iframe");
  frame.hidden = true;
  frame.title = "download";
  try {
    await Promise.race([feed.announced, feed.finished]);
    frame.src = new URL(`download/${id}`, reg.scope).href;
    document.body.append(frame);
    await feed.finished;
  } finally {
    clearInterval(ping);
    setTimeout(() => frame.remove(), 60_000); // the download is the browser's by then
  }
}

/**
 * The page's side of one service-worker download: reads `source` as the
 * worker asks (`pull` messages on the port), and settles `finished` when
 * the source ends, fails or is cancelled.
 */
class Feed {
  /** Resolves when the worker has the download; rejects if it does not answer. */
  readonly announced: Promise<void>;
  /** Resolves when every byte went to the worker. */
  readonly finished: Promise<void>;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private settle!: { resolve: () => void; reject: (err: unknown) => void };
  private done = false;
  private startTimer: ReturnType<typeof setTimeout> | undefined;

  /** Feeds `source` over `port`, stopping on `signal`. */
  constructor(source: ReadableStream<Uint8Array>, private readonly port: MessagePort, signal?: AbortSignal) {
    this.reader = source.getReader();
    this.finished = new Promise<void>((resolve, reject) => { this.settle = { resolve, reject }; });
    let ready!: () => void;
    this.announced = new Promise<void>((resolve) => { ready = resolve; });
    this.finished.catch(() => undefined);
    port.onmessage = (event: MessageEvent) => this.onMessage((event.data as { type?: string })?.type, ready);
    this.startTimer = setTimeout(() => this.fail(new SaveError("SaveFailed", "The browser did not start the download. Try again, or use another browser.")), START_TIMEOUT_MS);
    signal?.addEventListener("abort", () => this.fail(signal.reason), { once: true });
    if (signal?.aborted) this.fail(signal.reason);
  }

  /** The next chunk; `null` at the end (then `finished` resolves); `undefined` once failed. */
  private async read(): Promise<Uint8Array | null | undefined> {
    if (this.done) return undefined;
    try {
      const { done, value } = await this.reader.read();
      if (this.done) return undefined;
      if (done) {
        this.done = true;
        this.settle.resolve();
        return null;
      }
      return value;
    } catch (err) {
      this.fail(err);
      return undefined;
    }
  }

  /** Handles the worker's messages. */
  private onMessage(type: string | undefined, ready: () => void): void {
    if (type === "ready") ready();
    else if (type === "started") clearTimeout(this.startTimer);
    else if (type === "pull") void this.sendChunk();
    else if (type === "cancelled") this.fail(cancelled("The download was cancelled, so the record was not saved."));
    else if (type === "expired") this.fail(new SaveError("SaveFailed", "The browser did not start the download. Try again."));
  }

  /** Answers one `pull` of the worker: the next chunk, its buffer transferred. */
  private async sendChunk(): Promise<void> {
    const next = await this.read();
    if (next === undefined) return;
    if (next === null) {
      this.port.postMessage({ type: "end" });
      return;
    }
    const owned = next.byteOffset === 0 && next.byteLength === next.buffer.byteLength ? next : next.slice();
    this.port.postMessage({ type: "chunk", data: owned }, [owned.buffer as ArrayBuffer]);
  }

  /** Stops: errors the worker's response (the download fails), cancels the source, rejects `finished`. */
  private fail(err: unknown): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.startTimer);
    const message = err instanceof Error ? err.message : "The record could not be saved.";
    this.port.postMessage({ type: "error", message });
    void this.reader.cancel(err).catch(() => undefined);
    this.settle.reject(err);
  }
}
