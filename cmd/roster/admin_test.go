package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	neturl "net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"roster"
	"roster/internal/store/storetest"
)

// TestAdminCreate is not parallel: it replaces stdin.
func TestAdminCreate(t *testing.T) {
	e := newE2E(t)

	// A generated password is printed once and works.
	res := e.roster(t, "admin", "create", "--email", "Ann@Example.com")
	require.NoError(t, res.err, res.stderr)
	require.Contains(t, res.stdout, "created admin ann@example.com")
	_, pw, ok := strings.Cut(res.stdout, "password: ")
	require.True(t, ok, res.stdout)
	pw, _, _ = strings.Cut(pw, "\n")
	require.Len(t, pw, 26)

	// A password from stdin, for a viewer.
	stdin = strings.NewReader("a long enough password\n")
	t.Cleanup(func() { stdin = nil })
	res = e.roster(t, "admin", "create", "--email", "vic@example.com", "--role", "viewer", "--password-stdin")
	require.NoError(t, res.err, res.stderr)
	require.NotContains(t, res.stdout, "a long enough password")

	db := storetest.Open(t, filepath.Join(e.dataDir, "roster.db"))
	ann, err := db.OperatorByEmail(context.Background(), "ann@example.com")
	require.NoError(t, err)
	require.Equal(t, roster.RoleAdmin, ann.Role)
	require.NoError(t, bcrypt.CompareHashAndPassword([]byte(ann.PasswordHash), []byte(pw)))
	vic, err := db.OperatorByEmail(context.Background(), "vic@example.com")
	require.NoError(t, err)
	require.Equal(t, roster.RoleViewer, vic.Role)
	require.NoError(t, bcrypt.CompareHashAndPassword([]byte(vic.PasswordHash), []byte("a long enough password")))

	t.Run("Errors", func(t *testing.T) {
		for _, tc := range []struct {
			args  []string
			stdin string
			want  string
		}{
			{[]string{"--email", "ann@example.com"}, "", "exists"},
			{[]string{"--email", "not an email"}, "", "--email must be an email address"},
			{[]string{"--email", "x@example.com", "--role", "root"}, "", "--role must be admin or viewer"},
			{[]string{"--email", "x@example.com", "--password-stdin"}, "short\n", "at least 12 characters"},
			{[]string{"--email", "x@example.com", "--password-stdin"}, "            \n", "too easy to guess"},
			{[]string{"--email", "x@example.com", "--password-stdin"}, "password1234\n", "too easy to guess"},
			{[]string{"--email", "x@example.com", "--password-stdin"}, "😀😀😀😀\n", "at least 12 characters"},
			{[]string{"--email", "x@example.com", "--password-stdin"}, strings.Repeat("long enough ", 7) + "\n", "at most 72 bytes"},
		} {
			stdin = strings.NewReader(tc.stdin)
			res := e.roster(t, append([]string{"admin", "create"}, tc.args...)...)
			require.Error(t, res.err, tc.args)
			require.Contains(t, res.err.Error(), tc.want)
		}
		res := e.roster(t, "admin", "delete")
		require.Equal(t, 2, res.code())
	})
}

// TestServeDashboard runs roster serve with an operator made by roster
// admin create, and logs in to the dashboard over HTTP.
func TestServeDashboard(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	res := e.roster(t, "admin", "create", "--email", "ann@example.com")
	require.NoError(t, res.err, res.stderr)
	_, pw, _ := strings.Cut(res.stdout, "password: ")
	pw, _, _ = strings.Cut(pw, "\n")

	url, stop := e.serve(t, "--secure-cookies")
	defer func() { require.NoError(t, stop()) }()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	resp, err := c.Get(url + "/")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/login?next=%2F", resp.Header.Get("Location"))
	require.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))

	resp, err = c.Get(url + "/login")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	_, csrf, _ := strings.Cut(string(body), `name="csrf" value="`)
	csrf, _, _ = strings.Cut(csrf, `"`)
	// Secure cookies do not go back over plain HTTP; hand it over as a
	// TLS-terminating proxy's client would.
	var pre *http.Cookie
	for _, ck := range resp.Cookies() {
		pre = ck
		require.True(t, ck.Secure)
	}
	require.NotNil(t, pre)
	req, _ := http.NewRequest(http.MethodPost, url+"/login", strings.NewReader(neturl.Values{"csrf": {csrf}, "email": {"ann@example.com"}, "password": {pw}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: pre.Name, Value: pre.Value})
	resp, err = c.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "roster_session" {
			session = ck
		}
	}
	require.NotNil(t, session, "no session cookie")
	require.True(t, session.Secure && session.HttpOnly)

	req, _ = http.NewRequest(http.MethodGet, url+"/", nil)
	req.AddCookie(&http.Cookie{Name: session.Name, Value: session.Value})
	resp, err = c.Do(req)
	require.NoError(t, err)
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, string(body), "ann@example.com (admin)")

	// The probes still answer.
	code, _ := get(t, url+"/readyz")
	require.Equal(t, http.StatusOK, code)
}
