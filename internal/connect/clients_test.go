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
	"roster/internal/testkit"
)

var _ connect.Sealer = (*secret.Sealer)(nil)

// One connection's token has one client, however many callers ask (so
// syncs and actions share one credit pacer); a rotation the client made
// itself keeps it, and forgetting the connection drops it.
func TestClientsShareOneClientPerToken(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		k := testkit.New(t, db, mirosim.Config{Members: 20, Teams: 2})
		ctx := context.Background()
		in := k.Info.Installs[mirosim.InstallOrgAdmin]
		conn := k.Connect(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)

		first, err := k.Clients.REST(conn)
		require.NoError(t, err)
		again, err := k.Clients.REST(k.Connection(t, conn.ID))
		require.NoError(t, err)
		require.Same(t, first, again)

		// An expired token: the first call refreshes it, and the rotated
		// pair is in the store before it is used.
		tok := testkit.TokenOf(in)
		tok.Expiry = time.Now().Add(-time.Minute)
		conn.SealedToken, err = connect.SealToken(k.Sealer, tok)
		require.NoError(t, err)
		require.NoError(t, db.UpdateConnection(ctx, &conn))
		conn = k.Connection(t, conn.ID)
		expired, err := k.Clients.REST(conn)
		require.NoError(t, err)
		require.NotSame(t, first, expired, "a new token, a new client")
		access, err := k.Clients.AccessToken(ctx, conn)
		require.NoError(t, err)
		require.NotEqual(t, in.AccessToken, access, "refreshed")
		stored, err := connect.OpenToken(k.Sealer, k.Connection(t, conn.ID).SealedToken)
		require.NoError(t, err)
		require.Equal(t, access, stored.AccessToken, "the rotation was saved")
		rotated, err := k.Clients.REST(k.Connection(t, conn.ID))
		require.NoError(t, err)
		require.Same(t, expired, rotated, "the client that rotated the token keeps serving it")

		k.Clients.Forget(conn.ID)
		fresh, err := k.Clients.REST(k.Connection(t, conn.ID))
		require.NoError(t, err)
		require.NotSame(t, rotated, fresh)
	})
}

// SCIM clients are shared per connection, token and retry policy, and a
// replaced SCIM token's clients are dropped.
func TestClientsShareSCIMClients(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		k := testkit.New(t, db, mirosim.Config{Members: 20, Teams: 2})
		conn := k.WithSCIM(t, k.Connect(t, mirosim.InstallOrgAdmin, roster.LevelOrganization))
		a, err := k.Clients.SCIM(conn, 5)
		require.NoError(t, err)
		b, err := k.Clients.SCIM(conn, 5)
		require.NoError(t, err)
		require.Same(t, a, b)
		once, err := k.Clients.SCIM(conn, -1)
		require.NoError(t, err)
		require.NotSame(t, a, once, "a PATCH sent once has its own retry policy")

		conn.SealedSCIMToken, err = k.Sealer.Seal([]byte(k.Info.SCIMToken))
		require.NoError(t, err)
		c, err := k.Clients.SCIM(conn, 5)
		require.NoError(t, err)
		require.NotSame(t, a, c, "a new SCIM token, a new client")
	})
}
