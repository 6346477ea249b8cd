package notify_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster/internal/notify"
	"roster/internal/notify/notifytest"
	"roster/internal/secret"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
)

const admin = "operator:admin@example.com"

func newSealer(t *testing.T) *secret.Sealer {
	t.Helper()
	k, _, err := secret.NewKey()
	require.NoError(t, err)
	return secret.NewSealer(k)
}

func newChannels(t *testing.T, flags notify.Config, db *sqlstore.DB, s notify.Sealer) *notify.Channels {
	t.Helper()
	c, err := notify.NewChannels(flags, db, s)
	require.NoError(t, err)
	return c
}

// sealedRows are the raw sealed column of every saved channel.
func sealedRows(t *testing.T, db *sqlstore.DB) [][]byte {
	t.Helper()
	rows, err := db.SQL().Query(`SELECT sealed FROM notification_channels`)
	require.NoError(t, err)
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b []byte
		require.NoError(t, rows.Scan(&b))
		out = append(out, b)
	}
	require.NoError(t, rows.Err())
	return out
}

// TestChannelsSaved: a channel saved in the dashboard sends, sealed at
// rest, and says where to set a channel that is not set.
func TestChannelsSaved(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		t.Parallel()
		ctx := context.Background()
		c := newChannels(t, notify.Config{}, db, newSealer(t))
		require.Equal(t, map[string]string{
			"email":   "email: not set; set it under Settings → Notifications or with --smtp-addr",
			"slack":   "slack: not set; set it under Settings → Notifications or with --slack-webhook-url",
			"webhook": "webhook: not set; set it under Settings → Notifications or with --webhook-url",
		}, c.Channels())
		err := c.Send(ctx, notify.Message{Key: "k", Channel: notify.ChannelWebhook, Text: "x"})
		require.ErrorIs(t, err, notify.ErrNotConfigured)

		const hookSecret = "hook-signing-secret-42"
		hook := notifytest.NewWebhook(t, hookSecret)
		smtp := notifytest.NewSMTP(t)
		slack := notifytest.NewSlack(t)
		require.NoError(t, c.Save(ctx, notify.ChannelWebhook, notify.Config{WebhookURL: hook.URL(), WebhookSecret: hookSecret}, admin))
		require.NoError(t, c.Save(ctx, notify.ChannelEmail, notify.Config{SMTPAddr: smtp.Addr(), SMTPFrom: "roster@example.com",
			SMTPUsername: "mailer", SMTPPassword: "smtp-pass-99", SMTPTLS: "none"}, admin))
		require.NoError(t, c.Save(ctx, notify.ChannelSlack, notify.Config{SlackWebhookURL: slack.URL()}, admin))
		require.Equal(t, map[string]string{"email": "", "slack": "", "webhook": ""}, c.Channels())

		require.NoError(t, c.Send(ctx, notify.Message{Key: "k1", Channel: notify.ChannelWebhook, Subject: "s", Text: "hello hook"}))
		require.Equal(t, "hello hook", hook.Wait(t, 1, wait)[0].JSON["text"], "signed with the saved secret")
		require.NoError(t, c.Send(ctx, notify.Message{Key: "k2", Channel: notify.ChannelEmail, To: []string{"ann@example.com"}, Text: "hello mail"}))
		got := smtp.Wait(t, 1, wait)[0]
		require.Equal(t, "mailer", got.Username)
		require.Equal(t, "roster@example.com", got.From)
		require.NoError(t, c.Send(ctx, notify.Message{Key: "k3", Channel: notify.ChannelSlack, Text: "hello slack"}))
		require.Equal(t, "hello slack", slack.Wait(t, 1, wait)[0].Text)

		// Sealed at rest: no secret, nor even the settings, in the clear.
		rows := sealedRows(t, db)
		require.Len(t, rows, 3)
		for _, raw := range rows {
			for _, s := range []string{hookSecret, "smtp-pass-99", "notifytest-secret", "roster@example.com"} {
				require.False(t, bytes.Contains(raw, []byte(s)), "%q stored in the clear", s)
			}
		}

		// The states show values but only whether a secret is set.
		states, err := c.States(ctx)
		require.NoError(t, err)
		require.Len(t, states, 3)
		email, sl, wh := states[0], states[1], states[2]
		require.Equal(t, []string{"email", "slack", "webhook"}, []string{email.Channel, sl.Channel, wh.Channel})
		require.True(t, email.Saved)
		require.Empty(t, email.SetBy)
		require.Equal(t, admin, email.UpdatedBy)
		require.Equal(t, smtp.Addr(), email.Value("smtp_addr"))
		require.Equal(t, "mailer", email.Value("smtp_username"))
		require.Empty(t, email.Value("smtp_password"))
		require.True(t, email.SecretSet("smtp_password"))
		require.True(t, sl.SecretSet("slack_webhook_url"))
		require.Empty(t, sl.Value("slack_webhook_url"))
		require.Equal(t, hook.URL(), wh.Value("webhook_url"))
		require.True(t, wh.SecretSet("webhook_secret"))

		// Removed: not set again, and a second removal finds nothing.
		require.NoError(t, c.Remove(ctx, notify.ChannelWebhook, admin))
		require.Contains(t, c.Channels()["webhook"], "webhook: not set")
		require.ErrorIs(t, c.Remove(ctx, notify.ChannelWebhook, admin), store.ErrNotFound)

		entries, err := db.AuditEntries(ctx, store.AuditFilter{Kind: "settings"})
		require.NoError(t, err)
		require.Len(t, entries, 4)
		for _, e := range entries {
			for _, s := range []string{hookSecret, "smtp-pass-99", "notifytest-secret"} {
				require.NotContains(t, e.Detail, s, "the audit log holds no secret")
			}
		}
	})
}

