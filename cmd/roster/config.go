package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"roster/internal/connect"
	"roster/internal/notify"
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
	// from is where each set flag's value came from: "--name" or the
	// environment variable, so that an error names the setting to fix.
	from   map[string]string
	global globalFlags
	// notify, when the command has the channels' flags (addNotifyFlags).
	notify *notify.Config
}

// globalFlags configure where roster keeps its data; every command that
// opens the store has them.
type globalFlags struct {
	dataDir  string
	database string
	logLevel string
	// dataDirFrom and databaseFrom name the setting each came from
	// (a flag, its variable, or the default), for error messages.
	dataDirFrom  string
	databaseFrom string
}

// newFlagSet starts the flag set of `roster <name>`. about is the usage
// text's first paragraph.
func newFlagSet(name, args, about string, stderr io.Writer) *flagSet {
	if args != "" && !strings.HasPrefix(args, " ") {
		args = " " + args
	}
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), name: name, stderr: stderr, env: map[string]string{}, from: map[string]string{}}
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

// parse applies args, then the environment to the flags args left unset
// (flags win). Every mistake is a usageError naming the flag or variable;
// -h returns flag.ErrHelp.
func (fs *flagSet) parse(args []string) error {
	var names []string
	fs.VisitAll(func(f *flag.Flag) {
		f.Usage += " [" + fs.envOf(f.Name) + "]"
		names = append(names, f.Name)
	})
	sort.Strings(names)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{fmt.Sprintf("%s: %v (run \"roster %s -h\" for the flags)", fs.name, err, fs.name)}
	}
	fs.Visit(func(f *flag.Flag) { fs.from[f.Name] = "--" + f.Name })
	for _, n := range names {
		if _, given := fs.from[n]; given {
			continue
		}
		env := fs.envOf(n)
		v, ok := os.LookupEnv(env)
		if !ok {
			continue
		}
		if err := fs.Set(n, v); err != nil {
			return usageError{fmt.Sprintf("%s: %s=%q: %v", fs.name, env, v, err)}
		}
		fs.from[n] = env
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("%s: unexpected argument %q (run \"roster %s -h\" for the flags)", fs.name, fs.Arg(0), fs.name)}
	}
	fs.global.dataDirFrom = fs.setting("data-dir")
	fs.global.databaseFrom = fs.setting("database")
	return nil
}

// setting names where a flag's value came from: "--data-dir",
// "ROSTER_DATA_DIR", or "the default --data-dir".
func (fs *flagSet) setting(name string) string {
	if from, ok := fs.from[name]; ok {
		return from
	}
	return "the default --" + name
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
		return nil, fmt.Errorf("create the data directory %s (%s): %w", g.dataDir, cmp.Or(g.dataDirFrom, "--data-dir"), err)
	}
	dsn := g.database
	if dsn == "" {
		dsn = filepath.Join(g.dataDir, "roster.db")
	}
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		// Name the setting that chose the file: --database when given,
		// else the data directory.
		if g.database != "" {
			return nil, fmt.Errorf("open the database (%s): %w", cmp.Or(g.databaseFrom, "--database"), err)
		}
		return nil, fmt.Errorf("open the database in %s (%s): %w", g.dataDir, cmp.Or(g.dataDirFrom, "--data-dir"), err)
	}
	return &app{db: db, dsn: dsn, store: db, logger: logger, dataDir: g.dataDir}, nil
}

// loadKey loads the secret key and verifies it against the check value
// stored at first use (or, in a database older than the check value,
// against a sealed token). A database that already holds sealed secrets
// never gets a new key file written next to it: a missing key is an
// error, not a fresh start.
func (a *app) loadKey(ctx context.Context) error {
	check, err := a.store.Meta(ctx, metaKeyCheck)
	hasCheck := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("read the secret key check: %w", err)
	}
	var sample []byte // a sealed token, when there is no check value
	if !hasCheck {
		conns, err := a.store.Connections(ctx)
		if err != nil {
			return fmt.Errorf("read the sealed tokens: %w", err)
		}
		for _, c := range conns {
			if len(c.SealedToken) > 0 {
				sample = c.SealedToken
				break
			}
		}
	}
	source := keySource(a.dataDir)
	if hasCheck || sample != nil {
		if _, err := os.Stat(source.file); source.file != "" && errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("no secret key: this database holds secrets sealed with a key, but %s is not set and %s does not exist; "+
				"set %s (or restore %s) to the key this database was first used with (roster writes no new key next to sealed data)",
				secret.EnvKey, source.file, secret.EnvKey, source.file)
		}
	}
	key, err := secret.LoadKey(a.dataDir)
	if err != nil {
		return fmt.Errorf("load the secret key: %w", err)
	}
	sealer := secret.NewSealer(key)
	wrongKey := func(err error) error {
		return fmt.Errorf("%w; the key in use came from %s: restore the key this database was first used with", err, source.name)
	}
	switch {
	case hasCheck:
		if err := sealer.VerifyKeyCheck(check); err != nil {
			if errors.Is(err, secret.ErrWrongKey) {
				return wrongKey(err)
			}
			return fmt.Errorf("verify the secret key: %w", err)
		}
	default:
		if sample != nil {
			if _, err := sealer.Open(sample); err != nil {
				if errors.Is(err, secret.ErrWrongKey) {
					return wrongKey(err)
				}
				return fmt.Errorf("verify the secret key: %w", err)
			}
		}
		check, err := sealer.KeyCheck()
		if err != nil {
			return fmt.Errorf("record the secret key check: %w", err)
		}
		if err := a.store.SetMeta(ctx, metaKeyCheck, check); err != nil {
			return fmt.Errorf("record the secret key check: %w", err)
		}
	}
	a.sealer = sealer
	return nil
}

// secretKeySource is where secret.LoadKey takes the key from.
type secretKeySource struct {
	name string // for messages: ROSTER_SECRET_KEY, or the key file's path
	file string // the key file, "" when the variable holds the key
}

// keySource says which key secret.LoadKey takes (the variable when set and
// not blank, else the data directory's key file) without touching disk.
func keySource(dataDir string) secretKeySource {
	if v, ok := os.LookupEnv(secret.EnvKey); ok && strings.TrimSpace(v) != "" {
		return secretKeySource{name: secret.EnvKey}
	}
	file := filepath.Join(dataDir, secret.KeyFile)
	return secretKeySource{name: "the key file " + file + " (" + secret.EnvKey + " is not set)", file: file}
}
