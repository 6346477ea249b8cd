package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"roster/internal/action"
	"roster/internal/api"
	"roster/internal/connect"
	"roster/internal/jobs"
	"roster/internal/metrics"
	"roster/internal/miro"
	"roster/internal/scim"
	"roster/internal/web"
	"roster/internal/workflow"
)

// shutdownTimeout bounds a graceful stop: requests in flight and running
// syncs get this long before syncs are cancelled (and retried later). It
// fits within the 30 s most supervisors wait after SIGTERM.
const shutdownTimeout = 25 * time.Second

// HTTP server timeouts. A client has defaultReadTimeout to send a whole
// request, which fits the 10 MB CSV import at about 100 KB/s and cuts a
// body trickled a byte a second; an answer (the users CSV of a large
// organization included) has writeTimeout; a kept-alive connection
// waits idleTimeout for its next request.
const (
	readHeaderTimeout  = 10 * time.Second
	defaultReadTimeout = 2 * time.Minute
	writeTimeout       = 5 * time.Minute
	idleTimeout        = 2 * time.Minute
)

// runServe is `roster serve`: the HTTP server and the sync scheduler and
// workers, until SIGINT or SIGTERM.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "", "Serves roster over HTTP and runs the sync scheduler and workers until SIGINT or SIGTERM.\nEach connection is synced every 24 h (or its own interval); roster sync --enqueue asks for\none now. Several serve processes may share one PostgreSQL database: each sync runs once.\nIt serves the dashboard at / (first run: open it to create the admin, or use roster admin\ncreate), /healthz (the process is up) and /readyz (the database answers and is migrated).", stderr)
	fs.globals()
	var (
		listen    = fs.String("listen", "127.0.0.1:8080", "address to listen on; port 0 picks a free port")
		workers   = fs.Int("workers", jobs.DefaultWorkers, "syncs this process runs at once")
		secure    = fs.Bool("secure-cookies", false, "mark cookies Secure: set it when roster is reached over HTTPS (e.g. behind a TLS proxy)")
		oauth     = oauthAppFlags(fs)
		miroURL   = fs.String("miro-url", miro.DefaultBaseURL, "Miro REST API base URL, for adding connections in the dashboard (a simulator's URL to use one)")
		publicURL = fs.String("public-url", "", "roster's URL as browsers reach it; Miro redirects to <public-url>/connections/callback, which the Miro app must list, and approval links point to it (default: the scheme and host the browser used; links then use the listen address)")
		auto      = addAutomationFlags(fs)
		readLimit = fs.Duration("read-timeout", defaultReadTimeout, "how long a client may take to send a request, its body included; a slower one is cut")
	)
	fs.envName("listen", "ROSTER_LISTEN")
	fs.envName("miro-url", "ROSTER_MIRO_URL")
	fs.envName("public-url", "ROSTER_PUBLIC_URL")
	jobLease := fs.Duration("job-lease", jobs.DefaultProcessLease, "how long this process's heartbeat may stop before another serve process on the database takes it\nfor dead and works the jobs it held again (a sync it was running is recorded as interrupted)")
	fs.envName("job-lease", "ROSTER_JOB_LEASE")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *workers < 1 {
		return usageError{fmt.Sprintf("serve: --workers must be at least 1, got %d", *workers)}
	}
	if *readLimit < time.Second {
		return usageError{fmt.Sprintf("serve: --read-timeout must be at least 1s, got %s", *readLimit)}
	}
	if *jobLease < time.Second {
		return usageError{fmt.Sprintf("serve: --job-lease must be at least 1s, got %s", *jobLease)}
	}
	if err := auto.check("serve"); err != nil {
		return err
	}
	miroApp, err := connect.App{ClientID: oauth.ClientID, ClientSecret: oauth.ClientSecret, APIBaseURL: *miroURL}.Resolve()
	if err != nil {
		return usageError{fmt.Sprintf("serve: --miro-url %v", err)}
	}
	if *publicURL != "" {
		if u, err := url.Parse(*publicURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return usageError{fmt.Sprintf("serve: --public-url must be an absolute http(s) URL, got %q", *publicURL)}
		}
	}

	a, err := openApp(ctx, fs.global, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	return serveApp(ctx, a, serveOptions{
		listen: *listen, workers: *workers, secure: *secure, miro: miroApp, publicURL: *publicURL, automation: auto, readTimeout: *readLimit,
		jobLease: *jobLease,
	}, func(url string) { fmt.Fprintf(stdout, "roster serving on %s\n", url) })
}

