package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"roster/internal/httpauth"
)

// preCSRFCookie carries the CSRF token of the login and setup forms,
// which have no session yet (double-submit), so that nobody can log a
// browser in to an account of theirs.
const preCSRFCookie = "roster_csrf"

// Login lock-out: after maxFailedLogins consecutive failures the account
// is locked for lockDuration.
const (
	maxFailedLogins = 5
	lockDuration    = 15 * time.Minute
)

// maxFormBytes bounds a request body.
const maxFormBytes = 1 << 20

// auth is who is logged in, set on the request context by wrap.
type auth = httpauth.Auth

// authOf returns the logged-in operator of a request (nil on public routes
// without a session).
func authOf(r *http.Request) *auth { return httpauth.AuthOf(r) }

// wrap turns a route into an http.Handler: it loads the session, refuses
// requests that are not logged in (a redirect for pages, 401 otherwise),
// checks the role and the CSRF token, and maps a returned error.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// No form of the dashboard but the CSV import (bodyLimit) comes
		// near this; a bigger body is refused when parsed rather than
		// read into memory.
		limit := bodyLimit(rt)
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if rt.Access != public {
			a, err := s.guard.Session(r)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			if a == nil {
				s.refuseAnonymous(w, r)
				return
			}
			if rt.Access == admin && !a.IsAdmin() {
				s.fail(w, r, errForbidden("Viewers cannot act or change settings; ask an admin."))
				return
			}
			// Said too big before the CSRF check reads the body, which
			// would otherwise fail as a missing token.
			if r.ContentLength > limit {
				s.fail(w, r, errTooLarge(limit))
				return
			}
			if !httpauth.SafeMethod(r.Method) && !httpauth.CheckCSRF(r, a.Session.CSRFToken) {
				s.fail(w, r, errCSRF)
				return
			}
			r = r.WithContext(httpauth.WithAuth(r.Context(), a))
		}
		if err := rt.Handle(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// refuseAnonymous answers a request without a session: pages redirect to
// the login (or to the setup on first run), anything else gets 401.
func (s *Server) refuseAnonymous(w http.ResponseWriter, r *http.Request) {
	if !httpauth.SafeMethod(r.Method) {
		s.fail(w, r, errUnauthorized)
		return
	}
	n, err := s.store.CountOperators(r.Context())
	if err != nil {
		s.fail(w, r, fmt.Errorf("count operators: %w", err))
		return
	}
	if n == 0 {
		http.Redirect(w, r, "/setup", http.StatusSeeOther)
		return
	}
	if r.Header.Get("HX-Request") != "" {
		// htmx would swap the login page into a fragment; send the whole
		// browser there instead.
		w.Header().Set("HX-Redirect", "/login")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
}

// localPath keeps a redirect target only when it stays on roster: a path
// starting with one slash (not "//host" nor "/\host").
func localPath(p string) string {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return "/"
	}
	return p
}
