-- +goose Up
-- The notification channels' settings saved in the dashboard (Settings →
-- Notifications), one row per channel: email, slack, webhook. sealed is
-- the settings' JSON sealed with the secret key, secrets and all, so the
-- database never holds a password or webhook URL in the clear. Flags and
-- environment variables win over a row for the channel they set.
CREATE TABLE notification_channels (
    channel    TEXT PRIMARY KEY CHECK (channel IN ('email', 'slack', 'webhook')),
    sealed     BLOB NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

-- +goose Down
DROP TABLE notification_channels;
