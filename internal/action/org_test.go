package action

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/testkit"
)

// connectSCIM connects the organization admin's install with the
// simulator's SCIM token, sealed as roster connect --scim-token does,
// and syncs it.
func (b *testBundle) connectSCIM(t *testing.T) roster.Connection {
	t.Helper()
	c := b.WithSCIM(t, b.Connect(t, mirosim.InstallOrgAdmin, roster.LevelOrganization))
	b.Sync(t, c.ID)
	b.Sim.ResetStats()
	return b.Connection(t, c.ID)
}

// licensed is an active internal member holding a full license.
func (b *testBundle) licensed(t *testing.T) person {
	t.Helper()
	for m, err := range b.Admin.OrgMembers(context.Background(), b.Info.OrgID, miro.MemberFilter{}) {
		require.NoError(t, err)
		if m.Active && m.Role.String() == roster.OrgRoleInternalUser && m.License.String() == roster.LicenseFull {
			return person{m.ID, m.Email}
		}
	}
	t.Fatal("no licensed member")
	return person{}
}

func (b *testBundle) orgMember(t *testing.T, id string) miro.OrganizationMember {
	t.Helper()
	m, err := b.Admin.OrgMember(context.Background(), b.Info.OrgID, id)
	require.NoError(t, err)
	return m
}

func (b *testBundle) account(t *testing.T, id string) roster.Account {
	t.Helper()
	accs, err := b.DB.AccountsByMiroIDs(context.Background(), []string{id})
	require.NoError(t, err)
	return accs[id]
}

func orgReq(conn roster.Connection, email string) Request {
	return Request{Key: key(), ConnectionID: conn.ID, Email: email, Actor: "operator:admin@example.com"}
}

func TestDeactivateReactivate(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, db)
		ctx := context.Background()
		conn := b.connectSCIM(t)
		p := b.licensed(t)

		// Deactivation frees the license, at Miro and in the store.
		r := orgReq(conn, p.email)
		a, err := b.runner.Deactivate(ctx, r)
		require.NoError(t, err)
		require.Equal(t, roster.ActionSucceeded, a.Status, a.Result)
		require.Contains(t, a.Result, "license now free")
		m := b.orgMember(t, p.id)
		require.False(t, m.Active)
		require.Equal(t, roster.LicenseFree, m.License.String())
		acc := b.account(t, p.id)
		require.False(t, acc.Active)
		require.Equal(t, roster.LicenseFree, acc.License)
		require.Equal(t, 1, b.Calls("patchUser"))

		// The same key again: its outcome, no SCIM call.
		again, err := b.runner.Deactivate(ctx, r)
		require.NoError(t, err)
		require.Equal(t, a, again)
		require.Equal(t, 1, b.Calls("patchUser"))

		// Reactivation.
		a, err = b.runner.Reactivate(ctx, orgReq(conn, p.email))
		require.NoError(t, err)
		require.Equal(t, roster.ActionSucceeded, a.Status, a.Result)
		require.True(t, b.orgMember(t, p.id).Active)
		require.True(t, b.account(t, p.id).Active)
		require.Equal(t, 2, b.Calls("patchUser"))

		entries := b.audit(t, conn.ID)
		require.Len(t, entries, 2)
		require.Equal(t, string(roster.ActionReactivate), entries[0].Action)
		require.Equal(t, string(roster.ActionDeactivate), entries[1].Action)
		require.Equal(t, p.email, entries[1].Target)
	})
}

