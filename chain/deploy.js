#!/usr/bin/env node
// Compiles (chain/compile.js) and deploys EhrRegistry to a JSON-RPC node.
//
//   node chain/deploy.js --rpc http://127.0.0.1:8545 [--authority 0xADDRESS] [--out FILE]
//
// The deployer is the node's first unlocked account (eth_accounts[0], e.g. the
// Hardhat node's account #0), or the account of the private key in the
// environment variable DEPLOYER_KEY (0x-prefixed hex) when it is set. The
// authority defaults to the deployer.
//
// Prints one JSON line on stdout and writes the same object to
// .tmp/chain/deployment.json (or --out):
//   {"registry":"0x…","authority":"0x…","chainId":31337,"block":1}
// `block` is the number of the block holding the deployment, the first block
// worth scanning for the registry's events. Diagnostics go to stderr.
//
//   const { deploy } = require('./chain/deploy.js');
//   const d = await deploy({ rpcUrl, authority });  // -> { registry, authority, chainId, block, ... }
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { ethers } = require('ethers');
const { compile } = require('./compile.js');

const ROOT = path.resolve(__dirname, '..');
const DEPLOYMENT_FILE = path.join(ROOT, '.tmp', 'chain', 'deployment.json');

/**
 * Sends one JSON-RPC request with fetch (no ethers provider), with a clear error
 * when the node does not answer.
 * @param {string} rpcUrl
 * @param {string} method
 * @param {unknown[]} [params]
 * @returns {Promise<any>} the `result`
 */
async function rpc(rpcUrl, method, params = []) {
  let res;
  try {
    res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (e) {
    throw new Error(`no JSON-RPC node at ${rpcUrl}: ${e.cause?.message || e.message}`);
  }
  const body = await res.json();
  if (body.error) throw new Error(`${method} failed: ${body.error.message}`);
  return body.result;
}

/**
 * Compiles and deploys EhrRegistry.
 * @param {object} opts
 * @param {string} opts.rpcUrl JSON-RPC endpoint
 * @param {string} [opts.authority] the health authority's address (default: the deployer)
 * @param {string} [opts.deployerKey] private key of the deployer (default: env DEPLOYER_KEY,
 *   else the node's first unlocked account)
 * @param {string|false} [opts.out] where to write the deployment JSON (false: do not write)
 * @param {object} [opts.artifact] a precompiled artifact {abi, bytecode} (default: compile now)
 * @returns {Promise<{registry:string, authority:string, chainId:number, block:number,
 *   deployer:string, txHash:string, gasUsed:bigint, abi:object[], provider:ethers.JsonRpcProvider}>}
 *   The first four fields are what the CLI prints; `provider` is left open for the
 *   caller's use (call provider.destroy() when done).
 */
async function deploy({ rpcUrl, authority, deployerKey = process.env.DEPLOYER_KEY, out = DEPLOYMENT_FILE, artifact } = {}) {
  if (!rpcUrl) throw new Error('deploy: rpcUrl is required');
  const chainId = Number(BigInt(await rpc(rpcUrl, 'eth_chainId')));
  const art = artifact || compile().EhrRegistry;

  // A static network: ethers neither re-detects the chain nor retries forever
  // when the node goes away. No response cache (cacheTimeout -1): with automine a
  // cached block number is stale after every transaction.
  const provider = new ethers.JsonRpcProvider(rpcUrl, chainId, {
    staticNetwork: ethers.Network.from(chainId),
    pollingInterval: 100,
    cacheTimeout: -1,
  });
  try {
    let signer;
    if (deployerKey) {
      signer = new ethers.Wallet(deployerKey, provider);
    } else {
      const accounts = await provider.send('eth_accounts', []);
      if (accounts.length === 0) {
        throw new Error(`the node at ${rpcUrl} has no unlocked account; set DEPLOYER_KEY`);
      }
      signer = await provider.getSigner(accounts[0]);
    }
    const deployer = await signer.getAddress();
    const auth = ethers.getAddress(authority || deployer); // checks the address, EIP-55 form

    const factory = new ethers.ContractFactory(art.abi, art.bytecode, signer);
    const contract = await factory.deploy(auth);
    const tx = contract.deploymentTransaction();
    const receipt = await tx.wait();
    if (!receipt || receipt.status !== 1) throw new Error(`deployment transaction ${tx.hash} failed`);

    const result = {
      registry: ethers.getAddress(receipt.contractAddress),
      authority: auth,
      chainId,
      block: receipt.blockNumber,
    };
    if (out) {
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, JSON.stringify(result) + '\n');
    }
    return { ...result, deployer, txHash: tx.hash, gasUsed: receipt.gasUsed, abi: art.abi, provider };
  } catch (e) {
    provider.destroy();
    throw e;
  }
}

/** Parses `--name value` / `--name=value` arguments. */
function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      args.help = true;
      continue;
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unexpected argument: ${a}`);
    const value = m[2] !== undefined ? m[2] : argv[++i];
    if (value === undefined) throw new Error(`--${m[1]} needs a value`);
    args[m[1]] = value;
  }
  return args;
}

const USAGE = 'usage: node chain/deploy.js --rpc URL [--authority ADDRESS] [--out FILE]\n' +
  '       (env DEPLOYER_KEY=0x… to deploy from a key instead of the node\'s first account)';

module.exports = { deploy, DEPLOYMENT_FILE };

if (require.main === module) {
  (async () => {
    const args = parseArgs(process.argv.slice(2));
    if (args.help) {
      console.log(USAGE);
      return;
    }
    for (const k of Object.keys(args)) {
      if (!['rpc', 'authority', 'out'].includes(k)) throw new Error(`unknown option --${k}\n${USAGE}`);
    }
    if (!args.rpc) throw new Error(`--rpc is required\n${USAGE}`);
    const out = args.out ? path.resolve(args.out) : DEPLOYMENT_FILE;
    const d = await deploy({ rpcUrl: args.rpc, authority: args.authority, out });
    d.provider.destroy();
    process.stdout.write(JSON.stringify({ registry: d.registry, authority: d.authority, chainId: d.chainId, block: d.block }) + '\n');
    process.stderr.write(`[deploy] EhrRegistry at ${d.registry} (tx ${d.txHash}, gas ${d.gasUsed}); written to ${path.relative(process.cwd(), out)}\n`);
  })().catch((e) => {
    process.stderr.write(`[deploy] ${e.message}\n`);
    process.exit(1);
  });
}
