package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"roster/internal/jobs"
	"roster/internal/store"
)

// shutdownTimeout bounds a graceful stop: requests in flight and running
// syncs get this long before syncs are cancelled (and retried later). It
// fits within the 30 s most supervisors wait after SIGTERM.
const shutdownTimeout = 25 * time.Second

// runServe is `roster serve`: the HTTP server and the sync scheduler and
// workers, until SIGINT or SIGTERM.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "", "Serves roster over HTTP and runs the sync scheduler and workers until SIGINT or SIGTERM.\nEach connection is synced every 24 h (or its own interval); roster sync --enqueue asks for\none now. Several serve processes may share one PostgreSQL database: each sync runs once.\nFor now it serves /healthz (the process is up) and /readyz (the database answers and is\nmigrated).", stderr)
	fs.globals()
	var (
		listen  = fs.String("listen", "127.0.0.1:8080", "address to listen on; port 0 picks a free port")
		workers = fs.Int("workers", jobs.DefaultWorkers, "syncs this process runs at once")
		oauth   = oauthAppFlags(fs)
	)
	fs.envName("listen", "ROSTER_LISTEN")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *workers < 1 {
		return usageError{fmt.Sprintf("serve: --workers must be at least 1, got %d", *workers)}
	}

	a, err := openApp(ctx, fs.global, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	runner, err := jobs.New(ctx, jobs.Config{DB: a.db, DSN: a.dsn, Syncer: newSyncer(a, *oauth), Logger: a.logger, Workers: *workers})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer runner.Close()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("serve: listen on %s (--listen): %w", *listen, err)
	}
	// The runner outlives ctx: the shutdown below stops it gracefully.
	if err := runner.Start(context.WithoutCancel(ctx)); err != nil {
		ln.Close()
		return fmt.Errorf("serve: %w", err)
	}

	srv := &http.Server{Handler: routes(a.store, a.logger), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "roster serving on %s\n", url)
	a.logger.InfoContext(ctx, "serving", "url", url, "workers", *workers)

	var serveErr error
	select {
	case err := <-served:
		serveErr = fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		a.logger.InfoContext(ctx, "shutting down")
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(stopCtx); err != nil {
		serveErr = errors.Join(serveErr, fmt.Errorf("serve: shutdown: %w", err))
	}
	if err := runner.Stop(stopCtx); err != nil {
		serveErr = errors.Join(serveErr, fmt.Errorf("serve: %w", err))
	}
	return serveErr
}

// routes is serve's route list.
func routes(st store.Store, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := st.Ping(ctx); err != nil {
			// The reason goes to the log, not to whoever asks.
			logger.WarnContext(ctx, "not ready", "error", err)
			http.Error(w, "not ready: the database is unreachable or not migrated", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux
}
