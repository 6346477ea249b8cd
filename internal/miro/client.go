// Package miro is roster's typed client for Miro's REST API: OAuth (PKCE,
// state, refresh with rotation, revoke), the v2 organization, team, member,
// audit and board endpoints, the legacy v1 team API, and SCIM. It paces
// itself against Miro's credit budget, retries what is safe to retry, and
// returns typed errors. Lists are Go iterators that fetch page by page, so
// memory stays flat however large the organization is.
package miro

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is Miro's REST API.
const DefaultBaseURL = "https://api.miro.com"

// TokenSource hands out the access token for each call. Implementations
// must be safe for concurrent use.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// TokenInvalidator is the optional hook a TokenSource implements when it
// can refresh: after Miro answers 401 tokenExpired for token, the client
// calls InvalidateToken and, when it returns true, gets a fresh token and
// retries the call once.
type TokenInvalidator interface {
	InvalidateToken(token string) bool
}

// StaticToken is a TokenSource for a non-expiring token.
type StaticToken string

// Token returns the token itself.
func (s StaticToken) Token(context.Context) (string, error) {
	if s == "" {
		return "", errors.New("no access token configured")
	}
	return string(s), nil
}

// Config configures a Client. Only Token is required.
type Config struct {
	// BaseURL is the REST API root; DefaultBaseURL when empty.
	BaseURL string
	// HTTPClient sends the requests; a client with no overall timeout
	// (attempts have their own) when nil.
	HTTPClient *http.Client
	// Token supplies the access token. Use a RefreshingTokenSource for
	// expiring tokens.
	Token TokenSource
	// Logger gets debug lines about retries and waits; discarded when nil.
	Logger *slog.Logger
	// MaxRetries bounds retries of transient failures (5xx, reset,
	// timeout, malformed body) per idempotent call. 0 means 5; negative
	// means none.
	MaxRetries int
	// MaxRateLimitRetries bounds retries after 429 per call. 0 means 20.
	MaxRateLimitRetries int
	// RetryBackoff is the first backoff of a transient retry, doubling
	// with jitter; 0 means 250ms.
	RetryBackoff time.Duration
	// AttemptTimeout bounds one HTTP attempt; 0 means 60s.
	AttemptTimeout time.Duration
	// MaxConcurrency bounds attempts in flight across goroutines sharing
	// the client; 0 means 8.
	MaxConcurrency int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Client calls Miro's REST API with one token. It is safe for concurrent
// use; its pacer is shared by every goroutine, since Miro's budget is per
// token (user and app).
type Client struct {
	eng   *engine
	pacer *pacer
}

// New builds a Client.
func New(cfg Config) (*Client, error) {
	if cfg.Token == nil {
		return nil, errors.New("miro: config: Token is required")
	}
	base := cfg.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("miro: config: BaseURL %q is not an absolute URL", base)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	p := newPacer(now)
	eng := newEngine(engineConfig{
		base: u, hc: cfg.HTTPClient, log: cfg.Logger, now: now,
		maxRetries: cfg.MaxRetries, maxRateLimited: cfg.MaxRateLimitRetries,
		backoff: cfg.RetryBackoff, attemptTimeout: cfg.AttemptTimeout,
		concurrency: cfg.MaxConcurrency,
	})
	eng.errPrefix = "miro"
	eng.token = cfg.Token.Token
	if inv, ok := cfg.Token.(TokenInvalidator); ok {
		eng.invalidate = inv.InvalidateToken
	}
	eng.pace = creditPacing{p}
	eng.parseError = parseAPIError
	return &Client{eng: eng, pacer: p}, nil
}

// Stats reports what the client has spent so far.
func (c *Client) Stats() Stats { return c.eng.stats() }

type engineConfig struct {
	base                       *url.URL
	hc                         *http.Client
	log                        *slog.Logger
	now                        func() time.Time
	maxRetries, maxRateLimited int
	backoff, attemptTimeout    time.Duration
	concurrency                int
}

func newEngine(c engineConfig) *engine {
	e := &engine{base: c.base, hc: c.hc, log: c.log, now: c.now,
		maxRetries: c.maxRetries, maxRateLimited: c.maxRateLimited,
		backoff: c.backoff, attemptTimeout: c.attemptTimeout}
	if e.hc == nil {
		e.hc = &http.Client{}
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case e.maxRetries == 0:
		e.maxRetries = 5
	case e.maxRetries < 0:
		e.maxRetries = 0
	}
	if e.maxRateLimited <= 0 {
		e.maxRateLimited = 20
	}
	if e.backoff <= 0 {
		e.backoff = 250 * time.Millisecond
	}
	if e.attemptTimeout <= 0 {
		e.attemptTimeout = 60 * time.Second
	}
	if c.concurrency <= 0 {
		c.concurrency = 8
	}
	e.sem = make(chan struct{}, c.concurrency)
	return e
}

// creditPacing adapts the credit pacer to the engine.
type creditPacing struct{ p *pacer }

func (c creditPacing) wait(ctx context.Context, r *request) error {
	return c.p.acquire(ctx, r.level.Credits())
}

func (c creditPacing) done(r *request, h http.Header, status int) {
	c.p.release(r.level.Credits(), h, status)
}

// The pacer already holds the next call until the reset it learned from
// the 429's headers.
func (creditPacing) rateLimitedWait(http.Header, int, time.Time) time.Duration { return 0 }

// parseAPIError decodes Miro's error body. A body that is not Miro's shape
// (a proxy's HTML page) still gives an APIError with the status.
func parseAPIError(r *request, status int, body []byte) error {
	ae := &APIError{Status: status, Operation: r.op, Method: r.method, Path: r.displayPath()}
	var wire struct {
		Status  json.Number `json:"status"`
		Code    any         `json:"code"`
		Message string      `json:"message"`
		Type    string      `json:"type"`
		// The OAuth endpoints answer {"error","error_description"}.
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if err := json.Unmarshal(body, &wire); err == nil {
		switch v := wire.Code.(type) {
		case string:
			ae.Code = v
		case float64:
			ae.Code = strconv.FormatFloat(v, 'f', -1, 64)
		}
		ae.Message, ae.Type = wire.Message, wire.Type
		if ae.Code == "" {
			ae.Code = wire.Error
		}
		if ae.Message == "" {
			ae.Message = wire.ErrorDescription
		}
	} else if text := strings.TrimSpace(string(body)); text != "" && len(text) < 200 && !strings.Contains(text, "<") {
		ae.Message = text
	}
	if status == http.StatusUnauthorized && ae.Message == "" {
		ae.Message = "token is invalid or revoked"
	}
	return ae
}

// get is the common GET with JSON decoding.
func (c *Client) get(ctx context.Context, op string, level Level, path string, q url.Values, out any) error {
	return c.eng.do(ctx, &request{op: op, method: http.MethodGet, path: path, query: q, level: level, idempotent: true}, out)
}

// seg escapes one path segment (ids come from Miro and callers).
func seg(s string) string { return url.PathEscape(s) }
