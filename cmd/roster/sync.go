package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"roster"
	"roster/internal/connect"
	"roster/internal/jobs"
	"roster/internal/mirosync"
)

// progressEvery is how often a running sync prints a progress line.
const progressEvery = time.Second

// runSync is `roster sync`: sync one connection, or every one that is not
// disconnected, now.
func runSync(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sync", "", "Syncs users, roles, licenses and usage from Miro now: one connection with --connection,\nor every connection that is not disconnected. Progress goes to stderr, a summary per\nconnection to stdout. Exits non-zero if any sync failed. With --enqueue, queues the syncs\nfor roster serve to run instead.", stderr)
	fs.globals()
	var (
		connID  = fs.Int64("connection", 0, "sync only this connection id (see roster connections)")
		all     = fs.Bool("all", false, "sync every connection (the default without --connection)")
		enqueue = fs.Bool("enqueue", false, "queue the syncs for roster serve to run, instead of running them here")
		oauth   = oauthAppFlags(fs)
	)
	if err := fs.parse(args); err != nil {
		return err
	}
	if *all && *connID != 0 {
		return usageError{"sync: give --connection or --all, not both"}
	}
	if *connID < 0 {
		return usageError{fmt.Sprintf("sync: --connection must be a connection id, got %d", *connID)}
	}

	a, err := openApp(ctx, fs.global, stderr)
	if err != nil {
		return err
	}
	defer a.Close()

	var ids []int64
	if *connID != 0 {
		if _, err := a.store.Connection(ctx, *connID); err != nil {
			return fmt.Errorf("sync: connection %d: %w (see roster connections)", *connID, err)
		}
		ids = []int64{*connID}
	} else {
		conns, err := a.store.Connections(ctx)
		if err != nil {
			return fmt.Errorf("sync: %w", err)
		}
		for _, c := range conns {
			if c.Status != roster.StatusDisconnected {
				ids = append(ids, c.ID)
			}
		}
		if len(ids) == 0 {
			fmt.Fprintln(stdout, `No connections to sync. Run "roster connect" first.`)
			return nil
		}
	}

	if *enqueue {
		return enqueueSyncs(ctx, a, newSyncer(a, a.newClients(*oauth, &http.Client{})), ids, stdout)
	}
	var failed []error
	for _, id := range ids {
		syncer := newSyncer(a, a.newClients(*oauth, &http.Client{}))
		syncer.Actor = cliActor()
		// printRun says how each sync ended and main prints its error:
		// the Syncer's own log line of the outcome would say it again.
		syncer.Logger = slog.New(withoutMessages{a.logger.Handler(), []string{"sync done", "sync failed"}})
		syncer.Progress = progressPrinter(stderr, id)
		run, err := syncer.Sync(ctx, id)
		printRun(stdout, id, run, err)
		if err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) > 0 {
		return errors.Join(failed...)
	}
	return nil
}

// oauthAppFlags adds --client-id and --client-secret, with which syncs
// refresh expiring tokens.
func oauthAppFlags(fs *flagSet) *connect.App {
	var o connect.App
	fs.StringVar(&o.ClientID, "client-id", "", "OAuth client id of the Miro app, to refresh expiring tokens")
	fs.StringVar(&o.ClientSecret, "client-secret", "", "OAuth client secret of the Miro app, to refresh expiring tokens")
	fs.envName("client-id", "ROSTER_MIRO_CLIENT_ID")
	fs.envName("client-secret", "ROSTER_MIRO_CLIENT_SECRET")
	return &o
}

// newSyncer is the Syncer of every command that syncs: roster sync runs
// it inline, roster serve in its job workers.
func newSyncer(a *app, clients *connect.Clients) *mirosync.Syncer {
	return &mirosync.Syncer{Store: a.store, Clients: clients, Logger: a.logger}
}

// enqueueSyncs queues a sync job per connection, for roster serve (here or
// on another machine sharing the PostgreSQL database) to run.
func enqueueSyncs(ctx context.Context, a *app, syncer *mirosync.Syncer, ids []int64, stdout io.Writer) error {
	runner, err := jobs.New(ctx, jobs.Config{DB: a.db, DSN: a.dsn, Syncer: syncer, Logger: a.logger})
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	defer runner.Close()
	for _, id := range ids {
		inserted, err := runner.EnqueueSync(ctx, id)
		if err != nil {
			return fmt.Errorf("sync: %w", err)
		}
		if inserted {
			fmt.Fprintf(stdout, "connection %d: sync queued; roster serve runs it\n", id)
		} else {
			fmt.Fprintf(stdout, "connection %d: a sync is already queued or running\n", id)
		}
	}
	return nil
}

// progressPrinter prints a progress line at most every progressEvery,
// and a line as each wait for Miro's limits starts.
func progressPrinter(w io.Writer, connID int64) func(mirosync.Progress) {
	var last time.Time
	return func(p mirosync.Progress) {
		if p.Waiting > 0 {
			fmt.Fprintf(w, "connection %d: waiting %s for %s\n", connID, waitWords(p.Waiting), p.WaitReason)
			return
		}
		if now := time.Now(); now.Sub(last) >= progressEvery {
			last = now
			line := fmt.Sprintf("connection %d: %s: %d pages, %d members", connID, p.Phase, p.Pages, p.Members)
			if p.Teams > 0 {
				line += fmt.Sprintf(", %d/%d teams", p.TeamsDone, p.Teams)
			}
			line += ", " + mirosync.CallsToMiro(p.APICalls)
			if p.EstimatedLeft > 0 {
				line += ", about " + waitWords(p.EstimatedLeft) + " left"
			}
			fmt.Fprintln(w, line)
		}
	}
}

// waitWords is a wait (or a time left) as a person reads it: "42 s",
// "2 min 5 s", "1 h 20 min".
func waitWords(d time.Duration) string {
	s := int(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", max(s, 1))
	case s >= 3600:
		return fmt.Sprintf("%d h %d min", s/3600, s%3600/60)
	case s%60 == 0:
		return fmt.Sprintf("%d min", s/60)
	default:
		return fmt.Sprintf("%d min %d s", s/60, s%60)
	}
}

// printRun prints one sync's summary.
func printRun(w io.Writer, connID int64, run roster.SyncRun, err error) {
	// The error itself is the command's, printed once by main.
	if run.ID == 0 && err != nil {
		fmt.Fprintf(w, "connection %d: FAILED before it started\n", connID)
		return
	}
	dur := run.EndedAt.Sub(run.StartedAt).Round(time.Millisecond)
	status := "synced"
	if err != nil {
		status = "FAILED (nothing was changed)"
	}
	fmt.Fprintf(w, "connection %d: %s from %s in %s: %d added, %d changed, %d removed; %d pages, %s\n",
		connID, status, run.Source, dur, run.Added, run.Changed, run.Removed, run.Pages, mirosync.CallsToMiro(run.APICalls))
	if run.UsageNote != "" {
		fmt.Fprintf(w, "  usage: %s\n", run.UsageNote)
	}
}

// withoutMessages is a log handler that drops the records with these
// messages, which the command reports in its own words.
type withoutMessages struct {
	slog.Handler
	drop []string
}

func (h withoutMessages) Handle(ctx context.Context, r slog.Record) error {
	if slices.Contains(h.drop, r.Message) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h withoutMessages) WithAttrs(attrs []slog.Attr) slog.Handler {
	return withoutMessages{h.Handler.WithAttrs(attrs), h.drop}
}

func (h withoutMessages) WithGroup(name string) slog.Handler {
	return withoutMessages{h.Handler.WithGroup(name), h.drop}
}
