package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
)

// bulkTests check store.BulkRuns: bulk runs once per key, their runs and
// progress, and the lookups a bulk selection makes.
var bulkTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"BulkRuns/CreateOncePerKey", testBulkRunCreateOnce},
	{"BulkRuns/ErrInvalid", testBulkRunInvalid},
	{"BulkRuns/RunsAndProgress", testBulkRunRuns},
	{"BulkRuns/Lookups", testBulkLookups},
}

func bulkRun(key string, action roster.BulkAction) roster.BulkRun {
	return roster.BulkRun{Key: key, Action: action, Selection: `{"account_ids":[1,2]}`, Description: "2 people",
		Selected: 2, Actor: "operator:ann@example.com", CreatedAt: t0}
}

func bulkAudit() roster.AuditEntry {
	return roster.AuditEntry{At: t0, Actor: "operator:ann@example.com", Kind: "workflow", Action: "bulk_run_started", Result: "ok", Detail: "2 people"}
}

func testBulkRunCreateOnce(t *testing.T, s store.Store) {
	b := bulkRun("bulk-1", roster.BulkDeactivate)
	existed, err := s.CreateBulkRun(ctx(), &b, bulkAudit())
	require.NoError(t, err)
	require.False(t, existed)
	require.NotZero(t, b.ID)
	require.Equal(t, t0, b.CreatedAt)
	require.True(t, b.StartedAt.IsZero())

	got, err := s.BulkRun(ctx(), b.ID)
	require.NoError(t, err)
	require.Equal(t, b, got)

	// The same key again: the stored bulk run, nothing written.
	again := bulkRun("bulk-1", roster.BulkRemoveFromAllTeams)
	again.Selected = 99
	existed, err = s.CreateBulkRun(ctx(), &again, bulkAudit())
	require.NoError(t, err)
	require.True(t, existed)
	require.Equal(t, b, again)
	entries, err := s.AuditEntries(ctx(), store.AuditFilter{Kind: "workflow"})
	require.NoError(t, err)
	require.Len(t, entries, 1, "one audit entry per bulk run")
	require.Equal(t, fmt.Sprintf("bulk run %d", b.ID), entries[0].Target)
	require.Equal(t, "bulk_run_started", entries[0].Action)

	_, err = s.BulkRun(ctx(), b.ID+100)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.FinishBulkStart(ctx(), b.ID+100, 1, 1, t0)
	require.ErrorIs(t, err, store.ErrNotFound)
}

func testBulkRunInvalid(t *testing.T, s store.Store) {
	for name, b := range map[string]roster.BulkRun{
		"no key":       func() roster.BulkRun { b := bulkRun("", roster.BulkDeactivate); return b }(),
		"no actor":     func() roster.BulkRun { b := bulkRun("k", roster.BulkDeactivate); b.Actor = ""; return b }(),
		"no selection": func() roster.BulkRun { b := bulkRun("k", roster.BulkDeactivate); b.Selection = ""; return b }(),
		"bad action":   bulkRun("k", roster.BulkAction("delete_everyone")),
	} {
		_, err := s.CreateBulkRun(ctx(), &b, bulkAudit())
		require.ErrorIs(t, err, store.ErrInvalid, name)
	}
	list, err := s.BulkRuns(ctx(), 0, 10)
	require.NoError(t, err)
	require.Empty(t, list)
	_, err = s.BulkRuns(ctx(), 0, 0)
	require.ErrorIs(t, err, store.ErrInvalid)
}

