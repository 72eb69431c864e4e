// Killing the long-running children that chain/testchain.mjs and
// scripts/devenv.mjs start, each in its own process group (`detached: true`):
//
//   import { killGroup, exitHooks } from './processes.mjs';
//   killGroup(child, 'SIGTERM');                 // the child's whole group
//   const installHooks = exitHooks(() => live);  // children to SIGKILL on exit
//   installHooks();                              // installs once, however often called
//
// Each caller keeps its own set of live children and its own hooks.

/** Sends `signal` to the process group of `child` (else to `child` alone), unless it has exited. */
export function killGroup(child, signal) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal); // the child's whole process group (detached: its own)
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Makes an installer of hooks that SIGKILL the process groups of the children
 * `children()` yields: on this process's 'exit', and on SIGINT/SIGTERM/SIGHUP.
 * A signal's hook runs once (it removes itself), then raises the signal again
 * so that this process dies of it as it would have. The installer installs the
 * hooks on its first call only.
 * @param {() => Iterable<import('node:child_process').ChildProcess>} children the live children (read at each hook)
 * @param {object} [opts]
 * @param {() => Promise<unknown>} [opts.beforeSignalKill] on a signal, awaited before the kill (it must not reject)
 * @param {() => void} [opts.afterSignalKill] on a signal, called right after the kill
 * @param {boolean} [opts.raiseOnlyIfUnhandled=false] on a signal, raise it again only when no other listener of it is left
 * @returns {() => void}
 */
export function exitHooks(children, { beforeSignalKill, afterSignalKill, raiseOnlyIfUnhandled = false } = {}) {
  let installed = false;
  return () => {
    if (installed) return;
    installed = true;
    process.on('exit', () => {
      for (const c of children()) killGroup(c, 'SIGKILL');
    });
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      // Without beforeSignalKill nothing is awaited: the hook runs to its end at once.
      const onSignal = async () => {
        process.removeListener(sig, onSignal);
        if (beforeSignalKill) await beforeSignalKill();
        for (const c of children()) killGroup(c, 'SIGKILL');
        afterSignalKill?.();
        if (!raiseOnlyIfUnhandled || process.listenerCount(sig) === 0) process.kill(process.pid, sig);
      };
      process.on(sig, onSignal);
    }
  };
}
