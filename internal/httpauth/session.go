package httpauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"roster"
	"roster/internal/store"
)

// SessionCookie holds a session's token.
const SessionCookie = "roster_session"

// CSRFField is the hidden form field, and CSRFHeader the header (htmx and
// browser API calls send it), that carry a session's CSRF token.
const (
	CSRFField  = "csrf"
	CSRFHeader = "X-CSRF-Token"
)

// Auth is who is logged in.
type Auth struct {
	Operator roster.Operator
	Session  roster.Session
}

// Actor names the logged-in operator in audit entries and actions.
func (a *Auth) Actor() string { return "operator:" + a.Operator.Email }

// IsAdmin reports whether the operator may act.
func (a *Auth) IsAdmin() bool { return a != nil && a.Operator.Role == roster.RoleAdmin }

type authKey struct{}

// WithAuth returns ctx carrying a.
func WithAuth(ctx context.Context, a *Auth) context.Context {
	return context.WithValue(ctx, authKey{}, a)
}

// AuthOf returns the logged-in operator of a request: nil on a public
// route, or for an API key.
func AuthOf(r *http.Request) *Auth {
	a, _ := r.Context().Value(authKey{}).(*Auth)
	return a
}

// Session returns the operator of the request's session cookie, or nil
// when there is no valid session.
func (g *Guard) Session(r *http.Request) (*Auth, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	token, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(token) != 32 {
		return nil, nil
	}
	sess, err := g.Store.Session(r.Context(), tokenHash(token), g.now())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load the session: %w", err)
	}
	op, err := g.Store.Operator(r.Context(), sess.OperatorID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load the session's operator: %w", err)
	}
	return &Auth{Operator: op, Session: sess}, nil
}

// StartSession creates a session for op and sets its cookie.
func (g *Guard) StartSession(w http.ResponseWriter, r *http.Request, op roster.Operator) error {
	token, sess := g.NewSession(op)
	if err := g.Store.CreateSession(r.Context(), sess); err != nil {
		return fmt.Errorf("create a session: %w", err)
	}
	http.SetCookie(w, g.Cookie(r, SessionCookie, token, g.ttl()))
	return nil
}

// NewSession is a new session for op and its cookie value, not yet
// stored; StartSession stores it.
func (g *Guard) NewSession(op roster.Operator) (cookie string, s roster.Session) {
	token := randomBytes(32)
	now := g.now()
	return base64.RawURLEncoding.EncodeToString(token), roster.Session{
		TokenHash: tokenHash(token), OperatorID: op.ID, CSRFToken: RandomToken(),
		CreatedAt: now, ExpiresAt: now.Add(g.ttl()),
	}
}

// EndSession deletes the request's session, if any, and clears its cookie.
func (g *Guard) EndSession(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(SessionCookie); err == nil {
		if token, err := base64.RawURLEncoding.DecodeString(c.Value); err == nil {
			if err := g.Store.DeleteSession(r.Context(), tokenHash(token)); err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("end the session: %w", err)
			}
		}
	}
	http.SetCookie(w, g.Cookie(r, SessionCookie, "", -1))
	return nil
}

// Cookie builds a cookie with roster's flags: HttpOnly, SameSite=Lax,
// Path=/, and Secure behind TLS. ttl < 0 deletes it; 0 lasts the browser
// session.
func (g *Guard) Cookie(r *http.Request, name, value string, ttl time.Duration) *http.Cookie {
	c := &http.Cookie{
		Name: name, Value: value, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: g.SecureCookies || r.TLS != nil,
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

// CheckCSRF reports whether the request carries want, in the header or
// the form. want is never empty for a real session.
func CheckCSRF(r *http.Request, want string) bool {
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		got = r.PostFormValue(CSRFField)
	}
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
