-- +goose Up
-- The teams list pages by (name, miro_team_id): this index is its keyset,
-- so a page reads its teams in order from the cursor on and only their
-- memberships are counted.
CREATE INDEX teams_name ON teams (name, miro_team_id);

-- +goose Down
DROP INDEX teams_name;
