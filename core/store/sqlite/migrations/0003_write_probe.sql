-- Version 3: the table of the write probe behind /readyz. A probe inserts
-- a row and deletes it in the same transaction, so the table is always
-- empty; the row's size makes the probe need room like an entry does.
CREATE TABLE write_probe (
    id        INTEGER PRIMARY KEY,
    instance  TEXT    NOT NULL,
    probed_ms INTEGER NOT NULL,
    pad       BLOB    NOT NULL
);
