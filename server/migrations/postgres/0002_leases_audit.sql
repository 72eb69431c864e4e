-- Schema 2: named leases (the background sweep runs on one instance at a
-- time) and the hash-chained audit trail.

-- A lease is held by `holder` until `expires_at` (Unix seconds).
CREATE TABLE leases (
    name       text PRIMARY KEY,
    holder     text NOT NULL,
    expires_at bigint NOT NULL
);

-- One audit entry per row: `line` is the exact JSON line (without its
-- newline) that the file backend would write; entry `seq` carries `prev`,
-- the SHA-256 of line `seq - 1`.
CREATE TABLE audit (
    seq  bigint PRIMARY KEY CHECK (seq >= 0),
    line bytea NOT NULL
);

-- The chain head: the next `seq` and the SHA-256 of the last line. Its one
-- row is locked (SELECT ... FOR UPDATE) by every append, which serialises
-- appenders across server instances, so the chain never forks.
CREATE TABLE audit_head (
    id   boolean PRIMARY KEY DEFAULT true CHECK (id),
    seq  bigint NOT NULL,
    head bytea NOT NULL CHECK (octet_length(head) = 32)
);
INSERT INTO audit_head (id, seq, head) VALUES (true, 0, decode(repeat('00', 32), 'hex'));
