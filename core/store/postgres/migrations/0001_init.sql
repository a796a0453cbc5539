-- auditrelay PostgreSQL schema, version 1 (the SQLite backend's 0001 has
-- the same version number and the same columns in its own dialect).
-- Times are timestamptz (NULL = not set), durations bigint microseconds.
-- Objects are created unqualified: they land in the store's schema (the
-- first schema of search_path).

CREATE TABLE entries (
    id          text        PRIMARY KEY,              -- LaunchDarkly _id: dedupe across instances
    date        timestamptz,
    received_at timestamptz NOT NULL,
    source      text        NOT NULL DEFAULT '',
    kind        text        NOT NULL DEFAULT '',
    title       text        NOT NULL DEFAULT '',
    member      text        NOT NULL DEFAULT '',
    project     text        NOT NULL DEFAULT '',
    environment text        NOT NULL DEFAULT '',
    ingested_by text        NOT NULL DEFAULT '',      -- instance, for the watch poll fallback
    raw         bytea
);
-- Lists page newest first; prune walks oldest first; the poll fallback
-- reads recent ones.
CREATE INDEX entries_received ON entries (received_at, id);

CREATE TABLE deliveries (
    -- seq is the ingest order: the claim tie-breaker after next_attempt_at.
    seq             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              text        NOT NULL UNIQUE,
    entry_id        text        NOT NULL REFERENCES entries (id),
    subscription    text        NOT NULL,
    state           text        NOT NULL CHECK (state IN ('pending', 'inflight', 'delivered', 'failed', 'filtered', 'skipped')),
    reason          text        NOT NULL DEFAULT '',
    attempts        integer     NOT NULL DEFAULT 0,   -- the fencing token
    step            integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    lease_owner     text        NOT NULL DEFAULT '',
    lease_until     timestamptz,
    last_status     integer     NOT NULL DEFAULT 0,
    last_error      text        NOT NULL DEFAULT '',
    last_latency_us bigint      NOT NULL DEFAULT 0,
    last_attempt_at timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    updated_by      text        NOT NULL DEFAULT '',  -- instance of the last write, for the watch poll fallback
    UNIQUE (entry_id, subscription)
);
-- The claim scan: exactly its predicate and order, so it reads the first
-- due rows of one subscription and stops.
CREATE INDEX deliveries_due ON deliveries (subscription, next_attempt_at, seq) WHERE state = 'pending';
-- MaxInFlight counts, the earliest lease of a subscription, and rescue
-- (which reads all of this small index: only in-flight rows are in it).
CREATE INDEX deliveries_inflight ON deliveries (subscription, lease_until) WHERE state = 'inflight';
-- Recent-first lists, the age-based prune and the watch poll fallback.
CREATE INDEX deliveries_updated ON deliveries (updated_at, id);

CREATE TABLE attempts (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id      text        NOT NULL REFERENCES deliveries (id),
    number           integer     NOT NULL,
    instance         text        NOT NULL DEFAULT '',
    trigger          text        NOT NULL DEFAULT '',
    started_at       timestamptz,
    duration_us      bigint      NOT NULL DEFAULT 0,
    url              text        NOT NULL DEFAULT '',
    request_digest   text        NOT NULL DEFAULT '',
    template         text        NOT NULL DEFAULT '',
    template_hash    text        NOT NULL DEFAULT '',
    status_code      integer     NOT NULL DEFAULT 0,
    error_class      text        NOT NULL DEFAULT '',
    error            text        NOT NULL DEFAULT '',
    response_headers jsonb       NOT NULL DEFAULT '[]',
    response_body    bytea
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, number);

-- One row per subscription: the operator state (updated_at NULL while the
-- row only holds the rate bucket) and the token bucket every instance
-- shares.
CREATE TABLE subscription_state (
    name            text             PRIMARY KEY,
    paused          boolean          NOT NULL DEFAULT false,
    disabled        boolean          NOT NULL DEFAULT false,
    reason          text             NOT NULL DEFAULT '',
    updated_by      text             NOT NULL DEFAULT '',
    updated_at      timestamptz,
    rate_tokens     double precision NOT NULL DEFAULT 0,
    rate_updated_at timestamptz                          -- NULL: bucket never used, starts full
);

CREATE TABLE cursors (
    source     text        PRIMARY KEY,
    position   text        NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE actions (
    id     bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     timestamptz NOT NULL,
    actor  text        NOT NULL DEFAULT '',
    kind   text        NOT NULL DEFAULT '',
    target text        NOT NULL DEFAULT '',
    detail text        NOT NULL DEFAULT ''
);
CREATE INDEX actions_at ON actions (at);

CREATE TABLE leaders (
    name       text        PRIMARY KEY,
    owner      text        NOT NULL,
    elected_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

-- The hot tables churn: vacuum them well before the default 20 % of dead
-- rows, so the claim index stays small (river #59).
ALTER TABLE deliveries SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
ALTER TABLE subscription_state SET (autovacuum_vacuum_scale_factor = 0.0, autovacuum_vacuum_threshold = 1000);
