// Package web is roster's dashboard: server-rendered pages over the store,
// with login, sessions, CSRF protection, admin and viewer roles, and the
// forms that run actions on Miro.
//
// Layout: routes.go is the single route list; each page or action has its
// own file (page_*.go, action_*.go); render.go parses the embedded
// templates once; auth.go, csrf.go and errors.go are the helpers every
// handler shares. Handlers stay thin: numbers come from the store and
// internal/insights, actions from internal/action's Runner.
package web

import (
	"context"
	"embed"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"roster/internal/action"
	"roster/internal/connect"
	"roster/internal/store"
	"roster/internal/workflow"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// SyncEnqueuer queues a sync of one connection ("sync now"); queued is
// false when one is already pending.
type SyncEnqueuer interface {
	EnqueueSync(ctx context.Context, connectionID int64) (queued bool, err error)
}

// Config is what the dashboard needs. Store is required; the rest have
// defaults.
type Config struct {
	Store store.Store
	// Actions runs actions on Miro; nil shows them disabled.
	Actions *action.Runner
	Jobs    SyncEnqueuer // nil: "sync now" is unavailable
	// Connect adds (OAuth to Miro) and disconnects connections; nil
	// leaves only the list. PublicURL is roster's address as the browser
	// reaches it: Miro redirects to PublicURL + "/connections/callback".
	Connect   *connect.Service
	PublicURL string
	Logger    *slog.Logger
	Now       func() time.Time
	// SecureCookies marks cookies Secure; set it when roster is served
	// over TLS (also behind a TLS-terminating proxy). A request that
	// arrives over TLS gets Secure cookies regardless.
	SecureCookies bool
	SessionTTL    time.Duration // default 12 h
	// Workflows runs automations; nil hides the workflow pages.
	Workflows *workflow.Engine
}

// DefaultSessionTTL is how long a login lasts.
const DefaultSessionTTL = 12 * time.Hour

// Server is the dashboard, an http.Handler.
type Server struct {
	store    store.Store
	actions  *action.Runner
	jobs     SyncEnqueuer
	connect  *connect.Service
	public   string
	logger   *slog.Logger
	now      func() time.Time
	secure   bool
	ttl      time.Duration
	tmpl     *templates
	assets   *assets
	routes   []route
	mux      *http.ServeMux
	dummyPwd []byte // a bcrypt hash compared against for unknown emails, so timing reveals nothing
	wf       *workflow.Engine
}

// New builds the dashboard. It parses every template and fingerprints
// every asset now, and fails on a missing or broken one, so a bad build
// never starts serving.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("web: Config.Store is required")
	}
	s := &Server{
		store: cfg.Store, actions: cfg.Actions, jobs: cfg.Jobs,
		connect: cfg.Connect, public: strings.TrimRight(cfg.PublicURL, "/"),
		logger: cfg.Logger, now: cfg.Now, secure: cfg.SecureCookies, ttl: cfg.SessionTTL, wf: cfg.Workflows,
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.ttl <= 0 {
		s.ttl = DefaultSessionTTL
	}
	var err error
	if s.assets, err = loadAssets(staticFS); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if s.tmpl, err = parseTemplates(templateFS, s.assets); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if s.dummyPwd, err = hashPassword("roster-timing-equaliser"); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s.routes = s.routeList()
	s.mux = http.NewServeMux()
	for _, rt := range s.routes {
		s.mux.Handle(rt.Method+" "+rt.Path, s.wrap(rt))
	}
	s.registerAPI(s.mux)
	s.registerSCIM(s.mux)
	return s, nil
}

// ServeHTTP serves the dashboard with security headers on every response.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	s.mux.ServeHTTP(w, r)
}

// setSecurityHeaders forbids inline script and style, framing, sniffing
// and cross-origin referrers. Form posts may only go back to roster; the
// OAuth connect flow reaches Miro by a redirect, which form-action allows.
func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
}
