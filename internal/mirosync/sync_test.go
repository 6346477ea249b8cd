package mirosync_test

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/mirosync"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/testkit"
)

// smallOrg has teams of more than 100 members, so team walks take
// several pages.
var smallOrg = mirosim.Config{Members: 260, Teams: 6, TeamsPerMember: 3, RateWindow: time.Second}

// requireMatchesTruth checks the store holds exactly the organization.
func requireMatchesTruth(t *testing.T, b *testBundle, connID int64, tr truth) {
	t.Helper()
	ctx := context.Background()
	accounts := b.accounts(t)
	require.Len(t, accounts, len(tr.members))
	for id, m := range tr.members {
		a, ok := accounts[id]
		require.True(t, ok, "account %s", id)
		var roles []string
		for _, r := range m.AdminRoles {
			roles = append(roles, r.Type+":"+r.Name)
		}
		require.Equal(t, m.Email, a.Email)
		require.Equal(t, m.Role.String(), a.OrgRole)
		require.Equal(t, m.License.String(), a.License)
		require.True(t, a.LicenseExact)
		require.Equal(t, m.Active, a.Active)
		require.Equal(t, len(roles), len(a.AdminRoles))
		require.True(t, slices.Equal(roles, a.AdminRoles))
		require.True(t, tr.activity[id].Equal(a.LastActivityAt), "last activity of %s: want %s got %s", id, tr.activity[id], a.LastActivityAt)
		require.True(t, store.Stamp(m.LicenseAssignedAt.Time).Equal(a.LicenseAssignedAt))
		require.True(t, a.LeftAt.IsZero())
	}
	require.Equal(t, tr.memberships, b.memberships(t))
	teams, err := b.DB.Teams(ctx, connID)
	require.NoError(t, err)
	got := map[string]string{}
	for _, tm := range teams {
		got[tm.MiroTeamID] = tm.Name
	}
	require.Equal(t, tr.teams, got)
}

func TestOrganizationFirstSync(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, smallOrg, db)
		conn := b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		tr := b.readTruth(t)
		var progress []mirosync.Progress
		b.Syncer.Progress = func(p mirosync.Progress) { progress = append(progress, p) }

		run := b.Sync(t, conn.ID)
		require.Equal(t, roster.SourceOrganization, run.Source)
		require.Empty(t, run.UsageNote)
		entries, err := db.AuditEntries(context.Background(), store.AuditFilter{Kind: "sync", ConnectionID: conn.ID})
		require.NoError(t, err)
		require.Len(t, entries, 1, "every sync is audited")
		require.Equal(t, "ok", entries[0].Result)
		require.Equal(t, "system", entries[0].Actor)

		// Exactly the minimum calls, and nothing else.
		st := b.Sim.Stats()
		audit := st.ByOperation["enterprise-get-audit-logs"].Calls
		require.Equal(t, tr.auditPages, audit)
		require.Equal(t, tr.minCalls(), st.Calls-audit)
		require.Equal(t, 1, st.ByOperation["enterprise-get-organization"].Calls)
		require.Equal(t, ceilDiv(len(tr.members), 100), st.ByOperation["enterprise-get-organization-members"].Calls)
		require.Equal(t, ceilDiv(len(tr.teams), 100), st.ByOperation["enterprise-get-teams"].Calls)
		require.Equal(t, tr.teamPages, st.ByOperation["enterprise-get-team-members"].Calls)
		require.Len(t, st.ByOperation, 5)
		require.Equal(t, st.Calls, run.APICalls)
		require.Equal(t, st.Credits, run.Credits)
		require.Equal(t, st.Calls, run.Pages)

		requireMatchesTruth(t, b, conn.ID, tr)
		org, err := db.Organization(context.Background(), b.Info.OrgID)
		require.NoError(t, err)
		apiOrg, err := b.Admin.GetOrganization(context.Background(), b.Info.OrgID)
		require.NoError(t, err)
		require.Equal(t, roster.Organization{MiroOrgID: b.Info.OrgID, Name: apiOrg.Name, Plan: apiOrg.Plan.String(),
			FullLicensesPurchased: apiOrg.FullLicensesPurchased}, org)

		// Everyone joined, with every team membership.
		require.Equal(t, len(tr.members), run.Added)
		require.Zero(t, run.Changed)
		require.Zero(t, run.Removed)
		changes := b.changes(t, run.ID)
		require.Len(t, changes, len(tr.members)+len(tr.memberships))

		// mirosync.Progress after each page, ending with every team done.
		require.Len(t, progress, run.Pages)
		last := progress[len(progress)-1]
		require.Equal(t, run.Pages, last.Pages)
		require.Equal(t, len(tr.teams), last.TeamsDone)
		require.Equal(t, len(tr.members), last.Members)
		for i := 1; i < len(progress); i++ {
			require.Equal(t, progress[i-1].Pages+1, progress[i].Pages)
		}
	})
}