// TestChannelsFlagsWin: a channel any of whose flags is set takes the
// flags' settings, whatever is saved; the others take the saved ones.
func TestChannelsFlagsWin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.Open(t, storetest.SQLiteDSN(t))
	sealer := newSealer(t)
	flagged := notifytest.NewWebhook(t, "flag-secret")
	saved := notifytest.NewWebhook(t, "saved-secret")
	smtp := notifytest.NewSMTP(t)

	// Saved first, by a process without flags.
	plain := newChannels(t, notify.Config{}, db, sealer)
	require.NoError(t, plain.Save(ctx, notify.ChannelWebhook, notify.Config{WebhookURL: saved.URL(), WebhookSecret: "saved-secret"}, admin))
	require.NoError(t, plain.Save(ctx, notify.ChannelEmail, notify.Config{SMTPAddr: smtp.Addr(), SMTPFrom: "roster@example.com"}, admin))

	c := newChannels(t, notify.Config{WebhookURL: flagged.URL(), WebhookSecret: "flag-secret"}, db, sealer)
	require.NoError(t, c.Send(ctx, notify.Message{Key: "k", Channel: notify.ChannelWebhook, Text: "to the flags' receiver"}))
	require.Len(t, flagged.Wait(t, 1, wait), 1)
	require.Zero(t, saved.Attempts(), "the saved webhook is not used while flags set it")
	// Email has no flag set: the saved settings apply.
	require.NoError(t, c.Send(ctx, notify.Message{Key: "k", Channel: notify.ChannelEmail, To: []string{"a@example.com"}, Text: "x"}))
	require.Len(t, smtp.Wait(t, 1, wait), 1)

	err := c.Save(ctx, notify.ChannelWebhook, notify.Config{WebhookURL: saved.URL(), WebhookSecret: "x"}, admin)
	require.ErrorIs(t, err, notify.ErrSetByFlags)
	require.ErrorContains(t, err, "--webhook-url (ROSTER_WEBHOOK_URL)")

	states, err := c.States(ctx)
	require.NoError(t, err)
	wh := states[2]
	require.Equal(t, []string{"--webhook-url (ROSTER_WEBHOOK_URL)", "--webhook-secret (ROSTER_WEBHOOK_SECRET)"}, wh.SetBy)
	require.Equal(t, flagged.URL(), wh.Value("webhook_url"), "the values in effect: the flags'")
	require.True(t, wh.Saved, "saved settings are kept for when the flags go")

	// A flag set alone still wins (and New refuses it as before).
	_, err = notify.NewChannels(notify.Config{SMTPFrom: "roster@example.com"}, db, sealer)
	require.ErrorContains(t, err, "--smtp-from is set but --smtp-addr is not")
}

// TestChannelsOtherProcess: settings saved by one process reach another
// without a restart, once its kept copy is older than MaxAge.
func TestChannelsOtherProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.Open(t, storetest.SQLiteDSN(t))
	sealer := newSealer(t)
	web := newChannels(t, notify.Config{}, db, sealer)
	worker := newChannels(t, notify.Config{}, db, sealer)
	worker.MaxAge = 50 * time.Millisecond
	require.Contains(t, worker.Channels()["webhook"], "not set")

	hook := notifytest.NewWebhook(t, "s3cret-s3cret")
	require.NoError(t, web.Save(ctx, notify.ChannelWebhook, notify.Config{WebhookURL: hook.URL(), WebhookSecret: "s3cret-s3cret"}, admin))
	require.Eventually(t, func() bool { return worker.Channels()["webhook"] == "" }, wait, 10*time.Millisecond)
	require.NoError(t, worker.Send(ctx, notify.Message{Key: "k", Channel: notify.ChannelWebhook, Text: "x"}))
	require.Len(t, hook.Wait(t, 1, wait), 1)
}

