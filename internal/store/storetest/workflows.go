package storetest

// This file is long because it is the workflow part of the conformance
// suite (definitions, runs, leases, approvals, events): cases read top to
// bottom, each against a real database.

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
)

// workflowTests check store.Workflows and the directory's person events.
var workflowTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Workflows/CRUD", testWorkflowsCRUD},
	{"Workflows/ErrConflictName", testWorkflowsConflict},
	{"Workflows/ErrNotFound", testWorkflowsNotFound},
	{"Workflows/TriggerCursor", testWorkflowTriggerCursor},
	{"Runs/StartSkipsDuplicates", testStartRuns},
	{"Runs/StartMany", testStartRunsMany},
	{"Runs/ListAndCounts", testRunsList},
	{"Runs/ErrInvalid", testRunsInvalid},
	{"Runs/ClaimStep", testClaimStep},
	{"Runs/RenewLease", testRenewLease},
	{"Runs/UpdateRun", testUpdateRun},
	{"Runs/UpdateRunStaleGeneration", testUpdateRunStale},
	{"Runs/StaleRuns", testStaleRuns},
	{"Runs/Cancel", testCancelRun},
	{"Approvals/CreateOnce", testCreateApproval},
	{"Approvals/DecideOnce", testDecideApproval},
	{"PersonEvents/StatusChanges", testPersonEvents},
	{"PersonEvents/Paging", testPersonEventsPaging},
}

// sampleWorkflow is a valid workflow using most of the definition.
func sampleWorkflow(name string, kind roster.TriggerKind) roster.Workflow {
	w := roster.Workflow{
		Name: name, Description: "Offboard people who leave", Enabled: true, ConnectionID: 7,
		Trigger: roster.Trigger{Kind: kind},
		Conditions: []roster.Condition{
			{Field: roster.CondLicense, Op: "is", Value: "full"},
			{Field: roster.CondEmailDomain, Op: "in", Values: []string{"example.com", "example.org"}},
		},
		Steps: []roster.Step{
			{ID: "tell", Kind: roster.StepNotify, Channel: roster.ChannelEmail, To: []string{"manager", "it@example.com"},
				Subject: "{{.Email}} left", Text: "Run {{.RunID}}"},
			{ID: "ask", Kind: roster.StepApproval, Approver: roster.ApproverManager, Via: roster.ChannelUI,
				Timeout: roster.Duration(72 * time.Hour), OnDeny: "end"},
			{ID: "pause", Kind: roster.StepWait, Duration: roster.Duration(2*time.Hour + 45*time.Minute)},
			{ID: "remove", Kind: roster.StepRemove, Team: "t1", Next: "end"},
		},
		OnFailure: &roster.Step{ID: roster.OnFailureID, Kind: roster.StepNotify, Channel: roster.ChannelWebhook,
			Text: "{{.Workflow}} failed: {{.Error}}"},
	}
	switch kind {
	case roster.TriggerInactive:
		w.Trigger.Days = 30
	case roster.TriggerSchedule:
		w.Trigger.Cron = "@daily"
	case roster.TriggerLicenseChanged:
		w.Trigger.License = "full"
	}
	return w
}

func newWorkflow(t *testing.T, s store.Store, name string, kind roster.TriggerKind) roster.Workflow {
	t.Helper()
	w := sampleWorkflow(name, kind)
	require.NoError(t, w.Validate(ctx()))
	require.NoError(t, s.CreateWorkflow(ctx(), &w))
	require.NotZero(t, w.ID)
	return w
}

func newRun(w roster.Workflow, key, email string) roster.WorkflowRun {
	return roster.WorkflowRun{WorkflowID: w.ID, WorkflowName: w.Name, Definition: w, TriggerKey: key,
		Trigger: "directory: person left", Email: email, AccountID: 3, PersonID: 4}
}

// startRun starts one run and returns it.
func startRun(t *testing.T, s store.Store, w roster.Workflow, key, email string) roster.WorkflowRun {
	t.Helper()
	runs, err := s.StartRuns(ctx(), []roster.WorkflowRun{newRun(w, key, email)}, "system")
	require.NoError(t, err)
	require.Len(t, runs, 1)
	return runs[0]
}

func workflowAudit(t *testing.T, s store.Store) []roster.AuditEntry {
	t.Helper()
	entries, err := s.AuditEntries(ctx(), store.AuditFilter{Kind: "workflow"})
	require.NoError(t, err)
	return entries
}

func getRun(t *testing.T, s store.Store, id int64) roster.WorkflowRun {
	t.Helper()
	r, err := s.Run(ctx(), id)
	require.NoError(t, err)
	return r
}

