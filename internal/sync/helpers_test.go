package sync

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/secret"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
)

// testBundle is one simulator behind a real HTTP server, one store and a
// Syncer wired to both.
type testBundle struct {
	sim    *mirosim.Sim // nil when the simulator runs in another process
	srv    *httptest.Server
	hc     *http.Client
	info   mirosim.Info
	db     *sqlstore.DB
	sealer Sealer
	syncer *Syncer
}

// setup starts a simulator with cfg over HTTP and a Syncer on db.
func setup(t testing.TB, cfg mirosim.Config, db *sqlstore.DB) *testBundle {
	t.Helper()
	sim, err := mirosim.New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	info := sim.Info(srv.URL)
	b := &testBundle{sim: sim, srv: srv, hc: srv.Client(), info: info, db: db}
	b.wire(t)
	return b
}

// wire builds the sealer and the Syncer.
func (b *testBundle) wire(t testing.TB) {
	b.sealer = newTestSealer(t)
	b.syncer = &Syncer{
		Store: b.db, Sealer: b.sealer,
		OAuth:      OAuthApp{ClientID: b.info.ClientID, ClientSecret: b.info.ClientSecret},
		HTTPClient: b.hc, RetryBackoff: 5 * time.Millisecond,
	}
}

// resetStats zeroes the simulator's counters.
func (b *testBundle) resetStats(t testing.TB) {
	t.Helper()
	if b.sim != nil {
		b.sim.ResetStats()
		return
	}
	b.simAdmin(t, http.MethodPost, "/stats/reset", nil, nil)
}

// stats reads the simulator's counters.
func (b *testBundle) stats(t testing.TB) mirosim.Stats {
	t.Helper()
	if b.sim != nil {
		return b.sim.Stats()
	}
	var st mirosim.Stats
	b.simAdmin(t, http.MethodGet, "/stats", nil, &st)
	return st
}

// simAdmin calls the simulator's /_sim admin API.
func (b *testBundle) simAdmin(t testing.TB, method, path string, in, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		require.NoError(t, err)
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, b.info.AdminURL+path, body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Less(t, resp.StatusCode, 300, "%s %s", method, path)
	if out != nil {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
	}
}

// tokenOf turns a simulator install into the token connect would seal.
func tokenOf(in mirosim.Install) miro.Token {
	t := miro.Token{AccessToken: in.AccessToken, RefreshToken: in.RefreshToken, TeamID: in.TeamID, UserID: in.UserID, Scopes: in.Scopes}
	if in.ExpiresIn > 0 {
		t.Expiry = time.Now().Add(time.Duration(in.ExpiresIn) * time.Second)
	}
	return t
}

// connect stores a connection for an install, as roster connect would:
// enterprise and companyAdmin are what its checks would have found.
func (b *testBundle) connect(t testing.TB, in mirosim.Install, level roster.Level, enterprise, companyAdmin bool) roster.Connection {
	t.Helper()
	sealed, err := SealToken(b.sealer, tokenOf(in))
	require.NoError(t, err)
	c := roster.Connection{
		Level: level, OrgID: in.OrgID, TeamID: in.TeamID, TeamName: "team " + in.TeamID,
		InstallerID: in.UserID, Scopes: in.Scopes,
		Enterprise: enterprise, CompanyAdmin: companyAdmin,
		APIBaseURL: b.info.APIBaseURL, SealedToken: sealed, Status: roster.StatusActive,
	}
	require.NoError(t, b.db.CreateConnection(context.Background(), &c))
	return c
}

// connectKind stores a connection for one of the simulator's ready installs.
func (b *testBundle) connectKind(t testing.TB, kind string, level roster.Level) roster.Connection {
	t.Helper()
	return b.connect(t, b.info.Installs[kind], level,
		kind != mirosim.InstallNonEnterpriseTeam, kind == mirosim.InstallOrgAdmin)
}

// adminClient is a Miro client on the Company Admin's token, for reading
// the simulator's truth and changing teams the way roster's actions would.
func (b *testBundle) adminClient(t testing.TB) *miro.Client {
	t.Helper()
	c, err := miro.New(miro.Config{BaseURL: b.info.APIBaseURL, HTTPClient: b.hc,
		Token: miro.StaticToken(b.info.Installs[mirosim.InstallOrgAdmin].AccessToken), RetryBackoff: 5 * time.Millisecond})
	require.NoError(t, err)
	return c
}

// truth is the simulator's organization read over its API.
type truth struct {
	members     map[string]miro.OrganizationMember
	activity    map[string]time.Time // lastActivityAt raised by usage events
	teams       map[string]string    // id -> name
	memberships map[store.MembershipKey]string
	teamPages   int // Σ ceil(size/100) over teams
	auditPages  int
}

func ceilDiv(n, d int) int { return max(1, (n+d-1)/d) }

