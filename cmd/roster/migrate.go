package main

import (
	"context"
	"fmt"
	"io"

	"roster/internal/jobs"
)

// runMigrate is `roster migrate`: apply the database migrations (opening
// the store applies roster's; River's job tables follow) and say where the
// schema stands.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", "", "Applies pending database migrations and prints the schema version. serve and the other\ncommands apply them too when they start.", stderr)
	fs.globals()
	if err := fs.parse(args); err != nil {
		return err
	}
	a, err := openStore(ctx, fs.global, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := jobs.Migrate(ctx, a.db, a.dsn, a.logger); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	// goose records each applied migration in goose_db_version.
	var version int64
	if err := a.db.SQL().QueryRowContext(ctx, "SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version").Scan(&version); err != nil {
		return fmt.Errorf("migrate: read the schema version: %w", err)
	}
	fmt.Fprintf(stdout, "database: %s, schema version %d (up to date), job tables migrated\n", a.db.Dialect(), version)
	return nil
}
