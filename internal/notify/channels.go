package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"roster"
)

// ChannelStore keeps the channels' settings saved in the dashboard;
// store.Store implements it.
type ChannelStore interface {
	ChannelSettings(ctx context.Context) ([]roster.ChannelSettings, error)
	SaveChannelSettings(ctx context.Context, c roster.ChannelSettings, audit roster.AuditEntry) error
	DeleteChannelSettings(ctx context.Context, channel string, audit roster.AuditEntry) error
}

// Sealer seals the saved settings, which hold secrets; *secret.Sealer
// implements it.
type Sealer interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}

// DefaultMaxAge is how long Channels uses the saved settings it read
// before reading them again.
const DefaultMaxAge = 5 * time.Second

// Channels sends by email, Slack and the webhook as configured now. For
// each channel, the flags' and environment's settings apply when any of
// that channel's flags is set: flags win. Otherwise the settings an admin
// saved under Settings → Notifications apply. Saved settings are read
// again once older than MaxAge, so a change made in the dashboard reaches
// every process without a restart. It is safe for concurrent use.
type Channels struct {
	flags  Config
	store  ChannelStore
	sealer Sealer
	// MaxAge is how long the saved settings read are used; 0 is
	// DefaultMaxAge. Set it before the first use.
	MaxAge time.Duration

	mu   sync.Mutex
	snap *snapshot
}

// NewChannels checks the flags' settings (Config.Validate) and returns
// Channels over them and the settings saved in st, sealed by sealer.
func NewChannels(flags Config, st ChannelStore, sealer Sealer) (*Channels, error) {
	if err := flags.Validate(); err != nil {
		return nil, fmt.Errorf("notification settings: %w", err)
	}
	if st == nil || sealer == nil {
		return nil, errors.New("notification settings: a store and a sealer are required")
	}
	if flags.HTTPClient == nil {
		flags.HTTPClient = defaultClient() // one client, shared by every snapshot
	}
	return &Channels{flags: flags, store: st, sealer: sealer}, nil
}

// channelField is one setting of a channel: its flag, and where it lives
// in Config.
type channelField struct {
	flag   string // without "--"; the form's field is the same with "_"
	secret bool
	of     func(c *Config) *string
}

// Form is the field's name in the dashboard's form, and in FieldErrors.
func (f channelField) Form() string { return strings.ReplaceAll(f.flag, "-", "_") }

// channelFields are each channel's settings; the first one is the
// setting that turns the channel on.
var channelFields = map[string][]channelField{
	ChannelEmail: {
		{flag: "smtp-addr", of: func(c *Config) *string { return &c.SMTPAddr }},
		{flag: "smtp-username", of: func(c *Config) *string { return &c.SMTPUsername }},
		{flag: "smtp-password", secret: true, of: func(c *Config) *string { return &c.SMTPPassword }},
		{flag: "smtp-from", of: func(c *Config) *string { return &c.SMTPFrom }},
		{flag: "smtp-tls", of: func(c *Config) *string { return &c.SMTPTLS }},
	},
	ChannelSlack: {
		{flag: "slack-webhook-url", secret: true, of: func(c *Config) *string { return &c.SlackWebhookURL }},
	},
	ChannelWebhook: {
		{flag: "webhook-url", of: func(c *Config) *string { return &c.WebhookURL }},
		{flag: "webhook-secret", secret: true, of: func(c *Config) *string { return &c.WebhookSecret }},
	},
}

// channelOrder is the order the dashboard shows the channels in.
var channelOrder = []string{ChannelEmail, ChannelSlack, ChannelWebhook}

