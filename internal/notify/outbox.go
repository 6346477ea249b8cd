package notify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"roster"
)

// ChannelOutbox keeps a message in the store and delivers it nowhere else:
// the channel that works with nothing configured.
const ChannelOutbox = roster.ChannelOutbox

// Log records notifications; store.Store implements it.
type Log interface {
	RecordNotification(ctx context.Context, n roster.Notification) (roster.Notification, error)
}

// Sender delivers a message; *Notifier implements it.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Outbox sends every message through Next (the outbox channel through
// nothing) and records each attempt in Log, sent or failed, so the
// dashboard can list and retry them. It is safe for concurrent use.
type Outbox struct {
	Log Log
	// Next delivers the other channels; nil leaves them unconfigured.
	Next   Sender
	Logger *slog.Logger
	Now    func() time.Time
}

// Send delivers m and records the attempt (but a channel not configured
// for a message from no workflow run). For the outbox channel the
// record is the delivery, so failing to write it fails the send; for the
// others a record that cannot be written is logged, and Send answers
// what the channel did.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	var err error
	switch {
	case m.Channel == ChannelOutbox:
	case o.Next == nil:
		err = fmt.Errorf("%s: no channel but the outbox is configured: %w", m.Channel, ErrNotConfigured)
	default:
		err = o.Next.Send(ctx, m)
	}
	if errors.Is(err, ErrNotConfigured) && m.RunID == 0 {
		// Nothing was tried: a renewal reminder tries every channel and
		// skips those not set, which is no failure to list.
		return err
	}
	now := time.Now()
	if o.Now != nil {
		now = o.Now()
	}
	n := Record(m)
	n.Status, n.UpdatedAt = roster.NotificationSent, now.UTC()
	if err != nil {
		n.Status, n.Error = roster.NotificationFailed, err.Error()
		if m.RetryAfter > 0 && !IsPermanent(err) {
			n.RetryAt = n.UpdatedAt.Add(m.RetryAfter)
		}
	}
	// What was sent must be recorded even when the caller gives up now.
	if _, rerr := o.Log.RecordNotification(context.WithoutCancel(ctx), n); rerr != nil {
		if m.Channel == ChannelOutbox {
			return fmt.Errorf("outbox notification %q: %w", m.Key, rerr)
		}
		cmp.Or(o.Logger, slog.New(slog.DiscardHandler)).ErrorContext(ctx, "record a notification",
			"channel", m.Channel, "key", m.Key, "error", rerr)
	}
	return err
}

// Channels is Next's channels (each "" when configured, else why not)
// and the outbox, always configured.
func (o *Outbox) Channels() map[string]string {
	out := map[string]string{}
	if c, ok := o.Next.(interface{ Channels() map[string]string }); ok {
		out = c.Channels()
	} else {
		for _, ch := range []string{ChannelEmail, ChannelSlack, ChannelWebhook} {
			out[ch] = ch + ": no channel but the outbox is configured"
		}
	}
	out[ChannelOutbox] = ""
	return out
}

// Record is the notification record of m, before any attempt.
func Record(m Message) roster.Notification {
	return roster.Notification{Key: m.Key, Channel: m.Channel, To: m.To, Subject: m.Subject, Text: m.Text,
		Event: m.Event, RunID: m.RunID}
}

// Resend rebuilds the message of a recorded notification, to send it
// again under its key. Data, sent only to the webhook, is rebuilt from
// the record: the run and its event.
func Resend(n roster.Notification) (Message, error) {
	if n.Key == "" || n.Channel == "" {
		return Message{}, errors.New("the record has no key or channel")
	}
	data := map[string]any{"resent": true}
	if n.RunID > 0 {
		data["run_id"] = n.RunID
	}
	return Message{Key: n.Key, Channel: n.Channel, To: n.To, Subject: n.Subject, Text: n.Text,
		Event: n.Event, Data: data, RunID: n.RunID}, nil
}
