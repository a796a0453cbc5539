-- auditrelay PostgreSQL schema, version 2 (the SQLite backend's 0002 adds
-- the same column).
-- deliveries.lost counts the attempts in a row whose lease expired without
-- an outcome (logged as worker-lost attempts). A delivery whose attempt
-- kills the process would otherwise be rescued and attempted after every
-- restart; once lost reaches delivery.poison_after the rescue fails it.
-- An outcome or an operator retry sets it back to 0. A constant default
-- makes this a catalog-only change (PostgreSQL 11+): no table rewrite.
ALTER TABLE deliveries ADD COLUMN lost integer NOT NULL DEFAULT 0;