func TestResyncWithoutChangesWritesNothing(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, smallOrg, db)
		conn := b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		tr := b.readTruth(t)
		b.Sync(t, conn.ID)
		before := dump(t, db)
		counts := rowCounts(t, db.SQL())
		b.Sim.ResetStats()

		run := b.Sync(t, conn.ID)
		require.Zero(t, run.Added+run.Changed+run.Removed)
		require.Empty(t, b.changes(t, run.ID))
		after := dump(t, db)
		for _, table := range sqlstore.Tables() {
			if table == "sync_runs" || table == "connections" {
				continue // the new run, and the connection's last sync time
			}
			require.Equal(t, before[table], after[table], table)
		}
		counts["sync_runs"]++
		require.Equal(t, counts, rowCounts(t, db.SQL()))
		// The resync reads only the audit log since the last sync.
		st := b.Sim.Stats()
		require.Equal(t, tr.minCalls(), st.Calls-st.ByOperation["enterprise-get-audit-logs"].Calls)
	})
}

// pickPeople returns n distinct members that no ready install uses, who
// are plain members (not admins) of every team they are in.
func pickPeople(b *testBundle, tr truth, n int) []string {
	skip := map[string]bool{}
	for _, in := range b.Info.Installs {
		skip[in.UserID] = true
	}
	isAdmin := map[string]bool{}
	for k, role := range tr.memberships {
		if role == "admin" {
			isAdmin[k.MiroUserID] = true
		}
	}
	var out []string
	for _, id := range slices.Sorted(maps.Keys(tr.members)) {
		m := tr.members[id]
		if skip[id] || isAdmin[id] || m.Role.String() != "organization_internal_user" || !m.Active {
			continue
		}
		out = append(out, id)
		if len(out) == n {
			break
		}
	}
	return out
}

func teamsOf(tr truth, userID string) map[string]string {
	out := map[string]string{}
	for k, role := range tr.memberships {
		if k.MiroUserID == userID {
			out[k.MiroTeamID] = role
		}
	}
	return out
}

