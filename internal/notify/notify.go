// Package notify sends workflow notifications by email (SMTP), to a Slack
// incoming webhook and to a generic, signed webhook. It is a client only:
// it serves nothing. Errors say whether a retry can help (IsPermanent), so
// the job that sends can retry transient failures and give up on the rest.
package notify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"roster"
)

// The channels a Message can go to; the same names as the workflow's.
const (
	ChannelEmail   = roster.ChannelEmail
	ChannelSlack   = roster.ChannelSlack
	ChannelWebhook = roster.ChannelWebhook
)

// SMTP TLS modes.
const (
	TLSStartTLS = "starttls" // the default
	TLSImplicit = "tls"
	TLSNone     = "none"
)

// Config says where notifications go. Zero fields mean the channel is not
// configured.
type Config struct {
	SMTPAddr     string // host:port
	SMTPUsername string
	SMTPPassword string
	SMTPFrom     string // the From address, required for email
	// SMTPTLS is "starttls" (the default: STARTTLS when the server offers
	// it, required when a username is set, unless the server is on
	// loopback), "tls" (implicit TLS, port 465) or "none" (plain, for a
	// local relay).
	SMTPTLS string

	SlackWebhookURL string // a Slack incoming-webhook URL: a secret
	WebhookURL      string // a generic webhook receiver
	// WebhookSecret is the HMAC-SHA256 key of the webhook's signature
	// header; required when WebhookURL is set.
	WebhookSecret string

	// HTTPClient posts to Slack and the webhook. Default: a 15 s timeout
	// and no redirects (a redirected POST would arrive as a GET).
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// Validate reports every bad field in plain words, naming its flag.
func (c Config) Validate() error {
	return errors.Join(c.validateEmail(), c.validateSlack(), c.validateWebhook())
}

// Channels says for each channel "" when it is configured, or the plain
// reason it is not, e.g. "email: --smtp-addr is not set".
func (c Config) Channels() map[string]string {
	return map[string]string{
		ChannelEmail:   c.reason(ChannelEmail),
		ChannelSlack:   c.reason(ChannelSlack),
		ChannelWebhook: c.reason(ChannelWebhook),
	}
}

// Channels says for each channel "" when it is configured, or the plain
// reason it is not; see Config.Channels.
func (n *Notifier) Channels() map[string]string { return n.cfg.Channels() }

// reason is why channel cannot send, or "".
func (c Config) reason(channel string) string {
	var set bool
	var flag string
	var err error
	switch channel {
	case ChannelEmail:
		set, flag, err = c.SMTPAddr != "", "--smtp-addr", c.validateEmail()
	case ChannelSlack:
		set, flag, err = c.SlackWebhookURL != "", "--slack-webhook-url", c.validateSlack()
	case ChannelWebhook:
		set, flag, err = c.WebhookURL != "", "--webhook-url", c.validateWebhook()
	default:
		return fmt.Sprintf("%q is not a channel: email, slack or webhook", channel)
	}
	switch {
	case !set:
		return channel + ": " + flag + " is not set"
	case err != nil:
		return channel + ": " + strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	return ""
}

func (c Config) validateEmail() error {
	if c.SMTPAddr == "" {
		var errs []error
		for _, f := range [][2]string{
			{"--smtp-username", c.SMTPUsername}, {"--smtp-password", c.SMTPPassword},
			{"--smtp-from", c.SMTPFrom}, {"--smtp-tls", c.SMTPTLS},
		} {
			if f[1] != "" {
				errs = append(errs, fmt.Errorf("%s is set but --smtp-addr is not", f[0]))
			}
		}
		return errors.Join(errs...)
	}
	var errs []error
	host, ok := splitHostPort(c.SMTPAddr)
	if !ok {
		errs = append(errs, fmt.Errorf("--smtp-addr %q is not host:port, e.g. smtp.example.com:587", c.SMTPAddr))
	}
	if c.SMTPFrom == "" {
		errs = append(errs, errors.New("--smtp-from is required when --smtp-addr is set"))
	} else if _, err := mail.ParseAddress(c.SMTPFrom); err != nil {
		errs = append(errs, fmt.Errorf("--smtp-from %q is not an email address", c.SMTPFrom))
	}
	switch c.SMTPTLS {
	case "", TLSStartTLS, TLSImplicit:
	case TLSNone:
		// net/smtp sends a password in clear only to loopback.
		if c.SMTPUsername != "" && !smtpLocal(host) {
			errs = append(errs, errors.New("--smtp-username needs TLS: --smtp-tls none would send the password in clear"))
		}
	default:
		errs = append(errs, fmt.Errorf("--smtp-tls %q is not starttls, tls or none", c.SMTPTLS))
	}
	if c.SMTPPassword != "" && c.SMTPUsername == "" {
		errs = append(errs, errors.New("--smtp-password is set but --smtp-username is not"))
	}
	return errors.Join(errs...)
}

func (c Config) validateSlack() error {
	if c.SlackWebhookURL == "" {
		return nil
	}
	// The URL is a secret: name the flag, never echo the value.
	if err := checkURL(c.SlackWebhookURL); err != nil {
		return fmt.Errorf("--slack-webhook-url %v", err)
	}
	return nil
}

func (c Config) validateWebhook() error {
	if c.WebhookURL == "" {
		if c.WebhookSecret != "" {
			return errors.New("--webhook-secret is set but --webhook-url is not")
		}
		return nil
	}
	var errs []error
	if err := checkURL(c.WebhookURL); err != nil {
		errs = append(errs, fmt.Errorf("--webhook-url %v", err))
	}
	if c.WebhookSecret == "" {
		errs = append(errs, errors.New("--webhook-secret is required when --webhook-url is set"))
	}
	return errors.Join(errs...)
}

// splitHostPort is addr's host when addr is host:port with a port from 1
// to 65535.
func splitHostPort(addr string) (string, bool) {
	host, port, err := net.SplitHostPort(addr)
	if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
		return host, false
	}
	return host, true
}

// checkURL accepts https URLs, and http ones on loopback (a local relay or
// a test receiver).
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("is not an http(s) URL")
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return errors.New("must use https (http only on loopback)")
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Message is one notification.
type Message struct {
	// Key identifies this notification (a workflow run's step). It is sent
	// as the webhook's Idempotency-Key header and makes the email's
	// Message-ID (<key-hash@roster>), so receivers can drop a resend.
	// Slack has no such field.
	Key     string
	Channel string   // "email", "slack", "webhook"
	To      []string // email only
	Subject string   // email subject; webhook "subject"
	Text    string   // the body, plain text
	// Event names the webhook event, e.g. "workflow.notify",
	// "workflow.approval".
	Event string
	// Data is extra JSON for the webhook body (run id, workflow, email,
	// links...).
	Data map[string]any
	// RunID is the workflow run the message comes from (0 for none), and
	// RetryAfter, when positive, asks the Outbox to record a transient
	// failure as due again after it. Neither is sent.
	RunID      int64
	RetryAfter time.Duration
}

// ErrNotConfigured means the message's channel has no configuration. It is
// permanent.
var ErrNotConfigured = errors.New("channel not configured")

// PermanentError is a failure retrying will not fix: a 4xx answer other
// than 408 and 429, an SMTP 5xx reply, a bad address.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

func permanent(err error) error { return &PermanentError{Err: err} }

// IsPermanent reports whether retrying err cannot help. Everything not
// marked permanent (network errors, 5xx, 429, SMTP 4xx) is transient.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p) || errors.Is(err, ErrNotConfigured)
}

