// The record worker API's cases (encryptInWorker / decryptInWorker), run in
// real browsers by tests/browser/run.mjs (Chromium and Firefox): Blob and
// ReadableStream sources, the same bytes and codes as the main-thread API,
// progress, cancellation, backpressure, a reused worker, bad options.
//
//   const cases = workerCases(ehr, { workerUrl });   // [{ name, run: async () => {} }]
//
// `workerUrl`: the package's worker script, for the case of a worker the
// caller starts with `new Worker()`.

import { check, equalBytes, pattern, streamOf, collect, digest } from './isomorphic.mjs';

const MiB = 1 << 20;

async function failure(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('assertion failed: expected a failure');
}

/** The cases, each `{ name, run }`. */
export function workerCases(ehr, { workerUrl } = {}) {
  const ad = new TextEncoder().encode('ehrchain worker test');
  const cases = [];
  const encrypted = async (data, opts = {}) => {
    const key = ehr.generateRecordKey();
    const job = ehr.encryptInWorker(new Blob([data]), { key, associatedData: ad, ...opts });
    const ct = await collect(job.output);
    return { key, ct, result: await job.done };
  };

  cases.push({
    name: 'worker: a Blob encrypted off the main thread opens on it; eh, sizes and progress are right',
    async run() {
      check(ehr.recordWorkersSupported(), 'this browser has Web Workers');
      const data = pattern(3 * MiB + 12345, 1);
      const seen = [];
      const { key, ct, result } = await encrypted(data, { onProgress: (p) => seen.push(p) });
      equalBytes(result.hash, await digest(ct), 'eh is SHA-256 of the output');
      check(result.hashThread === false, 'a Blob of under 8 segments is hashed on the record worker: no second worker to wait for');
      check(result.bytesIn === data.length && result.bytesOut === ct.length, 'bytesIn, bytesOut');
      check(ct.length === 24 + data.length + 16 * 4, 'four 1 MiB segments');
      const dec = new ehr.RecordDecryptor(key, ad, { expectedHash: result.hash });
      equalBytes(await collect(new Blob([ct]).stream().pipeThrough(dec.transform())), data, 'opened on the main thread');
      dec.free();
      check(seen.length >= 1, 'progress reported');
      const last = seen.at(-1);
      check(last.bytesDone === data.length && last.totalBytes === data.length && last.secondsLeft === 0, `final progress ${JSON.stringify(last)}`);
      check(seen.every((p, i) => i === 0 || p.bytesDone >= seen[i - 1].bytesDone), 'progress never goes back');
      check(seen.every((p) => Number.isFinite(p.mbPerSecond) && p.mbPerSecond >= 0), 'MB/s is a number');
    },
  });

  cases.push({
    name: 'worker: a ReadableStream decrypted off the main thread, checked against eh; the wasm engine in a worker gives the same bytes',
    async run() {
      const data = pattern(2 * MiB + 7, 2);
      const { key, ct, result } = await encrypted(data, { engine: 'wasm' });
      check(result.hashThread === false, 'the wasm engine hashes on the record worker itself');
      const job = ehr.decryptInWorker(streamOf(ct, 100_000), { key, associatedData: ad, expectedHash: result.hash, totalBytes: ct.length });
      equalBytes(await collect(job.output), data, 'plaintext');
      const r = await job.done;
      equalBytes(r.hash, result.hash, 'hash');
      check(r.hashThread === true, 'a stream decrypted with WebCrypto is hashed on the hash worker');
      check(r.bytesIn === ct.length && r.bytesOut === data.length, 'sizes');
    },
  });

  cases.push({
    name: 'worker: records of 0, 1, segment edges ±1 and several segments, hashed on the hash worker: eh and bytes are what the software path checks',
    async run() {
      const segmentSize = 4096;
      const first = segmentSize - 24 - 16;
      const later = segmentSize - 16;
      const worker = ehr.createRecordWorker();
      try {
        for (const len of [0, 1, first - 1, first, first + 1, first + later, first + 5 * later + 3]) {
          const key = ehr.generateRecordKey();
          const data = pattern(len, len + 1);
          const job = ehr.encryptInWorker(streamOf(data, 1000), { key, associatedData: ad, segmentSize, worker });
          const ct = await collect(job.output);
          const r = await job.done;
          check(r.hashThread === true, `${len}: hashed on the hash worker`);
          equalBytes(r.hash, await digest(ct), `${len}: eh is SHA-256 of the output`);
          const soft = new ehr.RecordDecryptor(key, ad, { segmentSize, expectedHash: r.hash, engine: 'wasm' });
          equalBytes(await collect(new Blob([ct]).stream().pipeThrough(soft.transform())), data, `${len}: the software path opens it`);
          soft.free();
          const back = ehr.decryptInWorker(streamOf(ct, 1000), { key, associatedData: ad, segmentSize, expectedHash: r.hash, worker });
          equalBytes(await collect(back.output), data, `${len}: opened in the worker`);
          const rb = await back.done;
          check(rb.hashThread === true, `${len}: decrypt hashed on the hash worker`);
          equalBytes(rb.hash, r.hash, `${len}: the same eh`);
        }
      } finally {
        worker.terminate();
      }
    },
  });

  cases.push({
    name: 'worker: a Blob of 12 segments is read, sealed and opened in reused buffers and hashed on the hash worker, both ways',
    async run() {
      const data = pattern(12 * MiB + 5, 9);
      const { key, ct, result } = await encrypted(data);
      check(result.hashThread === true, 'encrypt: hashed on the hash worker');
      equalBytes(result.hash, await digest(ct), 'eh is SHA-256 of the output');
      const back = ehr.decryptInWorker(new Blob([ct]), { key, associatedData: ad, expectedHash: result.hash });
      equalBytes(await collect(back.output), data, 'opened in the worker');
      const r = await back.done;
      check(r.hashThread === true && r.bytesIn === ct.length, 'decrypt: hashed on the hash worker');
      const tampered = ct.slice();
      tampered[9 * MiB] ^= 1;
      const bad = ehr.decryptInWorker(new Blob([tampered]), { key, associatedData: ad, expectedHash: result.hash });
      await failure(collect(bad.output));
      const e = await failure(bad.done);
      check(e.code === 'SegmentTampered', `a flipped byte in segment 9: SegmentTampered, got ${e.code}`);
    },
  });

  cases.push({
    name: 'worker: small segments (4096 and 256 bytes), both key sizes: the worker seals and opens slice by slice, as the main thread does',
    async run() {
      for (const [segmentSize, keyLen] of [[4096, 16], [256, 32], [4096, 32]]) {
        const key = crypto.getRandomValues(new Uint8Array(keyLen));
        const data = pattern(segmentSize * 37 + 5, segmentSize);
        const job = ehr.encryptInWorker(new Blob([data]), { key, associatedData: ad, segmentSize });
        const ct = await collect(job.output);
        const { hash } = await job.done;
        const main = new ehr.RecordDecryptor(key, ad, { segmentSize, expectedHash: hash });
        equalBytes(await collect(new Blob([ct]).stream().pipeThrough(main.transform())), data, `${segmentSize}/${keyLen}: opened on the main thread`);
        main.free();
        const back = ehr.decryptInWorker(new Blob([ct]), { key, associatedData: ad, segmentSize, expectedHash: hash });
        equalBytes(await collect(back.output), data, `${segmentSize}/${keyLen}: opened in the worker`);
        equalBytes((await back.done).hash, hash, 'hash');
      }
    },
  });

  cases.push({
    name: 'worker: damage and a wrong hash reject with the main-thread codes, on output and done',
    async run() {
      const data = pattern(MiB * 2, 3);
      const { key, ct, result } = await encrypted(data);
      const tampered = ct.slice();
      tampered[MiB + 100] ^= 1;
      for (const [what, bytes, hash, code] of [
        ['tampered', tampered, result.hash, 'SegmentTampered'],
        ['truncated', ct.slice(0, MiB - 24 + 24), result.hash, 'Truncated'],
        ['another hash', ct, new Uint8Array(32), 'HashMismatch'],
      ]) {
        const job = ehr.decryptInWorker(new Blob([bytes]), { key, associatedData: ad, expectedHash: hash });
        const outErr = await failure(collect(job.output));
        const doneErr = await failure(job.done);
        for (const e of [outErr, doneErr]) {
          check(e instanceof ehr.EhrchainError && e.code === code, `${what}: ${code}, got ${e && e.code} ${e && e.message}`);
        }
      }
      const wrongKey = ehr.decryptInWorker(new Blob([ct]), { key: ehr.generateRecordKey(), associatedData: ad });
      check((await failure(wrongKey.done)).code === 'WrongKeyOrAssociatedData', 'wrong key');
      await failure(collect(wrongKey.output));
    },
  });

  cases.push({
    name: 'worker: the worker runs only a few segments ahead of a reader that stops reading (bounded memory)',
    async run() {
      const data = pattern(48 * MiB, 4);
      let bytesDone = 0;
      const ac = new AbortController();
      const job = ehr.encryptInWorker(new Blob([data]), {
        key: ehr.generateRecordKey(), associatedData: ad, signal: ac.signal, onProgress: (p) => { bytesDone = p.bytesDone; },
      });
      const reader = job.output.getReader();
      await reader.read();
      await new Promise((r) => setTimeout(r, 1500));
      check(bytesDone <= 16 * MiB, `with the output unread, at most 16 MiB read ahead; read ${bytesDone}`);
      ac.abort();
      await failure(job.done);
    },
  });

  cases.push({
    name: 'worker: an AbortSignal cancels a running job (output and done fail with its reason); a reused worker runs the next job',
    async run() {
      const worker = ehr.createRecordWorker();
      try {
        const data = pattern(16 * MiB, 5);
        const ac = new AbortController();
        const job = ehr.encryptInWorker(new Blob([data]), { key: ehr.generateRecordKey(), associatedData: ad, signal: ac.signal, worker });
        const reader = job.output.getReader();
        await reader.read();
        const reason = new DOMException('the user cancelled', 'AbortError');
        ac.abort(reason);
        check((await failure(job.done)) === reason, 'done rejects with the signal reason');
        check((await failure(reader.read())) === reason, 'the output errors with it');
        // Already aborted: refused before starting.
        const early = ehr.encryptInWorker(new Blob([data]), { key: ehr.generateRecordKey(), associatedData: ad, signal: AbortSignal.abort(reason) });
        check((await failure(early.done)) === reason, 'an aborted signal fails at once');
        check((await failure(early.output.getReader().read())) === reason, 'its output errors with the reason');
        // Two jobs queued on one worker both run, one after the other.
        const small = pattern(300_000, 6);
        const key = ehr.generateRecordKey();
        const a = ehr.encryptInWorker(new Blob([small]), { key, associatedData: ad, worker });
        const b = ehr.encryptInWorker(new Blob([small]), { key, associatedData: ad, worker });
        const [ca, cb] = await Promise.all([collect(a.output), collect(b.output)]);
        check(ca.length === cb.length && ca.length === 24 + small.length + 16, 'both jobs complete');
        const ra = await a.done;
        const rb = await b.done;
        check(ra.hash.some((x, i) => x !== rb.hash[i]), 'two encryptions, two headers');
        // Cancelling the output stream cancels the job.
        const c = ehr.encryptInWorker(new Blob([data]), { key, associatedData: ad, worker });
        const r2 = c.output.getReader();
        await r2.read();
        await r2.cancel();
        await failure(c.done);
        const d = ehr.encryptInWorker(new Blob([small]), { key, associatedData: ad, worker });
        check((await collect(d.output)).length === ca.length, 'the worker still serves jobs');
      } finally {
        worker.terminate();
      }
    },
  });

  cases.push({
    name: "worker: a worker of createRecordWorker gets its hash worker from the page; one made with new Worker() hashes inline; both give eh",
    async run() {
      const data = pattern(9 * MiB + 3, 12);
      const key = ehr.generateRecordKey();
      const kept = ehr.createRecordWorker();
      const made = new Worker(workerUrl, { type: 'module' });
      try {
        const results = [];
        for (const worker of [kept, made, kept]) {
          const job = ehr.encryptInWorker(new Blob([data]), { key, associatedData: ad, worker });
          const ct = await collect(job.output);
          const r = await job.done;
          equalBytes(r.hash, await digest(ct), 'eh is SHA-256 of the output');
          results.push(r.hashThread);
        }
        check(results[0] === true && results[2] === true, `createRecordWorker: hashed on its hash worker, job after job (${results})`);
        check(results[1] === false, 'a worker made with new Worker(): hashed on the record worker');
      } finally {
        kept.terminate();
        made.terminate();
      }
    },
  });

  cases.push({
    name: 'worker: terminate() of a createRecordWorker worker fails its running and queued jobs with ObjectFreed, and later jobs at once',
    async run() {
      const worker = ehr.createRecordWorker();
      const data = pattern(16 * MiB, 13);
      const key = ehr.generateRecordKey();
      const running = ehr.encryptInWorker(new Blob([data]), { key, associatedData: ad, worker });
      const queued = ehr.encryptInWorker(new Blob([data]), { key, associatedData: ad, worker });
      const reader = running.output.getReader();
      await reader.read();
      worker.terminate();
      for (const [what, e] of [
        ['the running job', await failure(running.done)],
        ['its output', await failure(reader.read())],
        ['the queued job', await failure(queued.done)],
      ]) {
        check(e instanceof ehr.EhrchainError && e.code === 'ObjectFreed', `${what}: ObjectFreed, got ${e && e.code}`);
      }
      let code = 'ok';
      try {
        ehr.encryptInWorker(new Blob([data]), { key, associatedData: ad, worker });
      } catch (e) {
        code = e.code;
      }
      check(code === 'ObjectFreed', `a job on the ended worker: ObjectFreed, got ${code}`);
    },
  });

  cases.push({
    name: 'worker: bad arguments are refused with their codes before any worker starts',
    async run() {
      const key = ehr.generateRecordKey();
      const code = (f) => { try { f(); return 'ok'; } catch (e) { return e.code; } };
      check(code(() => ehr.encryptInWorker('text', { key, associatedData: ad })) === 'InvalidArgument', 'a string source');
      check(code(() => ehr.encryptInWorker(new Blob([]), { key, associatedData: ad, segmentsize: 4096 })) === 'InvalidArgument', 'unknown option');
      check(code(() => ehr.encryptInWorker(new Blob([]), { key, associatedData: 'ad' })) === 'InvalidArgument', 'string associated data');
      check(code(() => ehr.decryptInWorker(new Blob([]), { key: 'zz', associatedData: ad })) === 'InvalidHex', 'non-hex key: the one hex rule');
      check(code(() => ehr.decryptInWorker(new Blob([]), { key: 42, associatedData: ad })) === 'InvalidArgument', 'a number key');
      check(code(() => ehr.encryptInWorker(new Blob([]), { key, associatedData: ad, totalBytes: -1 })) === 'InvalidArgument', 'negative totalBytes');
      check(code(() => ehr.encryptInWorker(new Blob([]), { key, associatedData: ad, signal: {} })) === 'InvalidArgument', 'a signal that is not an AbortSignal');
      const job = ehr.encryptInWorker(new Blob([]), { key: new Uint8Array(5), associatedData: ad });
      check((await failure(job.done)).code === 'InvalidLength', 'a 5-byte key fails in the worker with InvalidLength');
    },
  });

  return cases;
}
