package web

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"roster"
	"roster/internal/notify"
	"roster/internal/notify/notifytest"
	"roster/internal/secret"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

const channelWait = 5 * time.Second

// channelsBundle is a dashboard whose Settings → Notifications saves in
// its own store, with flags as given.
func channelsBundle(t *testing.T, db *storeDB, flags notify.Config) (*testBundle, *notify.Channels) {
	t.Helper()
	k, _, err := secret.NewKey()
	require.NoError(t, err)
	ch, err := notify.NewChannels(flags, db, secret.NewSealer(k))
	require.NoError(t, err)
	return setupOn(t, db, func(c *Config) { c.Channels = ch }), ch
}

// storedChannels are the raw rows of the channels' settings: channel and
// sealed bytes.
func storedChannels(t *testing.T, db *storeDB) map[string][]byte {
	t.Helper()
	rows, err := db.SQL().Query(`SELECT channel, sealed FROM notification_channels`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var ch string
		var b []byte
		require.NoError(t, rows.Scan(&ch, &b))
		out[ch] = b
	}
	require.NoError(t, rows.Err())
	return out
}

// channelAudits are the audit log's notification channel entries, newest
// first, as "action target result".
func channelAudits(t *testing.T, db *storeDB) []string {
	t.Helper()
	entries, err := db.AuditEntries(context.Background(), store.AuditFilter{Kind: "settings"})
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		if strings.Contains(e.Action, "notification_channel") {
			out = append(out, e.Action+" "+e.Target+" "+e.Result)
		}
	}
	return out
}

// card is one channel's card on the settings page.
func card(t *testing.T, body, channel string) cardView {
	t.Helper()
	sec := byID(parseHTML(t, body), "notify-"+channel)
	require.NotNil(t, sec, "no card for %s", channel)
	return cardView{n: sec, channel: channel}
}

type cardView struct {
	n       *html.Node
	channel string
}

func (c cardView) text() string     { return text(c.n) }
func (c cardView) node() *html.Node { return c.n }

// fieldError is the error shown beside one of the card's fields.
func (c cardView) fieldError(name string) string {
	if e := byID(c.n, "notify-"+c.channel+"-"+name+"-error"); e != nil {
		return text(e)
	}
	return ""
}

// TestSettingsChannelsSave: an admin saves a channel; its secret is
// sealed in the store and never shown again, an empty secret keeps it, a
// removal clears the channel, and each is audited.
func TestSettingsChannelsSave(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		const hookSecret = "whsec-0123456789-abcdef"
		b, _ := channelsBundle(t, db, notify.Config{})
		br := b.loggedIn(t, roster.RoleAdmin)
		hook := notifytest.NewWebhook(t, hookSecret)

		p := br.mustGet("/settings")
		for _, ch := range []string{"email", "slack", "webhook"} {
			require.Contains(t, card(t, p.Body, ch).text(), "Not set.")
		}

		r := br.post("/settings/notifications/webhook", url.Values{"webhook_url": {hook.URL()}, "webhook_secret": {hookSecret}})
		require.Equal(t, http.StatusSeeOther, r.StatusCode, r.Body)
		require.Equal(t, "/settings?channel_saved=webhook#notify-webhook", r.location())

		p = br.mustGet(r.location())
		require.NotContains(t, p.Body, hookSecret, "a secret is never shown again")
		c := card(t, p.Body, "webhook")
		require.Contains(t, c.text(), "Saved: in effect now.")
		require.Contains(t, c.text(), "In use.")
		require.Contains(t, c.text(), "Set. Leave empty to keep it.")
		require.Equal(t, hook.URL(), attr(byID(c.node(), "notify-webhook-webhook_url"), "value"))
		secretInput := byID(c.node(), "notify-webhook-webhook_secret")
		require.Equal(t, "password", attr(secretInput, "type"))
		require.Empty(t, attr(secretInput, "value"))

		raw := storedChannels(t, db)
		require.Len(t, raw, 1)
		require.False(t, bytes.Contains(raw["webhook"], []byte(hookSecret)), "the secret is sealed in the store")
		require.False(t, bytes.Contains(raw["webhook"], []byte(hook.URL())))

		// An empty secret keeps the stored one: the test message is signed
		// with it, and the receiver checks the signature.
		r = br.post("/settings/notifications/webhook", url.Values{"webhook_url": {hook.URL()}, "webhook_secret": {""}})
		require.Equal(t, http.StatusSeeOther, r.StatusCode, r.Body)
		r = br.post("/settings/notifications/webhook/test", nil)
		require.Equal(t, http.StatusOK, r.StatusCode, r.Body)
		require.Contains(t, card(t, r.Body, "webhook").text(), "Sent.")
		require.Equal(t, "roster.test", hook.Wait(t, 1, channelWait)[0].JSON["event"])
		require.Empty(t, hook.Rejected())

		r = br.post("/settings/notifications/webhook/remove", nil)
		require.Equal(t, http.StatusSeeOther, r.StatusCode, r.Body)
		p = br.mustGet(r.location())
		c = card(t, p.Body, "webhook")
		require.Contains(t, c.text(), "Removed")
		require.Contains(t, c.text(), "Not set.")
		require.Empty(t, storedChannels(t, db))

		require.Equal(t, []string{
			"remove_notification_channel notification channel webhook ok",
			"test_notification_channel notification channel webhook ok",
			"save_notification_channel notification channel webhook ok",
			"save_notification_channel notification channel webhook ok",
		}, channelAudits(t, db))
	})
}

