// scanInbox, the doctor's inbox, against a real Hardhat node (Node has no
// Web Workers, so the events are tested on this thread here; the browsers
// run the worker pool: tests/browser/run.mjs): the matches and nothing
// else, in pages, as they are found; resuming from the last scanned block;
// providers that refuse large ranges or fail; abort; bad options.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadPackage, rejectsCode } from '../support/helpers.mjs';
import { inboxWorld, fetchProvider } from '../support/inbox.mjs';

const ehr = loadPackage();
let world;
let mine;
let provider;

before(async () => {
  world = await inboxWorld(ehr);
  mine = await world.post({ mine: 3, others: 30 });
  provider = fetchProvider(world.rpcUrl);
});
after(async () => { await world?.close(); });

async function scan(opts, key = world.doctor) {
  const events = [];
  const it = ehr.scanInbox(key, { registry: world.registry, provider, fromBlock: world.deployBlock, ...opts });
  for (;;) {
    const { done, value } = await it.next();
    if (done) return { events, result: value };
    events.push(value);
  }
}

const matchesOf = (events) => events.filter((e) => e.kind === 'match').map((e) => e.authorisation.transactionHash);

test('a scan finds exactly the doctor\'s grants, with progress to the latest block', async () => {
  const latest = await world.latest();
  const { events, result } = await scan({});
  assert.deepEqual(matchesOf(events), mine);
  assert.deepEqual(result, { fromBlock: world.deployBlock, toBlock: latest, scannedTo: latest, events: 33, matches: 3 });
  const found = events.find((e) => e.kind === 'match');
  assert.ok(found.blockNumber > world.deployBlock && found.blockNumber <= latest, 'a match carries its block');
  // A match opens with the doctor's key: the iterator gives scanAuthorisations' objects.
  const scanner = new ehr.Scanner(world.doctor);
  const opened = scanner.open(found.authorisation);
  assert.equal(opened.hospital.startsWith('Hospital '), true);
  opened.free();
  scanner.free();
});

test('in pages of 5 blocks: the same matches, each before its page\'s progress, progress never going back', async () => {
  const { events, result } = await scan({ blocksPerRequest: 5 });
  assert.deepEqual(matchesOf(events), mine);
  const progress = events.filter((e) => e.kind === 'progress').map((e) => e.progress);
  assert.ok(progress.length >= 7, `several pages, saw ${progress.length}`);
  assert.ok(progress.every((p, i) => i === 0 || (p.scannedTo > progress[i - 1].scannedTo && p.events >= progress[i - 1].events)));
  let lastScanned = world.deployBlock - 1;
  for (const e of events) {
    if (e.kind === 'progress') lastScanned = e.progress.scannedTo;
    else assert.ok(e.blockNumber > lastScanned, 'a match comes before the progress that covers its block');
  }
  assert.equal(result.events, 33);
});

test('a stranger\'s key finds nothing', async () => {
  const stranger = ehr.Key.generate();
  const { events, result } = await scan({}, stranger);
  stranger.free();
  assert.deepEqual(matchesOf(events), []);
  assert.equal(result.events, 33);
});

test('resuming from scannedTo + 1 tests only the new blocks and finds only the new grant', async () => {
  const first = await scan({});
  const again = await scan({ fromBlock: first.result.scannedTo + 1 });
  assert.deepEqual(again.events, [], 'nothing new: nothing fetched, nothing yielded');
  assert.equal(again.result.events, 0);
  const added = await world.post({ mine: 1, others: 5 });
  const resumed = await scan({ fromBlock: first.result.scannedTo + 1 });
  assert.deepEqual(matchesOf(resumed.events), added);
  assert.equal(resumed.result.events, 6);
  mine.push(...added);
});

test('a provider that refuses large ranges (-32005) gets smaller ones; the scan still finds everything', async () => {
  let refused = 0;
  const picky = {
    async request(args) {
      if (args.method === 'eth_getLogs') {
        const { fromBlock, toBlock } = args.params[0];
        if (Number(toBlock) - Number(fromBlock) + 1 > 4) {
          refused += 1;
          throw Object.assign(new Error('query returned more than 10000 results'), { code: -32005 });
        }
      }
      return provider.request(args);
    },
  };
  const it = ehr.scanInbox(world.doctor, { registry: world.registry, provider: picky, fromBlock: world.deployBlock });
  const found = [];
  for await (const e of it) if (e.kind === 'match') found.push(e.authorisation.transactionHash);
  assert.deepEqual(found, mine);
  assert.ok(refused >= 1);
});

test('a failing provider is Rpc; an aborted signal stops the scan with its reason', async () => {
  const broken = { request: async () => { throw Object.assign(new Error('upstream down'), { code: -32603 }); } };
  await rejectsCode(ehr.scanInbox(world.doctor, { registry: world.registry, provider: broken }).next(), 'Rpc');
  // Aborted after a match and after a page's progress: the next step throws either way.
  for (const kind of ['match', 'progress']) {
    const ac = new AbortController();
    const it = ehr.scanInbox(world.doctor, { registry: world.registry, provider, fromBlock: world.deployBlock, blocksPerRequest: 3, signal: ac.signal });
    while ((await it.next()).value.kind !== kind);
    const reason = new Error(`the doctor closed the inbox after a ${kind}`);
    ac.abort(reason);
    await assert.rejects(it.next(), (e) => e === reason);
  }
});

test('an abort stops a scan at once while the provider has not answered', async () => {
  for (const hangs of ['eth_blockNumber', 'eth_getLogs']) {
    let asked;
    const asking = new Promise((r) => { asked = r; });
    const slow = {
      request: (q) => {
        if (q.method !== hangs) return provider.request(q);
        asked();
        return new Promise(() => {}); // never answers
      },
    };
    const ac = new AbortController();
    const it = ehr.scanInbox(world.doctor, { registry: world.registry, provider: slow, fromBlock: world.deployBlock, signal: ac.signal });
    const step = it.next();
    await asking;
    const reason = new Error(`the doctor closed the inbox during ${hangs}`);
    ac.abort(reason);
    const late = new Promise((_, reject) => setTimeout(() => reject(new Error(`still waiting on ${hangs} 1 s after the abort`)), 1000));
    await assert.rejects(Promise.race([step, late]), (e) => e === reason);
  }
});

test('bad options are InvalidArgument', async () => {
  for (const [what, opts] of [
    ['unknown option', { registry: world.registry, provider, fromblock: 1 }],
    ['no provider', { registry: world.registry }],
    ['negative fromBlock', { registry: world.registry, provider, fromBlock: -1 }],
    ['fractional page', { registry: world.registry, provider, blocksPerRequest: 1.5 }],
  ]) {
    await rejectsCode(ehr.scanInbox(world.doctor, opts).next(), 'InvalidArgument', what);
  }
});
