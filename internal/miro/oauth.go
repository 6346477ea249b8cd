package miro

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Miro's OAuth endpoints.
const (
	DefaultAuthURL  = "https://miro.com/oauth/authorize"
	DefaultTokenURL = "https://api.miro.com/v1/oauth/token"
)

// OAuth runs Miro's authorization-code flow with state and PKCE, and the
// token endpoint calls that follow it (exchange, refresh, revoke).
//
// golang.org/x/oauth2 builds the authorize URL and the PKCE verifier and
// challenge. The token endpoint calls are our own: oauth2 decodes extra
// fields into float64, which would corrupt a 19-digit numeric team_id, and
// Miro's refresh rotation must reach a persistence callback before the new
// token is used.
//
// Use it by pointer and do not copy it after first use.
type OAuth struct {
	ClientID     string
	ClientSecret string
	RedirectURL  string
	AuthURL      string // DefaultAuthURL when empty
	TokenURL     string // DefaultTokenURL when empty
	// APIBaseURL hosts /v2/oauth/revoke; DefaultBaseURL when empty.
	APIBaseURL string
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time

	once    sync.Once
	eng     *engine
	initErr error
}

// Token is an OAuth token pair with what Miro said it is bound to.
type Token struct {
	AccessToken  string
	RefreshToken string    // empty for non-expiring tokens
	Expiry       time.Time // zero for non-expiring tokens
	TeamID       string
	UserID       string
	Scopes       []string
}

// Expiring reports whether the token expires (and so can be refreshed).
func (t Token) Expiring() bool { return !t.Expiry.IsZero() }

// NewState returns a random state value for one authorization request; the
// callback must present the same value (CSRF protection).
func NewState() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewVerifier returns a PKCE code verifier; keep it with the state until
// the callback.
func NewVerifier() string { return oauth2.GenerateVerifier() }

