-- +goose Up
-- A bulk run: one action, or one saved workflow, for many people at once,
-- started once per idempotency key. Its work per person is a workflow run
-- whose trigger key starts "bulk:<id>:" (roster.BulkRun.TriggerKey), with
-- the saved workflow's id, or the bulk run's id negated for a built-in
-- action; so the runs' own unique key keeps a retried start from starting
-- anyone twice, and their counts are the bulk run's progress.
-- started_at is NULL while its runs are being started.
CREATE TABLE bulk_runs (
    id          INTEGER PRIMARY KEY,
    key         TEXT    NOT NULL UNIQUE,
    action      TEXT    NOT NULL CHECK (action IN ('deactivate', 'remove_from_team', 'remove_from_all_teams', 'workflow')),
    team_id     TEXT    NOT NULL DEFAULT '',
    workflow_id INTEGER NOT NULL DEFAULT 0,
    selection   TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    selected    INTEGER NOT NULL DEFAULT 0,
    runs        INTEGER NOT NULL DEFAULT 0,
    excluded    INTEGER NOT NULL DEFAULT 0,
    actor       TEXT    NOT NULL,
    started_at  TEXT,
    created_at  TEXT    NOT NULL
);

-- +goose Down
DROP TABLE bulk_runs;