// TestSettingsChannelsErrFields: bad input is refused beside its field,
// 422, with nothing saved and no secret echoed.
func TestSettingsChannelsErrFields(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, storetest.SQLiteDSN(t))
	b, _ := channelsBundle(t, db, notify.Config{})
	br := b.loggedIn(t, roster.RoleAdmin)
	for _, tc := range []struct {
		name, channel string
		form          url.Values
		field, want   string
	}{
		{"BadHostPort", "email", url.Values{"smtp_addr": {"smtp.example.com"}, "smtp_from": {"r@example.com"}, "smtp_password": {"pw-never-echoed"}, "smtp_username": {"u"}},
			"smtp_addr", "Enter the SMTP server as host:port"},
		{"MissingFrom", "email", url.Values{"smtp_addr": {"smtp.example.com:587"}}, "smtp_from", "Enter the From address"},
		{"BadFrom", "email", url.Values{"smtp_addr": {"smtp.example.com:587"}, "smtp_from": {"roster"}}, "smtp_from", `"roster" is not an email address`},
		{"SlackNotHTTPS", "slack", url.Values{"slack_webhook_url": {"http://hooks.slack.com/services/T/B/pw-never-echoed"}}, "slack_webhook_url", "Enter an https URL"},
		{"BadWebhookURL", "webhook", url.Values{"webhook_url": {"not a url"}, "webhook_secret": {"pw-never-echoed"}}, "webhook_url", "Enter an https URL"},
		{"WebhookWithoutSecret", "webhook", url.Values{"webhook_url": {"https://example.com/hook"}}, "webhook_secret", "Enter a signing secret"},
	} {
		r := br.post("/settings/notifications/"+tc.channel, tc.form)
		require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, tc.name)
		c := card(t, r.Body, tc.channel)
		require.Contains(t, c.text(), "Nothing was saved", tc.name)
		require.Contains(t, c.fieldError(tc.field), tc.want, tc.name)
		require.NotContains(t, r.Body, "pw-never-echoed", tc.name)
		if tc.form.Get("smtp_addr") != "" {
			require.Equal(t, tc.form.Get("smtp_addr"), attr(byID(c.node(), "notify-email-smtp_addr"), "value"), "kept as typed")
		}
	}
	require.Empty(t, storedChannels(t, db), "nothing refused was saved")
	require.Empty(t, channelAudits(t, db), "nothing refused was audited")
	require.Equal(t, http.StatusNotFound, br.post("/settings/notifications/pigeon", url.Values{}).StatusCode)
}

// TestSettingsChannelsTest: Send test goes through the channel as saved,
// to the address typed for email, and says "Sent" or why not in plain
// words; each try is audited.
func TestSettingsChannelsTest(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, storetest.SQLiteDSN(t))
	b, _ := channelsBundle(t, db, notify.Config{})
	br := b.loggedIn(t, roster.RoleAdmin)
	smtp := notifytest.NewSMTP(t)

	r := br.post("/settings/notifications/email", url.Values{"smtp_addr": {smtp.Addr()}, "smtp_from": {"Roster <roster@example.com>"},
		"smtp_tls": {"none"}})
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.Body)

	r = br.post("/settings/notifications/email/test", url.Values{"test_to": {""}})
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode)
	require.Contains(t, card(t, r.Body, "email").fieldError("test_to"), "Enter the address")

	r = br.post("/settings/notifications/email/test", url.Values{"test_to": {"it@example.com"}})
	require.Equal(t, http.StatusOK, r.StatusCode, r.Body)
	require.Contains(t, card(t, r.Body, "email").text(), "Sent. Check the inbox of it@example.com.")
	got := smtp.Wait(t, 1, channelWait)[0]
	require.Equal(t, []string{"it@example.com"}, got.To)
	require.Equal(t, "Test message from roster", got.Subject)

	// A server that is not there: the reason, in plain words.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String()
	require.NoError(t, ln.Close())
	r = br.post("/settings/notifications/email", url.Values{"smtp_addr": {closed}, "smtp_from": {"roster@example.com"}})
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.Body)
	r = br.post("/settings/notifications/email/test", url.Values{"test_to": {"it@example.com"}})
	require.Equal(t, http.StatusOK, r.StatusCode, r.Body)
	require.Contains(t, card(t, r.Body, "email").text(), "Not sent: could not connect to "+closed+": connection refused.")

	// Slack goes to its own URL; a refusal names the host, not the URL.
	slack := notifytest.NewSlack(t)
	r = br.post("/settings/notifications/slack", url.Values{"slack_webhook_url": {slack.URL()}})
	require.Equal(t, http.StatusSeeOther, r.StatusCode, r.Body)
	r = br.post("/settings/notifications/slack/test", nil)
	require.Contains(t, card(t, r.Body, "slack").text(), "Sent.")
	require.Contains(t, slack.Wait(t, 1, channelWait)[0].Text, "Test message from roster")
	slack.FailNext(1, http.StatusNotFound)
	r = br.post("/settings/notifications/slack/test", nil)
	require.Contains(t, card(t, r.Body, "slack").text(), "Not sent:")
	require.Contains(t, card(t, r.Body, "slack").text(), "answered 404 Not Found")
	require.NotContains(t, r.Body, "notifytest-secret", "the Slack URL is a secret")

	// A channel not set says where to set it.
	r = br.post("/settings/notifications/webhook/test", nil)
	require.Contains(t, card(t, r.Body, "webhook").text(), "Not sent: webhook: not set; set it under Settings → Notifications or with --webhook-url.")

	require.Equal(t, []string{
		"test_notification_channel notification channel webhook failed",
		"test_notification_channel notification channel slack failed",
		"test_notification_channel notification channel slack ok",
		"save_notification_channel notification channel slack ok",
		"test_notification_channel notification channel email failed",
		"save_notification_channel notification channel email ok",
		"test_notification_channel notification channel email ok",
		"save_notification_channel notification channel email ok",
	}, channelAudits(t, db))
}

