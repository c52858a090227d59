-- Per-account sign-in throttling (R-A18), keyed by a hash of the normalised email so that
-- unknown and known accounts are throttled alike and no address is stored.
CREATE TABLE login_throttle (
    key_hash TEXT NOT NULL PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    locked_until INTEGER NOT NULL DEFAULT 0
);
