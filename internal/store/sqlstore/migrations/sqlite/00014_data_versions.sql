-- +goose Up
-- A version per kind of data, raised by every transaction that writes it.
-- A process keeps what it computed from the accounts (the overview's
-- counts) with the version it read them at, and reuses them while the
-- version stands: one row read instead of a scan of every account, and
-- right across processes sharing the database.
CREATE TABLE data_versions (
    name    TEXT PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO data_versions (name, version) VALUES ('accounts', 1);

-- +goose Down
DROP TABLE data_versions;
