-- Pending Microsoft sign-in / admin-consent round trips (R-A1). Keyed by the SHA-256 of the
-- `state`; the browser holds the state in a __Host- cookie, so a state is bound to the
-- browser that started it. Single use: deleted when the callback consumes it; 10 min expiry.
CREATE TABLE oidc_transactions (
    state_hash CHAR(64) NOT NULL PRIMARY KEY,
    purpose VARCHAR(16) NOT NULL,
    nonce VARCHAR(128) NOT NULL,
    pkce_verifier VARCHAR(128) NOT NULL,
    link_user_id CHAR(36) NULL,
    tenant_hint CHAR(36) NULL,
    return_to VARCHAR(256) NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    KEY ix_oidc_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