func testWorkflowsCRUD(t *testing.T, s store.Store) {
	w := newWorkflow(t, s, "offboard", roster.TriggerPersonLeft)
	require.False(t, w.CreatedAt.IsZero())
	require.Equal(t, w.CreatedAt, w.UpdatedAt)

	got, err := s.Workflow(ctx(), w.ID)
	require.NoError(t, err)
	require.Equal(t, w, got, "the definition round-trips")
	got, err = s.WorkflowByName(ctx(), "offboard")
	require.NoError(t, err)
	require.Equal(t, w, got)

	a := newWorkflow(t, s, "audit-guests", roster.TriggerSchedule)
	m := newWorkflow(t, s, "manual_one", roster.TriggerManual)
	all, err := s.Workflows(ctx())
	require.NoError(t, err)
	require.Equal(t, []roster.Workflow{a, m, w}, all, "by name")

	// Update writes every field but ID and CreatedAt.
	upd := w
	upd.Name, upd.Description, upd.Enabled, upd.ConnectionID = "offboard-v2", "", false, 9
	upd.Trigger = roster.Trigger{Kind: roster.TriggerInactive, Days: 60}
	upd.Conditions = nil
	upd.Steps = []roster.Step{{ID: "step1", Kind: roster.StepDeactivate}}
	upd.CreatedAt = t0 // ignored
	require.NoError(t, s.UpdateWorkflow(ctx(), &upd))
	require.Equal(t, w.CreatedAt, upd.CreatedAt)
	require.False(t, upd.UpdatedAt.Before(w.UpdatedAt))
	got, err = s.Workflow(ctx(), w.ID)
	require.NoError(t, err)
	require.Equal(t, upd, got)
	_, err = s.WorkflowByName(ctx(), "offboard")
	require.ErrorIs(t, err, store.ErrNotFound)

	// Deleting a workflow keeps its runs.
	run := startRun(t, s, got, "manual:1:a@example.com", "a@example.com")
	require.NoError(t, s.DeleteWorkflow(ctx(), w.ID))
	_, err = s.Workflow(ctx(), w.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.Equal(t, run, getRun(t, s, run.ID))
	require.Equal(t, upd, getRun(t, s, run.ID).Definition)
	require.ErrorIs(t, s.DeleteWorkflow(ctx(), w.ID), store.ErrNotFound)
	all, err = s.Workflows(ctx())
	require.NoError(t, err)
	require.Equal(t, []roster.Workflow{a, m}, all)
}

func testWorkflowsConflict(t *testing.T, s store.Store) {
	w := newWorkflow(t, s, "offboard", roster.TriggerPersonLeft)
	dup := sampleWorkflow("offboard", roster.TriggerManual)
	require.ErrorIs(t, s.CreateWorkflow(ctx(), &dup), store.ErrConflict)
	require.Zero(t, dup.ID)

	other := newWorkflow(t, s, "onboard", roster.TriggerPersonJoined)
	other.Name = "offboard"
	require.ErrorIs(t, s.UpdateWorkflow(ctx(), &other), store.ErrConflict)
	got, err := s.Workflow(ctx(), other.ID)
	require.NoError(t, err)
	require.Equal(t, "onboard", got.Name)
	got, err = s.WorkflowByName(ctx(), "offboard")
	require.NoError(t, err)
	require.Equal(t, w.ID, got.ID)

	noName := sampleWorkflow("", roster.TriggerManual)
	require.ErrorIs(t, s.CreateWorkflow(ctx(), &noName), store.ErrInvalid)
}

func testWorkflowsNotFound(t *testing.T, s store.Store) {
	_, err := s.Workflow(ctx(), 404)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.WorkflowByName(ctx(), "nope")
	require.ErrorIs(t, err, store.ErrNotFound)
	w := sampleWorkflow("ghost", roster.TriggerManual)
	w.ID = 404
	require.ErrorIs(t, s.UpdateWorkflow(ctx(), &w), store.ErrNotFound)
	require.ErrorIs(t, s.DeleteWorkflow(ctx(), 404), store.ErrNotFound)
	_, _, err = s.TriggerState(ctx(), 404)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, s.SetTriggerState(ctx(), 404, 1, t0), store.ErrNotFound)
	_, err = s.Run(ctx(), 404)
	require.ErrorIs(t, err, store.ErrNotFound)
	steps, err := s.RunSteps(ctx(), 404)
	require.NoError(t, err)
	require.Empty(t, steps)
	all, err := s.Workflows(ctx())
	require.NoError(t, err)
	require.Empty(t, all)
}

func testWorkflowTriggerCursor(t *testing.T, s store.Store) {
	state := func(id int64) (int64, time.Time) {
		t.Helper()
		c, next, err := s.TriggerState(ctx(), id)
		require.NoError(t, err)
		return c, next
	}
	// Nothing happened yet: every cursor starts at 0.
	early := newWorkflow(t, s, "early", roster.TriggerPersonJoined)
	c, next := state(early.ID)
	require.Zero(t, c)
	require.True(t, next.IsZero())

	// Some directory events and some changes.
	for _, e := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		p := roster.Person{Email: e}
		require.NoError(t, s.UpsertPerson(ctx(), &p))
	}
	events, err := s.PersonEvents(ctx(), 0, 0)
	require.NoError(t, err)
	require.Len(t, events, 3)
	lastEvent := events[2].ID
	conn := create(t, s, orgConnection("o1"))
	apply(t, s, conn.ID, t0, firstDiff("o1"))
	changes, err := s.Changes(ctx(), store.ChangeFilter{})
	require.NoError(t, err)
	require.Len(t, changes, 5)
	lastChange := changes[4].ID

	for kind, want := range map[roster.TriggerKind]int64{
		roster.TriggerPersonJoined:   lastEvent,
		roster.TriggerPersonLeft:     lastEvent,
		roster.TriggerNewAccount:     lastChange,
		roster.TriggerLicenseChanged: lastChange,
		roster.TriggerInactive:       0,
		roster.TriggerSchedule:       0,
		roster.TriggerManual:         0,
	} {
		w := newWorkflow(t, s, "wf-"+string(kind), kind)
		c, next := state(w.ID)
		require.Equal(t, want, c, kind)
		require.True(t, next.IsZero(), kind)
	}
	// The early workflow's cursor did not move.
	c, _ = state(early.ID)
	require.Zero(t, c)

	// Set and read back.
	sched, err := s.WorkflowByName(ctx(), "wf-schedule")
	require.NoError(t, err)
	require.NoError(t, s.SetTriggerState(ctx(), sched.ID, 42, t0))
	c, next = state(sched.ID)
	require.Equal(t, int64(42), c)
	require.Equal(t, t0, next)
	got, err := s.Workflow(ctx(), sched.ID)
	require.NoError(t, err)
	require.Equal(t, sched, got, "trigger bookkeeping is not an edit")

	// An update keeping the trigger kind keeps the state.
	sched.Description, sched.Trigger.Cron = "changed", "0 9 * * 1"
	require.NoError(t, s.UpdateWorkflow(ctx(), &sched))
	c, next = state(sched.ID)
	require.Equal(t, int64(42), c)
	require.Equal(t, t0, next)

	// A new trigger kind starts at the current end of what it reads.
	sched.Trigger = roster.Trigger{Kind: roster.TriggerLicenseChanged}
	require.NoError(t, s.UpdateWorkflow(ctx(), &sched))
	c, next = state(sched.ID)
	require.Equal(t, lastChange, c)
	require.True(t, next.IsZero())
	sched.Trigger = roster.Trigger{Kind: roster.TriggerPersonLeft}
	require.NoError(t, s.UpdateWorkflow(ctx(), &sched))
	c, _ = state(sched.ID)
	require.Equal(t, lastEvent, c)
	sched.Trigger = roster.Trigger{Kind: roster.TriggerManual}
	require.NoError(t, s.UpdateWorkflow(ctx(), &sched))
	c, _ = state(sched.ID)
	require.Zero(t, c)

	// Clearing the next fire time.
	require.NoError(t, s.SetTriggerState(ctx(), sched.ID, 7, time.Time{}))
	c, next = state(sched.ID)
	require.Equal(t, int64(7), c)
	require.True(t, next.IsZero())

	// Disabling keeps the cursor; enabling again restarts it at the end,
	// so what happened while it was off never fires.
	left, err := s.WorkflowByName(ctx(), "wf-person_left")
	require.NoError(t, err)
	require.NoError(t, s.SetTriggerState(ctx(), left.ID, 1, time.Time{}))
	left.Enabled = false
	require.NoError(t, s.UpdateWorkflow(ctx(), &left))
	c, _ = state(left.ID)
	require.Equal(t, int64(1), c)
	p := roster.Person{Email: "d@example.com"}
	require.NoError(t, s.UpsertPerson(ctx(), &p))
	left.Enabled = true
	require.NoError(t, s.UpdateWorkflow(ctx(), &left))
	c, _ = state(left.ID)
	require.Equal(t, lastEvent+1, c)
}

