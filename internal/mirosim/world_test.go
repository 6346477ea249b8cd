package mirosim

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// smallWorld is a generated world big enough to have every kind of user.
func smallWorld(t *testing.T) *World {
	t.Helper()
	return generate(genConfig(600, 20))
}

// digest fingerprints everything a seed decides.
func digest(w *World) string {
	h := sha256.New()
	for _, org := range sortedKeys(w.Orgs) {
		o := w.Orgs[org]
		fmt.Fprintln(h, o.ID, o.Name, o.Plan, o.FullLicensesPurchased, o.memberIDs, o.teamIDs)
		for _, id := range o.memberIDs {
			u := w.Users[id]
			fmt.Fprintln(h, *u)
		}
		for _, id := range o.teamIDs {
			t := w.Teams[id]
			fmt.Fprintln(h, t.ID, t.Name, t.CreatedAt, t.memberIDs)
			for _, uid := range t.memberIDs {
				fmt.Fprintln(h, *t.members[uid])
			}
		}
	}
	for _, id := range w.boardIDs {
		fmt.Fprintln(h, *w.Boards[id])
	}
	for _, ev := range w.Audit {
		fmt.Fprintln(h, ev.ID, ev.Event, ev.CreatedAt, ev.ActorID, ev.ObjectID)
	}
	fmt.Fprintln(h, w.Known)
	return fmt.Sprintf("%x", h.Sum(nil))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// requireIndexes checks that the World's indexes agree with its data.
func requireIndexes(t *testing.T, w *World) {
	t.Helper()
	derived := map[string][]string{}
	for _, org := range w.Orgs {
		require.True(t, slices.IsSorted(org.memberIDs))
		for _, tid := range org.teamIDs {
			tm := w.Teams[tid]
			require.True(t, slices.IsSorted(tm.memberIDs))
			require.Len(t, tm.members, len(tm.memberIDs))
			for _, uid := range tm.memberIDs {
				require.NotNil(t, w.Users[uid], "member %s of %s exists", uid, tid)
				derived[uid] = append(derived[uid], tid)
				m := tm.members[uid]
				require.Same(t, m, w.connections[m.ConnectionID])
			}
		}
	}
	for uid := range derived {
		slices.Sort(derived[uid])
	}
	require.Equal(t, derived, w.userTeamIDs)
	n := 0
	for tid, bs := range w.boardsByTeam {
		for _, b := range bs {
			require.Equal(t, tid, b.TeamID)
			require.Same(t, b, w.Boards[b.ID])
			n++
		}
	}
	require.Len(t, w.Boards, n)
	require.Len(t, w.boardIDs, n)
	conns := 0
	for _, tm := range w.Teams {
		conns += len(tm.members)
	}
	require.Len(t, w.connections, conns)
}

func TestGenerateDeterministic(t *testing.T) {
	t.Parallel()
	a, b := generate(genConfig(800, 15)), generate(genConfig(800, 15))
	require.Equal(t, digest(a), digest(b))

	other := genConfig(800, 15)
	other.Seed = 2
	require.NotEqual(t, digest(a), digest(generate(other)))
}

func TestGenerateInvariants(t *testing.T) {
	t.Parallel()
	const members, teams = 3000, 40
	w := generate(genConfig(members, teams))
	org := w.Orgs[w.EnterpriseOrgID]
	require.NotNil(t, org)
	require.Equal(t, "company", org.Plan)
	require.True(t, org.Enterprise)
	require.Len(t, org.memberIDs, members)
	require.Len(t, org.teamIDs, teams)
	require.True(t, slices.IsSorted(org.memberIDs))
	require.True(t, slices.IsSorted(org.teamIDs))

	// Licenses: FullLicensesPurchased is 10% over the full licenses held.
	full, deactivated, never := 0, 0, 0
	roles := map[string]int{}
	for _, id := range org.memberIDs {
		u := w.Users[id]
		require.Equal(t, org.ID, u.OrgID)
		roles[u.Role]++
		if u.License == "full" {
			full++
		}
		if !u.Active {
			deactivated++
			require.Equal(t, org.DeactivatedLicense, u.License)
		}
		if u.LastActivityAt.IsZero() {
			never++
		} else {
			require.False(t, u.LastActivityAt.Before(u.CreatedAt), "activity before creation")
		}
		require.Same(t, u, w.userByEmail(u.Email))
	}
	require.Equal(t, int((float64(full)*1.1)+0.999999), org.FullLicensesPurchased)
	require.InDelta(t, 0.03*0.87*members, deactivated, 0.02*members)
	require.InDelta(t, 0.1*members, never, 0.03*members)
	require.InDelta(t, 0.85*members, roles[roleInternal], 0.03*members)
	require.Positive(t, roles[roleAdmin])
	require.Positive(t, roles[roleExternal])
	require.Positive(t, roles[roleGuest])

	// Unique emails across the world.
	require.Len(t, w.usersByMail, len(w.Users))

	// Teams: sorted members, at least one admin, guests are non_team,
	// unique connection ids; memberships ~ 3 per member.
	memberships := 0
	conns := map[string]bool{}
	inSomeTeam := map[string]bool{}
	sizes := []int{}
	for _, tid := range org.teamIDs {
		tm := w.Teams[tid]
		require.True(t, slices.IsSorted(tm.memberIDs))
		require.Len(t, tm.members, len(tm.memberIDs))
		require.Positive(t, tm.adminCount(), "team %s has no admin", tid)
		require.NotNil(t, tm.oldestAdmin(""))
		sizes = append(sizes, len(tm.memberIDs))
		for _, uid := range tm.memberIDs {
			m := tm.members[uid]
			memberships++
			inSomeTeam[uid] = true
			require.False(t, conns[m.ConnectionID])
			conns[m.ConnectionID] = true
			require.Same(t, m, w.connections[m.ConnectionID])
			if w.Users[uid].Role == roleGuest {
				require.Equal(t, teamRoleNonTeam, m.Role)
			}
		}
	}
	require.InDelta(t, 3*members, memberships, 0.1*members*3)
	require.Len(t, inSomeTeam, members, "every member is in at least one team")
	slices.Sort(sizes)
	require.Greater(t, sizes[len(sizes)-1], 3*sizes[0], "team sizes are skewed")

	// Known users.
	k := w.Known
	require.Equal(t, roleAdmin, w.Users[k.CompanyAdminID].Role)
	require.Equal(t, teamRoleAdmin, w.Teams[k.EnterpriseTeamID].members[k.CompanyAdminID].Role)
	require.Equal(t, roleInternal, w.Users[k.NonAdminID].Role)
	require.NotEqual(t, k.EnterpriseTeamID, k.NonAdminTeamID)
	require.Equal(t, teamRoleAdmin, w.Teams[k.NonAdminTeamID].members[k.NonAdminID].Role)
	ne := w.Orgs[k.NonEnterpriseOrgID]
	require.Equal(t, "business", ne.Plan)
	require.False(t, ne.Enterprise)
	neTeam := w.Teams[k.NonEnterpriseTeamID]
	require.Equal(t, ne.ID, neTeam.OrgID)
	require.Len(t, neTeam.memberIDs, 20)
	require.Equal(t, teamRoleAdmin, neTeam.members[k.NonEnterpriseAdminID].Role)

	// Boards sit in their owner's teams; audit is sorted, recent, bounded.
	require.NotEmpty(t, w.boardIDs)
	for _, id := range w.boardIDs {
		b := w.Boards[id]
		require.NotNil(t, w.Teams[b.TeamID].members[b.OwnerID], "board owner in team")
		require.False(t, b.LastOpenedAt.Before(b.CreatedAt))
		if b.ProjectID != "" {
			require.Equal(t, b.TeamID, w.Projects[b.ProjectID].TeamID)
		}
	}
	require.NotEmpty(t, w.Projects)
	require.True(t, slices.IsSortedFunc(w.Audit, func(a, b AuditEvent) int { return a.CreatedAt.Compare(b.CreatedAt) }))
	horizon := fixedNow().Add(-90 * day)
	for _, ev := range w.Audit {
		require.False(t, ev.CreatedAt.Before(horizon))
	}
	require.LessOrEqual(t, len(w.Audit), 2*members)
	requireIndexes(t, w)
}

func TestGenerateLicenseMix(t *testing.T) {
	t.Parallel()
	cfg := genConfig(1000, 10)
	cfg.LicenseMix = map[string]float64{"advanced": 1}
	cfg.FullLicensesPurchased = 7
	w := generate(cfg)
	require.Equal(t, 7, w.Orgs[w.EnterpriseOrgID].FullLicensesPurchased)
	for _, u := range w.Users {
		if u.OrgID == w.EnterpriseOrgID && u.Active && u.Role != roleGuest && u.ID != w.Known.CompanyAdminID && u.ID != w.Known.NonAdminID {
			require.Equal(t, "advanced", u.License)
		}
	}
}

// pick finds a user matching ok, for tests that need a certain kind.
func pick(w *World, ok func(*User) bool) *User {
	for _, id := range w.Orgs[w.EnterpriseOrgID].memberIDs {
		if u := w.Users[id]; ok(u) {
			return u
		}
	}
	return nil
}

var testNow = fixedNow().Add(time.Hour)

func lastEvent(w *World) AuditEvent { return w.Audit[len(w.Audit)-1] }

func TestAddUser(t *testing.T) {
	t.Parallel()
	w := smallWorld(t)
	team := w.Known.NonAdminTeamID
	u, err := w.addUser(w.EnterpriseOrgID, NewUser{Email: "New.Person@Example-Corp.com", TeamIDs: []string{team}}, testNow)
	require.NoError(t, err)
	require.Equal(t, "new.person@example-corp.com", u.Email)
	require.Equal(t, roleInternal, u.Role)
	require.Equal(t, "full", u.License)
	require.True(t, u.Active)
	require.Same(t, u, w.userByEmail("NEW.person@example-corp.com"))
	require.Equal(t, teamRoleMember, w.Teams[team].members[u.ID].Role)
	org := w.Orgs[w.EnterpriseOrgID]
	require.Equal(t, u.ID, org.memberIDs[len(org.memberIDs)-1])
	require.True(t, slices.IsSorted(w.Teams[team].memberIDs))
	require.Equal(t, "user_created", lastEvent(w).Event)

	_, err = w.addUser(w.EnterpriseOrgID, NewUser{Email: "new.person@example-corp.com"}, testNow)
	requireAPIError(t, err, 409)
	_, err = w.addUser(w.EnterpriseOrgID, NewUser{Email: "x@y.com", TeamIDs: []string{w.Known.NonEnterpriseTeamID}}, testNow)
	requireAPIError(t, err, 404)
	_, err = w.addUser(w.EnterpriseOrgID, NewUser{Email: "x@y.com", License: "Gold Plan!"}, testNow)
	requireAPIError(t, err, 400)
	// A value from a future enum is accepted, so clients can be tested on it.
	future, err := w.addUser(w.EnterpriseOrgID, NewUser{Email: "future@example-corp.com", License: "gold"}, testNow)
	require.NoError(t, err)
	require.Equal(t, "gold", future.License)
	requireIndexes(t, w)
}

func requireAPIError(t *testing.T, err error, status int) *apiError {
	t.Helper()
	require.Error(t, err)
	ae, ok := err.(*apiError)
	require.True(t, ok, "want *apiError, got %T %v", err, err)
	require.Equal(t, status, ae.Status, ae.Message)
	return ae
}

// memberOf finds a plain internal member of team who owns a board there,
// or any plain member when no one does.
func memberWithBoard(w *World, teamID string) *User {
	tm := w.Teams[teamID]
	var fallback *User
	for _, id := range w.boardIDs {
		b := w.Boards[id]
		if b.TeamID != teamID {
			continue
		}
		m := tm.members[b.OwnerID]
		if m != nil && m.Role == teamRoleMember && w.Users[b.OwnerID].Role == roleInternal {
			return w.Users[b.OwnerID]
		}
	}
	for _, id := range tm.memberIDs {
		if tm.members[id].Role == teamRoleMember {
			fallback = w.Users[id]
		}
	}
	return fallback
}

func boardsOf(w *World, teamID, ownerID string, trashed bool) []*Board {
	var out []*Board
	for _, id := range w.boardIDs {
		b := w.Boards[id]
		if b.TeamID == teamID && b.OwnerID == ownerID && b.Trashed == trashed {
			out = append(out, b)
		}
	}
	return out
}

func TestRemoveFromTeam(t *testing.T) {
	t.Parallel()
	t.Run("OK_V2ReassignsBoards", func(t *testing.T) {
		t.Parallel()
		w := smallWorld(t)
		team := w.Teams[w.Known.EnterpriseTeamID]
		u := memberWithBoard(w, team.ID)
		boards := boardsOf(w, team.ID, u.ID, false)
		require.NotEmpty(t, boards)
		heir := team.oldestAdmin(u.ID)
		require.NoError(t, w.removeFromTeam("actor", team.ID, u.ID, removeViaV2, testNow))
		require.Nil(t, team.members[u.ID])
		require.NotContains(t, team.memberIDs, u.ID)
		for _, b := range boards {
			require.False(t, b.Trashed)
			require.Equal(t, heir.UserID, b.OwnerID)
		}
		require.NotNil(t, w.Users[u.ID], "still in the org")
		ev := lastEvent(w)
		require.Equal(t, "team_member_removed", ev.Event)
		require.Equal(t, "teams", ev.Category)
		requireIndexes(t, w)
	})
	t.Run("OK_LegacyTrashesBoardsAndProjects", func(t *testing.T) {
		t.Parallel()
		w := smallWorld(t)
		team := w.Teams[w.Known.EnterpriseTeamID]
		u := memberWithBoard(w, team.ID)
		boards := boardsOf(w, team.ID, u.ID, false)
		require.NotEmpty(t, boards)
		// Give the user a project holding one of their boards.
		p := &Project{ID: w.newID(), Name: "p", TeamID: team.ID, OwnerID: u.ID}
		w.Projects[p.ID] = p
		boards[0].ProjectID = p.ID

		require.NoError(t, w.removeFromTeam("actor", team.ID, u.ID, removeViaLegacy, testNow))
		trashedBoards, trashedProjects := w.trash(team.ID)
		require.ElementsMatch(t, boards, trashedBoards)
		require.Equal(t, []*Project{p}, trashedProjects)

		require.NoError(t, w.restoreFromTrash(team.ID, p.ID))
		require.False(t, boards[0].Trashed, "a restored project brings its boards back")
		if len(boards) > 1 {
			require.True(t, boards[1].Trashed)
			require.NoError(t, w.restoreFromTrash(team.ID, boards[1].ID))
			require.False(t, boards[1].Trashed)
		}
		requireAPIError(t, w.restoreFromTrash(team.ID, p.ID), 404)
		requireIndexes(t, w)
	})
	t.Run("ErrLastAdmin", func(t *testing.T) {
		t.Parallel()
		w := smallWorld(t)
		team := w.Teams[w.Known.NonEnterpriseTeamID]
		require.Equal(t, 1, team.adminCount())
		for _, via := range []removalAPI{removeViaV2, removeViaLegacy} {
			requireAPIError(t, w.removeFromTeam("actor", team.ID, w.Known.NonEnterpriseAdminID, via, testNow), 409)
		}
		require.NotNil(t, team.members[w.Known.NonEnterpriseAdminID])
	})
	t.Run("ErrNotMember", func(t *testing.T) {
		t.Parallel()
		w := smallWorld(t)
		requireAPIError(t, w.removeFromTeam("actor", w.Known.NonEnterpriseTeamID, w.Known.CompanyAdminID, removeViaV2, testNow), 404)
		requireAPIError(t, w.removeFromTeam("actor", "nope", w.Known.CompanyAdminID, removeViaV2, testNow), 404)
	})
}

func TestInviteToTeam(t *testing.T) {
	t.Parallel()
	w := smallWorld(t)
	neTeam := w.Known.NonEnterpriseTeamID
	entTeam := w.Teams[w.Known.EnterpriseTeamID]
	outsider := pick(w, func(u *User) bool { return u.Role == roleInternal && entTeam.members[u.ID] == nil })
	require.NotNil(t, outsider)

	tests := []struct {
		name, team, email, role string
		status                  int
	}{
		{"ErrOutsideOrg", entTeam.ID, "stranger@elsewhere.com", "member", 404},
		{"ErrOtherOrg", neTeam, outsider.Email, "member", 404},
		{"ErrExistingMember", entTeam.ID, w.Users[w.Known.CompanyAdminID].Email, "member", 409},
		{"ErrRole", entTeam.ID, outsider.Email, "owner", 400},
		{"ErrNoTeam", "123", outsider.Email, "member", 404},
	}
	for _, tc := range tests {
		_, err := w.inviteToTeam("actor", tc.team, tc.email, tc.role, testNow)
		ae := requireAPIError(t, err, tc.status)
		if tc.name == "ErrOutsideOrg" {
			require.Equal(t, "notFound", ae.Code)
			require.Contains(t, ae.Message, "is not a member of the organization")
		}
		if tc.name == "ErrRole" {
			require.Contains(t, ae.Message, "role")
		}
	}

	m, err := w.inviteToTeam("actor", entTeam.ID, "  "+outsider.Email+" ", "admin", testNow)
	require.NoError(t, err)
	require.Equal(t, teamRoleAdmin, m.Role)
	require.Equal(t, "actor", m.CreatedBy)
	require.True(t, slices.IsSorted(entTeam.memberIDs))
	require.Same(t, m, w.connections[m.ConnectionID])
	require.Equal(t, "team_member_invited", lastEvent(w).Event)
	requireIndexes(t, w)
}

func TestSetTeamRole(t *testing.T) {
	t.Parallel()
	w := smallWorld(t)
	team := w.Teams[w.Known.NonEnterpriseTeamID]
	admin := w.Known.NonEnterpriseAdminID
	_, err := w.setTeamRole("actor", team.ID, admin, "member", testNow)
	requireAPIError(t, err, 409)

	other := team.memberIDs[len(team.memberIDs)-1]
	m, err := w.setTeamRole("actor", team.ID, other, "admin", testNow)
	require.NoError(t, err)
	require.Equal(t, teamRoleAdmin, m.Role)
	require.Equal(t, testNow, m.ModifiedAt)
	// Now the first admin can step down, and the newer one is the heir.
	_, err = w.setTeamRole("actor", team.ID, admin, "member", testNow)
	require.NoError(t, err)
	require.Equal(t, other, team.oldestAdmin("").UserID)
	_, err = w.setTeamRole("actor", team.ID, other, "non_team", testNow)
	requireAPIError(t, err, 400)
	requireIndexes(t, w)
}

func TestSetActive(t *testing.T) {
	t.Parallel()
	w := smallWorld(t)
	u := pick(w, func(u *User) bool { return u.Role == roleInternal && u.Active && u.License == "full" })
	require.NoError(t, w.setActive(u.ID, false, testNow))
	require.False(t, u.Active)
	require.Equal(t, "free", u.License)
	require.Equal(t, testNow, u.LicenseAssignedAt)
	require.Equal(t, "user_deactivated", lastEvent(w).Event)

	require.NoError(t, w.setActive(u.ID, true, testNow))
	require.True(t, u.Active)
	require.Equal(t, "free", u.License, "reactivation does not give the license back")

	w.Orgs[w.EnterpriseOrgID].DeactivatedLicense = "free_restricted"
	require.NoError(t, w.setActive(u.ID, false, testNow))
	require.Equal(t, "free_restricted", u.License)

	for _, role := range []string{roleGuest, roleExternal} {
		x := pick(w, func(u *User) bool { return u.Role == role && u.Active })
		require.NotNil(t, x, role)
		before := *x
		requireAPIError(t, w.setActive(x.ID, false, testNow), 400)
		require.Equal(t, before, *x)
	}
	requireAPIError(t, w.setActive("nope", false, testNow), 404)
}

func TestRemoveUser(t *testing.T) {
	t.Parallel()
	w := smallWorld(t)
	team := w.Teams[w.Known.EnterpriseTeamID]
	u := memberWithBoard(w, team.ID)
	boards := boardsOf(w, team.ID, u.ID, false)
	heir := team.oldestAdmin(u.ID).UserID
	teams := w.userTeams(u)
	require.NoError(t, w.removeUser(u.ID, testNow))
	require.Nil(t, w.Users[u.ID])
	require.Nil(t, w.userByEmail(u.Email))
	require.NotContains(t, w.Orgs[w.EnterpriseOrgID].memberIDs, u.ID)
	for _, tm := range teams {
		require.Nil(t, tm.members[u.ID])
		require.NotContains(t, tm.memberIDs, u.ID)
	}
	for _, b := range boards {
		require.Equal(t, heir, b.OwnerID)
		require.False(t, b.Trashed)
	}
	for _, m := range w.connections {
		require.NotEqual(t, u.ID, m.UserID)
	}

	requireAPIError(t, w.removeUser(w.Known.NonEnterpriseAdminID, testNow), 409)
	guest := pick(w, func(u *User) bool { return u.Role == roleGuest })
	requireAPIError(t, w.removeUser(guest.ID, testNow), 409)
	requireAPIError(t, w.removeUser("nope", testNow), 404)
	requireIndexes(t, w)
}

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	w := smallWorld(t)
	u := pick(w, func(u *User) bool { return u.Role == roleInternal && u.License == "full" })
	lic, email, when := "basic", "Renamed@Example-Corp.com", testNow.Add(-time.Hour)
	got, err := w.updateUser(u.ID, UserPatch{License: &lic, Email: &email, LastActivityAt: &when}, testNow)
	require.NoError(t, err)
	require.Equal(t, "basic", got.License)
	require.Equal(t, testNow, got.LicenseAssignedAt)
	require.Equal(t, when, got.LastActivityAt)
	require.Same(t, u, w.userByEmail("renamed@example-corp.com"))

	taken := w.Users[w.Known.CompanyAdminID].Email
	_, err = w.updateUser(u.ID, UserPatch{Email: &taken}, testNow)
	requireAPIError(t, err, 409)
	bad := "Platinum"
	_, err = w.updateUser(u.ID, UserPatch{License: &bad}, testNow)
	requireAPIError(t, err, 400)
	requireIndexes(t, w)
}

func TestResetSessions(t *testing.T) {
	t.Parallel()
	w := smallWorld(t)
	require.NoError(t, w.resetSessions(w.Users[w.Known.NonAdminID].Email))
	requireAPIError(t, w.resetSessions("nobody@example.com"), 404)
}

func TestNewIDOrder(t *testing.T) {
	t.Parallel()
	w := newWorld()
	prev := ""
	for range 2000 {
		id := w.newID()
		require.Len(t, id, 19)
		require.Greater(t, id, prev)
		prev = id
	}
	b := w.newBoardID()
	require.Regexp(t, `^uXjV[A-Za-z0-9_-]{8}=$`, b)
}
