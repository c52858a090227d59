-- Email verification (issue 17.5, R-B3). `users.email_verified_at`: when the person proved they
-- read mail at their local sign-in email (unix ms); NULL = not yet, and such an account cannot
-- sign in locally nor be linked. Accounts that exist before this migration are grandfathered.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT NULL;
UPDATE users SET email_verified_at = created_at;
-- Verification links: only the SHA-256 of the token is kept; a link works once (`used_at` set by
-- one conditional UPDATE), for 24 hours, and only for the address it was sent to (`email`).
CREATE TABLE email_verifications (
    token_hash CHAR(64) NOT NULL,
    user_id CHAR(36) NOT NULL,
    email VARCHAR(254) NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT NULL,
    PRIMARY KEY (token_hash),
    KEY ix_email_verifications_user (user_id),
    CONSTRAINT fk_email_verifications_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
