package mirosync

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
)

// The rules of buildDiff, without Miro or a database.

var (
	t0  = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	now = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
)

func emptySnap() *store.Snapshot {
	return &store.Snapshot{Teams: map[string]roster.Team{}, Accounts: map[string]roster.Account{},
		SeenElsewhere: map[string]bool{}, Memberships: map[store.MembershipKey]string{}}
}

func exactPerson(id, license string) *person {
	return &person{id: id, email: id + "@example.com", orgRole: "organization_internal_user", license: license,
		exact: true, active: true, lastActivity: t0, licenseAssigned: t0}
}

func storedExact(id int64, miroID, license string) roster.Account {
	return roster.Account{ID: id, MiroUserID: miroID, Email: miroID + "@example.com", OrgRole: "organization_internal_user",
		License: license, LicenseExact: true, Active: true, LastActivityAt: t0, LicenseAssignedAt: t0, FirstSeenAt: t0, LastSeenAt: t0}
}

func diffOf(obs *observed, snap *store.Snapshot, known map[string]roster.Account) (store.Diff, counts) {
	return buildDiff(diffInput{now: now, runID: 7, obs: obs, snap: snap, known: known})
}

func TestDiffUnchangedIsEmpty(t *testing.T) {
	t.Parallel()
	obs := newObserved()
	obs.teams["T"] = roster.Team{MiroTeamID: "T", OrgID: "O", Name: "Team"}
	p := exactPerson("u1", "full")
	// Miro's nanoseconds, which the store does not keep.
	p.lastActivity = store.Stamp(t0.Add(123456789 * time.Nanosecond))
	obs.people["u1"] = p
	obs.members["T"] = []teamMember{{"u1", "admin"}}

	snap := emptySnap()
	snap.Teams["T"] = obs.teams["T"]
	stored := storedExact(1, "u1", "full")
	stored.LastActivityAt = t0.Add(123 * time.Millisecond)
	snap.Accounts["u1"] = stored
	snap.Memberships[store.MembershipKey{MiroTeamID: "T", MiroUserID: "u1"}] = "admin"

	d, c := diffOf(obs, snap, nil)
	require.True(t, d.Empty(), "%+v", d)
	require.Equal(t, counts{}, c)
}

func TestDiffInferredNeverOverwritesExact(t *testing.T) {
	t.Parallel()
	obs := newObserved()
	obs.people["u1"] = &person{id: "u1", email: "u1@example.com", name: "Ann", license: "full", active: true}
	snap := emptySnap()
	stored := storedExact(1, "u1", "free")
	stored.Active = false
	known := map[string]roster.Account{"u1": stored} // seen by an org-level connection

	d, c := diffOf(obs, snap, known)
	require.Len(t, d.Accounts, 1, "only the name is new")
	a := d.Accounts[0]
	require.Equal(t, "free", a.License)
	require.True(t, a.LicenseExact)
	require.False(t, a.Active, "an inferred sync does not know the active flag")
	require.Equal(t, "Ann", a.Name)
	require.Empty(t, d.Changes, "a name filled in is no change")
	require.Equal(t, []string{"u1"}, d.Seen)
	require.Equal(t, counts{}, c)
}

func TestDiffInferredLicensesDoNotFlap(t *testing.T) {
	t.Parallel()
	// Team A (another connection) made u1 a full user; team B, where u1
	// is non_team, guesses free. The higher guess stands.
	obs := newObserved()
	obs.people["u1"] = &person{id: "u1", email: "u1@example.com", license: "free", active: true}
	snap := emptySnap()
	snap.Accounts["u1"] = roster.Account{ID: 1, MiroUserID: "u1", Email: "u1@example.com", License: "full", Active: true}
	snap.SeenElsewhere["u1"] = true
	d, _ := diffOf(obs, snap, nil)
	require.True(t, d.Empty())

	// When this connection alone sees u1, its guess is the truth.
	delete(snap.SeenElsewhere, "u1")
	d, c := diffOf(obs, snap, nil)
	require.Equal(t, []roster.Change{{MiroUserID: "u1", SyncRunID: 7, Kind: roster.ChangeLicenseChanged, OldValue: "full", NewValue: "free", At: now}}, d.Changes)
	require.Equal(t, 1, c.changed)
}

func TestDiffLeftAndRejoined(t *testing.T) {
	t.Parallel()
	obs := newObserved()
	obs.people["back"] = exactPerson("back", "full")
	snap := emptySnap()
	snap.Accounts["gone"] = storedExact(1, "gone", "full")
	snap.Accounts["elsewhere"] = storedExact(2, "elsewhere", "full")
	snap.SeenElsewhere["elsewhere"] = true
	leaver := storedExact(3, "back", "full")
	leaver.LeftAt = t0
	known := map[string]roster.Account{"back": leaver}

	d, c := diffOf(obs, snap, known)
	require.Equal(t, counts{added: 1}, c)
	require.Equal(t, []string{"back"}, d.Seen)
	// Who of the unseen left is the store's to decide, in its transaction.
	require.Equal(t, []string{"elsewhere", "gone"}, d.Unseen)
	require.Len(t, d.Accounts, 1)
	back := d.Accounts[0]
	require.Equal(t, int64(3), back.ID)
	require.True(t, back.LeftAt.IsZero())
	require.Equal(t, []roster.ChangeKind{roster.ChangeJoined}, kinds(d.Changes))
}

