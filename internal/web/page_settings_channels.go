package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"roster"
	"roster/internal/notify"
	"roster/internal/store"
)

// The notification channels' cards on the settings page (Settings →
// Notifications): each channel's settings, saved sealed by
// notify.Channels, which checks them, and a test message through the
// channel as configured now. Flags and environment variables win over
// what is saved here, and then the card is read only.

// channelCard is one channel's card, at #notify-<channel>.
type channelCard struct {
	Channel, Title, About string
	// SetBy names the flags that set the channel ("" when none).
	SetBy     string
	Saved     bool
	UpdatedAt time.Time
	UpdatedBy string
	// InUse is true when the channel can send; Status says how it
	// stands in plain words.
	InUse  bool
	Status string
	Fields []channelInput
	// Invalid marks a refused save; Failure a refusal no field holds.
	Invalid bool
	Failure string
	// JustSaved and JustRemoved follow a save or a removal.
	JustSaved, JustRemoved bool
	// The test message: the address typed (email), its error, the
	// outcome.
	TestTo, TestToError string
	Tested              bool
	TestError           string
}

// Anchor is the card's id.
func (c channelCard) Anchor() string { return "notify-" + c.Channel }

// channelInput is one input of a card. A secret is never echoed: its
// Hint says whether it is set.
type channelInput struct {
	Name, Label, Type, Value, Error, Hint, Autocomplete string
	Options                                             []channelOption // for Type "select"
}

type channelOption struct {
	Value, Label string
	Selected     bool
}

// channelTitles and channelAbout introduce each card.
var (
	channelTitles = map[string]string{notify.ChannelEmail: "Email (SMTP)", notify.ChannelSlack: "Slack", notify.ChannelWebhook: "Webhook"}
	channelAbout  = map[string]string{
		notify.ChannelEmail:   "Workflow emails and approval requests go through this mail server.",
		notify.ChannelSlack:   "Messages go to the channel of a Slack incoming webhook.",
		notify.ChannelWebhook: "Each message is posted as JSON, signed with the secret (X-Roster-Signature), to a service of yours.",
	}
)

// channelCards are every channel's cards, as stored, but for posted: the
// card just refused or tested, as typed.
func (s *Server) channelCards(r *http.Request, posted *channelCard) ([]channelCard, error) {
	if s.channels == nil {
		return nil, nil
	}
	states, err := s.channels.States(r.Context())
	if err != nil {
		return nil, fmt.Errorf("notification channels: %w", err)
	}
	q := r.URL.Query()
	out := make([]channelCard, 0, len(states))
	for _, st := range states {
		c := cardOf(st, nil)
		if posted != nil && posted.Channel == st.Channel {
			c = *posted
		}
		c.JustSaved = q.Get("channel_saved") == st.Channel
		c.JustRemoved = q.Get("channel_removed") == st.Channel
		out = append(out, c)
	}
	return out, nil
}

// cardStatus is how the channel stands, for the card's header.
func cardStatus(st notify.ChannelState) (setBy string, saved bool, at time.Time, by string, inUse bool, status string) {
	setBy = strings.Join(st.SetBy, ", ")
	switch {
	case setBy != "" && st.Problem == "":
		status = "In use, set by flags."
	case st.Problem == "":
		status = "In use."
	case !st.Saved && setBy == "":
		status = "Not set."
	default:
		status = sentence(strings.TrimSuffix(strings.TrimPrefix(st.Problem, st.Channel+": "), "."))
	}
	return setBy, st.Saved, st.UpdatedAt, st.UpdatedBy, st.Problem == "", status
}

// cardOf is a channel's card: its inputs filled from what is in effect
// (secrets as "set" or "not set"), or, when typed is not nil, from the
// form as typed with its errors.
func cardOf(st notify.ChannelState, typed *form) channelCard {
	c := channelCard{Channel: st.Channel, Title: channelTitles[st.Channel], About: channelAbout[st.Channel]}
	c.SetBy, c.Saved, c.UpdatedAt, c.UpdatedBy, c.InUse, c.Status = cardStatus(st)
	value := func(name string) string {
		if typed != nil {
			return typed.Value(name)
		}
		return st.Value(name)
	}
	text := func(name, label, hint string) channelInput {
		in := channelInput{Name: name, Label: label, Type: "text", Value: value(name), Hint: hint, Autocomplete: "off"}
		if typed != nil {
			in.Error = typed.Error(name)
		}
		return in
	}
	secret := func(name, label string) channelInput {
		in := text(name, label, "Not set.")
		in.Type, in.Value, in.Autocomplete = "password", "", "new-password"
		if st.SecretSet(name) {
			in.Hint = "Set. Leave empty to keep it."
		}
		return in
	}
	switch st.Channel {
	case notify.ChannelEmail:
		tls := channelInput{Name: "smtp_tls", Label: "Encryption", Type: "select"}
		cur := value("smtp_tls")
		for _, o := range []channelOption{
			{Value: notify.TLSStartTLS, Label: "STARTTLS when offered (port 587)"},
			{Value: notify.TLSImplicit, Label: "TLS (port 465)"},
			{Value: notify.TLSNone, Label: "None (a relay on this machine)"},
		} {
			o.Selected = o.Value == cur || (cur == "" && o.Value == notify.TLSStartTLS)
			tls.Options = append(tls.Options, o)
		}
		if typed != nil {
			tls.Error = typed.Error("smtp_tls")
		}
		c.Fields = []channelInput{
			text("smtp_addr", "SMTP server", "host:port, e.g. smtp.example.com:587"),
			text("smtp_from", "From address", "e.g. Roster <roster@example.com>"),
			text("smtp_username", "Username", "Empty: no login. Emptying it removes the password too."),
			secret("smtp_password", "Password"),
			tls,
		}
	case notify.ChannelSlack:
		in := secret("slack_webhook_url", "Incoming-webhook URL")
		if !st.SecretSet("slack_webhook_url") {
			in.Hint = "Not set. Slack shows it when you add an incoming webhook: https://hooks.slack.com/services/…"
		}
		c.Fields = []channelInput{in}
	case notify.ChannelWebhook:
		c.Fields = []channelInput{
			text("webhook_url", "URL", "https; http only for this machine"),
			secret("webhook_secret", "Signing secret"),
		}
	}
	return c
}

