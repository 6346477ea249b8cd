package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"roster"
	"roster/internal/action"
	"roster/internal/httpauth"
	"roster/internal/mirosim"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
	"roster/internal/testkit"
	"roster/internal/workflow"
	"roster/internal/workflow/workflowtest"
)

func TestMain(m *testing.M) {
	httpauth.BcryptCost = bcrypt.MinCost // the default cost makes every password take ~50 ms
	os.Exit(m.Run())
}

type storeDB = sqlstore.DB

// testBundle is the API on a real store behind a real HTTP server.
type testBundle struct {
	db    *sqlstore.DB
	srv   *Server
	ts    *httptest.Server
	clock *testkit.Clock
}

// setup starts the API on a fresh SQLite store.
func setup(t *testing.T, opts ...func(*Config)) *testBundle {
	t.Helper()
	return setupOn(t, openSQLite(t), opts...)
}

func openSQLite(t *testing.T) *sqlstore.DB {
	t.Helper()
	return storetest.Open(t, storetest.SQLiteDSN(t))
}

// setupOn starts the API on db.
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
	b.ts = httptest.NewServer(srv)
	t.Cleanup(b.ts.Close)
	return b
}

// operator creates an operator with a password.
func (b *testBundle) operator(t *testing.T, email string, role roster.Role) roster.Operator {
	t.Helper()
	return testkit.Operator(t, b.db, email, role, "correct horse battery")
}

// newAPIKey stores an API key with scopes and returns it (testkit.APIKey).
func (b *testBundle) newAPIKey(t *testing.T, name string, scopes ...string) string {
	t.Helper()
	return testkit.APIKey(t, b.db, name, b.clock.Now(), scopes...)
}

// browser is a logged-in browser's credentials: the session cookie and
// the session's CSRF token.
type browser struct {
	cookie *http.Cookie
	csrf   string
}

// loggedIn is a session of a new operator of role, as a login makes one.
func (b *testBundle) loggedIn(t *testing.T, role roster.Role) browser {
	t.Helper()
	op := b.operator(t, string(role)+"@example.com", role)
	c, csrf := testkit.Session(t, b.db, op, b.clock.Now())
	return browser{cookie: c, csrf: csrf}
}

// fixture is the API on a store synced from a simulated Miro (the shared
// kit): an organization-level connection and a team-level connection to
// a team outside the organization. Its actions run for real.
type fixture struct {
	*testBundle
	kit  *testkit.Kit
	sim  *mirosim.Sim
	info mirosim.Info
	org  roster.Connection
	team roster.Connection
}

func newFixture(t *testing.T, db *sqlstore.DB, opts ...func(*Config)) *fixture {
	t.Helper()
	k := testkit.New(t, db, mirosim.Config{Seed: 7, Members: 120, Teams: 6, TeamsPerMember: 2, NonEnterpriseTeams: 1})
	f := &fixture{kit: k, sim: k.Sim, info: k.Info}
	runner := &action.Runner{Store: db, Clients: k.Clients}
	opts = append([]func(*Config){func(c *Config) { c.Actions = runner }}, opts...)
	f.testBundle = setupOn(t, db, opts...)
	f.org, f.team = k.OrgAndTeam(t)
	return f
}

// The kit's people, through the fixture's connections.
func (f *fixture) member(t *testing.T) roster.Account { return f.kit.Member(t, f.org.ID) }
func (f *fixture) licensedMember(t *testing.T) roster.Account {
	return f.kit.LicensedMember(t, f.org.ID)
}
func (f *fixture) teamMember(t *testing.T) roster.Account { return f.kit.TeamMember(t, f.team.TeamID) }
func (f *fixture) writeCalls() int                        { return f.kit.WriteCalls() }
func (f *fixture) withOrgRole(t *testing.T, role string) roster.Account {
	return f.kit.WithOrgRole(t, role)
}
func (f *fixture) simRole(t *testing.T, teamID, userID string) string {
	return f.kit.SimRole(t, teamID, userID)
}

// enableSCIM gives the organization connection the simulator's SCIM token.
func (f *fixture) enableSCIM(t *testing.T) {
	t.Helper()
	f.org = f.kit.WithSCIM(t, f.kit.Connection(t, f.org.ID))
}

// wfFixture is the fixture with a real workflow engine whose step jobs
// the test runs (work).
type wfFixture struct {
	*fixture
	eng  *workflow.Engine
	jobs *workflowtest.Jobs
}

func newWFFixture(t *testing.T, db *storeDB) *wfFixture {
	t.Helper()
	wf := &wfFixture{jobs: &workflowtest.Jobs{}}
	wf.fixture = newFixture(t, db, func(c *Config) {
		wf.eng = &workflow.Engine{Store: c.Store, Jobs: wf.jobs, LinkKey: bytes.Repeat([]byte("k"), 32),
			PublicURL: "http://roster.test", Now: c.Now, Actions: c.Actions}
		c.Workflows = wf.eng
	})
	return wf
}

// work runs every due step job, and the jobs they enqueue.
func (f *wfFixture) work(t *testing.T) { f.jobs.Work(t, f.eng, f.clock.Now()) }

// memberOf is another member of team.
func (f *wfFixture) memberOf(t *testing.T, team string, not int64) roster.Account {
	return f.kit.MemberOf(t, team, not)
}

// memberTeam is one of the account's teams.
func (f *wfFixture) memberTeam(t *testing.T, acc roster.Account) string {
	t.Helper()
	ms, err := f.db.AccountMemberships(t.Context(), acc.ID)
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	return ms[0].MiroTeamID
}

// apiAnswer is one API answer.
type apiAnswer struct {
	Status int
	Header http.Header
	Body   []byte
}

// errorCode and errorField read an error answer.
func (a apiAnswer) errorBody(t *testing.T) (code, field, msg string) {
	t.Helper()
	var e apiErrorBody
	require.NoError(t, json.Unmarshal(a.Body, &e), string(a.Body))
	return e.Error.Code, e.Error.Field, e.Error.Message
}

// decode decodes a successful answer into v.
func (a apiAnswer) decode(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(a.Body, v), string(a.Body))
}

// api calls the API with an API key ("" for none); body, when not nil,
// is sent as JSON. headers are name, value pairs.
func (b *testBundle) api(t *testing.T, method, path, key string, body any, headers ...string) apiAnswer {
	t.Helper()
	return b.call(t, method, path, key, nil, body, headers...)
}

// browserCall calls the API as a logged-in browser.
func (b *testBundle) browserCall(t *testing.T, br browser, method, path string, body any, headers ...string) apiAnswer {
	t.Helper()
	return b.call(t, method, path, "", br.cookie, body, headers...)
}

func (b *testBundle) call(t *testing.T, method, path, key string, cookie *http.Cookie, body any, headers ...string) apiAnswer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		js, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, b.ts.URL+path, rd)
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := b.ts.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return apiAnswer{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}
