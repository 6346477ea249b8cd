package action

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/mirosim"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
	"roster/internal/testkit"
)

func TestOrganizationInviteRoleRemove(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, db)
		ctx := context.Background()
		conn := b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		team := b.Info.TeamIDs[1]
		p := b.outsider(t, team)

		// Invite: Miro and the store hold the membership at once.
		r := req(conn, team)
		r.Email = p.email
		a, err := b.runner.Invite(ctx, r)
		require.NoError(t, err)
		require.Equal(t, roster.ActionSucceeded, a.Status)
		require.Contains(t, a.Result, "invited "+p.email)
		require.Contains(t, a.MiroAnswer, "201")
		require.Equal(t, roster.TeamRoleMember, b.teamRoles(t, team)[p.id])
		require.Equal(t, roster.TeamRoleMember, b.memberships(t, team)[p.id])
		stored, err := db.ActionByKey(ctx, r.Key)
		require.NoError(t, err)
		require.Equal(t, a, stored)

		// Change role, by email.
		r = req(conn, team)
		r.Email, r.Role = p.email, roster.TeamRoleAdmin
		a, err = b.runner.ChangeRole(ctx, r)
		require.NoError(t, err)
		require.Equal(t, roster.ActionSucceeded, a.Status)
		require.Equal(t, roster.TeamRoleAdmin, b.teamRoles(t, team)[p.id])
		require.Equal(t, roster.TeamRoleAdmin, b.memberships(t, team)[p.id])

		// Remove a member who owns boards: they go to the team's admin.
		roles := b.teamRoles(t, team)
		owner, owned := b.boardOwner(t, mirosim.InstallOrgAdmin, team, roles)
		require.Contains(t, Consequence(conn, roster.ActionRemove), "reassigned to the team's admin")
		r = req(conn, team)
		r.MiroUserID = owner
		a, err = b.runner.Remove(ctx, r)
		require.NoError(t, err)
		require.Equal(t, roster.ActionSucceeded, a.Status)
		require.Contains(t, a.Result, "went to the team's admin")
		require.Contains(t, a.MiroAnswer, "204")
		_, still := b.teamRoles(t, team)[owner]
		require.False(t, still)
		_, still = b.memberships(t, team)[owner]
		require.False(t, still)
		after := b.boards(t, mirosim.InstallOrgAdmin, team)
		for _, id := range owned {
			newOwner, live := after[id]
			require.True(t, live, "board %s is still in the team", id)
			require.Equal(t, roster.TeamRoleAdmin, b.teamRoles(t, team)[newOwner], "board %s went to an admin", id)
		}
		trashed, _ := b.Sim.Trash(team)
		require.Empty(t, trashed)

		// The audit log has all three, newest first, with Miro's answers.
		entries := b.audit(t, conn.ID)
		require.Len(t, entries, 3)
		require.Equal(t, string(roster.ActionRemove), entries[0].Action)
		require.Equal(t, "ok", entries[0].Result)
		require.Contains(t, entries[0].MiroAnswer, "204")
		require.Equal(t, string(roster.ActionInvite), entries[2].Action)
		require.Equal(t, p.email, entries[2].Target)
		require.Equal(t, "operator:admin@example.com", entries[2].Actor)
		require.Contains(t, entries[2].MiroAnswer, "201")
	})
}