// TestChannelsSaveChecks: bad fields are refused beside their field and
// save nothing; an empty secret keeps the saved one.
func TestChannelsSaveChecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.Open(t, storetest.SQLiteDSN(t))
	c := newChannels(t, notify.Config{}, db, newSealer(t))

	for name, tc := range map[string]struct {
		channel string
		in      notify.Config
		field   string
		want    string
	}{
		"ErrAddr":          {"email", notify.Config{SMTPAddr: "smtp.example.com", SMTPFrom: "r@example.com"}, "smtp_addr", "host:port"},
		"ErrNoAddr":        {"email", notify.Config{SMTPFrom: "r@example.com"}, "smtp_addr", "host:port"},
		"ErrNoFrom":        {"email", notify.Config{SMTPAddr: "smtp.example.com:587"}, "smtp_from", "From address"},
		"ErrFrom":          {"email", notify.Config{SMTPAddr: "smtp.example.com:587", SMTPFrom: "roster"}, "smtp_from", `"roster" is not an email address`},
		"ErrTLS":           {"email", notify.Config{SMTPAddr: "smtp.example.com:587", SMTPFrom: "r@example.com", SMTPTLS: "ssl"}, "smtp_tls", "STARTTLS, TLS or none"},
		"ErrClearPassword": {"email", notify.Config{SMTPAddr: "smtp.example.com:25", SMTPFrom: "r@example.com", SMTPTLS: "none", SMTPUsername: "u"}, "smtp_tls", "in clear"},
		"ErrPasswordAlone": {"email", notify.Config{SMTPAddr: "smtp.example.com:587", SMTPFrom: "r@example.com", SMTPPassword: "p"}, "smtp_username", "username"},
		"ErrNoSlackURL":    {"slack", notify.Config{}, "slack_webhook_url", "Enter the Slack incoming-webhook URL"},
		"ErrSlackHTTP":     {"slack", notify.Config{SlackWebhookURL: "http://hooks.slack.com/services/T/B/topsecret"}, "slack_webhook_url", "https"},
		"ErrWebhookURL":    {"webhook", notify.Config{WebhookURL: "ftp://example.com/x", WebhookSecret: "s"}, "webhook_url", "https URL"},
		"ErrNoSecret":      {"webhook", notify.Config{WebhookURL: "https://example.com/hook"}, "webhook_secret", "signing secret"},
	} {
		err := c.Save(ctx, tc.channel, tc.in, admin)
		var fe notify.FieldErrors
		require.ErrorAs(t, err, &fe, name)
		require.Contains(t, fe[tc.field], tc.want, name)
		require.NotContains(t, err.Error(), "topsecret", name)
	}
	require.Empty(t, sealedRows(t, db), "nothing refused was saved")

	// Empty secrets keep the saved ones.
	hook := notifytest.NewWebhook(t, "first-secret")
	require.NoError(t, c.Save(ctx, "webhook", notify.Config{WebhookURL: "https://example.com/hook", WebhookSecret: "first-secret"}, admin))
	require.NoError(t, c.Save(ctx, "webhook", notify.Config{WebhookURL: hook.URL()}, admin))
	require.NoError(t, c.Send(ctx, notify.Message{Key: "k", Channel: "webhook", Text: "x"}))
	require.Len(t, hook.Wait(t, 1, wait), 1, "signed with the kept secret")

	// No username drops the password: no authentication, nothing to keep.
	smtp := notifytest.NewSMTP(t)
	require.NoError(t, c.Save(ctx, "email", notify.Config{SMTPAddr: smtp.Addr(), SMTPFrom: "r@example.com", SMTPUsername: "u", SMTPPassword: "p"}, admin))
	require.NoError(t, c.Save(ctx, "email", notify.Config{SMTPAddr: smtp.Addr(), SMTPFrom: "r@example.com"}, admin))
	states, err := c.States(ctx)
	require.NoError(t, err)
	require.False(t, states[0].SecretSet("smtp_password"))
	require.NoError(t, c.Send(ctx, notify.Message{Key: "k", Channel: "email", To: []string{"a@example.com"}, Text: "x"}))
	require.Empty(t, smtp.Wait(t, 1, wait)[0].Username)

	entries, err := db.AuditEntries(ctx, store.AuditFilter{Kind: "settings"})
	require.NoError(t, err)
	require.Len(t, entries, 4)
	require.Equal(t, "SMTP server "+smtp.Addr()+"; password removed; From address r@example.com", entries[0].Detail)
	require.Equal(t, "webhook URL "+hook.URL()+"; signing secret kept", entries[2].Detail)
}