func TestChangesBetweenSyncs(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, smallOrg, db)
		ctx := context.Background()
		conn := b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		tr := b.readTruth(t)
		b.Sync(t, conn.ID)

		p := pickPeople(b, tr, 7)
		removed, relicensed, promoted, deactivated, invited, roleChanged, dropped := p[0], p[1], p[2], p[3], p[4], p[5], p[6]
		var want []changeRow
		teamIDs := slices.Sorted(maps.Keys(tr.teams))

		// A new member, in one team.
		nu, err := b.Sim.AddMember(mirosim.NewUser{Email: "new.person@example.com", GivenName: "New", FamilyName: "Person",
			License: "full", TeamIDs: []string{teamIDs[0]}, TeamRole: "member"})
		require.NoError(t, err)
		want = append(want, changeRow{Kind: roster.ChangeJoined, User: nu.ID},
			changeRow{Kind: roster.ChangeTeamJoined, User: nu.ID, Team: teamIDs[0], New: "member"})

		// A member removed from the organization leaves every team.
		require.NoError(t, b.Sim.RemoveMember(removed))
		want = append(want, changeRow{Kind: roster.ChangeLeft, User: removed})
		for team, role := range teamsOf(tr, removed) {
			want = append(want, changeRow{Kind: roster.ChangeTeamLeft, User: removed, Team: team, Old: role})
		}

		// License, org role and active flag.
		oldLicense := tr.members[relicensed].License.String()
		newLicense := "free"
		if oldLicense == "free" {
			newLicense = "full"
		}
		_, err = b.Sim.UpdateMember(relicensed, mirosim.UserPatch{License: &newLicense})
		require.NoError(t, err)
		want = append(want, changeRow{Kind: roster.ChangeLicenseChanged, User: relicensed, Old: oldLicense, New: newLicense})

		external := "organization_external_user"
		_, err = b.Sim.UpdateMember(promoted, mirosim.UserPatch{Role: &external})
		require.NoError(t, err)
		want = append(want, changeRow{Kind: roster.ChangeRoleChanged, User: promoted, Old: "organization_internal_user", New: external})

		off := false
		_, err = b.Sim.UpdateMember(deactivated, mirosim.UserPatch{Active: &off})
		require.NoError(t, err)
		want = append(want, changeRow{Kind: roster.ChangeDeactivated, User: deactivated, Old: "true", New: "false"})

		// Team changes through the API, as roster's actions make them.
		admin := b.Admin
		var target string
		for _, id := range teamIDs {
			if _, in := teamsOf(tr, invited)[id]; !in {
				target = id
				break
			}
		}
		require.NotEmpty(t, target)
		_, err = admin.InviteTeamMember(ctx, b.Info.OrgID, target, tr.members[invited].Email, "admin")
		require.NoError(t, err)
		want = append(want, changeRow{Kind: roster.ChangeTeamJoined, User: invited, Team: target, New: "admin"})

		roleTeam := slices.Sorted(maps.Keys(teamsOf(tr, roleChanged)))[0]
		_, err = admin.UpdateTeamMemberRole(ctx, b.Info.OrgID, roleTeam, roleChanged, "admin")
		require.NoError(t, err)
		want = append(want, changeRow{Kind: roster.ChangeTeamRoleChanged, User: roleChanged, Team: roleTeam, Old: "member", New: "admin"})

		dropTeam := slices.Sorted(maps.Keys(teamsOf(tr, dropped)))[0]
		require.NoError(t, admin.DeleteTeamMember(ctx, b.Info.OrgID, dropTeam, dropped))
		want = append(want, changeRow{Kind: roster.ChangeTeamLeft, User: dropped, Team: dropTeam, Old: "member"})

		run := b.Sync(t, conn.ID)
		sortChanges(want)
		require.Equal(t, want, b.changes(t, run.ID))
		require.Equal(t, 1, run.Added)
		require.Equal(t, 1, run.Removed)
		require.Equal(t, 6, run.Changed)

		// The store matches the simulator again, the leaver aside.
		accounts := b.accounts(t)
		gone := accounts[removed]
		require.False(t, gone.LeftAt.IsZero())
		require.Equal(t, newLicense, accounts[relicensed].License)
		require.False(t, accounts[deactivated].Active)
		tr2 := b.readTruth(t)
		delete(accounts, removed)
		require.Len(t, accounts, len(tr2.members))
		require.Equal(t, tr2.memberships, b.memberships(t))

		// The leaver comes back: they rejoin the same account.
		back, err := b.Sim.AddMember(mirosim.NewUser{Email: gone.Email, GivenName: "Back", FamilyName: "Again", License: "full"})
		require.NoError(t, err)
		run = b.Sync(t, conn.ID)
		rows := b.changes(t, run.ID)
		require.Contains(t, rows, changeRow{Kind: roster.ChangeJoined, User: back.ID})
		after := b.accounts(t)
		require.True(t, after[back.ID].LeftAt.IsZero())
		require.Equal(t, gone.ID, after[back.ID].ID, "matched by email to the old account")
	})
}

