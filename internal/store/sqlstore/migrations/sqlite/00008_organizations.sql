-- +goose Up
-- Every insight is per Miro organization. An account's org_id is the
-- organization whose data describes it: an organization-level sync sets
-- it; a team-level sync sets it only where no organization-level one has.
ALTER TABLE accounts ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
UPDATE accounts SET org_id = COALESCE((SELECT c.org_id FROM connection_accounts ca
    JOIN connections c ON c.id = ca.connection_id
    WHERE ca.account_id = accounts.id
    ORDER BY (c.level = 'organization') DESC, c.id LIMIT 1), '');
DROP INDEX accounts_overview;
CREATE INDEX accounts_overview ON accounts (org_id, active, license, org_role, license_exact, last_activity_at, license_assigned_at, first_seen_at, left_at);

-- What an organization's Miro contract says: per license, seats bought
-- and the price of one seat per billing period. Seats of the full license
-- come from Miro where it says (organizations.full_licenses_purchased).
-- reminded_for is the renewal date a reminder was last sent for.
CREATE TABLE contracts (
    org_id       TEXT    PRIMARY KEY,
    currency     TEXT    NOT NULL,
    billing      TEXT    NOT NULL CHECK (billing IN ('month', 'year')),
    renewal_on   TEXT    NOT NULL DEFAULT '',
    remind_days  INTEGER NOT NULL DEFAULT 0,
    reminded_for TEXT    NOT NULL DEFAULT '',
    licenses     TEXT    NOT NULL DEFAULT '{}',
    updated_at   TEXT    NOT NULL
);

-- The last sync of each day, per organization and license: the Licenses
-- trend on a real time axis. Days are UTC, 'YYYY-MM-DD'; two years are kept.
CREATE TABLE license_days (
    day           TEXT    NOT NULL,
    org_id        TEXT    NOT NULL,
    license       TEXT    NOT NULL,
    purchased     INTEGER NOT NULL,
    assigned      INTEGER NOT NULL,
    active        INTEGER NOT NULL,
    inactive      INTEGER NOT NULL,
    usage_unknown INTEGER NOT NULL,
    PRIMARY KEY (day, org_id, license)
);

-- +goose Down
DROP TABLE license_days;
DROP TABLE contracts;
DROP INDEX accounts_overview;
CREATE INDEX accounts_overview ON accounts (active, license, org_role, license_exact, last_activity_at, license_assigned_at, first_seen_at, left_at);
ALTER TABLE accounts DROP COLUMN org_id;
