// A record worker's input when the page hands it a `File` or `Blob`: read
// in the worker itself, in segment-sized pieces, so that each piece is sealed
// or opened by WebCrypto without a copy and memory stays bounded by a few
// segments at any record size.
//
// Where the browser's `blob.stream()` is a byte stream (Chromium), pieces
// are read into buffers the job hands back once WebCrypto has taken their
// bytes (`BufferPool`): no allocation per segment, and about half the
// browser-process work of one `blob.slice().arrayBuffer()` per segment. Elsewhere
// (or if reading that way fails to start), slices are read, a few ahead.

/** Slices being read at once on the slice path (each a segment: about 3 MiB by default). */
const READS_AHEAD = 3;

/**
 * @internal Buffers handed back for the next pieces: `take(n)` gives a
 * buffer of exactly `n` bytes (reused if one was given back, else new);
 * at most `limit` are kept.
 */
export class BufferPool {
  readonly #free: ArrayBuffer[] = [];
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  take(length: number): ArrayBuffer {
    const i = this.#free.findIndex((b) => b.byteLength === length);
    return i < 0 ? new ArrayBuffer(length) : this.#free.splice(i, 1)[0]!;
  }

  /** `buffer` is no longer read or written by whoever gives it back. */
  give(buffer: ArrayBuffer): void {
    if (this.#free.length < this.#limit && !this.#free.includes(buffer)) this.#free.push(buffer);
  }
}

/**
 * @internal The pieces of `blob`, each `size()` bytes (the last one
 * shorter). With `pool`, pieces are whole buffers taken from it, to be
 * given back by whoever consumes them.
 */
export function blobPieces(blob: Blob, size: () => number, pool: BufferPool): ReadableStream<Uint8Array> {
  const stream = (blob as { stream?: () => ReadableStream<Uint8Array> }).stream?.();
  let reader: ReadableStreamBYOBReader | undefined;
  try {
    reader = stream?.getReader({ mode: "byob" });
  } catch {
    void stream?.cancel().catch(() => {});
  }
  return reader === undefined ? slices(blob, size) : byob(reader, size, pool);
}

/** Pieces read by a BYOB reader into pooled buffers, each filled to `size()` before it goes on. */
function byob(reader: ReadableStreamBYOBReader, size: () => number, pool: BufferPool): ReadableStream<Uint8Array> {
  let ended = false;
  return new ReadableStream<Uint8Array>(
    {
      pull: async (controller) => {
        if (ended) {
          controller.close();
          return;
        }
        const length = size();
        let buffer = pool.take(length);
        let filled = 0;
        while (filled < length) {
          const { done, value } = await reader.read(new Uint8Array(buffer, filled, length - filled));
          if (value !== undefined) buffer = value.buffer as ArrayBuffer;
          if (done) {
            ended = true;
            break;
          }
          filled += value!.byteLength;
        }
        if (filled > 0) controller.enqueue(new Uint8Array(buffer, 0, filled));
        else pool.give(buffer);
        if (ended) controller.close();
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

/**
 * Pieces read as `blob.slice().arrayBuffer()`, READS_AHEAD at a time so
 * that the latency of each read (a round trip to the browser's blob store)
 * overlaps the others and the sealing. Not `blob.stream()`'s own chunks,
 * which some browsers make as large as the whole Blob.
 */
function slices(blob: Blob, size: () => number): ReadableStream<Uint8Array> {
  let offset = 0;
  const reads: Promise<Uint8Array>[] = [];
  const startReads = () => {
    while (reads.length < READS_AHEAD && offset < blob.size) {
      const end = Math.min(offset + size(), blob.size);
      const read = blob.slice(offset, end).arrayBuffer().then((b) => new Uint8Array(b));
      read.catch(() => {});
      reads.push(read);
      offset = end;
    }
  };
  return new ReadableStream<Uint8Array>(
    {
      pull: async (controller) => {
        startReads();
        const next = reads.shift();
        if (next === undefined) {
          controller.close();
          return;
        }
        controller.enqueue(await next);
        startReads();
      },
    },
    { highWaterMark: 0 },
  );
}
