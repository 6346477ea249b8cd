// Package api is roster's JSON API at /api/v1: one route table
// (routeList), a hand-written OpenAPI document (openapi.json, served and
// tested against the table and real answers), the wire types every JSON
// and CSV output of roster uses (wire.go; the CLI's --format json and csv
// too), and the one CSV writer with the spreadsheet-formula guard.
//
// A caller is an API key ("Authorization: Bearer rk_...", scope read for
// GET, act otherwise) or a logged-in browser (the dashboard's session
// cookie, with its CSRF token in X-CSRF-Token for anything but GET); both
// are checked by internal/httpauth. Handlers are thin: they parse, call
// the store, insights, the action runner or the workflow engine, which
// validate, and encode.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"roster/internal/action"
	"roster/internal/httpauth"
	"roster/internal/licenses"
	"roster/internal/store"
	"roster/internal/workflow"
)

// SyncEnqueuer queues a sync of one connection ("sync now"); queued is
// false when one is already pending. *jobs.Runner implements it.
type SyncEnqueuer interface {
	EnqueueSync(ctx context.Context, connectionID int64) (queued bool, err error)
}

// Config is what the API needs. Store is required; the rest have
// defaults.
type Config struct {
	Store     store.Store
	Actions   *action.Runner   // nil: actions answer 503
	Jobs      SyncEnqueuer     // nil: "sync now" answers 503
	Workflows *workflow.Engine // nil: the workflow routes answer 404
	Logger    *slog.Logger
	Now       func() time.Time
}

// Server is the JSON API, an http.Handler.
type Server struct {
	guard   *httpauth.Guard
	store   store.Store
	actions *action.Runner
	jobs    SyncEnqueuer
	wf      *workflow.Engine
	// licenses prices the overview, the trend and chargeback.
	licenses *licenses.Service
	logger   *slog.Logger
	now      func() time.Time
	routes   []route
	// query holds the query parameters of each route ("METHOD path"),
	// from openapi.json; checkQuery refuses any other.
	query map[string][]string
	mux   *http.ServeMux
}

// New builds the API.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("api: Config.Store is required")
	}
	s := &Server{store: cfg.Store, actions: cfg.Actions, jobs: cfg.Jobs, wf: cfg.Workflows, logger: cfg.Logger, now: cfg.Now}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.licenses = &licenses.Service{Store: s.store, Now: s.now}
	s.guard = &httpauth.Guard{Store: cfg.Store, Logger: s.logger, Now: s.now}
	s.routes = s.routeList()
	var err error
	if s.query, err = queryParams(); err != nil {
		return nil, err
	}
	s.mux = http.NewServeMux()
	for _, rt := range s.routes {
		s.mux.Handle(rt.Method+" "+rt.Path, s.wrap(rt))
	}
	// Unknown API paths get JSON, not an HTML page.
	s.mux.Handle(Prefix+"/", s.wrap(route{Handle: func(http.ResponseWriter, *http.Request) error {
		return apiErr(http.StatusNotFound, "not_found", "", "No such API route; see "+Prefix+"/openapi.json.")
	}}))
	return s, nil
}

// ServeHTTP serves the API with the security headers on every answer.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	httpauth.SecurityHeaders(w.Header())
	s.mux.ServeHTTP(w, r)
}
