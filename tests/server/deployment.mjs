// The record service under test, in either of the server's two
// configurations (server/README.md), behind one interface, so that the same
// process tests (server.test.mjs) run against both:
//
//   embedded  one ehrchain-server process: SQLite and files in its data
//             directory (the default);
//   scaled    two ehrchain-server processes sharing one PostgreSQL database
//             and one S3 bucket (s3s-fs), behind a round-robin proxy: one
//             name for both, each request to the next instance, so every
//             multi-request test crosses instances.
//
//   const backend = await openBackend('scaled');   // starts PostgreSQL and s3s-fs once
//   const dep = await backend.launch(env);          // a fresh hospital service
//   dep.url, dep.recordBytes(eh), dep.auditLines(), …
//   await dep.kill(); const again = await backend.launch(env, { storage: dep.storage });
//   await backend.close();
//
// launch(env, {storage, instanceEnv}): `env` for every instance, plus
// `instanceEnv(i)` for instance i (0 or 1).
// Each launch without `storage` gets storage of its own (a data directory; or
// a database of the shared PostgreSQL and a key prefix of the shared bucket),
// so a test's retention or sweep settings never touch another test's records.
import fs from 'node:fs';
import path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { startPostgres, startS3, postgresBin, createDatabase, roundRobin } from '../../chain/services.mjs';
import { startServer, tempDir, filesUnder, auditVerify, dumpDb } from './helpers.mjs';

/** The configurations `openBackend` knows. */
export const CONFIGS = ['embedded', 'scaled'];

/** The tables both metadata stores hold (the flaw test checks their columns). */
export const META_TABLES = ['download_tokens', 'leases', 'record_index', 'records', 'retired', 'uploads', 'used_nonces'];

/**
 * Opens the services a configuration needs (none for embedded).
 * @param {'embedded'|'scaled'} config
 */
export async function openBackend(config) {
  if (config === 'embedded') return embedded();
  if (config === 'scaled') return scaled();
  throw new Error(`unknown server configuration ${JSON.stringify(config)} (${CONFIGS.join(', ')})`);
}

function embedded() {
  const dirs = [];
  return {
    config: 'embedded',
    /** Extra tables beside META_TABLES (the audit trail is a file here). */
    extraTables: [],
    async launch(env, { storage, instanceEnv = () => ({}) } = {}) {
      const dataDir = storage?.dataDir ?? tempDir('ehr-server-');
      if (!storage) dirs.push(dataDir);
      const srv = await startServer({ ...env, ...instanceEnv(0), EHR_DATA_DIR: dataDir });
      const recordFile = (eh) => path.join(dataDir, 'blobs', 'records', eh.slice(2, 4), eh.slice(2));
      return {
        url: srv.url,
        instances: [srv],
        storage: { dataDir },
        logs: () => srv.logs(),
        stop: async (signal) => [await srv.stop(signal)],
        kill: () => srv.kill(),
        recordBytes: (eh) => (fs.existsSync(recordFile(eh)) ? fs.readFileSync(recordFile(eh)) : null),
        /** What a write in progress keeps aside: files in blobs/tmp (removed at start). */
        temporaries: () => fs.readdirSync(path.join(dataDir, 'blobs', 'tmp')),
        cleansTemporariesAtStart: true,
        auditLines: () => fs.readFileSync(path.join(dataDir, 'audit.log'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)),
        auditVerify: () => auditVerify(dataDir),
        /** audit-verify on a copy of the trail whose lines went through `alter` (the original stays). */
        async auditVerifyAltered(alter) {
          const copy = tempDir('ehr-audit-');
          dirs.push(copy);
          const raw = fs.readFileSync(path.join(dataDir, 'audit.log'), 'utf8').split('\n');
          fs.writeFileSync(path.join(copy, 'audit.log'), alter(raw).join('\n'));
          return auditVerify(copy);
        },
        metaTables: () => dumpDb(path.join(dataDir, 'meta.sqlite')),
        /** Everything the service keeps at rest: [{name, data}]. */
        atRest: () => filesUnder(dataDir).map((f) => ({ name: path.relative(dataDir, f), data: fs.readFileSync(f) })),
      };
    },
    async close() {
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    },
  };
}

