package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"roster"
	"roster/internal/action"
	"roster/internal/connect"
	"roster/internal/jobs"
	"roster/internal/metrics"
	"roster/internal/miro"
	"roster/internal/store"
	"roster/internal/sync"
	"roster/internal/web"
)

// shutdownTimeout bounds a graceful stop: requests in flight and running
// syncs get this long before syncs are cancelled (and retried later). It
// fits within the 30 s most supervisors wait after SIGTERM.
const shutdownTimeout = 25 * time.Second

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
	)
	fs.envName("listen", "ROSTER_LISTEN")
	fs.envName("miro-url", "ROSTER_MIRO_URL")
	fs.envName("public-url", "ROSTER_PUBLIC_URL")
	if err := fs.parse(args); err != nil {
		return err
	}
	if *workers < 1 {
		return usageError{fmt.Sprintf("serve: --workers must be at least 1, got %d", *workers)}
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
		listen: *listen, workers: *workers, secure: *secure, miro: miroApp, publicURL: *publicURL, automation: auto,
	}, func(url string) { fmt.Fprintf(stdout, "roster serving on %s\n", url) })
}

// serveOptions are what serveApp runs with; roster demo sets them too.
type serveOptions struct {
	listen    string
	workers   int
	secure    bool
	miro      connect.App // resolved; its client id and secret also refresh tokens
	publicURL string      // "": the scheme and host of each request
	// automation configures notifications and workflow runs; nil takes
	// the defaults (no notification channel).
	automation *automationFlags
}

