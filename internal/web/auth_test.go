package web

import (
	"context"
	"fmt"
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
	t.Run("ErrPasswords", func(t *testing.T) {
		for _, tc := range []struct{ pw, want string }{
			{strings.Repeat("long enough ", 7), "at most 72 bytes"}, // 84 bytes: bcrypt would fail
			{"😀😀😀😀", "at least 12 characters (it has 4)"},           // 16 bytes, 4 characters
			{"password1234", "too easy to guess"},
			{"            ", "too easy to guess"},
			{"admin@example.com", "too easy to guess"}, // the email itself
		} {
			p := br.do("POST", "/setup", url.Values{"csrf": {csrf}, "email": {"admin@example.com"}, "password": {tc.pw}, "confirm": {tc.pw}})
			require.Equal(t, http.StatusBadRequest, p.StatusCode, tc.pw)
			require.Contains(t, p.Body, tc.want, tc.pw)
		}
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

// loginAudit counts the auth entries of the audit log by action, and
// their total size in bytes.
func loginAudit(t *testing.T, b *testBundle) (failed, locked, size int) {
	t.Helper()
	entries, err := b.db.AuditEntries(context.Background(), store.AuditFilter{Kind: "auth"})
	require.NoError(t, err)
	for _, e := range entries {
		switch e.Action {
		case "login_failed":
			failed++
			require.NotContains(t, e.Detail, "wrong password!", "a password reached the audit log")
		case "login_locked":
			locked++
		}
		size += len(e.Target) + len(e.Detail)
	}
	return failed, locked, size
}

// A lock-out holds the account from one address only, so that someone
// guessing elsewhere cannot keep the admin out; known and unknown
// accounts get the same answers.
func TestLockout(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.operator(t, "ann@example.com", roster.RoleAdmin, "correct horse battery")
	attacker := b.browser(t)
	attacker.from = "203.0.113.7"

	for _, email := range []string{"ann@example.com", "nobody@example.com"} {
		for i := 1; i < httpauth.MaxLoginFailures; i++ {
			p := attacker.login(email, "wrong password!")
			require.Equal(t, http.StatusUnauthorized, p.StatusCode, "%s attempt %d", email, i)
			require.Contains(t, p.Body, msgBadLogin)
		}
		p := attacker.login(email, "wrong password!")
		require.Equal(t, http.StatusTooManyRequests, p.StatusCode, email)
		require.Contains(t, p.Body, msgLocked)
	}

	// Locked from there: even the right password is refused, with the
	// same words, and the refusal writes nothing.
	p := attacker.login("ann@example.com", "correct horse battery")
	require.Equal(t, http.StatusTooManyRequests, p.StatusCode)
	require.Contains(t, p.Body, msgLocked)
	failed, locked, _ := loginAudit(t, b)
	require.Equal(t, 2*httpauth.MaxLoginFailures, failed)
	require.Equal(t, 2, locked)

	// The admin, from her own address, logs in.
	ann := b.browser(t)
	ann.from = "198.51.100.20"
	p = ann.login("ann@example.com", "correct horse battery")
	require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)

	// After 15 minutes the lock ends.
	b.clock.Add(httpauth.LoginLockout + time.Second)
	p = attacker.login("ann@example.com", "correct horse battery")
	require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
}

// One address guessing across many accounts, known or not, is stopped
// after MaxAddressFailures, and a flood from it grows the audit log by
// nothing more.
func TestLoginAddressLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.operator(t, "ann@example.com", roster.RoleAdmin, "correct horse battery")
	sprayer := b.browser(t)
	sprayer.from = "2001:db8:1:2::99"
	for i := 1; i < httpauth.MaxAddressFailures; i++ {
		p := sprayer.login(fmt.Sprintf("user%d@example.com", i), "wrong password!")
		require.Equal(t, http.StatusUnauthorized, p.StatusCode, "attempt %d", i)
	}
	p := sprayer.login("last@example.com", "wrong password!")
	require.Equal(t, http.StatusTooManyRequests, p.StatusCode)
	_, _, before := loginAudit(t, b)

	// Another address in the same IPv6 /64 is the same client.
	sprayer.from = "2001:db8:1:2::100"
	for i := 0; i < 20; i++ {
		p := sprayer.login(fmt.Sprintf("more%d@example.com", i), "wrong password!")
		require.Equal(t, http.StatusTooManyRequests, p.StatusCode)
	}
	p = sprayer.login("ann@example.com", "correct horse battery")
	require.Equal(t, http.StatusTooManyRequests, p.StatusCode)
	_, _, after := loginAudit(t, b)
	require.Equal(t, before, after, "refused attempts grew the audit log")

	// Elsewhere, logins go on.
	other := b.browser(t)
	other.from = "2001:db8:9::1"
	require.Equal(t, http.StatusSeeOther, other.login("ann@example.com", "correct horse battery").StatusCode)
}

// Every login field is bounded where it enters: a 900 KB email is refused
// with the limit named, and writes nothing.
func TestLoginFieldLimits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.operator(t, "ann@example.com", roster.RoleAdmin, "correct horse battery")
	br := b.browser(t)
	huge := strings.Repeat("a", 900<<10) + "@example.com"
	for i := 0; i < 3; i++ {
		p := br.get("/login")
		p = br.do("POST", "/login", url.Values{"csrf": {formCSRF(t, p.Body)}, "email": {huge}, "password": {"wrong password!"}})
		require.Equal(t, http.StatusBadRequest, p.StatusCode)
		require.Contains(t, p.Body, "at most 320 bytes")
		require.NotContains(t, p.Body, strings.Repeat("a", 400), "the email was echoed back")
	}
	failed, _, size := loginAudit(t, b)
	require.Zero(t, failed)
	require.Zero(t, size)

	// A password longer than bcrypt reads matches nothing, with no error.
	p := br.login("ann@example.com", "correct horse battery"+strings.Repeat("x", 100))
	require.Equal(t, http.StatusUnauthorized, p.StatusCode, p.Body)
	// A redirect target over 2 KB is dropped for "/".
	p = br.get("/login")
	p = br.do("POST", "/login", url.Values{"csrf": {formCSRF(t, p.Body)}, "email": {"ann@example.com"}, "password": {"correct horse battery"}, "next": {"/users?q=" + strings.Repeat("x", 3000)}})
	require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
	require.Equal(t, "/", p.location())
}

