-- Education roster (issue 6): the tenant's classes as /education/classes/delta reports them,
-- kept by edugraph-sync. Microsoft's class deltas do not include deleted classes, so a class
-- that disappears is found by a full round's sweep (state 'archived', kept).
CREATE TABLE roster_classes (
    tenant_id CHAR(36) NOT NULL,
    ms_class_id CHAR(36) NOT NULL,
    display_name VARCHAR(256) NULL,
    class_code VARCHAR(128) NULL,
    mail_nickname VARCHAR(128) NULL,
    external_id VARCHAR(256) NULL,
    grade VARCHAR(64) NULL,
    term_name VARCHAR(256) NULL,
    term_start VARCHAR(32) NULL,
    term_end VARCHAR(32) NULL,
    state VARCHAR(16) NOT NULL DEFAULT 'active',
    sync_mark BIGINT NOT NULL DEFAULT 0,
    synced_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, ms_class_id),
    CONSTRAINT fk_roster_classes_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