async function scaled() {
  const [pg, s3] = await Promise.all([startPostgres(), startS3()]);
  const dirs = [];
  let made = 0;
  const psql = (url, sql) => new Promise((resolve, reject) => {
    execFile(path.join(postgresBin(), 'psql'), [url, '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8', maxBuffer: 1 << 28 },
      (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)));
  });
  const bucketRoot = path.join(s3.dir, 'root');
  const b64url = (s) => Buffer.from(s, 'base64url').toString('utf8');
  return {
    config: 'scaled',
    extraTables: ['audit', 'audit_head', 'schema_migrations'],
    async launch(env, { storage, instanceEnv: own = () => ({}) } = {}) {
      if (!storage) {
        made += 1;
        storage = { databaseUrl: await createDatabase(pg.url, `hospital_${made}`), prefix: `hospital-${made}/` };
      }
      const { databaseUrl, prefix } = storage;
      const instanceEnv = (i, extra = {}) => {
        const dir = tempDir('ehr-scaled-');
        dirs.push(dir);
        return { ...env, ...own(i), ...extra, EHR_DATA_DIR: dir, EHR_DATABASE_URL: databaseUrl, ...s3.env, EHR_S3_PREFIX: prefix, EHR_TRUST_FORWARDED_FOR: 'true' };
      };
      const envs = [instanceEnv(0), instanceEnv(1)];
      // One after the other: the second finds the schema the first migrated.
      const a = await startServer(envs[0]);
      let b;
      try {
        b = await startServer(envs[1]);
      } catch (e) {
        await a.stop();
        throw e;
      }
      const lb = await roundRobin([a.url, b.url]);
      const instances = [a, b];
      const objectFile = (key) => path.join(bucketRoot, s3.bucket, ...(prefix + key).split('/'));
      const auditRows = async () => (await psql(databaseUrl, "SELECT seq, convert_from(line, 'UTF8') FROM audit ORDER BY seq"))
        .split('\n').filter(Boolean).map((l) => {
          const bar = l.indexOf('|');
          return { seq: Number(l.slice(0, bar)), line: l.slice(bar + 1) };
        });
      return {
        url: lb.url,
        instances,
        storage,
        logs: () => instances.flatMap((s) => s.logs()),
        /** One more instance on the same database and bucket (not behind the proxy; the caller stops it). */
        startInstance: (extra) => startServer(instanceEnv(instances.length, extra)),
        async stop(signal) {
          const exits = await Promise.all(instances.map((s) => s.stop(signal)));
          await lb.close();
          return exits;
        },
        async kill() {
          const [exit] = await Promise.all(instances.map((s) => s.kill()));
          await lb.close();
          return exit;
        },
        /** The record as served: its part copies in the manifest's order; null without a manifest. */
        recordBytes(eh) {
          const dir = `records/${eh.slice(2)}`;
          if (!fs.existsSync(objectFile(`${dir}/manifest`))) return null;
          const manifest = JSON.parse(fs.readFileSync(objectFile(`${dir}/manifest`), 'utf8'));
          return Buffer.concat(manifest.parts.map((_, n) => fs.readFileSync(objectFile(`${dir}/${manifest.upload}/${String(n).padStart(10, '0')}`))));
        },
        /**
         * What a write in progress keeps aside: the bucket's incomplete
         * multipart uploads of this service's keys (s3s-fs keeps one as
         * `.bucket-<b64>.object-<b64 key>.upload-<id>.metadata.json` beside
         * its parts). S3 has no way to tell a dead instance's from a live
         * one's, so they are not cleaned at start (a bucket lifecycle rule
         * aborts them: server/README.md).
         */
        temporaries: () => fs.readdirSync(bucketRoot).filter((name) => {
          const m = /^\.bucket-([A-Za-z0-9_-]*)\.object-([A-Za-z0-9_-]*)\.upload-[0-9a-f-]+\.metadata\.json$/.exec(name);
          return m && b64url(m[1]) === s3.bucket && b64url(m[2]).startsWith(prefix);
        }),
        cleansTemporariesAtStart: false,
        auditLines: async () => (await auditRows()).map((r) => JSON.parse(r.line)),
        auditVerify: () => auditVerify({ databaseUrl }),
        /** audit-verify after the stored lines went through `alter`; the originals are put back after. */
        async auditVerifyAltered(alter) {
          const rows = await auditRows();
          const altered = alter(rows.map((r) => r.line));
          const changed = rows.filter((r, i) => altered[i] !== r.line);
          const set = (r, line) => psql(databaseUrl, `UPDATE audit SET line = convert_to('${line.replaceAll("'", "''")}', 'UTF8') WHERE seq = ${r.seq}`);
          for (const r of changed) await set(r, altered[rows.indexOf(r)]);
          try {
            return await auditVerify({ databaseUrl });
          } finally {
            for (const r of changed) await set(r, r.line);
          }
        },
        /** The tables as {name: {columns, rows (bytea as hex without \x)}}, like dumpDb's. */
        async metaTables() {
          const names = (await psql(databaseUrl, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).split('\n').filter(Boolean);
          const out = {};
          for (const t of names) {
            const columns = (await psql(databaseUrl, `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '${t}' ORDER BY ordinal_position`))
              .split('\n').filter(Boolean);
            const json = (await psql(databaseUrl, `SELECT coalesce(json_agg(json_build_array(${columns.map((c) => `"${c}"`).join(', ')})), '[]') FROM "${t}"`)).trim();
            const rows = JSON.parse(json).map((r) => r.map((v) => (typeof v === 'string' && v.startsWith('\\x') ? v.slice(2) : v)));
            out[t] = { columns, rows };
          }
          return out;
        },
        /** Everything the service keeps at rest: its database (pg_dump), the bucket's files, the instances' data directories. */
        /** The database's URL (for pg_dump, psql, audit-verify). */
        databaseUrl,
        atRest: () => [
          { name: 'pg_dump', data: execFileSync(path.join(postgresBin(), 'pg_dump'), ['--data-only', databaseUrl], { maxBuffer: 1 << 28 }) },
          ...filesUnder(bucketRoot).map((f) => ({ name: `bucket/${path.relative(bucketRoot, f)}`, data: fs.readFileSync(f) })),
          ...envs.flatMap((e, i) => filesUnder(e.EHR_DATA_DIR).map((f) => ({ name: `instance ${i}/${path.relative(e.EHR_DATA_DIR, f)}`, data: fs.readFileSync(f) }))),
        ],
      };
    },
    async close() {
      await Promise.all([pg.stop(), s3.stop()]);
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    },
  };
}
