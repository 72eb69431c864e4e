// A registry on a throw-away Hardhat node with authorisations posted to it,
// for the inbox scan tests (tests/js/inbox.test.mjs in Node, and the
// browsers through tests/browser/run.mjs): one doctor's key, some grants to
// him, more to strangers, each posted in its own transaction.
//
//   const world = await inboxWorld(ehr);
//   await world.post({ mine: 2, others: 20 });   // → the doctor's tx hashes
//   world.close();
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import { startChain } from '../../chain/testchain.mjs';
import { CHAIN_ID, HARDHAT_KEYS, fees, nonceOf, receiptOf } from '../../chain/rpc.mjs';

const require = createRequire(import.meta.url);
const { deploy } = require('../../chain/deploy.js');

export async function inboxWorld(ehr) {
  const chain = await startChain();
  const { rpc } = chain;
  let d;
  try {
    d = await deploy({ rpcUrl: chain.rpcUrl, out: false });
    d.provider.destroy();
  } catch (e) {
    await chain.stop?.();
    throw e;
  }
  const doctor = ehr.Key.generate();
  const patient = ehr.Key.generate();
  const sender = ehr.Key.fromBytes(HARDHAT_KEYS[5]);
  let nonce = await nonceOf(rpc, sender.address);
  let n = 0;
  const grant = (to) => {
    const mk = ehr.MaskKey.generate();
    n += 1;
    const record = { hospital: `Hospital ${n % 7}`, time: 1_700_000_000 + n, eh: crypto.randomBytes(32), anchorSalt: ehr.generateAnchorSalt(), recordType: 'inbox' };
    try {
      return mk.authorise(to, record, patient);
    } finally {
      mk.free();
    }
  };
  return {
    rpcUrl: chain.rpcUrl,
    rpc,
    registry: d.registry,
    deployBlock: d.block,
    doctor,
    /** Posts `others` grants to strangers and `mine` to the doctor, mixed; resolves the doctor's tx hashes in order. */
    async post({ mine = 0, others = 0 }) {
      const fee = await fees(rpc);
      const order = [...Array(mine).fill(true), ...Array(others).fill(false)].sort(() => Math.random() - 0.5);
      const hashes = [];
      const all = [];
      for (const isMine of order) {
        const parts = grant(isMine ? doctor.publicKey() : (() => { const k = ehr.Key.generate(); const p = k.publicKey(); k.free(); return p; })());
        const req = ehr.authoriseTx(d.registry, parts);
        const signed = ehr.signTransaction(sender, { chainId: CHAIN_ID, nonce: nonce++, gas: 150_000, ...fee, to: req.to, data: req.data });
        await rpc('eth_sendRawTransaction', [signed.raw]);
        all.push(signed.hash);
        if (isMine) hashes.push(signed.hash);
      }
      for (const h of all) {
        const rc = await receiptOf(rpc, h);
        if (rc.status !== '0x1') throw new Error(`authorisation ${h} reverted`);
      }
      return hashes;
    },
    async latest() {
      return Number(BigInt(await rpc('eth_blockNumber')));
    },
    async close() {
      doctor.free();
      patient.free();
      sender.free();
      await chain.stop();
    },
  };
}

export { fetchProvider } from './isomorphic.mjs';
