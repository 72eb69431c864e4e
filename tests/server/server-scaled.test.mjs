// server.test.mjs again, against the scaled configuration (deployment.mjs):
// two ehrchain-server instances sharing one PostgreSQL database and one S3
// bucket (s3s-fs), behind a round-robin proxy, so that every test that makes
// several requests crosses instances.
//
//   node --test tests/server/server-scaled.test.mjs
//
// Needs what server.test.mjs needs, plus PostgreSQL and s3s-fs
// (scripts/setup.sh installs both).
process.env.EHR_SERVER_CONFIG = 'scaled';
await import('./server.test.mjs');
