-- Education roster (issue 18 §3): who is in each synced class, kept by edugraph-sync's
-- `edu_members` stream (each round lists every active class's teachers and members, 10
-- classes per `$batch`). A class's rows are replaced when its lists are read; the last page
-- of a round sets the rows of classes it did not visit (archived classes) to 'left'.
-- Serves a class's people and a person's classes when Microsoft Graph is not answering and
-- we hold no copy of our own (R-C9).
CREATE TABLE roster_class_members (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    ms_class_id TEXT NOT NULL,
    ms_object_id TEXT NOT NULL,
    role TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'active',
    sync_mark INTEGER NOT NULL DEFAULT 0,
    synced_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, ms_class_id, ms_object_id)
);
CREATE INDEX roster_class_members_person ON roster_class_members (tenant_id, ms_object_id);