func TestTeamLevelLegacy(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{mirosim.InstallNonEnterpriseTeam, mirosim.InstallTeam} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
				b := setup(t, smallOrg, db)
				in := b.Info.Installs[kind]
				conn := b.connectKind(t, kind, roster.LevelTeam)

				// The truth, read through the same legacy API.
				c, err := miro.New(miro.Config{BaseURL: b.Info.APIBaseURL, HTTPClient: b.Server.Client(), Token: miro.StaticToken(in.AccessToken)})
				require.NoError(t, err)
				want := map[string]miro.TeamUserConnection{}
				for uc, err := range c.Legacy().TeamUserConnections(context.Background(), in.TeamID) {
					require.NoError(t, err)
					want[string(uc.User.ID)] = uc
				}
				b.Sim.ResetStats()

				run := b.Sync(t, conn.ID)
				require.Equal(t, roster.SourceLegacyTeam, run.Source)
				require.Equal(t, roster.NoteTeamLevel, run.UsageNote)
				st := b.Sim.Stats()
				require.Equal(t, ceilDiv(len(want), 100), st.Calls)
				require.Equal(t, st.Calls, st.ByOperation["legacy-get-team-user-connections"].Calls)

				accounts := b.accounts(t)
				require.Len(t, accounts, len(want))
				ms := b.memberships(t)
				for id, uc := range want {
					a := accounts[id]
					require.Equal(t, uc.User.Email, a.Email)
					require.Equal(t, uc.User.Name, a.Name)
					require.False(t, a.LicenseExact, "inferred")
					require.Equal(t, mirosync.InferLicense(uc.Role.String()), a.License)
					require.Empty(t, a.OrgRole)
					require.True(t, a.LastActivityAt.IsZero())
					require.Equal(t, uc.Role.String(), ms[store.MembershipKey{MiroTeamID: in.TeamID, MiroUserID: id}])
				}
				require.Len(t, ms, len(want))

				run = b.Sync(t, conn.ID)
				require.Empty(t, b.changes(t, run.ID))
			})
		})
	}
}

func TestOrgLevelByNonCompanyAdminSyncsItsTeam(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, smallOrg, db)
		in := b.Info.Installs[mirosim.InstallOrgNonAdmin]
		conn := b.connect(t, in, roster.LevelOrganization, true, false)
		tr := b.readTruth(t)

		run := b.Sync(t, conn.ID)
		require.Equal(t, roster.SourceLegacyTeam, run.Source)
		require.Equal(t, roster.NoteNotCompanyAdmin, run.UsageNote)
		st := b.Sim.Stats()
		require.Equal(t, st.Calls, st.ByOperation["legacy-get-team-user-connections"].Calls, "no /v2/orgs call")

		teamMembers := 0
		for k := range tr.memberships {
			if k.MiroTeamID == in.TeamID {
				teamMembers++
			}
		}
		require.Len(t, b.accounts(t), teamMembers)
		runs, err := db.SyncRuns(context.Background(), conn.ID, 10)
		require.NoError(t, err)
		require.Equal(t, roster.NoteNotCompanyAdmin, runs[0].UsageNote)
		require.Equal(t, roster.SourceLegacyTeam, runs[0].Source)
	})
}

func TestTeamLevelV2ForCompanyAdmin(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, smallOrg, db)
		conn := b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelTeam)
		tr := b.readTruth(t)
		run := b.Sync(t, conn.ID)
		require.Equal(t, roster.SourceTeamV2, run.Source)
		accounts, memberships := b.accounts(t), b.memberships(t)
		n := 0
		for k, role := range tr.memberships {
			if k.MiroTeamID != conn.TeamID {
				continue
			}
			n++
			a := accounts[k.MiroUserID]
			require.True(t, a.LicenseExact)
			require.Equal(t, tr.members[k.MiroUserID].License.String(), a.License)
			require.Equal(t, tr.members[k.MiroUserID].Email, a.Email)
			require.Equal(t, role, memberships[k])
		}
		require.Len(t, accounts, n)
		require.Len(t, memberships, n)
		// One team-member page per 100, then one member lookup each.
		st := b.Sim.Stats()
		require.Equal(t, ceilDiv(n, 100), st.ByOperation["enterprise-get-team-members"].Calls)
		require.Equal(t, n, st.ByOperation["enterprise-get-organization-member"].Calls)
		require.Equal(t, ceilDiv(n, 100)+n, st.Calls)
	})
}

