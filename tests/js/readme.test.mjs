// The package README's worked example (docs/PACKAGE.md, the ```js
// worked-example block), run as written: extracted into a file of its own
// that imports "ehrchain" (pkg/, linked as a dependency) and ethers, run by
// Node against a throw-away Hardhat chain with the registry deployed
// (RPC_URL and REGISTRY, as scripts/dev.sh would give). It must print the
// decrypted record and exit 0.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { startChain } from '../../chain/testchain.mjs';
import { ROOT } from '../support/helpers.mjs';

const require = createRequire(import.meta.url);
const { deploy } = require('../../chain/deploy.js');
const { compile } = require('../../chain/compile.js');

/** The worked example's code, exactly as the README shows it. */
export function workedExample() {
  const readme = fs.readFileSync(path.join(ROOT, 'docs', 'PACKAGE.md'), 'utf8');
  const m = /```js worked-example\n([\s\S]*?)```/.exec(readme);
  assert.ok(m, 'docs/PACKAGE.md has a ```js worked-example block');
  return m[1];
}

const S = {};
before(async () => {
  S.chain = await startChain();
  const d = await deploy({ rpcUrl: S.chain.rpcUrl, out: false, artifact: compile({ write: false }).EhrRegistry });
  d.provider.destroy();
  S.registry = d.registry;
  // A project of its own inside the repository (so `ethers` resolves from the
  // workspace), with the package linked as node_modules/ehrchain.
  fs.mkdirSync(path.join(ROOT, '.tmp'), { recursive: true });
  S.dir = fs.mkdtempSync(path.join(ROOT, '.tmp', 'readme-'));
  fs.mkdirSync(path.join(S.dir, 'node_modules'));
  fs.symlinkSync(path.join(ROOT, 'pkg'), path.join(S.dir, 'node_modules', 'ehrchain'), 'dir');
  fs.writeFileSync(path.join(S.dir, 'example.mjs'), workedExample());
});
after(async () => {
  if (S.dir) fs.rmSync(S.dir, { recursive: true, force: true });
  await S.chain?.stop();
});

test('the README worked example runs as written and decrypts the record', async () => {
  const { stdout, stderr } = await new Promise((resolve, reject) => {
    execFile(process.execPath, ['example.mjs'], {
      cwd: S.dir,
      env: { ...process.env, RPC_URL: S.chain.rpcUrl, REGISTRY: S.registry },
      timeout: 120_000,
    }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve({ stdout, stderr })));
  });
  assert.equal(stdout, 'Chest X-ray: no findings.\n', `stderr: ${stderr}`);
});
