// Giving a chunk's memory back at once instead of at the next garbage
// collection.
//
// A record streams through several isolates in chunks (network reads of
// ~64 KB, segments of 1 MiB): the page, the record worker, the OPFS writer,
// the download service worker. A chunk nobody references any more is freed
// only when its isolate collects garbage, and V8 collects for ArrayBuffers
// about when their memory has grown some 64 MB past the last collection: so
// every isolate a record passed through held 70–80 MB of spent chunks
// (bench/portal.mjs --isolates; with --gc, a collection every 200 ms, they
// were gone), ~200 MB in all while a record was saved, whatever its size.
// `release(chunk)` frees a chunk's memory now: it transfers the chunk's
// buffer into a message to a closed MessagePort, which the browser drops at
// once, and its memory with it (a transfer moves the memory, it does not
// copy it). Not `ArrayBuffer.prototype.transfer(0)`: V8 makes that a
// zero-copy move of the whole memory behind an empty buffer, which the
// collector then counts as empty and keeps longer (2 GB held for 2 GiB of
// chunks released so in a worker). Call it only on a chunk that nothing
// reads any more, at a point where its consumer has provably copied it or
// is done with it; the chunk is empty afterwards.

/** The sending end of a channel whose other end is closed: what is posted to it is dropped (HTML's "message port post message steps"). */
let drain: MessagePort | undefined;

/**
 * Frees the memory of `chunk` now, if it is the whole of a plain
 * ArrayBuffer (a view into a larger buffer may share it with other views,
 * so it is left to the collector, as is everything where there is no
 * MessageChannel or the buffer cannot be transferred).
 */
export function release(chunk: ArrayBufferView | undefined): void {
  if (chunk === undefined || typeof MessageChannel !== "function") return;
  const buffer = chunk.buffer;
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0) return;
  if (chunk.byteOffset !== 0 || chunk.byteLength !== buffer.byteLength) return;
  try {
    if (drain === undefined) {
      const channel = new MessageChannel();
      channel.port2.close();
      drain = channel.port1;
    }
    drain.postMessage(null, [buffer]);
  } catch {
    // not transferable (a WebAssembly memory's buffer, e.g.): left to the collector
  }
}

/**
 * `source` with each chunk released once the reader asks for the next one.
 * Only for a reader that copies (or is done with) a chunk before it reads
 * the next: the package's record jobs (they copy each input chunk as they
 * read it, so a chunk released too early would reach the decryptor empty
 * and fail its authentication, never pass as data), and the browser's
 * reader of a response body (Chromium reads the next chunk once the last is
 * in its data pipe, and fails the response if a chunk is detached under
 * it; Firefox copies each chunk as it reads it).
 */
export function releasedOnNextRead(source: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let last: Uint8Array | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        release(last);
        last = undefined;
        const next = await reader.read();
        if (next.done) {
          controller.close();
          return;
        }
        last = next.value;
        controller.enqueue(next.value);
      },
      cancel(reason) {
        release(last);
        last = undefined;
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
