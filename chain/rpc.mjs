// A small Ethereum JSON-RPC client and the local-chain facts that tests and
// benchmarks both need (not a test helper: benchmarks import it too).
//
//   import { jsonRpc, CHAIN_ID, HARDHAT_KEYS } from '../chain/rpc.mjs';
//   const rpc = jsonRpc('http://127.0.0.1:8545');
//   await rpc('eth_chainId');                       // the `result`
//   await rpc.batch([['eth_blockNumber'], ['eth_getBalance', [addr, 'latest']]]);
//   await receiptOf(rpc, txHash);
//
// node:http without keep-alive: fetch's pooled sockets go stale while the node
// idles (its keep-alive timeout is 5 s; preparing thousands of transactions
// takes longer) and the next request then fails with "fetch failed".
import http from 'node:http';
import { ethers } from 'ethers';

/** The chain id of the Hardhat node (hardhat.config.js). */
export const CHAIN_ID = 31337;

/** The mnemonic of the Hardhat node's 20 unlocked, funded test accounts. */
export const HARDHAT_MNEMONIC = 'test test test test test test test test test test test junk';

/**
 * The Hardhat node's well-known test keys (0x hex), accounts 0..19 of
 * HARDHAT_MNEMONIC (BIP-44 m/44'/60'/0'/0/i); local use only. Derived rather
 * than written out; tests check them against the node's eth_accounts.
 */
export const HARDHAT_KEYS = (() => {
  const parent = ethers.HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, "m/44'/60'/0'/0");
  return Array.from({ length: 20 }, (_, i) => parent.deriveChild(i).privateKey);
})();

/** A JSON-RPC quantity: 0x-prefixed hex without leading zeros. */
export const qty = (n) => '0x' + BigInt(n).toString(16);

const agent = new http.Agent({ keepAlive: false });

/** POSTs one JSON-RPC body (a request or a batch); resolves the parsed answer. */
function post(rpcUrl, body, timeoutMs) {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(rpcUrl, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': payload.length },
      timeout: timeoutMs,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (e) {
          reject(new Error(`bad JSON-RPC answer from ${rpcUrl} (HTTP ${res.statusCode}): ${e.message}`));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no JSON-RPC answer from ${rpcUrl} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The Error for a JSON-RPC error object: `.code` and `.data` are the node's. */
function rpcError(method, error) {
  const e = new Error(`${method}: ${error.message}`);
  e.name = 'JsonRpcError';
  e.code = error.code;
  e.data = error.data;
  return e;
}

/**
 * A JSON-RPC client for `rpcUrl`: `rpc(method, params)` resolves the result or
 * rejects with a JsonRpcError (`code`, `data` from the node);
 * `rpc.batch([[method, params], …])` sends one batch and resolves the results
 * in order (rejecting on the first error); `rpc.raw(body)` posts any body.
 */
export function jsonRpc(rpcUrl, { timeoutMs = 60_000 } = {}) {
  let id = 0;
  const rpc = async (method, params = []) => {
    const j = await post(rpcUrl, { jsonrpc: '2.0', id: ++id, method, params }, timeoutMs);
    if (j.error) throw rpcError(method, j.error);
    return j.result;
  };
  rpc.batch = async (calls) => {
    const body = calls.map(([method, params = []]) => ({ jsonrpc: '2.0', id: ++id, method, params }));
    const answers = await post(rpcUrl, body, timeoutMs);
    const byId = new Map(answers.map((a) => [a.id, a]));
    return body.map((req) => {
      const a = byId.get(req.id);
      if (!a) throw new Error(`${req.method}: no answer in the batch`);
      if (a.error) throw rpcError(req.method, a.error);
      return a.result;
    });
  };
  rpc.raw = (body) => post(rpcUrl, body, timeoutMs);
  rpc.url = rpcUrl;
  return rpc;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls the raw JSON-RPC receipt of `hash` (an automining node has it at once, or nearly). */
export async function receiptOf(rpc, hash, { tries = 200, intervalMs = 25 } = {}) {
  for (let i = 0; i < tries; i++) {
    const r = await rpc('eth_getTransactionReceipt', [hash]);
    if (r) return r;
    await sleep(intervalMs);
  }
  throw new Error(`no receipt for ${hash}`);
}

/**
 * EIP-1559 fees that the next blocks accept, as decimal wei strings: twice the
 * latest base fee plus the node's priority fee (automining near-empty blocks,
 * the base fee only falls from here).
 */
export async function fees(rpc) {
  const block = await rpc('eth_getBlockByNumber', ['latest', false]);
  const prio = BigInt(await rpc('eth_maxPriorityFeePerGas'));
  const base = BigInt(block.baseFeePerGas);
  return { maxFeePerGas: (2n * base + prio).toString(), maxPriorityFeePerGas: prio.toString() };
}

/** The pending nonce of `address`, as a number. */
export async function nonceOf(rpc, address) {
  return Number(BigInt(await rpc('eth_getTransactionCount', [address, 'pending'])));
}

/** The timestamp of block `blockNumber` (a number or a quantity), in seconds. */
export async function blockTimestamp(rpc, blockNumber) {
  const b = await rpc('eth_getBlockByNumber', [typeof blockNumber === 'string' ? blockNumber : qty(blockNumber), false]);
  return Number(BigInt(b.timestamp));
}

/**
 * eth_getLogs for `filter` from block `from` to the latest, `page` blocks per
 * request. Resolves { logs, requests }.
 */
export async function getLogsPaged(rpc, filter, from, page) {
  const latest = Number(BigInt(await rpc('eth_blockNumber')));
  const logs = [];
  let requests = 0;
  for (let b = from; b <= latest; b += page) {
    const to = Math.min(b + page - 1, latest);
    logs.push(...(await rpc('eth_getLogs', [{ ...filter, fromBlock: qty(b), toBlock: qty(to) }])));
    requests++;
  }
  return { logs, requests, latest };
}
