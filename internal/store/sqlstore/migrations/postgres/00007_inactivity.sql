-- +goose Up
-- Inactivity runs from the later of the last activity and the license's
-- assignment (first seen where Miro gives neither): the overview's grouped
-- scan needs both times in its index to stay index-only.
DROP INDEX accounts_overview;
CREATE INDEX accounts_overview ON accounts (active, license, org_role, license_exact, last_activity_at, license_assigned_at, first_seen_at, left_at);

-- +goose Down
DROP INDEX accounts_overview;
CREATE INDEX accounts_overview ON accounts (active, license, org_role, license_exact, last_activity_at, left_at);
