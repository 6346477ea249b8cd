package notify

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"sort"
	"strings"
	"time"

	"roster"
)

// What the dashboard's Settings → Notifications reads and does: each
// channel's state, saving and removing its settings, and a test message.

// ErrSetByFlags refuses to save a channel that flags or environment
// variables set: they would win over what is saved.
var ErrSetByFlags = errors.New("flags and environment variables win over these settings")

// FieldErrors are the bad fields of a channel's form, by form field
// ("smtp_addr", "webhook_secret", "test_to"...), each in plain words.
type FieldErrors map[string]string

// Error lists the messages in field order.
func (e FieldErrors) Error() string {
	fields := make([]string, 0, len(e))
	for f := range e {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	msgs := make([]string, len(fields))
	for i, f := range fields {
		msgs[i] = e[f]
	}
	return strings.Join(msgs, " ")
}

// ChannelState is one channel as the dashboard shows it. It never holds
// a secret's value: only whether it is set.
type ChannelState struct {
	Channel string
	// SetBy names the flags that set the channel, e.g. "--smtp-addr
	// (ROSTER_SMTP_ADDR)": they win, and the dashboard shows it read only.
	SetBy []string
	// Saved is true when settings are saved in the dashboard (in effect
	// unless SetBy).
	Saved     bool
	UpdatedAt time.Time
	UpdatedBy string
	// values are the settings in effect that are no secret, secrets which
	// of the secrets are set; both by form field.
	values  map[string]string
	secrets map[string]bool
	// Problem is why the channel cannot send now, "" when it can.
	Problem string
}

// Value is a setting in effect that is no secret, by form field.
func (s ChannelState) Value(field string) string { return s.values[field] }

// SecretSet says whether a secret is set, by form field.
func (s ChannelState) SecretSet(field string) bool { return s.secrets[field] }

// States are the channels as configured now, email, Slack and webhook in
// that order, read from the store (not the kept copy).
func (c *Channels) States(ctx context.Context) ([]ChannelState, error) {
	all, err := c.readSaved(ctx)
	if err != nil {
		return nil, err
	}
	snap := c.effective(all, nil)
	out := make([]ChannelState, 0, len(channelOrder))
	for _, ch := range channelOrder {
		s, saved := all[ch]
		st := ChannelState{Channel: ch, SetBy: c.setBy(ch), Saved: saved, UpdatedAt: s.updatedAt, UpdatedBy: s.updatedBy,
			values: map[string]string{}, secrets: map[string]bool{}, Problem: snap.reasons[ch]}
		from := s.cfg
		if len(st.SetBy) > 0 {
			from = c.flags
		}
		for _, f := range channelFields[ch] {
			if v := *f.of(&from); f.secret {
				st.secrets[f.Form()] = v != ""
			} else {
				st.values[f.Form()] = v
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// Save checks and saves channel's settings from in, whose other
// channels' fields are ignored; an empty secret keeps the saved one (but
// no username drops the password). Bad fields are a FieldErrors and save
// nothing; a channel the flags set is refused (ErrSetByFlags). The save
// is audited as actor.
func (c *Channels) Save(ctx context.Context, channel string, in Config, actor string) error {
	fields, ok := channelFields[channel]
	if !ok {
		return fmt.Errorf("%q is not a channel: email, slack or webhook", channel)
	}
	if by := c.setBy(channel); len(by) > 0 {
		return fmt.Errorf("%s is set by %s: %w", channel, strings.Join(by, ", "), ErrSetByFlags)
	}
	all, err := c.readSaved(ctx)
	if err != nil {
		return err
	}
	old := all[channel].cfg // empty when none, or when it cannot be opened
	var next Config
	var detail []string
	for _, f := range fields {
		v := *f.of(&in)
		if f.flag != "smtp-password" { // a password may start or end with a space
			v = strings.TrimSpace(v)
		}
		prev := *f.of(&old)
		switch {
		case !f.secret:
			if v != "" {
				detail = append(detail, fieldLabels[f.flag]+" "+v)
			}
		case f.flag == "smtp-password" && strings.TrimSpace(next.SMTPUsername) == "" && v == "":
			// No username: no authentication, so no password to keep.
			if prev != "" {
				detail = append(detail, fieldLabels[f.flag]+" removed")
			}
		case v == "" && prev != "":
			v = prev
			detail = append(detail, fieldLabels[f.flag]+" kept")
		case v != "" && prev == "":
			detail = append(detail, fieldLabels[f.flag]+" set")
		case v != "" && v != prev:
			detail = append(detail, fieldLabels[f.flag]+" changed")
		case v != "":
			detail = append(detail, fieldLabels[f.flag]+" kept")
		}
		*f.of(&next) = v
	}
	if errs := checkChannel(channel, next); len(errs) > 0 {
		return errs
	}
	// The flags' own rules, as the last word: what is saved must pass them.
	var check Config
	copyChannel(&check, &next, channel)
	if err := check.Validate(); err != nil {
		return fmt.Errorf("the %s settings are not valid: %w", channel, err)
	}
	sealed, err := c.seal(channel, next)
	if err != nil {
		return fmt.Errorf("save the %s settings: %w", channel, err)
	}
	err = c.store.SaveChannelSettings(ctx, roster.ChannelSettings{Channel: channel, Sealed: sealed, UpdatedBy: actor},
		roster.AuditEntry{Actor: actor, Kind: "settings", Action: "save_notification_channel",
			Target: "notification channel " + channel, Result: "ok", Detail: strings.Join(detail, "; ")})
	c.forget()
	if err != nil {
		return fmt.Errorf("save the %s settings: %w", channel, err)
	}
	return nil
}

// Remove deletes channel's saved settings, audited as actor; the store's
// ErrNotFound when none are saved.
func (c *Channels) Remove(ctx context.Context, channel, actor string) error {
	if _, ok := channelFields[channel]; !ok {
		return fmt.Errorf("%q is not a channel: email, slack or webhook", channel)
	}
	err := c.store.DeleteChannelSettings(ctx, channel, roster.AuditEntry{Actor: actor, Kind: "settings",
		Action: "remove_notification_channel", Target: "notification channel " + channel, Result: "ok"})
	c.forget()
	if err != nil {
		return fmt.Errorf("remove the %s settings: %w", channel, err)
	}
	return nil
}

// Test sends a test message by channel as configured now (read afresh),
// to the address to for email; Slack and the webhook go to their own
// target. A bad address is a FieldErrors ("test_to"); a failure is said
// in plain words, e.g. "could not connect to smtp.example.com:587:
// connection refused".
func (c *Channels) Test(ctx context.Context, channel, to, actor string) error {
	if _, ok := channelFields[channel]; !ok {
		return fmt.Errorf("%q is not a channel: email, slack or webhook", channel)
	}
	m := Message{Key: "test:" + channel + ":" + strings.ToLower(rand.Text()[:10]), Channel: channel,
		Subject: "Test message from roster", Event: "roster.test", Data: map[string]any{"test": true},
		Text: "This is a test message, sent from roster's Settings → Notifications by " +
			strings.TrimPrefix(actor, "operator:") + ". If you can read it, the " + channel + " channel works."}
	if channel == ChannelEmail {
		to = strings.TrimSpace(to)
		if to == "" {
			return FieldErrors{"test_to": "Enter the address to send the test message to."}
		}
		if _, err := mail.ParseAddress(to); err != nil {
			return FieldErrors{"test_to": fmt.Sprintf("%q is not an email address.", to)}
		}
		m.To = []string{to}
	}
	c.forget()
	snap := c.current(ctx)
	if reason := snap.reasons[channel]; reason != "" {
		return errors.New(reason)
	}
	var err error
	if _, derr := snap.n.deliver(ctx, m); derr != nil {
		err = errors.New(plainError(derr, target(snap.n.cfg, channel)))
	}
	c.recordTest(ctx, m, err)
	return err
}

// recordTest lists a test message on the Sent notifications page, as
// every message is, when the store keeps the notification log. A record
// that cannot be written leaves the test's answer alone.
func (c *Channels) recordTest(ctx context.Context, m Message, err error) {
	log, ok := c.store.(Log)
	if !ok {
		return
	}
	n := Record(m)
	n.Status, n.UpdatedAt = roster.NotificationSent, time.Now().UTC()
	if err != nil {
		n.Status, n.Error = roster.NotificationFailed, err.Error()
	}
	_, _ = log.RecordNotification(context.WithoutCancel(ctx), n)
}

// fieldLabels name the settings in plain words, for the audit log.
var fieldLabels = map[string]string{
	"smtp-addr": "SMTP server", "smtp-username": "username", "smtp-password": "password",
	"smtp-from": "From address", "smtp-tls": "TLS", "slack-webhook-url": "Slack webhook URL",
	"webhook-url": "webhook URL", "webhook-secret": "signing secret",
}

// checkChannel is the dashboard's wording of Config.Validate's rules for
// one channel, each error beside its form field. Unlike the flags, every
// channel here is being turned on, so its main setting is required.
func checkChannel(channel string, c Config) FieldErrors {
	errs := FieldErrors{}
	switch channel {
	case ChannelEmail:
		host, ok := splitHostPort(c.SMTPAddr)
		if !ok {
			errs["smtp_addr"] = "Enter the SMTP server as host:port, e.g. smtp.example.com:587."
		}
		if c.SMTPFrom == "" {
			errs["smtp_from"] = "Enter the From address of roster's emails."
		} else if _, err := mail.ParseAddress(c.SMTPFrom); err != nil {
			errs["smtp_from"] = fmt.Sprintf("%q is not an email address.", c.SMTPFrom)
		}
		switch c.SMTPTLS {
		case "", TLSStartTLS, TLSImplicit:
		case TLSNone:
			if ok && c.SMTPUsername != "" && !smtpLocal(host) {
				errs["smtp_tls"] = "With a username, choose STARTTLS or TLS: without TLS the password would be sent in clear."
			}
		default:
			errs["smtp_tls"] = "Choose STARTTLS, TLS or none."
		}
		if c.SMTPPassword != "" && c.SMTPUsername == "" {
			errs["smtp_username"] = "Enter the username the password belongs to."
		}
	case ChannelSlack:
		if c.SlackWebhookURL == "" {
			errs["slack_webhook_url"] = "Enter the Slack incoming-webhook URL."
		} else if checkURL(c.SlackWebhookURL) != nil {
			// The URL is a secret: never echoed.
			errs["slack_webhook_url"] = "Enter an https URL, like https://hooks.slack.com/services/…"
		}
	case ChannelWebhook:
		if c.WebhookURL == "" {
			errs["webhook_url"] = "Enter the URL that receives the webhook."
		} else if checkURL(c.WebhookURL) != nil {
			errs["webhook_url"] = "Enter an https URL (http only for this machine, like http://127.0.0.1:8080/hook)."
		}
		if c.WebhookSecret == "" {
			errs["webhook_secret"] = "Enter a signing secret: the receiver checks each request's signature with it."
		}
	}
	return errs
}

// target is what a channel's errors may name: the SMTP server, or the
// host of a URL (a Slack URL's path is its secret).
func target(c Config, channel string) string {
	switch channel {
	case ChannelEmail:
		return c.SMTPAddr
	case ChannelSlack:
		return hostOf(c.SlackWebhookURL)
	}
	return hostOf(c.WebhookURL)
}

// plainError says why a send to target failed, in words an admin reads:
// no dial or syscall jargon.
func plainError(err error, target string) string {
	var (
		dns  *net.DNSError
		op   *net.OpError
		te   *textproto.Error
		cert *tls.CertificateVerificationError
		uae  x509.UnknownAuthorityError
		hn   x509.HostnameError
		ne   net.Error
	)
	timeout := errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		return fmt.Sprintf("could not connect to %s: no such host", target)
	case errors.As(err, &op) && op.Op == "dial" && timeout:
		return fmt.Sprintf("could not connect to %s: no answer in time", target)
	case errors.As(err, &op) && op.Op == "dial":
		var sys *os.SyscallError
		if errors.As(op.Err, &sys) {
			return fmt.Sprintf("could not connect to %s: %v", target, sys.Err)
		}
		return fmt.Sprintf("could not connect to %s: %v", target, op.Err)
	case timeout:
		return fmt.Sprintf("%s did not answer in time", target)
	case errors.As(err, &te):
		return fmt.Sprintf("the mail server %s refused: %d %s", target, te.Code, te.Msg)
	case errors.As(err, &uae), errors.As(err, &hn), errors.As(err, &cert):
		return fmt.Sprintf("%s's TLS certificate is not trusted: %v", target, err)
	}
	return err.Error()
}
