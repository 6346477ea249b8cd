package connect_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/connect"
	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/secret"
	"roster/internal/store/sqlstore"
)

// service is a connect.Service on a fresh SQLite store and the simulator.
func (b testBundle) service(t *testing.T) *connect.Service {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "roster.db"))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	k, _, err := secret.NewKey()
	require.NoError(t, err)
	app, err := connect.App{ClientID: b.info.ClientID, ClientSecret: b.info.ClientSecret, APIBaseURL: b.info.APIBaseURL}.Resolve()
	require.NoError(t, err)
	return &connect.Service{Store: db, Clients: &connect.Clients{App: app, Store: db, Sealer: secret.NewSealer(k), HTTPClient: b.srv.Client()}}
}

// saved checks and saves an install as a connection; expired makes its
// access token look expired, so that it must be refreshed before use.
func (b testBundle) saved(t *testing.T, svc *connect.Service, kind string, level roster.Level, expired bool) roster.Connection {
	t.Helper()
	in := b.info.Installs[kind]
	tok := miro.Token{AccessToken: in.AccessToken, RefreshToken: in.RefreshToken, Expiry: time.Now().Add(time.Hour)}
	if expired {
		tok.Expiry = time.Now().Add(-time.Minute)
	}
	report, conn, err := svc.Check(context.Background(), tok, level)
	require.NoError(t, err)
	require.Empty(t, report.Unusable)
	_, err = connect.Save(context.Background(), svc.Store, &conn)
	require.NoError(t, err)
	return conn
}

func TestApp(t *testing.T) {
	t.Parallel()
	prod, err := connect.App{}.Resolve()
	require.NoError(t, err)
	require.Equal(t, miro.DefaultBaseURL, prod.APIBaseURL)
	require.Equal(t, miro.DefaultAuthURL, prod.AuthURL)
	sim, err := connect.App{APIBaseURL: "http://127.0.0.1:9090/"}.Resolve()
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:9090/oauth/authorize", sim.AuthURL)
	require.Equal(t, "http://127.0.0.1:9090/v1/oauth/token", sim.TokenURL)
	_, err = connect.App{APIBaseURL: "api.miro.com"}.Resolve()
	require.ErrorContains(t, err, "absolute http(s) URL")
}

func TestCheck(t *testing.T) {
	t.Parallel()
	b := setup(t)
	svc := b.service(t)
	in := b.info.Installs[mirosim.InstallOrgAdmin]
	report, conn, err := svc.Check(context.Background(), miro.Token{AccessToken: in.AccessToken}, roster.LevelOrganization)
	require.NoError(t, err)
	require.Empty(t, report.Problems)
	require.Equal(t, b.info.APIBaseURL, conn.APIBaseURL)
	// The sealed token carries what it is bound to, from the report.
	tok, err := connect.OpenToken(svc.Sealer(), conn.SealedToken)
	require.NoError(t, err)
	require.Equal(t, in.AccessToken, tok.AccessToken)
	require.Equal(t, in.TeamID, tok.TeamID)
	require.Equal(t, in.UserID, tok.UserID)
	require.Equal(t, report.Scopes, tok.Scopes)

	t.Run("ErrTeamTokenAtOrgLevel", func(t *testing.T) {
		team := b.info.Installs[mirosim.InstallTeam]
		report, conn, err := svc.Check(context.Background(), miro.Token{AccessToken: team.AccessToken}, roster.LevelOrganization)
		var unusable *connect.UnusableError
		require.ErrorAs(t, err, &unusable)
		require.Equal(t, report.Unusable, unusable.Reason)
		require.Equal(t, "connect: not saved: "+report.Unusable, err.Error())
		require.Equal(t, team.TeamID, report.TeamID, "the report says what the token is")
		require.Empty(t, conn.SealedToken, "nothing is sealed for a refused token")
		require.NotContains(t, err.Error(), team.AccessToken)
	})
}

