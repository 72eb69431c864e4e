// A small static file server for the built portal (www/dist): node:http, no
// dependencies. Used by scripts/devenv.mjs (and so by scripts/dev.sh and the
// portal's end-to-end tests); also runnable on its own:
//
//   node www/serve.mjs [--root www/dist] [--port 8080] [--host 127.0.0.1] \
//       [--config config.json] [--connect-src http://127.0.0.1:8545 ...]
//
//   import { serve } from './www/serve.mjs';
//   const s = await serve({ root: 'www/dist', port: 8080, config: {…}, connectSrc: [rpcUrl, …] });
//   s.url; await s.close();
//
// What it does and does not:
// - GET and HEAD only (405 otherwise); `/` and `…/` serve the directory's
//   index.html; a directory without a trailing slash, a missing file, a
//   dotfile or any path that would leave `root` (`..`, encoded or not, a
//   backslash, a NUL, a symlink pointing outside) is a 404;
// - `/config.json` is answered from memory when `config` is given (the
//   deployment the portal reads at run time; never a file in the bundle);
// - every answer carries `Cache-Control: no-cache` (revalidate with the
//   ETag: a rebuilt bundle is picked up at the next load),
//   `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`,
//   `Cross-Origin-Opener-Policy: same-origin` and the Content-Security-Policy
//   below; `/sw.js` also `Service-Worker-Allowed: /`.
//
// The CSP: scripts only from the portal's origin plus WebAssembly compilation
// ('wasm-unsafe-eval'; no 'unsafe-eval', no inline script), workers from the
// origin or blob:, fetch/XHR/WebSocket only to the origin plus `connectSrc`
// (the chain's JSON-RPC URL and the record servers' origins), images from the
// origin, data: (EIP-6963 wallet icons are data: URIs) and blob:, styles from
// the origin only (a `style` attribute written by setAttribute or in HTML is
// refused; CSSOM writes such as `el.style.width = …` are allowed), no plugins,
// no <base>, not framable, forms post only to the origin.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Content types by extension (anything else: application/octet-stream). */
export const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/**
 * The portal's Content-Security-Policy.
 * @param {string[]} connectSrc extra connect-src sources (URLs or origins; reduced to origins)
 */
export function contentSecurityPolicy(connectSrc = []) {
  const extra = [...new Set(connectSrc.map((u) => new URL(u).origin))];
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self' blob:",
    `connect-src ${["'self'", ...extra].join(' ')}`,
    "img-src 'self' data: blob:",
    "style-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');
}

/**
 * The file under `rootReal` that the request path names, or null (→ 404).
 * Decodes each segment once and refuses anything that is not a plain name.
 */
function resolvePath(rootReal, rawPath) {
  let segments;
  try {
    segments = rawPath.split('/').slice(1).map((s) => decodeURIComponent(s));
  } catch {
    return null; // malformed percent-encoding
  }
  const wantsIndex = segments.length === 0 || segments[segments.length - 1] === '';
  if (wantsIndex) segments[segments.length - 1] = 'index.html';
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    // No empty segment (`//`), no `.`/`..`, no dotfile, no separator or NUL inside a segment.
    if (s === '' || s.startsWith('.') || /[/\\\0]/.test(s)) return null;
  }
  const file = path.join(rootReal, ...segments);
  if (!file.startsWith(rootReal + path.sep)) return null;
  let real;
  try {
    real = fs.realpathSync(file); // a symlink must stay inside root too
  } catch {
    return null;
  }
  if (!real.startsWith(rootReal + path.sep)) return null;
  return real;
}

/**
 * Serves `root` over HTTP.
 * @param {object} opts
 * @param {string} opts.root directory to serve
 * @param {number} [opts.port=0] port (0: a free one)
 * @param {string} [opts.host='127.0.0.1'] address to listen on
 * @param {object} [opts.config] answered as /config.json when given
 * @param {string[]} [opts.connectSrc=[]] origins (or URLs) the page may connect to besides its own
 * @returns {Promise<{url: string, port: number, server: http.Server, close: () => Promise<void>}>}
 */
export async function serve({ root, port = 0, host = '127.0.0.1', config, connectSrc = [] }) {
  if (!root) throw new Error('serve: root is required');
  const rootReal = fs.realpathSync(path.resolve(root));
  if (!fs.statSync(rootReal).isDirectory()) throw new Error(`serve: ${root} is not a directory`);
  const csp = contentSecurityPolicy(connectSrc);
  const configBody = config === undefined ? null : Buffer.from(JSON.stringify(config, null, 2) + '\n');

  const server = http.createServer((req, res) => {
    const headers = {
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'content-security-policy': csp,
    };
    const send = (status, type, body, extra = {}) => {
      res.writeHead(status, { ...headers, 'content-type': type, 'content-length': body.length, ...extra });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const notFound = () => send(404, 'text/plain; charset=utf-8', Buffer.from('not found\n'));

    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(405, 'text/plain; charset=utf-8', Buffer.from('method not allowed\n'), { allow: 'GET, HEAD' });
      return;
    }
    const target = req.url || '';
    if (!target.startsWith('/')) {
      send(400, 'text/plain; charset=utf-8', Buffer.from('bad request\n'));
      return;
    }
    const rawPath = target.split(/[?#]/, 1)[0];
    if (rawPath === '/config.json' && configBody) {
      send(200, MIME_TYPES['.json'], configBody);
      return;
    }
    const file = resolvePath(rootReal, rawPath);
    if (!file) return notFound();
    let stat;
    try {
      stat = fs.statSync(file);
    } catch {
      return notFound();
    }
    if (!stat.isFile()) return notFound();

    const etag = `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
    const extra = { etag, 'last-modified': stat.mtime.toUTCString() };
    if (path.basename(file) === 'sw.js') extra['service-worker-allowed'] = '/';
    const type = MIME_TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream';
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { ...headers, ...extra });
      res.end();
      return;
    }
    res.writeHead(200, { ...headers, ...extra, 'content-type': type, 'content-length': stat.size });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const stream = fs.createReadStream(file);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  });
  // Do not let idle keep-alive sockets (a browser's) hold close() up.
  server.keepAliveTimeout = 2000;

  await new Promise((resolve, reject) => {
    server.once('error', (e) => {
      reject(e.code === 'EADDRINUSE' ? new Error(`port ${port} on ${host} is already in use`) : e);
    });
    server.listen(port, host, resolve);
  });
  const actualPort = server.address().port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${actualPort}`,
    port: actualPort,
    server,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}

// CLI: node www/serve.mjs [--root DIR] [--port N] [--host H] [--config FILE] [--connect-src URL …]
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const opts = { root: path.join(here, 'dist'), port: 8080, host: '127.0.0.1', connectSrc: [] };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (argv[i + 1] === undefined) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--root') opts.root = value();
    else if (a === '--port') opts.port = Number(value());
    else if (a === '--host') opts.host = value();
    else if (a === '--config') opts.config = JSON.parse(fs.readFileSync(value(), 'utf8'));
    else if (a === '--connect-src') opts.connectSrc.push(value());
    else {
      console.error('usage: node www/serve.mjs [--root DIR] [--port N] [--host H] [--config FILE] [--connect-src URL …]');
      process.exit(2);
    }
  }
  const s = await serve(opts);
  console.log(`serving ${path.relative(process.cwd(), opts.root) || '.'} at ${s.url}`);
}
