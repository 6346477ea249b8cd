package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"roster"
	"roster/internal/store"
)

// Cookie names.
const (
	sessionCookie = "roster_session"
	// preCSRFCookie carries the CSRF token of the login and setup forms,
	// which have no session yet (double-submit), so that nobody can log a
	// browser in to an account of theirs.
	preCSRFCookie = "roster_csrf"
)

// Login lock-out: after maxFailedLogins consecutive failures the account
// is locked for lockDuration.
const (
	maxFailedLogins = 5
	lockDuration    = 15 * time.Minute
	// MinPasswordLength is the shortest password roster accepts.
	MinPasswordLength = 12
)

// maxFormBytes bounds a request body.
const maxFormBytes = 1 << 20

// bcryptCost is bcrypt's default; tests lower it to stay fast.
var bcryptCost = bcrypt.DefaultCost

// hashPassword hashes a password with bcrypt.
func hashPassword(pw string) ([]byte, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcryptCost)
	if err != nil {
		return nil, fmt.Errorf("hash the password: %w", err)
	}
	return h, nil
}

// HashPassword hashes a password for roster.Operator.PasswordHash; it
// refuses one shorter than MinPasswordLength. `roster admin create` uses it.
func HashPassword(pw string) (string, error) {
	if len(pw) < MinPasswordLength {
		return "", fmt.Errorf("the password must be at least %d characters", MinPasswordLength)
	}
	h, err := hashPassword(pw)
	return string(h), err
}

// authKey is the context key of the logged-in operator.
type authKey struct{}

// auth is who is logged in, set on the request context by wrap.
type auth struct {
	Operator roster.Operator
	Session  roster.Session
}

// authOf returns the logged-in operator of a request (nil on public routes
// without a session).
func authOf(r *http.Request) *auth {
	a, _ := r.Context().Value(authKey{}).(*auth)
	return a
}

// actor names the logged-in operator in audit entries and actions.
func (a *auth) actor() string { return "operator:" + a.Operator.Email }

// isAdmin reports whether the operator may act.
func (a *auth) isAdmin() bool { return a != nil && a.Operator.Role == roster.RoleAdmin }

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
			a, err := s.loadSession(r)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			if a == nil {
				s.refuseAnonymous(w, r)
				return
			}
			if rt.Access == admin && !a.isAdmin() {
				s.fail(w, r, errForbidden("Viewers cannot act or change settings; ask an admin."))
				return
			}
			// Said too big before the CSRF check reads the body, which
			// would otherwise fail as a missing token.
			if r.ContentLength > limit {
				s.fail(w, r, errTooLarge(limit))
				return
			}
			if !safeMethod(r.Method) && !checkCSRF(r, a.Session.CSRFToken) {
				s.fail(w, r, errCSRF)
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), authKey{}, a))
		}
		if err := rt.Handle(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// safeMethod reports whether a method changes nothing, so needs no CSRF token.
func safeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// refuseAnonymous answers a request without a session: pages redirect to
// the login (or to the setup on first run), anything else gets 401.
func (s *Server) refuseAnonymous(w http.ResponseWriter, r *http.Request) {
	if !safeMethod(r.Method) {
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

// loadSession returns the operator of the request's session cookie, or
// nil when there is no valid session.
func (s *Server) loadSession(r *http.Request) (*auth, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	token, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(token) != 32 {
		return nil, nil
	}
	sess, err := s.store.Session(r.Context(), tokenHash(token), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load the session: %w", err)
	}
	op, err := s.store.Operator(r.Context(), sess.OperatorID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load the session's operator: %w", err)
	}
	return &auth{Operator: op, Session: sess}, nil
}

// startSession creates a session for op and sets its cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, op roster.Operator) error {
	token := randomBytes(32)
	now := s.now()
	sess := roster.Session{
		TokenHash: tokenHash(token), OperatorID: op.ID, CSRFToken: randomToken(),
		CreatedAt: now, ExpiresAt: now.Add(s.ttl),
	}
	if err := s.store.CreateSession(r.Context(), sess); err != nil {
		return fmt.Errorf("create a session: %w", err)
	}
	http.SetCookie(w, s.cookie(r, sessionCookie, base64.RawURLEncoding.EncodeToString(token), s.ttl))
	return nil
}

// endSession deletes the request's session, if any, and clears its cookie.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if token, err := base64.RawURLEncoding.DecodeString(c.Value); err == nil {
			if err := s.store.DeleteSession(r.Context(), tokenHash(token)); err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("end the session: %w", err)
			}
		}
	}
	http.SetCookie(w, s.cookie(r, sessionCookie, "", -1))
	return nil
}

// cookie builds a cookie with roster's flags: HttpOnly, SameSite=Lax,
// Path=/, and Secure behind TLS. ttl < 0 deletes it.
func (s *Server) cookie(r *http.Request, name, value string, ttl time.Duration) *http.Cookie {
	c := &http.Cookie{
		Name: name, Value: value, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure || r.TLS != nil,
	}
	switch {
	case ttl < 0:
		c.MaxAge = -1
	case ttl > 0:
		c.MaxAge = int(ttl / time.Second)
	}
	return c
}

// tokenHash is what the store keeps of a session token.
func tokenHash(token []byte) []byte {
	h := sha256.Sum256(token)
	return h[:]
}

// randomBytes returns n bytes from the system's secure source.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b
}

// randomToken is 32 random bytes, URL-safe: CSRF tokens and idempotency keys.
func randomToken() string { return base64.RawURLEncoding.EncodeToString(randomBytes(32)) }

// localPath keeps a redirect target only when it stays on roster: a path
// starting with one slash (not "//host" nor "/\host").
func localPath(p string) string {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return "/"
	}
	return p
}
