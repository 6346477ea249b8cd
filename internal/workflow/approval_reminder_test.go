package workflow_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/testkit"
	"roster/internal/workflow"
)

// TestApprovalContextAndReminder: an approval asked by email carries its
// context (who, why, license and price under the contract, what
// approving does and saves); once 80% of its timeout has passed, the
// engine's periodic Reconcile (on a fake clock) has the waiting run remind
// the approver, once, by the same channel, recorded as any notification;
// at the deadline the run takes its timeout branch with no second
// reminder.
func TestApprovalContextAndReminder(t *testing.T) {
	t.Parallel()
	eachBackend(t, smallOrg(), func(t *testing.T, h *harness) {
		ctx := context.Background()
		clock := testkit.NewClock()
		h.engine.Now = clock.Now // before any run: the step jobs read it

		// A yearly price: the approval shows the contract's monthly price.
		require.NoError(t, h.DB.SaveContract(ctx, roster.Contract{OrgID: h.Info.OrgID, Currency: "EUR", Billing: roster.BillingYearly,
			Licenses: map[string]roster.LicenseTerms{roster.LicenseFull: {Price: 144}}}, roster.AuditEntry{Actor: "test", Kind: "settings", Action: "contract_saved"}))
		m, _ := h.plainMember(t)
		h.person(t, roster.Person{Email: m.Email, Name: "Ann Example", Status: roster.PersonActive})
		w := h.save(t, roster.Workflow{Name: "ask-then-deactivate", Trigger: roster.Trigger{Kind: roster.TriggerManual},
			Steps: []roster.Step{
				{ID: "ask", Kind: roster.StepApproval, Approver: "boss@example.com", Via: roster.ChannelEmail, Timeout: roster.Duration(10 * time.Hour)},
				{ID: "off", Kind: roster.StepDeactivate},
			}})
		res, err := h.engine.RunManual(ctx, w.ID, []string{m.Email}, "operator:admin@example.com")
		require.NoError(t, err)
		runID := res.Started[0].ID
		h.waitStatus(t, runID, roster.RunWaiting)
		a, err := h.DB.ApprovalFor(ctx, runID, "ask")
		require.NoError(t, err)
		require.Equal(t, roster.ApprovalPending, a.Status)

		// The request: the context, then the links.
		asked := h.smtp.Wait(t, 1, 10*time.Second)[0]
		require.Equal(t, []string{"boss@example.com"}, asked.To)
		for _, want := range []string{
			fmt.Sprintf("Who: Ann Example <%s>", m.Email),
			"Why: manual, by operator:admin@example.com",
			"License: Full, 12.00 EUR a month",
			"Approving will:\n- off: deactivate in the organization, freeing the Full license",
			"Approving frees the Full license: it saves 12.00 EUR a month.",
			"Last activity: ",
		} {
			require.Contains(t, asked.Body, want)
		}
		require.NotEmpty(t, linkFrom(t, asked.Body, "Approve"))

		// The run waits for the reminder point: 80% of 10 h (2 h before
		// the deadline, less than the 24 h cap).
		remindAt := a.ExpiresAt.Add(-2 * time.Hour)
		step := h.timeline(t, runID)["ask"]
		require.Equal(t, roster.StepWaiting, step.Status)
		require.Equal(t, remindAt, step.DueAt)
		require.Contains(t, step.Detail, "a reminder goes at "+remindAt.UTC().Format("2006-01-02 15:04 UTC"))

		// Just before the point: Reconcile leaves the run alone.
		clock.Add(remindAt.Sub(clock.Now()) - time.Minute)
		_, err = h.engine.Reconcile(ctx)
		require.NoError(t, err)
		require.Len(t, h.smtp.Messages(), 1)

		// Past it: the run's job (dispatched again by Reconcile, as the
		// clock is fake) reminds by email, and waits for the deadline.
		clock.Add(2 * time.Minute)
		n, err := h.engine.Reconcile(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		mails := h.smtp.Wait(t, 2, 10*time.Second)
		reminder := mails[1]
		require.Equal(t, []string{"boss@example.com"}, reminder.To)
		require.True(t, strings.HasPrefix(reminder.Subject, "Reminder: approval needed by"), reminder.Subject)
		require.Contains(t, reminder.Body, "License: Full, 12.00 EUR a month")
		require.Equal(t, linkFrom(t, asked.Body, "Approve"), linkFrom(t, reminder.Body, "Approve"), "the same signed links")
		require.Eventually(t, func() bool {
			s := h.timeline(t, runID)["ask"]
			return s.Status == roster.StepWaiting && s.DueAt.Equal(a.ExpiresAt)
		}, 10*time.Second, 20*time.Millisecond)
		require.Contains(t, h.timeline(t, runID)["ask"].Detail, "reminded at")

		// Recorded like any notification, under its own key.
		list, err := h.DB.Notifications(ctx, 0, 10)
		require.NoError(t, err)
		var recorded []roster.Notification
		for _, n := range list {
			if n.Key == workflow.ActionKey(runID, "ask")+":remind" {
				recorded = append(recorded, n)
			}
		}
		require.Len(t, recorded, 1)
		require.Equal(t, roster.NotificationSent, recorded[0].Status)
		require.Equal(t, roster.ChannelEmail, recorded[0].Channel)
		require.Equal(t, runID, recorded[0].RunID)
		require.Equal(t, 1, recorded[0].Attempts)

		// Another pass before the deadline sends nothing more.
		clock.Add(time.Hour)
		_, err = h.engine.Reconcile(ctx)
		require.NoError(t, err)

		// Past the deadline: Reconcile dispatches the run again. River
		// runs that job at the run's last (fake) update, hours ahead of
		// the real clock, so the test works it as River would then.
		clock.Add(2 * time.Hour)
		n, err = h.engine.Reconcile(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		run, err := h.DB.Run(ctx, runID)
		require.NoError(t, err)
		require.NoError(t, h.engine.Work(ctx, workflow.StepJob{RunID: runID, Position: run.Position, Generation: run.Generation}, 1, 4))
		done := h.waitStatus(t, runID, roster.RunSucceeded)
		require.Contains(t, h.timeline(t, runID)["ask"].Branch, "timed out")
		a, err = h.DB.Approval(ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, roster.ApprovalTimedOut, a.Status)
		require.Len(t, h.smtp.Messages(), 2, "one request, one reminder")
		require.True(t, h.orgMember(t, m.ID).Active, "not approved: still active (run %d)", done.ID)
	})
}
