-- +goose Up
-- Times are TEXT in one fixed UTC layout (2006-01-02T15:04:05.000000Z), so
-- text order is time order; NULL means "never". Lists are JSON arrays.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE connections (
    id                    INTEGER PRIMARY KEY,
    level                 TEXT    NOT NULL CHECK (level IN ('team', 'organization')),
    org_id                TEXT    NOT NULL DEFAULT '',
    org_name              TEXT    NOT NULL DEFAULT '',
    team_id               TEXT    NOT NULL DEFAULT '',
    team_name             TEXT    NOT NULL DEFAULT '',
    installer_id          TEXT    NOT NULL DEFAULT '',
    installer_name        TEXT    NOT NULL DEFAULT '',
    scopes                TEXT    NOT NULL DEFAULT '[]',
    enterprise            BOOLEAN NOT NULL DEFAULT FALSE,
    company_admin         BOOLEAN NOT NULL DEFAULT FALSE,
    api_base_url          TEXT    NOT NULL DEFAULT '',
    scim_base_url         TEXT    NOT NULL DEFAULT '',
    sealed_token          BLOB,
    sealed_scim_token     BLOB,
    status                TEXT    NOT NULL,
    status_message        TEXT    NOT NULL DEFAULT '',
    sync_interval_seconds INTEGER NOT NULL DEFAULT 0,
    last_sync_at          TEXT,
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL
);
-- One organization-level connection per org, one team-level connection per team.
CREATE UNIQUE INDEX connections_organization_level ON connections (org_id) WHERE level = 'organization';
CREATE UNIQUE INDEX connections_team_level ON connections (team_id) WHERE level = 'team';

CREATE TABLE organizations (
    miro_org_id             TEXT    PRIMARY KEY,
    name                    TEXT    NOT NULL DEFAULT '',
    plan                    TEXT    NOT NULL DEFAULT '',
    full_licenses_purchased INTEGER NOT NULL DEFAULT 0
);

-- org_id is not a foreign key: a team-level connection knows the org id
-- without ever syncing the organization.
CREATE TABLE teams (
    miro_team_id TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL DEFAULT '',
    name         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX teams_org_id ON teams (org_id);

-- The teams a connection covers.
CREATE TABLE connection_teams (
    connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    miro_team_id  TEXT    NOT NULL REFERENCES teams (miro_team_id),
    PRIMARY KEY (connection_id, miro_team_id)
);
CREATE INDEX connection_teams_miro_team_id ON connection_teams (miro_team_id);

CREATE TABLE accounts (
    id                  INTEGER PRIMARY KEY,
    miro_user_id        TEXT    NOT NULL UNIQUE,
    email               TEXT    NOT NULL DEFAULT '',
    name                TEXT    NOT NULL DEFAULT '',
    org_role            TEXT    NOT NULL DEFAULT '',
    admin_roles         TEXT    NOT NULL DEFAULT '[]',
    license             TEXT    NOT NULL DEFAULT '',
    license_exact       BOOLEAN NOT NULL DEFAULT FALSE,
    active              BOOLEAN NOT NULL DEFAULT TRUE,
    last_activity_at    TEXT,
    license_assigned_at TEXT,
    first_seen_at       TEXT,
    -- Only meaningful once left_at is set; until then the last sync of the
    -- connections that see the account is the answer.
    last_seen_at        TEXT,
    left_at             TEXT
);
CREATE INDEX accounts_email ON accounts (email, id);
CREATE INDEX accounts_license ON accounts (license);
CREATE INDEX accounts_org_role ON accounts (org_role);
CREATE INDEX accounts_last_activity_at ON accounts (last_activity_at);

-- Sightings: the accounts a connection sees.
CREATE TABLE connection_accounts (
    connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (connection_id, account_id)
);
CREATE INDEX connection_accounts_account_id ON connection_accounts (account_id);

CREATE TABLE memberships (
    miro_team_id TEXT    NOT NULL REFERENCES teams (miro_team_id),
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    role         TEXT    NOT NULL,
    PRIMARY KEY (miro_team_id, account_id)
);
CREATE INDEX memberships_account_id ON memberships (account_id);

CREATE TABLE sync_runs (
    id            INTEGER PRIMARY KEY,
    connection_id INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    source        TEXT    NOT NULL DEFAULT '',
    status        TEXT    NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
    error         TEXT    NOT NULL DEFAULT '',
    started_at    TEXT    NOT NULL,
    ended_at      TEXT,
    pages         INTEGER NOT NULL DEFAULT 0,
    api_calls     INTEGER NOT NULL DEFAULT 0,
    credits       INTEGER NOT NULL DEFAULT 0,
    added         INTEGER NOT NULL DEFAULT 0,
    changed       INTEGER NOT NULL DEFAULT 0,
    removed       INTEGER NOT NULL DEFAULT 0,
    usage_note    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sync_runs_connection_id ON sync_runs (connection_id, id);

CREATE TABLE changes (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    sync_run_id  INTEGER NOT NULL REFERENCES sync_runs (id),
    kind         TEXT    NOT NULL,
    miro_team_id TEXT    NOT NULL DEFAULT '',
    old_value    TEXT    NOT NULL DEFAULT '',
    new_value    TEXT    NOT NULL DEFAULT '',
    at           TEXT    NOT NULL
);
CREATE INDEX changes_account_id ON changes (account_id);
CREATE INDEX changes_sync_run_id ON changes (sync_run_id);

-- +goose Down
DROP TABLE changes;
DROP TABLE sync_runs;
DROP TABLE memberships;
DROP TABLE connection_accounts;
DROP TABLE accounts;
DROP TABLE connection_teams;
DROP TABLE teams;
DROP TABLE organizations;
DROP TABLE connections;
DROP TABLE meta;
