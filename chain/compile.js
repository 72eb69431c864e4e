#!/usr/bin/env node
// Compiles contracts/*.sol with solc-js (the npm `solc` package, no download)
// and writes one artifact per contract to .tmp/contracts/<Name>.json:
//   { contractName, abi, bytecode, deployedBytecode, compiler, settings }
//
//   node chain/compile.js            # compile, print the artifact paths
//   node chain/compile.js --strict   # same, but any compiler warning is an error
//   const { compile } = require('./chain/compile.js'); compile() -> { EhrRegistry: {...} }
//
// The compiler is the `solc` npm package pinned in package.json (solc-js, a
// WebAssembly build): nothing is downloaded, so this works offline.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const CONTRACTS_DIR = path.join(ROOT, 'contracts');
const OUT_DIR = path.join(ROOT, '.tmp', 'contracts');

/** Compiler settings: optimizer on, Cancun EVM (Hardhat 2.29 runs Osaka, which includes it). */
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'cancun',
  outputSelection: {
    '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object', 'devdoc', 'userdoc'] },
  },
};

/**
 * Compiles every contracts/*.sol file.
 * @param {object} [opts]
 * @param {boolean} [opts.write=true] write artifacts under .tmp/contracts/
 * @param {string} [opts.outDir] where to write them
 * @param {boolean} [opts.strict=false] treat compiler warnings as errors
 * @returns {Record<string, {contractName:string, abi:object[], bytecode:string, deployedBytecode:string}>}
 */
function compile({ write = true, outDir = OUT_DIR, strict = false } = {}) {
  const solc = require('solc');
  const sources = {};
  for (const f of fs.readdirSync(CONTRACTS_DIR).filter((n) => n.endsWith('.sol')).sort()) {
    sources[`contracts/${f}`] = { content: fs.readFileSync(path.join(CONTRACTS_DIR, f), 'utf8') };
  }
  if (Object.keys(sources).length === 0) throw new Error(`no .sol files in ${CONTRACTS_DIR}`);

  const input = { language: 'Solidity', sources, settings: SETTINGS };
  const output = JSON.parse(
    solc.compile(JSON.stringify(input), {
      import: (p) => {
        const full = path.resolve(ROOT, p);
        if (!full.startsWith(ROOT + path.sep) || !fs.existsSync(full)) return { error: `not found: ${p}` };
        return { contents: fs.readFileSync(full, 'utf8') };
      },
    }),
  );

  const diagnostics = output.errors || [];
  const errors = diagnostics.filter((e) => e.severity === 'error' || (strict && e.severity === 'warning'));
  for (const w of diagnostics.filter((e) => !errors.includes(e))) {
    process.stderr.write(`[compile] ${w.formattedMessage || w.message}\n`);
  }
  if (errors.length > 0) {
    throw new Error(`solc failed:\n${errors.map((e) => e.formattedMessage || e.message).join('\n')}`);
  }

  const artifacts = {};
  for (const [file, contracts] of Object.entries(output.contracts || {})) {
    for (const [name, c] of Object.entries(contracts)) {
      if (!c.evm.bytecode.object) continue; // interfaces, abstract contracts
      artifacts[name] = {
        contractName: name,
        sourceName: file,
        abi: c.abi,
        bytecode: '0x' + c.evm.bytecode.object,
        deployedBytecode: '0x' + c.evm.deployedBytecode.object,
        devdoc: c.devdoc,
        userdoc: c.userdoc,
        compiler: { name: 'solc-js', version: solc.version() },
        settings: { optimizer: SETTINGS.optimizer, evmVersion: SETTINGS.evmVersion },
      };
    }
  }

  if (write) {
    fs.mkdirSync(outDir, { recursive: true });
    for (const [name, a] of Object.entries(artifacts)) {
      fs.writeFileSync(path.join(outDir, `${name}.json`), JSON.stringify(a, null, 2) + '\n');
    }
  }
  return artifacts;
}

module.exports = { compile, SETTINGS, OUT_DIR };

if (require.main === module) {
  try {
    const artifacts = compile({ strict: process.argv.includes('--strict') });
    for (const [name, a] of Object.entries(artifacts)) {
      const size = (a.deployedBytecode.length - 2) / 2;
      console.log(`${name}: ${path.relative(process.cwd(), path.join(OUT_DIR, name + '.json'))} (runtime ${size} bytes, ${a.compiler.version})`);
    }
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
