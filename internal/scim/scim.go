// Package scim is roster's SCIM 2.0 server (RFC 7644) at /scim/v2: an
// identity provider (Okta, Entra ID) pushes who works here to it. It is
// not behind sessions or CSRF: the provider sends "Authorization: Bearer
// rk_..." with an API key that has the scim scope (Settings → API keys),
// and that key does nothing else. Every request, refused ones included,
// is audited with kind "directory". The mapping, filters and PATCH
// semantics live in internal/directory; this package is HTTP only.
package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"roster"
	"roster/internal/directory"
	"roster/internal/httpauth"
	"roster/internal/store"
)

// Prefix is where the SCIM server lives.
const Prefix = "/scim/v2"

// Config is what the SCIM server needs. Store is required.
type Config struct {
	Store  store.Store
	Logger *slog.Logger
	Now    func() time.Time
	// PublicURL is roster's address as identity providers reach it, for
	// the Location of created users; "" gives relative locations.
	PublicURL string
}

// Server is the SCIM server, an http.Handler.
type Server struct {
	guard  *httpauth.Guard
	store  store.Store
	logger *slog.Logger
	public string
	mux    *http.ServeMux
}

// New builds the SCIM server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("scim: Config.Store is required")
	}
	s := &Server{guard: &httpauth.Guard{Store: cfg.Store, Logger: cfg.Logger, Now: cfg.Now},
		store: cfg.Store, logger: cfg.Logger, public: strings.TrimRight(cfg.PublicURL, "/"), mux: http.NewServeMux()}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	for _, rt := range s.routeList() {
		s.mux.Handle(rt.Method+" "+rt.Path, s.wrap(rt))
	}
	s.mux.Handle(Prefix+"/", s.wrap(route{Handle: func(http.ResponseWriter, *http.Request, *directory.Service) (string, string, error) {
		return "scim_unknown", "", &directory.Error{Status: http.StatusNotFound, Detail: "roster's SCIM server has /Users and /ServiceProviderConfig."}
	}}))
	return s, nil
}

// ServeHTTP serves SCIM with the security headers on every answer.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	httpauth.SecurityHeaders(w.Header())
	s.mux.ServeHTTP(w, r)
}

// contentType is SCIM's media type.
const contentType = "application/scim+json"

// maxBody bounds a request body; a user is a few hundred bytes.
const maxBody = 1 << 20

// handler is a SCIM handler. It returns what to audit (action and
// target) and an error, which scimFail writes as a SCIM error body.
type handler func(w http.ResponseWriter, r *http.Request, svc *directory.Service) (action, target string, err error)

// route is one entry of the SCIM route table.
type route struct {
	Method, Path string
	Handle       handler
}

// routeList is every route of the SCIM server, in one place.
func (s *Server) routeList() []route {
	return []route{
		{"GET", Prefix + "/ServiceProviderConfig", s.serviceProviderConfig},
		{"GET", Prefix + "/Users", s.list},
		{"POST", Prefix + "/Users", s.create},
		{"GET", Prefix + "/Users/{id}", s.get},
		{"PUT", Prefix + "/Users/{id}", s.replace},
		{"PATCH", Prefix + "/Users/{id}", s.patch},
		{"DELETE", Prefix + "/Users/{id}", s.delete},
	}
}

// wrap authenticates, runs the handler, writes its error and audits.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor, err := s.authenticate(r)
		action, target := "scim_auth", ""
		if err == nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			svc := &directory.Service{Store: s.store, Location: s.public + Prefix + "/Users"}
			action, target, err = rt.Handle(w, r, svc)
		}
		result, detail := "ok", r.Method+" "+r.URL.Path
		if err != nil {
			se := s.fail(w, r, err)
			result = "failed"
			if se.Status == http.StatusUnauthorized {
				result = "refused"
			}
			detail += fmt.Sprintf(": %s %s", strconv.Itoa(se.Status), se.Detail)
		}
		if actor == "" {
			actor = "scim:" + httpauth.ClientIP(r)
		}
		s.guard.Audit(r, roster.AuditEntry{Actor: actor, Kind: "directory", Action: action, Target: target, Result: result, Detail: detail})
	})
}

// authenticate checks the bearer token: an API key with scope scim. It
// returns the audit actor ("apikey:<name>") when the key is known.
func (s *Server) authenticate(r *http.Request) (string, error) {
	k, err := s.guard.APIKey(r, roster.ScopeSCIM)
	var kr *httpauth.KeyRefusal
	switch {
	case err == nil:
		return "apikey:" + k.Name, nil
	case errors.Is(err, httpauth.ErrNoBearer):
		return "", &directory.Error{Status: http.StatusUnauthorized,
			Detail: "Send Authorization: Bearer rk_..., an API key with the scim scope (Settings → API keys)."}
	case errors.As(err, &kr):
		return kr.Actor, &directory.Error{Status: kr.Status, Detail: kr.Message}
	}
	return "", err
}