// Notifier sends Messages over the configured channels. It is safe for
// concurrent use.
type Notifier struct {
	cfg    Config
	client *http.Client
	logger *slog.Logger
	now    func() time.Time
}

// New checks c and returns a Notifier over it. Channels left unconfigured
// answer ErrNotConfigured.
func New(c Config) (*Notifier, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("notification settings: %w", err)
	}
	return newNotifier(c), nil
}

// newNotifier is a Notifier over c, checked or not: Channels checks
// each channel's settings by itself.
func newNotifier(c Config) *Notifier {
	client := c.HTTPClient
	if client == nil {
		client = defaultClient()
	}
	return &Notifier{
		cfg:    c,
		client: client,
		logger: cmp.Or(c.Logger, slog.New(slog.DiscardHandler)),
		now:    time.Now,
	}
}

// defaultClient posts with a 15 s timeout and follows no redirect: a
// redirected POST would arrive as a GET.
func defaultClient() *http.Client {
	return &http.Client{
		Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Send delivers m once. Its error says which channel failed and why; see
// IsPermanent.
func (n *Notifier) Send(ctx context.Context, m Message) error {
	if reason := n.cfg.reason(m.Channel); reason != "" {
		if m.Channel != ChannelEmail && m.Channel != ChannelSlack && m.Channel != ChannelWebhook {
			return permanent(errors.New(reason))
		}
		return fmt.Errorf("%s: %w", reason, ErrNotConfigured)
	}
	start := n.now()
	host, err := n.deliver(ctx, m)
	if err != nil {
		return fmt.Errorf("%s notification %q: %w", m.Channel, m.Key, err)
	}
	// The host only: Slack's URL path is its secret.
	n.logger.InfoContext(ctx, "notification sent", "channel", m.Channel, "key", m.Key,
		"host", host, "duration", n.now().Sub(start))
	return nil
}

// deliver sends m by its channel, which must be configured, and answers
// the host it went to.
func (n *Notifier) deliver(ctx context.Context, m Message) (string, error) {
	switch m.Channel {
	case ChannelEmail:
		return n.sendEmail(ctx, m)
	case ChannelSlack:
		return n.sendSlack(ctx, m)
	case ChannelWebhook:
		return n.sendWebhook(ctx, m)
	}
	return "", permanent(fmt.Errorf("%q is not a channel: email, slack or webhook", m.Channel))
}