// readTruth walks the organization with the admin token, then resets the
// simulator's counters so that the next sync is counted alone.
func (b *testBundle) readTruth(t testing.TB) truth {
	t.Helper()
	ctx := context.Background()
	c := b.adminClient(t)
	tr := truth{members: map[string]miro.OrganizationMember{}, activity: map[string]time.Time{},
		teams: map[string]string{}, memberships: map[store.MembershipKey]string{}}
	for m, err := range c.OrgMembers(ctx, b.info.OrgID, miro.MemberFilter{}) {
		require.NoError(t, err)
		tr.members[m.ID] = m
		tr.activity[m.ID] = store.Stamp(m.LastActivityAt.Time)
	}
	for tm, err := range c.Teams(ctx, b.info.OrgID, "") {
		require.NoError(t, err)
		tr.teams[tm.ID] = tm.Name
		n := 0
		for m, err := range c.TeamMembers(ctx, b.info.OrgID, tm.ID, "") {
			require.NoError(t, err)
			tr.memberships[store.MembershipKey{MiroTeamID: tm.ID, MiroUserID: m.ID}] = m.Role.String()
			n++
		}
		tr.teamPages += ceilDiv(n, 100)
	}
	now := time.Now()
	events := 0
	for ev, err := range c.AuditLogs(ctx, miro.AuditQuery{CreatedAfter: now.Add(-auditHorizon).Add(time.Minute), CreatedBefore: now}) {
		require.NoError(t, err)
		events++
		if usageEvents[ev.Event] && ev.CreatedBy != nil && ev.CreatedBy.Type == "user" {
			if _, ok := tr.members[ev.CreatedBy.ID]; ok && store.Stamp(ev.CreatedAt.Time).After(tr.activity[ev.CreatedBy.ID]) {
				tr.activity[ev.CreatedBy.ID] = store.Stamp(ev.CreatedAt.Time)
			}
		}
	}
	tr.auditPages = ceilDiv(events, 100)
	b.resetStats(t)
	return tr
}

// minCalls is the fewest calls a full org sync can make (audit aside).
func (tr truth) minCalls() int {
	return 1 + ceilDiv(len(tr.members), 100) + ceilDiv(len(tr.teams), 100) + tr.teamPages
}

// sync runs one sync and requires it to succeed.
func (b *testBundle) sync(t testing.TB, connID int64) roster.SyncRun {
	t.Helper()
	run, err := b.syncer.Sync(context.Background(), connID)
	require.NoError(t, err)
	require.Equal(t, roster.SyncSucceeded, run.Status)
	return run
}

// accounts returns every account by Miro user id.
func (b *testBundle) accounts(t testing.TB) map[string]roster.Account {
	t.Helper()
	list, err := b.db.Accounts(context.Background(), store.AccountFilter{IncludeLeft: true})
	require.NoError(t, err)
	out := map[string]roster.Account{}
	for _, a := range list {
		out[a.MiroUserID] = a
	}
	return out
}

// memberships returns every stored membership.
func (b *testBundle) memberships(t testing.TB) map[store.MembershipKey]string {
	t.Helper()
	out := map[store.MembershipKey]string{}
	for _, a := range b.accounts(t) {
		ms, err := b.db.AccountMemberships(context.Background(), a.ID)
		require.NoError(t, err)
		for _, m := range ms {
			out[store.MembershipKey{MiroTeamID: m.MiroTeamID, MiroUserID: m.MiroUserID}] = m.Role
		}
	}
	return out
}

// changeRow is a change without its ids and time, for exact comparison.
type changeRow struct {
	Kind     roster.ChangeKind
	User     string
	Team     string
	Old, New string
}

// changes returns the change rows a run wrote, sorted.
func (b *testBundle) changes(t testing.TB, runID int64) []changeRow {
	t.Helper()
	list, err := b.db.Changes(context.Background(), store.ChangeFilter{SyncRunID: runID})
	require.NoError(t, err)
	out := make([]changeRow, 0, len(list))
	for _, c := range list {
		out = append(out, changeRow{c.Kind, c.MiroUserID, c.MiroTeamID, c.OldValue, c.NewValue})
	}
	sortChanges(out)
	return out
}

func sortChanges(c []changeRow) {
	slices.SortFunc(c, func(a, b changeRow) int {
		return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
	})
}

// dump renders every row of every table, so that two dumps are equal
// exactly when the database holds the same bytes.
func dump(t testing.TB, db *sqlstore.DB) map[string][]string { return storetest.Dump(t, db) }

// newTestSealer is a sealer with a fresh random key.
func newTestSealer(t testing.TB) Sealer {
	t.Helper()
	k, _, err := secret.NewKey()
	require.NoError(t, err)
	return secret.NewSealer(k)
}

// rowCounts counts the rows of every table.
func rowCounts(t testing.TB, db *sql.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range sqlstore.Tables() {
		var n int
		require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM "+table).Scan(&n))
		out[table] = n
	}
	return out
}

// eachBackend runs fn on a fresh SQLite store, and on PostgreSQL when
// ROSTER_TEST_POSTGRES_URL is set.
func eachBackend(t *testing.T, fn func(t *testing.T, db *sqlstore.DB)) {
	storetest.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		t.Parallel()
		fn(t, db)
	})
}
