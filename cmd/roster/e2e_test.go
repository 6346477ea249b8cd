package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/secret"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
)

// TestMain clears the ROSTER_* variables of the developer's shell, so that
// a ROSTER_DATABASE or ROSTER_SECRET_KEY there cannot leak into the tests
// (ROSTER_TEST_*, ROSTER_REQUIRE_* and ROSTER_SOAK* are the tests' own).
// Under ROSTER_TEST_RUN_MAIN=1 the test binary is roster itself: it runs
// the command line of its arguments, as main does, and exits (the crash
// test starts `roster serve` this way, to SIGKILL it). The variables it
// sees are those the test that started it chose.
func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "ROSTER_") && !strings.HasPrefix(name, "ROSTER_TEST_") && !strings.HasPrefix(name, "ROSTER_REQUIRE_") &&
			!strings.HasPrefix(name, soakEnv) {
			os.Unsetenv(name)
		}
	}
	os.Exit(m.Run())
}

// e2e is one simulator and one roster data directory.
type e2e struct {
	sim     *mirosim.Sim
	srv     *httptest.Server
	info    mirosim.Info
	dataDir string
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	sim, err := mirosim.New(mirosim.Config{Members: 120, Teams: 6, AutoApprove: true})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return &e2e{sim: sim, srv: srv, info: sim.Info(srv.URL), dataDir: filepath.Join(t.TempDir(), "data")}
}

// result is one run of the roster binary, in process.
type result struct {
	stdout, stderr string
	err            error
}

func (r result) code() int {
	if r.err == nil {
		return 0
	}
	return exitCode(r.err)
}

// roster runs `roster args...` with the test's data directory.
func (e *e2e) roster(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args = append(append([]string{}, args...), "--data-dir", e.dataDir)
	err := run(ctx, args, &out, &errb)
	return result{out.String(), errb.String(), err}
}

func (e *e2e) token(kind string) string { return e.info.Installs[kind].AccessToken }

func (e *e2e) client(t *testing.T, kind string) *miro.Client {
	t.Helper()
	c, err := miro.New(miro.Config{BaseURL: e.info.APIBaseURL, Token: miro.StaticToken(e.token(kind))})
	require.NoError(t, err)
	return c
}

// syncBuffer is a bytes.Buffer safe to read while the command writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// connectOAuth runs `roster connect` without --token in the background and
// hands the authorize URL it prints to approve, playing the browser.
func (e *e2e) connectOAuth(t *testing.T, approve func(authURL string), args ...string) result {
	t.Helper()
	pr, pw := io.Pipe()
	var errb syncBuffer
	done := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	full := append([]string{"connect", "--no-browser", "--miro-url", e.info.APIBaseURL, "--data-dir", e.dataDir,
		"--client-id", e.info.ClientID, "--client-secret", e.info.ClientSecret}, args...)
	go func() {
		err := run(ctx, full, pw, &errb)
		pw.Close()
		done <- err
	}()

	var out strings.Builder
	sc := bufio.NewScanner(pr)
	var browsing sync.WaitGroup
	approved := false
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if u := strings.TrimSpace(line); !approved && strings.HasPrefix(u, e.info.APIBaseURL+"/oauth/authorize?") {
			approved = true
			browsing.Go(func() { approve(u) })
		}
	}
	err := <-done
	browsing.Wait()
	return result{out.String(), errb.String(), err}
}

// browser follows Miro's redirect to the loopback callback, as a browser
// would, and returns the callback page.
func browser(t *testing.T, authURL string) string {
	resp, err := http.Get(authURL)
	if err != nil {
		t.Errorf("browser: %v", err)
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("browser: %s: %s", resp.Status, body)
	}
	return string(body)
}

func countOrgMembers(t *testing.T, c *miro.Client, orgID string) (total, full int) {
	for m, err := range c.OrgMembers(context.Background(), orgID, miro.MemberFilter{}) {
		require.NoError(t, err)
		total++
		if m.License.String() == "full" {
			full++
		}
	}
	return total, full
}

