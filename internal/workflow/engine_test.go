package workflow_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/workflow"
)

// fieldPaths are the paths of a field-error result.
func fieldPaths(t *testing.T, err error) []string {
	t.Helper()
	require.ErrorIs(t, err, workflow.ErrInvalid)
	var fe roster.WorkflowErrors
	require.True(t, errors.As(err, &fe), "%v", err)
	var out []string
	for _, e := range fe {
		out = append(out, e.Path)
	}
	return out
}

func TestInvalidDefinitionsAreRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storetest.SQLiteDSN(t), smallOrg())
	ctx := context.Background()
	cases := map[string]struct {
		yaml string
		want string
	}{
		"unknown trigger": {`
name: a
connection: 1
trigger: {kind: moon_phase}
steps: [{kind: sign_out}]`, "a: trigger.kind"},
		"missing team": {`
name: b
connection: 1
trigger: {kind: person_joined}
steps: [{kind: invite}]`, "b: steps[0].team"},
		"unknown team": {`
name: c
connection: 1
trigger: {kind: person_joined}
steps: [{kind: invite, team: "no-such-team"}]`, "c: steps[0].team"},
		"bad cron": {`
name: d
connection: 1
trigger: {kind: schedule, cron: "61 * * * *"}
steps: [{kind: sign_out}]`, "d: trigger.cron"},
		"cycle": {`
name: e
connection: 1
trigger: {kind: manual}
steps:
  - {id: ask, kind: approval, approver: boss@example.com, timeout: 1h, on_deny: tell}
  - {id: tell, kind: notify, channel: webhook, text: hi, next: ask}`, "e: steps"},
		"no such connection": {`
name: f
connection: 99
trigger: {kind: manual}
steps: [{kind: sign_out}]`, "f: connection"},
		"bad duration": {`
name: h
connection: 1
trigger: {kind: manual}
steps: [{kind: wait, duration: soon}]`, "steps[0].duration"},
		"unknown key": {`
name: g
connection: 1
trigger: {kind: manual}
stepz: []`, "document 1"},
	}
	for name, c := range cases {
		_, err := h.engine.Apply(ctx, strings.NewReader(c.yaml))
		require.Contains(t, fieldPaths(t, err), c.want, name)
	}
	// One bad definition among good ones saves none.
	_, err := h.engine.Apply(ctx, strings.NewReader(`
name: good
connection: 1
trigger: {kind: manual}
steps: [{kind: sign_out}]
---
name: bad
connection: 1
trigger: {kind: manual}
steps: [{kind: wait}]`))
	require.Contains(t, fieldPaths(t, err), "bad: steps[0].duration")
	ws, err := h.DB.Workflows(ctx)
	require.NoError(t, err)
	require.Empty(t, ws)
}

func TestYAMLRoundTrip(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storetest.SQLiteDSN(t), smallOrg())
	ctx := context.Background()
	for _, name := range workflow.Templates {
		teams, err := h.DB.Teams(ctx, h.conn.ID)
		require.NoError(t, err)
		w, err := workflow.Template(name, workflow.TemplateOptions{ConnectionID: h.conn.ID, Team: teams[0].MiroTeamID})
		require.NoError(t, err)
		out, err := workflow.MarshalYAML([]roster.Workflow{w})
		require.NoError(t, err)
		_, err = h.engine.Apply(ctx, strings.NewReader(string(out)))
		require.NoError(t, err, "%s:\n%s", name, out)
	}
	first, err := h.engine.Export(ctx, "")
	require.NoError(t, err)
	saved, err := h.engine.Apply(ctx, strings.NewReader(string(first)))
	require.NoError(t, err)
	require.Len(t, saved, 3)
	again, err := h.engine.Export(ctx, "")
	require.NoError(t, err)
	require.Equal(t, string(first), string(again), "export, apply, export is stable")
	require.Contains(t, string(first), "timeout: 7d")
}

func TestDryRunTouchesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storetest.SQLiteDSN(t), smallOrg())
	ctx := context.Background()
	m, teams := h.plainMember(t)
	h.person(t, roster.Person{Email: m.Email, Status: roster.PersonLeft})
	w, err := workflow.Template("offboarding", workflow.TemplateOptions{ConnectionID: h.conn.ID})
	require.NoError(t, err)
	calls := h.Sim.Stats().Calls
	d, err := h.engine.Preview(ctx, w, nil)
	require.NoError(t, err)
	require.Equal(t, 1, d.Total, d.Basis)
	require.Equal(t, m.Email, d.Runs[0].Email)
	plans := d.Runs[0].Steps
	require.Contains(t, plans[0].Plan, "remove from")
	require.Contains(t, plans[0].Plan, teams[0])
	require.Contains(t, plans[1].Plan, "deactivate in the organization")
	// The summary comes first: one would run, freeing their full license
	// (no price is set, which it says), through the organization.
	require.Equal(t, workflow.Summary{Considered: 1, WouldRun: 1, Currency: "USD",
		Seats: []workflow.SeatsFreed{{License: roster.LicenseFull, Seats: 1}}, PricesMissing: []string{roster.LicenseFull},
		Consequences: d.Summary.Consequences}, d.Summary)
	require.Len(t, d.Summary.Consequences, 3, "remove from teams, deactivate, sign out")
	require.Contains(t, d.Summary.Consequences[1].Text, "Step deactivate: they are deactivated in the organization")
	require.Equal(t, []workflow.PlannedRun{d.Runs[0]}, d.People)
	require.Equal(t, calls, h.Sim.Stats().Calls, "a dry run calls nothing")
	page, err := h.DB.Runs(ctx, store.RunFilter{})
	require.NoError(t, err)
	require.Zero(t, page.Total)
	// Named people: a guest, whose deactivation Miro's API refuses, and
	// someone roster does not know.
	guest := h.member(t, func(m miro.OrganizationMember) bool {
		return m.Active && m.Role.String() == "organization_team_guest_user"
	})
	calls = h.Sim.Stats().Calls
	d, err = h.engine.Preview(ctx, w, []string{guest.Email, "nobody@example.com"})
	require.NoError(t, err)
	// The guest would be refused at the deactivate step: left out, not
	// counted as one who would run.
	require.Zero(t, d.Total)
	require.Empty(t, d.Runs)
	refused := "step deactivate would be refused: guests and external users cannot be deactivated or reactivated through Miro's API"
	require.Equal(t, []workflow.Exclusion{{Email: "nobody@example.com", Reason: "roster knows no one with this email"},
		{Email: guest.Email, Reason: refused}}, d.Excluded)
	require.Equal(t, 2, d.ExcludedTotal)
	require.Equal(t, []workflow.PeopleCount{{Text: "roster knows no one with this email", People: 1}, {Text: refused, People: 1}}, d.Summary.Reasons)
	require.Zero(t, d.Summary.WouldRun)
	require.Empty(t, d.Summary.Seats)
	left, err := h.engine.PreviewPeople(ctx, w, []string{guest.Email, "nobody@example.com"}, workflow.PeopleView{LeftOut: true, Offset: 1})
	require.NoError(t, err)
	require.Len(t, left.People, 1, "the second page of one")
	require.Equal(t, guest.Email, left.People[0].Email)
	require.True(t, left.People[0].Steps[1].Blocked, "its plan shows the step that would stop it")
	require.Equal(t, calls, h.Sim.Stats().Calls)
}

func TestManualRunAndCancel(t *testing.T) {
	t.Parallel()
	eachBackend(t, smallOrg(), func(t *testing.T, h *harness) {
		ctx := context.Background()
		m, _ := h.plainMember(t)
		h.person(t, roster.Person{Email: m.Email, ManagerEmail: "boss@example.com"})
		w := h.save(t, roster.Workflow{Name: "ask-then-sign-out", Trigger: roster.Trigger{Kind: roster.TriggerManual},
			Conditions: []roster.Condition{{Field: roster.CondEmailDomain, Op: "is_not", Value: "competitor.example"}},
			Steps: []roster.Step{
				{ID: "ask", Kind: roster.StepApproval, Approver: roster.ApproverManager, Via: roster.ChannelUI, Timeout: roster.Duration(time.Hour)},
				{ID: "sign-out", Kind: roster.StepSignOut},
			}})
		res, err := h.engine.RunManual(ctx, w.ID, []string{m.Email, "ghost@example.com", strings.ToUpper(m.Email)}, "operator:admin@example.com")
		require.NoError(t, err)
		require.Len(t, res.Started, 1, "the same person twice starts one run")
		require.Equal(t, "ghost@example.com", res.Excluded[0].Email)
		run := h.waitStatus(t, res.Started[0].ID, roster.RunWaiting)
		appr, err := h.DB.ApprovalFor(ctx, run.ID, "ask")
		require.NoError(t, err)
		require.Equal(t, "boss@example.com", appr.Approver)
		pending, err := h.DB.Approvals(ctx, true, 10)
		require.NoError(t, err)
		require.Len(t, pending, 1)

		run, err = h.engine.Cancel(ctx, run.ID, "operator:admin@example.com")
		require.NoError(t, err)
		require.Equal(t, roster.RunCancelled, run.Status)
		_, err = h.engine.Cancel(ctx, run.ID, "operator:admin@example.com")
		require.ErrorIs(t, err, store.ErrConflict, "a run ends once")
		pending, err = h.DB.Approvals(ctx, true, 10)
		require.NoError(t, err)
		require.Empty(t, pending, "the cancelled run's question is closed")
		_, err = h.engine.Decide(ctx, appr.ID, true, "operator:admin@example.com")
		require.ErrorIs(t, err, workflow.ErrDecided)
		time.Sleep(300 * time.Millisecond) // any job still queued would run now
		require.Zero(t, h.calls("enterprise-post-user-sessions-reset"), "a cancelled run acts no more")
	})
}