func testStartRuns(t *testing.T, s store.Store) {
	w := newWorkflow(t, s, "offboard", roster.TriggerPersonLeft)
	other := newWorkflow(t, s, "other", roster.TriggerPersonLeft)

	none, err := s.StartRuns(ctx(), nil, "system")
	require.NoError(t, err)
	require.Empty(t, none)

	runs, err := s.StartRuns(ctx(), []roster.WorkflowRun{
		newRun(w, "person_left:1:4", "a@example.com"),
		newRun(w, "person_left:2:5", "b@example.com"),
		newRun(w, "person_left:1:4", "dup@example.com"), // the same key in one call
	}, "workflow:offboard")
	require.NoError(t, err)
	require.Len(t, runs, 2)
	require.Equal(t, "a@example.com", runs[0].Email)
	require.Equal(t, "b@example.com", runs[1].Email)
	for _, r := range runs {
		require.NotZero(t, r.ID)
		require.Equal(t, roster.RunRunning, r.Status)
		require.Equal(t, 0, r.Position)
		require.Equal(t, 1, r.Generation)
		require.False(t, r.CreatedAt.IsZero())
		require.Equal(t, r.CreatedAt, r.UpdatedAt)
		require.True(t, r.LeaseUntil.IsZero())
		require.True(t, r.EndedAt.IsZero())
		require.Equal(t, w, r.Definition)
		require.Equal(t, r, getRun(t, s, r.ID))
	}
	require.NotEqual(t, runs[0].ID, runs[1].ID)

	// Keys already used are skipped, and not audited again; the same key
	// on another workflow is another run.
	more, err := s.StartRuns(ctx(), []roster.WorkflowRun{
		newRun(w, "person_left:1:4", "again@example.com"),
		newRun(w, "person_left:3:6", "c@example.com"),
		newRun(other, "person_left:1:4", "a@example.com"),
	}, "operator:ann@example.com")
	require.NoError(t, err)
	require.Len(t, more, 2)
	require.Equal(t, "c@example.com", more[0].Email)
	require.Equal(t, other.ID, more[1].WorkflowID)
	again, err := s.StartRuns(ctx(), []roster.WorkflowRun{newRun(w, "person_left:2:5", "b@example.com")}, "system")
	require.NoError(t, err)
	require.Empty(t, again)

	entries := workflowAudit(t, s)
	require.Len(t, entries, 4)
	targets := map[string]int{}
	for _, e := range entries {
		require.Equal(t, "run_started", e.Action)
		require.Equal(t, "ok", e.Result)
		require.Contains(t, e.Detail, "directory: person left")
		require.Equal(t, int64(7), e.ConnectionID)
		targets[e.Target]++
	}
	require.Equal(t, map[string]int{"a@example.com": 2, "b@example.com": 1, "c@example.com": 1}, targets)
	require.Equal(t, "operator:ann@example.com", entries[0].Actor)
	require.Equal(t, "workflow:offboard", entries[3].Actor)
	require.Contains(t, entries[3].Detail, "offboard")

	page, err := s.Runs(ctx(), store.RunFilter{})
	require.NoError(t, err)
	require.Equal(t, 4, page.Total)

	_, err = s.StartRuns(ctx(), []roster.WorkflowRun{newRun(w, "", "x@example.com")}, "system")
	require.ErrorIs(t, err, store.ErrInvalid)
	_, err = s.StartRuns(ctx(), []roster.WorkflowRun{newRun(w, "k", "x@example.com")}, "")
	require.ErrorIs(t, err, store.ErrInvalid)
}

func testStartRunsMany(t *testing.T, s store.Store) {
	w := newWorkflow(t, s, "sweep", roster.TriggerSchedule)
	runs := make([]roster.WorkflowRun, 1000)
	for i := range runs {
		runs[i] = newRun(w, fmt.Sprintf("schedule:%d", i), fmt.Sprintf("user%04d@example.com", i))
	}
	start := time.Now()
	started, err := s.StartRuns(ctx(), runs, "system")
	require.NoError(t, err)
	t.Logf("StartRuns of 1,000 runs: %v", time.Since(start))
	require.Len(t, started, 1000)
	ids := map[int64]bool{}
	for i, r := range started {
		require.Equal(t, runs[i].Email, r.Email)
		ids[r.ID] = true
	}
	require.Len(t, ids, 1000)
	require.Equal(t, started[999], getRun(t, s, started[999].ID))

	// Half of them again, with half new: only the new ones start.
	again := append(runs[500:], make([]roster.WorkflowRun, 500)...)
	for i := range 500 {
		again[500+i] = newRun(w, fmt.Sprintf("schedule:%d", 1000+i), fmt.Sprintf("new%04d@example.com", i))
	}
	started, err = s.StartRuns(ctx(), again, "system")
	require.NoError(t, err)
	require.Len(t, started, 500)
	require.Equal(t, "new0000@example.com", started[0].Email)
	require.Len(t, workflowAudit(t, s), 1500)
}

