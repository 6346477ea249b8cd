package notify_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/require"

	"roster/internal/notify"
	"roster/internal/notify/notifytest"
)

const wait = 5 * time.Second

func newNotifier(t *testing.T, c notify.Config) *notify.Notifier {
	t.Helper()
	n, err := notify.New(c)
	require.NoError(t, err)
	return n
}

func TestEmail(t *testing.T) {
	t.Parallel()

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		srv := notifytest.NewSMTP(t)
		n := newNotifier(t, notify.Config{SMTPAddr: srv.Addr(), SMTPFrom: "Roster <roster@example.com>"})
		text := "Grüße aus Köln.\n.a line starting with a dot\n" + strings.Repeat("long line ", 12) + "= end\n"
		m := notify.Message{
			Key: "run:7:notify", Channel: notify.ChannelEmail,
			To:      []string{"ann@example.com", "Bob Ä <bob@example.com>"},
			Subject: "Zugang für Jürgen entfernt: a subject long enough to need more than one encoded word",
			Text:    text,
		}
		require.NoError(t, n.Send(context.Background(), m))

		got := srv.Wait(t, 1, wait)[0]
		require.Equal(t, "roster@example.com", got.From)
		require.Equal(t, []string{"ann@example.com", "bob@example.com"}, got.To)
		require.Equal(t, "", got.Username)
		require.Equal(t, m.Subject, got.Subject)
		require.Equal(t, text, got.Body)
		require.Equal(t, notify.MessageID(m.Key), got.MessageID)
		require.Regexp(t, `^<[0-9a-f]{32}@roster>$`, got.MessageID)
		require.Equal(t, "1.0", got.Header.Get("MIME-Version"))
		require.Equal(t, "text/plain; charset=utf-8", got.Header.Get("Content-Type"))
		require.Equal(t, "quoted-printable", got.Header.Get("Content-Transfer-Encoding"))
		require.Equal(t, `"Roster" <roster@example.com>`, got.Header.Get("From"))
		require.Contains(t, got.Header.Get("To"), "ann@example.com")
		date, err := got.Header.Date()
		require.NoError(t, err)
		require.WithinDuration(t, time.Now(), date, time.Minute)
		// Headers and body on the wire are 7-bit with short lines.
		for _, line := range strings.Split(string(got.Raw), "\r\n") {
			require.LessOrEqual(t, len(line), 78, line)
			for _, r := range line {
				require.Less(t, r, rune(128), line)
			}
		}

		// A resend of the same key carries the same Message-ID.
		require.NoError(t, n.Send(context.Background(), m))
		require.Equal(t, got.MessageID, srv.Wait(t, 2, wait)[1].MessageID)
	})

	t.Run("OKAuth", func(t *testing.T) {
		t.Parallel()
		srv := notifytest.NewSMTP(t)
		n := newNotifier(t, notify.Config{
			SMTPAddr: srv.Addr(), SMTPFrom: "roster@example.com",
			SMTPUsername: "roster-mailer", SMTPPassword: "pw",
		})
		require.NoError(t, n.Send(context.Background(), notify.Message{
			Key: "k", Channel: notify.ChannelEmail, To: []string{"ann@example.com"}, Text: "hi",
		}))
		require.Equal(t, "roster-mailer", srv.Wait(t, 1, wait)[0].Username)
	})

	t.Run("ErrTransientAndPermanentReplies", func(t *testing.T) {
		t.Parallel()
		srv := notifytest.NewSMTP(t)
		n := newNotifier(t, notify.Config{SMTPAddr: srv.Addr(), SMTPFrom: "roster@example.com", SMTPTLS: "none"})
		m := notify.Message{Key: "k", Channel: notify.ChannelEmail, To: []string{"ann@example.com"}, Text: "hi"}

		srv.FailNext(1, 451)
		err := n.Send(context.Background(), m)
		require.ErrorContains(t, err, "451")
		require.False(t, notify.IsPermanent(err))

		srv.FailNext(1, 550)
		err = n.Send(context.Background(), m)
		require.ErrorContains(t, err, "550")
		require.True(t, notify.IsPermanent(err))

		require.NoError(t, n.Send(context.Background(), m))
		require.Len(t, srv.Wait(t, 1, wait), 1)
	})

	t.Run("ErrBadRecipient", func(t *testing.T) {
		t.Parallel()
		srv := notifytest.NewSMTP(t)
		n := newNotifier(t, notify.Config{SMTPAddr: srv.Addr(), SMTPFrom: "roster@example.com"})
		for _, to := range [][]string{nil, {"not an address"}} {
			err := n.Send(context.Background(), notify.Message{Channel: notify.ChannelEmail, To: to, Text: "hi"})
			require.Error(t, err)
			require.True(t, notify.IsPermanent(err), err)
		}
		require.Empty(t, srv.Messages())
	})

	t.Run("ErrUnreachable", func(t *testing.T) {
		t.Parallel()
		n := newNotifier(t, notify.Config{SMTPAddr: closedAddr(t), SMTPFrom: "roster@example.com"})
		err := n.Send(context.Background(), notify.Message{Channel: notify.ChannelEmail, To: []string{"a@example.com"}})
		require.ErrorContains(t, err, "connect")
		require.False(t, notify.IsPermanent(err))
	})

	t.Run("ErrSilentServerRespectsContext", func(t *testing.T) {
		t.Parallel()
		// Connections complete in the backlog, but no greeting ever comes.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { ln.Close() })
		n := newNotifier(t, notify.Config{SMTPAddr: ln.Addr().String(), SMTPFrom: "roster@example.com"})
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err = n.Send(ctx, notify.Message{Channel: notify.ChannelEmail, To: []string{"a@example.com"}})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.False(t, notify.IsPermanent(err))
		require.Less(t, time.Since(start), 3*time.Second)
	})
}

