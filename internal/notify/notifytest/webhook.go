package notifytest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"roster/internal/notify"
)

// Delivery is one request a webhook receiver got.
type Delivery struct {
	Header http.Header
	Body   []byte
	JSON   map[string]any // the body parsed, nil when it is not a JSON object
	Text   string         // the body's "text" field (Slack's only field)
	Err    string         // why it was rejected, for Rejected deliveries
}

// WebhookServer is a local receiver: the signed generic webhook (NewWebhook)
// or a Slack incoming webhook (NewSlack).
type WebhookServer struct {
	srv    *httptest.Server
	secret string // "" for Slack: no signature
	slack  bool

	mu       sync.Mutex
	accepted []Delivery
	rejected []Delivery
	attempts int
	failN    int
	failCode int
}

// NewWebhook starts a receiver that checks each request's signature with
// notify.Verify under secret: a good one is recorded and answered 200, a
// bad one recorded as Rejected and answered 401. Closed when t ends.
func NewWebhook(t testing.TB, secret string) *WebhookServer {
	return start(t, &WebhookServer{secret: secret})
}

// NewSlack starts a receiver that speaks like a Slack incoming webhook: an
// unsigned {"text": ...} answered "ok", anything else 400
// "invalid_payload". Closed when t ends.
func NewSlack(t testing.TB) *WebhookServer {
	return start(t, &WebhookServer{slack: true})
}

func start(t testing.TB, w *WebhookServer) *WebhookServer {
	t.Helper()
	w.srv = httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(w.srv.Close)
	return w
}

// URL is where to post; for Slack it has a secret-looking path, so tests
// can check it never shows in errors.
func (w *WebhookServer) URL() string {
	if w.slack {
		return w.srv.URL + "/services/T000/B000/notifytest-secret"
	}
	return w.srv.URL + "/hooks/roster"
}

// Deliveries are the requests accepted so far, in order.
func (w *WebhookServer) Deliveries() []Delivery {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Delivery(nil), w.accepted...)
}

// Rejected are the requests refused for a bad signature or body.
func (w *WebhookServer) Rejected() []Delivery {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Delivery(nil), w.rejected...)
}

// Attempts counts every request, failed, rejected or accepted.
func (w *WebhookServer) Attempts() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.attempts
}

// Wait waits until at least n requests were accepted and returns them; it
// fails t after timeout.
func (w *WebhookServer) Wait(t testing.TB, n int, timeout time.Duration) []Delivery {
	t.Helper()
	waitFor(t, "deliveries", n, timeout, func() int { return len(w.Deliveries()) })
	return w.Deliveries()
}

// FailNext answers the next n requests with status, before any check.
func (w *WebhookServer) FailNext(n, status int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failN, w.failCode = n, status
}

func (w *WebhookServer) serve(rw http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(rw, "read body", http.StatusBadRequest)
		return
	}
	d := Delivery{Header: r.Header.Clone(), Body: body}
	if json.Unmarshal(body, &d.JSON) == nil {
		d.Text, _ = d.JSON["text"].(string)
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	w.attempts++
	if w.failN > 0 {
		w.failN--
		http.Error(rw, "notifytest: injected failure", w.failCode)
		return
	}
	if w.slack {
		if _, ok := d.JSON["text"].(string); r.Method != http.MethodPost || !ok {
			d.Err = "invalid_payload"
			w.rejected = append(w.rejected, d)
			http.Error(rw, "invalid_payload", http.StatusBadRequest)
			return
		}
		w.accepted = append(w.accepted, d)
		_, _ = io.WriteString(rw, "ok")
		return
	}
	if err := notify.Verify(w.secret, r.Header, body, time.Now(), 0); err != nil {
		d.Err = err.Error()
		w.rejected = append(w.rejected, d)
		http.Error(rw, err.Error(), http.StatusUnauthorized)
		return
	}
	w.accepted = append(w.accepted, d)
	rw.WriteHeader(http.StatusOK)
}
