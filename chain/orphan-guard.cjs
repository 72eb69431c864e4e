// Preloaded (`node --require chain/orphan-guard.cjs …`) into the Hardhat node that
// chain/testchain.mjs spawns. The parent holds the write end of the child's
// stdin pipe; when the parent goes away by any means (stop(), normal exit, a
// crash, even SIGKILL) the pipe closes and this child exits with it, so no
// Hardhat node outlives the tests that started it.
'use strict';

if (process.env.EHRCHAIN_ORPHAN_GUARD === '1') {
  const die = () => process.exit(0);
  process.stdin.on('end', die);
  process.stdin.on('close', die);
  process.stdin.on('error', die);
  process.stdin.on('data', () => {}); // discard anything written
  process.stdin.resume();
}
