package miro

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster/internal/mirosim"
)

// authorize runs the browser half of the flow against the simulator's
// auto-approving authorize page and returns the callback's query.
func authorize(t *testing.T, b testBundle, o *OAuth, state, verifier, teamID string) url.Values {
	t.Helper()
	resp, err := noRedirect(b.srv.Client()).Get(o.AuthCodeURL(state, verifier, teamID))
	require.NoError(t, err)
	resp.Body.Close()
	require.Contains(t, []int{http.StatusFound, http.StatusSeeOther}, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "/callback", loc.Path)
	return loc.Query()
}

// TestOAuthCodeFlowPKCE runs authorize, callback and exchange end to end,
// then uses the token.
func TestOAuthCodeFlowPKCE(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 100, AutoApprove: true})
	ctx := ctxTimeout(t, time.Minute)
	o := b.oauth()
	teamID := b.info.Installs[mirosim.InstallOrgAdmin].TeamID

	u, err := url.Parse(o.AuthCodeURL("s", "v", teamID))
	require.NoError(t, err)
	q := u.Query()
	require.Equal(t, "code", q.Get("response_type"))
	require.Equal(t, b.info.ClientID, q.Get("client_id"))
	require.Equal(t, "S256", q.Get("code_challenge_method"))
	require.NotEmpty(t, q.Get("code_challenge"))
	require.Equal(t, teamID, q.Get("team_id"))

	state, verifier := NewState(), NewVerifier()
	require.NotEqual(t, state, NewState())
	cb := authorize(t, b, o, state, verifier, teamID)
	require.Equal(t, state, cb.Get("state"))
	require.NotEmpty(t, cb.Get("code"))
	require.Equal(t, teamID, cb.Get("team_id"))

	// A wrong verifier is refused (PKCE), without spending the code.
	_, err = o.Exchange(ctx, cb.Get("code"), NewVerifier())
	var oe *OAuthError
	require.ErrorAs(t, err, &oe)
	require.Equal(t, "invalid_grant", oe.Code)

	tok, err := o.Exchange(ctx, cb.Get("code"), verifier)
	if err != nil {
		// Some servers burn the code on any failed exchange; get a new one.
		cb = authorize(t, b, o, state, verifier, teamID)
		tok, err = o.Exchange(ctx, cb.Get("code"), verifier)
	}
	require.NoError(t, err)
	require.NotEmpty(t, tok.AccessToken)
	require.NotEmpty(t, tok.RefreshToken)
	require.Equal(t, teamID, tok.TeamID)
	require.Equal(t, b.info.Installs[mirosim.InstallOrgAdmin].UserID, tok.UserID)
	require.Contains(t, tok.Scopes, "organizations:read")
	require.True(t, tok.Expiring())
	require.WithinDuration(t, time.Now().Add(time.Hour), tok.Expiry, 5*time.Second)

	// The code works once.
	_, err = o.Exchange(ctx, cb.Get("code"), verifier)
	require.True(t, IsUnauthorized(err), "got %v", err)

	c := b.client(t, StaticToken(tok.AccessToken))
	info, err := c.TokenInfo(ctx)
	require.NoError(t, err)
	require.Equal(t, teamID, string(info.Team.ID))
	require.NotNil(t, info.Organization)
	require.Equal(t, b.info.OrgID, string(info.Organization.ID))
	require.Equal(t, tok.UserID, string(info.User.ID))
	require.True(t, info.HasScope("organizations:teams:write"))
}

// TestExchangeNumericTeamID decodes a team_id sent as a JSON number
// without losing digits.
func TestExchangeNumericTeamID(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 100, AutoApprove: true, TeamIDAsNumber: true})
	o := b.oauth()
	teamID := b.info.Installs[mirosim.InstallOrgAdmin].TeamID
	verifier := NewVerifier()
	cb := authorize(t, b, o, "st", verifier, teamID)
	tok, err := o.Exchange(ctxTimeout(t, time.Minute), cb.Get("code"), verifier)
	require.NoError(t, err)
	require.Equal(t, teamID, tok.TeamID)

	var w tokenWire
	require.NoError(t, jsonUnmarshal(`{"team_id":3074457345618265123,"user_id":"42","access_token":"a","expires_in":3599}`, &w))
	require.Equal(t, FlexString("3074457345618265123"), w.TeamID)
	require.Error(t, jsonUnmarshal(`{"team_id":{"id":1}}`, &w))
}

// TestRefreshMidIteration lets the access token expire while a slow walk
// is under way: the source refreshes before expiry, hands the rotated pair
// to the persistence callback first, and the old refresh token is dead.
func TestRefreshMidIteration(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 1000, AccessTokenTTL: 2 * time.Second})
	ctx := ctxTimeout(t, time.Minute)
	o := b.oauth()
	start := tokenOf(b.info.Installs[mirosim.InstallOrgAdmin], time.Now())

	var mu sync.Mutex
	var rotated []Token
	src := o.RefreshingTokenSource(start, func(_ context.Context, tok Token) error {
		mu.Lock()
		defer mu.Unlock()
		rotated = append(rotated, tok)
		return nil
	})
	c := b.client(t, src)
	seen := map[string]bool{}
	for m, err := range c.OrgMembers(ctx, b.info.OrgID, MemberFilter{}) {
		require.NoError(t, err)
		require.False(t, seen[m.ID])
		seen[m.ID] = true
		if len(seen)%100 == 0 {
			time.Sleep(350 * time.Millisecond) // ten pages take longer than the TTL
		}
	}
	require.GreaterOrEqual(t, len(seen), 1000)

	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, rotated, "no refresh happened during the walk")
	last := rotated[len(rotated)-1]
	require.Equal(t, last, src.Current(), "the persisted pair is the one in use")
	require.NotEqual(t, start.RefreshToken, last.RefreshToken)

	_, err := o.Refresh(ctx, start.RefreshToken)
	var oe *OAuthError
	require.ErrorAs(t, err, &oe)
	require.Equal(t, "invalid_grant", oe.Code)
	require.True(t, IsUnauthorized(err))
	require.Contains(t, err.Error(), "miro: refresh token: 400 invalid_grant")
}

