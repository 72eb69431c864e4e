// The record engines' cases, shared by Node (tests/js/engines.test.mjs) and
// the browsers (tests/browser/run.mjs, Chromium and Firefox): the WebCrypto
// and the wasm engine of RecordEncryptor/RecordDecryptor.transform(), and
// push/finish, seal and open each other's output over every size that
// matters (0, 1, segment edges ±1, many segments) with both key sizes; an
// independent Tink encoder written here on plain WebCrypto re-seals each
// output from its own header and must produce the same bytes; damaged
// records give the same code on both engines.
//
// Isomorphic: no Node or browser API beyond WebCrypto and WHATWG streams.
//   const cases = engineCases(ehr);   // [{ name, run: async () => {} }]

import { check, equalBytes, pattern, concat, streamOf, collect, digest } from './isomorphic.mjs';

const ENGINES = ['webcrypto', 'wasm'];
const TAG = 16;

/** The ciphertext of a Tink AES-GCM-HKDF stream, re-made from its own header by plain WebCrypto. */
async function referenceSeal(keyBytes, ad, segmentSize, header, plaintext) {
  const keyLen = keyBytes.length;
  const salt = header.subarray(1, 1 + keyLen);
  const prefix = header.subarray(1 + keyLen, 1 + keyLen + 7);
  const ikm = await crypto.subtle.importKey('raw', keyBytes, 'HKDF', false, ['deriveKey']);
  const key = await crypto.subtle.deriveKey({ name: 'HKDF', hash: 'SHA-256', salt, info: ad }, ikm,
    { name: 'AES-GCM', length: keyLen * 8 }, false, ['encrypt']);
  const first = segmentSize - header.length - TAG;
  const later = segmentSize - TAG;
  const parts = [header];
  let off = 0;
  for (let i = 0; ; i++) {
    const take = i === 0 ? first : later;
    const last = plaintext.length - off <= take;
    const iv = new Uint8Array(12);
    iv.set(prefix);
    new DataView(iv.buffer).setUint32(7, i);
    iv[11] = last ? 1 : 0;
    parts.push(new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, plaintext.subarray(off, off + take))));
    off += take;
    if (last) return concat(parts);
  }
}

function segmentsOf(len, segmentSize, headerLen) {
  const first = segmentSize - headerLen - TAG;
  return len <= first ? 1 : 1 + Math.ceil((len - first) / (segmentSize - TAG));
}

async function seal(ehr, how, key, ad, segmentSize, data, piece) {
  const enc = new ehr.RecordEncryptor(key, ad, { segmentSize, engine: how === 'push' ? undefined : how });
  try {
    if (how === 'push') {
      const parts = [];
      for (let i = 0; i < data.length; i += piece) parts.push(enc.push(data.subarray(i, i + piece)));
      parts.push(enc.finish());
      return { ct: concat(parts), hash: enc.hash };
    }
    const ct = await collect(streamOf(data, piece).pipeThrough(enc.transform()));
    return { ct, hash: enc.hash };
  } finally {
    enc.free();
  }
}

async function open(ehr, how, key, ad, segmentSize, ct, piece, expectedHash) {
  const dec = new ehr.RecordDecryptor(key, ad, { segmentSize, expectedHash, engine: how === 'push' ? undefined : how });
  try {
    if (how === 'push') {
      const parts = [];
      for (let i = 0; i < ct.length; i += piece) parts.push(dec.push(ct.subarray(i, i + piece)));
      parts.push(dec.finish());
      return { pt: concat(parts), hash: dec.hash };
    }
    const pt = await collect(streamOf(ct, piece).pipeThrough(dec.transform()));
    return { pt, hash: dec.hash };
  } finally {
    dec.free();
  }
}

async function codeOf(promise) {
  try {
    await promise;
    return 'ok';
  } catch (e) {
    check(e instanceof Error && e.name === 'EhrchainError', `a typed error, not ${e}`);
    return e.code;
  }
}

