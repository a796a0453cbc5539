-- Version 4: why an entry was stored as a list item of the audit-log API
-- (without currentVersion, previousVersion and delta); '' for a full entry.
ALTER TABLE entries ADD COLUMN list_item TEXT NOT NULL DEFAULT '';
