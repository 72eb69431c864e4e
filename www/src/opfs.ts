// Writing a file of the origin-private file system (OPFS) in bounded memory.
//
// `opfsWritable(name)` gives a WritableStream into the OPFS file `name`
// (created, emptied). Where the browser has sync access handles in
// dedicated workers (Chromium ≥102, Firefox ≥111, Safari ≥15.2) the bytes go
// to a small worker of the portal (opfswriter.ts) that writes them with
// `FileSystemSyncAccessHandle.write`: each chunk's buffer is transferred to
// it (not copied), at most WINDOW chunks are on their way, and a write
// resolves once the worker acknowledged its turn, so a fast producer waits
// for the disk. Elsewhere it falls back to `createWritable()`, whose writes
// Chromium ships to its browser process as blobs: there a large record grew
// the browser's memory by about its own size.
//
// Aborting the stream (or a failed write) closes the file and removes it;
// closing it flushes and closes the file (the caller then reads its size).

import { PortalError } from "./errors";

/** Chunks written but not yet acknowledged by the worker (about 1 MiB each: the record worker's segments). */
const WINDOW = 4;

/** The OPFS root (`StorageUnavailable` where the browser has none). */
export async function opfsRoot(): Promise<FileSystemDirectoryHandle> {
  if (!navigator.storage?.getDirectory) {
    throw new PortalError("StorageUnavailable", "This browser has no origin-private file system (OPFS) for the encrypted record.");
  }
  return navigator.storage.getDirectory();
}

/** Says how the last {@link opfsWritable} writes (`worker`: sync access handle; `writable`: createWritable) in `<html data-opfs-writer>` (tests read it). */
function usedMethod(method: "worker" | "writable"): void {
  document.documentElement.dataset.opfsWriter = method;
}

/**
 * A stream into the OPFS file `name` (created if absent, emptied first).
 * Close it to keep the file; abort it to remove the file.
 */
export async function opfsWritable(name: string): Promise<WritableStream<Uint8Array>> {
  const viaWorker = await workerWritable(name);
  if (viaWorker) {
    usedMethod("worker");
    return viaWorker;
  }
  usedMethod("writable");
  const root = await opfsRoot();
  const writable = await (await root.getFileHandle(name, { create: true })).createWritable();
  const writer = writable.getWriter();
  const remove = () => root.removeEntry(name).catch(() => undefined);
  return new WritableStream<Uint8Array>({
    write: (chunk) => writer.write(chunk),
    close: () => writer.close(),
    abort: async (reason) => {
      await writer.abort(reason).catch(() => undefined); // nothing is committed
      await remove();
    },
  });
}

/** An answer of the worker. */
type Answer =
  | { t: "opened" | "unsupported" | "ack" | "closed" | "aborted" }
  | { t: "error"; name: string; message: string };

/** The page's side of one opfswriter.ts worker: requests answered in order. */
class WriterPort {
  private readonly worker: Worker;
  private readonly waiting: Array<{ resolve: (a: Answer) => void; reject: (e: unknown) => void }> = [];
  private dead: unknown;

  constructor() {
    this.worker = new Worker(new URL("./opfswriter.ts", import.meta.url), { type: "module", name: "ehrchain OPFS writer" });
    this.worker.addEventListener("message", (event: MessageEvent<Answer>) => {
      const next = this.waiting.shift();
      const a = event.data;
      if (a.t === "error") next?.reject(new DOMException(a.message, a.name));
      else next?.resolve(a);
    });
    this.worker.addEventListener("error", (event) => {
      event.preventDefault();
      this.dead = new PortalError("StorageUnavailable", `The browser's file writer stopped (${event.message || "no detail"}): reload the page and resume.`);
      for (const w of this.waiting.splice(0)) w.reject(this.dead);
    });
  }

  /** Sends `m` (transferring `transfer`); resolves the worker's answer, rejects its error. */
  request(m: unknown, transfer: Transferable[] = []): Promise<Answer> {
    if (this.dead !== undefined) return Promise.reject(this.dead);
    return new Promise<Answer>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage(m, transfer);
    });
  }

  /** Whether the worker died (it could not start, e.g.). */
  get failed(): boolean {
    return this.dead !== undefined;
  }

  terminate(): void {
    this.worker.terminate();
  }
}

/** A chunk whose whole buffer can be transferred (the record worker's chunks are; others are copied). */
function owned(chunk: Uint8Array): Uint8Array<ArrayBuffer> {
  return chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer
    ? (chunk as Uint8Array<ArrayBuffer>)
    : chunk.slice();
}

/** The worker's stream, or undefined where this browser cannot write through a sync access handle. */
async function workerWritable(name: string): Promise<WritableStream<Uint8Array> | undefined> {
  if (typeof Worker !== "function") return undefined;
  let port: WriterPort;
  try {
    port = new WriterPort();
  } catch {
    return undefined; // no module workers here
  }
  try {
    const opened = await port.request({ t: "open", name });
    if (opened.t !== "opened") {
      port.terminate();
      return undefined;
    }
  } catch (err) {
    port.terminate();
    if (port.failed) return undefined; // the worker did not start
    throw err;
  }
  let at = 0;
  const flight: Promise<Answer>[] = [];
  let finished = false;
  /** Closes and removes the file, then stops the worker (once). */
  const discard = async () => {
    if (finished) return;
    finished = true;
    await port.request({ t: "abort" }).catch(() => undefined);
    port.terminate();
  };
  /** Runs `step`; on failure removes the file before rethrowing (an errored stream's abort does nothing). */
  const orDiscard = async <T>(step: () => Promise<T>): Promise<T> => {
    try {
      return await step();
    } catch (err) {
      await discard();
      throw err;
    }
  };
  return new WritableStream<Uint8Array>({
    write: (chunk) => orDiscard(async () => {
      const data = owned(chunk);
      const length = data.byteLength; // 0 once transferred
      const ack = port.request({ t: "write", data, at }, [data.buffer]);
      ack.catch(() => undefined); // awaited below or at close
      at += length;
      flight.push(ack);
      if (flight.length >= WINDOW) await flight.shift();
    }),
    close: () => orDiscard(async () => {
      await Promise.all(flight.splice(0));
      await port.request({ t: "close" });
      finished = true;
      port.terminate();
    }),
    abort: () => discard(),
  });
}