// fail writes err as a SCIM error body and returns it; roster's own
// failures are logged and answered 500 without detail.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) *directory.Error {
	var se *directory.Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &se):
	case errors.As(err, &mbe):
		se = &directory.Error{Status: http.StatusRequestEntityTooLarge, Detail: "The body is too large."}
	default:
		s.logger.ErrorContext(r.Context(), "SCIM request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		se = &directory.Error{Status: http.StatusInternalServerError, Detail: httpauth.InternalMessage}
	}
	if se.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="roster-scim"`)
	}
	write(w, se.Status, se.Body())
	return se
}

// write writes v as application/scim+json.
func write(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, &directory.Error{Status: http.StatusBadRequest, SCIMType: "invalidSyntax", Detail: "The body could not be read."}
	}
	return b, nil
}

func (s *Server) serviceProviderConfig(w http.ResponseWriter, r *http.Request, _ *directory.Service) (string, string, error) {
	write(w, http.StatusOK, directory.ServiceProviderConfig())
	return "scim_config", "", nil
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, svc *directory.Service) (string, string, error) {
	q := r.URL.Query()
	num := func(name string, def int) (int, error) {
		v := q.Get(name)
		if v == "" {
			return def, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, &directory.Error{Status: http.StatusBadRequest, SCIMType: "invalidValue", Detail: name + " must be an integer."}
		}
		return n, nil
	}
	start, err := num("startIndex", 1)
	if err != nil {
		return "scim_list", "", err
	}
	count, err := num("count", -1)
	if err != nil {
		return "scim_list", "", err
	}
	if count < 0 && q.Get("count") != "" {
		count = 0 // RFC 7644 §3.4.2.4: a negative count is 0
	}
	filter := q.Get("filter")
	resp, err := svc.List(r.Context(), filter, start, count)
	if err != nil {
		return "scim_list", filter, err
	}
	write(w, http.StatusOK, resp)
	return "scim_list", filter, nil
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, svc *directory.Service) (string, string, error) {
	u, err := svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return "scim_get", "person " + r.PathValue("id"), err
	}
	write(w, http.StatusOK, u)
	return "scim_get", u.UserName, nil
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, svc *directory.Service) (string, string, error) {
	b, err := readBody(r)
	if err != nil {
		return "scim_create", "", err
	}
	u, err := directory.DecodeUser(b)
	if err != nil {
		return "scim_create", "", err
	}
	target := roster.NormalizeEmail(u.UserName)
	u, err = svc.Create(r.Context(), u)
	if err != nil {
		return "scim_create", target, err
	}
	w.Header().Set("Location", u.Meta.Location)
	write(w, http.StatusCreated, u)
	return "scim_create", u.UserName, nil
}

func (s *Server) replace(w http.ResponseWriter, r *http.Request, svc *directory.Service) (string, string, error) {
	target := "person " + r.PathValue("id")
	b, err := readBody(r)
	if err != nil {
		return "scim_replace", target, err
	}
	u, err := directory.DecodeUser(b)
	if err != nil {
		return "scim_replace", target, err
	}
	u, err = svc.Replace(r.Context(), r.PathValue("id"), u)
	if err != nil {
		return "scim_replace", target, err
	}
	write(w, http.StatusOK, u)
	return "scim_replace", u.UserName, nil
}

func (s *Server) patch(w http.ResponseWriter, r *http.Request, svc *directory.Service) (string, string, error) {
	target := "person " + r.PathValue("id")
	b, err := readBody(r)
	if err != nil {
		return "scim_patch", target, err
	}
	pr, err := directory.DecodePatch(b)
	if err != nil {
		return "scim_patch", target, err
	}
	u, err := svc.Patch(r.Context(), r.PathValue("id"), pr)
	if err != nil {
		return "scim_patch", target, err
	}
	write(w, http.StatusOK, u)
	return "scim_patch", u.UserName, nil
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, svc *directory.Service) (string, string, error) {
	p, err := svc.Delete(r.Context(), r.PathValue("id"))
	if err != nil {
		return "scim_delete", "person " + r.PathValue("id"), err
	}
	w.WriteHeader(http.StatusNoContent)
	return "scim_delete", p.Email, nil
}
