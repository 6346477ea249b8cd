package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/notify"
	"roster/internal/notify/notifytest"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// notifyYAML is a manual workflow with one notify step on channel.
func notifyYAML(name string, conn int64, channel string) string {
	return fmt.Sprintf(`name: %s
connection: %d
trigger:
  kind: manual
steps:
  - id: tell
    kind: notify
    channel: %s
    subject: "%s: {{.Email}}"
    text: "{{.Email}} was told by %s."
`, name, conn, channel, name, channel)
}

// TestSentNotifications: the page lists what the outbox kept and what the
// webhook refused, newest first, and an admin's Retry sends the refused
// one again under its key; viewers cannot read or retry.
func TestSentNotifications(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		ctx := context.Background()
		f := newWFFixture(t, db)
		hook := notifytest.NewWebhook(t, "hook-secret")
		n, err := notify.New(notify.Config{WebhookURL: hook.URL(), WebhookSecret: "hook-secret"})
		require.NoError(t, err)
		f.eng.Notifier = &notify.Outbox{Log: db, Next: n}
		br := f.loggedIn(t, roster.RoleAdmin)
		acc := f.member(t)

		empty := br.mustGet("/workflows/notifications")
		require.Contains(t, empty.Body, "No notification has been sent yet")

		// The outbox keeps its message; the webhook refuses its own (400:
		// retrying by itself cannot help) and the step fails.
		outboxRun := f.startRun(t, br, f.createWorkflow(t, br, notifyYAML("kept", f.org.ID, "outbox")), acc.Email)
		f.work(t)
		require.Equal(t, roster.RunSucceeded, f.run(t, outboxRun).Status)
		hook.FailNext(1, http.StatusBadRequest)
		hookRun := f.startRun(t, br, f.createWorkflow(t, br, notifyYAML("hooked", f.org.ID, "webhook")), acc.Email)
		f.work(t)
		require.Equal(t, roster.RunFailed, f.run(t, hookRun).Status)
		require.Empty(t, hook.Deliveries())

		list, err := db.Notifications(ctx, 0, 10)
		require.NoError(t, err)
		require.Len(t, list, 2)
		failed, kept := list[0], list[1]
		require.Equal(t, roster.NotificationFailed, failed.Status)
		require.Equal(t, hookRun, failed.RunID)
		require.Equal(t, roster.NotificationSent, kept.Status)
		require.Equal(t, outboxRun, kept.RunID)

		p := br.mustGet("/workflows/notifications")
		doc := parseHTML(t, p.Body)
		tables := findAll(doc, "table", "notifications")
		require.Len(t, tables, 1)
		require.True(t, hasClass(tables[0], "stack"), "rows stack on phones")
		rows := findAll(tables[0], "tr", "")[1:] // past the header
		require.Len(t, rows, 2)
		require.Equal(t, fmt.Sprintf("notification-%d", failed.ID), attr(rows[0], "id"), "newest first")
		first := text(rows[0])
		require.Contains(t, first, "hooked: "+acc.Email)
		require.Contains(t, first, "webhook")
		require.Contains(t, first, "failed")
		require.Contains(t, first, "400 Bad Request")
		require.Contains(t, p.Body, fmt.Sprintf(`action="/workflows/notifications/%d/retry"`, failed.ID))
		require.NotContains(t, p.Body, fmt.Sprintf(`/workflows/notifications/%d/retry"`, kept.ID), "nothing to retry once sent")
		second := text(rows[1])
		require.Contains(t, second, "kept: "+acc.Email)
		require.Contains(t, second, acc.Email+" was told by outbox.")
		require.Contains(t, second, "outbox")
		require.Contains(t, second, "sent")
		for _, td := range findAll(rows[1], "td", "")[:7] {
			require.NotEmpty(t, attr(td, "data-label"), "each cell names its column on phones")
		}
		require.Contains(t, p.Body, `href="/workflows/notifications" aria-current="page"`)

		// Viewers can neither read (approval requests carry their links)
		// nor retry; a retry without the CSRF token is refused.
		retry := fmt.Sprintf("/workflows/notifications/%d/retry", failed.ID)
		viewer := f.loggedIn(t, roster.RoleViewer)
		require.Equal(t, http.StatusForbidden, viewer.get("/workflows/notifications").StatusCode)
		require.Equal(t, http.StatusForbidden, viewer.post(retry, nil).StatusCode)
		require.NotContains(t, viewer.mustGet("/workflows").Body, "/workflows/notifications")
		require.Equal(t, http.StatusForbidden, br.do(http.MethodPost, retry, url.Values{}).StatusCode)
		require.Empty(t, hook.Deliveries())

		// The admin retries: sent under the step's key, one more attempt.
		r := br.post(retry, nil)
		require.Equal(t, http.StatusSeeOther, r.StatusCode, r.Body)
		require.Equal(t, fmt.Sprintf("/workflows/notifications?resent=%d", failed.ID), r.location())
		got := hook.Deliveries()
		require.Len(t, got, 1)
		require.Equal(t, failed.Key, got[0].Header.Get(notify.HeaderIdempotencyKey))
		require.Equal(t, "hooked: "+acc.Email, got[0].JSON["subject"])
		after, err := db.Notification(ctx, failed.ID)
		require.NoError(t, err)
		require.Equal(t, roster.NotificationSent, after.Status)
		require.Equal(t, 2, after.Attempts)
		require.Empty(t, after.Error)
		p = br.mustGet(r.location())
		require.Contains(t, p.Body, "Sent again by webhook")
		require.NotContains(t, p.Body, retry, "sent: no Retry any more")
		audit, err := db.AuditEntries(ctx, store.AuditFilter{Kind: "workflow"})
		require.NoError(t, err)
		var resent []roster.AuditEntry
		for _, e := range audit {
			if e.Action == "notification_resent" {
				resent = append(resent, e)
			}
		}
		require.Len(t, resent, 1)
		require.Equal(t, "ok", resent[0].Result)
		require.Contains(t, resent[0].Actor, "admin")

		// No such message.
		require.Equal(t, http.StatusNotFound, br.post("/workflows/notifications/999999/retry", nil).StatusCode)
	})
}

