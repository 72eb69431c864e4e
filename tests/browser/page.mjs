// Runs the package's isomorphic test cases in this page against the
// no-bundler build (pkg/web), and reports each outcome, then the end, to
// tests/browser/run.mjs by POSTing to the server that served this page
// (the runner does not poll the browser: a busy page cannot time out a
// remote-protocol call).
import init, * as ehr from '/pkg/web/ehrchain.js';
import { engineCases } from '/tests/support/engines.mjs';
import { workerCases } from '/tests/support/workers.mjs';
import { inboxCases } from '/tests/support/inboxcases.mjs';

const log = document.getElementById('log');
const params = new URLSearchParams(location.search);
const only = params.get('only');
const world = params.get('inbox') ? JSON.parse(params.get('inbox')) : undefined;
const results = [];
/** How long one case may take: a case that hangs fails by name, and the others still run. */
const CASE_MS = 120_000;
/** Sends one message to the runner (`result` or `done`). */
async function report(message) {
  await fetch(`/__report?run=${encodeURIComponent(params.get('run'))}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message),
  });
}
try {
  await init();
  const cases = [...engineCases(ehr), ...workerCases(ehr, { workerUrl: '/pkg/web/worker.js' }), ...(world ? inboxCases(ehr, world) : [])];
  for (const c of cases) {
    if (only && !c.name.includes(only)) continue;
    const started = performance.now();
    try {
      let timer;
      const late = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the case did not finish in ${CASE_MS / 1000} s`)), CASE_MS);
      });
      try {
        await Promise.race([c.run(), late]);
      } finally {
        clearTimeout(timer);
      }
      results.push({ name: c.name, ok: true, ms: performance.now() - started });
    } catch (e) {
      results.push({ name: c.name, ok: false, error: `${e && e.name}: ${e && e.message}\n${e && e.stack}` });
    }
    log.textContent += `${results.at(-1).ok ? 'ok' : 'FAIL'} ${c.name}\n`;
    await report({ result: results.at(-1) });
  }
} catch (e) {
  const failure = { name: 'loading the package', ok: false, error: String(e && e.stack || e) };
  results.push(failure);
  await report({ result: failure });
}
await report({ done: results.length });
