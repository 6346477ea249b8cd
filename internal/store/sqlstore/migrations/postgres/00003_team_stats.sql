-- +goose Up
-- The teams list pages by (name, miro_team_id): this index is its keyset,
-- so a page reads its teams in order from the cursor on and only their
-- memberships are counted. name sorts bytewise, as on SQLite and as the
-- accounts' name does, so both dialects page alike.
ALTER TABLE teams ALTER COLUMN name TYPE TEXT COLLATE "C";
CREATE INDEX teams_name ON teams (name, miro_team_id);

-- +goose Down
DROP INDEX teams_name;
ALTER TABLE teams ALTER COLUMN name TYPE TEXT;
