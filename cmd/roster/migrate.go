package main

import (
	"context"
	"fmt"
	"io"
)

// runMigrate is `roster migrate`: apply the database migrations (opening
// the store does) and say where the schema stands.
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
	// goose records each applied migration in goose_db_version.
	var version int64
	if err := a.db.SQL().QueryRowContext(ctx, "SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version").Scan(&version); err != nil {
		return fmt.Errorf("migrate: read the schema version: %w", err)
	}
	fmt.Fprintf(stdout, "database: %s, schema version %d (up to date)\n", a.db.Dialect(), version)
	return nil
}
