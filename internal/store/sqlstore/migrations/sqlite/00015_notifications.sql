-- +goose Up
-- Every message roster sends or tries to send, on any channel: the
-- Sent notifications page, and the only delivery of the outbox channel.
-- key is the message's own (a workflow run's step): sending it again on
-- the same channel updates its row and counts the attempt (a renewal
-- reminder goes to Slack and the webhook under one key: two rows).
-- retry_at is when a failed message is tried again by itself, NULL when
-- it is not.
CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    key        TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    recipients TEXT    NOT NULL DEFAULT '[]',
    subject    TEXT    NOT NULL DEFAULT '',
    body       TEXT    NOT NULL DEFAULT '',
    event      TEXT    NOT NULL DEFAULT '',
    run_id     INTEGER NOT NULL DEFAULT 0,
    status     TEXT    NOT NULL CHECK (status IN ('sent', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 1,
    error      TEXT    NOT NULL DEFAULT '',
    retry_at   TEXT,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    UNIQUE (key, channel)
);
CREATE INDEX notifications_retry ON notifications (retry_at) WHERE retry_at IS NOT NULL;

-- +goose Down
DROP TABLE notifications;
