package web

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"roster"
	"roster/internal/action"
	"roster/internal/store"
)

// The JSON API under /api/v1. Its routes are one table, apiRouteList,
// which New registers and the OpenAPI test compares with openapi.json.
// Handlers are thin: they parse, call the same store, insights and
// ActionRunner methods the pages call, and encode.

// apiPrefix is where the API lives.
const apiPrefix = "/api/v1"

// apiKeyPrefix starts every API key, so that a leaked one is recognisable
// (secret scanners) and a session token is never mistaken for one.
const apiKeyPrefix = "rk_"

// apiHandler is an API handler; a returned error is written as JSON by
// apiFail.
type apiHandler func(w http.ResponseWriter, r *http.Request) error

// apiRoute is one entry of the API's route table.
type apiRoute struct {
	Method string // GET or POST
	Path   string // a net/http ServeMux pattern, also the OpenAPI path template
	Handle apiHandler
}

// scope is the API key scope a route needs: read for GET, act otherwise,
// and none for the catch-all (Path ""), which only says "no such route".
func (rt apiRoute) scope() string {
	if rt.Path == "" {
		return ""
	}
	if safeMethod(rt.Method) {
		return roster.ScopeRead
	}
	return roster.ScopeAct
}

// apiRouteList is every route of the JSON API, in one place.
func (s *Server) apiRouteList() []apiRoute {
	return []apiRoute{
		{"GET", apiPrefix + "/openapi.json", s.apiOpenAPI},
		{"GET", apiPrefix + "/users", s.apiUsers},
		{"GET", apiPrefix + "/users/{id}", s.apiUser},
		{"GET", apiPrefix + "/teams", s.apiTeams},
		{"GET", apiPrefix + "/connections", s.apiConnections},
		{"GET", apiPrefix + "/connections/{id}/sync-runs", s.apiSyncRuns},
		{"POST", apiPrefix + "/connections/{id}/sync", s.apiSync},
		{"GET", apiPrefix + "/changes", s.apiChanges},
		{"GET", apiPrefix + "/insights/overview", s.apiOverview},
		{"GET", apiPrefix + "/audit", s.apiAudit},
		{"GET", apiPrefix + "/people", s.apiPeople},
		{"POST", apiPrefix + "/actions", s.apiAction},
		// Workflows (api_workflows.go).
		{"GET", apiPrefix + "/workflows", s.apiWorkflows},
		{"GET", apiWorkflowPath, s.apiWorkflow},
		{"PUT", apiWorkflowPath, s.apiWorkflowPut},
		{"POST", apiPrefix + "/workflows/{id}/dry-run", s.apiWorkflowDryRun},
		{"POST", apiPrefix + "/workflows/{id}/runs", s.apiWorkflowStart},
		{"GET", apiPrefix + "/workflow-runs", s.apiWorkflowRunsList},
		{"GET", apiPrefix + "/workflow-runs/{id}", s.apiWorkflowRun},
		{"POST", apiPrefix + "/workflow-runs/{id}/cancel", s.apiWorkflowRunCancel},
		{"POST", apiPrefix + "/approvals/{id}/approve", s.apiApprovalDecide},
		{"POST", apiPrefix + "/approvals/{id}/deny", s.apiApprovalDecide},
		{"POST", apiPrefix + "/actions/deactivate", s.apiDeactivate},
		{"POST", apiPrefix + "/actions/reactivate", s.apiReactivate},
		{"POST", apiPrefix + "/actions/sign-out", s.apiSignOut},
		{"POST", apiPrefix + "/actions/remove-from-all-teams", s.apiRemoveFromAllTeams},
		{"POST", apiPrefix + "/people/import", s.apiPeopleImport},
	}
}

// registerAPI adds the API's routes to mux, and a catch-all that answers
// unknown API paths in JSON rather than with an HTML page.
func (s *Server) registerAPI(mux *http.ServeMux) {
	for _, rt := range s.apiRouteList() {
		mux.Handle(rt.Method+" "+rt.Path, s.wrapAPI(rt))
	}
	mux.Handle(apiPrefix+"/", s.wrapAPI(apiRoute{Handle: func(http.ResponseWriter, *http.Request) error {
		return apiErr(http.StatusNotFound, "not_found", "", "No such API route; see "+apiPrefix+"/openapi.json.")
	}}))
}

// caller is who is calling the API: an API key or a logged-in operator.
type caller struct {
	Actor string // as in roster.AuditEntry: "apikey:<name>" or "operator:<email>"
	Auth  *auth  // the session's operator, for browser calls; nil for a key
}

type callerKey struct{}

// callerOf returns the API caller set by wrapAPI.
func callerOf(r *http.Request) *caller {
	c, _ := r.Context().Value(callerKey{}).(*caller)
	return c
}

// wrapAPI authenticates an API request and maps a returned error to JSON.
//   - "Authorization: Bearer rk_..." is an API key; it needs the route's
//     scope (read for GET, act for POST). No CSRF token: a browser never
//     sends the header on its own.
//   - Otherwise a session cookie: any operator may GET; POST needs an
//     admin and the session's CSRF token in the X-CSRF-Token header.
//   - Neither: 401.
func (s *Server) wrapAPI(rt apiRoute) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := s.apiAuthenticate(r, rt)
		if err != nil {
			s.apiFail(w, r, err)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), callerKey{}, c))
		if c.Auth != nil {
			r = r.WithContext(context.WithValue(r.Context(), authKey{}, c.Auth))
		}
		if err := rt.Handle(w, r); err != nil {
			s.apiFail(w, r, err)
		}
	})
}

