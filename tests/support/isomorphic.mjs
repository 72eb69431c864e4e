// Helpers for the test cases that run both in Node and in browsers
// (engines.mjs, workers.mjs, inboxcases.mjs): nothing beyond WebCrypto,
// WHATWG streams and fetch.

/** Throws `assertion failed: msg` unless `ok`. */
export function check(ok, msg) {
  if (!ok) throw new Error(`assertion failed: ${msg}`);
}

/** Throws naming the first differing byte unless `a` and `b` are equal. */
export function equalBytes(a, b, msg) {
  check(a.length === b.length, `${msg}: length ${a.length} != ${b.length}`);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) check(false, `${msg}: first difference at byte ${i}`);
}

/** `len` pseudo-random bytes from `seed` (xorshift32). */
export function pattern(len, seed) {
  const out = new Uint8Array(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i += 4) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x; out[i + 1] = x >>> 8; out[i + 2] = x >>> 16; out[i + 3] = x >>> 24;
  }
  return out;
}

/** The parts joined. */
export function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

/** A stream of `data` in pieces of `piece` bytes (the last shorter). */
export function streamOf(data, piece) {
  let off = 0;
  return new ReadableStream({
    pull(c) {
      if (off >= data.length) { c.close(); return; }
      c.enqueue(data.slice(off, off + piece));
      off += piece;
    },
  });
}

/** Everything a stream gives, joined. */
export async function collect(readable) {
  const parts = [];
  const reader = readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return concat(parts);
    parts.push(value);
  }
}

/** SHA-256 by WebCrypto (independent of the package). */
export async function digest(data) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', data));
}

/** An EIP-1193 provider over a node's JSON-RPC URL, with fetch. */
export function fetchProvider(rpcUrl) {
  let id = 0;
  return {
    async request({ method, params = [] }) {
      const res = await fetch(rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }) });
      const body = await res.json();
      if (body.error) throw Object.assign(new Error(body.error.message), { code: body.error.code });
      return body.result;
    },
  };
}
