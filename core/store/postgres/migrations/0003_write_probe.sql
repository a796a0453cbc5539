-- Version 3 (as in the SQLite backend): the table of the write probe
-- behind /readyz. A probe inserts a row and deletes it in the same
-- transaction, so the table holds no committed rows.
CREATE TABLE write_probe (
    id        bigserial   PRIMARY KEY,
    instance  text        NOT NULL,
    probed_at timestamptz NOT NULL,
    pad       bytea       NOT NULL
);
