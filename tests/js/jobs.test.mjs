// The page's side of record jobs on a reused worker (js/src/jobs.ts), run
// against a scripted stand-in for the worker so that the timing is the
// test's: every message of a job carries its number, and a late answer of a
// job the page gave up on never reaches the next job on the same worker.
// (The real workers run in tests/browser, in Chromium and Firefox.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadPackage, sleep } from '../support/helpers.mjs';
import { collect } from '../support/isomorphic.mjs';

const ehr = loadPackage();
const ad = new TextEncoder().encode('ehrchain jobs test');

/** A worker that records what the page sends and answers as the test says. */
class ScriptedWorker extends EventTarget {
  sent = [];
  terminated = false;
  postMessage(m) {
    this.sent.push(m);
  }
  terminate() {
    this.terminated = true;
  }
  answer(data) {
    this.dispatchEvent(new MessageEvent('message', { data }));
  }
  /** The `start` of the job after `after` starts (waits for it). */
  async started(after = 0, ms = 5000) {
    const until = Date.now() + ms;
    for (;;) {
      const s = this.sent.find((m) => m.t === 'start' && m.job > after);
      if (s) return s;
      if (Date.now() > until) throw new Error('no job started');
      await sleep(10);
    }
  }
}

/** Resolves with `p`'s value, or rejects if it takes longer than `ms`. */
function within(p, ms, what) {
  return Promise.race([p, sleep(ms).then(() => { throw new Error(`${what} did not settle in ${ms} ms`); })]);
}

test('every message a job sends its worker carries the job number of its start', async () => {
  const worker = new ScriptedWorker();
  const job = ehr.encryptInWorker(new Blob([new Uint8Array(10)]), { key: ehr.generateRecordKey(), associatedData: ad, worker });
  const start = await worker.started();
  assert.ok(Number.isSafeInteger(start.job) && start.job > 0);
  const reader = job.output.getReader();
  const read = reader.read();
  worker.answer({ job: start.job, t: 'output', chunk: new Uint8Array([1, 2, 3]), bytesIn: 10 });
  assert.deepEqual((await read).value, new Uint8Array([1, 2, 3]));
  const others = worker.sent.filter((m) => m.t !== 'start');
  assert.ok(others.some((m) => m.t === 'credit'), 'a credit was sent for the chunk read');
  assert.ok(others.every((m) => m.job === start.job), JSON.stringify(others));
  reader.cancel();
  await assert.rejects(job.done);
  assert.deepEqual(worker.sent.at(-1), { t: 'abort', job: start.job });
});

test("a late 'aborted' of a job given up does not end the next job on the same worker", async () => {
  const worker = new ScriptedWorker();
  const ac = new AbortController();
  const first = ehr.encryptInWorker(new Blob([new Uint8Array(10)]), {
    key: ehr.generateRecordKey(), associatedData: ad, worker, signal: ac.signal,
  });
  const s1 = await worker.started();
  const reason = new Error('the user cancelled');
  ac.abort(reason);
  await assert.rejects(first.done, (e) => e === reason);
  assert.deepEqual(worker.sent.at(-1), { t: 'abort', job: s1.job });
  // The worker does not answer in time: the next job starts after the grace.
  const second = ehr.encryptInWorker(new Blob([new Uint8Array(10)]), { key: ehr.generateRecordKey(), associatedData: ad, worker });
  const s2 = await worker.started(s1.job);
  assert.notEqual(s2.job, s1.job);
  const output = collect(second.output);
  // Then the first job's answer arrives, and messages about no job at all.
  worker.answer({ job: s1.job, t: 'aborted' });
  worker.answer({ job: s1.job, t: 'error', code: 'EngineFailed', message: 'late' });
  worker.answer({ job: s2.job + 1000, t: 'done', hash: new Uint8Array(32), bytesIn: 0, bytesOut: 0, hashThread: false });
  worker.answer({ job: s2.job, t: 'output', chunk: new Uint8Array([7, 7]), bytesIn: 10 });
  worker.answer({ job: s2.job, t: 'done', hash: new Uint8Array(32).fill(9), bytesIn: 10, bytesOut: 2, hashThread: false });
  assert.deepEqual(await within(output, 2000, "the second job's output"), new Uint8Array([7, 7]));
  const result = await within(second.done, 2000, "the second job's done");
  assert.deepEqual(result.hash, new Uint8Array(32).fill(9));
  assert.equal(result.bytesOut, 2);
  assert.equal(worker.terminated, false, "a caller's worker is left running");
});

test('a job whose signal is already aborted fails at once and sends the worker nothing', async () => {
  const worker = new ScriptedWorker();
  const reason = new Error('aborted before it began');
  const job = ehr.encryptInWorker(new Blob([new Uint8Array(10)]), {
    key: ehr.generateRecordKey(), associatedData: ad, worker, signal: AbortSignal.abort(reason),
  });
  await assert.rejects(job.done, (e) => e === reason);
  await assert.rejects(job.output.getReader().read(), (e) => e === reason);
  await sleep(20);
  assert.deepEqual(worker.sent, []);
});

test('a job cancelled or aborted while queued behind another never reaches the worker, and fails at once', async () => {
  const worker = new ScriptedWorker();
  const key = ehr.generateRecordKey();
  const first = ehr.encryptInWorker(new Blob([new Uint8Array(10)]), { key, associatedData: ad, worker });
  const s1 = await worker.started();
  const cancelled = ehr.encryptInWorker(new Blob([new Uint8Array(10)]), { key, associatedData: ad, worker });
  const ac = new AbortController();
  const aborted = ehr.encryptInWorker(new Blob([new Uint8Array(10)]), { key, associatedData: ad, worker, signal: ac.signal });
  await cancelled.output.cancel();
  const reason = new Error('changed my mind');
  ac.abort(reason);
  await within(assert.rejects(cancelled.done, (e) => e.name === 'AbortError'), 500, 'the cancelled job');
  await within(assert.rejects(aborted.done, (e) => e === reason), 500, 'the aborted job');
  const third = ehr.encryptInWorker(new Blob([new Uint8Array(10)]), { key, associatedData: ad, worker });
  const output = collect(third.output);
  const firstOut = collect(first.output);
  worker.answer({ job: s1.job, t: 'done', hash: new Uint8Array(32), bytesIn: 10, bytesOut: 0, hashThread: false });
  await firstOut;
  await first.done;
  const s3 = await worker.started(s1.job);
  assert.deepEqual(worker.sent.filter((m) => m.t === 'start').map((m) => m.job), [s1.job, s3.job], 'only the first and the third started');
  assert.ok(worker.sent.every((m) => m.job === s1.job || m.job === s3.job), 'nothing of the two given-up jobs reached the worker');
  worker.answer({ job: s3.job, t: 'done', hash: new Uint8Array(32).fill(3), bytesIn: 10, bytesOut: 0, hashThread: false });
  await within(output, 2000, "the third job's output");
  assert.deepEqual((await third.done).hash, new Uint8Array(32).fill(3));
});