func testRunsList(t *testing.T, s store.Store) {
	w1 := newWorkflow(t, s, "one", roster.TriggerManual)
	w2 := newWorkflow(t, s, "two", roster.TriggerManual)
	var all []roster.WorkflowRun
	for i := range 5 {
		all = append(all, startRun(t, s, w1, fmt.Sprintf("k%d", i), fmt.Sprintf("p%d@example.com", i%3)))
	}
	for i := range 3 {
		all = append(all, startRun(t, s, w2, fmt.Sprintf("k%d", i), fmt.Sprintf("p%d@example.com", i)))
	}
	// Run 0 succeeds, runs 1 and 5 fail, run 2 waits.
	end := func(i int, st roster.RunStatus) {
		r := all[i]
		r.Status = st
		if !st.Live() {
			r.EndedAt = t0
		}
		ok, err := s.UpdateRun(ctx(), r, r.Generation, nil, nil)
		require.NoError(t, err)
		require.True(t, ok)
		all[i] = getRun(t, s, r.ID)
	}
	end(0, roster.RunSucceeded)
	end(1, roster.RunFailed)
	end(5, roster.RunFailed)
	end(2, roster.RunWaiting)

	ids := func(runs []roster.WorkflowRun) []int64 {
		var out []int64
		for _, r := range runs {
			out = append(out, r.ID)
		}
		return out
	}
	newest := func(idx ...int) []int64 {
		var out []int64
		for i := len(idx) - 1; i >= 0; i-- {
			out = append(out, all[idx[i]].ID)
		}
		return out
	}

	page, err := s.Runs(ctx(), store.RunFilter{})
	require.NoError(t, err)
	require.Equal(t, 8, page.Total)
	require.Zero(t, page.NextBefore)
	require.Equal(t, newest(0, 1, 2, 3, 4, 5, 6, 7), ids(page.Runs))
	require.Equal(t, all[7], page.Runs[0])
	require.Equal(t, map[roster.RunStatus]int{roster.RunSucceeded: 1, roster.RunFailed: 2, roster.RunWaiting: 1,
		roster.RunRunning: 4}, page.Counts)

	// Keyset paging, newest first.
	var seen []int64
	before := int64(0)
	for pages := 0; ; pages++ {
		require.Less(t, pages, 4)
		page, err := s.Runs(ctx(), store.RunFilter{BeforeID: before, Limit: 3})
		require.NoError(t, err)
		require.Equal(t, 8, page.Total)
		seen = append(seen, ids(page.Runs)...)
		if page.NextBefore == 0 {
			break
		}
		require.Equal(t, page.Runs[len(page.Runs)-1].ID, page.NextBefore)
		before = page.NextBefore
	}
	require.Equal(t, newest(0, 1, 2, 3, 4, 5, 6, 7), seen)
	// A page ending exactly at the last run has no next page.
	page, err = s.Runs(ctx(), store.RunFilter{Limit: 8})
	require.NoError(t, err)
	require.Zero(t, page.NextBefore)

	// Filters; counts ignore the status filter.
	page, err = s.Runs(ctx(), store.RunFilter{WorkflowID: w1.ID})
	require.NoError(t, err)
	require.Equal(t, 5, page.Total)
	require.Equal(t, newest(0, 1, 2, 3, 4), ids(page.Runs))
	page, err = s.Runs(ctx(), store.RunFilter{WorkflowID: w1.ID, Status: roster.RunRunning})
	require.NoError(t, err)
	require.Equal(t, 2, page.Total)
	require.Equal(t, newest(3, 4), ids(page.Runs))
	require.Equal(t, map[roster.RunStatus]int{roster.RunSucceeded: 1, roster.RunFailed: 1, roster.RunWaiting: 1,
		roster.RunRunning: 2}, page.Counts)
	page, err = s.Runs(ctx(), store.RunFilter{Status: roster.RunFailed})
	require.NoError(t, err)
	require.Equal(t, 2, page.Total)
	require.Equal(t, newest(1, 5), ids(page.Runs))
	page, err = s.Runs(ctx(), store.RunFilter{Email: "p1@example.com"})
	require.NoError(t, err)
	require.Equal(t, newest(1, 4, 6), ids(page.Runs))
	require.Equal(t, map[roster.RunStatus]int{roster.RunFailed: 1, roster.RunRunning: 2}, page.Counts)
	page, err = s.Runs(ctx(), store.RunFilter{Email: "p1@example.com", WorkflowID: w2.ID, Status: roster.RunRunning})
	require.NoError(t, err)
	require.Equal(t, newest(6), ids(page.Runs))
	page, err = s.Runs(ctx(), store.RunFilter{Email: "nobody@example.com"})
	require.NoError(t, err)
	require.Zero(t, page.Total)
	require.Empty(t, page.Runs)
	require.Empty(t, page.Counts)
	page, err = s.Runs(ctx(), store.RunFilter{Status: roster.RunCancelled})
	require.NoError(t, err)
	require.Zero(t, page.Total)
	require.Equal(t, 8, page.Counts[roster.RunRunning]+page.Counts[roster.RunWaiting]+
		page.Counts[roster.RunSucceeded]+page.Counts[roster.RunFailed])
}

func testRunsInvalid(t *testing.T, s store.Store) {
	for _, f := range []store.RunFilter{{Limit: -1}, {Limit: 501}, {BeforeID: -1}, {Status: "bogus"}} {
		_, err := s.Runs(ctx(), f)
		require.ErrorIs(t, err, store.ErrInvalid, "%+v", f)
	}
	page, err := s.Runs(ctx(), store.RunFilter{Limit: 500})
	require.NoError(t, err)
	require.Empty(t, page.Runs)
	_, err = s.StaleRuns(ctx(), t0, t0, -1)
	require.ErrorIs(t, err, store.ErrInvalid)
	_, err = s.Approvals(ctx(), false, -1)
	require.ErrorIs(t, err, store.ErrInvalid)
	_, err = s.PersonEvents(ctx(), 0, -1)
	require.ErrorIs(t, err, store.ErrInvalid)
}

