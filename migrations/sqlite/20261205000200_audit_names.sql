-- Issue 16: the audit log speaks people. Each event records, when it is written, the names of
-- who acted and of what it acted on (a person, a synced user or class), so the log still reads
-- right after a rename or a deletion. Older rows keep NULL (the SPA shows the id then).
ALTER TABLE audit_log ADD COLUMN actor_name TEXT NULL;
ALTER TABLE audit_log ADD COLUMN target_name TEXT NULL;