func TestEmailTLS(t *testing.T) {
	t.Parallel()
	// A server whose certificate no system root trusts: the client must
	// try TLS where configured or offered, and refuse the certificate.
	certs := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(certs.Close)
	serve := func(t *testing.T, implicit bool) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		if implicit {
			ln = tls.NewListener(ln, certs.TLS)
		}
		srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
			return acceptAll{}, nil
		}))
		srv.Domain, srv.TLSConfig = "localhost", certs.TLS
		srv.ErrorLog = log.New(io.Discard, "", 0)
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { srv.Close() })
		return ln.Addr().String()
	}
	m := notify.Message{Channel: notify.ChannelEmail, To: []string{"a@example.com"}, Text: "x"}

	for name, tc := range map[string]struct {
		mode     string
		implicit bool
		want     string
	}{
		"ErrStartTLSOffered": {"", false, "starttls: tls: failed to verify certificate"},
		"ErrImplicitTLS":     {"tls", true, "tls: failed to verify certificate"},
		"NoneSkipsStartTLS":  {"none", false, ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			n := newNotifier(t, notify.Config{SMTPAddr: serve(t, tc.implicit), SMTPFrom: "r@example.com", SMTPTLS: tc.mode})
			err := n.Send(context.Background(), m)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
			require.False(t, notify.IsPermanent(err))
		})
	}
}

// acceptAll is an SMTP session that takes any message.
type acceptAll struct{}

