// The two engines of the record streams (WebCrypto and wasm) in Node: the
// shared cases of tests/support/engines.mjs (the browsers run the same
// cases: tests/browser/run.mjs).
import { test } from 'node:test';
import { loadPackage } from '../support/helpers.mjs';
import { engineCases } from '../support/engines.mjs';

const ehr = loadPackage();
for (const c of engineCases(ehr)) test(c.name, c.run);
