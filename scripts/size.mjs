#!/usr/bin/env node
// Package size report (not a test): for each build target in pkg/ (bundler,
// node, web), the wasm (glue_bg.wasm) and the JS (the wasm-bindgen glue and
// every compiled TypeScript module, all *.js of that target), raw and
// gzipped (zlib, level 9, each file on its own and the sizes added: what a
// server sends for separately fetched files), and the `web` target's
// "wasm + JS, gzipped" against the budget of issue "browser speed" item 6.
// KB = 1000 bytes. Exits non-zero only if pkg/ is missing: over budget is
// reported, not failed. Printed at the end of scripts/build-pkg.sh.
//
//   node scripts/size.mjs [--pkg DIR] [--speed [--vs DIR]... [--rounds 16]]
//
// --speed also times the pure-wasm work in Node (the node build): SHA-256,
// record encryption + hash and decryption + verification by push/finish
// (the software AES-GCM engine) and stealth-tag tests (Scanner.matches:
// ECDH + h1 + a base-point multiplication). With --vs, other builds (a pkg/
// directory each) are timed alongside, interleaved in one process: how the
// release profile was chosen (README, "Package size").
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const pkg = path.resolve(arg("pkg", path.join(root, "pkg")));
const BUDGET = 250_000; // bytes: wasm + JS of the web target, gzipped
const TARGETS = ["bundler", "node", "web"];

if (!TARGETS.some((t) => fs.existsSync(path.join(pkg, t, "glue_bg.wasm")))) {
  console.error(`${pkg}: no package built (run bash scripts/build-pkg.sh)`);
  process.exit(1);
}

const gz = (buf) => zlib.gzipSync(buf, { level: 9 }).length;
const sizes = (files) => {
  let raw = 0, gzip = 0;
  for (const f of files) {
    const buf = fs.readFileSync(f);
    raw += buf.length;
    gzip += gz(buf);
  }
  return { raw, gzip, n: files.length };
};
const kb = (n) => (n / 1000).toFixed(1);

const rows = [];
for (const t of TARGETS) {
  const dir = path.join(pkg, t);
  if (!fs.existsSync(dir)) continue;
  const wasm = sizes([path.join(dir, "glue_bg.wasm")]);
  const js = sizes(fs.readdirSync(dir, { recursive: true }).filter((f) => f.endsWith(".js")).sort()
    .map((f) => path.join(dir, f)));
  rows.push({ t, wasm, js, total: { raw: wasm.raw + js.raw, gzip: wasm.gzip + js.gzip } });
}

const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(9) : c.padStart(10))).join(" ");
const shown = path.relative(process.cwd(), pkg);
console.log(`package sizes (${shown && !shown.startsWith("..") ? shown : pkg}), KB = 1000 bytes, gz = gzip -9 per file`);
console.log(line(["target", "wasm", "wasm gz", "JS", "JS gz", "JS files", "total", "total gz"]));
for (const { t, wasm, js, total } of rows) {
  console.log(line([t, kb(wasm.raw), kb(wasm.gzip), kb(js.raw), kb(js.gzip), String(js.n), kb(total.raw), kb(total.gzip)]));
}
const web = rows.find((r) => r.t === "web");
if (web) {
  const ratio = web.total.gzip / BUDGET;
  console.log(`web: wasm + JS, gzipped: ${kb(web.total.gzip)} KB of the ${kb(BUDGET)} KB budget ` +
    `(${(ratio * 100).toFixed(0)} %, ${ratio <= 1 ? "within" : "OVER"} budget)`);
}

