-- +goose Up
-- Operating roster: operators, sessions, API keys, settings, the audit log,
-- actions on Miro and the trend, plus what the users list needs to stay
-- fast at 100,000 accounts. Times are TEXT in the fixed UTC layout.

-- search is lower(email || ' ' || name), lower-cased by roster (Go's
-- Unicode rules, the same on both dialects) on every write, so a
-- case-insensitive substring search is one LIKE over one column. Rows
-- written before this migration are lower-cased by SQLite's ASCII lower()
-- until their next write.
ALTER TABLE accounts ADD COLUMN search TEXT NOT NULL DEFAULT '';
UPDATE accounts SET search = lower(email || ' ' || name);

-- One index per sort of the users list, each ending in id, the keyset
-- tie-breaker, so every page is an index range scan.
DROP INDEX accounts_license;
DROP INDEX accounts_last_activity_at;
CREATE INDEX accounts_name ON accounts (name, id);
CREATE INDEX accounts_license_email ON accounts (license, email, id);
-- SQLite sorts NULL (never active) first ascending: the oldest.
CREATE INDEX accounts_last_activity_at ON accounts (last_activity_at, id);

-- The overview's counts read only these columns: scanning this index
-- instead of the table is several times faster. left_at comes last so
-- that no query mistakes "left_at IS NULL" (nearly every row) for a
-- selective equality and walks the index with a lookup per row.
CREATE INDEX accounts_overview ON accounts (active, license, org_role, license_exact, last_activity_at, left_at);

CREATE TABLE operators (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE, -- lower-case
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'viewer')),
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until  TEXT,
    created_at    TEXT    NOT NULL,
    last_login_at TEXT
);

-- token_hash is the SHA-256 of the cookie's token, never the token.
CREATE TABLE sessions (
    token_hash  BLOB    PRIMARY KEY,
    operator_id INTEGER NOT NULL REFERENCES operators (id) ON DELETE CASCADE,
    csrf_token  TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_operator_id ON sessions (operator_id);

-- name is unique: the audit log names a key by it ("apikey:<name>").
CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    prefix       TEXT    NOT NULL,
    hash         BLOB    NOT NULL UNIQUE,
    scopes       TEXT    NOT NULL DEFAULT '[]',
    created_by   INTEGER NOT NULL REFERENCES operators (id),
    created_at   TEXT    NOT NULL,
    last_used_at TEXT
);
CREATE INDEX api_keys_created_by ON api_keys (created_by);

-- One row (id 1); none means the defaults.
CREATE TABLE settings (
    id                            INTEGER PRIMARY KEY CHECK (id = 1),
    inactivity_days               INTEGER NOT NULL,
    license_prices                TEXT    NOT NULL DEFAULT '{}', -- JSON object
    currency                      TEXT    NOT NULL,
    default_sync_interval_seconds INTEGER NOT NULL
);

-- connection_id is no foreign key: the log outlives what it names.
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            TEXT    NOT NULL,
    actor         TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    target        TEXT    NOT NULL DEFAULT '',
    connection_id INTEGER,
    result        TEXT    NOT NULL DEFAULT '',
    detail        TEXT    NOT NULL DEFAULT '',
    miro_answer   TEXT    NOT NULL DEFAULT ''
);
-- Every listing is newest first by id, so each filter's index ends in id.
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_kind ON audit_log (kind, id);
CREATE INDEX audit_log_connection_id ON audit_log (connection_id, id);
CREATE INDEX audit_log_target ON audit_log (target, id);

CREATE TABLE actions (
    id            INTEGER PRIMARY KEY,
    key           TEXT    NOT NULL UNIQUE, -- the idempotency key
    kind          TEXT    NOT NULL,
    connection_id INTEGER NOT NULL REFERENCES connections (id),
    miro_team_id  TEXT    NOT NULL DEFAULT '',
    miro_user_id  TEXT    NOT NULL DEFAULT '',
    email         TEXT    NOT NULL DEFAULT '',
    role          TEXT    NOT NULL DEFAULT '',
    actor         TEXT    NOT NULL DEFAULT '',
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'refused', 'failed')),
    result        TEXT    NOT NULL DEFAULT '',
    miro_answer   TEXT    NOT NULL DEFAULT '',
    created_at    TEXT    NOT NULL,
    finished_at   TEXT
);
CREATE INDEX actions_connection_id ON actions (connection_id);

-- The overview after each successful sync, for the trend chart.
CREATE TABLE trend_points (
    sync_run_id   INTEGER PRIMARY KEY REFERENCES sync_runs (id) ON DELETE CASCADE,
    at            TEXT    NOT NULL,
    accounts      INTEGER NOT NULL,
    full_assigned INTEGER NOT NULL,
    full_active   INTEGER NOT NULL
);
CREATE INDEX trend_points_at ON trend_points (at, sync_run_id);

-- +goose Down
DROP TABLE trend_points;
DROP TABLE actions;
DROP TABLE audit_log;
DROP TABLE settings;
DROP TABLE api_keys;
DROP TABLE sessions;
DROP TABLE operators;
DROP INDEX accounts_overview;
DROP INDEX accounts_last_activity_at;
DROP INDEX accounts_license_email;
DROP INDEX accounts_name;
CREATE INDEX accounts_last_activity_at ON accounts (last_activity_at);
CREATE INDEX accounts_license ON accounts (license);
ALTER TABLE accounts DROP COLUMN search;
