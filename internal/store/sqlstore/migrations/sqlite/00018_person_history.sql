-- +goose Up
-- The user page's history: one person's actions, by Miro user id and by
-- email (an invite of someone not yet known names only the email), and
-- one directory person's joined and left events, each newest first.
CREATE INDEX actions_miro_user_id ON actions (miro_user_id, id);
CREATE INDEX actions_email ON actions (email, id);
CREATE INDEX person_events_person_id ON person_events (person_id, id);

-- +goose Down
DROP INDEX person_events_person_id;
DROP INDEX actions_email;
DROP INDEX actions_miro_user_id;