// envOf is a flag's environment variable, as roster's commands name them:
// ROSTER_ and the flag in capitals, "-" as "_".
func envOf(flag string) string {
	return "ROSTER_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// setBy names the flags that set channel, each with its variable, e.g.
// "--smtp-addr (ROSTER_SMTP_ADDR)"; none when the flags leave it alone.
func (c *Channels) setBy(channel string) []string {
	var out []string
	for _, f := range channelFields[channel] {
		if *f.of(&c.flags) != "" {
			out = append(out, "--"+f.flag+" ("+envOf(f.flag)+")")
		}
	}
	return out
}

// copyChannel copies channel's settings from src to dst.
func copyChannel(dst, src *Config, channel string) {
	for _, f := range channelFields[channel] {
		*f.of(dst) = *f.of(src)
	}
}

// saved is one channel's saved settings, opened.
type saved struct {
	cfg       Config // only the channel's own fields are set
	updatedAt time.Time
	updatedBy string
	err       error // why the sealed settings could not be opened
}

// savedJSON is the sealed JSON of one channel's settings, keyed by flag.
type savedJSON map[string]string

// readSaved reads and opens every channel's saved settings.
func (c *Channels) readSaved(ctx context.Context) (map[string]saved, error) {
	rows, err := c.store.ChannelSettings(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the saved notification settings: %w", err)
	}
	out := make(map[string]saved, len(rows))
	for _, row := range rows {
		s := saved{updatedAt: row.UpdatedAt, updatedBy: row.UpdatedBy}
		var values savedJSON
		plain, err := c.sealer.Open(row.Sealed)
		if err == nil {
			err = json.Unmarshal(plain, &values)
		}
		if err != nil {
			s.err = fmt.Errorf("the saved settings cannot be opened (%w); was the secret key changed? Save them again", err)
		}
		for _, f := range channelFields[row.Channel] {
			*f.of(&s.cfg) = values[f.flag]
		}
		out[row.Channel] = s
	}
	return out, nil
}

// seal is the sealed JSON of channel's settings in cfg.
func (c *Channels) seal(channel string, cfg Config) ([]byte, error) {
	values := savedJSON{}
	for _, f := range channelFields[channel] {
		if v := *f.of(&cfg); v != "" {
			values[f.flag] = v
		}
	}
	plain, err := json.Marshal(values)
	if err != nil {
		return nil, fmt.Errorf("encode the settings: %w", err)
	}
	sealed, err := c.sealer.Seal(plain)
	if err != nil {
		return nil, fmt.Errorf("seal the settings: %w", err)
	}
	return sealed, nil
}

// snapshot is the configuration in effect, as of one read of the saved
// settings.
type snapshot struct {
	read    time.Time
	n       *Notifier         // over the effective configuration
	reasons map[string]string // "" when the channel can send
	readErr error             // the saved settings could not be read
}

// effective merges the flags with the saved settings, channel by channel,
// and says why each channel cannot send, or "".
func (c *Channels) effective(all map[string]saved, readErr error) *snapshot {
	cfg := Config{HTTPClient: c.flags.HTTPClient, Logger: c.flags.Logger}
	reasons := map[string]string{}
	for _, ch := range channelOrder {
		s, ok := all[ch]
		switch {
		case len(c.setBy(ch)) > 0:
			copyChannel(&cfg, &c.flags, ch)
			reasons[ch] = c.flags.reason(ch)
		case readErr != nil:
			reasons[ch] = ch + ": " + readErr.Error()
		case !ok:
			reasons[ch] = fmt.Sprintf("%s: not set; set it under Settings → Notifications or with --%s",
				ch, channelFields[ch][0].flag)
		case s.err != nil:
			reasons[ch] = ch + ": " + s.err.Error() + " under Settings → Notifications"
		default:
			if errs := checkChannel(ch, s.cfg); len(errs) > 0 {
				reasons[ch] = ch + ": the saved settings are not valid (" + errs.Error() +
					"); correct them under Settings → Notifications"
				break
			}
			copyChannel(&cfg, &s.cfg, ch)
			reasons[ch] = ""
		}
	}
	return &snapshot{read: time.Now(), n: newNotifier(cfg), reasons: reasons, readErr: readErr}
}

// current is the configuration in effect, read again when older than
// MaxAge. A failed read is not kept: the next call tries again.
func (c *Channels) current(ctx context.Context) *snapshot {
	maxAge := c.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	c.mu.Lock()
	snap := c.snap
	c.mu.Unlock()
	if snap != nil && time.Since(snap.read) < maxAge {
		return snap
	}
	all, err := c.readSaved(ctx)
	snap = c.effective(all, err)
	if err == nil {
		c.mu.Lock()
		c.snap = snap
		c.mu.Unlock()
	}
	return snap
}

// forget drops the kept settings: this process saved new ones.
func (c *Channels) forget() {
	c.mu.Lock()
	c.snap = nil
	c.mu.Unlock()
}

// Send delivers m by its channel as configured now. A channel set
// neither by flags nor in the dashboard answers ErrNotConfigured; saved
// settings that cannot be read now fail transiently.
func (c *Channels) Send(ctx context.Context, m Message) error {
	snap := c.current(ctx)
	reason, known := snap.reasons[m.Channel]
	switch {
	case !known:
		return permanent(fmt.Errorf("%q is not a channel: email, slack or webhook", m.Channel))
	case reason != "" && snap.readErr != nil && len(c.setBy(m.Channel)) == 0:
		return fmt.Errorf("%s notification %q: %w", m.Channel, m.Key, snap.readErr)
	case reason != "":
		return fmt.Errorf("%s: %w", reason, ErrNotConfigured)
	}
	return snap.n.Send(ctx, m)
}

// Channels says for each channel "" when it can send, or the plain reason
// it cannot and where to set it, e.g. "webhook: not set; set it under
// Settings → Notifications or with --webhook-url".
func (c *Channels) Channels() map[string]string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := map[string]string{}
	for ch, reason := range c.current(ctx).reasons {
		out[ch] = reason
	}
	return out
}

var _ Sender = (*Channels)(nil)
