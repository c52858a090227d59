-- Each directory member's manager (seed 001: "MicrosoftGraphUserSupervisor"), from Graph
-- GET /users/{id}/manager. A person without a manager has no row. The manager need not be a
-- member of the group, so their name is kept here too.
CREATE TABLE directory_supervisors (
    tenant_id CHAR(36) NOT NULL,
    ms_object_id CHAR(36) NOT NULL,
    manager_object_id CHAR(36) NOT NULL,
    manager_display_name VARCHAR(256) NULL,
    synced_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, ms_object_id),
    KEY ix_directory_supervisors_manager (tenant_id, manager_object_id),
    CONSTRAINT fk_directory_supervisors_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