func testClaimStep(t *testing.T, s store.Store) {
	w := newWorkflow(t, s, "offboard", roster.TriggerPersonLeft)
	r := startRun(t, s, w, "k1", "a@example.com")

	claimed, ok, err := s.ClaimStep(ctx(), r.ID, 0, 1, t0.Add(time.Minute), t0)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, t0.Add(time.Minute), claimed.LeaseUntil)
	require.Equal(t, t0, claimed.UpdatedAt)
	want := r
	want.LeaseUntil, want.UpdatedAt = t0.Add(time.Minute), t0
	require.Equal(t, want, claimed)
	require.Equal(t, claimed, getRun(t, s, r.ID))

	// A second claim while the lease holds is refused and changes nothing.
	got, ok, err := s.ClaimStep(ctx(), r.ID, 0, 1, t0.Add(2*time.Minute), t0.Add(30*time.Second))
	require.NoError(t, err)
	require.False(t, ok)
	require.Zero(t, got)
	require.Equal(t, claimed, getRun(t, s, r.ID))

	// Once the lease expired, another job may claim it.
	later := t0.Add(2 * time.Minute)
	got, ok, err = s.ClaimStep(ctx(), r.ID, 0, 1, later.Add(time.Minute), later)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, later.Add(time.Minute), got.LeaseUntil)

	// Stale generation or position, or an unknown run: refused.
	farLater := t0.Add(time.Hour)
	for _, c := range []struct {
		id       int64
		pos, gen int
	}{{r.ID, 0, 2}, {r.ID, 0, 0}, {r.ID, 1, 1}, {404, 0, 1}} {
		_, ok, err := s.ClaimStep(ctx(), c.id, c.pos, c.gen, farLater.Add(time.Minute), farLater)
		require.NoError(t, err)
		require.False(t, ok, "%+v", c)
	}
	require.Equal(t, got, getRun(t, s, r.ID))

	// A waiting run can be claimed; an ended one cannot.
	waiting := got
	waiting.Status, waiting.Position, waiting.LeaseUntil = roster.RunWaiting, 2, time.Time{}
	ok, err = s.UpdateRun(ctx(), waiting, 1, nil, nil)
	require.NoError(t, err)
	require.True(t, ok)
	got, ok, err = s.ClaimStep(ctx(), r.ID, 2, 1, farLater.Add(time.Minute), farLater)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, roster.RunWaiting, got.Status)

	done := got
	done.Status, done.LeaseUntil, done.EndedAt = roster.RunSucceeded, time.Time{}, farLater
	ok, err = s.UpdateRun(ctx(), done, 1, nil, nil)
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = s.ClaimStep(ctx(), r.ID, 2, 1, farLater.Add(2*time.Hour), farLater.Add(time.Hour))
	require.NoError(t, err)
	require.False(t, ok)

	_, _, err = s.ClaimStep(ctx(), r.ID, 0, 1, time.Time{}, t0)
	require.ErrorIs(t, err, store.ErrInvalid)
}

func testRenewLease(t *testing.T, s store.Store) {
	w := newWorkflow(t, s, "offboard", roster.TriggerPersonLeft)
	r := startRun(t, s, w, "k1", "a@example.com")
	_, ok, err := s.ClaimStep(ctx(), r.ID, 0, 1, t0.Add(time.Minute), t0)
	require.NoError(t, err)
	require.True(t, ok)

	ok, err = s.RenewLease(ctx(), r.ID, 1, t0.Add(5*time.Minute))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, t0.Add(5*time.Minute), getRun(t, s, r.ID).LeaseUntil)

	ok, err = s.RenewLease(ctx(), r.ID, 2, t0.Add(9*time.Minute))
	require.NoError(t, err)
	require.False(t, ok, "another generation")
	ok, err = s.RenewLease(ctx(), 404, 1, t0.Add(9*time.Minute))
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, t0.Add(5*time.Minute), getRun(t, s, r.ID).LeaseUntil)

	_, err = s.CancelRun(ctx(), r.ID, "stop", roster.AuditEntry{Actor: "system", Kind: "workflow", Action: "run_cancelled"})
	require.NoError(t, err)
	ok, err = s.RenewLease(ctx(), r.ID, 2, t0.Add(9*time.Minute))
	require.NoError(t, err)
	require.False(t, ok, "an ended run")
}

func testUpdateRun(t *testing.T, s store.Store) {
	w := newWorkflow(t, s, "offboard", roster.TriggerPersonLeft)
	r := startRun(t, s, w, "k1", "a@example.com")
	claimed, ok, err := s.ClaimStep(ctx(), r.ID, 0, 1, t0.Add(time.Minute), t0)
	require.NoError(t, err)
	require.True(t, ok)
	before := len(workflowAudit(t, s))

	// The notify step ran; the run goes on to the approval and waits.
	next := claimed
	next.Status, next.Position, next.LeaseUntil = roster.RunWaiting, 1, time.Time{}
	step := roster.RunStep{StepID: "tell", Kind: roster.StepNotify, Status: roster.StepSucceeded, Attempts: 1,
		Detail: "emailed it@example.com", Branch: "ask", StartedAt: t0, EndedAt: t0.Add(time.Second)}
	audit := roster.AuditEntry{Actor: "workflow:offboard", Kind: "workflow", Action: "step_done", Target: "a@example.com",
		Result: "ok", Detail: "tell"}
	ok, err = s.UpdateRun(ctx(), next, 1, &step, &audit)
	require.NoError(t, err)
	require.True(t, ok)
	require.NotZero(t, audit.ID)
	got := getRun(t, s, r.ID)
	require.Equal(t, roster.RunWaiting, got.Status)
	require.Equal(t, 1, got.Position)
	require.Equal(t, 1, got.Generation)
	require.True(t, got.LeaseUntil.IsZero())
	require.Equal(t, t0, got.UpdatedAt, "the run's UpdatedAt, from the claim")
	require.True(t, got.EndedAt.IsZero())
	step.RunID = r.ID
	steps, err := s.RunSteps(ctx(), r.ID)
	require.NoError(t, err)
	require.Equal(t, []roster.RunStep{step}, steps)
	require.Len(t, workflowAudit(t, s), before+1)

	// The approval step starts (a new generation for its jobs), then is
	// answered: the upsert keeps the time it started.
	ask := roster.RunStep{StepID: "ask", Kind: roster.StepApproval, Status: roster.StepWaiting, Attempts: 1,
		Detail: "asked the manager", DueAt: t0.Add(72 * time.Hour), StartedAt: t0.Add(2 * time.Second)}
	next = got
	next.Generation = 2
	ok, err = s.UpdateRun(ctx(), next, 1, &ask, nil)
	require.NoError(t, err)
	require.True(t, ok)
	require.Len(t, workflowAudit(t, s), before+1, "no audit asked for")
	answered := ask
	answered.Status, answered.Branch, answered.EndedAt = roster.StepSucceeded, "approved → pause", t0.Add(time.Hour)
	answered.StartedAt = t0.Add(time.Hour) // ignored: the step started earlier
	answered.DueAt = time.Time{}
	next.Status, next.Position = roster.RunRunning, 2
	ok, err = s.UpdateRun(ctx(), next, 2, &answered, nil)
	require.NoError(t, err)
	require.True(t, ok)
	steps, err = s.RunSteps(ctx(), r.ID)
	require.NoError(t, err)
	require.Len(t, steps, 2)
	require.Equal(t, step, steps[0])
	answered.RunID, answered.StartedAt = r.ID, t0.Add(2*time.Second)
	require.Equal(t, answered, steps[1])

	// A step that started at the same time as another comes after it.
	same := roster.RunStep{StepID: "pause", Kind: roster.StepWait, Status: roster.StepWaiting, StartedAt: t0}
	ok, err = s.UpdateRun(ctx(), next, 2, &same, nil)
	require.NoError(t, err)
	require.True(t, ok)
	steps, err = s.RunSteps(ctx(), r.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"tell", "pause", "ask"}, []string{steps[0].StepID, steps[1].StepID, steps[2].StepID})

	// The run ends.
	final := next
	final.Status, final.Position, final.EndedAt, final.UpdatedAt = roster.RunSucceeded, 4, t0.Add(2*time.Hour), t0.Add(2*time.Hour)
	ok, err = s.UpdateRun(ctx(), final, 2, nil, nil)
	require.NoError(t, err)
	require.True(t, ok)
	got = getRun(t, s, r.ID)
	require.Equal(t, final, got)

	// Bad statuses are refused.
	bad := final
	bad.Status = "bogus"
	_, err = s.UpdateRun(ctx(), bad, 2, nil, nil)
	require.ErrorIs(t, err, store.ErrInvalid)
	_, err = s.UpdateRun(ctx(), final, 2, &roster.RunStep{StepID: "x", Status: "bogus"}, nil)
	require.ErrorIs(t, err, store.ErrInvalid)
	require.Equal(t, final, getRun(t, s, r.ID))
}

