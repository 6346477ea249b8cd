package workflow_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/store"
)

// tell is a one-step workflow that reports its subject by webhook.
func tell(name string, trigger roster.Trigger, conds ...roster.Condition) roster.Workflow {
	return roster.Workflow{Name: name, Trigger: trigger, Conditions: conds,
		Steps: []roster.Step{{ID: "tell", Kind: roster.StepNotify, Channel: roster.ChannelWebhook,
			Text: name + ": {{.Email}} ({{.Trigger}})"}}}
}

// syncNow runs a sync through the job queue and waits for it.
func (h *harness) syncNow(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	before, err := h.DB.SyncRuns(ctx, h.conn.ID, 100)
	require.NoError(t, err)
	_, err = h.runner.EnqueueSync(ctx, h.conn.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		runs, err := h.DB.SyncRuns(ctx, h.conn.ID, 100)
		require.NoError(t, err)
		return len(runs) > len(before) && runs[0].Status == roster.SyncSucceeded
	}, 60*time.Second, 50*time.Millisecond)
}

func TestSyncChangeTriggers(t *testing.T) {
	t.Parallel()
	eachBackend(t, smallOrg(), func(t *testing.T, h *harness) {
		ctx := context.Background()
		shadow := h.save(t, tell("shadow", roster.Trigger{Kind: roster.TriggerNewAccount}))
		upgraded := h.save(t, tell("upgraded", roster.Trigger{Kind: roster.TriggerLicenseChanged, License: roster.LicenseFull}))

		// Miro gets a new member nobody told the directory about, and a
		// free member is given a full license.
		domain := h.member(t, func(m miro.OrganizationMember) bool { return m.Email != "" }).Email
		domain = domain[strings.Index(domain, "@"):]
		_, err := h.Sim.AddMember(mirosim.NewUser{Email: "shadow" + domain, GivenName: "Sha", FamilyName: "Dow",
			Role: "organization_internal_user", License: roster.LicenseFree})
		require.NoError(t, err)
		free := h.member(t, func(m miro.OrganizationMember) bool {
			return m.Active && m.Role.String() == "organization_internal_user" && m.License.String() == roster.LicenseFree
		})
		full := roster.LicenseFull
		_, err = h.Sim.UpdateMember(free.ID, mirosim.UserPatch{License: &full})
		require.NoError(t, err)
		h.syncNow(t)

		n, err := h.engine.Evaluate(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		got := h.waitRuns(t, shadow.ID, 1)[0]
		require.Equal(t, "shadow"+domain, got.Email)
		require.Equal(t, roster.RunSucceeded, got.Status, got.Error)
		got = h.waitRuns(t, upgraded.ID, 1)[0]
		require.Equal(t, free.Email, got.Email)
		require.Contains(t, got.Trigger, "to full")
		require.Len(t, h.hook.Wait(t, 2, 10*time.Second), 2)

		// Nothing starts twice, even though the changes are read again
		// until they are old enough for the cursor to pass them.
		n, err = h.engine.Evaluate(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
	})
}

func TestScheduleTrigger(t *testing.T) {
	t.Parallel()
	eachBackend(t, smallOrg(), func(t *testing.T, h *harness) {
		ctx := context.Background()
		m, _ := h.plainMember(t)
		h.person(t, roster.Person{Email: m.Email, Department: "Night Shift"})
		w := h.save(t, tell("nightly", roster.Trigger{Kind: roster.TriggerSchedule, Cron: "@every 1h"},
			roster.Condition{Field: roster.CondDepartment, Op: "is", Value: "night shift"}))

		// The first evaluation only plans the next time.
		n, err := h.engine.Evaluate(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		cursor, next, err := h.DB.TriggerState(ctx, w.ID)
		require.NoError(t, err)
		require.WithinDuration(t, time.Now().Add(time.Hour), next, time.Minute)
		n, err = h.engine.Evaluate(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "not due yet")

		// Due (the hour is played by moving the planned time back).
		due := time.Now().Add(-time.Second).UTC().Truncate(time.Millisecond)
		require.NoError(t, h.DB.SetTriggerState(ctx, w.ID, cursor, due))
		n, err = h.engine.Evaluate(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n, "one account matches the conditions")
		n, err = h.engine.Evaluate(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "planned an hour on")
		run := h.waitRuns(t, w.ID, 1)[0]
		require.Equal(t, m.Email, run.Email)
		require.Equal(t, roster.RunSucceeded, run.Status, run.Error)
		require.Equal(t, fmt.Sprintf("schedule:%d:%d", due.Unix(), run.AccountID), run.TriggerKey)
	})
}

func TestWaitStep(t *testing.T) {
	t.Parallel()
	eachBackend(t, smallOrg(), func(t *testing.T, h *harness) {
		ctx := context.Background()
		m, _ := h.plainMember(t)
		w := h.save(t, roster.Workflow{Name: "later", Trigger: roster.Trigger{Kind: roster.TriggerManual},
			Steps: []roster.Step{
				{ID: "pause", Kind: roster.StepWait, Duration: roster.Duration(2 * time.Second)},
				{ID: "sign-out", Kind: roster.StepSignOut},
			}})
		res, err := h.engine.RunManual(ctx, w.ID, []string{m.Email}, "operator:admin@example.com")
		require.NoError(t, err)
		start := time.Now()
		h.waitStatus(t, res.Started[0].ID, roster.RunWaiting)
		require.Zero(t, h.calls("enterprise-post-user-sessions-reset"))
		run := h.waitStatus(t, res.Started[0].ID, roster.RunSucceeded)
		require.GreaterOrEqual(t, time.Since(start), 1900*time.Millisecond)
		tl := h.timeline(t, run.ID)
		require.Equal(t, "waited 2s", tl["pause"].Detail)
		require.Equal(t, roster.StepSucceeded, tl["sign-out"].Status)
		require.Equal(t, 1, h.calls("enterprise-post-user-sessions-reset"))
		page, err := h.DB.Runs(ctx, store.RunFilter{WorkflowID: w.ID})
		require.NoError(t, err)
		require.Equal(t, 1, page.Counts[roster.RunSucceeded])
	})
}

// The inactive trigger applies the one inactivity rule: a full license
// assigned a minute ago to someone who never logged in starts nothing,
// one assigned long ago to someone who never logged in does.
func TestInactiveTriggerNewHire(t *testing.T) {
	t.Parallel()
	eachBackend(t, smallOrg(), func(t *testing.T, h *harness) {
		ctx := context.Background()
		domain := h.member(t, func(m miro.OrganizationMember) bool { return m.Email != "" }).Email
		domain = domain[strings.Index(domain, "@"):]
		hire, err := h.Sim.AddMember(mirosim.NewUser{Email: "newhire" + domain, GivenName: "New", FamilyName: "Hire",
			Role: "organization_internal_user", License: roster.LicenseFull})
		require.NoError(t, err)
		h.syncNow(t)
		w := h.save(t, tell("reclaim", roster.Trigger{Kind: roster.TriggerInactive, Days: 60},
			roster.Condition{Field: roster.CondLicense, Op: "is", Value: roster.LicenseFull}))

		// Expected by the Go rule, over what the sync stored.
		cutoff := roster.InactiveBefore(time.Now(), 60)
		accs, err := h.DB.Accounts(ctx, store.AccountFilter{License: roster.LicenseFull})
		require.NoError(t, err)
		want := map[string]bool{}
		var neverOld string
		hired := false
		for _, a := range accs {
			if a.Active && a.Email != "" && a.Inactive(cutoff) {
				want[a.Email] = true
				if a.LastActivityAt.IsZero() {
					neverOld = a.Email
				}
			}
			if a.MiroUserID == hire.ID {
				require.True(t, a.LastActivityAt.IsZero(), "the new hire never logged in")
				require.False(t, a.Inactive(cutoff))
				hired = true
			}
		}
		require.True(t, hired, "the sync stored the new hire")
		require.NotEmpty(t, neverOld, "the simulator has no full license assigned long ago and never used")

		n, err := h.engine.Evaluate(ctx)
		require.NoError(t, err)
		require.Equal(t, len(want), n)
		got := map[string]bool{}
		for _, r := range h.waitRuns(t, w.ID, n) {
			got[r.Email] = true
		}
		require.Equal(t, want, got)
		require.False(t, got["newhire"+domain], "no reclaim run for a license assigned a minute ago")
		require.True(t, got[neverOld])
	})
}
