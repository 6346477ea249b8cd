package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"roster"
	"roster/internal/action"
	"roster/internal/httpauth"
)

// Prefix is where the API lives.
const Prefix = "/api/v1"

// handler is an API handler; a returned error is written as JSON by fail.
type handler func(w http.ResponseWriter, r *http.Request) error

// route is one entry of the API's route table.
type route struct {
	Method string // GET, POST or PUT
	Path   string // a net/http ServeMux pattern, also the OpenAPI path template
	Handle handler
}

// scope is the API key scope a route needs: read for GET, act otherwise,
// and none for the catch-all (Path ""), which only says "no such route".
func (rt route) scope() string {
	if rt.Path == "" {
		return ""
	}
	if httpauth.SafeMethod(rt.Method) {
		return roster.ScopeRead
	}
	return roster.ScopeAct
}

// routeList is every route of the JSON API, in one place.
func (s *Server) routeList() []route {
	return []route{
		{"GET", Prefix + "/openapi.json", s.apiOpenAPI},
		{"GET", Prefix + "/users", s.apiUsers},
		{"GET", Prefix + "/users.csv", s.usersCSV},
		{"GET", Prefix + "/users/{id}", s.getUser},
		{"GET", Prefix + "/teams", s.apiTeams},
		{"GET", Prefix + "/connections", s.apiConnections},
		{"GET", Prefix + "/connections/{id}/sync-runs", s.apiSyncRuns},
		{"POST", Prefix + "/connections/{id}/sync", s.apiSync},
		{"GET", Prefix + "/changes", s.apiChanges},
		{"GET", Prefix + "/insights/overview", s.getOverview},
		{"GET", Prefix + "/audit", s.listAudit},
		{"GET", Prefix + "/people", s.apiPeople},
		{"POST", Prefix + "/actions", s.apiAction},
		// Workflows (api_workflows.go).
		{"GET", Prefix + "/workflows", s.apiWorkflows},
		{"GET", apiWorkflowPath, s.apiWorkflow},
		{"PUT", apiWorkflowPath, s.apiWorkflowPut},
		{"POST", Prefix + "/workflows/{id}/dry-run", s.apiWorkflowDryRun},
		{"POST", Prefix + "/workflows/{id}/runs", s.apiWorkflowStart},
		{"GET", Prefix + "/workflow-runs", s.apiWorkflowRunsList},
		{"GET", Prefix + "/workflow-runs/{id}", s.apiWorkflowRun},
		{"POST", Prefix + "/workflow-runs/{id}/cancel", s.apiWorkflowRunCancel},
		{"POST", Prefix + "/approvals/{id}/approve", s.apiApprovalDecide},
		{"POST", Prefix + "/approvals/{id}/deny", s.apiApprovalDecide},
		{"POST", Prefix + "/actions/deactivate", s.apiDeactivate},
		{"POST", Prefix + "/actions/reactivate", s.apiReactivate},
		{"POST", Prefix + "/actions/sign-out", s.apiSignOut},
		{"POST", Prefix + "/actions/remove-from-all-teams", s.apiRemoveFromAllTeams},
		{"POST", Prefix + "/people/import", s.apiPeopleImport},
		// Bulk runs (bulk.go).
		{"POST", Prefix + "/bulk-runs", s.apiBulkRun},
		{"GET", Prefix + "/bulk-runs/{id}", s.apiBulkRunGet},
		// Organizations, contracts and license reports (licenses.go).
		{"GET", Prefix + "/organizations", s.apiOrganizations},
		{"GET", Prefix + "/organizations/{org_id}/contract", s.apiContract},
		{"PUT", Prefix + "/organizations/{org_id}/contract", s.apiContractPut},
		{"GET", Prefix + "/insights/licenses", s.apiLicensesOverview},
		{"GET", Prefix + "/insights/trend", s.apiTrend},
		{"GET", Prefix + "/insights/chargeback", s.apiChargeback},
	}
}