func TestTeamLevelLegacyRemoveInviteRole(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{mirosim.InstallTeam, mirosim.InstallNonEnterpriseTeam} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
				b := setup(t, db)
				ctx := context.Background()
				conn := b.connectKind(t, kind, roster.LevelTeam)
				team := conn.TeamID
				require.Contains(t, Consequence(conn, roster.ActionRemove), "restored from the team's trash")

				// Remove a member who owns boards: they go to the trash.
				roles := b.legacyRoles(t, kind, team)
				owner, owned := b.boardOwner(t, kind, team, roles)
				accs, err := db.AccountsByMiroIDs(ctx, []string{owner})
				require.NoError(t, err)
				email := accs[owner].Email
				require.NotEmpty(t, email)
				r := req(conn, "") // the connection's own team by default
				r.Email = email
				a, err := b.runner.Remove(ctx, r)
				require.NoError(t, err)
				require.Equal(t, roster.ActionSucceeded, a.Status, a.Result)
				require.Contains(t, a.Result, "trash")
				require.Contains(t, a.MiroAnswer, "204")
				_, still := b.legacyRoles(t, kind, team)[owner]
				require.False(t, still)
				_, still = b.memberships(t, team)[owner]
				require.False(t, still)
				trashed, _ := b.Sim.Trash(team)
				var ids []string
				for _, bd := range trashed {
					ids = append(ids, bd.ID)
				}
				require.Subset(t, ids, owned)

				// Invite them back as admin: the v1 invite, then a promotion.
				r = req(conn, team)
				r.Email, r.Role = email, roster.TeamRoleAdmin
				a, err = b.runner.Invite(ctx, r)
				require.NoError(t, err)
				require.Equal(t, roster.ActionSucceeded, a.Status, a.Result)
				require.Contains(t, a.MiroAnswer, "then 200")
				require.Equal(t, roster.TeamRoleAdmin, b.legacyRoles(t, kind, team)[owner])
				require.Equal(t, roster.TeamRoleAdmin, b.memberships(t, team)[owner])

				// And back to member.
				r = req(conn, team)
				r.MiroUserID, r.Role = owner, roster.TeamRoleMember
				a, err = b.runner.ChangeRole(ctx, r)
				require.NoError(t, err)
				require.Equal(t, roster.ActionSucceeded, a.Status, a.Result)
				require.Equal(t, roster.TeamRoleMember, b.legacyRoles(t, kind, team)[owner])
				require.Equal(t, roster.TeamRoleMember, b.memberships(t, team)[owner])

				entries := b.audit(t, conn.ID)
				require.Len(t, entries, 3)
				for _, e := range entries {
					require.Equal(t, "ok", e.Result)
					require.NotEmpty(t, e.MiroAnswer)
				}
			})
		})
	}
}

func TestIdempotentKey(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, db)
		ctx := context.Background()
		conn := b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		team := b.Info.TeamIDs[1]
		p := b.outsider(t, team)
		r := req(conn, team)
		r.Email = p.email
		b.Sim.ResetStats()
		seen := observe(b.runner)
		first, err := b.runner.Invite(ctx, r)
		require.NoError(t, err)
		again, err := b.runner.Invite(ctx, r)
		require.NoError(t, err)
		require.Equal(t, first, again)
		require.Equal(t, 1, b.Sim.Stats().Calls, "the second run calls nothing")
		require.Len(t, b.audit(t, conn.ID), 1)

		// A refusal is final for its key too.
		refused := req(conn, team)
		refused.Email = p.email // already a member now
		_, err = b.runner.Invite(ctx, refused)
		require.ErrorIs(t, err, ErrRefused)
		_, err = b.runner.Invite(ctx, refused)
		require.ErrorIs(t, err, ErrRefused)
		require.Equal(t, map[string]int{"invite_to_team succeeded": 2, "invite_to_team refused": 2}, seen.take(),
			"Observe is told of every run, a key's replay included")
		require.Equal(t, 2, b.Calls("enterprise-invite-team-member"))

		// A key used for another action is refused as bad input.
		other := r
		other.Role = roster.TeamRoleAdmin
		_, err = b.runner.Invite(ctx, other)
		require.ErrorIs(t, err, ErrInvalid)
		require.ErrorContains(t, err, "key: ")
	})
}

