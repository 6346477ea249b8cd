package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
)

// Both dialects must have the same migrations, by number and name.
func TestMigrationsMatch(t *testing.T) {
	t.Parallel()
	names := func(dir string) []string {
		entries, err := os.ReadDir(filepath.Join("migrations", dir))
		require.NoError(t, err)
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	sqlite, postgres := names("sqlite"), names("postgres")
	require.NotEmpty(t, sqlite)
	require.Equal(t, sqlite, postgres)
	for _, n := range sqlite {
		require.Regexp(t, `^\d{5}_[a-z0-9_]+\.sql$`, n)
	}
}

func TestOpenSQLite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	for _, dsn := range []string{
		filepath.Join(dir, "plain.db"),
		"sqlite:" + filepath.Join(dir, "prefixed.db"),
		"file:" + filepath.Join(dir, "file.db"),
	} {
		db, err := sqlstore.Open(ctx, dsn)
		require.NoError(t, err, dsn)
		require.Equal(t, "sqlite", db.Dialect())
		require.NoError(t, db.Ping(ctx))
		require.NoError(t, db.Migrate(ctx), "migrating twice is a no-op")

		var fk int
		var journal string
		require.NoError(t, db.SQL().QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk))
		require.NoError(t, db.SQL().QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&journal))
		require.Equal(t, 1, fk)
		require.Equal(t, "wal", journal)
		require.Equal(t, 1, db.SQL().Stats().MaxOpenConnections)
		require.NoError(t, db.Close())
	}
	require.FileExists(t, filepath.Join(dir, "plain.db"))
	require.FileExists(t, filepath.Join(dir, "prefixed.db"))
	require.FileExists(t, filepath.Join(dir, "file.db"))

	// Reopening keeps the data.
	path := filepath.Join(dir, "plain.db")
	db, err := sqlstore.Open(ctx, path)
	require.NoError(t, err)
	require.NoError(t, db.SetMeta(ctx, "k", "v"))
	require.NoError(t, db.Close())
	db, err = sqlstore.Open(ctx, path)
	require.NoError(t, err)
	v, err := db.Meta(ctx, "k")
	require.NoError(t, err)
	require.Equal(t, "v", v)
	require.NoError(t, db.Close())
}

func TestOpenErrBadDSN(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		dsn, want string
	}{
		{filepath.Join(t.TempDir(), "missing", "roster.db"), "does not exist: create it first"},
		{"", "empty SQLite path"},
		{"sqlite:", "empty SQLite path"},
		{"mysql://root:hunter2@localhost/roster", "unknown database scheme"},
		{"postgres:roster", "unknown database scheme"},
		{"host=localhost user=roster password=hunter2 dbname=roster", "key=value"},
		{"postgres://roster:hunter2@localhost:notaport/roster", "invalid port"},
		{"postgres://roster:hunter2@localhost/roster?sslmode=bogus", "sslmode"},
		{"postgres://roster:hunter2@127.0.0.1:1/roster?connect_timeout=2", "127.0.0.1:1"},
	} {
		_, err := sqlstore.Open(ctx, tc.dsn)
		require.Error(t, err, tc.dsn)
		require.ErrorContains(t, err, tc.want, tc.dsn)
		require.NotContains(t, err.Error(), "hunter2", "a DSN's password must never be shown")
	}
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err := sqlstore.Open(ctx, filepath.Join(file, "roster.db"))
	require.ErrorContains(t, err, "is not a directory")
}

func TestOpenPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	db, err := sqlstore.Open(ctx, dsn)
	require.NoError(t, err)
	defer db.Close()
	require.Equal(t, "postgres", db.Dialect())
	require.NoError(t, db.Ping(ctx))
	require.NoError(t, db.Migrate(ctx))
	// A second process opening the same database finds it migrated.
	db2, err := sqlstore.Open(ctx, dsn)
	require.NoError(t, err)
	require.NoError(t, db2.Close())
}

// Processes starting together on one PostgreSQL database migrate it once.
func TestOpenPostgresConcurrentMigrate(t *testing.T) {
	t.Parallel()
	dsn := storetest.PostgresDSN(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			db, err := sqlstore.Open(context.Background(), dsn)
			if err == nil {
				err = db.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		require.NoError(t, <-errs)
	}
}

// The database and its WAL files are readable by their owner only,
// whatever the umask: they hold sealed tokens and people's data.
func TestSQLiteFilesPrivate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "roster.db")
	db, err := sqlstore.Open(ctx, path)
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.Migrate(ctx))
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		require.NoError(t, err, name)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), name)
	}
}
