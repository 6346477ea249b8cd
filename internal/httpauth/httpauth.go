// Package httpauth is what roster's three HTTP packages share: the
// dashboard (internal/web), the JSON API (internal/api) and the SCIM
// server (internal/scim). It holds
//   - sessions: server-side rows keyed by the SHA-256 of a random cookie
//     token, so logout and expiry are real and a database leak yields no
//     session;
//   - the CSRF check: each session carries its token, sent in a form
//     field or the X-CSRF-Token header;
//   - API keys: "Bearer rk_...", stored as SHA-256, with scopes;
//   - passwords: bcrypt, and the rule a password must meet;
//   - who may use a route (Access), the security headers every answer
//     carries, the audit of requests, and the one map from roster's
//     errors to HTTP statuses (Status).
//
// Each HTTP package keeps its own route table and writes its own error
// bodies (an HTML page, JSON, a SCIM error); none of them re-implements
// any of the above.
package httpauth

import (
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"roster"
	"roster/internal/store"
)

// Guard checks who is asking. Store is required.
type Guard struct {
	Store  store.Store
	Logger *slog.Logger
	Now    func() time.Time
	// SecureCookies marks cookies Secure; set it when roster is served
	// over TLS (also behind a TLS-terminating proxy). A request that
	// arrives over TLS gets Secure cookies regardless.
	SecureCookies bool
	// SessionTTL is how long a login lasts; DefaultSessionTTL when zero.
	SessionTTL time.Duration
}

// DefaultSessionTTL is how long a login lasts.
const DefaultSessionTTL = 12 * time.Hour

func (g *Guard) now() time.Time {
	if g.Now == nil {
		return time.Now()
	}
	return g.Now()
}

func (g *Guard) logger() *slog.Logger {
	if g.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return g.Logger
}

func (g *Guard) ttl() time.Duration {
	if g.SessionTTL <= 0 {
		return DefaultSessionTTL
	}
	return g.SessionTTL
}

// Access is who may use a route.
type Access int

const (
	// Public routes need no login: static assets, setup, login, and the
	// signed approval links.
	Public Access = iota
	// Viewer routes need a login; any role may use them.
	Viewer
	// Admin routes need a login with the admin role; viewers get 403.
	Admin
)

// SafeMethod reports whether a method changes nothing, so needs no CSRF
// token and only the read scope.
func SafeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// SecurityHeaders forbids inline script and style, framing, sniffing and
// cross-origin referrers. Form posts may only go back to roster; the OAuth
// connect flow reaches Miro by a redirect, which form-action allows.
func SecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; "+styleSrc+"; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
}

// styleSrc allows stylesheets from roster only: no inline style.
const styleSrc = "style-src 'self'"

// RiverUIPrefix is where the dashboard mounts River UI (internal/web).
const RiverUIPrefix = "/admin/jobs"

// RiverUISecurityHeaders are SecurityHeaders for River UI's answers under
// RiverUIPrefix, with one exception: style-src also allows inline styles.
// River UI's prebuilt bundle adds <style> elements as it runs (its
// toasts' CSS-in-JS, its theme switch) and cannot be given a nonce.
// Scripts stay 'self' only, so an injected style cannot run code.
func RiverUISecurityHeaders(h http.Header) {
	SecurityHeaders(h)
	h.Set("Content-Security-Policy", strings.Replace(h.Get("Content-Security-Policy"), styleSrc, styleSrc+" 'unsafe-inline'", 1))
}

// Audit appends an entry to the audit log. A failure to audit is logged,
// not returned: the request itself went through.
func (g *Guard) Audit(r *http.Request, e roster.AuditEntry) {
	if e.At.IsZero() {
		e.At = g.now()
	}
	if err := g.Store.AppendAudit(r.Context(), &e); err != nil {
		g.logger().ErrorContext(r.Context(), "append to the audit log", "kind", e.Kind, "action", e.Action, "error", err)
	}
}

// ClientIP is the peer address of a request, for the audit log. roster
// does not trust X-Forwarded-For: it cannot know which proxy to believe.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// randomBytes returns n bytes from the system's secure source.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b
}

// RandomToken is 32 random bytes, URL-safe: CSRF tokens, idempotency keys
// of forms, OAuth state.
func RandomToken() string { return base64.RawURLEncoding.EncodeToString(randomBytes(32)) }