// channelOf is the path's channel, or 404.
func (s *Server) channelOf(r *http.Request) (string, error) {
	ch := r.PathValue("channel")
	if s.channels == nil || channelTitles[ch] == "" {
		return "", errNotFound(fmt.Sprintf("There is no notification channel %q: the channels are email, slack and webhook.", ch))
	}
	return ch, nil
}

// channelState is one channel's state now.
func (s *Server) channelState(ctx context.Context, ch string) (notify.ChannelState, error) {
	states, err := s.channels.States(ctx)
	if err != nil {
		return notify.ChannelState{}, fmt.Errorf("notification channels: %w", err)
	}
	for _, st := range states {
		if st.Channel == ch {
			return st, nil
		}
	}
	return notify.ChannelState{}, errNotFound("no such channel")
}

// showChannel shows the settings page with one channel's card as given.
func (s *Server) showChannel(w http.ResponseWriter, r *http.Request, code int, card channelCard) error {
	f, err := s.storedSettingsForm(r)
	if err != nil {
		return err
	}
	return s.showSettings(w, r, code, settingsView{Form: f, Channel: &card})
}

// channelSave saves a channel's settings from its card. notify.Channels
// checks them: a bad field is shown beside itself, 422, nothing saved.
func (s *Server) channelSave(w http.ResponseWriter, r *http.Request) error {
	ch, err := s.channelOf(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	f := newForm()
	in := notify.Config{}
	for name, p := range map[string]*string{
		"smtp_addr": &in.SMTPAddr, "smtp_from": &in.SMTPFrom, "smtp_username": &in.SMTPUsername,
		"smtp_password": &in.SMTPPassword, "smtp_tls": &in.SMTPTLS, "slack_webhook_url": &in.SlackWebhookURL,
		"webhook_url": &in.WebhookURL, "webhook_secret": &in.WebhookSecret,
	} {
		*p = r.PostFormValue(name)
		f.set(name, strings.TrimSpace(*p))
	}
	err = s.channels.Save(ctx, ch, in, authOf(r).Actor())
	var fe notify.FieldErrors
	switch {
	case errors.As(err, &fe):
		for name, msg := range fe {
			f.fail(name, msg)
		}
		st, serr := s.channelState(ctx, ch)
		if serr != nil {
			return serr
		}
		card := cardOf(st, f)
		card.Invalid = true
		return s.showChannel(w, r, http.StatusUnprocessableEntity, card)
	case errors.Is(err, notify.ErrSetByFlags):
		st, serr := s.channelState(ctx, ch)
		if serr != nil {
			return serr
		}
		card := cardOf(st, nil)
		card.Failure = "Nothing was saved: " + err.Error() + "."
		return s.showChannel(w, r, http.StatusConflict, card)
	case err != nil:
		return err
	}
	http.Redirect(w, r, "/settings?channel_saved="+ch+"#notify-"+ch, http.StatusSeeOther)
	return nil
}

// channelRemove clears a channel's saved settings; removing none is done
// already.
func (s *Server) channelRemove(w http.ResponseWriter, r *http.Request) error {
	ch, err := s.channelOf(r)
	if err != nil {
		return err
	}
	if err := s.channels.Remove(r.Context(), ch, authOf(r).Actor()); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	http.Redirect(w, r, "/settings?channel_removed="+ch+"#notify-"+ch, http.StatusSeeOther)
	return nil
}

// channelTest sends a test message through the channel as configured now
// and shows "Sent" or why not beside its card; it is audited either way.
func (s *Server) channelTest(w http.ResponseWriter, r *http.Request) error {
	ch, err := s.channelOf(r)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	to := strings.TrimSpace(r.PostFormValue("test_to"))
	actor := authOf(r).Actor()
	sendErr := s.channels.Test(ctx, ch, to, actor)
	st, err := s.channelState(r.Context(), ch)
	if err != nil {
		return err
	}
	card := cardOf(st, nil)
	card.TestTo = to
	var fe notify.FieldErrors
	if errors.As(sendErr, &fe) {
		card.TestToError = fe["test_to"]
		return s.showChannel(w, r, http.StatusUnprocessableEntity, card)
	}
	card.Tested = true
	entry := roster.AuditEntry{Actor: actor, Kind: "settings", Action: "test_notification_channel",
		Target: "notification channel " + ch, Result: "ok", Detail: "test message sent"}
	if to != "" && ch == notify.ChannelEmail {
		entry.Detail += " to " + to
	}
	if sendErr != nil {
		card.TestError = strings.TrimSuffix(sendErr.Error(), ".")
		entry.Result, entry.Detail = "failed", "test message not sent: "+sendErr.Error()
	}
	s.guard.Audit(r, entry)
	return s.showChannel(w, r, http.StatusOK, card)
}