// The known ways around a "local path" check, each of which a browser
// turns into a trip to another host, land on "/".
func TestLocalPath(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{
		"", "evil.example", "https://evil.example", "//evil.example", "///evil.example",
		"/\\evil.example", "\\/evil.example", "\\\\evil.example", "/\t/evil.example", "/\n/evil.example",
		"/\r/evil.example", "\t//evil.example", " //evil.example", "/ /evil.example",
		"/%09/evil.example", "/%0a/evil.example", "/%0d/evil.example", "/%5c/evil.example", "/%5C%5Cevil.example",
		"/%2f/evil.example", "/%2F%2Fevil.example", "/%00/evil.example", "/\x00/evil.example",
		"/\u3000/evil.example", "/\uff0fevil.example", "javascript:alert(1)", "/%", "/%zz",
		"/users\\..\\evil", "/\x7f/evil.example",
	} {
		require.Equal(t, "/", localPath(bad), "%q was kept", bad)
	}
	for _, good := range []string{"/", "/users", "/users?license=full&q=ann%40example.com", "/users/12", "/workflows/offboarding/runs?status=waiting#x", "/users?q=Jos%C3%A9"} {
		require.Equal(t, good, localPath(good))
	}
}

// The redirect after a login, and the login page of a logged-in browser,
// keep only local paths, as the query string delivers them.
func TestLoginOpenRedirect(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.operator(t, "ann@example.com", roster.RoleAdmin, "correct horse battery")
	br := b.browser(t)
	require.Equal(t, http.StatusSeeOther, br.login("ann@example.com", "correct horse battery").StatusCode)
	for _, raw := range []string{"/%09/evil.example", "/%0A/evil.example", "/%5C/evil.example", "%5C/evil.example", "//evil.example", "/%252F/evil.example%09"} {
		p := br.get("/login?next=" + raw)
		require.Equal(t, http.StatusSeeOther, p.StatusCode, raw)
		require.Equal(t, "/", p.location(), raw)
	}
	p := br.get("/login?next=" + url.QueryEscape("/users?license=full"))
	require.Equal(t, "/users?license=full", p.location())
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