func testUpdateRunStale(t *testing.T, s store.Store) {
	w := newWorkflow(t, s, "offboard", roster.TriggerPersonLeft)
	r := startRun(t, s, w, "k1", "a@example.com")
	next := r
	next.Generation = 2
	step := roster.RunStep{StepID: "tell", Kind: roster.StepNotify, Status: roster.StepRunning, StartedAt: t0}
	ok, err := s.UpdateRun(ctx(), next, 1, &step, nil)
	require.NoError(t, err)
	require.True(t, ok)

	run := getRun(t, s, r.ID)
	steps, err := s.RunSteps(ctx(), r.ID)
	require.NoError(t, err)
	audit := workflowAudit(t, s)
	changes := sqliteChanges(t, s)

	// A job of generation 1 writes nothing: not the run, its step, nor audit.
	old := r
	old.Status, old.Position, old.EndedAt, old.Error = roster.RunFailed, 3, t0, "late"
	late := roster.RunStep{StepID: "tell", Kind: roster.StepNotify, Status: roster.StepFailed, Detail: "late", StartedAt: t0}
	extra := roster.RunStep{StepID: "other", Kind: roster.StepWait, Status: roster.StepRunning, StartedAt: t0}
	entry := roster.AuditEntry{Actor: "system", Kind: "workflow", Action: "step_failed"}
	for _, st := range []*roster.RunStep{&late, &extra, nil} {
		ok, err = s.UpdateRun(ctx(), old, 1, st, &entry)
		require.NoError(t, err)
		require.False(t, ok)
	}
	require.Zero(t, entry.ID)
	require.Equal(t, run, getRun(t, s, r.ID))
	got, err := s.RunSteps(ctx(), r.ID)
	require.NoError(t, err)
	require.Equal(t, steps, got)
	require.Equal(t, audit, workflowAudit(t, s))
	if changes >= 0 {
		require.Equal(t, changes, sqliteChanges(t, s), "no row written")
	}
	// An unknown run is no error either.
	ghost := old
	ghost.ID = 404
	ok, err = s.UpdateRun(ctx(), ghost, 1, &late, &entry)
	require.NoError(t, err)
	require.False(t, ok)
}

func testStaleRuns(t *testing.T, s store.Store) {
	w := newWorkflow(t, s, "offboard", roster.TriggerPersonLeft)
	var rs []roster.WorkflowRun
	for i := range 5 {
		rs = append(rs, startRun(t, s, w, fmt.Sprintf("k%d", i), fmt.Sprintf("p%d@example.com", i)))
	}
	ids := func(runs []roster.WorkflowRun) []int64 {
		var out []int64
		for _, r := range runs {
			out = append(out, r.ID)
		}
		return out
	}
	// r0: its lease expired at t0+1m. r1: leased until t0+10m.
	_, ok, err := s.ClaimStep(ctx(), rs[0].ID, 0, 1, t0.Add(time.Minute), t0)
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = s.ClaimStep(ctx(), rs[1].ID, 0, 1, t0.Add(10*time.Minute), t0.Add(-2*time.Hour))
	require.NoError(t, err)
	require.True(t, ok)
	// r2: no lease, started now (after t0). r3: no lease, idle since
	// t0-1h. r4: ended long ago.
	idle := rs[3]
	idle.UpdatedAt = t0.Add(-time.Hour)
	ok, err = s.UpdateRun(ctx(), idle, 1, nil, nil)
	require.NoError(t, err)
	require.True(t, ok)
	ended := rs[4]
	ended.Status, ended.EndedAt, ended.UpdatedAt = roster.RunFailed, t0.Add(-5*time.Hour), t0.Add(-5*time.Hour)
	ok, err = s.UpdateRun(ctx(), ended, 1, nil, nil)
	require.NoError(t, err)
	require.True(t, ok)

	stale, err := s.StaleRuns(ctx(), t0.Add(2*time.Minute), t0, 0)
	require.NoError(t, err)
	require.Equal(t, []int64{rs[3].ID, rs[0].ID}, ids(stale), "oldest updated first")
	require.Equal(t, getRun(t, s, rs[3].ID), stale[0])

	stale, err = s.StaleRuns(ctx(), t0.Add(2*time.Minute), time.Now().Add(time.Hour), 0)
	require.NoError(t, err)
	require.Equal(t, []int64{rs[3].ID, rs[0].ID, rs[2].ID}, ids(stale))

	stale, err = s.StaleRuns(ctx(), t0.Add(time.Hour), time.Now().Add(time.Hour), 0)
	require.NoError(t, err)
	require.Equal(t, []int64{rs[1].ID, rs[3].ID, rs[0].ID, rs[2].ID}, ids(stale))

	stale, err = s.StaleRuns(ctx(), t0.Add(time.Hour), time.Now().Add(time.Hour), 2)
	require.NoError(t, err)
	require.Equal(t, []int64{rs[1].ID, rs[3].ID}, ids(stale))

	// A lease is judged by its expiry, not by the last update.
	stale, err = s.StaleRuns(ctx(), t0, time.Now().Add(time.Hour), 0)
	require.NoError(t, err)
	require.Equal(t, []int64{rs[3].ID, rs[2].ID}, ids(stale))
}

