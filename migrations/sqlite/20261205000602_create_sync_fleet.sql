-- The fleet's current round (one row, id = 1): a worker joins the round in progress, or
-- opens the next one when every tenant of this one is finished.
CREATE TABLE sync_fleet (
    id INTEGER NOT NULL PRIMARY KEY,
    round INTEGER NOT NULL DEFAULT 0,
    round_started_at INTEGER NOT NULL DEFAULT 0
);