func (acceptAll) Mail(string, *smtp.MailOptions) error { return nil }
func (acceptAll) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (acceptAll) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}
func (acceptAll) Reset()        {}
func (acceptAll) Logout() error { return nil }

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestWebhook(t *testing.T) {
	t.Parallel()
	const secret = "s3cret"

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		srv := notifytest.NewWebhook(t, secret)
		n := newNotifier(t, notify.Config{WebhookURL: srv.URL(), WebhookSecret: secret})
		m := notify.Message{
			Key: "run:7:approve", Channel: notify.ChannelWebhook, Event: "workflow.approval",
			Subject: "Approve?", Text: "Remove ann@example.com from Miro?",
			Data: map[string]any{"run_id": 7, "links": []string{"https://roster.example.com/runs/7"}},
		}
		require.NoError(t, n.Send(context.Background(), m))

		d := srv.Wait(t, 1, wait)[0]
		require.Empty(t, srv.Rejected())
		require.Equal(t, "application/json", d.Header.Get("Content-Type"))
		require.Equal(t, m.Key, d.Header.Get(notify.HeaderIdempotencyKey))
		require.NoError(t, notify.Verify(secret, d.Header, d.Body, time.Now(), time.Minute))

		var body notify.WebhookBody
		require.NoError(t, json.Unmarshal(d.Body, &body))
		require.Equal(t, "workflow.approval", body.Event)
		require.Equal(t, m.Key, body.Key)
		require.Equal(t, m.Subject, body.Subject)
		require.Equal(t, m.Text, body.Text)
		require.Equal(t, map[string]any{"run_id": 7.0, "links": []any{"https://roster.example.com/runs/7"}}, body.Data)
		sentAt, err := time.Parse(time.RFC3339, body.SentAt)
		require.NoError(t, err)
		require.WithinDuration(t, time.Now(), sentAt, time.Minute)
		ts, err := strconv.ParseInt(d.Header.Get(notify.HeaderTimestamp), 10, 64)
		require.NoError(t, err)
		require.Equal(t, sentAt.Unix(), ts)
	})

	t.Run("ErrWrongSecretRejected", func(t *testing.T) {
		t.Parallel()
		srv := notifytest.NewWebhook(t, secret)
		n := newNotifier(t, notify.Config{WebhookURL: srv.URL(), WebhookSecret: "other"})
		err := n.Send(context.Background(), notify.Message{Key: "k", Channel: notify.ChannelWebhook})
		require.ErrorContains(t, err, "401")
		require.True(t, notify.IsPermanent(err))
		require.Len(t, srv.Rejected(), 1)
		require.Empty(t, srv.Deliveries())
	})

	t.Run("Statuses", func(t *testing.T) {
		t.Parallel()
		for status, permanent := range map[int]bool{500: false, 503: false, 429: false, 408: false, 400: true, 404: true, 410: true} {
			srv := notifytest.NewWebhook(t, secret)
			n := newNotifier(t, notify.Config{WebhookURL: srv.URL(), WebhookSecret: secret})
			srv.FailNext(1, status)
			err := n.Send(context.Background(), notify.Message{Key: "k", Channel: notify.ChannelWebhook})
			require.ErrorContains(t, err, strconv.Itoa(status))
			require.Equal(t, permanent, notify.IsPermanent(err), status)
			// The next try goes through.
			require.NoError(t, n.Send(context.Background(), notify.Message{Key: "k", Channel: notify.ChannelWebhook}))
			require.Equal(t, 2, srv.Attempts())
		}
	})

	t.Run("ErrUnreachable", func(t *testing.T) {
		t.Parallel()
		n := newNotifier(t, notify.Config{WebhookURL: "http://" + closedAddr(t) + "/hook?token=abc", WebhookSecret: secret})
		err := n.Send(context.Background(), notify.Message{Channel: notify.ChannelWebhook})
		require.Error(t, err)
		require.False(t, notify.IsPermanent(err))
		require.NotContains(t, err.Error(), "token=abc")
	})
}

