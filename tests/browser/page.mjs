// Runs the package's isomorphic test cases in this page against the
// no-bundler build (pkg/web), and leaves the outcome in window.__results
// for tests/browser/run.mjs.
import init, * as ehr from '/pkg/web/ehrchain.js';
import { engineCases } from '/tests/support/engines.mjs';
import { workerCases } from '/tests/support/workers.mjs';
import { inboxCases } from '/tests/support/inboxcases.mjs';

const log = document.getElementById('log');
const params = new URLSearchParams(location.search);
const only = params.get('only');
const world = params.get('inbox') ? JSON.parse(params.get('inbox')) : undefined;
const results = [];
try {
  await init();
  const cases = [...engineCases(ehr), ...workerCases(ehr), ...(world ? inboxCases(ehr, world) : [])];
  for (const c of cases) {
    if (only && !c.name.includes(only)) continue;
    const started = performance.now();
    try {
      await c.run();
      results.push({ name: c.name, ok: true, ms: performance.now() - started });
    } catch (e) {
      results.push({ name: c.name, ok: false, error: `${e && e.name}: ${e && e.message}\n${e && e.stack}` });
    }
    log.textContent += `${results.at(-1).ok ? 'ok' : 'FAIL'} ${c.name}\n`;
  }
} catch (e) {
  results.push({ name: 'loading the package', ok: false, error: String(e && e.stack || e) });
}
window.__results = results;