// serveOptions are what serveApp runs with; roster demo sets them too.
type serveOptions struct {
	listen    string
	workers   int
	secure    bool
	miro      connect.App // resolved; its client id and secret also refresh tokens
	publicURL string      // "": the scheme and host of each request
	// jobLease is the heartbeat lease of this process's jobs; 0 is
	// jobs.DefaultProcessLease.
	jobLease time.Duration
	// automation configures notifications and workflow runs; nil takes
	// the defaults (no notification channel).
	automation *automationFlags
	// readTimeout bounds reading one request; 0 is defaultReadTimeout.
	readTimeout time.Duration
}

// serveApp serves the dashboard and runs the sync scheduler and workers
// on a until ctx is done, then stops gracefully. ready is called with the
// URL once roster listens.
func serveApp(ctx context.Context, a *app, o serveOptions, ready func(url string)) error {
	// Metrics: syncs and actions record their outcomes, the Miro clients
	// count answers (429s included), and the handler records latency.
	// Syncs, actions and revocations share one owner of Miro clients, so
	// one token has one credit pacer.
	m := metrics.New()
	m.CountRecordedActions(a.store)
	clients := a.newClients(o.miro, &http.Client{Transport: m.Transport(nil)})
	syncer := newSyncer(a, clients)
	actions := newRunner(a, clients)
	actions.Observe = m.Action
	auto := o.automation
	if auto == nil {
		auto = defaultAutomation()
	}
	engine, err := newEngine(a, actions, auto)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	runner, err := jobs.New(ctx, auto.jobsConfig(jobs.Config{DB: a.db, DSN: a.dsn, Syncer: metrics.Syncer{Next: syncer, Metrics: m}, Logger: a.logger, Workers: o.workers,
		ProcessLease: o.jobLease}, engine))
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer runner.Close()
	engine.Jobs = runner
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("serve: listen on %s (--listen): %w", o.listen, err)
	}
	url := "http://" + ln.Addr().String()
	engine.PublicURL = cmp.Or(o.publicURL, url)
	// The runner outlives ctx: the shutdown below stops it gracefully.
	if err := runner.Start(context.WithoutCancel(ctx)); err != nil {
		ln.Close()
		return fmt.Errorf("serve: %w", err)
	}

	handler, err := httpHandlers(a, o, clients, actions, runner, engine)
	if err != nil {
		ln.Close()
		return fmt.Errorf("serve: %w", err)
	}
	srv := &http.Server{
		Handler:           withMetrics(handler, m),
		ReadHeaderTimeout: min(readHeaderTimeout, cmp.Or(o.readTimeout, defaultReadTimeout)),
		ReadTimeout:       cmp.Or(o.readTimeout, defaultReadTimeout),
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	ready(url)
	a.logger.InfoContext(ctx, "serving", "url", url, "workers", o.workers)

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

// httpHandlers are roster's three HTTP packages, side by side: the JSON
// API under /api/v1, the SCIM server under /scim/v2 and the dashboard for
// the rest, with the probes.
func httpHandlers(a *app, o serveOptions, clients *connect.Clients, actions *action.Runner, runner *jobs.Runner, engine *workflow.Engine) (http.Handler, error) {
	dash, err := web.New(web.Config{
		Store: a.store, Jobs: runner, Logger: a.logger, SecureCookies: o.secure,
		Connect: &connect.Service{Store: a.store, Clients: clients}, PublicURL: o.publicURL,
		Actions: actions, Workflows: engine, Channels: channelsOf(engine),
	})
	if err != nil {
		return nil, err
	}
	apiServer, err := api.New(api.Config{Store: a.store, Actions: actions, Jobs: runner, Workflows: engine, Logger: a.logger})
	if err != nil {
		return nil, err
	}
	scimServer, err := scim.New(scim.Config{Store: a.store, Logger: a.logger, PublicURL: o.publicURL})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/", dash)
	mux.Handle(api.Prefix+"/", apiServer)
	mux.Handle(scim.Prefix+"/", scimServer)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if err := a.store.Ping(ctx); err != nil {
			// The reason goes to the log, not to whoever asks.
			a.logger.WarnContext(ctx, "not ready", "error", err)
			http.Error(w, "not ready: the database is unreachable or not migrated", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	return mux, nil
}

// withMetrics serves /metrics beside h and records the latency of every
// answer. /metrics needs no login, as Prometheus expects: it shows counts
// and timings, no names, emails or tokens. serve listens on loopback by
// default; expose it further only behind a proxy that guards /metrics.
func withMetrics(h http.Handler, m *metrics.Metrics) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.Handle("/", h)
	return m.Instrument(mux)
}
