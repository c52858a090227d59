-- Each directory member's manager (seed 001: "MicrosoftGraphUserSupervisor"), from Graph
-- GET /users/{id}/manager. A person without a manager has no row. The manager need not be a
-- member of the group, so their name is kept here too.
CREATE TABLE directory_supervisors (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    ms_object_id TEXT NOT NULL,
    manager_object_id TEXT NOT NULL,
    manager_display_name TEXT NULL,
    synced_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, ms_object_id)
);
CREATE INDEX ix_directory_supervisors_manager ON directory_supervisors (tenant_id, manager_object_id);
