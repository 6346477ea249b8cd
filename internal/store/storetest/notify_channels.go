package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
)

// notifyChannelTests check the notification channels' saved settings:
// one row per channel, replaced by a save, each save and removal audited
// in the same transaction.
var notifyChannelTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"NotifyChannels/SaveReplaceDelete", testNotifyChannelsSave},
	{"NotifyChannels/ErrInvalid", testNotifyChannelsInvalid},
	{"NotifyChannels/ErrNotFound", testNotifyChannelsNotFound},
}

func channelAudit(action, channel string) roster.AuditEntry {
	return roster.AuditEntry{Actor: "operator:admin@example.com", Kind: "settings", Action: action,
		Target: "notification channel " + channel, Result: "ok"}
}

func testNotifyChannelsSave(t *testing.T, s store.Store) {
	none, err := s.ChannelSettings(ctx())
	require.NoError(t, err)
	require.Empty(t, none)

	hook := roster.ChannelSettings{Channel: roster.ChannelWebhook, Sealed: []byte{0, 1, 2, 0xff}, UpdatedBy: "operator:admin@example.com"}
	require.NoError(t, s.SaveChannelSettings(ctx(), hook, channelAudit("save_notification_channel", "webhook")))
	mail := roster.ChannelSettings{Channel: roster.ChannelEmail, Sealed: []byte("sealed mail"), UpdatedBy: "operator:ann@example.com"}
	require.NoError(t, s.SaveChannelSettings(ctx(), mail, channelAudit("save_notification_channel", "email")))

	got, err := s.ChannelSettings(ctx())
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, roster.ChannelEmail, got[0].Channel, "by channel name")
	require.Equal(t, []byte("sealed mail"), got[0].Sealed)
	require.Equal(t, "operator:ann@example.com", got[0].UpdatedBy)
	require.Equal(t, roster.ChannelWebhook, got[1].Channel)
	require.Equal(t, []byte{0, 1, 2, 0xff}, got[1].Sealed, "bytes kept as given")
	first := got[1].UpdatedAt
	require.False(t, first.IsZero())
	require.Equal(t, "UTC", first.Location().String())

	// A second save replaces the channel's row.
	hook.Sealed, hook.UpdatedBy = []byte("new"), "operator:bob@example.com"
	require.NoError(t, s.SaveChannelSettings(ctx(), hook, channelAudit("save_notification_channel", "webhook")))
	got, err = s.ChannelSettings(ctx())
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, []byte("new"), got[1].Sealed)
	require.Equal(t, "operator:bob@example.com", got[1].UpdatedBy)
	require.False(t, got[1].UpdatedAt.Before(first))

	require.NoError(t, s.DeleteChannelSettings(ctx(), roster.ChannelWebhook, channelAudit("remove_notification_channel", "webhook")))
	got, err = s.ChannelSettings(ctx())
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, roster.ChannelEmail, got[0].Channel)

	entries, err := s.AuditEntries(ctx(), store.AuditFilter{Kind: "settings"})
	require.NoError(t, err)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action+" "+e.Target)
	}
	require.ElementsMatch(t, []string{
		"save_notification_channel notification channel webhook",
		"save_notification_channel notification channel email",
		"save_notification_channel notification channel webhook",
		"remove_notification_channel notification channel webhook",
	}, actions)
}

func testNotifyChannelsInvalid(t *testing.T, s store.Store) {
	audits := auditCount(t, s)
	for name, c := range map[string]roster.ChannelSettings{
		"unknown channel": {Channel: "pigeon", Sealed: []byte("x"), UpdatedBy: "operator:a@example.com"},
		"outbox":          {Channel: roster.ChannelOutbox, Sealed: []byte("x"), UpdatedBy: "operator:a@example.com"},
		"nothing sealed":  {Channel: roster.ChannelSlack, UpdatedBy: "operator:a@example.com"},
		"nobody":          {Channel: roster.ChannelSlack, Sealed: []byte("x")},
	} {
		err := s.SaveChannelSettings(ctx(), c, channelAudit("save_notification_channel", c.Channel))
		require.ErrorIs(t, err, store.ErrInvalid, name)
	}
	// An audit entry the log refuses refuses the save.
	err := s.SaveChannelSettings(ctx(), roster.ChannelSettings{Channel: roster.ChannelSlack, Sealed: []byte("x"),
		UpdatedBy: "operator:a@example.com"}, roster.AuditEntry{})
	require.ErrorIs(t, err, store.ErrInvalid)
	got, err := s.ChannelSettings(ctx())
	require.NoError(t, err)
	require.Empty(t, got, "nothing refused was saved")
	require.Equal(t, audits, auditCount(t, s), "nothing refused was audited")
}

func testNotifyChannelsNotFound(t *testing.T, s store.Store) {
	audits := auditCount(t, s)
	err := s.DeleteChannelSettings(ctx(), roster.ChannelSlack, channelAudit("remove_notification_channel", "slack"))
	require.ErrorIs(t, err, store.ErrNotFound)
	require.Equal(t, audits, auditCount(t, s), "removing nothing is not audited")
}
