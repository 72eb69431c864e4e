// The OPFS writer worker (a dedicated worker of the page; opfs.ts is the
// page's side). It writes one file of the origin-private file system through
// a `FileSystemSyncAccessHandle`, which only dedicated workers have: the
// bytes go straight from this worker to the file, without passing through
// the browser process as blobs the way `createWritable()`'s writes do in
// Chromium (which grew the browser process by ~ the whole record's size).
//
// Messages from the page, answered in order:
//
// - `{t: "open", name}`: opens (creating) `name` in the OPFS root and empties
//   it; answers `{t: "opened"}`, or `{t: "unsupported"}` where this browser
//   has no sync access handles (the page falls back to `createWritable()`),
//   or `{t: "error", name, message}`;
// - `{t: "write", data, at}` (`data`: a transferred Uint8Array): writes it at
//   byte `at`; answers `{t: "ack"}` once it is in the file (the page waits
//   for acks: backpressure), or `{t: "error", …}`;
// - `{t: "close"}`: flushes and closes; answers `{t: "closed"}` (or an error);
// - `{t: "abort"}`: closes and removes the file; answers `{t: "aborted"}`.
//
// After an error every later message is answered with the same error.

import { release } from "./buffers";

/** The sync access handle (the DOM lib of TypeScript has it only for workers). Chromium 102–107 returned promises from all but read/write: every call is awaited. */
interface SyncAccessHandle {
  write(data: Uint8Array, options: { at: number }): number;
  truncate(size: number): void | Promise<void>;
  flush(): void | Promise<void>;
  close(): void | Promise<void>;
}

/** A file handle that may have `createSyncAccessHandle` (dedicated workers of Chromium ≥102, Firefox ≥111, Safari ≥15.2). */
type FileHandle = FileSystemFileHandle & { createSyncAccessHandle?: () => Promise<SyncAccessHandle> };

/** The messages the page sends. */
type Request =
  | { t: "open"; name: string }
  | { t: "write"; data: Uint8Array; at: number }
  | { t: "close" }
  | { t: "abort" };

/** The parts of the worker scope this file uses. */
interface WorkerScope {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: MessageEvent<Request>) => void): void;
}

const scope = self as unknown as WorkerScope;

let root: FileSystemDirectoryHandle | undefined;
let name: string | undefined;
let access: SyncAccessHandle | undefined;
let failure: { t: "error"; name: string; message: string } | undefined;

/** Handles one request; returns the answer. */
async function handle(m: Request): Promise<unknown> {
  if (failure && m.t !== "abort") return failure;
  switch (m.t) {
    case "open": {
      root = await navigator.storage.getDirectory();
      name = m.name;
      const file = (await root.getFileHandle(m.name, { create: true })) as FileHandle;
      if (typeof file.createSyncAccessHandle !== "function") return { t: "unsupported" };
      access = await file.createSyncAccessHandle();
      await access.truncate(0);
      return { t: "opened" };
    }
    case "write": {
      if (!access) throw new DOMException("The file is not open.", "InvalidStateError");
      const written = access.write(m.data, { at: m.at });
      if (written !== m.data.byteLength) {
        throw new DOMException(`Only ${written} of ${m.data.byteLength} bytes were written.`, "QuotaExceededError");
      }
      release(m.data); // in the file now: its memory goes back at once, not at this worker's next GC (buffers.ts)
      return { t: "ack" };
    }
    case "close": {
      const open = access;
      access = undefined;
      if (open) {
        await open.flush();
        await open.close();
      }
      return { t: "closed" };
    }
    case "abort": {
      const open = access;
      access = undefined;
      try {
        await open?.close();
      } catch {
        // closed already
      }
      if (root && name) await root.removeEntry(name).catch(() => undefined);
      return { t: "aborted" };
    }
  }
}

// Requests are handled one after another, in the order they came.
let queue: Promise<void> = Promise.resolve();
scope.addEventListener("message", (event) => {
  const m = event.data;
  queue = queue.then(async () => {
    try {
      scope.postMessage(await handle(m));
    } catch (err) {
      const e = err as { name?: unknown; message?: unknown };
      failure = {
        t: "error",
        name: typeof e?.name === "string" ? e.name : "Error",
        message: typeof e?.message === "string" ? e.message : String(err),
      };
      scope.postMessage(failure);
    }
  });
});
