-- One-time "forgot password" links (issue 17.5, R-B4): only the SHA-256 of the token is kept;
-- a link works once (`used_at` set by one conditional UPDATE) and for 15 minutes.
CREATE TABLE password_resets (
    token_hash CHAR(64) NOT NULL,
    user_id CHAR(36) NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT NULL,
    PRIMARY KEY (token_hash),
    KEY ix_password_resets_user (user_id),
    CONSTRAINT fk_password_resets_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