func TestE2EOrganizationOAuth(t *testing.T) {
	t.Parallel()
	e := newE2E(t)

	r := e.roster(t, "migrate")
	require.NoError(t, r.err, r.stderr)
	require.Contains(t, r.stdout, "database: sqlite, schema version")
	require.Contains(t, r.stdout, "job tables migrated")
	db, err := sqlstore.Open(context.Background(), filepath.Join(e.dataDir, "roster.db"))
	require.NoError(t, err)
	var jobs int
	require.NoError(t, db.SQL().QueryRow("SELECT COUNT(*) FROM river_job").Scan(&jobs), "migrate creates River's tables")
	require.NoError(t, db.Close())

	var page string
	r = e.connectOAuth(t, func(u string) { page = browser(t, u) }, "--level", "organization")
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, page, "You can close this tab")
	require.Contains(t, r.stdout, "Miro connection, organization level")
	require.Contains(t, r.stdout, "Enterprise:    yes")
	require.Contains(t, r.stdout, "Company Admin: yes")
	require.Contains(t, r.stdout, "[yes] usage data")
	require.Contains(t, r.stdout, "Saved as connection 1.")
	require.NotContains(t, r.stdout+r.stderr, e.info.ClientSecret, "secrets are never printed")

	// A full license assigned just now to someone who never logged in.
	hire, err := e.sim.AddMember(mirosim.NewUser{Email: "newhire@example-corp.com", GivenName: "New", FamilyName: "Hire",
		Role: "organization_internal_user", License: "full"})
	require.NoError(t, err)

	r = e.roster(t, "sync")
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "connection 1: synced from v2-organization")
	require.Contains(t, r.stderr, "connection 1: organization:", "a progress line")

	// --inactive-days is the one inactivity rule: from the later of the
	// last activity and the license's assignment, so not the new hire,
	// but those given a license long ago who never logged in.
	r = e.roster(t, "users", "--format", "json", "--license", "full", "--inactive-days", "60")
	require.NoError(t, r.err, r.stderr)
	cutoff := time.Now().AddDate(0, 0, -60)
	neverUsed := 0
	for _, u := range decodeUsers(t, r.stdout) {
		require.NotEqual(t, hire.ID, u.MiroUserID, "a license assigned just now is not inactive")
		require.True(t, u.LicenseExact)
		if u.LastActivityAt == nil {
			neverUsed++
			require.True(t, u.LicenseAssignedAt.Before(cutoff), u.MiroUserID)
		} else {
			require.True(t, u.LastActivityAt.Before(cutoff) && (u.LicenseAssignedAt == nil || u.LicenseAssignedAt.Before(cutoff)), u.MiroUserID)
		}
	}
	require.NotZero(t, neverUsed, "someone given a license long ago who never logged in is inactive")

	total, full := countOrgMembers(t, e.client(t, mirosim.InstallOrgAdmin), e.info.OrgID)
	r = e.roster(t, "users", "--format", "json")
	require.NoError(t, r.err, r.stderr)
	users := decodeUsers(t, r.stdout)
	require.Len(t, users, total)
	for _, u := range users {
		require.True(t, u.LicenseExact, "organization-level licenses are exact")
	}
	r = e.roster(t, "users", "--format", "json", "--license", "full")
	require.NoError(t, r.err, r.stderr)
	require.Len(t, decodeUsers(t, r.stdout), full)

	r = e.roster(t, "users", "--format", "csv", "--limit", "3")
	require.NoError(t, r.err, r.stderr)
	requireUsersCSV(t, r.stdout, users[:3])

	r = e.roster(t, "connections")
	require.NoError(t, r.err, r.stderr)
	require.Contains(t, r.stdout, "organization")
	require.Contains(t, r.stdout, e.info.OrgName)
	require.Contains(t, r.stdout, "6/7")
	r = e.roster(t, "connections", "show", "1")
	require.NoError(t, r.err, r.stderr)
	require.Contains(t, r.stdout, "capabilities (6/7):")
	require.Contains(t, r.stdout, "  no   deactivate and reactivate users: ")

	// A second organization connection is refused; --replace with a SCIM
	// token re-authorizes the first in place.
	r = e.roster(t, "connect", "--level", "organization", "--miro-url", e.info.APIBaseURL, "--token", e.token(mirosim.InstallOrgAdmin))
	require.Error(t, r.err)
	require.Contains(t, r.err.Error(), "is already connected as connection 1")
	r = e.roster(t, "connect", "--level", "organization", "--miro-url", e.info.APIBaseURL, "--token", e.token(mirosim.InstallOrgAdmin),
		"--replace", "--scim-token", e.info.SCIMToken)
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "the SCIM token works")
	require.Contains(t, r.stdout, "[yes] deactivate and reactivate users")
	require.Contains(t, r.stdout, "Updated connection 1")
	require.NotContains(t, r.stdout+r.stderr, e.info.SCIMToken)
	r = e.roster(t, "connections")
	require.Contains(t, r.stdout, "7/7")
}