func TestLostAnswersAreCheckedBeforeRetrying(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, db)
		ctx := context.Background()
		conn := b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		team := b.Info.TeamIDs[1]
		p := b.outsider(t, team)

		// Miro invites, but the answer is lost: the run fails.
		b.Sim.SetFaults(mirosim.Fault{OperationID: "enterprise-invite-team-member", Kind: mirosim.FaultLost, Rate: 1, Times: 1})
		r := req(conn, team)
		r.Email = p.email
		a, err := b.runner.Invite(ctx, r)
		require.ErrorIs(t, err, ErrFailed)
		require.Equal(t, roster.ActionFailed, a.Status)
		require.Contains(t, a.MiroAnswer, "no answer")
		require.Equal(t, roster.TeamRoleMember, b.teamRoles(t, team)[p.id], "Miro acted")
		_, known := b.memberships(t, team)[p.id]
		require.False(t, known, "a failed action writes no effect")

		// The retry asks Miro first, finds the member, invites nobody.
		a, err = b.runner.Invite(ctx, r)
		require.NoError(t, err)
		require.Equal(t, roster.ActionSucceeded, a.Status)
		require.Contains(t, a.Result, "found in Miro before retrying")
		require.Equal(t, 1, b.Calls("enterprise-invite-team-member"))
		require.Equal(t, roster.TeamRoleMember, b.memberships(t, team)[p.id])

		// Miro removes, but every answer is lost: the run fails; the retry
		// finds them gone.
		b.Sim.SetFaults(mirosim.Fault{OperationID: "enterprise-delete-team-member", Kind: mirosim.FaultLost, Rate: 1})
		r = req(conn, team)
		r.MiroUserID = p.id
		a, err = b.runner.Remove(ctx, r)
		require.ErrorIs(t, err, ErrFailed)
		require.Equal(t, roster.ActionFailed, a.Status)
		b.Sim.SetFaults()
		deletes := b.Calls("enterprise-delete-team-member")
		a, err = b.runner.Remove(ctx, r)
		require.NoError(t, err)
		require.Equal(t, roster.ActionSucceeded, a.Status)
		require.Contains(t, a.Result, "found in Miro before retrying")
		require.Equal(t, deletes, b.Calls("enterprise-delete-team-member"), "no second delete")
		_, known = b.memberships(t, team)[p.id]
		require.False(t, known)

		results := []string{}
		for _, e := range b.audit(t, conn.ID) {
			results = append(results, e.Result)
		}
		require.Equal(t, []string{"ok", "failed", "ok", "failed"}, results)
	})
}

func TestLegacyLostInviteIsCheckedBeforeRetrying(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, db)
		ctx := context.Background()
		conn := b.connectKind(t, mirosim.InstallTeam, roster.LevelTeam)
		p := b.outsider(t, conn.TeamID)
		b.Sim.SetFaults(mirosim.Fault{OperationID: "legacy-invite-team-users", Kind: mirosim.FaultLost, Rate: 1, Times: 1})
		r := req(conn, conn.TeamID)
		r.Email = p.email
		_, err := b.runner.Invite(ctx, r)
		require.ErrorIs(t, err, ErrFailed)
		a, err := b.runner.Invite(ctx, r)
		require.NoError(t, err)
		require.Equal(t, roster.ActionSucceeded, a.Status)
		require.Equal(t, 1, b.Calls("legacy-invite-team-users"))
		require.Equal(t, roster.TeamRoleMember, b.memberships(t, conn.TeamID)[p.id], "the store learns the new account")
	})
}

func TestPendingAction(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, db)
		ctx := context.Background()
		conn := b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		team := b.Info.TeamIDs[1]
		p := b.outsider(t, team)
		now := time.Now()
		b.runner.Now = func() time.Time { return now }

		// A run that started moments ago and never finished (a double
		// submit, or another process) is left alone.
		r := req(conn, team)
		r.Email = p.email
		b.Sim.ResetStats()
		pending := roster.Action{Key: r.Key, Kind: roster.ActionInvite, ConnectionID: conn.ID, MiroTeamID: team,
			Email: p.email, Role: roster.TeamRoleMember, Actor: r.Actor, CreatedAt: now.Add(-time.Minute)}
		existed, err := db.StartAction(ctx, &pending)
		require.NoError(t, err)
		require.False(t, existed)
		_, err = b.runner.Invite(ctx, r)
		require.ErrorIs(t, err, ErrInProgress)
		require.Zero(t, b.Sim.Stats().Calls)

		// Past the grace it crashed: the retry checks Miro, then invites.
		now = now.Add(10 * time.Minute)
		a, err := b.runner.Invite(ctx, r)
		require.NoError(t, err)
		require.Equal(t, roster.ActionSucceeded, a.Status)
		require.Equal(t, 1, b.Calls("enterprise-invite-team-member"))
		require.Equal(t, 1, b.Calls("enterprise-get-team-member"), "checked first")
		require.Equal(t, roster.TeamRoleMember, b.teamRoles(t, team)[p.id])
	})
}

