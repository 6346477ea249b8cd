package workflow

import (
	"context"
	"fmt"
	"time"

	"roster"
	"roster/internal/notify"
)

// An approval sent by email or Slack is reminded once before its
// timeout. The waiting step's own job wakes at the reminder point (no
// scheduler of its own; were that job lost, Reconcile re-dispatches the
// run once its lease, held until then, expires), sends the reminder
// through the request's channel, and waits again until the deadline.
// The step's recorded due time says which wait it is in: before the
// deadline, the reminder is still to come; at the deadline, it went.

// ReminderMaxLead is the most a reminder comes before the deadline.
const ReminderMaxLead = 24 * time.Hour

// reminderAt is when approval a is reminded: once 80% of its timeout has
// passed, but never more than ReminderMaxLead before the deadline
// (whichever is later); zero when no reminder is due: an approval in the
// UI (it sends nothing; the navigation's count is its reminder), or a
// timeout too short to leave a point between asking and the deadline.
func reminderAt(a roster.Approval, via string) time.Time {
	if via == roster.ChannelUI || a.ExpiresAt.IsZero() || a.CreatedAt.IsZero() {
		return time.Time{}
	}
	timeout := a.ExpiresAt.Sub(a.CreatedAt)
	lead := min(timeout/5, ReminderMaxLead)
	at := a.ExpiresAt.Add(-lead).Truncate(time.Millisecond)
	if lead < time.Second || !at.After(a.CreatedAt) {
		return time.Time{}
	}
	return at
}

// remind sends approval a's reminder under its own key (a retry after a
// crash sends under the same key, which the record counts as a second
// attempt and a receiver can drop). It fails no run: a reminder that
// cannot be sent is recorded as failed, and one that may pass is sent
// again by Reconcile; the words say what happened, for the timeline.
func (e *Engine) remind(ctx context.Context, run roster.WorkflowRun, step roster.Step, a roster.Approval) string {
	now := e.now()
	text, err := e.approvalText(ctx, run, a, fmt.Sprintf("Reminder: workflow %s still waits for your answer about %s, until %s.",
		run.WorkflowName, run.Email, stamp(a.ExpiresAt)))
	if err == nil {
		var to []string
		if step.Via == roster.ChannelEmail {
			to = []string{a.Approver}
		}
		err = e.send(ctx, notify.Message{Key: ActionKey(run.ID, step.ID) + ":remind", Channel: step.Via, To: to,
			Subject: fmt.Sprintf("Reminder: approval needed by %s: %s for %s", stamp(a.ExpiresAt), run.WorkflowName, run.Email),
			Text:    text, Event: "workflow.approval_reminder",
			Data: map[string]any{"run_id": run.ID, "workflow": run.WorkflowName, "email": run.Email, "step": step.ID,
				"approver": a.Approver, "approve_url": e.LinkURL(a, true), "deny_url": e.LinkURL(a, false),
				"expires_at": a.ExpiresAt, "reminder": true},
			RunID: run.ID, RetryAfter: NoticeRetryAfter})
	}
	if err != nil {
		e.logger().WarnContext(ctx, "approval reminder not sent", "run", run.ID, "step", step.ID, "error", err)
		return fmt.Sprintf("the reminder could not be sent at %s: %v", stamp(now), err)
	}
	return fmt.Sprintf("reminded at %s", stamp(now))
}

// approvalText is the body of an approval's request or reminder: the
// question, the context, the signed links and the deadline.
func (e *Engine) approvalText(ctx context.Context, run roster.WorkflowRun, a roster.Approval, question string) (string, error) {
	c, err := e.ExplainApproval(ctx, a, run)
	if err != nil {
		return "", fmt.Errorf("explain approval %d: %w", a.ID, err)
	}
	return fmt.Sprintf("%s\n\n%s\n\nApprove: %s\nDeny: %s\n\nThe links expire at %s; without an answer by then the workflow takes its timeout branch. You can also answer in roster: %s",
		question, c.Text(e.now()), e.LinkURL(a, true), e.LinkURL(a, false), stamp(a.ExpiresAt), e.runURL(run.ID)), nil
}
