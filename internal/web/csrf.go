package web

import (
	"crypto/subtle"
	"net/http"
)

// csrfField is the hidden form field, and csrfHeader the header htmx sends
// (set once with hx-headers on <body>), that carry the CSRF token.
const (
	csrfField  = "csrf"
	csrfHeader = "X-CSRF-Token"
)

// checkCSRF reports whether the request carries want, in the header or
// the form. want is never empty for a real session.
func checkCSRF(r *http.Request, want string) bool {
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostFormValue(csrfField)
	}
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// preSessionCSRF returns the CSRF token of the login and setup forms,
// setting its cookie when the browser has none.
func (s *Server) preSessionCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(preCSRFCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	token := randomToken()
	http.SetCookie(w, s.cookie(r, preCSRFCookie, token, 0))
	return token
}

// checkPreSessionCSRF checks a login or setup form against its cookie.
func checkPreSessionCSRF(r *http.Request) bool {
	c, err := r.Cookie(preCSRFCookie)
	if err != nil {
		return false
	}
	return checkCSRF(r, c.Value)
}
