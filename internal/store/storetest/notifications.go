package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
)

// notificationTests check store.Notifications: one record per message
// key, attempts counted, newest first, and the failed ones due again.
var notificationTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Notifications/RecordAndRetry", testNotificationRecord},
	{"Notifications/ErrInvalid", testNotificationInvalid},
	{"Notifications/ErrNotFound", testNotificationNotFound},
	{"Notifications/NewestFirstPaged", testNotificationsPaged},
	{"Notifications/Due", testNotificationsDue},
}

func notification(key string, status roster.NotificationStatus, at time.Time) roster.Notification {
	n := roster.Notification{Key: key, Channel: roster.ChannelEmail, To: []string{"it@example.com", "boss@example.com"},
		Subject: "Offboarded from Miro: ann@example.com", Text: "ann@example.com left.\n- deactivate: succeeded",
		Event: "workflow.notify", RunID: 7, Status: status, UpdatedAt: at}
	if status == roster.NotificationFailed {
		n.Error = "smtp.example.com: connection refused"
	}
	return n
}

func testNotificationRecord(t *testing.T, s store.Store) {
	first, err := s.RecordNotification(ctx(), notification("run:7:tell", roster.NotificationFailed, t0))
	require.NoError(t, err)
	require.NotZero(t, first.ID)
	require.Equal(t, 1, first.Attempts)
	require.Equal(t, t0, first.CreatedAt)
	require.Equal(t, t0, first.UpdatedAt)
	require.Equal(t, []string{"it@example.com", "boss@example.com"}, first.To)
	require.Equal(t, roster.NotificationFailed, first.Status)
	require.Equal(t, "smtp.example.com: connection refused", first.Error)
	require.True(t, first.RetryAt.IsZero())

	got, err := s.Notification(ctx(), first.ID)
	require.NoError(t, err)
	require.Equal(t, first, got)

	// The same key again: the same record, one more attempt, the new outcome.
	later := t0.Add(time.Minute)
	again := notification("run:7:tell", roster.NotificationSent, later)
	again.Subject = "Offboarded: ann@example.com"
	second, err := s.RecordNotification(ctx(), again)
	require.NoError(t, err)
	require.Equal(t, first.ID, second.ID)
	require.Equal(t, 2, second.Attempts)
	require.Equal(t, roster.NotificationSent, second.Status)
	require.Empty(t, second.Error)
	require.Equal(t, "Offboarded: ann@example.com", second.Subject)
	require.Equal(t, t0, second.CreatedAt, "created when first tried")
	require.Equal(t, later, second.UpdatedAt)

	got, err = s.Notification(ctx(), first.ID)
	require.NoError(t, err)
	require.Equal(t, second, got)

	// The same key on another channel is another message.
	slack := notification("run:7:tell", roster.NotificationSent, later)
	slack.Channel, slack.To = roster.ChannelSlack, nil
	other, err := s.RecordNotification(ctx(), slack)
	require.NoError(t, err)
	require.NotEqual(t, first.ID, other.ID)
	require.Equal(t, 1, other.Attempts)
	require.Nil(t, other.To)
}

func testNotificationInvalid(t *testing.T, s store.Store) {
	for name, n := range map[string]roster.Notification{
		"no key":     {Channel: roster.ChannelOutbox, Status: roster.NotificationSent},
		"no channel": {Key: "k", Status: roster.NotificationSent},
		"no status":  {Key: "k", Channel: roster.ChannelOutbox},
	} {
		_, err := s.RecordNotification(ctx(), n)
		require.ErrorIs(t, err, store.ErrInvalid, name)
	}
	_, err := s.Notifications(ctx(), 0, 0)
	require.ErrorIs(t, err, store.ErrInvalid)
	_, err = s.DueNotifications(ctx(), t0, 5, 501)
	require.ErrorIs(t, err, store.ErrInvalid)
	list, err := s.Notifications(ctx(), 0, 10)
	require.NoError(t, err)
	require.Empty(t, list, "nothing invalid was written")
}

func testNotificationNotFound(t *testing.T, s store.Store) {
	_, err := s.Notification(ctx(), 404)
	require.True(t, errors.Is(err, store.ErrNotFound), "got %v", err)
}

func testNotificationsPaged(t *testing.T, s store.Store) {
	var ids []int64
	for i := range 5 {
		n, err := s.RecordNotification(ctx(), notification(fmt.Sprintf("k%d", i), roster.NotificationSent, t0.Add(time.Duration(i)*time.Second)))
		require.NoError(t, err)
		ids = append(ids, n.ID)
	}
	page, err := s.Notifications(ctx(), 0, 3)
	require.NoError(t, err)
	require.Equal(t, []int64{ids[4], ids[3], ids[2]}, notificationIDs(page))
	page, err = s.Notifications(ctx(), ids[2], 3)
	require.NoError(t, err)
	require.Equal(t, []int64{ids[1], ids[0]}, notificationIDs(page))
}

func testNotificationsDue(t *testing.T, s store.Store) {
	record := func(key string, status roster.NotificationStatus, retryAt time.Time) roster.Notification {
		n := notification(key, status, t0)
		n.RetryAt = retryAt
		stored, err := s.RecordNotification(ctx(), n)
		require.NoError(t, err)
		return stored
	}
	dueLater := record("due-later", roster.NotificationFailed, t0.Add(2*time.Minute))
	dueFirst := record("due-first", roster.NotificationFailed, t0.Add(time.Minute))
	record("not-yet", roster.NotificationFailed, t0.Add(time.Hour))
	record("no-retry", roster.NotificationFailed, time.Time{})
	// Sent on a later attempt: RetryAt is cleared with the new outcome.
	record("sent", roster.NotificationFailed, t0.Add(time.Minute))
	record("sent", roster.NotificationSent, time.Time{})
	// Out of attempts.
	for range 3 {
		record("spent", roster.NotificationFailed, t0.Add(time.Minute))
	}

	due, err := s.DueNotifications(ctx(), t0.Add(10*time.Minute), 3, 10)
	require.NoError(t, err)
	require.Equal(t, []int64{dueFirst.ID, dueLater.ID}, notificationIDs(due))
	due, err = s.DueNotifications(ctx(), t0.Add(10*time.Minute), 3, 1)
	require.NoError(t, err)
	require.Equal(t, []int64{dueFirst.ID}, notificationIDs(due))
	due, err = s.DueNotifications(ctx(), t0.Add(10*time.Minute), 4, 10)
	require.NoError(t, err)
	require.Len(t, due, 3, "a fourth attempt is allowed")
}

func notificationIDs(ns []roster.Notification) []int64 {
	out := make([]int64, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}