// serveApp serves the dashboard and runs the sync scheduler and workers
// on a until ctx is done, then stops gracefully. ready is called with the
// URL once roster listens.
func serveApp(ctx context.Context, a *app, o serveOptions, ready func(url string)) error {
	oauth := &sync.OAuthApp{ClientID: o.miro.ClientID, ClientSecret: o.miro.ClientSecret}
	// Metrics: syncs and actions record their outcomes, their Miro client
	// counts answers (429s included), and the handler records latency.
	m := metrics.New()
	syncer := newSyncer(a, *oauth)
	syncer.HTTPClient = &http.Client{Transport: m.Transport(nil)}
	actions := &action.Runner{Store: a.store, Sealer: a.sealer, OAuth: *oauth,
		HTTPClient: &http.Client{Transport: m.Transport(nil)}, Logger: a.logger}
	auto := o.automation
	if auto == nil {
		auto = defaultAutomation()
	}
	engine, err := newEngine(a, actions, auto)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	engine.ObserveAction = m.Action
	runner, err := jobs.New(ctx, auto.jobsConfig(jobs.Config{DB: a.db, DSN: a.dsn, Syncer: metrics.Syncer{Next: syncer, Metrics: m}, Logger: a.logger, Workers: o.workers}, engine))
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

	dash, err := web.New(web.Config{
		Store: a.store, Jobs: runner, Logger: a.logger, SecureCookies: o.secure,
		Connect:   &connect.Service{App: o.miro, Store: a.store, Sealer: a.sealer, HTTPClient: &http.Client{}, Logger: a.logger},
		PublicURL: o.publicURL,
		Actions:   observedActions{actionRunner{actions}, m},
		Workflows: engine,
	})
	if err != nil {
		ln.Close()
		return fmt.Errorf("serve: %w", err)
	}
	srv := &http.Server{Handler: withMetrics(routes(a.store, a.logger, dash), m), ReadHeaderTimeout: 10 * time.Second}
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

// routes is serve's route list: the probes, and the dashboard for the rest.
func routes(st store.Store, logger *slog.Logger, dash http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", dash)
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

// observedActions records the outcome of every action the dashboard or
// the API runs.
type observedActions struct {
	web.ActionRunner
	m *metrics.Metrics
}

func (o observedActions) Invite(ctx context.Context, req web.ActionRequest) (roster.Action, error) {
	a, err := o.ActionRunner.Invite(ctx, req)
	o.m.Action(roster.ActionInvite, a, err)
	return a, err
}

func (o observedActions) Remove(ctx context.Context, req web.ActionRequest) (roster.Action, error) {
	a, err := o.ActionRunner.Remove(ctx, req)
	o.m.Action(roster.ActionRemove, a, err)
	return a, err
}

func (o observedActions) ChangeRole(ctx context.Context, req web.ActionRequest) (roster.Action, error) {
	a, err := o.ActionRunner.ChangeRole(ctx, req)
	o.m.Action(roster.ActionChangeRole, a, err)
	return a, err
}

func (o observedActions) Deactivate(ctx context.Context, req web.ActionRequest) (roster.Action, error) {
	a, err := o.ActionRunner.Deactivate(ctx, req)
	o.m.Action(roster.ActionDeactivate, a, err)
	return a, err
}

func (o observedActions) Reactivate(ctx context.Context, req web.ActionRequest) (roster.Action, error) {
	a, err := o.ActionRunner.Reactivate(ctx, req)
	o.m.Action(roster.ActionReactivate, a, err)
	return a, err
}

func (o observedActions) SignOut(ctx context.Context, req web.ActionRequest) (roster.Action, error) {
	a, err := o.ActionRunner.SignOut(ctx, req)
	o.m.Action(roster.ActionSignOut, a, err)
	return a, err
}

// RemoveFromAllTeams records every action run for every team (the
// service account's invite or promotion, the removal). A team skipped
// (last admin, no service account) counts as a refused removal, a team
// that failed before any action was recorded as not run, and so does a
// request turned away as a whole.
func (o observedActions) RemoveFromAllTeams(ctx context.Context, req web.ActionRequest) (web.AllTeamsResult, error) {
	res, err := o.ActionRunner.RemoveFromAllTeams(ctx, req)
	if err != nil {
		o.m.Action(roster.ActionRemove, roster.Action{}, err)
		return res, err
	}
	for _, t := range res.Teams {
		for _, a := range t.Actions {
			o.m.Action(a.Kind, a, nil)
		}
		switch {
		case t.Outcome == web.TeamSkipped:
			o.m.Action(roster.ActionRemove, roster.Action{Key: "skipped", Status: roster.ActionRefused}, nil)
		case len(t.Actions) == 0:
			o.m.Action(roster.ActionRemove, roster.Action{}, errors.New(t.Reason))
		}
	}
	return res, err
}

// actionRunner adapts internal/action to the dashboard's ActionRunner:
// the same request, and field errors in the dashboard's terms so that
// they show beside the form's fields.
type actionRunner struct{ r *action.Runner }

func (a actionRunner) Invite(ctx context.Context, req web.ActionRequest) (roster.Action, error) {
	return fieldErr(a.r.Invite(ctx, toAction(req)))
}

func (a actionRunner) Remove(ctx context.Context, req web.ActionRequest) (roster.Action, error) {
	return fieldErr(a.r.Remove(ctx, toAction(req)))
}

func (a actionRunner) ChangeRole(ctx context.Context, req web.ActionRequest) (roster.Action, error) {
	return fieldErr(a.r.ChangeRole(ctx, toAction(req)))
}

func (a actionRunner) Deactivate(ctx context.Context, req web.ActionRequest) (roster.Action, error) {
	return fieldErr(a.r.Deactivate(ctx, toAction(req)))
}

func (a actionRunner) Reactivate(ctx context.Context, req web.ActionRequest) (roster.Action, error) {
	return fieldErr(a.r.Reactivate(ctx, toAction(req)))
}

func (a actionRunner) SignOut(ctx context.Context, req web.ActionRequest) (roster.Action, error) {
	return fieldErr(a.r.SignOut(ctx, toAction(req)))
}

// RemoveFromAllTeams converts internal/action's summary team by team.
func (a actionRunner) RemoveFromAllTeams(ctx context.Context, req web.ActionRequest) (web.AllTeamsResult, error) {
	sum, err := a.r.RemoveFromAllTeams(ctx, toAction(req))
	if _, err := fieldErr(roster.Action{}, err); err != nil {
		return web.AllTeamsResult{}, err
	}
	var res web.AllTeamsResult
	for _, t := range sum.Teams {
		res.Teams = append(res.Teams, web.TeamResult{TeamID: t.MiroTeamID, TeamName: t.TeamName,
			Outcome: t.Outcome, Reason: t.Reason, Actions: t.Actions})
	}
	return res, nil
}

func (actionRunner) Consequence(conn roster.Connection, kind roster.ActionKind) string {
	return action.Consequence(conn, kind)
}

func fieldErr(a roster.Action, err error) (roster.Action, error) {
	var fe *action.FieldError
	if errors.As(err, &fe) {
		return a, &web.FieldError{Field: fe.Field, Reason: fe.Reason}
	}
	return a, err
}

func toAction(r web.ActionRequest) action.Request {
	return action.Request{Key: r.Key, ConnectionID: r.ConnectionID, MiroTeamID: r.MiroTeamID,
		Email: r.Email, MiroUserID: r.MiroUserID, Role: r.Role, Actor: r.Actor, ServiceAccountEmail: r.ServiceAccountEmail}
}
