// Hardhat 2 configuration: used only for the local development chain
// (`npx hardhat node`). Works fully offline:
//   - `hardhat node` compiles nothing; contracts are compiled by chain/compile.js
//     (solc-js from node_modules) and deployed by chain/deploy.js;
//   - should anyone run `npx hardhat compile` anyway, the compiler is the same
//     solc-js from node_modules (see the GET_SOLC_BUILD override below), never a
//     download from binaries.soliditylang.org;
//   - the telemetry prompt is disabled, and nothing else reaches the network
//     while the node runs.
//
//   npx hardhat node                      # http://127.0.0.1:8545, chainId 31337
//   npx hardhat node --port 8600 --hostname 127.0.0.1
'use strict';

const path = require('node:path');
const { subtask } = require('hardhat/config');
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require('hardhat/builtin-tasks/task-names');
const { SETTINGS } = require('./chain/compile.js');

// The config is loaded before Hardhat decides whether to ask for telemetry
// consent, so this keeps an interactive `npx hardhat node` from prompting.
if (process.env.HARDHAT_DISABLE_TELEMETRY_PROMPT === undefined) {
  process.env.HARDHAT_DISABLE_TELEMETRY_PROMPT = 'true';
}

/** The solc-js version installed in node_modules (package.json pins 0.8.28). */
const SOLC_VERSION = require('solc/package.json').version;

// Use the local solc-js for `npx hardhat compile` instead of downloading solc.
subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async ({ solcVersion }, _hre, runSuper) => {
  if (solcVersion !== SOLC_VERSION) return runSuper();
  const solc = require('solc');
  return {
    compilerPath: require.resolve('solc/soljson.js'),
    isSolcJs: true,
    version: solcVersion,
    longVersion: solc.version(),
  };
});

/** @type {import('hardhat/config').HardhatUserConfig} */
module.exports = {
  solidity: {
    version: SOLC_VERSION,
    settings: { optimizer: SETTINGS.optimizer, evmVersion: SETTINGS.evmVersion },
  },
  // Keep Hardhat's own output out of the repository root (all under .tmp/, ignored).
  paths: {
    sources: path.join(__dirname, 'contracts'),
    tests: path.join(__dirname, 'tests', 'contract'),
    cache: path.join(__dirname, '.tmp', 'hardhat', 'cache'),
    artifacts: path.join(__dirname, '.tmp', 'hardhat', 'artifacts'),
  },
  defaultNetwork: 'hardhat',
  networks: {
    hardhat: {
      chainId: 31337,
      // Every transaction is mined at once in its own block.
      mining: { auto: true, interval: 0 },
      // Like a production node, a transaction that reverts is mined and
      // eth_sendTransaction returns its hash (the receipt has status 0); Hardhat's
      // default would instead answer eth_sendTransaction with an error.
      // eth_call / eth_estimateGas still fail with the revert data.
      throwOnTransactionFailures: false,
      throwOnCallFailures: true,
      // The default 20 accounts of the well-known test mnemonic
      // ("test test ... junk"), 10000 ETH each, unlocked on the node.
      // Their keys are public: never use them outside a local chain.
      allowUnlimitedContractSize: false,
    },
  },
};
