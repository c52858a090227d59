-- Per-account sign-in throttling (R-A18), keyed by a hash of the normalised email so that
-- unknown and known accounts are throttled alike and no address is stored.
CREATE TABLE login_throttle (
    key_hash CHAR(64) NOT NULL PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
