package workflow_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/notify"
	"roster/internal/workflow"
)

// TestOffboardingOutboxByDefault: with no channel configured, as in
// roster demo, the offboarding template reports to the outbox, so the run
// succeeds and the message is there to read; the dry run warns about a
// channel that is not set instead of promising to send by it.
func TestOffboardingOutboxByDefault(t *testing.T) {
	t.Parallel()
	eachBackend(t, smallOrg(), func(t *testing.T, h *harness) {
		ctx := context.Background()
		nothing, err := notify.New(notify.Config{})
		require.NoError(t, err)
		// Set before any run starts: the step workers read it after.
		h.engine.Notifier = &notify.Outbox{Log: h.DB, Next: nothing}

		m, teams := h.plainMember(t)
		require.NotEmpty(t, teams)
		p := h.person(t, roster.Person{Email: m.Email, Name: "Leaver", Status: roster.PersonActive})

		// A webhook that is not set: the dry run says so.
		hooked, err := workflow.Template("offboarding", workflow.TemplateOptions{NotifyChannel: roster.ChannelWebhook})
		require.NoError(t, err)
		hooked.ConnectionID = h.conn.ID
		dry, err := h.engine.Preview(ctx, hooked, []string{m.Email})
		require.NoError(t, err)
		require.Empty(t, dry.Runs)
		require.Len(t, dry.Excluded, 1)
		require.Equal(t, "step tell-it would fail: cannot send by webhook: --webhook-url is not set", dry.Excluded[0].Reason)

		w, err := workflow.Template("offboarding", workflow.TemplateOptions{})
		require.NoError(t, err)
		require.Equal(t, roster.ChannelOutbox, w.Steps[3].Channel, "the template's default")
		require.Equal(t, roster.ChannelOutbox, w.OnFailure.Channel)
		w = h.save(t, w)
		dry, err = h.engine.Preview(ctx, w, []string{m.Email})
		require.NoError(t, err)
		require.Len(t, dry.Runs, 1, "nothing blocks: %+v", dry.Excluded)
		require.Equal(t, `send by outbox: "Offboarded from Miro: `+m.Email+`"`, dry.Runs[0].Steps[3].Plan)

		p.Status = roster.PersonLeft
		require.NoError(t, h.DB.UpdatePerson(ctx, &p))
		n, err := h.engine.Evaluate(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		run := h.waitRuns(t, w.ID, 1)[0]
		require.Equal(t, roster.RunSucceeded, run.Status, run.Error)
		require.Equal(t, "sent by outbox", h.timeline(t, run.ID)["tell-it"].Detail)
		require.False(t, h.orgMember(t, m.ID).Active, "deactivated in Miro")
		require.Empty(t, h.teamsOf(t, m.ID))

		sent, err := h.DB.Notifications(ctx, 0, 10)
		require.NoError(t, err)
		require.Len(t, sent, 1)
		got := sent[0]
		require.Equal(t, roster.ChannelOutbox, got.Channel)
		require.Equal(t, roster.NotificationSent, got.Status)
		require.Equal(t, run.ID, got.RunID)
		require.Equal(t, 1, got.Attempts)
		require.Equal(t, "Offboarded from Miro: "+m.Email, got.Subject)
		require.Contains(t, got.Text, "deactivate: succeeded")
		require.Equal(t, workflow.ActionKey(run.ID, "tell-it"), got.Key)
	})
}

// TestFailureNoticeRetried: a failure notice the webhook answers 503 is
// recorded as failed and due again; Reconcile sends it once it is due,
// and the record counts the second attempt.
func TestFailureNoticeRetried(t *testing.T) {
	t.Parallel()
	eachBackend(t, smallOrg(), func(t *testing.T, h *harness) {
		ctx := context.Background()
		outbox := h.outbox

		m, _ := h.plainMember(t)
		// The directory names no manager: the step fails for good.
		w := h.save(t, roster.Workflow{Name: "tell-the-manager", Trigger: roster.Trigger{Kind: roster.TriggerManual},
			Steps: []roster.Step{{ID: "tell", Kind: roster.StepNotify, Channel: roster.ChannelEmail,
				To: []string{roster.ApproverManager}, Text: "{{.Email}}"}},
			OnFailure: &roster.Step{Channel: roster.ChannelWebhook, Subject: "failed: {{.Email}}", Text: "{{.Error}}"}})
		h.hook.FailNext(1, http.StatusServiceUnavailable)
		_, err := h.engine.RunManual(ctx, w.ID, []string{m.Email}, "operator:admin@example.com")
		require.NoError(t, err)
		run := h.waitRuns(t, w.ID, 1)[0]
		require.Equal(t, roster.RunFailed, run.Status)

		var notice roster.Notification
		require.Eventually(t, func() bool {
			list, err := h.DB.Notifications(ctx, 0, 10)
			if err != nil || len(list) != 1 {
				return false
			}
			notice = list[0]
			return true
		}, 10*time.Second, 20*time.Millisecond)
		require.Equal(t, roster.NotificationFailed, notice.Status)
		require.Equal(t, roster.ChannelWebhook, notice.Channel)
		require.Equal(t, run.ID, notice.RunID)
		require.Contains(t, notice.Error, "503")
		require.Equal(t, notice.UpdatedAt.Add(workflow.NoticeRetryAfter), notice.RetryAt)
		require.Empty(t, h.hook.Deliveries())

		// Not due yet: nothing is sent.
		early := &workflow.Engine{Store: h.DB, Notifier: outbox, Jobs: h.runner,
			Now: func() time.Time { return notice.RetryAt.Add(-time.Second) }}
		_, err = early.Reconcile(ctx)
		require.NoError(t, err)
		require.Empty(t, h.hook.Deliveries())

		due := &workflow.Engine{Store: h.DB, Notifier: outbox, Jobs: h.runner,
			Now: func() time.Time { return notice.RetryAt.Add(time.Second) }}
		_, err = due.Reconcile(ctx)
		require.NoError(t, err)
		got := h.hook.Deliveries()
		require.Len(t, got, 1)
		require.Equal(t, "failed: "+m.Email, got[0].JSON["subject"])
		require.Equal(t, notice.Key, got[0].Header.Get(notify.HeaderIdempotencyKey))
		after, err := h.DB.Notification(ctx, notice.ID)
		require.NoError(t, err)
		require.Equal(t, roster.NotificationSent, after.Status)
		require.Equal(t, 2, after.Attempts)
		require.True(t, after.RetryAt.IsZero())
		require.True(t, strings.HasPrefix(after.Text, "step tell failed"), after.Text)

		// Sent: a later pass sends nothing more.
		_, err = due.Reconcile(ctx)
		require.NoError(t, err)
		require.Len(t, h.hook.Deliveries(), 1)
	})
}
