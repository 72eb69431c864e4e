// scanInbox in a browser (tests/browser/run.mjs starts the chain and posts
// the grants: tests/support/inbox.mjs): the worker pool and this thread find
// the same grants, and nothing else; a scan resumes.
//
//   const cases = inboxCases(ehr, { rpcUrl, registry, fromBlock, doctorSecret, expected });

import { check, fetchProvider as provider } from './isomorphic.mjs';

export function inboxCases(ehr, world) {
  const scan = async (opts, key) => {
    const found = [];
    let last;
    for await (const e of ehr.scanInbox(key, { registry: world.registry, provider: provider(world.rpcUrl), fromBlock: world.fromBlock, ...opts })) {
      if (e.kind === 'match') found.push(e.authorisation.transactionHash);
      else last = e.progress;
    }
    return { found, last };
  };
  return [{
    name: 'inbox: scanInbox with 2 workers, 1 worker and none finds exactly the doctor\'s grants on a real chain; a stranger finds none',
    async run() {
      const key = ehr.Key.fromBytes(world.doctorSecret);
      try {
        for (const workers of [2, 1, 0]) {
          for (const blocksPerRequest of [10_000, 9]) {
            const { found, last } = await scan({ workers, blocksPerRequest }, key);
            check(JSON.stringify(found) === JSON.stringify(world.expected), `${workers} workers, pages of ${blocksPerRequest}: found ${found.join(',')}`);
            check(last.events === world.events, `${workers} workers: ${last.events} events tested`);
          }
        }
        const { last } = await scan({}, key);
        const resumed = await scan({ fromBlock: last.scannedTo + 1 }, key);
        check(resumed.found.length === 0 && resumed.last === undefined, 'a resumed scan with no new blocks yields nothing');
        const stranger = ehr.Key.generate();
        check((await scan({ workers: 2 }, stranger)).found.length === 0, 'a stranger finds nothing');
        stranger.free();
      } finally {
        key.free();
      }
    },
  }];
}