func TestE2ETeamTokens(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	connectTeam := func(kind string) result {
		return e.roster(t, "connect", "--level", "team", "--miro-url", e.info.APIBaseURL, "--token", e.token(kind), "--log-level", "debug")
	}

	r := connectTeam(mirosim.InstallTeam)
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "Miro connection, team level")
	require.Contains(t, r.stdout, "[no ] usage data")
	require.Contains(t, r.stdout, "Saved as connection 1.")
	require.NotContains(t, r.stdout+r.stderr, e.token(mirosim.InstallTeam))

	r = connectTeam(mirosim.InstallNonEnterpriseTeam)
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "Saved as connection 2.")

	// The same team again updates it, keeping a sync interval set before.
	r = e.roster(t, "connect", "--level", "team", "--miro-url", e.info.APIBaseURL, "--token", e.token(mirosim.InstallTeam), "--sync-interval", "6h")
	require.NoError(t, r.err, r.stdout+r.stderr)
	r = connectTeam(mirosim.InstallTeam)
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "Updated connection 1")

	r = e.roster(t, "sync", "--connection", "1", "--log-level", "debug")
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "connection 1: synced from v1-legacy-team")
	require.NotContains(t, r.stdout+r.stderr, e.token(mirosim.InstallTeam), "tokens are never logged, even at debug level")
	require.Contains(t, r.stdout, "usage: ")

	var want int
	for _, err := range e.client(t, mirosim.InstallTeam).Legacy().TeamUserConnections(context.Background(), e.info.Installs[mirosim.InstallTeam].TeamID) {
		require.NoError(t, err)
		want++
	}
	r = e.roster(t, "users", "--format", "json", "--connection", "1")
	require.NoError(t, r.err, r.stderr)
	users := decodeUsers(t, r.stdout)
	require.Len(t, users, want)
	for _, u := range users {
		require.False(t, u.LicenseExact, "team-level licenses are inferred")
	}
	r = e.roster(t, "users", "--connection", "1")
	require.NoError(t, r.err, r.stderr)
	require.Contains(t, r.stdout, "(inferred)")
	// Team level sees no usage: never inactive.
	r = e.roster(t, "users", "--format", "json", "--connection", "1", "--inactive-days", "1")
	require.NoError(t, r.err, r.stderr)
	require.Empty(t, decodeUsers(t, r.stdout), "usage unknown is never inactive")

	r = e.roster(t, "sync")
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "connection 2: synced from v1-legacy-team")

	r = e.roster(t, "connections")
	require.NoError(t, r.err, r.stderr)
	require.Equal(t, 4, strings.Count(r.stdout, "\n"), "a header, two connections and the hint:\n%s", r.stdout)
	r = e.roster(t, "connections", "show", "1")
	require.NoError(t, r.err, r.stderr)
	require.Contains(t, r.stdout, "sync every  6h0m0s", "connection 1 keeps its interval")
	r = e.roster(t, "connections", "show", "2")
	require.NoError(t, r.err, r.stderr)
	require.Contains(t, r.stdout, "sync every  24h0m0s", "connection 2 has the default")
}