// apiAuthenticate finds the caller of a request and checks it may use rt.
func (s *Server) apiAuthenticate(r *http.Request, rt apiRoute) (*caller, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		token = strings.TrimSpace(token)
		if !ok || !strings.HasPrefix(token, apiKeyPrefix) {
			return nil, apiErr(http.StatusUnauthorized, "unauthorized", "", "The Authorization header must be \"Bearer rk_...\", an API key made in Settings → API keys.")
		}
		k, err := s.store.APIKeyByHash(r.Context(), apiKeyHash(token))
		if errors.Is(err, store.ErrNotFound) {
			return nil, apiErr(http.StatusUnauthorized, "unauthorized", "", "The API key is unknown or was deleted.")
		}
		if err != nil {
			return nil, fmt.Errorf("look up the API key: %w", err)
		}
		if scope := rt.scope(); scope != "" && !slices.Contains(k.Scopes, scope) {
			return nil, apiErr(http.StatusForbidden, "insufficient_scope", "",
				fmt.Sprintf("The API key %q lacks the %s scope this route needs (it has: %s).", k.Name, scope, strings.Join(k.Scopes, ", ")))
		}
		s.touchAPIKey(r, k)
		return &caller{Actor: "apikey:" + k.Name}, nil
	}
	a, err := s.loadSession(r)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, apiErr(http.StatusUnauthorized, "unauthorized", "", "Send an API key (Authorization: Bearer rk_...) or log in.")
	}
	if !safeMethod(r.Method) {
		if !a.isAdmin() {
			return nil, apiErr(http.StatusForbidden, "forbidden", "", "Viewers cannot act; ask an admin.")
		}
		if !checkCSRF(r, a.Session.CSRFToken) {
			return nil, apiErr(http.StatusForbidden, "forbidden", "", "A logged-in browser must send the session's CSRF token in the "+csrfHeader+" header.")
		}
	}
	return &caller{Actor: a.actor(), Auth: a}, nil
}

// apiKeyTouchEvery spaces out last-used writes: one per key per minute
// is precise enough for the settings list and spares the single SQLite
// writer a write per request.
const apiKeyTouchEvery = time.Minute

// touchAPIKey records a key's use. A failure is logged, not returned:
// the request itself is authorised.
func (s *Server) touchAPIKey(r *http.Request, k roster.APIKey) {
	now := s.now()
	if now.Sub(k.LastUsedAt) < apiKeyTouchEvery {
		return
	}
	if err := s.store.TouchAPIKey(r.Context(), k.ID, now); err != nil {
		s.logger.WarnContext(r.Context(), "record API key use", "key_id", k.ID, "error", err)
	}
}

// apiKeyHash is what the store keeps of an API key.
func apiKeyHash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// apiError is an API error: the status, a stable code, a message that
// says what to fix, and the field at fault, if one is.
type apiError struct {
	Status  int
	Code    string
	Field   string
	Message string
	// Data, when set, is sent beside the error (the recorded action of a
	// refused or failed request).
	Data any
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func apiErr(status int, code, field, msg string) *apiError {
	return &apiError{Status: status, Code: code, Field: field, Message: msg}
}

// invalidField is a 400 naming a query parameter or body field.
func invalidField(field, format string, args ...any) *apiError {
	return apiErr(http.StatusBadRequest, "invalid_field", field, fmt.Sprintf(format, args...))
}

// apiErrorBody is the JSON of every error answer.
type apiErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	} `json:"error"`
	Data any `json:"data,omitempty"`
}

// apiFail writes err as JSON. Only roster's own failures are logged, and
// their detail stays in the log.
func (s *Server) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var fe *action.FieldError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &fe):
		ae = invalidField(apiField(fe.Field), "%s: %s", apiField(fe.Field), fe.Reason)
	case errors.Is(err, store.ErrNotFound):
		ae = apiErr(http.StatusNotFound, "not_found", "", "Not found.")
	case errors.Is(err, store.ErrInvalid):
		ae = apiErr(http.StatusBadRequest, "invalid_field", "", err.Error())
	case errors.Is(err, store.ErrConflict):
		ae = apiErr(http.StatusConflict, "conflict", "", err.Error())
	default:
		s.logger.ErrorContext(r.Context(), "API request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		ae = apiErr(http.StatusInternalServerError, "internal", "", "Something went wrong on roster's side; the details are in its log.")
	}
	var body apiErrorBody
	body.Error.Code, body.Error.Message, body.Error.Field, body.Data = ae.Code, ae.Message, ae.Field, ae.Data
	if ae.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="roster"`)
	}
	writeJSON(w, ae.Status, body)
}

// apiField names an action runner's field as the API body does.
func apiField(f string) string {
	switch f {
	case "connection":
		return "connection_id"
	case "team":
		return "team_id"
	case "user":
		return "user_id"
	case "key":
		return "idempotency_key"
	case "service account":
		return "service_account_email"
	}
	return f
}

// writeJSON writes v with status. Encoding to a buffer first would cost
// a copy of large pages; an encoding failure of our own types is a bug
// the tests catch.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
