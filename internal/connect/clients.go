package connect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"roster"
	"roster/internal/miro"
)

// Sealer seals secrets at rest; *secret.Sealer implements it. A small
// interface keeps this package free of the key handling.
type Sealer interface {
	Seal(plaintext []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}

// TokenSaver persists a connection's rotated, sealed token pair;
// store.Store implements it.
type TokenSaver interface {
	SaveToken(ctx context.Context, connectionID int64, sealed []byte) error
}

// Clients is the one owner of the Miro clients of connections: the REST
// client on a connection's OAuth token and the SCIM client on its SCIM
// token. Syncs, actions and revocations all get them here, so that
//   - an expiring token is refreshed in one place, and every rotated pair
//     is sealed and saved before it is used: the new refresh token
//     replaces the old one at Miro, and a rotation that was not saved
//     would lock the connection out;
//   - everything acting through one token shares one client, and so one
//     credit pacer (Miro's budget is per token), and one SCIM client per
//     retry policy paces SCIM's per-30-second limits together.
//
// The connection is read from the store by each caller, so a token
// another process rotated makes a new client rather than a stale one
// being used. Sealer and Store are required.
type Clients struct {
	// App is the registered Miro app; its client id and secret refresh
	// expiring tokens.
	App        App
	Store      TokenSaver
	Sealer     Sealer
	HTTPClient *http.Client
	Logger     *slog.Logger
	// MaxRetries, RetryBackoff and MaxConcurrency tune the REST clients
	// (and RetryBackoff the SCIM clients); zero keeps the client's
	// defaults (5 retries from 250ms, 8 calls in flight per token).
	MaxRetries     int
	RetryBackoff   time.Duration
	MaxConcurrency int
	// SCIMLimits overrides Miro's SCIM limits (a compressed simulator).
	SCIMLimits *miro.SCIMLimits

	mu   sync.Mutex
	rest map[int64]*restEntry
	scim map[scimKey]*miro.SCIMClient
}

// restEntry is a connection's REST client on one sealed token.
type restEntry struct {
	sealed string // the sealed pair the client was built on, or rotated to
	token  miro.TokenSource
	client *miro.Client
}

// scimKey names a SCIM client: per connection, token and retry policy
// (lookups are retried, a PATCH is sent once).
type scimKey struct {
	conn    int64
	sealed  string
	retries int
}

func (c *Clients) httpClient() *http.Client {
	if c.HTTPClient == nil {
		return http.DefaultClient
	}
	return c.HTTPClient
}

func (c *Clients) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Logger
}

// REST is the Miro client of conn's current token.
func (c *Clients) REST(conn roster.Connection) (*miro.Client, error) {
	e, err := c.entry(conn)
	if err != nil {
		return nil, err
	}
	return e.client, nil
}

// AccessToken is conn's access token from the same source its client
// uses, refreshed first when it has expired (the rotation saved first).
func (c *Clients) AccessToken(ctx context.Context, conn roster.Connection) (string, error) {
	e, err := c.entry(conn)
	if err != nil {
		return "", err
	}
	return e.token.Token(ctx)
}

// entry returns the cached client of conn's sealed token, or builds it.
func (c *Clients) entry(conn roster.Connection) (*restEntry, error) {
	sealed := string(conn.SealedToken)
	c.mu.Lock()
	if e, ok := c.rest[conn.ID]; ok && e.sealed == sealed {
		c.mu.Unlock()
		return e, nil
	}
	c.mu.Unlock()
	e, err := c.build(conn)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur, ok := c.rest[conn.ID]; ok && cur.sealed == sealed {
		return cur, nil // another caller built it meanwhile
	}
	if c.rest == nil {
		c.rest = map[int64]*restEntry{}
	}
	c.rest[conn.ID] = e
	return e, nil
}

