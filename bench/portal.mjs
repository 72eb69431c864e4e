#!/usr/bin/env node
// The portal's timings (issue #13), in headless Chromium against the real
// local chain and record servers: for each size, the time from the file
// chosen to the record anchored (encrypt in the worker to OPFS, signed
// upload in parts, anchoring), and from the grant found in the doctor's
// inbox to the file saved (signed access request, download, verification
// against the chain, decryption in the worker, streamed save through the
// service worker, or through the File System Access path with --save
// picker), with the browser's peak memory above its level before each step
// (PSS of every Chromium process). Prints one line per size, then a table
// of them; the portal's bundle size is printed by its build
// (webpack.config.js).
//
// Each person gets a browser with an on-disk profile
// (PORTAL_CHROMIUM_PROFILES=persistent, tests/portal/run.mjs), as a doctor's
// browser has: in an off-the-record profile (a context of one browser, what
// the tests use; a private window) Chromium keeps the origin-private file
// system in the browser process's memory, so the ciphertext written there
// counts in full (PORTAL_CHROMIUM_PROFILES=incognito measures that).
//
//   node bench/portal.mjs [--mib 32,512] [--save download|picker|download,picker]
//   PORTAL_BENCH_BY_PROCESS=1 node bench/portal.mjs --mib 512   # also: each Chromium process's own peak growth (person and type)
//   node bench/portal.mjs --mib 512 --isolates                  # also: the peak JS heap and ArrayBuffers of each isolate
//                                                                 # (page, record worker, OPFS writer, service worker) of the
//                                                                 # doctor saving, over CDP (tests/portal/cdp.mjs)
//   node bench/portal.mjs --mib 512 --isolates --gc             # the same with a full GC in each isolate every 200 ms:
//                                                                 # what is left is live memory, the rest was garbage
// Records above 1 GiB: the record servers' limit is raised to the largest size (+64 MiB).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const option = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const mib = option('--mib', '32,512');
const largest = Math.max(...mib.split(',').map(Number));
const run = spawnSync(process.execPath, [path.join(ROOT, 'tests', 'portal', 'run.mjs'), 'chromium', '--flow', 'bench'], {
  cwd: ROOT,
  stdio: 'inherit',
  env: {
    PORTAL_CHROMIUM_PROFILES: 'persistent',
    ...process.env,
    PORTAL_BENCH_MIB: mib,
    PORTAL_BENCH_SAVE: option('--save', process.env.PORTAL_BENCH_SAVE || 'download'),
    ...(process.argv.includes('--isolates') ? { PORTAL_BENCH_ISOLATES: '1' } : {}),
    ...(process.argv.includes('--gc') ? { PORTAL_BENCH_GC: '1' } : {}),
    ...(largest > 1000 ? { PORTAL_TEST_MAX_RECORD_SIZE: String((largest + 64) * 2 ** 20) } : {}),
    PORTAL_SCREENSHOTS: path.join(ROOT, '.tmp', 'portal-bench-screenshots'),
  },
});
process.exit(run.status ?? 1);
