package jobs

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
)

// migrate applies River's pending migrations to its tables in schema (""
// on SQLite).
func migrate[TTx any](ctx context.Context, driver riverdriver.Driver[TTx], schema string, logger *slog.Logger) error {
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Schema: schema, Logger: logger.With("component", "rivermigrate")})
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	// The migrator logs each version it applies.
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return nil
}

// withMigrationLock runs fn holding a PostgreSQL advisory lock, one per
// schema, so that of several processes starting at once one migrates and
// the others wait: rivermigrate takes no lock itself. The lock belongs to
// a transaction, so it is released whatever happens to fn or the
// connection.
func withMigrationLock(ctx context.Context, pool *pgxpool.Pool, schema string, fn func() error) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("river migrations: lock: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey("roster river migrations", schema)); err != nil {
		return fmt.Errorf("river migrations: lock: %w", err)
	}
	return fn()
}

// lockKey is the advisory lock of name in schema: one per schema, so that
// tests in separate schemas do not wait on each other.
func lockKey(name, schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name + " " + schema))
	return int64(h.Sum64())
}
