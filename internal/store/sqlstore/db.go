// Package sqlstore is roster's store.Store over database/sql, for SQLite
// (modernc.org/sqlite, the embedded default) and PostgreSQL (pgx). Each
// query is written once in portable SQL with $N placeholders, which both
// drivers accept; the schema is one goose migration folder per dialect.
//
// Conventions shared by both dialects: times are UTC with microsecond
// precision (TEXT in a fixed layout on SQLite, TIMESTAMPTZ on PostgreSQL),
// NULL is the zero time.Time, and string lists are JSON arrays in TEXT.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"roster/internal/store"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// DB is a store.Store on SQLite or PostgreSQL.
type DB struct {
	db      *sql.DB
	dialect dialect
	// lockID is the PostgreSQL advisory lock that serialises migrations:
	// one per schema, so schemas of one database migrate independently.
	lockID int64
	// Now is the clock for CreatedAt, UpdatedAt and defaulted times; tests
	// may replace it before use.
	Now func() time.Time
	// kept is the overview's last account groups (overviewGroups).
	kept keptGroups
}

var _ store.Store = (*DB)(nil)

// dialect holds what truly differs between the two databases. The SQL
// itself does not.
type dialect struct {
	name       string // "sqlite" or "postgres"
	goose      database.Dialect
	migrations string // folder in the embedded FS
	// readTx is how a consistent multi-query read (Snapshot) begins.
	readTx *sql.TxOptions
	// isUnique reports a unique-constraint violation.
	isUnique func(error) bool
	// maxParams bounds the placeholders of one batched statement.
	maxParams int
	// lockRows, after a SELECT, locks its rows until the transaction
	// ends; empty where transactions never overlap.
	lockRows string
}

var sqliteDialect = dialect{
	name:       "sqlite",
	goose:      database.DialectSQLite3,
	migrations: "migrations/sqlite",
	// One connection, one transaction at a time: any transaction is a
	// consistent snapshot.
	readTx: &sql.TxOptions{ReadOnly: true},
	isUnique: func(err error) bool {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	},
	// modernc looks each bound parameter up by name, in time linear in
	// the statement's parameters: small statements bind fastest.
	maxParams: 300,
}

var postgresDialect = dialect{
	name:       "postgres",
	goose:      database.DialectPostgres,
	migrations: "migrations/postgres",
	readTx:     &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead},
	isUnique: func(err error) bool {
		var e *pgconn.PgError
		return errors.As(err, &e) && e.Code == "23505"
	},
	maxParams: 65000, // the protocol's limit is 65535
	// Not FOR UPDATE: inserting a row that references the account (a
	// change, a membership) must not wait for it.
	lockRows: "FOR NO KEY UPDATE",
}

// Open opens the database a DSN names and applies pending migrations.
// "postgres://…" and "postgresql://…" are PostgreSQL; anything else is a
// SQLite file path, optionally prefixed "sqlite:" or "file:", created if
// missing (its directory must exist).
func Open(ctx context.Context, dsn string) (*DB, error) {
	var (
		db  *DB
		err error
	)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db, err = openPostgres(ctx, dsn)
	} else {
		db, err = openSQLite(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.db.Close()
		return nil, err
	}
	return db, nil
}

func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		// The parse error quotes the DSN, password included: give only
		// its reason.
		reason := err.Error()
		if ue, ok := err.(*url.Error); ok {
			reason = ue.Err.Error()
		}
		return nil, fmt.Errorf("sqlstore: open: the PostgreSQL DSN is not a valid URL: %s (expected postgres://user:password@host:port/database?sslmode=...)", reason)
	}
	shown := u.Redacted()
	if _, err := pgconn.ParseConfig(dsn); err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: invalid PostgreSQL DSN: %s", shown, pgParseReason(err))
	}
	sdb, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", shown, err)
	}
	// Enough for the web tier, the sync and the job workers of one process.
	sdb.SetMaxOpenConns(20)
	sdb.SetMaxIdleConns(5)
	sdb.SetConnMaxIdleTime(5 * time.Minute)
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", shown, err)
	}
	var schema sql.NullString
	if err := sdb.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		sdb.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %w", shown, err)
	}
	if !schema.Valid {
		sdb.Close()
		return nil, fmt.Errorf("sqlstore: open %s: no schema of the search_path exists", shown)
	}
	h := fnv.New64a()
	h.Write([]byte("roster migrations " + schema.String))
	return &DB{db: sdb, dialect: postgresDialect, lockID: int64(h.Sum64()), Now: time.Now}, nil
}

// pgParseReason is pgconn's parse error without the connection string it
// quotes (pgconn redacts the password, but the reason alone is clearer).
func pgParseReason(err error) string {
	if u := errors.Unwrap(err); u != nil {
		return u.Error()
	}
	return err.Error()
}

// createPrivate creates the database file readable by its owner only
// (0600) when it does not exist: it holds sealed tokens, API key hashes
// and people's data. SQLite gives its WAL and shared-memory files the
// main file's mode.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create the file: %w", err)
	}
	return f.Close()
}