// TestPendingActionRequestGrace: a caller that holds the key alone (a
// workflow run's lease) sets a shorter grace for its request.
func TestPendingActionRequestGrace(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, db)
		ctx := context.Background()
		conn := b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		team := b.Info.TeamIDs[1]
		p := b.outsider(t, team)
		r := req(conn, team)
		r.Email = p.email
		pending := roster.Action{Key: r.Key, Kind: roster.ActionInvite, ConnectionID: conn.ID, MiroTeamID: team,
			Email: p.email, Role: roster.TeamRoleMember, Actor: r.Actor, CreatedAt: time.Now().Add(-time.Minute)}
		_, err := db.StartAction(ctx, &pending)
		require.NoError(t, err)
		b.Sim.ResetStats()

		r.PendingGrace = 2 * time.Minute
		_, err = b.runner.Invite(ctx, r)
		require.ErrorIs(t, err, ErrInProgress, "a minute is within the request's grace")
		require.Zero(t, b.Sim.Stats().Calls)

		r.PendingGrace = 30 * time.Second
		a, err := b.runner.Invite(ctx, r)
		require.NoError(t, err, "a minute is past it: the run crashed")
		require.Equal(t, roster.ActionSucceeded, a.Status)
		require.Equal(t, 1, b.Calls("enterprise-get-team-member"), "checked first")
		require.Equal(t, 1, b.Calls("enterprise-invite-team-member"))
	})
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, db)
		ctx := context.Background()
		conn := b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		team := b.Info.TeamIDs[1]

		// The team's admins; demote all but one, so one is the last.
		var admins []string
		for id, role := range b.teamRoles(t, team) {
			if role == roster.TeamRoleAdmin {
				admins = append(admins, id)
			}
		}
		require.NotEmpty(t, admins)
		for _, id := range admins[1:] {
			r := req(conn, team)
			r.MiroUserID, r.Role = id, roster.TeamRoleMember
			_, err := b.runner.ChangeRole(ctx, r)
			require.NoError(t, err)
		}
		last := admins[0]
		before := b.memberships(t, team)

		refused := func(a roster.Action, err error, words, answer string) {
			t.Helper()
			var re *RefusedError
			require.ErrorAs(t, err, &re)
			require.Equal(t, roster.ActionRefused, a.Status)
			require.Equal(t, a, re.Action)
			require.Contains(t, a.Result, words)
			require.Contains(t, a.MiroAnswer, answer)
			require.Equal(t, before, b.memberships(t, team), "the store is unchanged")
		}

		r := req(conn, team)
		r.MiroUserID = last
		a, err := b.runner.Remove(ctx, r)
		refused(a, err, "cannot remove the last admin of team", "409")

		r = req(conn, team)
		r.MiroUserID, r.Role = last, roster.TeamRoleMember
		a, err = b.runner.ChangeRole(ctx, r)
		refused(a, err, "cannot demote the last admin of team", "409")

		r = req(conn, team)
		r.Email = "stranger@elsewhere.example"
		a, err = b.runner.Invite(ctx, r)
		refused(a, err, "stranger@elsewhere.example is not a member of the organization; people join the organization through SCIM or your identity provider", "404")

		accs, err := db.AccountsByMiroIDs(ctx, []string{last})
		require.NoError(t, err)
		r = req(conn, team)
		r.Email = accs[last].Email
		a, err = b.runner.Invite(ctx, r)
		refused(a, err, "is already a member of team", "409")

		entries := b.audit(t, conn.ID)
		for _, e := range entries[:4] {
			require.Equal(t, "refused", e.Result)
			require.NotEmpty(t, e.MiroAnswer)
		}
	})
}