// TestSentNotificationsPaged: 50 a page, newest first, with a link to the
// older ones.
func TestSentNotificationsPaged(t *testing.T) {
	t.Parallel()
	f := newWFFixture(t, openSQLite(t))
	ctx := context.Background()
	for i := range notificationsPageSize + 3 {
		_, err := f.db.RecordNotification(ctx, roster.Notification{Key: fmt.Sprintf("k%d", i), Channel: roster.ChannelOutbox,
			Subject: fmt.Sprintf("message %d", i), Status: roster.NotificationSent})
		require.NoError(t, err)
	}
	br := f.loggedIn(t, roster.RoleAdmin)
	p := br.mustGet("/workflows/notifications")
	rows := findAll(findAll(parseHTML(t, p.Body), "table", "notifications")[0], "tr", "")[1:]
	require.Len(t, rows, notificationsPageSize)
	require.Contains(t, text(rows[0]), fmt.Sprintf("message %d", notificationsPageSize+2))
	list, err := f.db.Notifications(ctx, 0, notificationsPageSize)
	require.NoError(t, err)
	older := fmt.Sprintf("/workflows/notifications?before=%d", list[len(list)-1].ID)
	require.Contains(t, p.Body, `href="`+older+`"`)

	p = br.mustGet(older)
	rows = findAll(findAll(parseHTML(t, p.Body), "table", "notifications")[0], "tr", "")[1:]
	require.Len(t, rows, 3)
	require.Contains(t, text(rows[2]), "message 0")
	require.NotContains(t, p.Body, "?before=", "the last page links no older one")
	require.Contains(t, p.Body, `href="/workflows/notifications">Newest`)
	require.Equal(t, http.StatusBadRequest, br.get("/workflows/notifications?before=x").StatusCode)
}
