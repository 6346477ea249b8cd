package connect_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/connect"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
)

func teamConn(teamID, name, token string) roster.Connection {
	return roster.Connection{Level: roster.LevelTeam, OrgID: "o1", OrgName: "Acme", TeamID: teamID, TeamName: name,
		InstallerID: "u1", InstallerName: "Ann", Scopes: []string{"team:read"}, APIBaseURL: "http://sim", SealedToken: []byte(token)}
}

func orgConn(token string) roster.Connection {
	return roster.Connection{Level: roster.LevelOrganization, OrgID: "o1", OrgName: "Acme", TeamID: "t1", TeamName: "HQ",
		InstallerID: "u1", InstallerName: "Ann", Scopes: []string{"organizations:read", "organizations:teams:read"}, Enterprise: true, CompanyAdmin: true,
		APIBaseURL: "http://sim", SealedToken: []byte(token)}
}

func TestSave(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()

		t.Run("SecondTeamAddsAConnection", func(t *testing.T) {
			a, b := teamConn("t10", "Design", "tok-a"), teamConn("t11", "Sales", "tok-b")
			created, err := connect.Save(ctx, db, &a)
			require.NoError(t, err)
			require.True(t, created)
			created, err = connect.Save(ctx, db, &b)
			require.NoError(t, err)
			require.True(t, created)
			require.NotEqual(t, a.ID, b.ID)
			got, err := db.Connection(ctx, a.ID)
			require.NoError(t, err)
			require.Equal(t, connect.DefaultSyncInterval, got.SyncInterval)
			require.Equal(t, roster.StatusActive, got.Status)
		})

		t.Run("SameTeamUpdatesWithoutDuplicating", func(t *testing.T) {
			first := teamConn("t20", "Ops", "tok-1")
			_, err := connect.Save(ctx, db, &first)
			require.NoError(t, err)
			// The connection broke, then the admin connects the team again.
			broken := first
			broken.Status, broken.StatusMessage = roster.StatusError, "token revoked"
			require.NoError(t, db.UpdateConnection(ctx, &broken))

			again := teamConn("t20", "Ops renamed", "tok-2")
			again.Scopes = []string{"team:read", "team:write"}
			created, err := connect.Save(ctx, db, &again)
			require.NoError(t, err)
			require.False(t, created)
			require.Equal(t, first.ID, again.ID)

			got, err := db.Connection(ctx, first.ID)
			require.NoError(t, err)
			require.Equal(t, "Ops renamed", got.TeamName)
			require.Equal(t, []byte("tok-2"), got.SealedToken)
			require.Equal(t, []string{"team:read", "team:write"}, got.Scopes)
			require.Equal(t, roster.StatusActive, got.Status)
			require.Empty(t, got.StatusMessage)

			n := 0
			conns, err := db.Connections(ctx)
			require.NoError(t, err)
			for _, c := range conns {
				if c.TeamID == "t20" {
					n++
				}
			}
			require.Equal(t, 1, n)
		})

		t.Run("SecondOrgConnectionRefused", func(t *testing.T) {
			first := orgConn("tok-1")
			first.SealedSCIMToken = []byte("scim")
			created, err := connect.Save(ctx, db, &first)
			require.NoError(t, err)
			require.True(t, created)

			second := orgConn("tok-2")
			second.TeamID = "t2" // installed on another team of the same org
			_, err = connect.Save(ctx, db, &second)
			var already *connect.AlreadyConnectedError
			require.ErrorAs(t, err, &already)
			require.ErrorIs(t, err, store.ErrConflict)
			require.Equal(t, first.ID, already.Existing.ID)
			require.EqualError(t, err, "organization Acme (o1) is already connected as connection "+strconv.FormatInt(first.ID, 10)+
				", and roster keeps one connection per organization; to re-authorize it, connect again with --replace")
			got, err := db.Connection(ctx, first.ID)
			require.NoError(t, err)
			require.Equal(t, []byte("tok-1"), got.SealedToken, "a refused save changes nothing")

			// Replace re-authorizes in place and keeps the SCIM token.
			require.NoError(t, connect.Replace(ctx, db, &second))
			require.Equal(t, first.ID, second.ID)
			got, err = db.Connection(ctx, first.ID)
			require.NoError(t, err)
			require.Equal(t, []byte("tok-2"), got.SealedToken)
			require.Equal(t, "t2", got.TeamID)
			require.Equal(t, []byte("scim"), got.SealedSCIMToken)
		})

		t.Run("ErrReplaceWithoutConnection", func(t *testing.T) {
			c := orgConn("tok")
			c.OrgID = "o-none"
			err := connect.Replace(ctx, db, &c)
			require.True(t, errors.Is(err, store.ErrNotFound), err)
		})

		t.Run("ErrTeamTokenAtOrgLevel", func(t *testing.T) {
			// A team token offered for the organization level never takes
			// the organization's one connection: the right one still saves.
			wrong := orgConn("team-tok")
			wrong.OrgID, wrong.Scopes, wrong.Enterprise, wrong.CompanyAdmin = "o-team", []string{"team:read", "team:write"}, false, false
			_, err := connect.Save(ctx, db, &wrong)
			var unusable *connect.UnusableError
			require.ErrorAs(t, err, &unusable)
			require.ErrorIs(t, err, store.ErrInvalid)
			require.Contains(t, err.Error(), "this is a team token")
			require.Contains(t, err.Error(), "organizations:read and organizations:teams:read")
			require.Zero(t, wrong.ID)
			_, err = db.FindConnection(ctx, roster.LevelOrganization, "o-team", "")
			require.ErrorIs(t, err, store.ErrNotFound, "nothing was saved")
			require.ErrorAs(t, connect.Replace(ctx, db, &wrong), &unusable, "nor replaced")

			right := orgConn("admin-tok")
			right.OrgID = "o-team"
			created, err := connect.Save(ctx, db, &right)
			require.NoError(t, err)
			require.True(t, created)
		})

		t.Run("ErrInvalid", func(t *testing.T) {
			c := teamConn("", "x", "tok")
			_, err := connect.Save(ctx, db, &c)
			require.ErrorContains(t, err, "no team id")
			c = teamConn("t30", "x", "")
			_, err = connect.Save(ctx, db, &c)
			require.ErrorContains(t, err, "no sealed token")
		})
	})
}
