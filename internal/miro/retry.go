package miro

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"
)

// request is one logical API call; the engine may send it several times.
type request struct {
	op         string     // the spec's operationId, for errors and logs
	method     string     // GET, POST, ...
	path       string     // escaped path below the base URL, e.g. /v2/orgs/1/members
	query      url.Values // may be nil
	rawURL     string     // an absolute URL to call instead of path+query
	trustURL   bool       // rawURL comes from our config, not from a response
	body       any        // JSON-encoded when not nil
	form       url.Values // form-encoded body (OAuth token endpoint) when not nil
	level      Level      // rate-limit level; 0 for calls that are not charged
	idempotent bool       // safe to resend after a 5xx, reset or timeout
	goneOK     bool       // a 404 after a resend means the first attempt did it (DELETE)
	accept     string     // Accept / Content-Type media type; application/json by default
	shown      string     // the full URL path, for errors; set by engine.do
}

// errorParser turns a non-2xx answer into a typed error.
type errorParser func(r *request, status int, body []byte) error

// pacing gates each attempt and learns from its answer.
type pacing interface {
	wait(ctx context.Context, r *request) error
	done(r *request, h http.Header, status int)
	// rateLimitedWait is the extra wait after a 429, on top of what wait
	// already does (the credit pacer waits for the reset by itself).
	rateLimitedWait(h http.Header, n int, now time.Time) time.Duration
}

// engine sends requests with pacing, retries, token refresh and typed
// errors. Client and SCIMClient each own one.
type engine struct {
	base           *url.URL
	hc             *http.Client
	log            *slog.Logger
	now            func() time.Time
	maxRetries     int           // transient retries per call
	maxRateLimited int           // 429 retries per call
	backoff        time.Duration // first transient backoff
	attemptTimeout time.Duration
	sem            chan struct{} // bounds concurrent attempts
	token          func(ctx context.Context) (string, error)
	invalidate     func(token string) bool // true when a refresh will be tried
	pace           pacing
	parseError     errorParser
	errPrefix      string // "miro" or "miro scim"

	counters
}

// Stats counts what a client spent, for sync records and benchmarks.
type Stats struct {
	Calls       int // HTTP attempts that got an answer
	Credits     int // credits of the answers Miro served (429s and 5xx are not counted)
	RateLimited int // 429 answers
	Retries     int // attempts repeated after a 429, 5xx, reset, timeout or bad body
}

func (e *engine) stats() Stats { return e.counters.stats() }

// failf wraps err once with the call it belongs to.
func (e *engine) failf(r *request, format string, args ...any) error {
	return fmt.Errorf("%s: %s %s: %s", e.errPrefix, r.method, r.displayPath(), fmt.Errorf(format, args...))
}

func (e *engine) wrap(r *request, what string, err error) error {
	return fmt.Errorf("%s: %s %s: %s: %w", e.errPrefix, r.method, r.displayPath(), what, err)
}

func (r *request) displayPath() string {
	if r.shown != "" {
		return r.shown
	}
	if r.rawURL != "" {
		if u, err := url.Parse(r.rawURL); err == nil {
			return u.Path
		}
	}
	return r.path
}

// do sends r and decodes a 2xx body into out (when out is not nil).
func (e *engine) do(ctx context.Context, r *request, out any) error {
	var payload []byte
	if r.form != nil {
		payload = []byte(r.form.Encode())
	} else if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return e.wrap(r, "encode request", err)
		}
		payload = b
	}
	target, err := e.url(r)
	if err != nil {
		return e.wrap(r, "build URL", err)
	}
	if u, err := url.Parse(target); err == nil {
		r.shown = u.Path
	}
	transient, limited := 0, 0
	refreshed := false
	for {
		if err := ctx.Err(); err != nil {
			return e.wrap(r, "gave up", err)
		}
		ans, err := e.attempt(ctx, r, target, payload)
		status, header, body := ans.status, ans.header, ans.body
		if err != nil {
			if ctx.Err() != nil {
				return e.wrap(r, "gave up", ctx.Err())
			}
			if errors.Is(err, errNoAttempt) {
				return err
			}
			if r.idempotent && isTransient(err) && transient < e.maxRetries {
				transient++
				if err := e.retryAfter(ctx, r, transient, err); err != nil {
					return err
				}
				continue
			}
			if transient > 0 {
				return e.wrap(r, fmt.Sprintf("request failed after %d attempts", transient+1), err)
			}
			return e.wrap(r, "request failed", err)
		}
		switch {
		case status >= 200 && status < 300:
			if out == nil || status == http.StatusNoContent {
				return nil
			}
			if err := json.Unmarshal(body, out); err != nil {
				derr := e.wrap(r, fmt.Sprintf("malformed response body (%d bytes)", len(body)), err)
				if r.idempotent && transient < e.maxRetries {
					transient++
					if err := e.retryAfter(ctx, r, transient, derr); err != nil {
						return err
					}
					continue
				}
				return derr
			}
			return nil
		case status == http.StatusTooManyRequests:
			e.tally(ctx, func(c *counters) { c.rateLimited.Add(1) })
			limited++
			apiErr := e.parseError(r, status, body)
			if limited > e.maxRateLimited {
				return apiErr
			}
			e.tally(ctx, func(c *counters) { c.retries.Add(1) })
			e.log.DebugContext(ctx, "miro: rate limited, waiting", "op", r.op, "attempt", limited)
			if d := e.pace.rateLimitedWait(header, limited, e.now()); d > 0 {
				if err := sleepCtx(ctx, d); err != nil {
					return e.wrap(r, "gave up", err)
				}
			}
			continue
		case status == http.StatusUnauthorized && !refreshed && e.invalidate != nil:
			apiErr := e.parseError(r, status, body)
			var ae *APIError
			if errors.As(apiErr, &ae) && ae.Code == "tokenExpired" {
				refreshed = true
				if e.invalidate(ans.token) {
					e.tally(ctx, func(c *counters) { c.retries.Add(1) })
					continue
				}
			}
			return apiErr
		case status >= 500:
			apiErr := e.parseError(r, status, body)
			if r.idempotent && transient < e.maxRetries {
				transient++
				if err := e.retryAfter(ctx, r, transient, apiErr); err != nil {
					return err
				}
				continue
			}
			return apiErr
		case status == http.StatusNotFound && r.goneOK && transient > 0:
			// An earlier attempt was cut off after Miro acted on it.
			return nil
		default:
			return e.parseError(r, status, body)
		}
	}
}

