package miro

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster/internal/mirosim"
)

// testBundle is one simulator behind a real HTTP server.
type testBundle struct {
	sim  *mirosim.Sim
	srv  *httptest.Server
	info mirosim.Info
}

// setup starts a simulator with cfg over HTTP; it stops with the test.
func setup(t testing.TB, cfg mirosim.Config) testBundle {
	t.Helper()
	sim, err := mirosim.New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return testBundle{sim: sim, srv: srv, info: sim.Info(srv.URL)}
}

// client builds a Client for a token, with fast retries for tests.
func (b testBundle) client(t testing.TB, ts TokenSource, mods ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{BaseURL: b.info.APIBaseURL, Token: ts, HTTPClient: b.srv.Client(), RetryBackoff: 5 * time.Millisecond}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	return c
}

// adminClient is a Client with the org-level Company Admin install.
func (b testBundle) adminClient(t testing.TB, mods ...func(*Config)) *Client {
	return b.client(t, StaticToken(b.info.Installs[mirosim.InstallOrgAdmin].AccessToken), mods...)
}

// oauth is an OAuth for the simulator's registered app.
func (b testBundle) oauth() *OAuth {
	return &OAuth{
		ClientID: b.info.ClientID, ClientSecret: b.info.ClientSecret,
		RedirectURL: "http://127.0.0.1:9/callback",
		AuthURL:     b.info.AuthorizeURL, TokenURL: b.info.TokenURL, APIBaseURL: b.info.APIBaseURL,
		HTTPClient: b.srv.Client(),
	}
}

// tokenOf turns a ready install into a Token.
func tokenOf(in mirosim.Install, now time.Time) Token {
	t := Token{AccessToken: in.AccessToken, RefreshToken: in.RefreshToken, TeamID: in.TeamID, UserID: in.UserID, Scopes: in.Scopes}
	if in.ExpiresIn > 0 {
		t.Expiry = now.Add(time.Duration(in.ExpiresIn) * time.Second)
	}
	return t
}

// collect drains a sequence, failing the test on an error.
func collect[T any](t testing.TB, seq func(func(T, error) bool)) []T {
	t.Helper()
	var out []T
	for v, err := range seq {
		require.NoError(t, err)
		out = append(out, v)
	}
	return out
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// noRedirect is an HTTP client that hands back redirects instead of
// following them, to read the OAuth callback's query.
func noRedirect(base *http.Client) *http.Client {
	c := *base
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
