// Package storetest is the conformance suite every store.Store passes
// (RunTests), and the helpers other packages' tests use to run on each
// backend: SQLite always, PostgreSQL when ROSTER_TEST_POSTGRES_URL is set.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create schemas
	"github.com/stretchr/testify/require"

	"roster/internal/store/sqlstore"
)

// PostgresDSN returns the DSN of a fresh, empty schema in the database
// ROSTER_TEST_POSTGRES_URL names, dropped when t ends. Without that
// variable it skips t, or fails it when ROSTER_REQUIRE_POSTGRES=1.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("ROSTER_TEST_POSTGRES_URL")
	if base == "" {
		if os.Getenv("ROSTER_REQUIRE_POSTGRES") == "1" {
			t.Fatal("ROSTER_TEST_POSTGRES_URL not set but ROSTER_REQUIRE_POSTGRES=1: PostgreSQL tests are required")
		}
		t.Skip("ROSTER_TEST_POSTGRES_URL not set: PostgreSQL tests skipped")
	}
	u, err := url.Parse(base)
	require.NoError(t, err, "ROSTER_TEST_POSTGRES_URL is not a URL")

	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "roster_test_" + hex.EncodeToString(b[:])

	admin, err := sql.Open("pgx", base)
	require.NoError(t, err)
	defer admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = admin.ExecContext(ctx, `CREATE SCHEMA `+schema)
	require.NoError(t, err, "create schema %s in %s", schema, u.Redacted())
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})

	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// SQLiteDSN returns the path of a new SQLite database in t's temporary
// directory.
func SQLiteDSN(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "roster.db")
}

// ForEachBackend runs fn as subtests "sqlite" and "postgres", each with the
// DSN of a fresh database. The postgres subtest skips (or fails, under
// ROSTER_REQUIRE_POSTGRES=1) when PostgreSQL is not configured.
func ForEachBackend(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLiteDSN(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, PostgresDSN(t)) })
}

// Backends runs fn as subtests "sqlite" and "postgres", each with a fresh,
// migrated store closed when the subtest ends.
func Backends(t *testing.T, fn func(t *testing.T, db *sqlstore.DB)) {
	ForEachBackend(t, func(t *testing.T, dsn string) { fn(t, Open(t, dsn)) })
}

// Stores opens a fresh, migrated store on each backend, closed when tb
// ends: SQLite always, PostgreSQL when ROSTER_TEST_POSTGRES_URL is set (or
// required). Fuzz targets use it to check every input on both, since
// they cannot run subtests while setting up. Commits do not wait for the
// disk: a fuzz target writes thousands of times a second and never
// reopens its store.
func Stores(tb testing.TB) []*sqlstore.DB {
	tb.Helper()
	lite := Open(tb, SQLiteDSN(tb))
	_, err := lite.SQL().Exec(`PRAGMA synchronous = OFF`)
	require.NoError(tb, err)
	dbs := []*sqlstore.DB{lite}
	if os.Getenv("ROSTER_TEST_POSTGRES_URL") != "" || os.Getenv("ROSTER_REQUIRE_POSTGRES") == "1" {
		u, err := url.Parse(PostgresDSN(tb))
		require.NoError(tb, err)
		q := u.Query()
		q.Set("synchronous_commit", "off") // a run-time parameter, set by pgx on every connection
		u.RawQuery = q.Encode()
		dbs = append(dbs, Open(tb, u.String()))
	}
	return dbs
}

// Open opens and migrates the database dsn names, closed when t ends.
func Open(t testing.TB, dsn string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// Dump returns every row of every roster table, one line per row in a
// stable order, so a test can prove that something changed nothing. On
// PostgreSQL each row also shows its xmin, the transaction that last wrote
// it, so even rewriting a row with the same values shows.
func Dump(t testing.TB, db *sqlstore.DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range append(sqlstore.Tables(), sqlstore.OperateTables()...) {
		out[table] = dumpTable(t, db, table)
	}
	return out
}

func dumpTable(t testing.TB, store *sqlstore.DB, table string) []string {
	t.Helper()
	ctx := context.Background()
	db := store.SQL()
	cols := "*"
	if store.Dialect() == "postgres" {
		cols = "xmin, *"
	}
	rows, err := db.QueryContext(ctx, `SELECT `+cols+` FROM `+table+` WHERE 1 = 0`)
	require.NoError(t, err)
	names, err := rows.Columns()
	require.NoError(t, err)
	rows.Close()
	var order []string
	for i, n := range names {
		if n != "xmin" { // xid has no ordering operator
			order = append(order, fmt.Sprint(i+1))
		}
	}
	rows, err = db.QueryContext(ctx, `SELECT `+cols+` FROM `+table+` ORDER BY `+strings.Join(order, ", "))
	require.NoError(t, err)
	defer rows.Close()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(names))
		ptrs := make([]any, len(names))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		var b strings.Builder
		for i, v := range vals {
			if i > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(names[i])
			b.WriteByte('=')
			switch v := v.(type) {
			case []byte:
				b.WriteString(hex.EncodeToString(v))
			case time.Time:
				b.WriteString(v.UTC().Format(time.RFC3339Nano))
			default:
				fmt.Fprint(&b, v)
			}
		}
		lines = append(lines, b.String())
	}
	require.NoError(t, rows.Err())
	return lines
}
