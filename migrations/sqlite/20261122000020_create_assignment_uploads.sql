-- Files being uploaded into an assignment's resources folder right now: publishing waits
-- until they are attached (issue 5). A row lives until its upload ends, at most until
-- expires_at (an upload whose request died).
CREATE TABLE assignment_uploads (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    upload_id TEXT NOT NULL,
    class_id TEXT NOT NULL,
    assignment_id TEXT NOT NULL,
    started_by TEXT NULL,
    started_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, upload_id)
);
CREATE INDEX ix_assignment_uploads_assignment ON assignment_uploads (tenant_id, class_id, assignment_id, expires_at);