func testCancelRun(t *testing.T, s store.Store) {
	w := newWorkflow(t, s, "offboard", roster.TriggerPersonLeft)
	r := startRun(t, s, w, "k1", "a@example.com")
	claimed, ok, err := s.ClaimStep(ctx(), r.ID, 0, 1, t0.Add(time.Hour), t0)
	require.NoError(t, err)
	require.True(t, ok)
	before := len(workflowAudit(t, s))

	at := t0.Add(5 * time.Minute)
	audit := roster.AuditEntry{At: at, Actor: "operator:ann@example.com", Kind: "workflow", Action: "run_cancelled",
		Target: "a@example.com", Result: "ok"}
	got, err := s.CancelRun(ctx(), r.ID, "cancelled by ann", audit)
	require.NoError(t, err)
	want := claimed
	want.Status, want.Error, want.Generation, want.LeaseUntil, want.EndedAt = roster.RunCancelled, "cancelled by ann", 2, time.Time{}, at
	want.UpdatedAt = got.UpdatedAt
	require.Equal(t, want, got)
	require.Equal(t, got, getRun(t, s, r.ID))
	entries := workflowAudit(t, s)
	require.Len(t, entries, before+1)
	require.Equal(t, "run_cancelled", entries[0].Action)
	require.Equal(t, at, entries[0].At)

	// The old generation's jobs do nothing now.
	_, ok, err = s.ClaimStep(ctx(), r.ID, 0, 1, t0.Add(3*time.Hour), t0.Add(2*time.Hour))
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = s.UpdateRun(ctx(), claimed, 1, nil, nil)
	require.NoError(t, err)
	require.False(t, ok)

	// Twice: a conflict, with the run as it is.
	again, err := s.CancelRun(ctx(), r.ID, "again", audit)
	require.ErrorIs(t, err, store.ErrConflict)
	require.Equal(t, got, again)
	require.Len(t, workflowAudit(t, s), before+1)
	require.Equal(t, got, getRun(t, s, r.ID))

	// A run that ended otherwise cannot be cancelled either.
	done := startRun(t, s, w, "k2", "b@example.com")
	done.Status, done.EndedAt = roster.RunSucceeded, t0
	ok, err = s.UpdateRun(ctx(), done, 1, nil, nil)
	require.NoError(t, err)
	require.True(t, ok)
	_, err = s.CancelRun(ctx(), done.ID, "too late", audit)
	require.ErrorIs(t, err, store.ErrConflict)
	require.Equal(t, roster.RunSucceeded, getRun(t, s, done.ID).Status)

	_, err = s.CancelRun(ctx(), 404, "ghost", audit)
	require.ErrorIs(t, err, store.ErrNotFound)

	// A waiting run with no audit time ends now.
	waiting := startRun(t, s, w, "k3", "c@example.com")
	waiting.Status = roster.RunWaiting
	ok, err = s.UpdateRun(ctx(), waiting, 1, nil, nil)
	require.NoError(t, err)
	require.True(t, ok)
	audit.At = time.Time{}
	got, err = s.CancelRun(ctx(), waiting.ID, "", audit)
	require.NoError(t, err)
	require.Equal(t, roster.RunCancelled, got.Status)
	require.False(t, got.EndedAt.IsZero())
	require.Equal(t, 2, got.Generation)
}

