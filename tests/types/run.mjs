// The package's type tests (issue #11): a user's TypeScript project with the
// package installed (a copy of pkg/ in node_modules) and the compilerOptions
// the package README gives (`strict`, `lib: ES2022, DOM, esnext.disposable`):
//   1. usage.ts, which uses every export, compiles as a bundler user
//      (moduleResolution "bundler") and as a Node.js user without a bundler
//      (nodenext), and the Node build runs;
//   2. mistakes.ts, where each line is a mistake marked @ts-expect-error,
//      compiles in both modes (so each mistake is refused);
//   3. no declaration of the public API mentions `any`.
// Exits non-zero on any failure.
//
//   node tests/types/run.mjs
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../support/helpers.mjs';

const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const HERE = path.join(ROOT, 'tests', 'types');
const README_LIB = ['ES2022', 'DOM', 'esnext.disposable'];
const failures = [];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ehrchain-types-'));
try {
  fs.cpSync(path.join(ROOT, 'pkg'), path.join(tmp, 'node_modules', 'ehrchain'), { recursive: true });
  fs.writeFileSync(path.join(tmp, 'package.json'), JSON.stringify({ name: 'user', private: true, type: 'module' }));
  for (const f of ['usage.ts', 'mistakes.ts']) fs.copyFileSync(path.join(HERE, f), path.join(tmp, f));

  // The README states the lib; check that it still says so.
  const readme = fs.readFileSync(path.join(ROOT, 'docs', 'PACKAGE.md'), 'utf8');
  if (!readme.includes(JSON.stringify(README_LIB).replaceAll(',', ', '))) failures.push(`docs/PACKAGE.md no longer gives "lib": ${JSON.stringify(README_LIB)}`);

  const modes = {
    bundler: { module: 'ESNext', moduleResolution: 'bundler', noEmit: true },
    nodenext: { module: 'NodeNext', moduleResolution: 'NodeNext', outDir: 'out' },
  };
  for (const [mode, extra] of Object.entries(modes)) {
    for (const file of ['usage.ts', 'mistakes.ts']) {
      const config = path.join(tmp, `tsconfig.${mode}.${file}.json`);
      const emit = mode === 'nodenext' && file === 'usage.ts';
      fs.writeFileSync(config, JSON.stringify({
        compilerOptions: { strict: true, target: 'ES2022', lib: README_LIB, types: [], skipLibCheck: false, ...extra, noEmit: !emit },
        files: [file],
      }));
      try {
        execFileSync(process.execPath, [TSC, '-p', config], { cwd: tmp, stdio: 'pipe' });
        console.log(`ok   tsc --strict (${mode}) ${file}`);
      } catch (e) {
        failures.push(`tsc --strict (${mode}) ${file}:\n${e.stdout}${e.stderr}`);
      }
    }
  }

  // The Node.js user's build runs.
  try {
    const out = execFileSync(process.execPath, [path.join(tmp, 'out', 'usage.js')], { cwd: tmp, stdio: 'pipe' }).toString();
    if (out.trim() !== 'usage ok') failures.push(`usage.js printed ${out}`);
    else console.log('ok   the compiled usage.js runs in Node.js');
  } catch (e) {
    failures.push(`usage.js failed:\n${e.stdout}${e.stderr}`);
  }

  // No `any` in the public declarations (the internal glue is not exported).
  for (const dir of ['bundler', 'node', 'web']) {
    const d = path.join(tmp, 'node_modules', 'ehrchain', dir);
    for (const f of fs.readdirSync(d).filter((f) => f.endsWith('.d.ts') && !f.startsWith('glue'))) {
      const text = fs.readFileSync(path.join(d, f), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      if (/\bany\b/.test(text)) failures.push(`${dir}/${f} declares \`any\``);
    }
  }
  console.log('ok   no `any` in the public declarations');
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.error(`\n${failures.length} type test(s) failed:\n\n${failures.join('\n\n')}`);
  process.exit(1);
}
console.log('all type tests passed');