func TestTransientFailuresAreRetriedThenFail(t *testing.T) {
	t.Parallel()
	eachBackend(t, smallOrg(), func(t *testing.T, h *harness) {
		ctx := context.Background()
		a, _ := h.plainMember(t)
		b, _ := h.plainMember(t, a.ID)
		w := h.save(t, roster.Workflow{Name: "sign-out", Trigger: roster.Trigger{Kind: roster.TriggerManual},
			Steps:     []roster.Step{{ID: "sign-out", Kind: roster.StepSignOut}},
			OnFailure: &roster.Step{Channel: roster.ChannelWebhook, Text: "{{.Workflow}} failed for {{.Email}}: {{.Error}}"}})

		// Two 503s, then Miro answers: the step is retried and succeeds.
		h.Sim.SetFaults(mirosim.Fault{OperationID: "enterprise-post-user-sessions-reset", Kind: mirosim.Fault503, Rate: 1, Times: 2})
		res, err := h.engine.RunManual(ctx, w.ID, []string{a.Email}, "operator:admin@example.com")
		require.NoError(t, err)
		run := h.waitStatus(t, res.Started[0].ID, roster.RunSucceeded)
		step := h.timeline(t, run.ID)["sign-out"]
		require.Equal(t, roster.StepSucceeded, step.Status)
		require.GreaterOrEqual(t, step.Attempts, 2)

		// Miro keeps failing: after the attempts (4 here) the run fails, saying why.
		h.Sim.SetFaults(mirosim.Fault{OperationID: "enterprise-post-user-sessions-reset", Kind: mirosim.Fault503, Rate: 1})
		res, err = h.engine.RunManual(ctx, w.ID, []string{b.Email}, "operator:admin@example.com")
		require.NoError(t, err)
		run = h.waitStatus(t, res.Started[0].ID, roster.RunFailed)
		require.Contains(t, run.Error, "failed after 4 attempts")
		step = h.timeline(t, run.ID)["sign-out"]
		require.Equal(t, roster.StepFailed, step.Status)
		require.Equal(t, 4, step.Attempts)

		// Someone is told, once, and the notice is on the timeline.
		got := h.hook.Wait(t, 1, 10*time.Second)
		require.Len(t, got, 1, "the first run succeeded: no notice for it")
		require.Equal(t, "workflow.failed", got[0].JSON["event"])
		require.Contains(t, got[0].JSON["text"], "sign-out failed for "+b.Email+": step sign-out failed after 4 attempts")
		require.Eventually(t, func() bool { // recorded just after it is sent
			steps, err := h.DB.RunSteps(ctx, run.ID)
			return err == nil && slices.ContainsFunc(steps, func(s roster.RunStep) bool {
				return s.StepID == roster.OnFailureID && s.Status == roster.StepSucceeded
			})
		}, 10*time.Second, 20*time.Millisecond, "the notice is on the timeline")
	})
}

// TestOrphanedRunIsTakenOver plays a process killed mid-step: a job
// leased the run and died. Once the lease expires, Reconcile dispatches
// the run again, and the old job, were it to wake, does nothing.
func TestOrphanedRunIsTakenOver(t *testing.T) {
	t.Parallel()
	eachBackend(t, smallOrg(), func(t *testing.T, h *harness) {
		ctx := context.Background()
		m, _ := h.plainMember(t)
		w := h.save(t, roster.Workflow{Name: "sign-out", Trigger: roster.Trigger{Kind: roster.TriggerManual},
			Steps: []roster.Step{{ID: "sign-out", Kind: roster.StepSignOut}}})
		// A run recorded but whose first job was never enqueued, then
		// leased by a job that died.
		started, err := h.DB.StartRuns(ctx, []roster.WorkflowRun{{WorkflowID: w.ID, WorkflowName: w.Name, Definition: w,
			TriggerKey: "manual:orphan", Trigger: "test", Email: m.Email}}, "test")
		require.NoError(t, err)
		run := started[0]
		now := time.Now()
		_, ok, err := h.DB.ClaimStep(ctx, run.ID, 0, run.Generation, now.Add(time.Second), now)
		require.NoError(t, err)
		require.True(t, ok)
		require.Eventually(t, func() bool {
			n, err := h.engine.Reconcile(ctx)
			require.NoError(t, err)
			return n == 1
		}, 10*time.Second, 100*time.Millisecond)
		done := h.waitStatus(t, run.ID, roster.RunSucceeded)
		require.Equal(t, run.Generation+1, done.Generation, "dispatched once more")
		// The dead job's generation does nothing.
		require.NoError(t, h.engine.Work(ctx, workflow.StepJob{RunID: run.ID, Position: 0, Generation: run.Generation}, 1, 4))
		require.Equal(t, 1, h.calls("enterprise-post-user-sessions-reset"))
	})
}

