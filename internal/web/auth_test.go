package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/httpauth"
	"roster/internal/store"
)

func TestSetup(t *testing.T) {
	t.Parallel()
	b := setup(t)
	br := b.browser(t)

	// First run: every page leads to the setup.
	for _, path := range []string{"/", "/users", "/login", "/settings"} {
		p := br.get(path)
		require.Equal(t, http.StatusSeeOther, p.StatusCode, path)
		require.Equal(t, "/setup", p.location(), path)
	}
	p := br.get("/setup")
	require.Equal(t, http.StatusOK, p.StatusCode)
	csrf := formCSRF(t, p.Body)

	t.Run("ErrFields", func(t *testing.T) {
		p := br.do("POST", "/setup", url.Values{"csrf": {csrf}, "email": {"not-an-email"}, "password": {"short"}, "confirm": {"other"}})
		require.Equal(t, http.StatusBadRequest, p.StatusCode)
		require.Contains(t, p.Body, "Enter an email address")
		require.Contains(t, p.Body, "at least 12 characters")
		require.Contains(t, p.Body, "The two passwords differ")
		n, err := b.db.CountOperators(context.Background())
		require.NoError(t, err)
		require.Zero(t, n)
	})
	t.Run("ErrCSRF", func(t *testing.T) {
		p := b.browser(t).do("POST", "/setup", url.Values{"email": {"x@example.com"}, "password": {"long enough password"}, "confirm": {"long enough password"}})
		require.Equal(t, http.StatusForbidden, p.StatusCode)
	})

	p = br.do("POST", "/setup", url.Values{"csrf": {csrf}, "email": {"Admin@Example.com"}, "password": {"long enough password"}, "confirm": {"long enough password"}})
	require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
	require.Equal(t, "/", p.location())
	home := br.get("/")
	require.Equal(t, http.StatusOK, home.StatusCode)
	require.Contains(t, home.Body, "admin@example.com (admin)")

	// Once an operator exists, setup is refused.
	other := b.browser(t)
	p = other.get("/setup")
	require.Equal(t, http.StatusSeeOther, p.StatusCode)
	require.Equal(t, "/login", p.location())
	p = other.get("/login")
	p = other.do("POST", "/setup", url.Values{"csrf": {formCSRF(t, p.Body)}, "email": {"evil@example.com"}, "password": {"long enough password"}, "confirm": {"long enough password"}})
	require.Equal(t, http.StatusForbidden, p.StatusCode)
	_, err := b.db.OperatorByEmail(context.Background(), "evil@example.com")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestLogin(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.operator(t, "ann@example.com", roster.RoleAdmin, "correct horse battery")

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		br := b.browser(t)
		p := br.get("/users?license=full")
		require.Equal(t, http.StatusSeeOther, p.StatusCode)
		require.Equal(t, "/login?next="+url.QueryEscape("/users?license=full"), p.location())
		p = br.get(p.location())
		p = br.do("POST", "/login", url.Values{"csrf": {formCSRF(t, p.Body)}, "email": {"ANN@example.com"}, "password": {"correct horse battery"}, "next": {"/users?license=full"}})
		require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
		require.Equal(t, "/users?license=full", p.location())
		require.Equal(t, http.StatusOK, br.get("/").StatusCode)

		// Logout ends the session on the server, not just the cookie.
		home := br.get("/")
		cookies := br.c.Jar.Cookies(mustURL(t, b.ts.URL))
		p = br.do("POST", "/logout", url.Values{"csrf": {formCSRF(t, home.Body)}})
		require.Equal(t, http.StatusSeeOther, p.StatusCode)
		require.Equal(t, "/login", p.location())
		require.Equal(t, http.StatusSeeOther, br.get("/").StatusCode)
		replay := b.browser(t)
		replay.c.Jar.SetCookies(mustURL(t, b.ts.URL), cookies)
		require.Equal(t, http.StatusSeeOther, replay.get("/").StatusCode, "a logged-out session cookie still works")
	})
	t.Run("ErrOpenRedirect", func(t *testing.T) {
		t.Parallel()
		br := b.browser(t)
		p := br.get("/login")
		p = br.do("POST", "/login", url.Values{"csrf": {formCSRF(t, p.Body)}, "email": {"ann@example.com"}, "password": {"correct horse battery"}, "next": {"//evil.example/x"}})
		require.Equal(t, http.StatusSeeOther, p.StatusCode)
		require.Equal(t, "/", p.location())
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		t.Parallel()
		p := b.browser(t).login("ann@example.com", "wrong password!")
		require.Equal(t, http.StatusUnauthorized, p.StatusCode)
		require.Contains(t, p.Body, msgBadLogin)
		p = b.browser(t).login("nobody@example.com", "wrong password!")
		require.Equal(t, http.StatusUnauthorized, p.StatusCode)
		require.Contains(t, p.Body, msgBadLogin)
	})
	t.Run("ErrSessionExpired", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		br := b.loggedIn(t, roster.RoleViewer)
		require.Equal(t, http.StatusOK, br.get("/").StatusCode)
		b.clock.Add(httpauth.DefaultSessionTTL + time.Minute)
		require.Equal(t, http.StatusSeeOther, br.get("/").StatusCode)
	})
}

