-- auditrelay SQLite schema, version 1.
-- Times are INTEGER unix milliseconds (0 = not set), durations INTEGER
-- microseconds; see time.go for the one place that encodes them.

CREATE TABLE entries (
    id          TEXT    PRIMARY KEY,          -- LaunchDarkly _id
    date_ms     INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    source      TEXT    NOT NULL DEFAULT '',
    kind        TEXT    NOT NULL DEFAULT '',
    title       TEXT    NOT NULL DEFAULT '',
    member      TEXT    NOT NULL DEFAULT '',
    project     TEXT    NOT NULL DEFAULT '',
    environment TEXT    NOT NULL DEFAULT '',
    raw         BLOB
);
-- Lists page newest first; prune walks oldest first.
CREATE INDEX entries_received ON entries (received_ms, id);

CREATE TABLE deliveries (
    -- seq is the rowid: the claim tie-breaker (ingest order) and the key the
    -- due index points at, so the claim scan never sorts.
    seq             INTEGER PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    entry_id        TEXT    NOT NULL REFERENCES entries (id),
    subscription    TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'inflight', 'delivered', 'failed', 'filtered', 'skipped')),
    reason          TEXT    NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    step            INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL DEFAULT 0,
    lease_owner     TEXT    NOT NULL DEFAULT '',
    lease_until_ms  INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    last_latency_us INTEGER NOT NULL DEFAULT 0,
    last_attempt_ms INTEGER NOT NULL DEFAULT 0,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL,
    UNIQUE (entry_id, subscription)
);
-- The claim scan, MaxInFlight count, retry-all and stats: exactly their predicate.
CREATE INDEX deliveries_due ON deliveries (subscription, state, next_attempt_ms);
-- The rescue scan touches only in-flight rows.
CREATE INDEX deliveries_lease ON deliveries (lease_until_ms) WHERE state = 'inflight';
-- Recent-first lists and the age-based prune.
CREATE INDEX deliveries_updated ON deliveries (updated_ms, id);

CREATE TABLE attempts (
    id               INTEGER PRIMARY KEY,
    delivery_id      TEXT    NOT NULL REFERENCES deliveries (id),
    number           INTEGER NOT NULL,
    instance         TEXT    NOT NULL DEFAULT '',
    trigger          TEXT    NOT NULL DEFAULT '',
    started_ms       INTEGER NOT NULL DEFAULT 0,
    duration_us      INTEGER NOT NULL DEFAULT 0,
    url              TEXT    NOT NULL DEFAULT '',
    request_digest   TEXT    NOT NULL DEFAULT '',
    template         TEXT    NOT NULL DEFAULT '',
    template_hash    TEXT    NOT NULL DEFAULT '',
    status_code      INTEGER NOT NULL DEFAULT 0,
    error_class      TEXT    NOT NULL DEFAULT '',
    error            TEXT    NOT NULL DEFAULT '',
    response_headers TEXT    NOT NULL DEFAULT '[]', -- JSON array of {name, value}
    response_body    BLOB
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, number);

CREATE TABLE subscription_state (
    name            TEXT    PRIMARY KEY,
    paused          INTEGER NOT NULL DEFAULT 0,
    disabled        INTEGER NOT NULL DEFAULT 0,
    reason          TEXT    NOT NULL DEFAULT '',
    updated_by      TEXT    NOT NULL DEFAULT '',
    updated_ms      INTEGER NOT NULL DEFAULT 0, -- 0: row holds only the rate bucket
    rate_tokens     REAL    NOT NULL DEFAULT 0,
    rate_updated_ms INTEGER NOT NULL DEFAULT 0  -- 0: bucket never used, starts full
);

CREATE TABLE cursors (
    source     TEXT    PRIMARY KEY,
    position   TEXT    NOT NULL,
    updated_ms INTEGER NOT NULL
);

CREATE TABLE actions (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms  INTEGER NOT NULL,
    actor  TEXT    NOT NULL DEFAULT '',
    kind   TEXT    NOT NULL DEFAULT '',
    target TEXT    NOT NULL DEFAULT '',
    detail TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX actions_at ON actions (at_ms);

CREATE TABLE leaders (
    name       TEXT    PRIMARY KEY,
    owner      TEXT    NOT NULL,
    elected_ms INTEGER NOT NULL,
    expires_ms INTEGER NOT NULL
);