func TestVerify(t *testing.T) {
	t.Parallel()
	const secret = "s3cret"
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"event":"workflow.notify"}`)
	signed := func(at time.Time, b []byte) http.Header {
		h := http.Header{}
		h.Set(notify.HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
		h.Set(notify.HeaderSignature, notify.Sign(secret, at.Unix(), b))
		return h
	}

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		require.NoError(t, notify.Verify(secret, signed(now, body), body, now, time.Minute))
		require.NoError(t, notify.Verify(secret, signed(now.Add(-30*time.Second), body), body, now, time.Minute))
		require.Regexp(t, `^sha256=[0-9a-f]{64}$`, notify.Sign(secret, now.Unix(), body))
	})

	for name, tc := range map[string]struct {
		secret string
		header http.Header
		body   []byte
	}{
		"ErrTamperedBody":    {secret, signed(now, body), []byte(`{"event":"workflow.approval"}`)},
		"ErrWrongSecret":     {"other", signed(now, body), body},
		"ErrNoSecret":        {"", signed(now, body), body},
		"ErrOldTimestamp":    {secret, signed(now.Add(-2*time.Minute), body), body},
		"ErrFutureTimestamp": {secret, signed(now.Add(2*time.Minute), body), body},
		"ErrNoHeaders":       {secret, http.Header{}, body},
		// A fresh timestamp on an old signature: the MAC covers it.
		"ErrReplayedSignature": {secret, func() http.Header {
			h := signed(now.Add(-time.Hour), body)
			h.Set(notify.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
			return h
		}(), body},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := notify.Verify(tc.secret, tc.header, tc.body, now, time.Minute)
			require.ErrorIs(t, err, notify.ErrBadSignature)
		})
	}
}

func TestSlack(t *testing.T) {
	t.Parallel()

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		srv := notifytest.NewSlack(t)
		n := newNotifier(t, notify.Config{SlackWebhookURL: srv.URL()})
		ctx := context.Background()
		require.NoError(t, n.Send(ctx, notify.Message{Key: "k", Channel: notify.ChannelSlack, Subject: "Offboarding", Text: "ann left"}))
		require.NoError(t, n.Send(ctx, notify.Message{Key: "k2", Channel: notify.ChannelSlack, Text: "just text"}))
		ds := srv.Wait(t, 2, wait)
		require.Equal(t, "Offboarding\nann left", ds[0].Text)
		require.JSONEq(t, `{"text":"Offboarding\nann left"}`, string(ds[0].Body))
		require.Equal(t, "just text", ds[1].Text)
	})

	t.Run("ErrStatusesHideURL", func(t *testing.T) {
		t.Parallel()
		srv := notifytest.NewSlack(t)
		n := newNotifier(t, notify.Config{SlackWebhookURL: srv.URL()})
		m := notify.Message{Channel: notify.ChannelSlack, Text: "x"}

		srv.FailNext(1, http.StatusNotFound) // Slack's "no_service"
		err := n.Send(context.Background(), m)
		require.True(t, notify.IsPermanent(err), err)
		require.NotContains(t, err.Error(), "notifytest-secret")

		srv.FailNext(1, http.StatusInternalServerError)
		err = n.Send(context.Background(), m)
		require.False(t, notify.IsPermanent(err), err)

		url := "http://" + closedAddr(t) + "/services/T000/B000/secret-path"
		n = newNotifier(t, notify.Config{SlackWebhookURL: url})
		err = n.Send(context.Background(), m)
		require.False(t, notify.IsPermanent(err), err)
		require.NotContains(t, err.Error(), "secret-path")
	})
}

func TestNotConfigured(t *testing.T) {
	t.Parallel()
	n := newNotifier(t, notify.Config{})
	for _, ch := range []string{notify.ChannelEmail, notify.ChannelSlack, notify.ChannelWebhook} {
		err := n.Send(context.Background(), notify.Message{Channel: ch, To: []string{"a@example.com"}, Text: "x"})
		require.ErrorIs(t, err, notify.ErrNotConfigured, ch)
		require.True(t, notify.IsPermanent(err))
	}
	err := n.Send(context.Background(), notify.Message{Channel: "pigeon"})
	require.True(t, notify.IsPermanent(err))
	require.NotErrorIs(t, err, notify.ErrNotConfigured)

	require.Equal(t, map[string]string{
		"email":   "email: --smtp-addr is not set",
		"slack":   "slack: --slack-webhook-url is not set",
		"webhook": "webhook: --webhook-url is not set",
	}, notify.Config{}.Channels())
	require.Equal(t, map[string]string{"email": "", "slack": "", "webhook": ""}, notify.Config{
		SMTPAddr: "smtp.example.com:587", SMTPFrom: "roster@example.com",
		SlackWebhookURL: "https://hooks.slack.com/services/T/B/x",
		WebhookURL:      "https://example.com/hook", WebhookSecret: "s",
	}.Channels())
	require.Equal(t, "webhook: --webhook-secret is required when --webhook-url is set",
		notify.Config{WebhookURL: "https://example.com/hook"}.Channels()["webhook"])
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	email := notify.Config{SMTPAddr: "smtp.example.com:587", SMTPFrom: "roster@example.com"}
	with := func(f func(*notify.Config)) notify.Config {
		c := email
		f(&c)
		return c
	}
	require.NoError(t, notify.Config{}.Validate())
	require.NoError(t, email.Validate())
	require.NoError(t, with(func(c *notify.Config) { c.SMTPTLS = "tls"; c.SMTPUsername, c.SMTPPassword = "u", "p" }).Validate())
	require.NoError(t, notify.Config{SMTPAddr: "127.0.0.1:25", SMTPFrom: "r@x.io", SMTPTLS: "none", SMTPUsername: "u"}.Validate())
	require.NoError(t, notify.Config{WebhookURL: "http://127.0.0.1:8080/hook", WebhookSecret: "s"}.Validate())

	for name, tc := range map[string]struct {
		c    notify.Config
		want string
	}{
		"ErrFromRequired":     {with(func(c *notify.Config) { c.SMTPFrom = "" }), "--smtp-from is required when --smtp-addr is set"},
		"ErrBadFrom":          {with(func(c *notify.Config) { c.SMTPFrom = "roster" }), `--smtp-from "roster" is not an email address`},
		"ErrBadAddr":          {with(func(c *notify.Config) { c.SMTPAddr = "smtp.example.com" }), "--smtp-addr"},
		"ErrBadPort":          {with(func(c *notify.Config) { c.SMTPAddr = "smtp.example.com:smtp" }), "is not host:port"},
		"ErrBadTLS":           {with(func(c *notify.Config) { c.SMTPTLS = "ssl" }), `--smtp-tls "ssl" is not starttls, tls or none`},
		"ErrClearPassword":    {with(func(c *notify.Config) { c.SMTPTLS = "none"; c.SMTPUsername = "u" }), "--smtp-username needs TLS"},
		"ErrPasswordNoUser":   {with(func(c *notify.Config) { c.SMTPPassword = "p" }), "--smtp-password is set but --smtp-username is not"},
		"ErrFromWithoutAddr":  {notify.Config{SMTPFrom: "roster@example.com"}, "--smtp-from is set but --smtp-addr is not"},
		"ErrSlackURL":         {notify.Config{SlackWebhookURL: "hooks.slack.com/services/x"}, "--slack-webhook-url is not an http(s) URL"},
		"ErrSlackHTTP":        {notify.Config{SlackWebhookURL: "http://hooks.slack.com/services/x"}, "--slack-webhook-url must use https"},
		"ErrWebhookURL":       {notify.Config{WebhookURL: "ftp://example.com", WebhookSecret: "s"}, "--webhook-url is not an http(s) URL"},
		"ErrWebhookSecret":    {notify.Config{WebhookURL: "https://example.com/hook"}, "--webhook-secret is required when --webhook-url is set"},
		"ErrSecretWithoutURL": {notify.Config{WebhookSecret: "s"}, "--webhook-secret is set but --webhook-url is not"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := tc.c.Validate()
			require.ErrorContains(t, err, tc.want)
			_, err = notify.New(tc.c)
			require.ErrorContains(t, err, tc.want)
		})
	}

	// The Slack URL is a secret: an error names the flag, not the value.
	err := notify.Config{SlackWebhookURL: "http://hooks.slack.com/services/T/B/topsecret"}.Validate()
	require.NotContains(t, err.Error(), "topsecret")
}
