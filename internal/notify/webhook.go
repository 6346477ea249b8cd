package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The webhook's headers.
const (
	HeaderIdempotencyKey = "Idempotency-Key"
	HeaderTimestamp      = "X-Roster-Timestamp" // unix seconds
	HeaderSignature      = "X-Roster-Signature" // "sha256=<hex>"
)

// DefaultTolerance is how far a webhook's timestamp may be from the
// receiver's clock when Verify is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// ErrBadSignature is wrapped by every Verify failure.
var ErrBadSignature = errors.New("webhook signature does not verify")

// WebhookBody is the JSON the generic webhook receives.
type WebhookBody struct {
	Event   string         `json:"event"`
	Key     string         `json:"key"`
	Subject string         `json:"subject"`
	Text    string         `json:"text"`
	SentAt  string         `json:"sent_at"` // RFC 3339
	Data    map[string]any `json:"data"`
}

func (n *Notifier) sendWebhook(ctx context.Context, m Message) (string, error) {
	now := n.now()
	data := m.Data
	if data == nil {
		data = map[string]any{}
	}
	body, err := json.Marshal(WebhookBody{
		Event: m.Event, Key: m.Key, Subject: m.Subject, Text: m.Text,
		SentAt: now.UTC().Format(time.RFC3339), Data: data,
	})
	if err != nil {
		return hostOf(n.cfg.WebhookURL), permanent(fmt.Errorf("encode body: %w", err))
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	if m.Key != "" {
		h.Set(HeaderIdempotencyKey, m.Key)
	}
	h.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(HeaderSignature, Sign(n.cfg.WebhookSecret, now.Unix(), body))
	return n.post(ctx, n.cfg.WebhookURL, h, body)
}

func (n *Notifier) sendSlack(ctx context.Context, m Message) (string, error) {
	text := m.Text
	if m.Subject != "" {
		text = m.Subject + "\n" + m.Text
	}
	body, err := json.Marshal(map[string]string{"text": text})
	if err != nil {
		return hostOf(n.cfg.SlackWebhookURL), permanent(fmt.Errorf("encode body: %w", err))
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return n.post(ctx, n.cfg.SlackWebhookURL, h, body)
}

// post sends body to rawURL and sorts the answer into success, transient
// and permanent failures. Errors name the host only: a Slack webhook URL
// is a secret, and url.Error would quote it whole.
func (n *Notifier) post(ctx context.Context, rawURL string, h http.Header, body []byte) (string, error) {
	host := hostOf(rawURL)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return host, permanent(fmt.Errorf("post to %s: the URL does not make a request", host))
	}
	req.Header = h
	resp, err := n.client.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return host, fmt.Errorf("post to %s: %w", host, err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return host, nil
	}
	err = fmt.Errorf("%s answered %s: %q", host, resp.Status, strings.TrimSpace(string(snippet)))
	if resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests ||
		resp.StatusCode >= 500 {
		return host, err
	}
	return host, permanent(err)
}

// hostOf is what may be logged of a URL.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(bad URL)"
	}
	return u.Host
}

// Sign is the X-Roster-Signature value for body sent at timestamp (unix
// seconds): "sha256=" and the hex HMAC-SHA256 of "<timestamp>.<body>".
// The timestamp is in the MAC so a captured request cannot be replayed
// later with a fresh one.
func Sign(secret string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(timestamp, 10) + "."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a webhook request's signature, as a receiver should: the
// timestamp within tolerance of now (DefaultTolerance when 0) and the
// signature over it and body. Every failure wraps ErrBadSignature.
func Verify(secret string, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if secret == "" {
		return fmt.Errorf("%w: the receiver has no secret", ErrBadSignature)
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	ts, err := strconv.ParseInt(header.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s is missing or not unix seconds", ErrBadSignature, HeaderTimestamp)
	}
	if skew := now.Sub(time.Unix(ts, 0)); skew > tolerance || skew < -tolerance {
		return fmt.Errorf("%w: the timestamp is %s from now, beyond %s", ErrBadSignature, skew.Round(time.Second), tolerance)
	}
	if !hmac.Equal([]byte(header.Get(HeaderSignature)), []byte(Sign(secret, ts, body))) {
		return fmt.Errorf("%w: %s does not match the body", ErrBadSignature, HeaderSignature)
	}
	return nil
}
