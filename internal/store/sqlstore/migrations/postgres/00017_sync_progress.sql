-- +goose Up
-- Where a running sync stands, written by the process running it at most
-- about once a second, so that the connections page (in any process)
-- shows the phase, the time left and any wait for Miro's rate limit
-- live. waiting_until is NULL when the sync is not waiting, and
-- estimated_left_seconds 0 while the time left is unknown; progress_at is
-- NULL for a run that never wrote progress (and for runs from before).
ALTER TABLE sync_runs ADD COLUMN phase TEXT NOT NULL DEFAULT '';
ALTER TABLE sync_runs ADD COLUMN members INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN teams INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN teams_done INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN waiting_until TIMESTAMPTZ;
ALTER TABLE sync_runs ADD COLUMN wait_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE sync_runs ADD COLUMN estimated_left_seconds INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN progress_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE sync_runs DROP COLUMN progress_at;
ALTER TABLE sync_runs DROP COLUMN estimated_left_seconds;
ALTER TABLE sync_runs DROP COLUMN wait_reason;
ALTER TABLE sync_runs DROP COLUMN waiting_until;
ALTER TABLE sync_runs DROP COLUMN teams_done;
ALTER TABLE sync_runs DROP COLUMN teams;
ALTER TABLE sync_runs DROP COLUMN members;
ALTER TABLE sync_runs DROP COLUMN phase;
