-- Files being uploaded into an assignment's resources folder right now: publishing waits
-- until they are attached (issue 5). A row lives until its upload ends, at most until
-- expires_at (an upload whose request died).
CREATE TABLE assignment_uploads (
    tenant_id CHAR(36) NOT NULL,
    upload_id CHAR(36) NOT NULL,
    class_id VARCHAR(64) NOT NULL,
    assignment_id VARCHAR(128) NOT NULL,
    started_by CHAR(36) NULL,
    started_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, upload_id),
    KEY ix_assignment_uploads_assignment (tenant_id, class_id, assignment_id, expires_at),
    CONSTRAINT fk_assignment_uploads_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
