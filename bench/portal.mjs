#!/usr/bin/env node
// The portal's timings (issue #13), in headless Chromium against the real
// local chain and record servers: for each size, the time from the file
// chosen to the record anchored (encrypt in the worker to OPFS, signed
// upload in parts, anchoring), and from the grant found in the doctor's
// inbox to the file saved (signed access request, download, verification
// against the chain, decryption in the worker, streamed save through the
// service worker), with the browser's peak memory above its level before
// each step (PSS of every Chromium process). Prints one line per size; the
// portal's bundle size is printed by its build (webpack.config.js).
//
// Each person gets a browser with an on-disk profile
// (PORTAL_CHROMIUM_PROFILES=persistent, tests/portal/run.mjs), as a doctor's
// browser has: in an off-the-record profile (a context of one browser, what
// the tests use; a private window) Chromium keeps the origin-private file
// system in the browser process's memory, so the ciphertext written there
// counts in full (PORTAL_CHROMIUM_PROFILES=incognito measures that).
//
//   node bench/portal.mjs [--mib 32,512]
//   PORTAL_BENCH_BY_PROCESS=1 node bench/portal.mjs --mib 512   # also: which Chromium process grew, at the peak
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const at = process.argv.indexOf('--mib');
const mib = at > 0 ? process.argv[at + 1] : '32,512';
const run = spawnSync(process.execPath, [path.join(ROOT, 'tests', 'portal', 'run.mjs'), 'chromium', '--flow', 'bench'], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { PORTAL_CHROMIUM_PROFILES: 'persistent', ...process.env, PORTAL_BENCH_MIB: mib, PORTAL_SCREENSHOTS: path.join(ROOT, '.tmp', 'portal-bench-screenshots') },
});
process.exit(run.status ?? 1);
