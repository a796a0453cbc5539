-- Version 4 (as in the SQLite backend): why an entry was stored as a list
-- item of the audit-log API (without currentVersion, previousVersion and
-- delta); '' for a full entry.
ALTER TABLE entries ADD COLUMN list_item text NOT NULL DEFAULT '';