func (c *Clients) build(conn roster.Connection) (*restEntry, error) {
	tok, err := OpenToken(c.Sealer, conn.SealedToken)
	if err != nil {
		return nil, err
	}
	e := &restEntry{sealed: string(conn.SealedToken), token: miro.StaticToken(tok.AccessToken)}
	if tok.Expiring() {
		if c.Store == nil {
			return nil, errors.New("miro client: the token expires but nothing is set to save its rotation")
		}
		connID := conn.ID
		e.token = c.oauth(conn).RefreshingTokenSource(tok, func(ctx context.Context, next miro.Token) error {
			sealed, err := SealToken(c.Sealer, next)
			if err != nil {
				return err
			}
			if err := c.Store.SaveToken(ctx, connID, sealed); err != nil {
				return err
			}
			// The connection as read back now matches this client.
			c.mu.Lock()
			e.sealed = string(sealed)
			c.mu.Unlock()
			return nil
		})
	}
	e.client, err = miro.New(miro.Config{
		BaseURL: conn.APIBaseURL, HTTPClient: c.HTTPClient, Token: e.token, Logger: c.Logger,
		MaxRetries: c.MaxRetries, RetryBackoff: c.RetryBackoff, MaxConcurrency: c.MaxConcurrency,
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// oauth is the app's OAuth client at conn's Miro (or simulator).
func (c *Clients) oauth(conn roster.Connection) *miro.OAuth {
	base := strings.TrimRight(conn.APIBaseURL, "/")
	if base == "" {
		base = miro.DefaultBaseURL
	}
	return &miro.OAuth{
		ClientID: c.App.ClientID, ClientSecret: c.App.ClientSecret,
		TokenURL: base + "/v1/oauth/token", APIBaseURL: base,
		HTTPClient: c.httpClient(), Logger: c.logger(),
	}
}

// SCIM is conn's SCIM client for a retry policy (negative: none).
func (c *Clients) SCIM(conn roster.Connection, retries int) (*miro.SCIMClient, error) {
	k := scimKey{conn: conn.ID, sealed: string(conn.SealedSCIMToken), retries: retries}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.scim[k]; ok {
		return s, nil
	}
	tok, err := c.Sealer.Open(conn.SealedSCIMToken)
	if err != nil {
		return nil, fmt.Errorf("open the SCIM token: %w", err)
	}
	s, err := miro.NewSCIM(miro.SCIMConfig{BaseURL: conn.SCIMBaseURL, Token: string(tok),
		HTTPClient: c.HTTPClient, Logger: c.Logger, MaxRetries: retries, RetryBackoff: c.RetryBackoff, Limits: c.SCIMLimits})
	if err != nil {
		return nil, err
	}
	if c.scim == nil {
		c.scim = map[scimKey]*miro.SCIMClient{}
	}
	for old := range c.scim { // a replaced token's clients are dead
		if old.conn == conn.ID && old.sealed != k.sealed {
			delete(c.scim, old)
		}
	}
	c.scim[k] = s
	return s, nil
}

// Forget drops connection id's clients: its tokens were revoked.
func (c *Clients) Forget(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.rest, id)
	for k := range c.scim {
		if k.conn == id {
			delete(c.scim, k)
		}
	}
}

// SealToken seals a connection's OAuth token pair as stored in
// roster.Connection.SealedToken: the JSON of miro.Token, sealed. The
// connect flow and every rotation write it this way.
func SealToken(s Sealer, t miro.Token) ([]byte, error) {
	if s == nil {
		return nil, errors.New("seal token: no sealer configured")
	}
	plain, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("seal token: %w", err)
	}
	sealed, err := s.Seal(plain)
	if err != nil {
		return nil, fmt.Errorf("seal token: %w", err)
	}
	return sealed, nil
}

// OpenToken opens what SealToken sealed.
func OpenToken(s Sealer, sealed []byte) (miro.Token, error) {
	if s == nil {
		return miro.Token{}, errors.New("open token: no sealer configured")
	}
	if len(sealed) == 0 {
		return miro.Token{}, errors.New("open token: the connection has no token (reconnect it)")
	}
	plain, err := s.Open(sealed)
	if err != nil {
		return miro.Token{}, fmt.Errorf("open token: %w", err)
	}
	var t miro.Token
	if err := json.Unmarshal(plain, &t); err != nil {
		return miro.Token{}, fmt.Errorf("open token: the sealed token is not a token: %w", err)
	}
	if t.AccessToken == "" {
		return miro.Token{}, errors.New("open token: the sealed token has no access token (reconnect it)")
	}
	return t, nil
}
