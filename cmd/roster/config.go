package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"roster/internal/connect"
	"roster/internal/secret"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
)

// metaKeyCheck is the store Meta key holding the secret key's check value.
const metaKeyCheck = "secret_key_check"

// flagSet is one subcommand's flags: its own plus the global ones, each
// also settable by a ROSTER_* environment variable (flags win).
type flagSet struct {
	*flag.FlagSet
	name   string
	stderr io.Writer
	env    map[string]string // flag name → environment variable
	global globalFlags
}

// globalFlags configure where roster keeps its data; every command that
// opens the store has them.
type globalFlags struct {
	dataDir  string
	database string
	logLevel string
}

// newFlagSet starts the flag set of `roster <name>`. about is the usage
// text's first paragraph.
func newFlagSet(name, args, about string, stderr io.Writer) *flagSet {
	if args != "" && !strings.HasPrefix(args, " ") {
		args = " " + args
	}
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), name: name, stderr: stderr, env: map[string]string{}}
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: roster %s [flags]%s\n\n%s\n\nFlags (each also set by the environment variable shown):\n", name, args, about)
		fs.PrintDefaults()
	}
	return fs
}

// globals adds --data-dir, --database and --log-level.
func (fs *flagSet) globals() {
	fs.StringVar(&fs.global.dataDir, "data-dir", "./roster-data", "directory for roster's data: the SQLite database and the secret key file (created 0700)")
	fs.StringVar(&fs.global.database, "database", "", "database: a SQLite file or postgres://user:pass@host/db (default <data-dir>/roster.db)")
	fs.StringVar(&fs.global.logLevel, "log-level", "info", "log level: debug, info, warn or error (logs go to stderr)")
	fs.envName("data-dir", "ROSTER_DATA_DIR")
	fs.envName("database", "ROSTER_DATABASE")
	fs.envName("log-level", "ROSTER_LOG_LEVEL")
}

// envName sets the environment variable of a flag; the default is
// ROSTER_<COMMAND>_<FLAG>.
func (fs *flagSet) envName(flagName, env string) { fs.env[flagName] = env }

func (fs *flagSet) envOf(flagName string) string {
	if e, ok := fs.env[flagName]; ok {
		return e
	}
	// "directory import" and "--dry-run" both become words of the name.
	up := func(s string) string { return strings.ToUpper(strings.NewReplacer("-", "_", " ", "_").Replace(s)) }
	return "ROSTER_" + up(fs.name) + "_" + up(flagName)
}

// parse applies the environment, then args. Every mistake is a usageError
// naming the flag or variable; -h returns flag.ErrHelp.
func (fs *flagSet) parse(args []string) error {
	var names []string
	fs.VisitAll(func(f *flag.Flag) {
		f.Usage += " [" + fs.envOf(f.Name) + "]"
		names = append(names, f.Name)
	})
	sort.Strings(names)
	for _, n := range names {
		env := fs.envOf(n)
		v, ok := os.LookupEnv(env)
		if !ok {
			continue
		}
		if err := fs.Set(n, v); err != nil {
			return usageError{fmt.Sprintf("%s: %s=%q: %v", fs.name, env, v, err)}
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{fmt.Sprintf("%s: %v (run \"roster %s -h\" for the flags)", fs.name, err, fs.name)}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s: unexpected argument %q (run \"roster %s -h\" for the flags)", fs.name, fs.Arg(0), fs.name)}
	}
	return nil
}

// app is what every store-backed command works with.
type app struct {
	db      *sqlstore.DB
	dsn     string // what db was opened with; River's PostgreSQL pool needs it
	store   store.Store
	sealer  *secret.Sealer
	logger  *slog.Logger
	dataDir string
}

// Close closes the store.
func (a *app) Close() error {
	if err := a.db.Close(); err != nil {
		return fmt.Errorf("close the database: %w", err)
	}
	return nil
}

// newClients is the owner of the Miro clients of a command: every sync,
// action and revocation it runs goes through it, so that one token has
// one client and one credit pacer. miroApp's client id and secret
// refresh expiring tokens.
func (a *app) newClients(miroApp connect.App, hc *http.Client) *connect.Clients {
	return &connect.Clients{App: miroApp, Store: a.store, Sealer: a.sealer, HTTPClient: hc, Logger: a.logger}
}

// parseLogLevel reads debug, info, warn or error.
func parseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, usageError{fmt.Sprintf("--log-level must be debug, info, warn or error, got %q", s)}
	}
	return l, nil
}

// openApp creates the data directory, opens the database (applying
// migrations) and loads the secret key, checking it against the one the
// database was first used with, so that a wrong key fails here rather
// than as garbage later.
func openApp(ctx context.Context, g globalFlags, stderr io.Writer) (*app, error) {
	a, err := openStore(ctx, g, stderr)
	if err != nil {
		return nil, err
	}
	if err := a.loadKey(ctx); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// openStore is openApp without the secret key, for commands that never
// touch a token (migrate).
func openStore(ctx context.Context, g globalFlags, stderr io.Writer) (*app, error) {
	level, err := parseLogLevel(g.logLevel)
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if g.dataDir == "" {
		return nil, usageError{"--data-dir must not be empty"}
	}
	if err := os.MkdirAll(g.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create the data directory: %w", err)
	}
	dsn := g.database
	if dsn == "" {
		dsn = filepath.Join(g.dataDir, "roster.db")
	}
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open the database (--database): %w", err)
	}
	return &app{db: db, dsn: dsn, store: db, logger: logger, dataDir: g.dataDir}, nil
}

// loadKey loads the secret key and verifies it against the check value
// stored at first use.
func (a *app) loadKey(ctx context.Context) error {
	key, err := secret.LoadKey(a.dataDir)
	if err != nil {
		return fmt.Errorf("load the secret key: %w", err)
	}
	sealer := secret.NewSealer(key)
	check, err := a.store.Meta(ctx, metaKeyCheck)
	switch {
	case errors.Is(err, store.ErrNotFound):
		check, err := sealer.KeyCheck()
		if err != nil {
			return fmt.Errorf("record the secret key check: %w", err)
		}
		if err := a.store.SetMeta(ctx, metaKeyCheck, check); err != nil {
			return fmt.Errorf("record the secret key check: %w", err)
		}
	case err != nil:
		return fmt.Errorf("read the secret key check: %w", err)
	default:
		if err := sealer.VerifyKeyCheck(check); err != nil {
			if errors.Is(err, secret.ErrWrongKey) {
				return fmt.Errorf("%w; restore the key this database was first used with", err)
			}
			return fmt.Errorf("verify the secret key: %w", err)
		}
	}
	a.sealer = sealer
	return nil
}
