// The JavaScript memory of every isolate of one Chromium browser (its pages,
// their dedicated workers, its service workers), over the Chrome DevTools
// Protocol on the browser's --remote-debugging-port (the bench's browsers
// open one when PORTAL_BENCH_ISOLATES=1; playwright keeps its own pipe).
// Used by the bench (flows.mjs) to say which isolate of a renderer holds
// the memory, and whether it is garbage (PORTAL_BENCH_GC=1 collects it).
//
//   const watch = await isolateWatch(profileDir);   // a profile of run.mjs (actor.profileDir)
//   … await watch.sample() …                        // peaks per isolate so far
//   const peaks = await watch.stop();               // { 'page inbox': {heap, buffers}, 'worker ehrchain record worker': …, … }
import fs from 'node:fs';
import path from 'node:path';

/** A CDP connection to the browser of `profileDir` (its DevToolsActivePort file). */
async function connect(profileDir) {
  const { default: WebSocket } = await import('ws');
  const file = path.join(profileDir, 'DevToolsActivePort');
  for (let i = 0; !fs.existsSync(file) && i < 50; i++) await new Promise((r) => setTimeout(r, 100));
  const [port, wsPath] = fs.readFileSync(file, 'utf8').split('\n');
  const ws = new WebSocket(`ws://127.0.0.1:${port}${wsPath}`, { perMessageDeflate: false, maxPayload: 256 << 20 });
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  let next = 0;
  const waiting = new Map();
  const listeners = [];
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    if (m.id !== undefined) {
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.error) w?.reject(new Error(`${m.error.message} (${w.method})`));
      else w?.resolve(m.result);
    } else {
      for (const l of listeners) l(m);
    }
  });
  ws.on('close', () => { for (const w of waiting.values()) w.reject(new Error('CDP connection closed')); waiting.clear(); });
  return {
    send(method, params = {}, sessionId) {
      const id = ++next;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject, method });
        ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
      });
    },
    on(listener) { listeners.push(listener); },
    close() { ws.close(); },
  };
}

/**
 * Watches the isolates of the browser of `profileDir`: pages, their
 * dedicated workers (auto-attached under each page) and service workers.
 * `sample()` reads each one's `Runtime.getHeapUsage` (the V8 heap in use,
 * and the ArrayBuffers' backing stores); with `gc`, `collect()` runs a full
 * garbage collection in each (`HeapProfiler.collectGarbage`).
 */
export async function isolateWatch(profileDir) {
  const cdp = await connect(profileDir);
  const sessions = new Map(); // sessionId -> label
  const attached = new Set(); // targetIds
  const label = (info) => {
    if (info.type === 'page') return `page ${new URL(info.url || 'about:blank').hash || '/'}`;
    if (info.type === 'worker') return `worker ${info.title && !/^(blob|http)/.test(info.title) ? info.title : path.basename(new URL(info.url).pathname)}`;
    if (info.type === 'service_worker') return `service worker ${path.basename(new URL(info.url).pathname)}`;
    return `${info.type} ${info.url}`;
  };
  cdp.on((m) => {
    if (m.method === 'Target.attachedToTarget') {
      const { sessionId, targetInfo } = m.params;
      sessions.set(sessionId, label(targetInfo));
      // A page's dedicated workers come attached under its session.
      if (targetInfo.type === 'page') cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: true }, sessionId).catch(() => {});
    } else if (m.method === 'Target.detachedFromTarget') {
      sessions.delete(m.params.sessionId);
    }
  });
  const discover = async () => {
    const { targetInfos } = await cdp.send('Target.getTargets');
    for (const t of targetInfos) {
      if (attached.has(t.targetId) || !['page', 'service_worker'].includes(t.type)) continue;
      attached.add(t.targetId);
      await cdp.send('Target.attachToTarget', { targetId: t.targetId, flatten: true }).catch(() => attached.delete(t.targetId));
    }
  };
  await discover();
  const peaks = {};
  let stopped = false;
  const each = (method) => Promise.all([...sessions].map(async ([sessionId, name]) => [name, await cdp.send(method, {}, sessionId).catch(() => undefined)]));
  return {
    /** Reads every isolate's heap now; keeps the peaks. Resolves { label: { heap, buffers } } (bytes). */
    async sample() {
      if (stopped) return {};
      await discover().catch(() => {});
      const now = {};
      for (const [name, u] of await each('Runtime.getHeapUsage')) {
        if (!u) continue;
        const value = { heap: u.usedSize, buffers: u.backingStorageSize ?? 0 };
        now[name] = value;
        const p = (peaks[name] ??= { heap: 0, buffers: 0 });
        p.heap = Math.max(p.heap, value.heap);
        p.buffers = Math.max(p.buffers, value.buffers);
      }
      return now;
    },
    /** A full garbage collection in every isolate. */
    async collect() {
      if (!stopped) await each('HeapProfiler.collectGarbage');
    },
    /** Stops; resolves the peaks per isolate. */
    async stop() {
      stopped = true;
      cdp.close();
      return peaks;
    },
  };
}