func testCreateApproval(t *testing.T, s store.Store) {
	w := newWorkflow(t, s, "offboard", roster.TriggerPersonLeft)
	r := startRun(t, s, w, "k1", "a@example.com")

	a := roster.Approval{RunID: r.ID, StepID: "ask", Approver: "boss@example.com", ExpiresAt: t0.Add(72 * time.Hour)}
	require.NoError(t, s.CreateApproval(ctx(), &a))
	require.NotZero(t, a.ID)
	require.Equal(t, roster.ApprovalPending, a.Status)
	require.False(t, a.CreatedAt.IsZero())
	got, err := s.Approval(ctx(), a.ID)
	require.NoError(t, err)
	require.Equal(t, a, got)
	got, err = s.ApprovalFor(ctx(), r.ID, "ask")
	require.NoError(t, err)
	require.Equal(t, a, got)

	// The step's approval exists: a conflict, with the stored one.
	dup := roster.Approval{RunID: r.ID, StepID: "ask", Approver: "other@example.com", ExpiresAt: t0}
	require.ErrorIs(t, s.CreateApproval(ctx(), &dup), store.ErrConflict)
	require.Equal(t, a, dup)

	b := roster.Approval{RunID: r.ID, StepID: "ask2", Approver: "boss@example.com", CreatedAt: t0}
	require.NoError(t, s.CreateApproval(ctx(), &b))
	require.Equal(t, t0, b.CreatedAt)
	require.True(t, b.ExpiresAt.IsZero())
	list, err := s.Approvals(ctx(), true, 0)
	require.NoError(t, err)
	require.Equal(t, []roster.Approval{b, a}, list, "newest first")
	list, err = s.Approvals(ctx(), false, 1)
	require.NoError(t, err)
	require.Equal(t, []roster.Approval{b}, list)

	ghost := roster.Approval{RunID: 404, StepID: "ask", Approver: "boss@example.com"}
	require.ErrorIs(t, s.CreateApproval(ctx(), &ghost), store.ErrNotFound)
	require.Zero(t, ghost.ID)
	require.ErrorIs(t, s.CreateApproval(ctx(), &roster.Approval{RunID: r.ID, Approver: "x@example.com"}), store.ErrInvalid)
	_, err = s.Approval(ctx(), 404)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.ApprovalFor(ctx(), r.ID, "nope")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func testDecideApproval(t *testing.T, s store.Store) {
	w := newWorkflow(t, s, "offboard", roster.TriggerPersonLeft)
	r := startRun(t, s, w, "k1", "a@example.com")
	a := roster.Approval{RunID: r.ID, StepID: "ask", Approver: "boss@example.com", ExpiresAt: t0.Add(72 * time.Hour)}
	require.NoError(t, s.CreateApproval(ctx(), &a))
	b := roster.Approval{RunID: r.ID, StepID: "ask2", Approver: "boss@example.com", ExpiresAt: t0.Add(time.Hour)}
	require.NoError(t, s.CreateApproval(ctx(), &b))
	before := len(workflowAudit(t, s))

	audit := roster.AuditEntry{Actor: "operator:ann@example.com", Kind: "workflow", Action: "approval_approved",
		Target: "a@example.com", Result: "ok"}
	got, err := s.DecideApproval(ctx(), a.ID, roster.ApprovalApproved, "operator:ann@example.com", t0.Add(time.Hour), audit)
	require.NoError(t, err)
	want := a
	want.Status, want.DecidedBy, want.DecidedAt = roster.ApprovalApproved, "operator:ann@example.com", t0.Add(time.Hour)
	require.Equal(t, want, got)
	stored, err := s.Approval(ctx(), a.ID)
	require.NoError(t, err)
	require.Equal(t, want, stored)
	require.Len(t, workflowAudit(t, s), before+1)

	// Decided once: a second answer (a link clicked late, the timeout)
	// is a conflict that returns the first.
	for _, st := range []roster.ApprovalStatus{roster.ApprovalDenied, roster.ApprovalTimedOut, roster.ApprovalApproved} {
		got, err = s.DecideApproval(ctx(), a.ID, st, "link:boss@example.com", t0.Add(2*time.Hour), audit)
		require.ErrorIs(t, err, store.ErrConflict)
		require.Equal(t, want, got)
	}
	require.Len(t, workflowAudit(t, s), before+1)

	list, err := s.Approvals(ctx(), true, 0)
	require.NoError(t, err)
	require.Equal(t, []roster.Approval{b}, list)
	list, err = s.Approvals(ctx(), false, 0)
	require.NoError(t, err)
	require.Equal(t, []roster.Approval{b, want}, list)

	// A timeout has no decider; the time defaults to now.
	got, err = s.DecideApproval(ctx(), b.ID, roster.ApprovalTimedOut, "", time.Time{},
		roster.AuditEntry{Actor: "system", Kind: "workflow", Action: "approval_timed_out"})
	require.NoError(t, err)
	require.Equal(t, roster.ApprovalTimedOut, got.Status)
	require.False(t, got.DecidedAt.IsZero())
	list, err = s.Approvals(ctx(), true, 0)
	require.NoError(t, err)
	require.Empty(t, list)

	_, err = s.DecideApproval(ctx(), 404, roster.ApprovalApproved, "x", t0, audit)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.DecideApproval(ctx(), a.ID, roster.ApprovalPending, "x", t0, audit)
	require.ErrorIs(t, err, store.ErrInvalid)
}

func testPersonEvents(t *testing.T, s store.Store) {
	type ev struct {
		person int64
		email  string
		kind   roster.PersonEventKind
	}
	var want []ev
	check := func(msg string) {
		t.Helper()
		events, err := s.PersonEvents(ctx(), 0, 0)
		require.NoError(t, err)
		var got []ev
		for i, e := range events {
			got = append(got, ev{e.PersonID, e.Email, e.Kind})
			require.False(t, e.At.IsZero())
			if i > 0 {
				require.Greater(t, e.ID, events[i-1].ID)
			}
		}
		require.Equal(t, want, got, msg)
	}

	// Created active: joined. Created left: nothing.
	ada := roster.Person{Email: "Ada@Example.com", Name: "Ada"}
	require.NoError(t, s.UpsertPerson(ctx(), &ada))
	want = append(want, ev{ada.ID, "ada@example.com", roster.PersonEventJoined})
	bob := roster.Person{Email: "bob@example.com", Status: roster.PersonLeft}
	require.NoError(t, s.UpsertPerson(ctx(), &bob))
	check("created")

	// Updates that keep the status: nothing.
	ada.Name, ada.Department = "Ada L.", "Eng"
	require.NoError(t, s.UpsertPerson(ctx(), &ada))
	require.NoError(t, s.UpdatePerson(ctx(), &ada))
	bob.Name = "Bob"
	require.NoError(t, s.UpdatePerson(ctx(), &bob))
	check("unchanged status")

	// Active to left, through the upsert; back, with a new email, through
	// the update.
	ada.Status = roster.PersonLeft
	require.NoError(t, s.UpsertPerson(ctx(), &ada))
	want = append(want, ev{ada.ID, "ada@example.com", roster.PersonEventLeft})
	ada.Status, ada.Email = roster.PersonActive, "ada@new.example.com"
	require.NoError(t, s.UpdatePerson(ctx(), &ada))
	want = append(want, ev{ada.ID, "ada@new.example.com", roster.PersonEventJoined})
	// Left to active through the upsert, active to left through the update.
	bob.Status = roster.PersonActive
	require.NoError(t, s.UpsertPerson(ctx(), &bob))
	want = append(want, ev{bob.ID, "bob@example.com", roster.PersonEventJoined})
	bob.Status = roster.PersonLeft
	require.NoError(t, s.UpdatePerson(ctx(), &bob))
	want = append(want, ev{bob.ID, "bob@example.com", roster.PersonEventLeft})
	check("status changes")

	// A write that fails writes no event.
	carol := roster.Person{Email: "carol@example.com", Aliases: []string{"ada@new.example.com"}}
	require.ErrorIs(t, s.UpsertPerson(ctx(), &carol), store.ErrConflict)
	bob.Status, bob.Aliases = roster.PersonActive, []string{"ada@new.example.com"}
	require.ErrorIs(t, s.UpdatePerson(ctx(), &bob), store.ErrConflict)
	ghost := roster.Person{ID: 404, Email: "ghost@example.com"}
	require.ErrorIs(t, s.UpdatePerson(ctx(), &ghost), store.ErrNotFound)
	check("failed writes")

	// Deleted while active: left, with the email it had. Deleted when
	// already left: nothing.
	require.NoError(t, s.DeletePerson(ctx(), ada.ID))
	want = append(want, ev{ada.ID, "ada@new.example.com", roster.PersonEventLeft})
	require.NoError(t, s.DeletePerson(ctx(), bob.ID))
	require.ErrorIs(t, s.DeletePerson(ctx(), bob.ID), store.ErrNotFound)
	check("deleted")
}

func testPersonEventsPaging(t *testing.T, s store.Store) {
	none, err := s.PersonEvents(ctx(), 0, 0)
	require.NoError(t, err)
	require.Empty(t, none)
	for i := range 5 {
		p := roster.Person{Email: fmt.Sprintf("p%d@example.com", i)}
		require.NoError(t, s.UpsertPerson(ctx(), &p))
	}
	all, err := s.PersonEvents(ctx(), 0, 0)
	require.NoError(t, err)
	require.Len(t, all, 5)
	page, err := s.PersonEvents(ctx(), all[1].ID, 2)
	require.NoError(t, err)
	require.Equal(t, all[2:4], page)
	page, err = s.PersonEvents(ctx(), all[4].ID, 0)
	require.NoError(t, err)
	require.Empty(t, page)
	require.Equal(t, "p0@example.com", all[0].Email)
	require.Equal(t, roster.PersonEventJoined, all[0].Kind)
}