// caller is who is calling the API: an API key or a logged-in operator.
type caller struct {
	Actor string         // as in roster.AuditEntry: "apikey:<name>" or "operator:<email>"
	Auth  *httpauth.Auth // the session's operator, for browser calls; nil for a key
}

type callerKey struct{}

// callerOf returns the API caller set by wrap.
func callerOf(r *http.Request) *caller {
	c, _ := r.Context().Value(callerKey{}).(*caller)
	return c
}

// wrap authenticates an API request and maps a returned error to JSON.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := s.authenticate(r, rt)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if rt.Path != "" {
			if err := checkQuery(r, s.query[rt.Method+" "+rt.Path]); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		ctx := context.WithValue(r.Context(), callerKey{}, c)
		if c.Auth != nil {
			ctx = httpauth.WithAuth(ctx, c.Auth)
		}
		if err := rt.Handle(w, r.WithContext(ctx)); err != nil {
			s.fail(w, r, err)
		}
	})
}

// authenticate finds the caller of a request and checks it may use rt:
//   - "Authorization: Bearer rk_..." is an API key; it needs the route's
//     scope (read for GET, act otherwise). No CSRF token: a browser never
//     sends the header on its own.
//   - Otherwise a session cookie: any operator may GET; anything else
//     needs an admin and the session's CSRF token in the X-CSRF-Token
//     header.
//   - Neither: 401.
func (s *Server) authenticate(r *http.Request, rt route) (*caller, error) {
	k, err := s.guard.APIKey(r, rt.scope())
	var kr *httpauth.KeyRefusal
	switch {
	case err == nil:
		return &caller{Actor: "apikey:" + k.Name}, nil
	case errors.Is(err, httpauth.ErrNoBearer):
	case errors.As(err, &kr) && kr.Status == http.StatusForbidden:
		return nil, apiErr(http.StatusForbidden, "insufficient_scope", "", kr.Message)
	case errors.As(err, &kr):
		return nil, apiErr(http.StatusUnauthorized, "unauthorized", "", kr.Message)
	default:
		return nil, err
	}
	a, err := s.guard.Session(r)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, apiErr(http.StatusUnauthorized, "unauthorized", "", "Send an API key (Authorization: Bearer rk_...) or log in.")
	}
	if !httpauth.SafeMethod(r.Method) {
		if !a.IsAdmin() {
			return nil, apiErr(http.StatusForbidden, "forbidden", "", "Viewers cannot act; ask an admin.")
		}
		if !httpauth.CheckCSRF(r, a.Session.CSRFToken) {
			return nil, apiErr(http.StatusForbidden, "forbidden", "", "A logged-in browser must send the session's CSRF token in the "+httpauth.CSRFHeader+" header.")
		}
	}
	return &caller{Actor: a.Actor(), Auth: a}, nil
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

// fail writes err as JSON. Only roster's own failures are logged, and
// their detail stays in the log.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var fe *action.FieldError
	switch status, internal := httpauth.Status(err); {
	case errors.As(err, &ae):
	case errors.As(err, &fe):
		ae = invalidField(apiField(fe.Field), "%s: %s", apiField(fe.Field), fe.Reason)
	case internal && httpauth.ClientGone(r, err):
		s.logger.InfoContext(r.Context(), "client went away before the answer", "method", r.Method, "path", r.URL.Path)
		ae = apiErr(status, "internal", "", httpauth.InternalMessage)
	case internal:
		s.logger.ErrorContext(r.Context(), "API request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		ae = apiErr(status, "internal", "", httpauth.InternalMessage)
	case status == http.StatusNotFound:
		ae = apiErr(status, "not_found", "", "Not found.")
	case status == http.StatusConflict:
		ae = apiErr(status, "conflict", "", err.Error())
	default:
		ae = apiErr(status, "invalid_field", "", err.Error())
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
