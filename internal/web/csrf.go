package web

import (
	"net/http"

	"roster/internal/httpauth"
)

// preSessionCSRF returns the CSRF token of the login and setup forms,
// setting its cookie when the browser has none.
func (s *Server) preSessionCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(preCSRFCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	token := httpauth.RandomToken()
	http.SetCookie(w, s.guard.Cookie(r, preCSRFCookie, token, 0))
	return token
}

// checkPreSessionCSRF checks a login or setup form against its cookie.
func checkPreSessionCSRF(r *http.Request) bool {
	c, err := r.Cookie(preCSRFCookie)
	if err != nil {
		return false
	}
	return httpauth.CheckCSRF(r, c.Value)
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
