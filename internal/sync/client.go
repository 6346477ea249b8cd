package sync

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"roster"
	"roster/internal/miro"
)

// TokenSaver persists a connection's rotated, sealed token pair;
// store.Store implements it.
type TokenSaver interface {
	SaveToken(ctx context.Context, connectionID int64, sealed []byte) error
}

// ClientOptions is what NewClient needs besides the connection. Sealer
// and Tokens are required; the rest have the client's defaults.
type ClientOptions struct {
	Sealer Sealer
	// Tokens receives a rotated token before it is used.
	Tokens TokenSaver
	// OAuth is the Miro app, used to refresh expiring tokens.
	OAuth      OAuthApp
	HTTPClient *http.Client
	Logger     *slog.Logger
	// MaxRetries, RetryBackoff and MaxConcurrency tune the client; zero
	// keeps its defaults.
	MaxRetries     int
	RetryBackoff   time.Duration
	MaxConcurrency int
}

// NewClient builds a Miro client on conn's sealed token. An expiring token
// is refreshed when needed, and every rotated pair is sealed and saved
// before it is used, because the new refresh token replaces the old one at
// Miro: a rotation that was not persisted would lock the connection out.
// Syncs and actions both reach Miro through it.
func NewClient(conn roster.Connection, o ClientOptions) (*miro.Client, error) {
	tok, err := OpenToken(o.Sealer, conn.SealedToken)
	if err != nil {
		return nil, err
	}
	var ts miro.TokenSource = miro.StaticToken(tok.AccessToken)
	if tok.Expiring() {
		if o.Tokens == nil {
			return nil, errors.New("miro client: the token expires but nothing is set to save its rotation")
		}
		base := strings.TrimRight(conn.APIBaseURL, "/")
		if base == "" {
			base = miro.DefaultBaseURL
		}
		oauth := &miro.OAuth{
			ClientID: o.OAuth.ClientID, ClientSecret: o.OAuth.ClientSecret,
			TokenURL: base + "/v1/oauth/token", APIBaseURL: base,
			HTTPClient: o.HTTPClient, Logger: o.Logger,
		}
		connID := conn.ID
		ts = oauth.RefreshingTokenSource(tok, func(ctx context.Context, next miro.Token) error {
			sealed, err := SealToken(o.Sealer, next)
			if err != nil {
				return err
			}
			return o.Tokens.SaveToken(ctx, connID, sealed)
		})
	}
	return miro.New(miro.Config{
		BaseURL: conn.APIBaseURL, HTTPClient: o.HTTPClient, Token: ts, Logger: o.Logger,
		MaxRetries: o.MaxRetries, RetryBackoff: o.RetryBackoff, MaxConcurrency: o.MaxConcurrency,
	})
}
