package workflow

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"roster"
	"roster/internal/notify"
)

// A failure notice that could not be sent for a reason that may pass is
// sent again by Reconcile (the engine's periodic pass, no scheduler of its
// own), NoticeRetryAfter after each failed attempt, up to NoticeAttempts
// attempts in all. Later, only an admin's retry sends it.
const (
	NoticeRetryAfter = 5 * time.Minute
	NoticeAttempts   = 6
)

// resendDue sends again the recorded notices that are due. A failure is
// logged, not returned: it must not hold up the runs Reconcile
// dispatches, and the record keeps the reason.
func (e *Engine) resendDue(ctx context.Context) {
	if e.Notifier == nil {
		return
	}
	due, err := e.Store.DueNotifications(ctx, e.now(), NoticeAttempts, 100)
	if err != nil {
		e.logger().ErrorContext(ctx, "read the notifications due again", "error", err)
		return
	}
	for _, n := range due {
		m, err := notify.Resend(n)
		if err != nil {
			continue
		}
		m.RetryAfter = NoticeRetryAfter
		if err := e.Notifier.Send(ctx, m); err != nil {
			e.logger().WarnContext(ctx, "notification sent again and failed", "notification", n.ID,
				"attempt", n.Attempts+1, "error", err)
		}
	}
}

// ResendNotification sends a recorded notification again under its key,
// for an admin's retry; the record counts the attempt and its outcome.
// The error is the channel's, or store.ErrNotFound.
func (e *Engine) ResendNotification(ctx context.Context, id int64, actor string) (roster.Notification, error) {
	n, err := e.Store.Notification(ctx, id)
	if err != nil {
		return n, fmt.Errorf("read notification %d: %w", id, err)
	}
	m, err := notify.Resend(n)
	if err != nil {
		return n, fmt.Errorf("notification %d: %w", id, err)
	}
	sendErr := e.send(ctx, m)
	now := e.now()
	result, detail := "ok", "notification "+strconv.FormatInt(id, 10)+" sent again by "+n.Channel
	if sendErr != nil {
		result, detail = "failed", detail+": "+sendErr.Error()
	}
	if err := e.Store.AppendAudit(ctx, &roster.AuditEntry{At: now, Actor: actor, Kind: "workflow",
		Action: "notification_resent", Target: n.Subject, Result: result, Detail: detail}); err != nil {
		e.logger().ErrorContext(ctx, "audit a notification resent", "notification", id, "error", err)
	}
	if stored, err := e.Store.Notification(ctx, id); err == nil {
		n = stored
	}
	if sendErr != nil {
		return n, fmt.Errorf("send notification %d again: %w", id, sendErr)
	}
	return n, nil
}

// channelProblem is why a notification by channel cannot be sent as
// configured now, or "" when it can (or the notifier cannot say).
func (e *Engine) channelProblem(channel string) string {
	if e.Notifier == nil {
		return "no notification channel is configured"
	}
	c, ok := e.Notifier.(interface{ Channels() map[string]string })
	if !ok {
		return ""
	}
	reason, known := c.Channels()[channel]
	if !known {
		return fmt.Sprintf("%q is not a configured channel", channel)
	}
	// "slack: --slack-webhook-url is not set": the caller names the channel.
	return strings.TrimPrefix(reason, channel+": ")
}