func testBulkRunRuns(t *testing.T, s store.Store) {
	w := newWorkflow(t, s, "reclaim", roster.TriggerManual)
	var bs []roster.BulkRun
	for i, a := range []roster.BulkAction{roster.BulkDeactivate, roster.BulkWorkflow} {
		b := bulkRun(fmt.Sprintf("bulk-%d", i), a)
		if a == roster.BulkWorkflow {
			b.WorkflowID = w.ID
		}
		_, err := s.CreateBulkRun(ctx(), &b, bulkAudit())
		require.NoError(t, err)
		bs = append(bs, b)
	}
	builtin, flow := bs[0], bs[1]
	require.Equal(t, -builtin.ID, builtin.RunsWorkflowID())
	require.Equal(t, w.ID, flow.RunsWorkflowID())

	start := func(b roster.BulkRun, keys ...string) {
		var runs []roster.WorkflowRun
		for _, k := range keys {
			r := newRun(w, k, k+"@example.com")
			r.WorkflowID = b.RunsWorkflowID()
			runs = append(runs, r)
		}
		_, err := s.StartRuns(ctx(), runs, "operator:ann@example.com")
		require.NoError(t, err)
	}
	start(builtin, builtin.TriggerKey(1), builtin.TriggerKey(2), builtin.TriggerKey(3))
	start(flow, flow.TriggerKey(1), flow.TriggerKey(2))
	// Runs of the same workflow that are not the bulk run's: another
	// trigger, and a bulk run whose id starts with the same digits.
	other := roster.BulkRun{ID: flow.ID*10 + 1, Action: roster.BulkWorkflow, WorkflowID: w.ID}
	start(flow, "manual:x:someone", other.TriggerKey(1))

	counts, err := s.BulkRunCounts(ctx(), builtin)
	require.NoError(t, err)
	require.Equal(t, map[roster.RunStatus]int{roster.RunRunning: 3}, counts)
	counts, err = s.BulkRunCounts(ctx(), flow)
	require.NoError(t, err)
	require.Equal(t, map[roster.RunStatus]int{roster.RunRunning: 2}, counts)

	// End one run of the built-in bulk run: paging and the status filter.
	page, err := s.BulkRunRuns(ctx(), builtin, store.RunFilter{Limit: 2})
	require.NoError(t, err)
	require.Equal(t, 3, page.Total)
	require.Len(t, page.Runs, 2)
	require.NotZero(t, page.NextBefore)
	require.Greater(t, page.Runs[0].ID, page.Runs[1].ID, "newest first")
	done := page.Runs[0]
	done.Status, done.EndedAt = roster.RunSucceeded, t0
	ok, err := s.UpdateRun(ctx(), done, done.Generation, nil, nil)
	require.NoError(t, err)
	require.True(t, ok)
	rest, err := s.BulkRunRuns(ctx(), builtin, store.RunFilter{Limit: 2, BeforeID: page.NextBefore})
	require.NoError(t, err)
	require.Len(t, rest.Runs, 1)
	require.Zero(t, rest.NextBefore)
	running, err := s.BulkRunRuns(ctx(), builtin, store.RunFilter{Status: roster.RunRunning})
	require.NoError(t, err)
	require.Equal(t, 2, running.Total)
	require.Len(t, running.Runs, 2)
	require.Equal(t, map[roster.RunStatus]int{roster.RunRunning: 2, roster.RunSucceeded: 1}, running.Counts)
	_, err = s.BulkRunRuns(ctx(), builtin, store.RunFilter{Status: "sleeping"})
	require.ErrorIs(t, err, store.ErrInvalid)

	// Finishing the start counts the runs.
	at := t0.Add(time.Minute)
	fin, err := s.FinishBulkStart(ctx(), flow.ID, 5, 3, at)
	require.NoError(t, err)
	require.Equal(t, 2, fin.Runs)
	require.Equal(t, 5, fin.Selected)
	require.Equal(t, 3, fin.Excluded)
	require.Equal(t, at, fin.StartedAt)

	list, err := s.BulkRuns(ctx(), 0, 10)
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Equal(t, flow.ID, list[0].ID, "newest first")
	require.Equal(t, fin, list[0])
	list, err = s.BulkRuns(ctx(), flow.ID, 10)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, builtin.ID, list[0].ID)
}

func testBulkLookups(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	apply(t, s, c.ID, t0, firstDiff("o1"))
	accs, err := s.AccountsByMiroIDs(ctx(), []string{"u001", "u002", "u003"})
	require.NoError(t, err)
	u1, u2, u3 := accs["u001"], accs["u002"], accs["u003"]

	byID, err := s.AccountsByIDs(ctx(), []int64{u1.ID, u2.ID, 987654})
	require.NoError(t, err)
	require.Len(t, byID, 2)
	require.Equal(t, u2.Email, byID[u2.ID].Email)
	require.Equal(t, "User 2", byID[u2.ID].Name)

	ms, err := s.MembershipsOf(ctx(), []int64{u1.ID, u2.ID, 987654})
	require.NoError(t, err)
	require.Equal(t, map[int64][]roster.Membership{
		u1.ID: {{MiroUserID: "u001", MiroTeamID: "t1", Role: "admin"}},
		u2.ID: {{MiroUserID: "u002", MiroTeamID: "t1", Role: "member"}, {MiroUserID: "u002", MiroTeamID: "t2", Role: "member"}},
	}, ms)

	admins, err := s.TeamAdminCounts(ctx())
	require.NoError(t, err)
	require.Equal(t, map[string]int{"t1": 1, "t2": 1}, admins)

	// A second admin of t2; then the first leaves: left people are not
	// counted.
	d := store.Diff{Memberships: []roster.Membership{{MiroUserID: "u002", MiroTeamID: "t2", Role: "admin"}}}
	apply(t, s, c.ID, t0.Add(time.Hour), d)
	admins, err = s.TeamAdminCounts(ctx())
	require.NoError(t, err)
	require.Equal(t, map[string]int{"t1": 1, "t2": 2}, admins)
	apply(t, s, c.ID, t0.Add(2*time.Hour), store.Diff{Unseen: []string{u3.MiroUserID}})
	admins, err = s.TeamAdminCounts(ctx())
	require.NoError(t, err)
	require.Equal(t, map[string]int{"t1": 1, "t2": 1}, admins)
}