func TestCapabilityRefusal(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, db)
		ctx := context.Background()
		admin := b.Info.Installs[mirosim.InstallOrgAdmin]
		in, err := b.Sim.MintToken(admin.UserID, admin.TeamID, []string{"boards:read", "organizations:read", "organizations:teams:read"})
		require.NoError(t, err)
		conn := b.connect(t, in, roster.LevelOrganization, true, true)
		team := b.Info.TeamIDs[1]
		r := req(conn, team)
		r.Email = b.outsider(t, team).email
		b.Sim.ResetStats()
		a, err := b.runner.Invite(ctx, r)
		require.ErrorIs(t, err, ErrRefused)
		require.Equal(t, roster.ActionRefused, a.Status)
		require.Contains(t, a.Result, "granted scopes lack organizations:teams:write")
		require.Empty(t, a.MiroAnswer)
		require.Zero(t, b.Sim.Stats().Calls, "Miro is not called")
		entries := b.audit(t, conn.ID)
		require.Len(t, entries, 1)
		require.Equal(t, "refused", entries[0].Result)
	})
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, db)
		ctx := context.Background()
		org := b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		team := b.connectKind(t, mirosim.InstallTeam, roster.LevelTeam)
		before := storetest.Dump(t, db)
		with := func(conn roster.Connection, teamID string, f func(*Request)) Request {
			r := req(conn, teamID)
			f(&r)
			return r
		}
		tid := b.Info.TeamIDs[0]
		if tid == team.TeamID {
			tid = b.Info.TeamIDs[1]
		}
		for _, tc := range []struct {
			name string
			run  func(context.Context, Request) (roster.Action, error)
			req  Request
			want string
		}{
			{"InvalidEmail", b.runner.Invite, with(org, tid, func(r *Request) { r.Email = "not an email" }), `email: "not an email" is not an email address`},
			{"EmailWithName", b.runner.Invite, with(org, tid, func(r *Request) { r.Email = "Ann <ann@example.com>" }), "email: "},
			{"NoEmail", b.runner.Invite, with(org, tid, func(*Request) {}), "email: is required"},
			{"UnknownTeam", b.runner.Invite, with(org, "999", func(r *Request) { r.Email = "a@example.com" }), "team: team 999 is not a team connection"},
			{"NoTeamAtOrgLevel", b.runner.Invite, with(org, "", func(r *Request) { r.Email = "a@example.com" }), "team: is required"},
			{"OtherTeamAtTeamLevel", b.runner.Invite, with(team, tid, func(r *Request) { r.Email = "a@example.com" }), "team: a team-level connection acts only on its own team team " + team.TeamID},
			{"BadRole", b.runner.Invite, with(org, tid, func(r *Request) { r.Email, r.Role = "a@example.com", "owner" }), `role: must be "member" or "admin", got "owner"`},
			{"NoRole", b.runner.ChangeRole, with(org, tid, func(r *Request) { r.MiroUserID = "1" }), "role: is required"},
			{"RoleOnRemove", b.runner.Remove, with(org, tid, func(r *Request) { r.MiroUserID, r.Role = "1", "admin" }), "role: a removal takes no role"},
			{"NoKey", b.runner.Invite, with(org, tid, func(r *Request) { r.Email, r.Key = "a@example.com", " " }), "key: is required"},
			{"NoActor", b.runner.Invite, with(org, tid, func(r *Request) { r.Email, r.Actor = "a@example.com", "" }), "actor: is required"},
			{"NoConnection", b.runner.Invite, with(org, tid, func(r *Request) { r.Email, r.ConnectionID = "a@example.com", 0 }), "connection: is required"},
			{"UnknownConnection", b.runner.Invite, with(org, tid, func(r *Request) { r.Email, r.ConnectionID = "a@example.com", 99 }), "connection: no connection 99"},
			{"UnknownPerson", b.runner.Remove, with(org, tid, func(r *Request) { r.Email = "nobody@example.com" }), "email: roster knows no one with email nobody@example.com"},
			{"NoOne", b.runner.Remove, with(org, tid, func(*Request) {}), "email: give the person's email or Miro user id"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a, err := tc.run(ctx, tc.req)
				require.ErrorIs(t, err, ErrInvalid)
				require.ErrorContains(t, err, tc.want)
				var fe *FieldError
				require.ErrorAs(t, err, &fe)
				require.Zero(t, a)
				_, err = db.ActionByKey(ctx, tc.req.Key)
				require.True(t, errors.Is(err, store.ErrNotFound), "nothing recorded: %v", err)
			})
		}
		require.ErrorIs(t, b.runner.Validate(ctx, "bogus", req(org, tid)), ErrInvalid)
		ok := req(org, tid)
		ok.Email = "a@example.com"
		require.NoError(t, b.runner.Validate(ctx, roster.ActionInvite, ok))
		require.Equal(t, before, storetest.Dump(t, db), "nothing written")
		require.Zero(t, b.Sim.Stats().Calls)
	})
}