// errNoAttempt marks errors that happened before anything was sent (the
// token source failed); they are returned as they are.
var errNoAttempt = errors.New("no attempt")

type noAttemptError struct{ err error }

func (n *noAttemptError) Error() string        { return n.err.Error() }
func (n *noAttemptError) Unwrap() []error      { return []error{n.err, errNoAttempt} }
func (n *noAttemptError) Is(target error) bool { return target == errNoAttempt }

// retryAfter logs and sleeps a jittered exponential backoff before retry n.
func (e *engine) retryAfter(ctx context.Context, r *request, n int, cause error) error {
	e.tally(ctx, func(c *counters) { c.retries.Add(1) })
	d := e.backoff << (n - 1)
	if limit := 30 * time.Second; d > limit || d <= 0 {
		d = limit
	}
	d = d/2 + rand.N(d/2+1) // "equal jitter": never zero, never in lockstep
	e.log.DebugContext(ctx, "miro: retrying", "op", r.op, "attempt", n, "wait", d, "cause", cause)
	if err := sleepCtx(ctx, d); err != nil {
		return e.wrap(r, "gave up", err)
	}
	return nil
}

func (e *engine) url(r *request) (string, error) {
	if r.rawURL != "" {
		u, err := url.Parse(r.rawURL)
		if err != nil {
			return "", err
		}
		// A link from a response (nextLink) must point at the same host:
		// never send the token elsewhere.
		if !r.trustURL && (u.Host != e.base.Host || u.Scheme != e.base.Scheme) {
			return "", fmt.Errorf("next link %q is not on %s", r.rawURL, e.base.Host)
		}
		return u.String(), nil
	}
	u := *e.base
	u.Path = joinPath(e.base.Path, r.path)
	u.RawPath = joinPath(e.base.EscapedPath(), r.path)
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}
	return u.String(), nil
}

func joinPath(base, p string) string {
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base + p
}

// attempt sends r once: it waits for the pacer and a concurrency slot,
// then reads the whole answer within the attempt timeout.
func (e *engine) attempt(ctx context.Context, r *request, target string, payload []byte) (answer, error) {
	var ans answer
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return ans, ctx.Err()
	}
	defer func() { <-e.sem }()

	if err := e.pace.wait(ctx, r); err != nil {
		return ans, err
	}
	defer func() { e.pace.done(r, ans.header, ans.status) }()

	tok, err := e.token(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return ans, ctx.Err()
		}
		return ans, &noAttemptError{e.wrap(r, "get access token", err)}
	}
	ans.token = tok

	actx, cancel := context.WithTimeout(ctx, e.attemptTimeout)
	defer cancel()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(actx, r.method, target, body)
	if err != nil {
		return ans, &noAttemptError{e.wrap(r, "build request", err)}
	}
	media := r.accept
	if media == "" {
		media = "application/json"
	}
	req.Header.Set("Accept", media)
	switch {
	case r.form != nil:
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case payload != nil:
		req.Header.Set("Content-Type", media)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	req.Header.Set("User-Agent", "roster-miro-client")

	resp, err := e.hc.Do(req)
	if err != nil {
		return ans, err
	}
	defer resp.Body.Close()
	ans.status, ans.header = resp.StatusCode, resp.Header
	e.tally(ctx, func(c *counters) {
		c.calls.Add(1)
		if ans.status != http.StatusTooManyRequests && ans.status < 500 {
			c.credits.Add(int64(r.level.Credits()))
		}
	})
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		// A body cut short is a transport failure of this attempt; the
		// pacer still learns from the headers.
		return ans, fmt.Errorf("read body: %w", err)
	}
	ans.body = data
	return ans, nil
}

// answer is what one attempt got back.
type answer struct {
	status int
	header http.Header
	body   []byte
	token  string // the access token the attempt sent
}

// isTransient reports transport failures worth retrying: connection reset
// or refused, EOF mid-answer, and timeouts of the single attempt.
func isTransient(err error) bool {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}