// TestRefreshOnTokenExpired: the source believes its token is good, Miro
// says tokenExpired; the client refreshes once and retries the call.
func TestRefreshOnTokenExpired(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 300, AccessTokenTTL: time.Second})
	ctx := ctxTimeout(t, time.Minute)
	o := b.oauth()
	start := tokenOf(b.info.Installs[mirosim.InstallOrgAdmin], time.Now())
	start.Expiry = time.Now().Add(time.Hour) // wrong on purpose

	var persisted []Token
	src := o.RefreshingTokenSource(start, func(_ context.Context, tok Token) error {
		persisted = append(persisted, tok)
		return nil
	})
	c := b.client(t, src)
	n := 0
	for _, err := range c.OrgMembers(ctx, b.info.OrgID, MemberFilter{}) {
		require.NoError(t, err)
		n++
		if n == 150 {
			time.Sleep(1500 * time.Millisecond)
		}
	}
	require.GreaterOrEqual(t, n, 300)
	require.Len(t, persisted, 1)
	require.Equal(t, persisted[0].AccessToken, src.Current().AccessToken)
}

// TestRotateCallbackFailure: when persisting the rotated pair fails the
// caller gets that error, and the pair is offered again, not lost.
func TestRotateCallbackFailure(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 100})
	ctx := ctxTimeout(t, time.Minute)
	start := tokenOf(b.info.Installs[mirosim.InstallOrgAdmin], time.Now())
	start.Expiry = time.Now().Add(-time.Second) // due for refresh

	fail := true
	var offered []Token
	src := b.oauth().RefreshingTokenSource(start, func(_ context.Context, tok Token) error {
		offered = append(offered, tok)
		if fail {
			return errors.New("disk full")
		}
		return nil
	})
	_, err := src.Token(ctx)
	require.ErrorContains(t, err, "persist rotated token: disk full")
	require.Equal(t, start.AccessToken, src.Current().AccessToken, "an unpersisted pair is not used")

	fail = false
	tok, err := src.Token(ctx)
	require.NoError(t, err)
	require.Len(t, offered, 2)
	require.Equal(t, offered[0], offered[1], "the same rotated pair, not a second refresh")
	require.Equal(t, offered[1].AccessToken, tok)
}

// TestUnauthorizedErrors: a revoked token and a wrong token each get an
// error that says what happened and what to do.
func TestUnauthorizedErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 100})
	ctx := ctxTimeout(t, time.Minute)
	admin := b.info.Installs[mirosim.InstallOrgAdmin]

	in, err := b.sim.MintToken(admin.UserID, admin.TeamID, nil)
	require.NoError(t, err)
	require.NoError(t, b.oauth().Revoke(ctx, in.AccessToken))

	for name, tok := range map[string]string{"revoked": in.AccessToken, "wrong": "not-a-real-token"} {
		t.Run(name, func(t *testing.T) {
			c := b.client(t, StaticToken(tok))
			_, err := c.GetOrganization(ctx, b.info.OrgID)
			require.True(t, IsUnauthorized(err), "got %v", err)
			require.EqualError(t, err, "miro: GET /v2/orgs/"+b.info.OrgID+": 401 tokenNotFound: token is invalid or revoked (reconnect the Miro connection)")
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			require.Equal(t, "tokenNotFound", ae.Code)
			require.Equal(t, "enterprise-get-organization", ae.Operation)

			for _, err := range c.OrgMembers(ctx, b.info.OrgID, MemberFilter{}) {
				require.ErrorContains(t, err, "miro: GET /v2/orgs/"+b.info.OrgID+"/members: 401 tokenNotFound")
			}
		})
	}

	// Revoking again is a typed 404.
	err = b.oauth().Revoke(ctx, in.AccessToken)
	require.True(t, IsNotFound(err) || err == nil, "got %v", err)
}

// TestConcurrentRefreshOnce: goroutines that all find the token due share
// one refresh.
func TestConcurrentRefreshOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 100})
	ctx := ctxTimeout(t, time.Minute)
	start := tokenOf(b.info.Installs[mirosim.InstallOrgAdmin], time.Now())
	start.Expiry = time.Now().Add(-time.Second)

	var mu sync.Mutex
	rotations := 0
	src := b.oauth().RefreshingTokenSource(start, func(context.Context, Token) error {
		mu.Lock()
		rotations++
		mu.Unlock()
		return nil
	})
	c := b.client(t, src)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Team(ctx, b.info.OrgID, b.info.TeamIDs[0])
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 1, rotations)
}

// TestExpiredStaticToken: without a refreshing source an expired token is
// a clear 401.
func TestExpiredStaticToken(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 100, AccessTokenTTL: time.Second})
	tok := b.info.Installs[mirosim.InstallOrgAdmin].AccessToken
	time.Sleep(1100 * time.Millisecond)
	_, err := b.client(t, StaticToken(tok)).GetOrganization(ctxTimeout(t, time.Minute), b.info.OrgID)
	require.True(t, IsUnauthorized(err), "got %v", err)
	require.EqualError(t, err, "miro: GET /v2/orgs/"+b.info.OrgID+": 401 tokenExpired: token has expired and could not be refreshed (reconnect the Miro connection)")
}
