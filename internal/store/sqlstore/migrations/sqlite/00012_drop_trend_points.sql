-- +goose Up
-- The trend is the daily license points (license_days, 00008), per
-- organization and license: the point per sync is read by nothing.
DROP TABLE trend_points;

-- +goose Down
CREATE TABLE trend_points (
    sync_run_id   INTEGER PRIMARY KEY REFERENCES sync_runs (id) ON DELETE CASCADE,
    at            TEXT    NOT NULL,
    accounts      INTEGER NOT NULL,
    full_assigned INTEGER NOT NULL,
    full_active   INTEGER NOT NULL
);
CREATE INDEX trend_points_at ON trend_points (at, sync_run_id);