if (argv.includes("--speed")) {
  // Each build (pkg/ and every --vs DIR) is loaded into this one process and
  // the builds take turns, round by round, so that a busy machine slows them
  // alike; time is this process's CPU time (the wasm runs on its one thread).
  const require = createRequire(import.meta.url);
  const dirs = [pkg, ...argv.flatMap((a, i) => (a === "--vs" ? [path.resolve(argv[i + 1])] : []))];
  const rounds = Number(arg("rounds", 16));
  const MIB = 1 << 20;
  const piece = new Uint8Array(MIB).map((_, i) => i % 251);
  const cpu = (f) => {
    const t = process.cpuUsage();
    f();
    const d = process.cpuUsage(t);
    return (d.user + d.system) / 1e6;
  };
  const builds = dirs.map((dir) => {
    const e = require(path.join(dir, "node", "ehrchain.js"));
    const key = e.generateRecordKey(), ad = new TextEncoder().encode("size.mjs");
    const doctor = e.Key.generate(), other = e.Key.generate(), patient = e.Key.generate();
    const scanner = new e.Scanner(doctor), kt = e.MaskKey.generate();
    const events = [];
    for (let i = 0; i < 200; i++) {
      events.push(kt.authorise(other.publicKey(), { hospital: "General Hospital", time: 1700000000 + i,
        eh: new Uint8Array(32).fill(7), anchorSalt: e.generateAnchorSalt(), recordType: "size" }, patient));
    }
    events.push(kt.authorise(doctor.publicKey(), { hospital: "General Hospital", time: 1,
      eh: new Uint8Array(32).fill(7), anchorSalt: e.generateAnchorSalt(), recordType: "size" }, patient));
    for (const k of [doctor, other, patient, kt]) k.free();
    return { dir, e, key, ad, scanner, events, t: { sha: 0, enc: 0, dec: 0, tag: 0 } };
  });
  // One round: SHA-256 of 8 MiB in 1 MiB pieces (sha256()), a 4 MiB record
  // encrypted + hashed and decrypted + verified by push/finish (always the
  // software AES-GCM engine), 201 stealth-tag tests (ECDH + h1 + a base-point
  // multiplication each). Round 0 is a warm-up (V8 tiers wasm up), not timed.
  for (let r = 0; r <= rounds; r++) {
    for (const b of r % 2 ? [...builds].reverse() : builds) {
      const { e } = b;
      const sha = cpu(() => { for (let i = 0; i < 8; i++) e.sha256(piece); });
      const enc = new e.RecordEncryptor(b.key, b.ad);
      const ct = [];
      const encS = cpu(() => { for (let i = 0; i < 4; i++) ct.push(enc.push(piece)); ct.push(enc.finish()); });
      const dec = new e.RecordDecryptor(b.key, b.ad, { expectedHash: enc.hash });
      let out = 0;
      const decS = cpu(() => { for (const c of ct) out += dec.push(c).length; out += dec.finish().length; });
      enc.free();
      dec.free();
      if (out !== 4 * MIB) throw new Error(`${b.dir}: decryption lost bytes`);
      let found = 0;
      const tag = cpu(() => { for (const ev of b.events) if (b.scanner.matches(ev)) found++; });
      if (found !== 1) throw new Error(`${b.dir}: scanner found ${found} matches, expected 1`);
      if (r > 0) { b.t.sha += sha; b.t.enc += encS; b.t.dec += decS; b.t.tag += tag; }
    }
  }
  console.log(`speed (Node ${process.version}, wasm, per CPU second, ${rounds} interleaved rounds)`);
  const names = builds.map((b) => {
    const rel = path.relative(process.cwd(), b.dir);
    return rel && !rel.startsWith("..") ? rel : b.dir;
  });
  const w = Math.max(9, ...names.map((n) => n.length));
  const row = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(w) : c.padStart(11))).join(" ");
  console.log(row(["build", "SHA-256", "enc+hash", "dec+verify", "tag tests"]) + "   (MB/s, MB/s, MB/s, /s)");
  builds.forEach((b, i) => {
    const mb = (n, s) => (rounds * n * MIB / 1e6 / s).toFixed(1);
    console.log(row([names[i], mb(8, b.t.sha), mb(4, b.t.enc), mb(4, b.t.dec), (rounds * b.events.length / b.t.tag).toFixed(0)]));
    b.scanner.free();
  });
}