/** The cases, each `{ name, run }`; `run` throws on failure. */
export function engineCases(ehr) {
  const cases = [];
  const ad = new TextEncoder().encode('ehrchain engines test');
  const S = 256;
  for (const keyLen of [16, 32]) {
    const headerLen = 1 + keyLen + 7;
    const first = S - headerLen - TAG;
    const later = S - TAG;
    const sizes = [0, 1, first - 1, first, first + 1, first + later - 1, first + later, first + later + 1, first + 5 * later + 3];
    cases.push({
      name: `${keyLen}-byte key, sizes ${sizes.join(', ')}: every engine opens every engine's output, and the bytes are Tink's`,
      async run() {
        const key = pattern(keyLen, keyLen);
        for (const len of sizes) {
          const data = pattern(len, len + 7);
          for (const sealer of [...ENGINES, 'push']) {
            for (const piece of [7, 1000]) {
              const what = `${sealer} sealing ${len} bytes in pieces of ${piece}`;
              const { ct, hash } = await seal(ehr, sealer, key, ad, S, data, piece);
              check(ct.length === headerLen + len + TAG * segmentsOf(len, S, headerLen), `${what}: ciphertext length`);
              equalBytes(hash, await digest(ct), `${what}: eh is SHA-256 of the ciphertext`);
              equalBytes(ct, await referenceSeal(key, ad, S, ct.subarray(0, headerLen), data), `${what}: byte-identical to the reference`);
              for (const opener of [...ENGINES, 'push']) {
                const got = await open(ehr, opener, key, ad, S, ct, piece === 7 ? 333 : 5, hash);
                equalBytes(got.pt, data, `${what}, opened by ${opener}`);
                equalBytes(got.hash, hash, `${what}, opened by ${opener}: hash`);
              }
            }
          }
        }
      },
    });
  }

  cases.push({
    name: 'the default 1 MiB segments, a 3.5 MiB record in 64 KiB pieces, both engines both ways',
    async run() {
      const key = ehr.generateRecordKey();
      const data = pattern(3.5 * 1024 * 1024, 99);
      for (const sealer of ENGINES) {
        const enc = new ehr.RecordEncryptor(key, ad, { engine: sealer });
        const ct = await collect(streamOf(data, 65536).pipeThrough(enc.transform()));
        equalBytes(ct, await referenceSeal(key, ad, 1 << 20, ct.subarray(0, 24), data), `${sealer}: reference bytes`);
        for (const opener of ENGINES) {
          const got = await open(ehr, opener, key, ad, 1 << 20, ct, 65536, enc.hash);
          equalBytes(got.pt, data, `${sealer} → ${opener}`);
        }
        enc.free();
      }
    },
  });

  cases.push({
    name: 'damaged records give the same code on both engines',
    async run() {
      const key = pattern(16, 3);
      const data = pattern(S * 9, 5);
      const { ct, hash } = await seal(ehr, 'wasm', key, ad, S, data, 100);
      const h = 24;
      const segAt = (i) => (i === 0 ? 0 : S - h + (i - 1) * S) + h;
      const swapped = ct.slice();
      swapped.set(ct.slice(segAt(2), segAt(3)), segAt(3));
      swapped.set(ct.slice(segAt(3), segAt(4)), segAt(2));
      const flipped = ct.slice();
      flipped[segAt(5) + 10] ^= 1;
      const badHeader = ct.slice();
      badHeader[0] = 99;
      const damaged = [
        ['intact', ct, {}, 'ok'],
        ['a flipped byte in segment 5', flipped, {}, 'SegmentTampered'],
        ['segments 2 and 3 swapped', swapped, {}, 'SegmentOutOfOrder'],
        ['cut at a segment boundary', ct.slice(0, segAt(4)), {}, 'Truncated'],
        ['cut leaving less than a tag', ct.slice(0, segAt(4) + 10), {}, 'Truncated'],
        ['the last byte cut', ct.slice(0, ct.length - 1), {}, 'SegmentTampered'],
        ['a byte appended', concat([ct, Uint8Array.of(0)]), {}, 'SegmentTampered'],
        ['cut inside the header', ct.slice(0, 10), {}, 'Truncated'],
        ['empty', new Uint8Array(0), {}, 'Truncated'],
        ['a bad header length byte', badHeader, {}, 'InvalidHeader'],
        ['the wrong key', ct, { key: pattern(16, 4) }, 'WrongKeyOrAssociatedData'],
        ['the wrong associated data', ct, { ad: Uint8Array.of(1) }, 'WrongKeyOrAssociatedData'],
        ['the wrong expected hash', ct, { hash: new Uint8Array(32) }, 'HashMismatch'],
        ['a 32-byte key for a 16-byte record', ct, { key: pattern(32, 4) }, 'InvalidHeader'],
      ];
      for (const [what, c, o, expect] of damaged) {
        for (const piece of [7, 4096]) {
          const codes = [];
          for (const how of [...ENGINES, 'push']) {
            codes.push(await codeOf(open(ehr, how, o.key ?? key, o.ad ?? ad, S, c, piece, o.hash ?? hash)));
          }
          check(codes.every((x) => x === expect), `${what} (pieces of ${piece}): expected ${expect} from webcrypto, wasm, push; got ${codes.join(', ')}`);
        }
      }
    },
  });

  cases.push({
    name: 'freeing an encryptor or decryptor while its WebCrypto stream is open wipes the stream\'s key: its next chunk is ObjectFreed',
    async run() {
      const key = ehr.generateRecordKey();
      const data = pattern(S * 6, 8);
      const { ct } = await seal(ehr, 'wasm', key, ad, S, data, 100);
      for (const [make, input] of [
        [() => new ehr.RecordEncryptor(key, ad, { segmentSize: S, engine: 'webcrypto' }), data],
        [() => new ehr.RecordDecryptor(key, ad, { segmentSize: S, engine: 'webcrypto' }), ct],
      ]) {
        const s = make();
        const writer = s.transform().writable.getWriter();
        await writer.write(input.slice(0, S * 2));
        s.free();
        const code = await codeOf(writer.write(input.slice(S * 2, S * 3)));
        check(code === 'ObjectFreed', `a chunk after free(): ObjectFreed, got ${code}`);
      }
    },
  });

  cases.push({
    name: 'engine "webcrypto" runs on WebCrypto; an unknown engine is InvalidArgument',
    async run() {
      const key = ehr.generateRecordKey();
      check((await codeOf(Promise.resolve().then(() => new ehr.RecordEncryptor(key, ad, { engine: 'gpu' })))) === 'InvalidArgument', 'engine "gpu"');
      // WebCrypto's encrypt is what runs: count its calls.
      const subtle = crypto.subtle;
      const original = subtle.encrypt;
      let calls = 0;
      subtle.encrypt = function (...args) { calls += 1; return original.apply(this, args); };
      try {
        await seal(ehr, 'webcrypto', key, ad, S, pattern(S * 3, 1), 100);
        check(calls === 4, `4 segments sealed by WebCrypto, saw ${calls}`);
        calls = 0;
        await seal(ehr, 'wasm', key, ad, S, pattern(S * 3, 1), 100);
        check(calls === 0, `the wasm engine does not call WebCrypto, saw ${calls}`);
      } finally {
        subtle.encrypt = original;
      }
    },
  });

  return cases;
}
