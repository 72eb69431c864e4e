// Headless Chromium for the browser benchmarks and the package test (not a
// test helper: benchmarks import it): Debian's /usr/bin/chromium (or
// $CHROMIUM) driven by playwright-core, with the flags every caller needs.
//
//   import { launchChromium } from '../chain/chromium.mjs';
//   const browser = await launchChromium({ extraArgs: ['--enable-precise-memory-info'] });

/** The Chromium executable: $CHROMIUM, else Debian's. */
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** Flags for a quiet headless run in a container (no sandbox, no GPU, no background traffic). */
export const CHROMIUM_ARGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync',
];

/** Launches headless Chromium through playwright-core; resolves the Browser. */
export async function launchChromium({ extraArgs = [], timeoutMs = 30_000 } = {}) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs], timeout: timeoutMs });
}
