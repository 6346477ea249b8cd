package mirosync_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/mirosync"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
	"roster/internal/testkit"
)

// testBundle is the shared kit with the simulator's admin API, which
// also reaches a simulator in another process (the benchmarks').
type testBundle struct {
	*testkit.Kit
	hc *http.Client
}

// setup starts a simulator with cfg over HTTP and a Syncer on db.
func setup(t testing.TB, cfg mirosim.Config, db *sqlstore.DB) *testBundle {
	t.Helper()
	k := testkit.New(t, db, cfg)
	return &testBundle{Kit: k, hc: k.Server.Client()}
}

// resetStats zeroes the simulator's counters.
func (b *testBundle) resetStats(t testing.TB) {
	t.Helper()
	if b.Sim != nil {
		b.Sim.ResetStats()
		return
	}
	b.simAdmin(t, http.MethodPost, "/stats/reset", nil, nil)
}

// stats reads the simulator's counters.
func (b *testBundle) stats(t testing.TB) mirosim.Stats {
	t.Helper()
	if b.Sim != nil {
		return b.Sim.Stats()
	}
	var st mirosim.Stats
	b.simAdmin(t, http.MethodGet, "/stats", nil, &st)
	return st
}

// simAdmin calls the simulator's /_sim admin API.
func (b *testBundle) simAdmin(t testing.TB, method, path string, in, out any) {
	t.Helper()
	simAdmin(t, b.hc, b.Info.AdminURL, method, path, in, out)
}

func simAdmin(t testing.TB, hc *http.Client, adminURL, method, path string, in, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		require.NoError(t, err)
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, adminURL+path, body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Less(t, resp.StatusCode, 300, "%s %s", method, path)
	if out != nil {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
	}
}

// connect stores a connection for an install, as roster connect would:
// enterprise and companyAdmin are what its checks would have found.
func (b *testBundle) connect(t testing.TB, in mirosim.Install, level roster.Level, enterprise, companyAdmin bool) roster.Connection {
	t.Helper()
	return b.ConnectInstall(t, in, level, enterprise, companyAdmin)
}

// connectKind stores a connection for one of the simulator's ready installs.
func (b *testBundle) connectKind(t testing.TB, kind string, level roster.Level) roster.Connection {
	t.Helper()
	return b.Connect(t, kind, level)
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
	c := b.Admin
	tr := truth{members: map[string]miro.OrganizationMember{}, activity: map[string]time.Time{},
		teams: map[string]string{}, memberships: map[store.MembershipKey]string{}}
	for m, err := range c.OrgMembers(ctx, b.Info.OrgID, miro.MemberFilter{}) {
		require.NoError(t, err)
		tr.members[m.ID] = m
		tr.activity[m.ID] = store.Stamp(m.LastActivityAt.Time)
	}
	for tm, err := range c.Teams(ctx, b.Info.OrgID, "") {
		require.NoError(t, err)
		tr.teams[tm.ID] = tm.Name
		n := 0
		for m, err := range c.TeamMembers(ctx, b.Info.OrgID, tm.ID, "") {
			require.NoError(t, err)
			tr.memberships[store.MembershipKey{MiroTeamID: tm.ID, MiroUserID: m.ID}] = m.Role.String()
			n++
		}
		tr.teamPages += ceilDiv(n, 100)
	}
	now := time.Now()
	events := 0
	for ev, err := range c.AuditLogs(ctx, miro.AuditQuery{CreatedAfter: now.Add(-mirosync.AuditHorizon).Add(time.Minute), CreatedBefore: now}) {
		require.NoError(t, err)
		events++
		if mirosync.UsageEvents[ev.Event] && ev.CreatedBy != nil && ev.CreatedBy.Type == "user" {
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

// accounts returns every account by Miro user id.
func (b *testBundle) accounts(t testing.TB) map[string]roster.Account {
	t.Helper()
	list, err := b.DB.Accounts(context.Background(), store.AccountFilter{IncludeLeft: true})
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
		ms, err := b.DB.AccountMemberships(context.Background(), a.ID)
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
	list, err := b.DB.Changes(context.Background(), store.ChangeFilter{SyncRunID: runID})
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