// TestApprovalNotSentClosesIt: when the question cannot be sent (the mail
// server refuses it for good), the run fails and its approval is closed,
// so no one is offered an answer that would change nothing.
func TestApprovalNotSentClosesIt(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storetest.SQLiteDSN(t), smallOrg())
	ctx := context.Background()
	m, _ := h.plainMember(t)
	w := h.save(t, roster.Workflow{Name: "ask-by-mail", Trigger: roster.Trigger{Kind: roster.TriggerManual},
		Steps: []roster.Step{
			{ID: "ask", Kind: roster.StepApproval, Approver: "boss@example.com", Via: roster.ChannelEmail, Timeout: roster.Duration(time.Hour)},
			{ID: "sign-out", Kind: roster.StepSignOut},
		}})
	h.smtp.FailNext(1, 550)
	res, err := h.engine.RunManual(ctx, w.ID, []string{m.Email}, "operator:admin@example.com")
	require.NoError(t, err)
	run := h.waitStatus(t, res.Started[0].ID, roster.RunFailed)
	require.Contains(t, run.Error, "step ask failed")
	var a roster.Approval
	require.Eventually(t, func() bool { // closed just after the run is recorded failed
		a, err = h.DB.ApprovalFor(ctx, run.ID, "ask")
		return err == nil && a.Status != roster.ApprovalPending
	}, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, roster.ApprovalDenied, a.Status)
	require.Equal(t, "run failed", a.DecidedBy)
	pending, err := h.DB.Approvals(ctx, true, 10)
	require.NoError(t, err)
	require.Empty(t, pending)
	require.Zero(t, h.calls("enterprise-post-user-sessions-reset"))
}

// TestNotifyOverBudgetFailsTheStep: a template within the rules can
// still render a lot from a run's data ({{$.Steps}} inside a range over
// them). Rendering stops at roster.NotifyMaxOutput and fails the step at
// once, saying why; nothing is sent and nothing is retried.
func TestNotifyOverBudgetFailsTheStep(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storetest.SQLiteDSN(t), smallOrg())
	ctx := context.Background()
	m, _ := h.plainMember(t)
	tell := func(id string) roster.Step {
		return roster.Step{ID: id, Kind: roster.StepNotify, Channel: roster.ChannelWebhook, Text: "hi"}
	}
	bomb := roster.Step{ID: "bomb", Kind: roster.StepNotify, Channel: roster.ChannelWebhook,
		Text: "{{range .Steps}}" + strings.Repeat("{{$.Steps}}", 800) + "{{end}}"}
	w := h.save(t, roster.Workflow{Name: "loud", Trigger: roster.Trigger{Kind: roster.TriggerManual},
		Steps: []roster.Step{tell("one"), tell("two"), tell("three"), bomb, {ID: "sign-out", Kind: roster.StepSignOut}}})
	res, err := h.engine.RunManual(ctx, w.ID, []string{m.Email}, "operator:admin@example.com")
	require.NoError(t, err)
	run := h.waitStatus(t, res.Started[0].ID, roster.RunFailed)
	step := h.timeline(t, run.ID)["bomb"]
	require.Equal(t, roster.StepFailed, step.Status)
	require.Equal(t, 1, step.Attempts, "rendering again renders the same")
	require.Contains(t, step.Detail, "render the text: renders more than 65536 bytes")
	require.Len(t, h.hook.Deliveries(), 3, "the three greetings, nothing more")
	require.Zero(t, h.calls("enterprise-post-user-sessions-reset"))
}

// TestCheckStopsWithItsContext: the dashboard, the API and the CLI check
// and preview with the request's context; once it ends, so does the
// check, with the context's error rather than field errors.
func TestCheckStopsWithItsContext(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storetest.SQLiteDSN(t), smallOrg())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := roster.Workflow{Name: "tell", ConnectionID: h.conn.ID, Trigger: roster.Trigger{Kind: roster.TriggerManual},
		Steps: []roster.Step{{Kind: roster.StepNotify, Channel: roster.ChannelWebhook, Text: "{{.Email}}"}}}
	require.ErrorIs(t, h.engine.Check(ctx, &w), context.Canceled)
	_, err := h.engine.Preview(ctx, w, nil)
	require.ErrorIs(t, err, context.Canceled)
	require.NoError(t, h.engine.Check(context.Background(), &w))
}
