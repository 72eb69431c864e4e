-- ehrchain-server metadata in PostgreSQL, schema 1: the same tables and
-- semantics as the SQLite store (server/src/store/sqlite.rs). 32-byte
-- values are bytea of exactly 32 bytes, integers bigint (Unix seconds,
-- byte counts). Applied by PgMetaStore::connect inside one transaction
-- holding an advisory lock, and recorded in schema_migrations.

CREATE TABLE uploads (
    id         bytea PRIMARY KEY CHECK (octet_length(id) = 16),
    eh         bytea NOT NULL CHECK (octet_length(eh) = 32),
    size       bigint NOT NULL,
    part_size  bigint NOT NULL,
    created_at bigint NOT NULL,
    done       boolean NOT NULL DEFAULT false,
    filing     bytea CHECK (octet_length(filing) = 32),
    owner      text NOT NULL DEFAULT ''
);
CREATE INDEX uploads_open_owner ON uploads (done, owner);
CREATE INDEX uploads_created ON uploads (created_at);

CREATE TABLE records (
    eh         bytea PRIMARY KEY CHECK (octet_length(eh) = 32),
    size       bigint NOT NULL,
    created_at bigint NOT NULL,
    filing     bytea CHECK (octet_length(filing) = 32)
);
CREATE INDEX records_created ON records (created_at);

-- Exactly what the patient filed, {X, Z, K, eh}, and when.
CREATE TABLE record_index (
    x          bytea PRIMARY KEY CHECK (octet_length(x) = 32),
    z          bytea NOT NULL CHECK (octet_length(z) = 32),
    k          bytea NOT NULL,
    eh         bytea NOT NULL REFERENCES records (eh) ON DELETE CASCADE,
    created_at bigint NOT NULL
);
CREATE INDEX record_index_eh ON record_index (eh);

-- SHA-256(doctor || nonce) until the request's expiry.
CREATE TABLE used_nonces (
    key    bytea PRIMARY KEY CHECK (octet_length(key) = 32),
    expiry bigint NOT NULL
);
CREATE INDEX used_nonces_expiry ON used_nonces (expiry);

-- SHA-256(token) of download tokens.
CREATE TABLE download_tokens (
    hash   bytea PRIMARY KEY CHECK (octet_length(hash) = 32),
    eh     bytea NOT NULL REFERENCES records (eh) ON DELETE CASCADE,
    expiry bigint NOT NULL
);
CREATE INDEX download_tokens_eh ON download_tokens (eh);
CREATE INDEX download_tokens_expiry ON download_tokens (expiry);

-- Records removed for good (retention, tombstone, delete): never stored again.
CREATE TABLE retired (
    eh     bytea PRIMARY KEY CHECK (octet_length(eh) = 32),
    reason text NOT NULL,
    at     bigint NOT NULL
);
