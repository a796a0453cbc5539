-- auditrelay SQLite schema, version 5 (the PostgreSQL backend's 0005 adds
-- the same columns).
-- Every attempt keeps the request it sent: method, headers (secret values
-- masked), the form-variable version and the body. Retries usually send
-- the same body, so an attempt stores its body only when no earlier
-- attempt of the delivery stored the same one (body_digest): request_body
-- is NULL otherwise. Bodies are deflate-compressed where that pays
-- (body_encoding). The columns go with their attempt, so retention prunes
-- them with the delivery. Attempts made before this version have
-- request_method ''.
ALTER TABLE attempts ADD COLUMN request_method  TEXT    NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN request_headers TEXT    NOT NULL DEFAULT '[]';
ALTER TABLE attempts ADD COLUMN vars_hash       TEXT    NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN body_digest     TEXT    NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN body_size       INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attempts ADD COLUMN body_encoding   TEXT    NOT NULL DEFAULT '';
ALTER TABLE attempts ADD COLUMN request_body    BLOB;
