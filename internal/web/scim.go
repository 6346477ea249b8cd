package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"roster"
	"roster/internal/directory"
	"roster/internal/store"
)

// The SCIM 2.0 server (RFC 7644) an identity provider pushes people to,
// under /scim/v2. It is not behind sessions or CSRF: the provider sends
// "Authorization: Bearer rk_..." with an API key that has the scim scope
// (Settings → API keys), and that key does nothing else. Every request,
// refused ones included, is audited with kind "directory". The mapping,
// filters and PATCH semantics live in internal/directory.

// scimPrefix is where the SCIM server lives.
const scimPrefix = "/scim/v2"

// scimContentType is SCIM's media type.
const scimContentType = "application/scim+json"

// scimMaxBody bounds a request body; a user is a few hundred bytes.
const scimMaxBody = 1 << 20

// scimHandler is a SCIM handler. It returns what to audit (action and
// target) and an error, which scimFail writes as a SCIM error body.
type scimHandler func(w http.ResponseWriter, r *http.Request, svc *directory.Service) (action, target string, err error)

// scimRoute is one entry of the SCIM route table.
type scimRoute struct {
	Method, Path string
	Handle       scimHandler
}

// scimRouteList is every route of the SCIM server, in one place.
func (s *Server) scimRouteList() []scimRoute {
	return []scimRoute{
		{"GET", scimPrefix + "/ServiceProviderConfig", s.scimConfig},
		{"GET", scimPrefix + "/Users", s.scimList},
		{"POST", scimPrefix + "/Users", s.scimCreate},
		{"GET", scimPrefix + "/Users/{id}", s.scimGet},
		{"PUT", scimPrefix + "/Users/{id}", s.scimReplace},
		{"PATCH", scimPrefix + "/Users/{id}", s.scimPatch},
		{"DELETE", scimPrefix + "/Users/{id}", s.scimDelete},
	}
}

// registerSCIM adds the SCIM routes to mux, and a catch-all answering
// unknown SCIM paths with a SCIM 404.
func (s *Server) registerSCIM(mux *http.ServeMux) {
	for _, rt := range s.scimRouteList() {
		mux.Handle(rt.Method+" "+rt.Path, s.wrapSCIM(rt))
	}
	mux.Handle(scimPrefix+"/", s.wrapSCIM(scimRoute{Handle: func(http.ResponseWriter, *http.Request, *directory.Service) (string, string, error) {
		return "scim_unknown", "", &directory.Error{Status: http.StatusNotFound, Detail: "roster's SCIM server has /Users and /ServiceProviderConfig."}
	}}))
}

// wrapSCIM authenticates, runs the handler, writes its error and audits.
func (s *Server) wrapSCIM(rt scimRoute) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor, err := s.scimAuthenticate(r)
		action, target := "scim_auth", ""
		if err == nil {
			r.Body = http.MaxBytesReader(w, r.Body, scimMaxBody)
			svc := &directory.Service{Store: s.store, Location: s.public + scimPrefix + "/Users"}
			action, target, err = rt.Handle(w, r, svc)
		}
		result, detail := "ok", r.Method+" "+r.URL.Path
		if err != nil {
			se := s.scimFail(w, r, err)
			result = "failed"
			if se.Status == http.StatusUnauthorized {
				result = "refused"
			}
			detail += fmt.Sprintf(": %s %s", strconv.Itoa(se.Status), se.Detail)
		}
		if actor == "" {
			actor = "scim:" + clientIP(r)
		}
		s.audit(r, roster.AuditEntry{Actor: actor, Kind: "directory", Action: action, Target: target, Result: result, Detail: detail})
	})
}

// scimAuthenticate checks the bearer token: an API key with scope scim.
// It returns the audit actor ("apikey:<name>") when the key is known.
func (s *Server) scimAuthenticate(r *http.Request) (string, error) {
	unauth := func(msg string) error {
		return &directory.Error{Status: http.StatusUnauthorized, Detail: msg}
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	token = strings.TrimSpace(token)
	if !ok || !strings.HasPrefix(token, apiKeyPrefix) {
		return "", unauth("Send Authorization: Bearer rk_..., an API key with the scim scope (Settings → API keys).")
	}
	k, err := s.store.APIKeyByHash(r.Context(), apiKeyHash(token))
	if errors.Is(err, store.ErrNotFound) {
		return "", unauth("The token is unknown or was deleted.")
	}
	if err != nil {
		return "", fmt.Errorf("look up the SCIM token: %w", err)
	}
	actor := "apikey:" + k.Name
	if !slices.Contains(k.Scopes, roster.ScopeSCIM) {
		return actor, &directory.Error{Status: http.StatusForbidden, Detail: fmt.Sprintf("The API key %q lacks the scim scope.", k.Name)}
	}
	s.touchAPIKey(r, k)
	return actor, nil
}

// scimFail writes err as a SCIM error body and returns it; roster's own
// failures are logged and answered 500 without detail.
func (s *Server) scimFail(w http.ResponseWriter, r *http.Request, err error) *directory.Error {
	var se *directory.Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &se):
	case errors.As(err, &mbe):
		se = &directory.Error{Status: http.StatusRequestEntityTooLarge, Detail: "The body is too large."}
	default:
		s.logger.ErrorContext(r.Context(), "SCIM request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		se = &directory.Error{Status: http.StatusInternalServerError, Detail: "Something went wrong on roster's side; the details are in its log."}
	}
	if se.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="roster-scim"`)
	}
	writeSCIM(w, se.Status, se.Body())
	return se
}

// writeSCIM writes v as application/scim+json.
func writeSCIM(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", scimContentType)
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

func (s *Server) scimConfig(w http.ResponseWriter, r *http.Request, _ *directory.Service) (string, string, error) {
	writeSCIM(w, http.StatusOK, directory.ServiceProviderConfig())
	return "scim_config", "", nil
}

func (s *Server) scimList(w http.ResponseWriter, r *http.Request, svc *directory.Service) (string, string, error) {
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
	writeSCIM(w, http.StatusOK, resp)
	return "scim_list", filter, nil
}

func (s *Server) scimGet(w http.ResponseWriter, r *http.Request, svc *directory.Service) (string, string, error) {
	u, err := svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return "scim_get", "person " + r.PathValue("id"), err
	}
	writeSCIM(w, http.StatusOK, u)
	return "scim_get", u.UserName, nil
}

func (s *Server) scimCreate(w http.ResponseWriter, r *http.Request, svc *directory.Service) (string, string, error) {
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
	writeSCIM(w, http.StatusCreated, u)
	return "scim_create", u.UserName, nil
}

func (s *Server) scimReplace(w http.ResponseWriter, r *http.Request, svc *directory.Service) (string, string, error) {
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
	writeSCIM(w, http.StatusOK, u)
	return "scim_replace", u.UserName, nil
}

func (s *Server) scimPatch(w http.ResponseWriter, r *http.Request, svc *directory.Service) (string, string, error) {
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
	writeSCIM(w, http.StatusOK, u)
	return "scim_patch", u.UserName, nil
}

func (s *Server) scimDelete(w http.ResponseWriter, r *http.Request, svc *directory.Service) (string, string, error) {
	p, err := svc.Delete(r.Context(), r.PathValue("id"))
	if err != nil {
		return "scim_delete", "person " + r.PathValue("id"), err
	}
	w.WriteHeader(http.StatusNoContent)
	return "scim_delete", p.Email, nil
}
