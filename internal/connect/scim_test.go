package connect_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/connect"
	"roster/internal/mirosim"
	"roster/internal/secret"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
)

// serviceOn is a connect.Service on db and the simulator.
func (b testBundle) serviceOn(t *testing.T, db *sqlstore.DB) *connect.Service {
	t.Helper()
	k, _, err := secret.NewKey()
	require.NoError(t, err)
	app, err := connect.App{ClientID: b.info.ClientID, ClientSecret: b.info.ClientSecret, APIBaseURL: b.info.APIBaseURL}.Resolve()
	require.NoError(t, err)
	return &connect.Service{Store: db, Clients: &connect.Clients{App: app, Store: db, Sealer: secret.NewSealer(k),
		HTTPClient: b.srv.Client(), RetryBackoff: time.Millisecond}}
}

func TestSCIMToken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	storetest.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		svc := b.serviceOn(t, db)
		org := b.saved(t, svc, mirosim.InstallOrgAdmin, roster.LevelOrganization, false)
		team := b.saved(t, svc, mirosim.InstallTeam, roster.LevelTeam, false)
		deactivate := func(c roster.Connection) roster.Capability {
			for _, cp := range c.Capabilities() {
				if cp.Name == roster.CapDeactivate {
					return cp
				}
			}
			t.Fatal("no deactivate capability")
			return roster.Capability{}
		}
		require.False(t, deactivate(org).Available)

		t.Run("ErrRefused", func(t *testing.T) {
			for _, tok := range []string{"not-a-scim-token", b.info.Installs[mirosim.InstallOrgAdmin].AccessToken} {
				_, err := svc.SetSCIMToken(ctx, org.ID, tok)
				require.ErrorIs(t, err, connect.ErrSCIMTokenRefused)
				require.NotContains(t, err.Error(), tok, "tokens are never printed")
			}
			_, err := svc.SetSCIMToken(ctx, org.ID, " \n")
			require.ErrorIs(t, err, connect.ErrSCIMTokenEmpty)
			got, err := db.Connection(ctx, org.ID)
			require.NoError(t, err)
			require.Empty(t, got.SealedSCIMToken, "nothing was saved")
		})

		t.Run("ErrTeamLevel", func(t *testing.T) {
			_, err := svc.SetSCIMToken(ctx, team.ID, b.info.SCIMToken)
			require.ErrorIs(t, err, connect.ErrSCIMUnavailable)
			require.ErrorContains(t, err, "only an organization-level connection takes a SCIM token")
		})

		t.Run("AddReplaceRemove", func(t *testing.T) {
			before := b.sim.Stats().ByOperation
			done, err := svc.SetSCIMToken(ctx, org.ID, " "+b.info.SCIMToken+"\n")
			require.NoError(t, err)
			require.False(t, done.Replaced)
			require.Equal(t, "it lists the organization's users", done.Saw)
			require.Greater(t, b.sim.Stats().ByOperation["listUsers"].Calls, before["listUsers"].Calls, "checked against Miro's SCIM API")

			got, err := db.Connection(ctx, org.ID)
			require.NoError(t, err)
			require.Equal(t, b.info.SCIMBaseURL, got.SCIMBaseURL)
			require.NotContains(t, string(got.SealedSCIMToken), b.info.SCIMToken, "sealed at rest")
			plain, err := svc.Sealer().Open(got.SealedSCIMToken)
			require.NoError(t, err)
			require.Equal(t, b.info.SCIMToken, string(plain), "trimmed and sealed")
			require.Equal(t, org.SealedToken, got.SealedToken, "the OAuth token is untouched")
			require.True(t, deactivate(got).Available)

			// The saved token works through the connection's SCIM client.
			sc, err := svc.Clients.SCIM(got, 1)
			require.NoError(t, err)
			for _, err := range sc.Users(ctx, "") {
				require.NoError(t, err)
				break
			}

			done, err = svc.SetSCIMToken(ctx, org.ID, b.info.SCIMToken)
			require.NoError(t, err)
			require.True(t, done.Replaced)

			removed, err := svc.RemoveSCIMToken(ctx, org.ID)
			require.NoError(t, err)
			require.Empty(t, removed.SealedSCIMToken)
			got, err = db.Connection(ctx, org.ID)
			require.NoError(t, err)
			require.Empty(t, got.SealedSCIMToken)
			require.False(t, deactivate(got).Available)
			require.Equal(t, org.SealedToken, got.SealedToken)
		})

		t.Run("ErrDisconnected", func(t *testing.T) {
			c, err := db.Connection(ctx, org.ID)
			require.NoError(t, err)
			c.Status = roster.StatusDisconnected
			require.NoError(t, db.UpdateConnection(ctx, &c))
			_, err = svc.SetSCIMToken(ctx, org.ID, b.info.SCIMToken)
			require.ErrorIs(t, err, connect.ErrSCIMUnavailable)
		})
	})
}

// TestCheckSCIMUnreachable: an unreachable SCIM API is not a refusal.
func TestCheckSCIMUnreachable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	svc := b.service(t)
	_, err := svc.CheckSCIM(context.Background(), "http://127.0.0.1:1/api/v1/scim", "tok")
	require.Error(t, err)
	require.NotErrorIs(t, err, connect.ErrSCIMTokenRefused)
}
