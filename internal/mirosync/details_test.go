package mirosync_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/mirosim"
	"roster/internal/store/sqlstore"
	"roster/internal/testkit"
)

// memberOfAll is a plain member (no install's user, no team admin) of
// every team given.
func memberOfAll(t *testing.T, b *testBundle, tr truth, teams ...string) string {
	t.Helper()
	for _, id := range pickPeople(b, tr, len(tr.members)) {
		in := true
		for _, team := range teams {
			in = in && teamsSet(tr, team)[id]
		}
		if in {
			return id
		}
	}
	t.Fatalf("no plain member of all of %v", teams)
	return ""
}

// rename changes a member's email and name at Miro and returns the name
// Miro now gives.
func rename(t *testing.T, b *testBundle, id string) (email, name string) {
	t.Helper()
	email, given, family := "renamed."+id+"@example.com", "Renata", "Newname"
	u, err := b.Sim.UpdateMember(id, mirosim.UserPatch{Email: &email, GivenName: &given, FamilyName: &family})
	require.NoError(t, err)
	return email, u.Name()
}

// TestEmailAndNameFollowMiro changes a member's email and name at Miro:
// every sync plan that returns them stores them, as changes in the
// person's history, and keeps what it does not return.
func TestEmailAndNameFollowMiro(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		kind   string
		level  roster.Level
		source roster.SyncSource
		names  bool // the level returns names
	}{
		{"organization", mirosim.InstallOrgAdmin, roster.LevelOrganization, roster.SourceOrganization, false},
		{"team v2", mirosim.InstallOrgAdmin, roster.LevelTeam, roster.SourceTeamV2, false},
		{"legacy team", mirosim.InstallTeam, roster.LevelTeam, roster.SourceLegacyTeam, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
				b := setup(t, smallOrg, db)
				tr := b.readTruth(t)
				conn := b.connectKind(t, tc.kind, tc.level)
				require.Equal(t, tc.source, b.Sync(t, conn.ID).Source)
				p := memberOfAll(t, b, tr, conn.TeamID)
				before := b.accounts(t)[p]

				email, name := rename(t, b, p)
				run := b.Sync(t, conn.ID)
				want := []changeRow{{Kind: roster.ChangeEmailChanged, User: p, Old: before.Email, New: email}}
				if tc.names {
					want = append(want, changeRow{Kind: roster.ChangeNameChanged, User: p, Old: before.Name, New: name})
				} else {
					name = before.Name // not returned, so kept
				}
				require.Equal(t, want, b.changes(t, run.ID))
				require.Equal(t, 1, run.Changed)
				after := b.accounts(t)[p]
				require.Equal(t, email, after.Email)
				require.Equal(t, name, after.Name)
				// Actions find them by their new email.
				byEmail, err := db.AccountsByEmails(t.Context(), []string{email})
				require.NoError(t, err)
				require.Equal(t, before.ID, byEmail[email].ID)

				run = b.Sync(t, conn.ID)
				require.Empty(t, b.changes(t, run.ID))
				require.Zero(t, run.Changed)
			})
		})
	}
}

// TestLevelsKeepWhatTheyDoNotReturn syncs one person through an
// organization connection (email, no name) and a legacy team connection
// (both): each takes what it returns and blanks nothing else.
func TestLevelsKeepWhatTheyDoNotReturn(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setup(t, smallOrg, db)
		tr := b.readTruth(t)
		org := b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		team := b.connectKind(t, mirosim.InstallTeam, roster.LevelTeam)
		b.Sync(t, org.ID)
		b.Sync(t, team.ID)
		p := memberOfAll(t, b, tr, team.TeamID)
		before := b.accounts(t)[p]
		require.NotEmpty(t, before.Name, "the team connection filled in the name")

		email, name := rename(t, b, p)
		run := b.Sync(t, org.ID)
		require.Equal(t, []changeRow{{Kind: roster.ChangeEmailChanged, User: p, Old: before.Email, New: email}}, b.changes(t, run.ID))
		require.Equal(t, before.Name, b.accounts(t)[p].Name, "the organization API has no names: kept")

		run = b.Sync(t, team.ID)
		require.Equal(t, []changeRow{{Kind: roster.ChangeNameChanged, User: p, Old: before.Name, New: name}}, b.changes(t, run.ID))
		after := b.accounts(t)[p]
		require.Equal(t, email, after.Email)
		require.Equal(t, name, after.Name)
		require.Equal(t, before.License, after.License)
		require.True(t, after.LicenseExact, "the team connection's guess does not replace the exact license")

		for _, c := range []roster.Connection{org, team} {
			run := b.Sync(t, c.ID)
			require.Empty(t, b.changes(t, run.ID))
		}
	})
}
