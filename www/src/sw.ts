// The portal's download service worker (emitted as /sw.js, scope /).
//
// It answers `GET /download/<id>` with a stream the page feeds, so a
// decrypted record is saved as an ordinary browser download without ever
// being held whole in memory (save.ts is the page's side). The page
// announces a download with a message `{type: "download", id, filename,
// size?}` and a MessagePort, over which the body is pulled chunk by chunk:
// the worker posts `{type: "pull"}`, the page answers one `{type: "chunk",
// data}` (its buffer transferred), `{type: "end"}` or `{type: "error",
// message}` (the response errors: the browser marks the download failed).
// One chunk in flight at a time: memory stays bounded whatever the record's
// size, and each chunk's memory goes back once the browser has taken it
// into the download (buffers.ts), not at this worker's next garbage
// collection. (A page of an earlier version may also send a transferred
// ReadableStream as `stream`: it is not used, its chunks being copies; the
// port serves the same bytes.)
//
// The worker posts `{type: "ready"}` on the port when it has the download,
// `{type: "started"}` once the browser asked for it, `{type: "cancelled"}`
// if the user cancels the download and `{type: "expired"}` if the browser
// never asked for it. If the page that announced the download is closed
// before the record is complete, the worker errors the response (the
// browser marks the download failed, its partial file never takes the
// record's name) instead of waiting for bytes that will never come.
// Nothing else is intercepted: every other request goes to the network.

import { releasedOnNextRead } from "./buffers";

/** The parts of the service-worker scope this file uses (the DOM lib has no ServiceWorkerGlobalScope). */
interface WorkerScope {
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void>; get(id: string): Promise<unknown> };
  location: Location;
  addEventListener(type: "install" | "activate", listener: (event: ExtendableEventLike) => void): void;
  addEventListener(type: "message", listener: (event: ExtendableEventLike & MessageEvent) => void): void;
  addEventListener(type: "fetch", listener: (event: FetchEventLike) => void): void;
}

/** An install/activate/message event. */
interface ExtendableEventLike {
  waitUntil(promise: Promise<unknown>): void;
}

/** A fetch event. */
interface FetchEventLike extends ExtendableEventLike {
  readonly request: Request;
  respondWith(response: Response | Promise<Response>): void;
}

/** A download the page announced and the browser has not asked for yet. */
interface Pending {
  readonly port: MessagePort;
  readonly filename: string;
  readonly size: number | undefined;
  /** The page that announced it (its client id), watched while it feeds the download. */
  readonly owner: string | undefined;
  /** Drops the entry if the browser never asks for it. */
  readonly timer: ReturnType<typeof setTimeout>;
}

const scope = self as unknown as WorkerScope;

/** Downloads announced by the page, by id. */
const pending = new Map<string, Pending>();

/** How long an announced download waits for the browser's request. */
const CLAIM_TIMEOUT_MS = 60_000;

/** How often a download in progress checks that its page is still open. */
const OWNER_CHECK_MS = 2_000;

/** What a download whose page was closed fails with. */
const OWNER_GONE = "The portal page that was saving this record was closed before the record was complete. Open the portal and save the record again.";

/** The path of a download: `/download/<id>` (under the worker's own scope path). */
const DOWNLOAD_PREFIX = new URL("download/", scope.location.href).pathname;

scope.addEventListener("install", (event) => event.waitUntil(scope.skipWaiting()));
scope.addEventListener("activate", (event) => event.waitUntil(scope.clients.claim()));

scope.addEventListener("message", (event) => {
  const data = event.data as { type?: unknown; id?: unknown; filename?: unknown; size?: unknown };
  if (data?.type !== "download" || typeof data.id !== "string") return; // "ping" only keeps the worker alive
  const port = event.ports[0];
  if (!port) return;
  const id = data.id;
  const timer = setTimeout(() => {
    pending.delete(id);
    port.postMessage({ type: "expired" });
    port.close();
  }, CLAIM_TIMEOUT_MS);
  pending.set(id, {
    port,
    filename: typeof data.filename === "string" && data.filename ? data.filename : "record",
    size: typeof data.size === "number" && data.size >= 0 ? data.size : undefined,
    owner: (event as unknown as { source?: { id?: unknown } | null }).source?.id as string | undefined,
    timer,
  });
  port.postMessage({ type: "ready" });
});

scope.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== scope.location.origin || !url.pathname.startsWith(DOWNLOAD_PREFIX)) return;
  const id = decodeURIComponent(url.pathname.slice(DOWNLOAD_PREFIX.length));
  const entry = pending.get(id);
  if (!entry) {
    event.respondWith(new Response("This download is no longer available. Start it again from the portal.", {
      status: 404, headers: { "Content-Type": "text/plain; charset=utf-8" },
    }));
    return;
  }
  pending.delete(id);
  clearTimeout(entry.timer);
  entry.port.postMessage({ type: "started" });
  event.respondWith(new Response(body(entry), { headers: headers(entry) }));
});

/** The response body: pulled over the port, each chunk released once the browser asks for the next. */
function body(entry: Pending): ReadableStream<Uint8Array> {
  return releasedOnNextRead(pulled(entry.port, entry.owner));
}

/**
 * A stream that asks the page for one chunk at a time over `port`, and
 * errors if the page `owner` is closed before the stream ends.
 */
function pulled(port: MessagePort, owner: string | undefined): ReadableStream<Uint8Array> {
  let waiting: { resolve: () => void; controller: ReadableStreamDefaultController<Uint8Array> } | undefined;
  let ended = false;
  let watch: ReturnType<typeof setInterval> | undefined;
  const end = () => {
    ended = true;
    if (watch !== undefined) clearInterval(watch);
    port.close();
  };
  port.addEventListener("message", (event: MessageEvent) => {
    const message = event.data as { type?: unknown; data?: unknown; message?: unknown };
    const turn = waiting;
    if (!turn) return;
    if (message?.type === "chunk" && message.data instanceof Uint8Array) {
      waiting = undefined;
      turn.controller.enqueue(message.data);
      turn.resolve();
    } else if (message?.type === "end") {
      waiting = undefined;
      turn.controller.close();
      end();
      turn.resolve();
    } else if (message?.type === "error") {
      waiting = undefined;
      turn.controller.error(new Error(typeof message.message === "string" ? message.message : "The portal stopped the download."));
      end();
      turn.resolve();
    }
  });
  port.start();
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        // A closed page sends nothing more, and a port does not say it
        // closed: the client list does.
        if (owner === undefined) return;
        watch = setInterval(() => {
          void scope.clients.get(owner).then((client) => {
            if (client || ended) return;
            const turn = waiting;
            waiting = undefined;
            controller.error(new Error(OWNER_GONE));
            end();
            turn?.resolve();
          });
        }, OWNER_CHECK_MS);
      },
      pull(controller) {
        return new Promise<void>((resolve) => {
          waiting = { resolve, controller };
          port.postMessage({ type: "pull" });
        });
      },
      cancel() {
        port.postMessage({ type: "cancelled" });
        end();
      },
    },
    { highWaterMark: 0 },
  );
}

/** The download's headers: an attachment with its name, and its length when known. */
function headers(entry: Pending): Headers {
  const result = new Headers({
    "Content-Type": "application/octet-stream",
    "Content-Disposition": contentDisposition(entry.filename),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
  });
  if (entry.size !== undefined) result.set("Content-Length", String(entry.size));
  return result;
}

/** `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266 / 5987). */
function contentDisposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\%]/g, "_");
  const encoded = encodeURIComponent(filename).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}
