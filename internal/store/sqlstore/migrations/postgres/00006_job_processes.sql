-- +goose Up
-- The processes that work jobs (`roster serve`), by River client id. Each
-- adds one to beats every quarter of its lease; one whose beats stop for
-- a lease is dead, and the jobs it held are rescued (internal/jobs).
-- Counting, not a time, needs no agreement between the machines' clocks.
CREATE TABLE job_processes (
    id         TEXT COLLATE "C" PRIMARY KEY,
    beats      BIGINT      NOT NULL DEFAULT 0,
    started_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE job_processes;
