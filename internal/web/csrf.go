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

// approvalLinkPattern is the one POST route that takes no CSRF token:
// an approval link's confirm form (page_workflows_link.go). The approver
// follows the link from an email and has no session, nor any cookie to
// double-submit. The HMAC-SHA256-signed token in the path is itself the
// capability: a cross-site form could only post a token its author already
// holds, and the token names one approval, one answer and an expiry. The
// route is public (wrap checks no session and no CSRF for public routes);
// security_test.go lists it as the only public POST without a CSRF check.
const approvalLinkPattern = "/approvals/{token}"