func TestE2EOAuthDeniedAndWrongState(t *testing.T) {
	t.Parallel()
	e := newE2E(t)

	// A forged callback with the wrong state is refused and the real
	// approval still completes; the user then denies.
	r := e.connectOAuth(t, func(authURL string) {
		u, err := url.Parse(authURL)
		require.NoError(t, err)
		q := u.Query()
		forged := q.Get("redirect_uri") + "?code=forged&state=wrong"
		resp, err := http.Get(forged)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("forged callback: %s", resp.Status)
			}
		}
		// Deny on the consent form: the simulator redirects with
		// error=access_denied.
		q.Set("decision", "deny")
		resp, err = http.PostForm(e.info.APIBaseURL+"/oauth/authorize", q)
		if err == nil {
			resp.Body.Close()
		}
	}, "--level", "team")
	require.Error(t, r.err)
	require.Contains(t, r.err.Error(), "the authorization was denied in Miro (access_denied)")
	require.Contains(t, r.stderr, "wrong state ignored")

	r = e.roster(t, "connections")
	require.Contains(t, r.stdout, "No connections yet")
}

func TestE2EOAuthTimeout(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	r := e.connectOAuth(t, func(string) {}, "--level", "team", "--timeout", "300ms")
	require.Error(t, r.err)
	require.Contains(t, r.err.Error(), "no authorization arrived within 300ms (--timeout)")
}

func TestE2EBadInput(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	sim := []string{"--miro-url", e.info.APIBaseURL}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"UnknownFlag", []string{"sync", "--frobnicate"}, 2, "sync: flag provided but not defined: -frobnicate"},
		{"UnknownFlagUsers", []string{"users", "--bogus=1"}, 2, "flag provided but not defined: -bogus"},
		{"Argument", []string{"connections", "extra"}, 2, `unexpected argument "extra"`},
		{"BadLevel", append([]string{"connect", "--level", "galaxy", "--token", "x"}, sim...), 2, `--level must be "team" or "organization", got "galaxy"`},
		{"ShortSyncInterval", append([]string{"connect", "--level", "team", "--token", "x", "--sync-interval", "10s"}, sim...), 2, "--sync-interval must be at least 1m, got 10s"},
		{"SCIMAtTeamLevel", append([]string{"connect", "--level", "team", "--token", "x", "--scim-token", "y"}, sim...), 2, "--scim-token needs --level organization"},
		{"NoClientID", append([]string{"connect", "--level", "team"}, sim...), 2, "needs --client-id and --client-secret"},
		{"NotLoopback", append([]string{"connect", "--client-id", "a", "--client-secret", "b", "--listen", "0.0.0.0:0"}, sim...), 2, "--listen must be a loopback address"},
		{"BadMiroURL", []string{"connect", "--token", "x", "--miro-url", "api.miro.com"}, 2, "--miro-url must be an absolute http(s) URL"},
		{"BadFormat", []string{"users", "--format", "xml"}, 2, "--format must be table, csv or json"},
		{"BadLogLevel", []string{"connections", "--log-level", "loud"}, 2, "--log-level must be debug, info, warn or error"},
		{"BadDSN", []string{"connections", "--database", "mysql://db/roster"}, 1, "open the database (--database)"},
		{"UnreachablePostgres", []string{"connections", "--database", "postgres://user:hunter2@127.0.0.1:1/db?connect_timeout=5"}, 1, "open the database (--database): sqlstore: open postgres://user:xxxxx@127.0.0.1:1/db"},
		{"UnknownConnection", []string{"sync", "--connection", "42"}, 1, "connection 42"},
		{"MalformedToken", append([]string{"connect", "--level", "organization", "--token", "not-a-real-token"}, sim...), 1, "the token was refused by Miro"},
		{"NonEnterpriseAtOrgLevel", append([]string{"connect", "--level", "organization", "--token", e.token(mirosim.InstallNonEnterpriseTeam)}, sim...), 1, "not saved: the organization is not on Miro Enterprise"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.roster(t, tc.args...)
			require.Error(t, r.err)
			require.Contains(t, r.err.Error(), tc.want)
			require.Equal(t, tc.code, r.code(), r.err.Error())
			require.NotContains(t, r.err.Error()+r.stdout+r.stderr, "hunter2", "passwords are never printed")
			require.NotContains(t, r.err.Error()+r.stdout+r.stderr, "not-a-real-token", "tokens are never printed")
		})
	}

	t.Run("Help", func(t *testing.T) {
		r := e.roster(t, "connect", "-h")
		require.Equal(t, 2, r.code())
		require.Contains(t, r.stderr, "Usage: roster connect [flags]")
		require.Contains(t, r.stderr, "[ROSTER_MIRO_CLIENT_ID]")
	})

	t.Run("EnvFlag", func(t *testing.T) {
		// Only the usage text: the environment itself is exercised by
		// TestE2EWrongSecretKey, which may use t.Setenv.
		r := e.roster(t, "users", "-h")
		require.Contains(t, r.stderr, "[ROSTER_USERS_FORMAT]")
		require.Contains(t, r.stderr, "[ROSTER_DATABASE]")
	})
}