func TestMissingScopes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("nothing to list members with", func(t *testing.T) {
		t.Parallel()
		testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
			b := setup(t, smallOrg, db)
			admin := b.Info.Installs[mirosim.InstallOrgAdmin]
			in, err := b.Sim.MintToken(admin.UserID, admin.TeamID, []string{"boards:read"})
			require.NoError(t, err)
			conn := b.connect(t, in, roster.LevelOrganization, true, true)
			run, err := b.Syncer.Sync(ctx, conn.ID)
			require.Error(t, err)
			require.Equal(t, roster.SyncFailed, run.Status)
			require.Contains(t, run.Error, "team:read")
			require.Contains(t, run.Error, "granted scopes: boards:read")
			require.Zero(t, b.Sim.Stats().Calls)
			runs, err := db.SyncRuns(ctx, conn.ID, 1)
			require.NoError(t, err)
			require.Equal(t, roster.SyncFailed, runs[0].Status)
			require.Equal(t, run.Error, runs[0].Error)
			c, err := db.Connection(ctx, conn.ID)
			require.NoError(t, err)
			require.Equal(t, roster.StatusError, c.Status)
		})
	})
	t.Run("organizations:teams:read missing degrades to the team", func(t *testing.T) {
		t.Parallel()
		testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
			b := setup(t, smallOrg, db)
			admin := b.Info.Installs[mirosim.InstallOrgAdmin]
			in, err := b.Sim.MintToken(admin.UserID, admin.TeamID, []string{"organizations:read", "team:read", "boards:read"})
			require.NoError(t, err)
			conn := b.connect(t, in, roster.LevelOrganization, true, true)
			run := b.Sync(t, conn.ID)
			require.Equal(t, roster.SourceLegacyTeam, run.Source)
			require.Equal(t, "granted scopes lack organizations:teams:read, so usage data and organization-wide data are unavailable", run.UsageNote)
			require.NotEmpty(t, b.accounts(t))
		})
	})
	t.Run("token lacks a scope the record claims", func(t *testing.T) {
		t.Parallel()
		testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
			b := setup(t, smallOrg, db)
			admin := b.Info.Installs[mirosim.InstallOrgAdmin]
			in, err := b.Sim.MintToken(admin.UserID, admin.TeamID, []string{"organizations:read", "boards:read"})
			require.NoError(t, err)
			in.Scopes = []string{"organizations:read", "organizations:teams:read"}
			conn := b.connect(t, in, roster.LevelTeam, true, true)
			before := dump(t, db)
			run, err := b.Syncer.Sync(ctx, conn.ID)
			require.Error(t, err)
			require.Equal(t, roster.SyncFailed, run.Status)
			require.Contains(t, run.Error, "403")
			require.Contains(t, run.Error, "organizations:teams:read")
			requireUnchanged(t, before, dump(t, db))
		})
	})
}

// requireUnchanged checks that a failed sync wrote only its failed run
// and the connection's error status.
func requireUnchanged(t *testing.T, before, after map[string][]string) {
	t.Helper()
	for _, table := range sqlstore.Tables() {
		if table == "sync_runs" || table == "connections" {
			continue
		}
		require.Equal(t, before[table], after[table], table)
	}
	require.Len(t, after["sync_runs"], len(before["sync_runs"])+1)
	require.Len(t, after["connections"], len(before["connections"]))
}

