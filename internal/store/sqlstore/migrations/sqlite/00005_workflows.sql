-- +goose Up
-- Workflows: definitions, their durable runs with timelines, approvals,
-- and the directory's joined and left events the person triggers read.
-- Times are TEXT in the fixed UTC layout; definitions are JSON in TEXT.

-- definition is the trigger, conditions and steps as JSON. trigger_cursor
-- is the last person_events id (person triggers) or changes id
-- (new_account, license_changed) the trigger consumed; next_fire_at is a
-- schedule's next time. connection_id is no foreign key: runs outlive it.
CREATE TABLE workflows (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL UNIQUE,
    description    TEXT    NOT NULL DEFAULT '',
    enabled        BOOLEAN NOT NULL DEFAULT FALSE,
    connection_id  INTEGER NOT NULL,
    trigger_kind   TEXT    NOT NULL,
    definition     TEXT    NOT NULL,
    trigger_cursor INTEGER NOT NULL DEFAULT 0,
    next_fire_at   TEXT,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL
);

-- workflow_id is no foreign key: a deleted workflow's runs stay, with the
-- definition they ran.
CREATE TABLE workflow_runs (
    id            INTEGER PRIMARY KEY,
    workflow_id   INTEGER NOT NULL,
    workflow_name TEXT    NOT NULL,
    definition    TEXT    NOT NULL, -- the whole workflow as JSON
    trigger_key   TEXT    NOT NULL,
    trigger_text  TEXT    NOT NULL DEFAULT '',
    email         TEXT    NOT NULL DEFAULT '',
    account_id    INTEGER NOT NULL DEFAULT 0,
    person_id     INTEGER NOT NULL DEFAULT 0,
    status        TEXT    NOT NULL CHECK (status IN ('running', 'waiting', 'succeeded', 'failed', 'cancelled')),
    position      INTEGER NOT NULL DEFAULT 0,
    generation    INTEGER NOT NULL DEFAULT 1,
    lease_until   TEXT,
    error         TEXT    NOT NULL DEFAULT '',
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    ended_at      TEXT,
    UNIQUE (workflow_id, trigger_key)
);
-- Listings are newest first by id, so each filter's index ends in id.
CREATE INDEX workflow_runs_workflow ON workflow_runs (workflow_id, id);
CREATE INDEX workflow_runs_status ON workflow_runs (status, id);
CREATE INDEX workflow_runs_email ON workflow_runs (email, id);
-- StaleRuns: live runs by lease, or by last update when they hold none.
CREATE INDEX workflow_runs_lease ON workflow_runs (lease_until) WHERE status IN ('running', 'waiting');
CREATE INDEX workflow_runs_idle ON workflow_runs (updated_at) WHERE status IN ('running', 'waiting');

-- A run's timeline: one row per step, in the order id gives (steps start
-- in that order).
CREATE TABLE run_steps (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
    step_id    TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('running', 'waiting', 'succeeded', 'refused', 'failed', 'skipped', 'cancelled')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    detail     TEXT    NOT NULL DEFAULT '',
    branch     TEXT    NOT NULL DEFAULT '',
    due_at     TEXT,
    started_at TEXT    NOT NULL,
    ended_at   TEXT,
    UNIQUE (run_id, step_id)
);

CREATE TABLE approvals (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
    step_id    TEXT    NOT NULL,
    approver   TEXT    NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'timed_out')),
    decided_by TEXT    NOT NULL DEFAULT '',
    expires_at TEXT,
    created_at TEXT    NOT NULL,
    decided_at TEXT,
    UNIQUE (run_id, step_id)
);
CREATE INDEX approvals_pending ON approvals (id) WHERE status = 'pending';

-- person_id is no foreign key: a deleted person's left event stays.
CREATE TABLE person_events (
    id        INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL,
    email     TEXT    NOT NULL,
    kind      TEXT    NOT NULL CHECK (kind IN ('joined', 'left')),
    at        TEXT    NOT NULL
);

-- +goose Down
DROP TABLE person_events;
DROP TABLE approvals;
DROP TABLE run_steps;
DROP TABLE workflow_runs;
DROP TABLE workflows;
