-- Pending Microsoft sign-in / admin-consent round trips (R-A1). Keyed by the SHA-256 of the
-- `state`; the browser holds the state in a __Host- cookie, so a state is bound to the
-- browser that started it. Single use: deleted when the callback consumes it; 10 min expiry.
CREATE TABLE oidc_transactions (
    state_hash TEXT NOT NULL PRIMARY KEY,
    purpose TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    link_user_id TEXT NULL,
    tenant_hint TEXT NULL,
    return_to TEXT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX ix_oidc_expires ON oidc_transactions (expires_at);
