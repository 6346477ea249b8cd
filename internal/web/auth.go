package web

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"roster/internal/httpauth"
)

// preCSRFCookie carries the CSRF token of the login and setup forms,
// which have no session yet (double-submit), so that nobody can log a
// browser in to an account of theirs.
const preCSRFCookie = "roster_csrf"

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
		// near this; a bigger body is refused when read rather than held
		// in memory.
		r.Body = http.MaxBytesReader(w, r.Body, bodyLimit(rt))
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
			if err := readForm(r, rt); err != nil {
				s.fail(w, r, err)
				return
			}
			if !httpauth.SafeMethod(r.Method) && !httpauth.CheckCSRF(r, a.Session.CSRFToken) {
				s.fail(w, r, errCSRF)
				return
			}
			r = r.WithContext(httpauth.WithAuth(r.Context(), a))
		} else if err := readForm(r, rt); err != nil {
			s.fail(w, r, err)
			return
		}
		if err := rt.Handle(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// readForm reads a posted form before the CSRF check does, so that a body
// over the limit, with its length declared or sent in chunks, is said too
// large (413) rather than failing as a missing token. A request whose
// token is in the header (htmx) leaves its body to the handler.
func readForm(r *http.Request, rt route) error {
	if httpauth.SafeMethod(r.Method) {
		return nil
	}
	if r.ContentLength > bodyLimit(rt) {
		return errTooLarge(rt)
	}
	if r.Header.Get(httpauth.CSRFHeader) != "" {
		return nil
	}
	var err error
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		err = r.ParseMultipartForm(maxMultipartMemory)
	} else {
		err = r.ParseForm()
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return errTooLarge(rt)
	case err != nil && !errors.Is(err, http.ErrNotMultipart):
		return errBadRequest("The form could not be read: " + err.Error())
	}
	return nil
}

// maxMultipartMemory is how much of an upload is held in memory; the
// rest goes to a temporary file.
const maxMultipartMemory = 32 << 20

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

// localPath keeps a redirect target only when it stays on roster, and
// answers "/" otherwise. Browsers drop tabs and newlines from a URL and
// read a backslash as a slash, so "/\t/evil.example" or "/\\evil.example"
// would leave for another host: only printable ASCII without a backslash
// is kept, with no control character or backslash once percent-decoded
// either, and it must parse as a path with no scheme and no host.
// roster's own targets (RequestURI) are always of that form.
func localPath(p string) string {
	if p == "" || len(p) > maxRedirectLength || !plainPath(p) {
		return "/"
	}
	if decoded, err := url.PathUnescape(p); err != nil || strings.HasPrefix(decoded, "//") || strings.ContainsFunc(decoded, unsafeInURL) {
		return "/"
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	return p
}

// maxRedirectLength bounds a redirect target, as every field is bounded.
const maxRedirectLength = 2048

// plainPath reports whether p starts with exactly one slash and holds
// only printable ASCII other than a backslash.
func plainPath(p string) bool {
	if len(p) == 0 || p[0] != '/' || strings.HasPrefix(p, "//") {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x21 || c > 0x7e || c == '\\' {
			return false
		}
	}
	return true
}

// unsafeInURL is a character browsers drop or rewrite in a URL.
func unsafeInURL(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }
