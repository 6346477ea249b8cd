package web

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"roster"
	"roster/internal/api"
	"roster/internal/httpauth"
	"roster/internal/store/sqlstore"
	"roster/internal/testkit"
)

func TestMain(m *testing.M) {
	httpauth.BcryptCost = bcrypt.MinCost // the default cost makes every login take ~50 ms
	os.Exit(m.Run())
}

// testBundle is a dashboard on a real store behind a real HTTP server.
type testBundle struct {
	db    *sqlstore.DB
	srv   *Server
	ts    *httptest.Server
	clock *testkit.Clock
}

// setup starts a dashboard on a fresh SQLite store.
func setup(t *testing.T, opts ...func(*Config)) *testBundle {
	t.Helper()
	return setupOn(t, openSQLite(t), opts...)
}

// openSQLite opens a fresh SQLite store in t's temporary directory.
func openSQLite(t *testing.T) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "roster.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// setupOn starts a dashboard on db.
func setupOn(t *testing.T, db *sqlstore.DB, opts ...func(*Config)) *testBundle {
	t.Helper()
	b := &testBundle{db: db, clock: testkit.NewClock()}
	cfg := Config{Store: db, Now: b.clock.Now}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := New(cfg)
	require.NoError(t, err)
	b.srv = srv
	// The JSON API beside the dashboard, as roster serve mounts it: the
	// dashboard's CSV export and its browser calls go there.
	apiServer, err := api.New(api.Config{Store: cfg.Store, Actions: cfg.Actions, Workflows: cfg.Workflows, Now: cfg.Now})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/", srv)
	mux.Handle(api.Prefix+"/", apiServer)
	// A browser's from (testClientHeader) stands for its address, so that
	// tests can log in from several; roster itself trusts no header.
	b.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if from := r.Header.Get(testClientHeader); from != "" {
			r.RemoteAddr = net.JoinHostPort(from, "40000")
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(b.ts.Close)
	return b
}

// operator creates an operator with a password.
func (b *testBundle) operator(t *testing.T, email string, role roster.Role, pw string) roster.Operator {
	t.Helper()
	return testkit.Operator(t, b.db, email, role, pw)
}

// browser is a client with its own cookies that does not follow redirects.
type browser struct {
	t    *testing.T
	b    *testBundle
	c    *http.Client
	csrf string // the session's CSRF token, once logged in
	from string // the client address the server sees; "" is loopback
}

// testClientHeader carries a test browser's address to setupOn's server.
const testClientHeader = "X-Test-Client-Address"

func (b *testBundle) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, b: b, c: &http.Client{
		Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// page is one answer.
type page struct {
	*http.Response
	Body string
}

func (p page) location() string { return p.Header.Get("Location") }

// do sends a request; form values go as a urlencoded body.
func (br *browser) do(method, path string, form url.Values, headers ...string) page {
	br.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, br.b.ts.URL+path, body)
	require.NoError(br.t, err)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if br.from != "" {
		req.Header.Set(testClientHeader, br.from)
	}
	resp, err := br.c.Do(req)
	require.NoError(br.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(br.t, err)
	return page{resp, string(raw)}
}

func (br *browser) get(path string, headers ...string) page {
	br.t.Helper()
	return br.do(http.MethodGet, path, nil, headers...)
}

// post sends a form with the session's CSRF token.
func (br *browser) post(path string, form url.Values) page {
	br.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get(httpauth.CSRFField) == "" && br.csrf != "" {
		form.Set(httpauth.CSRFField, br.csrf)
	}
	return br.do(http.MethodPost, path, form)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// formCSRF is the CSRF token of the first form on a page.
func formCSRF(t *testing.T, body string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	require.NotNil(t, m, "no csrf field in the page")
	return m[1]
}

// login logs the browser in and keeps its CSRF token.
func (br *browser) login(email, pw string) page {
	br.t.Helper()
	p := br.get("/login")
	require.Equal(br.t, http.StatusOK, p.StatusCode, p.Body)
	p = br.do(http.MethodPost, "/login", url.Values{"csrf": {formCSRF(br.t, p.Body)}, "email": {email}, "password": {pw}})
	if p.StatusCode == http.StatusSeeOther {
		home := br.get("/")
		require.Equal(br.t, http.StatusOK, home.StatusCode, home.Body)
		br.csrf = formCSRF(br.t, home.Body)
	}
	return p
}

// loggedIn returns a browser logged in as a new operator of role.
func (b *testBundle) loggedIn(t *testing.T, role roster.Role) *browser {
	t.Helper()
	email := string(role) + "@example.com"
	b.operator(t, email, role, "correct horse battery")
	br := b.browser(t)
	p := br.login(email, "correct horse battery")
	require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
	return br
}