func TestDeactivateRefused(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, db)
		ctx := context.Background()
		conn := b.connectSCIM(t)

		// Guests and external users: refused before any SCIM call.
		for _, role := range []string{roster.OrgRoleTeamGuest, roster.OrgRoleExternalUser} {
			accs, err := db.Accounts(ctx, store.AccountFilter{OrgRole: role})
			require.NoError(t, err)
			var acc roster.Account
			for _, x := range accs {
				if x.Email != "" {
					acc = x
					break
				}
			}
			require.NotEmpty(t, acc.Email, "the simulator has a %s with an email", role)
			a, err := b.runner.Deactivate(ctx, orgReq(conn, acc.Email))
			require.ErrorIs(t, err, ErrRefused)
			require.Equal(t, roster.ActionRefused, a.Status)
			require.Contains(t, a.Result, "only internal users")
		}
		require.Zero(t, b.Sim.Stats().Calls, "no SCIM call")

		// No SCIM token.
		noToken := conn
		noToken.SealedSCIMToken = nil
		require.NoError(t, db.UpdateConnection(ctx, &noToken))
		p := b.licensed(t)
		a, err := b.runner.Deactivate(ctx, orgReq(noToken, p.email))
		require.ErrorIs(t, err, ErrRefused)
		require.Contains(t, a.Result, "no SCIM token")

		// A team-level connection.
		team := b.connectKind(t, mirosim.InstallTeam, roster.LevelTeam)
		a, err = b.runner.Reactivate(ctx, orgReq(team, p.email))
		require.ErrorIs(t, err, ErrRefused)
		require.Contains(t, a.Result, "organization-level connection")
		require.Zero(t, b.Calls("patchUser"))
		require.True(t, b.orgMember(t, p.id).Active)

		// A bad request records nothing.
		_, err = b.runner.Deactivate(ctx, Request{Key: key(), ConnectionID: conn.ID, Actor: "x", Email: "nobody@example.com"})
		require.ErrorIs(t, err, ErrInvalid)
	})
}

func TestDeactivateLostAnswer(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, db)
		ctx := context.Background()
		conn := b.connectSCIM(t)
		p := b.licensed(t)
		b.Sim.SetFaults(mirosim.Fault{OperationID: "patchUser", Kind: mirosim.FaultLost, Rate: 1, Times: 1})

		// SCIM deactivated them, but the answer was lost.
		r := orgReq(conn, p.email)
		a, err := b.runner.Deactivate(ctx, r)
		require.ErrorIs(t, err, ErrFailed)
		require.Equal(t, roster.ActionFailed, a.Status)
		require.False(t, b.orgMember(t, p.id).Active)
		require.Equal(t, 1, b.Calls("patchUser"))

		// The retry asks SCIM first, and does not PATCH again.
		a, err = b.runner.Deactivate(ctx, r)
		require.NoError(t, err)
		require.Equal(t, roster.ActionSucceeded, a.Status)
		require.Contains(t, a.Result, "found in SCIM before retrying")
		require.Equal(t, 1, b.Calls("patchUser"))
		require.False(t, b.account(t, p.id).Active)
		require.Equal(t, roster.LicenseFree, b.account(t, p.id).License)
	})
}

func TestSignOutLostAnswer(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, db)
		ctx := context.Background()
		conn := b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		require.True(t, conn.HasScope(roster.ScopeAuditLogsRead))
		p := b.orgMembers(t)[0]
		b.Sim.SetFaults(mirosim.Fault{OperationID: "enterprise-post-user-sessions-reset", Kind: mirosim.FaultLost, Rate: 1, Times: 1})

		// Miro reset the sessions, but the answer was lost.
		r := orgReq(conn, p.email)
		_, err := b.runner.SignOut(ctx, r)
		require.ErrorIs(t, err, ErrFailed)
		require.Equal(t, 1, b.Calls("enterprise-post-user-sessions-reset"))

		// The retry finds the reset in the audit log and does not send it again.
		a, err := b.runner.SignOut(ctx, r)
		require.NoError(t, err)
		require.Contains(t, a.Result, "found in the audit log")
		require.Equal(t, 1, b.Calls("enterprise-post-user-sessions-reset"))

		// Without a reset in the log (another person), the retry sends it.
		other := b.orgMembers(t)[1]
		b.Sim.SetFaults(mirosim.Fault{OperationID: "enterprise-post-user-sessions-reset", Kind: mirosim.Fault503, Rate: 1, Times: 20})
		r2 := orgReq(conn, other.email)
		_, err = b.runner.SignOut(ctx, r2)
		require.ErrorIs(t, err, ErrFailed)
		b.Sim.SetFaults()
		a, err = b.runner.SignOut(ctx, r2)
		require.NoError(t, err)
		require.Equal(t, "signed "+other.email+" out of all sessions", a.Result)
	})
}

func TestSignOut(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, db)
		ctx := context.Background()
		conn := b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		p := b.orgMembers(t)[0]
		r := orgReq(conn, p.email)
		for range 2 {
			a, err := b.runner.SignOut(ctx, r)
			require.NoError(t, err)
			require.Equal(t, roster.ActionSucceeded, a.Status, a.Result)
		}
		require.Equal(t, 1, b.Calls("enterprise-post-user-sessions-reset"))

		team := b.connectKind(t, mirosim.InstallTeam, roster.LevelTeam)
		a, err := b.runner.SignOut(ctx, orgReq(team, p.email))
		require.ErrorIs(t, err, ErrRefused)
		require.Contains(t, a.Result, "cannot "+roster.CapSignOut)
	})
}

