-- Education roster (issue 6): the tenant's classes as /education/classes/delta reports them,
-- kept by edugraph-sync. Microsoft's class deltas do not include deleted classes, so a class
-- that disappears is found by a full round's sweep (state 'archived', kept).
CREATE TABLE roster_classes (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    ms_class_id TEXT NOT NULL,
    display_name TEXT NULL,
    class_code TEXT NULL,
    mail_nickname TEXT NULL,
    external_id TEXT NULL,
    grade TEXT NULL,
    term_name TEXT NULL,
    term_start TEXT NULL,
    term_end TEXT NULL,
    state TEXT NOT NULL DEFAULT 'active',
    sync_mark INTEGER NOT NULL DEFAULT 0,
    synced_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, ms_class_id)
);