func openSQLite(ctx context.Context, dsn string) (*DB, error) {
	path := dsn
	for _, p := range []string{"sqlite://", "sqlite:", "file://", "file:"} {
		if strings.HasPrefix(path, p) {
			path = strings.TrimPrefix(path, p)
			break
		}
	}
	var query string
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path, query = path[:i], path[i+1:]
	}
	if path == "" {
		return nil, fmt.Errorf("sqlstore: open %q: empty SQLite path (expected a file path or postgres://...)", dsn)
	}
	if strings.Contains(dsn, "://") && !strings.HasPrefix(dsn, "sqlite://") && !strings.HasPrefix(dsn, "file://") ||
		strings.HasPrefix(dsn, "postgres:") || strings.HasPrefix(dsn, "postgresql:") {
		return nil, fmt.Errorf("sqlstore: open %q: unknown database scheme (expected postgres://..., postgresql://... or a SQLite file path)", redactURL(dsn))
	}
	// A libpq key=value string would otherwise become an odd file name.
	if strings.Contains(path, "=") && strings.Contains(path, " ") {
		return nil, errors.New("sqlstore: open: the DSN looks like PostgreSQL key=value settings: write it as postgres://user:password@host:port/database")
	}
	// denied says "permission denied on DIR" when SQLite could not open
	// the file because the directory (which must take the -wal and -shm
	// files) or the file is not writable: SQLite itself says only
	// "unable to open database file (14)".
	denied := func(path string) error {
		dir := filepath.Dir(path)
		if f, err := os.CreateTemp(dir, ".roster-write-check-*"); err != nil {
			if errors.Is(err, fs.ErrPermission) {
				return fmt.Errorf("permission denied on %s: roster writes the database and its -wal and -shm files there: %w", dir, fs.ErrPermission)
			}
		} else {
			f.Close()
			os.Remove(f.Name())
		}
		if f, err := os.OpenFile(path, os.O_RDWR, 0); err != nil {
			if errors.Is(err, fs.ErrPermission) {
				return fmt.Errorf("permission denied on %s: the database file must be writable: %w", path, fs.ErrPermission)
			}
		} else {
			f.Close()
		}
		return nil
	}
	if path != ":memory:" {
		dir := filepath.Dir(path)
		fi, err := os.Stat(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("sqlstore: open SQLite database %s: directory %s does not exist: create it first", path, dir)
		}
		if err != nil {
			return nil, fmt.Errorf("sqlstore: open SQLite database %s: %w", path, err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("sqlstore: open SQLite database %s: %s is not a directory", path, dir)
		}
		if err := createPrivate(path); err != nil {
			if d := denied(path); d != nil {
				err = d
			}
			return nil, fmt.Errorf("sqlstore: open SQLite database %s: %w", path, err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	// 64 MiB of page cache: with SQLite's 2 MiB, each scan of 100,000
	// accounts read its pages again, a system call each. (Not mmap: a
	// disk error would then kill the process rather than fail a query.)
	q.Add("_pragma", "cache_size(-65536)")
	// synchronous stays FULL: a rotated token, once saved, must survive
	// a power cut, and commits are few.
	// Writers take the lock at BEGIN, so two processes never deadlock
	// upgrading a read lock.
	q.Set("_txlock", "immediate")
	full := path + "?" + q.Encode()
	if query != "" {
		full += "&" + query
	}
	sdb, err := sql.Open("sqlite", full)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open SQLite database %s: %w", path, err)
	}
	// One connection, as River's SQLite driver advises: SQLite has one
	// writer anyway, and this keeps BUSY errors out of the process.
	sdb.SetMaxOpenConns(1)
	sdb.SetConnMaxIdleTime(0)
	sdb.SetConnMaxLifetime(0)
	if err := sdb.PingContext(ctx); err != nil {
		sdb.Close()
		if path != ":memory:" {
			if d := denied(path); d != nil {
				err = d
			}
		}
		return nil, fmt.Errorf("sqlstore: open SQLite database %s: %w", path, err)
	}
	return &DB{db: sdb, dialect: sqliteDialect, Now: time.Now}, nil
}

func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

func (db *DB) provider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, db.dialect.migrations)
	if err != nil {
		return nil, err
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if db.dialect.name == "postgres" {
		// Several `roster serve` processes may start at once on one
		// database: an advisory lock lets one migrate while the others wait.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(db.lockID), lock.WithLockTimeout(1, 600))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(db.dialect.goose, db.db, sub, opts...)
}

// Migrate applies pending migrations, each in its own transaction.
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.provider()
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	return nil
}

// Dialect is "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect.name }

// SQL is the underlying handle, for River and for tests that dump tables.
func (db *DB) SQL() *sql.DB { return db.db }

// Close closes the database.
func (db *DB) Close() error { return db.db.Close() }

// Ping checks the database answers and has no pending migration.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	p, err := db.provider()
	if err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: ping: %w", err)
	}
	if pending {
		return errors.New("sqlstore: ping: migrations are pending: run roster migrate")
	}
	return nil
}

// Tables lists the inventory's tables, parents before children: what
// syncs keep, which tests dump to prove a sync wrote nothing.
func Tables() []string {
	return []string{"meta", "connections", "organizations", "teams", "connection_teams",
		"accounts", "connection_accounts", "memberships", "sync_runs", "changes"}
}

// OperateTables lists the tables of operating roster, parents before
// children: people, settings, the audit log and actions.
func OperateTables() []string {
	return []string{"operators", "sessions", "api_keys", "settings", "audit_log", "actions"}
}

// now is the clock in the stored precision.
func (db *DB) now() time.Time { return db.Now().UTC().Truncate(time.Microsecond) }

// inTx runs fn in a write transaction and commits it.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// conflict maps a unique violation to store.ErrConflict, keeping the cause.
func (db *DB) conflict(err error) error {
	if err != nil && db.dialect.isUnique(err) {
		return fmt.Errorf("%w: %v", store.ErrConflict, err)
	}
	return err
}
