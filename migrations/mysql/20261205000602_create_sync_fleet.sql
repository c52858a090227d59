-- The fleet's current round (one row, id = 1): a worker joins the round in progress, or
-- opens the next one when every tenant of this one is finished.
CREATE TABLE sync_fleet (
    id BIGINT NOT NULL,
    round BIGINT NOT NULL DEFAULT 0,
    round_started_at BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