func (o *OAuth) config() *oauth2.Config {
	return &oauth2.Config{
		ClientID:     o.ClientID,
		ClientSecret: o.ClientSecret,
		RedirectURL:  o.RedirectURL,
		Endpoint: oauth2.Endpoint{
			AuthURL:   cmp.Or(o.AuthURL, DefaultAuthURL),
			TokenURL:  cmp.Or(o.TokenURL, DefaultTokenURL),
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// AuthCodeURL is the link that sends the admin to Miro to approve the app.
// teamID, when not empty, preselects the team to install on. Scopes are not
// sent: Miro takes them from the app's settings.
func (o *OAuth) AuthCodeURL(state, verifier, teamID string) string {
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if teamID != "" {
		opts = append(opts, oauth2.SetAuthURLParam("team_id", teamID))
	}
	return o.config().AuthCodeURL(state, opts...)
}

func (o *OAuth) engine() (*engine, error) {
	o.once.Do(func() {
		u, err := url.Parse(cmp.Or(o.TokenURL, DefaultTokenURL))
		if err != nil || u.Host == "" {
			o.initErr = fmt.Errorf("miro: oauth: TokenURL %q is not an absolute URL", o.TokenURL)
			return
		}
		now := o.Now
		if now == nil {
			now = time.Now
		}
		o.eng = newEngine(engineConfig{base: u, hc: o.HTTPClient, log: o.Logger, now: now, backoff: 200 * time.Millisecond, attemptTimeout: 30 * time.Second})
		o.eng.errPrefix = "miro"
		o.eng.token = func(context.Context) (string, error) { return "", nil }
		o.eng.pace = noPacing{}
		o.eng.parseError = parseOAuthError
	})
	return o.eng, o.initErr
}

func (o *OAuth) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// tokenWire is the token endpoint's answer. team_id and user_id may be
// strings or numbers; expires_in is seconds.
type tokenWire struct {
	AccessToken  string     `json:"access_token"`
	RefreshToken string     `json:"refresh_token"`
	ExpiresIn    FlexString `json:"expires_in"`
	Scope        string     `json:"scope"`
	TokenType    string     `json:"token_type"`
	TeamID       FlexString `json:"team_id"`
	UserID       FlexString `json:"user_id"`
}

func (o *OAuth) tokenCall(ctx context.Context, op string, form url.Values, idempotent bool) (Token, error) {
	eng, err := o.engine()
	if err != nil {
		return Token{}, err
	}
	form.Set("client_id", o.ClientID)
	form.Set("client_secret", o.ClientSecret)
	r := &request{op: op, method: http.MethodPost, rawURL: cmp.Or(o.TokenURL, DefaultTokenURL), trustURL: true, form: form, idempotent: idempotent}
	var w tokenWire
	if err := eng.do(ctx, r, &w); err != nil {
		return Token{}, err
	}
	if w.AccessToken == "" {
		return Token{}, eng.failf(r, "token response has no access_token")
	}
	t := Token{
		AccessToken:  w.AccessToken,
		RefreshToken: w.RefreshToken,
		TeamID:       string(w.TeamID),
		UserID:       string(w.UserID),
		Scopes:       strings.Fields(w.Scope),
	}
	if w.ExpiresIn != "" {
		secs, err := strconv.ParseFloat(string(w.ExpiresIn), 64)
		if err != nil {
			return Token{}, eng.failf(r, "token response expires_in %q is not a number", w.ExpiresIn)
		}
		if secs > 0 {
			t.Expiry = o.now().Add(time.Duration(secs * float64(time.Second)))
		}
	}
	return t, nil
}

// Exchange trades the callback's code (with the PKCE verifier) for a
// token. A code works once, so a failed exchange is not resent.
func (o *OAuth) Exchange(ctx context.Context, code, verifier string) (Token, error) {
	if code == "" {
		return Token{}, errors.New("miro: exchange code: the callback has no code")
	}
	form := url.Values{
		"grant_type":   {"authorization_code"},
		"code":         {code},
		"redirect_uri": {o.RedirectURL},
	}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return o.tokenCall(ctx, "exchange code", form, false)
}

// Refresh trades a refresh token for a new pair. Miro rotates both tokens
// and invalidates the old refresh token, so the result must be persisted
// before it is used; RefreshingTokenSource does that. Resending after a
// lost answer is safe: either Miro never saw it, or the old refresh token
// is already spent and the retry gets invalid_grant like the first would.
func (o *OAuth) Refresh(ctx context.Context, refreshToken string) (Token, error) {
	if refreshToken == "" {
		return Token{}, errors.New("miro: refresh token: the token has no refresh token (it does not expire)")
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	return o.tokenCall(ctx, "refresh token", form, true)
}

// Revoke revokes an access token and its refresh token (POST
// /v2/oauth/revoke). It does not uninstall the app. Not resent on failure.
func (o *OAuth) Revoke(ctx context.Context, accessToken string) error {
	eng, err := o.engine()
	if err != nil {
		return err
	}
	base := strings.TrimRight(cmp.Or(o.APIBaseURL, DefaultBaseURL), "/")
	return eng.do(ctx, &request{
		op: "revoke-token-v2", method: http.MethodPost, rawURL: base + "/v2/oauth/revoke", trustURL: true,
		body: map[string]string{"accessToken": accessToken, "clientId": o.ClientID, "clientSecret": o.ClientSecret},
	}, nil)
}

// parseOAuthError reads the token endpoint's {"error","error_description"}
// and falls back to Miro's usual error shape.
func parseOAuthError(r *request, status int, body []byte) error {
	var w struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if json.Unmarshal(body, &w) == nil && w.Error != "" {
		return &OAuthError{Status: status, Code: w.Error, Description: w.ErrorDescription, Operation: r.op}
	}
	return parseAPIError(r, status, body)
}

// noPacing is for endpoints outside the credit budget.
type noPacing struct{}

func (noPacing) wait(context.Context, *request) error { return nil }
func (noPacing) done(*request, http.Header, int)      {}
func (noPacing) rateLimitedWait(h http.Header, n int, now time.Time) time.Duration {
	if d, ok := parseRetryAfter(h.Get("Retry-After"), now); ok {
		return d
	}
	return time.Duration(n) * time.Second
}

// RefreshingTokenSource hands out an expiring token and refreshes it
// shortly before it expires, or when Miro says it expired. One refresh
// runs at a time; goroutines asking meanwhile wait for its result.
//
// Each new pair goes to onRotate (which must persist it) before it is used.
// If onRotate fails, Token returns that error and keeps the new pair in
// memory, offering it to onRotate again on the next call: the old refresh
// token is already dead, so the new one must not be lost.
type RefreshingTokenSource struct {
	oauth    *OAuth
	onRotate func(context.Context, Token) error

	lock    chan struct{} // one refresh at a time, honouring ctx
	mu      sync.Mutex    // guards the fields below
	cur     Token
	pending *Token // rotated but not yet persisted
	stale   bool   // Miro said cur expired
	skew    time.Duration
}

// RefreshingTokenSource wraps tok. onRotate may be nil only for tests.
func (o *OAuth) RefreshingTokenSource(tok Token, onRotate func(context.Context, Token) error) *RefreshingTokenSource {
	s := &RefreshingTokenSource{oauth: o, onRotate: onRotate, lock: make(chan struct{}, 1), cur: tok}
	s.skew = refreshSkew(tok, o.now())
	return s
}

// refreshSkew is how long before expiry to refresh: a minute, or a fifth of
// the lifetime left for short-lived tokens.
func refreshSkew(tok Token, now time.Time) time.Duration {
	if tok.Expiry.IsZero() {
		return 0
	}
	return min(time.Minute, max(tok.Expiry.Sub(now), 0)/5)
}

// Current returns the token in use (for display and tests).
func (s *RefreshingTokenSource) Current() Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

func (s *RefreshingTokenSource) needsRefresh(now time.Time) bool {
	if s.pending != nil || s.stale {
		return true
	}
	return s.cur.Expiring() && !now.Before(s.cur.Expiry.Add(-s.skew))
}

// Token returns a valid access token, refreshing first when needed.
func (s *RefreshingTokenSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	if !s.needsRefresh(s.oauth.now()) {
		t := s.cur.AccessToken
		s.mu.Unlock()
		return t, nil
	}
	s.mu.Unlock()

	select {
	case s.lock <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.lock }()

	s.mu.Lock()
	if !s.needsRefresh(s.oauth.now()) { // another goroutine refreshed
		t := s.cur.AccessToken
		s.mu.Unlock()
		return t, nil
	}
	cur, pending := s.cur, s.pending
	s.mu.Unlock()

	// Finish the refresh and the persistence even if the caller gives up:
	// a rotated pair that is dropped halfway would disconnect us.
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if pending == nil {
		if cur.RefreshToken == "" {
			return "", errors.New("miro: refresh token: the access token expired and there is no refresh token (reconnect the Miro connection)")
		}
		next, err := s.oauth.Refresh(bg, cur.RefreshToken)
		if err != nil {
			return "", err
		}
		if next.RefreshToken == "" {
			next.RefreshToken = cur.RefreshToken
		}
		if next.TeamID == "" {
			next.TeamID = cur.TeamID
		}
		if next.UserID == "" {
			next.UserID = cur.UserID
		}
		pending = &next
		s.mu.Lock()
		s.pending = pending
		s.mu.Unlock()
	}
	if s.onRotate != nil {
		if err := s.onRotate(bg, *pending); err != nil {
			return "", fmt.Errorf("miro: refresh token: persist rotated token: %w", err)
		}
	}
	s.mu.Lock()
	s.cur, s.pending, s.stale = *pending, nil, false
	s.skew = refreshSkew(s.cur, s.oauth.now())
	t := s.cur.AccessToken
	s.mu.Unlock()
	return t, nil
}

// InvalidateToken marks token as expired after Miro answered 401
// tokenExpired, so that the next Token call refreshes. It reports whether
// a retry can help.
func (s *RefreshingTokenSource) InvalidateToken(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if token != s.cur.AccessToken {
		return true // already rotated by another goroutine
	}
	if s.cur.RefreshToken == "" {
		return false
	}
	s.stale = true
	return true
}

var (
	_ TokenSource      = (*RefreshingTokenSource)(nil)
	_ TokenInvalidator = (*RefreshingTokenSource)(nil)
)

// TokenInfo returns what the client's token is bound to (GET
// /v1/oauth-token): team, organization (nil when absent), user and scopes.
func (c *Client) TokenInfo(ctx context.Context) (TokenInfo, error) {
	var ti TokenInfo
	err := c.get(ctx, "token-info", L1, "/v1/oauth-token", nil, &ti)
	return ti, err
}