func TestLockout(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.operator(t, "ann@example.com", roster.RoleAdmin, "correct horse battery")
	br := b.browser(t)
	for i := 1; i < maxFailedLogins; i++ {
		p := br.login("ann@example.com", "wrong password!")
		require.Equal(t, http.StatusUnauthorized, p.StatusCode, "attempt %d", i)
	}
	p := br.login("ann@example.com", "wrong password!")
	require.Equal(t, http.StatusTooManyRequests, p.StatusCode)
	require.Contains(t, p.Body, msgLocked)

	// Locked: even the right password is refused, with the same words.
	p = br.login("ann@example.com", "correct horse battery")
	require.Equal(t, http.StatusTooManyRequests, p.StatusCode)
	require.Contains(t, p.Body, msgLocked)

	// The failures and the lock-out are audited.
	entries, err := b.db.AuditEntries(context.Background(), store.AuditFilter{Kind: "auth"})
	require.NoError(t, err)
	var failed, locked int
	for _, e := range entries {
		switch e.Action {
		case "login_failed":
			failed++
			require.NotContains(t, e.Detail, "wrong password!", "a password reached the audit log")
		case "login_locked":
			locked++
		}
	}
	require.Equal(t, maxFailedLogins+1, failed)
	require.Equal(t, 1, locked)

	// After 15 minutes the right password works again.
	b.clock.Add(lockDuration + time.Second)
	p = br.login("ann@example.com", "correct horse battery")
	require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
}

func TestSessionCookie(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		b := setup(t, func(c *Config) { c.SecureCookies = secure })
		b.operator(t, "ann@example.com", roster.RoleAdmin, "correct horse battery")
		br := b.browser(t)
		p := br.get("/login")
		p = br.do("POST", "/login", url.Values{"csrf": {formCSRF(t, p.Body)}, "email": {"ann@example.com"}, "password": {"correct horse battery"}})
		require.Equal(t, http.StatusSeeOther, p.StatusCode)
		var raw string
		for _, h := range p.Header.Values("Set-Cookie") {
			if strings.HasPrefix(h, httpauth.SessionCookie+"=") {
				raw = h
			}
		}
		require.NotEmpty(t, raw, "no session cookie")
		c, err := http.ParseSetCookie(raw)
		require.NoError(t, err)
		require.True(t, c.HttpOnly)
		require.Equal(t, http.SameSiteLaxMode, c.SameSite)
		require.Equal(t, "/", c.Path)
		require.Equal(t, secure, c.Secure)
		require.Len(t, c.Value, 43, "32 random bytes, base64url")

		// Only the token's hash is stored.
		_, err = b.db.Session(context.Background(), []byte(c.Value), b.clock.Now())
		require.ErrorIs(t, err, store.ErrNotFound)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}