func TestDisconnect(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// refused reports whether the simulator refuses an access token.
	refused := func(t *testing.T, b testBundle, token string) bool {
		_, err := b.client(t, token).TokenInfo(ctx)
		return err != nil
	}

	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		svc := b.service(t)
		conn := b.saved(t, svc, mirosim.InstallOrgAdmin, roster.LevelOrganization, false)
		done, err := svc.Disconnect(ctx, conn.ID)
		require.NoError(t, err)
		require.True(t, done.Revoked)
		require.True(t, refused(t, b, b.info.Installs[mirosim.InstallOrgAdmin].AccessToken))
		got, err := svc.Store.Connection(ctx, conn.ID)
		require.NoError(t, err)
		require.Equal(t, roster.StatusDisconnected, got.Status)
		require.Empty(t, got.SealedToken)
		require.Equal(t, conn.OrgID, got.OrgID, "the connection itself is kept")

		// Again: nothing to do.
		again, err := svc.Disconnect(ctx, conn.ID)
		require.NoError(t, err)
		require.False(t, again.Revoked)
	})

	t.Run("ExpiredTokenIsRefreshedFirst", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		svc := b.service(t)
		conn := b.saved(t, svc, mirosim.InstallTeam, roster.LevelTeam, true)
		done, err := svc.Disconnect(ctx, conn.ID)
		require.NoError(t, err)
		require.True(t, done.Revoked)
		// Neither the old refresh token nor the rotated pair works.
		oauth := svc.App().OAuth("", b.srv.Client(), nil)
		_, err = oauth.Refresh(ctx, b.info.Installs[mirosim.InstallTeam].RefreshToken)
		require.Error(t, err)
		now := b.sim.Info(b.info.APIBaseURL).Installs[mirosim.InstallTeam]
		require.True(t, refused(t, b, now.AccessToken), "the rotated token is revoked")
	})

	t.Run("DeadTokenStillDisconnects", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		svc := b.service(t)
		conn := b.saved(t, svc, mirosim.InstallNonEnterpriseTeam, roster.LevelTeam, false)
		require.NoError(t, svc.App().OAuth("", b.srv.Client(), nil).Revoke(ctx, b.info.Installs[mirosim.InstallNonEnterpriseTeam].AccessToken))
		done, err := svc.Disconnect(ctx, conn.ID)
		require.NoError(t, err)
		require.False(t, done.Revoked)
		require.NotEmpty(t, done.MiroAnswer)
		got, err := svc.Store.Connection(ctx, conn.ID)
		require.NoError(t, err)
		require.Equal(t, roster.StatusDisconnected, got.Status)
	})

	t.Run("ErrMiroUnreachable", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		svc := b.service(t)
		conn := b.saved(t, svc, mirosim.InstallOrgAdmin, roster.LevelOrganization, false)
		gone := httptest.NewServer(nil)
		gone.Close()
		conn.APIBaseURL = gone.URL
		require.NoError(t, svc.Store.UpdateConnection(ctx, &conn))
		_, err := svc.Disconnect(ctx, conn.ID)
		require.ErrorIs(t, err, connect.ErrCannotRevoke)
		got, err := svc.Store.Connection(ctx, conn.ID)
		require.NoError(t, err)
		require.Equal(t, roster.StatusActive, got.Status, "nothing changed")
		require.NotEmpty(t, got.SealedToken)
	})

	t.Run("ErrNoMiroApp", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		svc := b.service(t)
		conn := b.saved(t, svc, mirosim.InstallOrgAdmin, roster.LevelOrganization, false)
		svc.Clients.App.ClientSecret = ""
		_, err := svc.Disconnect(ctx, conn.ID)
		require.ErrorIs(t, err, connect.ErrCannotRevoke)
		require.ErrorContains(t, err, "ROSTER_MIRO_CLIENT_ID")
		require.False(t, refused(t, b, b.info.Installs[mirosim.InstallOrgAdmin].AccessToken))
	})
}