// TestSettingsChannelsFlagsWin: a channel its flags set is shown read
// only, naming them, and saving it is refused; the test goes through the
// flags' settings.
func TestSettingsChannelsFlagsWin(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, storetest.SQLiteDSN(t))
	smtp := notifytest.NewSMTP(t)
	b, _ := channelsBundle(t, db, notify.Config{SMTPAddr: smtp.Addr(), SMTPFrom: "flags@example.com"})
	br := b.loggedIn(t, roster.RoleAdmin)

	p := br.mustGet("/settings")
	c := card(t, p.Body, "email")
	require.Contains(t, c.text(), "Set by --smtp-addr (ROSTER_SMTP_ADDR), --smtp-from (ROSTER_SMTP_FROM); flags and environment variables win over these settings.")
	require.Contains(t, c.text(), "In use, set by flags.")
	require.Equal(t, smtp.Addr(), attr(byID(c.node(), "notify-email-smtp_addr"), "value"))
	for _, fs := range findAll(c.node(), "fieldset", "") {
		require.True(t, hasAttr(fs, "disabled"), "read only")
	}
	for _, btn := range findAll(c.node(), "button", "") {
		require.Equal(t, "Send test", text(btn), "no Save or Remove")
	}
	// The other channels are still the dashboard's.
	require.False(t, hasAttr(findAll(card(t, p.Body, "webhook").node(), "fieldset", "")[0], "disabled"))

	r := br.post("/settings/notifications/email", url.Values{"smtp_addr": {"other.example.com:587"}, "smtp_from": {"r@example.com"}})
	require.Equal(t, http.StatusConflict, r.StatusCode)
	require.Contains(t, card(t, r.Body, "email").text(), "Nothing was saved")
	require.Empty(t, storedChannels(t, db))

	r = br.post("/settings/notifications/email/test", url.Values{"test_to": {"it@example.com"}})
	require.Contains(t, card(t, r.Body, "email").text(), "Sent.")
	require.Equal(t, "flags@example.com", smtp.Wait(t, 1, channelWait)[0].From)
}

// TestSettingsChannelsViewer: viewers see the cards read only, with
// whether a secret is set but never its value, and cannot change them.
func TestSettingsChannelsViewer(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t, storetest.SQLiteDSN(t))
	b, ch := channelsBundle(t, db, notify.Config{})
	require.NoError(t, ch.Save(context.Background(), "webhook", notify.Config{WebhookURL: "https://example.com/hook",
		WebhookSecret: "viewer-must-not-see"}, "operator:admin@example.com"))
	br := b.loggedIn(t, roster.RoleViewer)

	p := br.mustGet("/settings")
	require.NotContains(t, p.Body, "viewer-must-not-see")
	c := card(t, p.Body, "webhook")
	require.Contains(t, c.text(), "In use.")
	require.Contains(t, c.text(), "Set.")
	for _, fs := range findAll(c.node(), "fieldset", "") {
		require.True(t, hasAttr(fs, "disabled"))
	}
	for _, name := range []string{"email", "slack", "webhook"} {
		require.Empty(t, findAll(card(t, p.Body, name).node(), "button", ""), "a viewer has no buttons")
	}
	before := storedChannels(t, db)
	for _, path := range []string{"/settings/notifications/webhook", "/settings/notifications/webhook/remove", "/settings/notifications/webhook/test"} {
		require.Equal(t, http.StatusForbidden, br.post(path, url.Values{"webhook_url": {"https://evil.example.com/"}}).StatusCode, path)
	}
	require.Equal(t, before, storedChannels(t, db))
}