func TestIdentityMergeAcrossTeamConnections(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, smallOrg, db)
		tr := b.readTruth(t)
		// Two teams and a person in both, who installs on each.
		t1, t2 := b.Info.TeamIDs[0], b.Info.TeamIDs[1]
		in1, in2 := teamsSet(tr, t1), teamsSet(tr, t2)
		var shared []string
		for id := range in1 {
			if in2[id] {
				shared = append(shared, id)
			}
		}
		require.NotEmpty(t, shared)
		slices.Sort(shared)
		p := shared[0]
		teamScopes := []string{"boards:read", "team:read"}
		i1, err := b.Sim.MintToken(p, t1, teamScopes)
		require.NoError(t, err)
		i2, err := b.Sim.MintToken(p, t2, teamScopes)
		require.NoError(t, err)
		c1 := b.connect(t, i1, roster.LevelTeam, true, false)
		c2 := b.connect(t, i2, roster.LevelTeam, true, false)

		b.Sync(t, c1.ID)
		run2 := b.Sync(t, c2.ID)
		accounts := b.accounts(t)
		union := maps.Clone(in1)
		maps.Copy(union, in2)
		require.Len(t, accounts, len(union), "one account per person")
		require.Equal(t, len(in2)-len(shared), run2.Added, "shared people are not added twice")

		memberships, err := db.AccountMemberships(context.Background(), accounts[p].ID)
		require.NoError(t, err)
		var teams []string
		for _, m := range memberships {
			teams = append(teams, m.MiroTeamID)
		}
		slices.Sort(teams)
		require.Equal(t, []string{t1, t2}, teams)

		// Each connection resyncs to nothing new: no flapping between them.
		for _, c := range []roster.Connection{c1, c2, c1} {
			run := b.Sync(t, c.ID)
			require.Empty(t, b.changes(t, run.ID))
		}

		// p leaves team 1: still seen by connection 2, so not "left".
		require.NoError(t, b.Admin.DeleteTeamMember(context.Background(), b.Info.OrgID, t1, p))
		run := b.Sync(t, c1.ID)
		require.Equal(t, []changeRow{{Kind: roster.ChangeTeamLeft, User: p, Team: t1, Old: tr.memberships[store.MembershipKey{MiroTeamID: t1, MiroUserID: p}]}}, b.changes(t, run.ID))
		require.True(t, b.accounts(t)[p].LeftAt.IsZero())
	})
}

func teamsSet(tr truth, teamID string) map[string]bool {
	out := map[string]bool{}
	for k := range tr.memberships {
		if k.MiroTeamID == teamID {
			out[k.MiroUserID] = true
		}
	}
	return out
}

func TestInferredNeverOverwritesExact(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, smallOrg, db)
		org := b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		team := b.connectKind(t, mirosim.InstallTeam, roster.LevelTeam)
		b.Sync(t, org.ID)
		before := b.accounts(t)
		b.Sync(t, team.ID)
		after := b.accounts(t)
		for id, a := range before {
			a.Name = after[id].Name // a team-level sync may fill in the name
			require.True(t, mirosync.SameAccount(a, after[id]), "account %s changed by a team-level sync", id)
		}
		run := b.Sync(t, org.ID)
		require.Empty(t, b.changes(t, run.ID))
	})
}

func TestOrgSyncAdoptsTeamLevelMemberships(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, smallOrg, db)
		tr := b.readTruth(t)
		team := b.connectKind(t, mirosim.InstallTeam, roster.LevelTeam)
		org := b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		b.Sync(t, team.ID)
		inTeam := teamsSet(tr, team.TeamID)

		run := b.Sync(t, org.ID)
		require.Equal(t, len(tr.members)-len(inTeam), run.Added, "people the team connection found are not new")
		joined, teamJoined := 0, 0
		for _, c := range b.changes(t, run.ID) {
			switch c.Kind {
			case roster.ChangeJoined:
				joined++
			case roster.ChangeTeamJoined:
				require.NotEqual(t, team.TeamID, c.Team, "memberships already stored are not joined again")
				teamJoined++
			default:
				// Exact data replacing inferred guesses is no change.
				t.Fatalf("unexpected change %+v", c)
			}
		}
		require.Equal(t, run.Added, joined)
		require.Equal(t, len(tr.memberships)-len(inTeam), teamJoined)
		requireMatchesTruth(t, b, org.ID, tr)
	})
}