// lastAdminTeam is a team where exactly one person is admin (made so
// through the simulator's API when needed), and that person.
func (b *testBundle) lastAdminTeam(t *testing.T, exclude string) (string, person) {
	t.Helper()
	members := map[string]string{}
	for _, p := range b.orgMembers(t) {
		members[p.id] = p.email
	}
	for _, team := range b.Info.TeamIDs {
		var admins []string
		for id, role := range b.teamRoles(t, team) {
			if role == roster.TeamRoleAdmin {
				admins = append(admins, id)
			}
		}
		if len(admins) == 1 && members[admins[0]] != "" && admins[0] != exclude {
			return team, person{admins[0], members[admins[0]]}
		}
	}
	t.Fatal("no team with a single internal admin")
	return "", person{}
}

func TestRemoveFromAllTeams(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, db)
		ctx := context.Background()
		conn := b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		team, p := b.lastAdminTeam(t, b.Info.Installs[mirosim.InstallOrgAdmin].UserID)
		acc := b.account(t, p.id)
		ms, err := db.AccountMemberships(ctx, acc.ID)
		require.NoError(t, err)

		seen := observe(b.runner)

		// Without a service account: the last-admin team is skipped.
		r := orgReq(conn, p.email)
		sum, err := b.runner.RemoveFromAllTeams(ctx, r)
		require.NoError(t, err)
		require.Len(t, sum.Teams, len(ms))
		want := map[string]int{"remove_from_team refused": 1}
		if len(ms) > 1 {
			want["remove_from_team succeeded"] = len(ms) - 1
		}
		require.Equal(t, want, seen.take(), "Observe counts each team's removal, and the skip as a refused removal")
		for _, o := range sum.Teams {
			if o.MiroTeamID == team {
				require.Equal(t, TeamSkipped, o.Outcome)
				require.Contains(t, o.Reason, "last admin")
			} else {
				require.Equal(t, TeamRemoved, o.Outcome, o.Reason)
			}
		}
		require.Equal(t, roster.TeamRoleAdmin, b.teamRoles(t, team)[p.id])
		skipped := false
		for _, e := range b.audit(t, conn.ID) {
			skipped = skipped || strings.Contains(e.Detail, "skipped") && e.Target == p.email
		}
		require.True(t, skipped, "the skip is audited")

		// With a service account: it becomes admin, the person leaves.
		var svc person
		for _, q := range b.orgMembers(t) {
			if q.id != p.id && q.email != "" {
				svc = q
				break
			}
		}
		r2 := orgReq(conn, p.email)
		r2.ServiceAccountEmail = svc.email
		sum, err = b.runner.RemoveFromAllTeams(ctx, r2)
		require.NoError(t, err)
		require.Len(t, sum.Teams, 1)
		require.Equal(t, TeamRemoved, sum.Teams[0].Outcome, sum.Teams[0].Reason)
		require.Len(t, sum.Teams[0].Actions, 2)
		made := seen.take()
		require.Equal(t, 1, made["remove_from_team succeeded"])
		require.Equal(t, 1, made["invite_to_team succeeded"]+made["change_team_role succeeded"], "the service account's promotion is observed")
		roles := b.teamRoles(t, team)
		require.Equal(t, roster.TeamRoleAdmin, roles[svc.id])
		_, still := roles[p.id]
		require.False(t, still)
		for _, tm := range b.Info.TeamIDs {
			_, in := b.teamRoles(t, tm)[p.id]
			require.False(t, in, "removed from team %s", tm)
		}
		ms, err = db.AccountMemberships(ctx, acc.ID)
		require.NoError(t, err)
		require.Empty(t, ms)

		// A bad request is observed as not run.
		_, err = b.runner.RemoveFromAllTeams(ctx, orgReq(conn, "not an email"))
		require.ErrorIs(t, err, ErrInvalid)
		require.Equal(t, map[string]int{"remove_from_team not_run": 1}, seen.take())

		// Resuming a finished run repeats no team.
		b.Sim.ResetStats()
		sum, err = b.runner.RemoveFromAllTeams(ctx, r2)
		require.NoError(t, err)
		require.Empty(t, sum.Teams)
		require.Zero(t, b.Sim.Stats().Calls)
	})
}