// TestChannelsTest: the test message goes through the effective channel,
// and a failure is said in plain words.
func TestChannelsTest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.Open(t, storetest.SQLiteDSN(t))
	c := newChannels(t, notify.Config{}, db, newSealer(t))

	err := c.Test(ctx, "webhook", "", admin)
	require.EqualError(t, err, "webhook: not set; set it under Settings → Notifications or with --webhook-url")

	smtp := notifytest.NewSMTP(t)
	require.NoError(t, c.Save(ctx, "email", notify.Config{SMTPAddr: smtp.Addr(), SMTPFrom: "roster@example.com"}, admin))
	var fe notify.FieldErrors
	require.ErrorAs(t, c.Test(ctx, "email", "", admin), &fe)
	require.Contains(t, fe["test_to"], "Enter the address")
	require.ErrorAs(t, c.Test(ctx, "email", "not-an-address", admin), &fe)
	require.NoError(t, c.Test(ctx, "email", "it@example.com", admin))
	got := smtp.Wait(t, 1, wait)[0]
	require.Equal(t, []string{"it@example.com"}, got.To)
	require.Equal(t, "Test message from roster", got.Subject)
	require.Contains(t, got.Body, "admin@example.com")

	smtp.FailNext(1, 550)
	require.EqualError(t, c.Test(ctx, "email", "it@example.com", admin),
		"the mail server "+smtp.Addr()+" refused: 550 5.0.0 notifytest: injected failure")

	closed := closedAddr(t)
	require.NoError(t, c.Save(ctx, "email", notify.Config{SMTPAddr: closed, SMTPFrom: "roster@example.com"}, admin))
	require.EqualError(t, c.Test(ctx, "email", "it@example.com", admin), "could not connect to "+closed+": connection refused")

	hook := notifytest.NewWebhook(t, "s3cret")
	require.NoError(t, c.Save(ctx, "webhook", notify.Config{WebhookURL: hook.URL(), WebhookSecret: "s3cret"}, admin))
	require.NoError(t, c.Test(ctx, "webhook", "", admin))
	d := hook.Wait(t, 1, wait)[0]
	require.Equal(t, "roster.test", d.JSON["event"])
	hook.FailNext(1, http.StatusInternalServerError)
	require.ErrorContains(t, c.Test(ctx, "webhook", "", admin), "answered 500 Internal Server Error")

	slack := notifytest.NewSlack(t)
	require.NoError(t, c.Save(ctx, "slack", notify.Config{SlackWebhookURL: slack.URL()}, admin))
	slack.FailNext(1, http.StatusNotFound)
	err = c.Test(ctx, "slack", "", admin)
	require.ErrorContains(t, err, "answered 404 Not Found")
	require.NotContains(t, err.Error(), "notifytest-secret", "the Slack URL is a secret")

	// Every test that reached a channel is listed with the other sent
	// notifications, newest first; those refused before (not set, no
	// address) are not.
	sent, err := db.Notifications(ctx, 0, 20)
	require.NoError(t, err)
	var listed []string
	for _, n := range sent {
		require.True(t, strings.HasPrefix(n.Key, "test:"+n.Channel+":"), n.Key)
		require.Equal(t, "Test message from roster", n.Subject)
		require.NotContains(t, n.Error, "notifytest-secret")
		listed = append(listed, n.Channel+" "+string(n.Status))
	}
	require.Equal(t, []string{"slack failed", "webhook failed", "webhook sent", "email failed", "email failed", "email sent"}, listed)
}

// TestChannelsWrongKey: settings sealed under another key are reported,
// not sent with, and saving them again fixes it.
func TestChannelsWrongKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.Open(t, storetest.SQLiteDSN(t))
	hook := notifytest.NewWebhook(t, "s3cret")
	old := newChannels(t, notify.Config{}, db, newSealer(t))
	require.NoError(t, old.Save(ctx, "webhook", notify.Config{WebhookURL: hook.URL(), WebhookSecret: "s3cret"}, admin))

	c := newChannels(t, notify.Config{}, db, newSealer(t))
	require.Contains(t, c.Channels()["webhook"], "the saved settings cannot be opened")
	err := c.Send(ctx, notify.Message{Key: "k", Channel: "webhook", Text: "x"})
	require.ErrorIs(t, err, notify.ErrNotConfigured)
	// The secret cannot be kept: it must be typed again.
	var fe notify.FieldErrors
	require.ErrorAs(t, c.Save(ctx, "webhook", notify.Config{WebhookURL: hook.URL()}, admin), &fe)
	require.NoError(t, c.Save(ctx, "webhook", notify.Config{WebhookURL: hook.URL(), WebhookSecret: "s3cret"}, admin))
	require.Equal(t, "", c.Channels()["webhook"])
}
