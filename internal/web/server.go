// Package web is roster's dashboard: server-rendered HTML pages over the
// store, with login, admin and viewer roles, and the forms that run
// actions on Miro. Sessions, CSRF and API keys are internal/httpauth's;
// the JSON API (internal/api) and the SCIM server (internal/scim) are
// served beside it.
//
// Layout: routes.go is the single route list; each page or action has its
// own file (page_*.go, action_*.go); render.go parses the embedded
// templates once; auth.go (route access), csrf.go (the login forms'
// double-submit token) and errors.go are the helpers every handler
// shares. Handlers stay thin: numbers come from the store and
// internal/insights, actions from internal/action's Runner, which also
// holds their one validation.
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
	"roster/internal/httpauth"
	"roster/internal/licenses"
	"roster/internal/notify"
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
	SessionTTL    time.Duration // default httpauth.DefaultSessionTTL
	// Workflows runs automations; nil hides the workflow pages.
	Workflows *workflow.Engine
	// Channels are the notification channels set under Settings →
	// Notifications (page_settings_channels.go); nil hides them.
	Channels *notify.Channels
}

// Server is the dashboard, an http.Handler.
type Server struct {
	store   store.Store
	actions *action.Runner
	jobs    SyncEnqueuer
	connect *connect.Service
	public  string
	logger  *slog.Logger
	now     func() time.Time
	guard   *httpauth.Guard
	pw      *httpauth.Passwords
	logins  *httpauth.LoginLimiter
	tmpl    *templates
	assets  *assets
	routes  []route
	mux     *http.ServeMux
	wf      *workflow.Engine
	// channels are the notification channels' settings; nil: none.
	channels *notify.Channels
	// licenses prices the overview, the trend and chargeback.
	licenses *licenses.Service
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
		logger: cfg.Logger, now: cfg.Now, wf: cfg.Workflows, channels: cfg.Channels,
	}
	s.licenses = &licenses.Service{Store: s.store, Now: func() time.Time { return s.now() }}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.guard = &httpauth.Guard{Store: cfg.Store, Logger: s.logger, Now: s.now, SecureCookies: cfg.SecureCookies, SessionTTL: cfg.SessionTTL}
	var err error
	if s.assets, err = loadAssets(staticFS); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if s.tmpl, err = parseTemplates(templateFS, s.assets); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s.logins = httpauth.NewLoginLimiter()
	if s.pw, err = httpauth.NewPasswords(); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	s.routes = s.routeList()
	s.mux = http.NewServeMux()
	for _, rt := range s.routes {
		s.mux.Handle(rt.Method+" "+rt.Path, s.wrap(rt))
	}
	return s, nil
}

// ServeHTTP serves the dashboard with security headers on every response.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	httpauth.SecurityHeaders(w.Header())
	s.mux.ServeHTTP(w, r)
}
