-- auditrelay PostgreSQL schema, version 5 (as in the SQLite backend).
-- Every attempt keeps the request it sent: method, headers (secret values
-- masked), the form-variable version and the body. Retries usually send
-- the same body, so an attempt stores its body only when no earlier
-- attempt of the delivery stored the same one (body_digest): request_body
-- is NULL otherwise. Bodies are deflate-compressed where that pays
-- (body_encoding). The columns go with their attempt, so retention prunes
-- them with the delivery. Constant defaults keep this catalog-only.
ALTER TABLE attempts
    ADD COLUMN request_method  text    NOT NULL DEFAULT '',
    ADD COLUMN request_headers jsonb   NOT NULL DEFAULT '[]',
    ADD COLUMN vars_hash       text    NOT NULL DEFAULT '',
    ADD COLUMN body_digest     text    NOT NULL DEFAULT '',
    ADD COLUMN body_size       integer NOT NULL DEFAULT 0,
    ADD COLUMN body_encoding   text    NOT NULL DEFAULT '',
    ADD COLUMN request_body    bytea;