func TestDiffEmailAndNameFollowMiro(t *testing.T) {
	t.Parallel()
	stored := storedExact(1, "u1", "full")
	stored.Name = "Ann Old"
	for _, tc := range []struct {
		level       string
		p           *person
		email, name string // what the account ends with
		changes     []roster.Change
	}{
		// The organization API returns an email and no name: the name stays.
		{"exact", &person{id: "u1", email: "ann@new.example", orgRole: "organization_internal_user", license: "full",
			exact: true, active: true, lastActivity: t0, licenseAssigned: t0}, "ann@new.example", "Ann Old",
			[]roster.Change{{MiroUserID: "u1", SyncRunID: 7, Kind: roster.ChangeEmailChanged, OldValue: "u1@example.com", NewValue: "ann@new.example", At: now}}},
		// The legacy team API returns both, and nothing exact.
		{"inferred", &person{id: "u1", email: "ann@new.example", name: "Ann New", license: "full", active: true}, "ann@new.example", "Ann New",
			[]roster.Change{
				{MiroUserID: "u1", SyncRunID: 7, Kind: roster.ChangeEmailChanged, OldValue: "u1@example.com", NewValue: "ann@new.example", At: now},
				{MiroUserID: "u1", SyncRunID: 7, Kind: roster.ChangeNameChanged, OldValue: "Ann Old", NewValue: "Ann New", At: now},
			}},
		// An answer without an email blanks nothing.
		{"no email", &person{id: "u1", license: "full", active: true}, "u1@example.com", "Ann Old", nil},
	} {
		t.Run(tc.level, func(t *testing.T) {
			obs := newObserved()
			obs.people["u1"] = tc.p
			snap := emptySnap()
			snap.Accounts["u1"] = stored
			d, c := diffOf(obs, snap, nil)
			if tc.changes == nil {
				require.True(t, d.Empty(), "%+v", d)
				return
			}
			require.Equal(t, tc.changes, d.Changes)
			require.Len(t, d.Accounts, 1)
			require.Equal(t, tc.email, d.Accounts[0].Email)
			require.Equal(t, tc.name, d.Accounts[0].Name)
			require.Equal(t, license(stored), license(d.Accounts[0]), "the license is untouched")
			require.Equal(t, counts{changed: 1}, c)
		})
	}
}

func TestDiffTeamNameNotFromMiroIsKept(t *testing.T) {
	t.Parallel()
	// The v2 team plan names its team as the connection remembers it; an
	// organization sync has since stored Miro's new name.
	obs := newObserved()
	obs.teams["T"] = roster.Team{MiroTeamID: "T", OrgID: "O", Name: "Old name"}
	obs.teamNamesKept = true
	snap := emptySnap()
	snap.Teams["T"] = roster.Team{MiroTeamID: "T", OrgID: "O", Name: "New name"}
	d, _ := diffOf(obs, snap, nil)
	require.True(t, d.Empty(), "%+v", d)

	// A plan that reads the team from Miro renames it.
	obs.teamNamesKept = false
	d, _ = diffOf(obs, snap, nil)
	require.Equal(t, []roster.Team{{MiroTeamID: "T", OrgID: "O", Name: "Old name"}}, d.Teams)
}

func license(a roster.Account) string { return a.License + fmt.Sprint(a.LicenseExact) }

func TestDiffVanishedTeam(t *testing.T) {
	t.Parallel()
	obs := newObserved()
	obs.people["u1"] = exactPerson("u1", "full")
	obs.teams["A"] = roster.Team{MiroTeamID: "A", Name: "A"}
	obs.members["A"] = []teamMember{{"u1", "member"}}
	snap := emptySnap()
	snap.Accounts["u1"] = storedExact(1, "u1", "full")
	snap.Teams["A"] = roster.Team{MiroTeamID: "A", Name: "A"}
	snap.Teams["B"] = roster.Team{MiroTeamID: "B", Name: "B"}
	snap.Memberships[store.MembershipKey{MiroTeamID: "A", MiroUserID: "u1"}] = "admin"
	snap.Memberships[store.MembershipKey{MiroTeamID: "B", MiroUserID: "u1"}] = "member"

	d, c := diffOf(obs, snap, nil)
	require.Equal(t, []string{"B"}, d.RemovedTeams)
	require.Equal(t, []roster.Membership{{MiroUserID: "u1", MiroTeamID: "B", Role: "member"}}, d.RemovedMemberships)
	require.Equal(t, []roster.Membership{{MiroUserID: "u1", MiroTeamID: "A", Role: "member"}}, d.Memberships)
	require.Equal(t, []roster.Change{
		{MiroUserID: "u1", SyncRunID: 7, Kind: roster.ChangeTeamLeft, MiroTeamID: "B", OldValue: "member", At: now},
		{MiroUserID: "u1", SyncRunID: 7, Kind: roster.ChangeTeamRoleChanged, MiroTeamID: "A", OldValue: "admin", NewValue: "member", At: now},
	}, d.Changes)
	require.Empty(t, d.Accounts)
	require.Equal(t, counts{changed: 1}, c)
}

func TestDiffActivityNeverGoesBack(t *testing.T) {
	t.Parallel()
	obs := newObserved()
	obs.people["u1"] = exactPerson("u1", "full") // lastActivity t0
	snap := emptySnap()
	stored := storedExact(1, "u1", "full")
	stored.LastActivityAt = t0.Add(time.Hour) // raised by the audit log before
	snap.Accounts["u1"] = stored
	d, _ := diffOf(obs, snap, nil)
	require.True(t, d.Empty())
}

func kinds(cs []roster.Change) []roster.ChangeKind {
	out := make([]roster.ChangeKind, len(cs))
	for i, c := range cs {
		out[i] = c.Kind
	}
	return out
}