// TestE2EWrongSecretKey is not parallel: it sets ROSTER_SECRET_KEY.
func TestE2EWrongSecretKey(t *testing.T) {
	e := newE2E(t)
	key := func() string {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	t.Setenv("ROSTER_SECRET_KEY", key())
	r := e.roster(t, "connect", "--level", "team", "--miro-url", e.info.APIBaseURL, "--token", e.token(mirosim.InstallTeam))
	require.NoError(t, r.err, r.stdout+r.stderr)

	t.Setenv("ROSTER_SECRET_KEY", key())
	r = e.roster(t, "sync")
	require.Error(t, r.err)
	require.Equal(t, 1, r.code())
	require.ErrorIs(t, r.err, secret.ErrWrongKey)
	require.Contains(t, r.err.Error(), "the secret key does not match the one this data was sealed with (ROSTER_SECRET_KEY or ")
	require.Contains(t, r.err.Error(), "restore the key this database was first used with")
	require.NotContains(t, r.err.Error(), os.Getenv("ROSTER_SECRET_KEY"))
	r = e.roster(t, "migrate")
	require.NoError(t, r.err, "migrate touches no token, so it needs no key")

	// The variable also sets a flag.
	t.Setenv("ROSTER_USERS_FORMAT", "xml")
	r = e.roster(t, "users")
	require.Equal(t, 2, r.code())
	require.Contains(t, r.err.Error(), "--format must be table, csv or json")
}

func TestE2ESyncFailure(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	in := e.info.Installs[mirosim.InstallTeam]
	tok, err := e.sim.MintToken(in.UserID, in.TeamID, in.Scopes)
	require.NoError(t, err)
	r := e.roster(t, "connect", "--level", "team", "--miro-url", e.info.APIBaseURL, "--token", tok.AccessToken)
	require.NoError(t, r.err, r.stdout+r.stderr)

	// The admin revokes the token in Miro; the next sync fails and says so.
	o := &miro.OAuth{ClientID: e.info.ClientID, ClientSecret: e.info.ClientSecret, APIBaseURL: e.info.APIBaseURL, TokenURL: e.info.TokenURL}
	require.NoError(t, o.Revoke(context.Background(), tok.AccessToken))
	r = e.roster(t, "sync")
	require.Error(t, r.err)
	require.Equal(t, 1, r.code())
	require.Contains(t, r.err.Error(), "sync connection 1")
	require.Contains(t, r.err.Error(), "reconnect")
	require.Contains(t, r.stdout, "connection 1: FAILED")
	require.NotContains(t, r.stdout+r.stderr+r.err.Error(), tok.AccessToken)

	r = e.roster(t, "connections")
	require.Contains(t, r.stdout, "error")
}

func TestE2EPostgres(t *testing.T) {
	t.Parallel()
	dsn := storetest.PostgresDSN(t)
	e := newE2E(t)
	r := e.roster(t, "migrate", "--database", dsn)
	require.NoError(t, r.err, r.stderr)
	require.Contains(t, r.stdout, "database: postgres")
	r = e.roster(t, "connect", "--database", dsn, "--level", "organization", "--miro-url", e.info.APIBaseURL, "--token", e.token(mirosim.InstallOrgAdmin))
	require.NoError(t, r.err, r.stdout+r.stderr)
	r = e.roster(t, "sync", "--database", dsn)
	require.NoError(t, r.err, r.stdout+r.stderr)
	total, _ := countOrgMembers(t, e.client(t, mirosim.InstallOrgAdmin), e.info.OrgID)
	r = e.roster(t, "users", "--database", dsn, "--format", "json")
	require.NoError(t, r.err, r.stderr)
	require.Len(t, decodeUsers(t, r.stdout), total)
}
