-- Roster data read from Microsoft Graph (issue 18): a class with its teachers and members, a
-- person's own classes. Written on every successful Graph read of it; served instead of Graph
-- while at most 5 minutes old, and as the stale copy (with `stale_as_of`) when Graph is down
-- (R-C9). Keyed by tenant, so one tenant's copy never answers another's; "my classes" are
-- keyed by the person's Microsoft object id.
CREATE TABLE graph_roster_cache (
    tenant_id CHAR(36) NOT NULL,
    scope VARCHAR(32) NOT NULL,
    cache_key VARCHAR(255) NOT NULL,
    body LONGBLOB NOT NULL,
    fetched_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, scope, cache_key),
    CONSTRAINT fk_roster_cache_tenant FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
