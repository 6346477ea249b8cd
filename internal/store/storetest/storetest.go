package storetest

// This file is long because it holds the suite's entry point and the
// sync part of the conformance suite (snapshots, diffs, ApplySync):
// cases read top to bottom, each against a real database.

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
)

// t0 is a time in the stored precision (UTC, microseconds).
var t0 = time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)

// RunTests runs the conformance suite against the stores newStore makes;
// each call must return a new, empty, migrated store, closed by the
// caller's cleanup.
func RunTests(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Meta", testMeta},
		{"Connections/OK", testConnectionsOK},
		{"Connections/ErrConflictSameOrg", testConnectionsConflictSameOrg},
		{"Connections/ErrConflictSameTeam", testConnectionsConflictSameTeam},
		{"Connections/ErrConflictOnUpdate", testConnectionsConflictOnUpdate},
		{"Connections/ErrNotFound", testConnectionsNotFound},
		{"SaveToken", testSaveToken},
		{"SyncRuns/OK", testSyncRuns},
		{"SyncRuns/ErrNotFound", testSyncRunsNotFound},
		{"FailSyncRun", testFailSyncRun},
		{"ApplySync/FirstSync", testApplyFirstSync},
		{"ApplySync/EmptyDiffWritesNothing", testApplyEmptyDiff},
		{"ApplySync/Atomic", testApplyAtomic},
		{"ApplySync/Updates", testApplyUpdates},
		{"ApplySync/Left", testApplyLeft},
		{"ApplySync/LeftWhenNoConnectionSees", testApplyLeftWhenNoConnectionSees},
		{"ApplySync/ErrConflictTwice", testApplyTwice},
		{"ApplySync/ErrNotFound", testApplyNotFound},
		{"Snapshot/RoundTrip", testSnapshotRoundTrip},
		{"Snapshot/SeenElsewhere", testSnapshotSeenElsewhere},
		{"Snapshot/ErrNotFound", testSnapshotNotFound},
		{"Accounts/Filters", testAccountsFilters},
		{"Accounts/Lookups", testAccountsLookups},
		{"Accounts/ErrNotFound", testAccountsNotFound},
		{"Changes/Filters", testChanges},
		{"Concurrency/ReadersDuringApplySync", testConcurrentReaders},
		{"Concurrency/TwoSyncsLoseThePeople", testConcurrentLeavers},
		{"Concurrency/TwoSyncsLoseThePeopleInterleaved", testInterleavedLeavers},
		{"Times/UTC", testTimesUTC},
		{"Approvals/CountWaiting", testCountWaitingApprovals},
	}
	tests = append(tests, operateTests...)
	tests = append(tests, actionTests...)
	tests = append(tests, historyTests...)
	tests = append(tests, insightsTests...)
	tests = append(tests, listAccountsTests...)
	tests = append(tests, directoryTests...)
	tests = append(tests, searchTests...)
	tests = append(tests, workflowTests...)
	tests = append(tests, bulkTests...)
	tests = append(tests, licenseTests...)
	tests = append(tests, contractTests...)
	tests = append(tests, notificationTests...)
	tests = append(tests, syncProgressTests...)
	tests = append(tests, notifyChannelTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

func ctx() context.Context { return context.Background() }

func orgConnection(org string) roster.Connection {
	return roster.Connection{
		Level: roster.LevelOrganization, OrgID: org, OrgName: "Org " + org, TeamID: "t-" + org, TeamName: "Main",
		InstallerID: "u-installer", InstallerName: "Ida Installer",
		Scopes:     []string{"organizations:read", "organizations:teams:read", "organizations:teams:write"},
		Enterprise: true, CompanyAdmin: true,
		APIBaseURL: "https://api.miro.com", SCIMBaseURL: "https://miro.com/api/v1/scim",
		SealedToken: []byte{1, 2, 3}, SealedSCIMToken: []byte{4, 5},
		Status: roster.StatusActive, SyncInterval: 24 * time.Hour,
	}
}

func teamConnection(org, team string) roster.Connection {
	return roster.Connection{
		Level: roster.LevelTeam, OrgID: org, OrgName: "Org " + org, TeamID: team, TeamName: "Team " + team,
		InstallerID: "u-installer", Scopes: []string{"team:read"}, APIBaseURL: "https://api.miro.com",
		SealedToken: []byte{9}, Status: roster.StatusActive, SyncInterval: time.Hour,
	}
}

func create(t *testing.T, s store.Store, c roster.Connection) roster.Connection {
	t.Helper()
	require.NoError(t, s.CreateConnection(ctx(), &c))
	require.NotZero(t, c.ID)
	return c
}

// apply runs one successful sync of d on the connection.
func apply(t *testing.T, s store.Store, connID int64, end time.Time, d store.Diff) roster.SyncRun {
	t.Helper()
	run := roster.SyncRun{ConnectionID: connID, Source: roster.SourceOrganization, StartedAt: end.Add(-time.Minute)}
	require.NoError(t, s.StartSyncRun(ctx(), &run))
	run.EndedAt, run.Pages, run.APICalls, run.Credits = end, 3, 4, 500
	run.Added = len(d.Accounts)
	require.NoError(t, s.ApplySync(ctx(), &run, d))
	return run
}

func account(n int, license string) roster.Account {
	return roster.Account{
		MiroUserID: fmt.Sprintf("u%03d", n), Email: fmt.Sprintf("user%03d@example.com", n), Name: fmt.Sprintf("User %d", n),
		OrgRole: "organization_internal_user", License: license, LicenseExact: true, Active: true,
		LastActivityAt: t0.Add(-time.Duration(n) * 24 * time.Hour), LicenseAssignedAt: t0.Add(-1000 * time.Hour),
		FirstSeenAt: t0,
	}
}

// firstDiff is an organization's first sync: 3 teams, 5 people.
func firstDiff(org string) store.Diff {
	d := store.Diff{
		Organization: &roster.Organization{MiroOrgID: org, Name: "Org " + org, Plan: "enterprise", FullLicensesPurchased: 10},
		Teams: []roster.Team{
			{MiroTeamID: "t1", OrgID: org, Name: "Design"},
			{MiroTeamID: "t2", OrgID: org, Name: "Eng"},
			{MiroTeamID: "t3", OrgID: org, Name: "Empty"},
		},
	}
	for i := 1; i <= 5; i++ {
		a := account(i, roster.LicenseFull)
		if i == 5 {
			a.License, a.OrgRole, a.LastActivityAt = roster.LicenseFree, "organization_external_user", time.Time{}
		}
		if i == 1 {
			a.AdminRoles = []string{"prebuilt:User Admin", "prebuilt:Content Admin"}
			a.OrgRole = "organization_internal_admin"
		}
		d.Accounts = append(d.Accounts, a)
		d.Seen = append(d.Seen, a.MiroUserID)
		d.Changes = append(d.Changes, roster.Change{MiroUserID: a.MiroUserID, Kind: roster.ChangeJoined, NewValue: a.License, At: t0})
	}
	d.Memberships = []roster.Membership{
		{MiroUserID: "u001", MiroTeamID: "t1", Role: "admin"},
		{MiroUserID: "u002", MiroTeamID: "t1", Role: "member"},
		{MiroUserID: "u002", MiroTeamID: "t2", Role: "member"},
		{MiroUserID: "u003", MiroTeamID: "t2", Role: "admin"},
		{MiroUserID: "u004", MiroTeamID: "t2", Role: "non_team"},
	}
	return d
}

// dump is every table of a SQL store; nil for other stores.
func dump(t *testing.T, s store.Store) map[string][]string {
	t.Helper()
	db, ok := s.(*sqlstore.DB)
	if !ok {
		return nil
	}
	return Dump(t, db)
}

// sqliteChanges is SQLite's count of rows written by its one connection;
// -1 for other stores.
func sqliteChanges(t *testing.T, s store.Store) int {
	t.Helper()
	db, ok := s.(*sqlstore.DB)
	if !ok || db.Dialect() != "sqlite" {
		return -1
	}
	var n int
	require.NoError(t, db.SQL().QueryRowContext(ctx(), `SELECT total_changes()`).Scan(&n))
	return n
}

// withoutTables drops tables from a dump.
func withoutTables(d map[string][]string, tables ...string) map[string][]string {
	out := map[string][]string{}
	for k, v := range d {
		if !slices.Contains(tables, k) {
			out[k] = v
		}
	}
	return out
}

// listing is everything the API shows about stored people, to compare
// before and after on any backend.
func listing(t *testing.T, s store.Store) map[string]any {
	t.Helper()
	accounts, err := s.Accounts(ctx(), store.AccountFilter{IncludeLeft: true})
	require.NoError(t, err)
	changes, err := s.Changes(ctx(), store.ChangeFilter{})
	require.NoError(t, err)
	teams, err := s.Teams(ctx(), 0)
	require.NoError(t, err)
	out := map[string]any{"accounts": accounts, "changes": changes, "teams": teams}
	for _, a := range accounts {
		ms, err := s.AccountMemberships(ctx(), a.ID)
		require.NoError(t, err)
		out["memberships "+a.MiroUserID] = ms
	}
	return out
}

func testMeta(t *testing.T, s store.Store) {
	_, err := s.Meta(ctx(), "secret_check")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NoError(t, s.SetMeta(ctx(), "secret_check", "v1"))
	v, err := s.Meta(ctx(), "secret_check")
	require.NoError(t, err)
	require.Equal(t, "v1", v)
	require.NoError(t, s.SetMeta(ctx(), "secret_check", "v2"))
	v, err = s.Meta(ctx(), "secret_check")
	require.NoError(t, err)
	require.Equal(t, "v2", v)
	require.NoError(t, s.SetMeta(ctx(), "empty", ""))
	v, err = s.Meta(ctx(), "empty")
	require.NoError(t, err)
	require.Equal(t, "", v)
}

func testConnectionsOK(t *testing.T, s store.Store) {
	org := create(t, s, orgConnection("o1"))
	require.False(t, org.CreatedAt.IsZero())
	require.Equal(t, org.CreatedAt, org.UpdatedAt)

	got, err := s.Connection(ctx(), org.ID)
	require.NoError(t, err)
	require.Equal(t, org, got)

	// Two teams of one org, and a team of an org that also has an
	// organization-level connection, are separate connections.
	team1 := create(t, s, teamConnection("o1", "t1"))
	team2 := create(t, s, teamConnection("o1", "t2"))
	bare := teamConnection("", "t9")
	bare.Scopes, bare.SealedToken = nil, nil
	bare = create(t, s, bare)

	all, err := s.Connections(ctx())
	require.NoError(t, err)
	require.Equal(t, []roster.Connection{org, team1, team2, bare}, all)

	found, err := s.FindConnection(ctx(), roster.LevelOrganization, "o1", "")
	require.NoError(t, err)
	require.Equal(t, org.ID, found.ID)
	found, err = s.FindConnection(ctx(), roster.LevelTeam, "", "t2")
	require.NoError(t, err)
	require.Equal(t, team2.ID, found.ID)

	// Update writes every field but ID and CreatedAt.
	upd := team1
	upd.TeamName, upd.Scopes, upd.CompanyAdmin = "Renamed", []string{"boards:read", "team:read"}, true
	upd.SealedSCIMToken, upd.Status, upd.StatusMessage = []byte("scim"), roster.StatusDisconnected, "revoked"
	upd.SyncInterval, upd.LastSyncAt = 90*time.Minute, t0
	upd.CreatedAt = t0.Add(-time.Hour) // ignored
	require.NoError(t, s.UpdateConnection(ctx(), &upd))
	got, err = s.Connection(ctx(), team1.ID)
	require.NoError(t, err)
	upd.CreatedAt = team1.CreatedAt
	require.Equal(t, upd, got)
	require.False(t, got.UpdatedAt.Before(team1.UpdatedAt))
}

func testConnectionsConflictSameOrg(t *testing.T, s store.Store) {
	create(t, s, orgConnection("o1"))
	dup := orgConnection("o1")
	dup.TeamID = "another-team"
	err := s.CreateConnection(ctx(), &dup)
	require.ErrorIs(t, err, store.ErrConflict)
	require.Zero(t, dup.ID)
	all, err := s.Connections(ctx())
	require.NoError(t, err)
	require.Len(t, all, 1)
}

func testConnectionsConflictSameTeam(t *testing.T, s store.Store) {
	create(t, s, teamConnection("o1", "t1"))
	dup := teamConnection("o1", "t1")
	require.ErrorIs(t, s.CreateConnection(ctx(), &dup), store.ErrConflict)
}

func testConnectionsConflictOnUpdate(t *testing.T, s store.Store) {
	create(t, s, teamConnection("o1", "t1"))
	c := create(t, s, teamConnection("o1", "t2"))
	c.TeamID = "t1"
	require.ErrorIs(t, s.UpdateConnection(ctx(), &c), store.ErrConflict)
}

func testConnectionsNotFound(t *testing.T, s store.Store) {
	_, err := s.Connection(ctx(), 404)
	require.ErrorIs(t, err, store.ErrNotFound)
	c := teamConnection("o1", "t1")
	c.ID = 404
	require.ErrorIs(t, s.UpdateConnection(ctx(), &c), store.ErrNotFound)
	_, err = s.FindConnection(ctx(), roster.LevelOrganization, "o1", "")
	require.ErrorIs(t, err, store.ErrNotFound)
	create(t, s, orgConnection("o1"))
	// An organization-level connection is not a team-level one.
	_, err = s.FindConnection(ctx(), roster.LevelTeam, "o1", "t-o1")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, s.SaveToken(ctx(), 404, []byte("x")), store.ErrNotFound)
	all, err := s.Connections(ctx())
	require.NoError(t, err)
	require.Len(t, all, 1)
}

func testSaveToken(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	other := create(t, s, teamConnection("o1", "t1"))
	require.NoError(t, s.SaveToken(ctx(), c.ID, []byte("rotated")))
	got, err := s.Connection(ctx(), c.ID)
	require.NoError(t, err)
	require.Equal(t, []byte("rotated"), got.SealedToken)
	require.False(t, got.UpdatedAt.Before(c.UpdatedAt))
	// Nothing else changed, here or on the other connection.
	got.SealedToken, got.UpdatedAt = c.SealedToken, c.UpdatedAt
	require.Equal(t, c, got)
	o, err := s.Connection(ctx(), other.ID)
	require.NoError(t, err)
	require.Equal(t, other, o)
}

func testSyncRuns(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	r1 := apply(t, s, c.ID, t0, firstDiff("o1"))
	r2 := roster.SyncRun{ConnectionID: c.ID, Source: roster.SourceTeamV2}
	require.NoError(t, s.StartSyncRun(ctx(), &r2))
	require.Equal(t, roster.SyncRunning, r2.Status)
	require.False(t, r2.StartedAt.IsZero())

	runs, err := s.SyncRuns(ctx(), c.ID, 0)
	require.NoError(t, err)
	require.Len(t, runs, 2)
	require.Equal(t, r2, runs[0]) // newest first
	r1.Status = roster.SyncSucceeded
	require.Equal(t, r1, runs[1])

	runs, err = s.SyncRuns(ctx(), c.ID, 1)
	require.NoError(t, err)
	require.Equal(t, []roster.SyncRun{r2}, runs)
	runs, err = s.SyncRuns(ctx(), c.ID+1, 0)
	require.NoError(t, err)
	require.Empty(t, runs)
}

func testSyncRunsNotFound(t *testing.T, s store.Store) {
	run := roster.SyncRun{ConnectionID: 404}
	require.ErrorIs(t, s.StartSyncRun(ctx(), &run), store.ErrNotFound)
	require.ErrorIs(t, s.FailSyncRun(ctx(), roster.SyncRun{ID: 404, ConnectionID: 404, Error: "x"}), store.ErrNotFound)
}

func testFailSyncRun(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	apply(t, s, c.ID, t0, firstDiff("o1"))
	before := dump(t, s)
	beforeList := listing(t, s)
	conn, err := s.Connection(ctx(), c.ID)
	require.NoError(t, err)

	run := roster.SyncRun{ConnectionID: c.ID, Source: roster.SourceOrganization}
	require.NoError(t, s.StartSyncRun(ctx(), &run))
	run.Error, run.EndedAt, run.Pages, run.APICalls, run.Credits = "page 3: 503", t0.Add(time.Hour), 2, 7, 350
	require.NoError(t, s.FailSyncRun(ctx(), run))

	runs, err := s.SyncRuns(ctx(), c.ID, 1)
	require.NoError(t, err)
	run.Status = roster.SyncFailed
	require.Equal(t, run, runs[0])

	got, err := s.Connection(ctx(), c.ID)
	require.NoError(t, err)
	require.Equal(t, roster.StatusError, got.Status)
	require.Equal(t, "page 3: 503", got.StatusMessage)
	require.Equal(t, conn.LastSyncAt, got.LastSyncAt, "a failed sync is not a sync")

	require.Equal(t, beforeList, listing(t, s))
	if before != nil {
		require.Equal(t, withoutTables(before, "sync_runs", "connections"),
			withoutTables(dump(t, s), "sync_runs", "connections"))
	}
	// A run ends once.
	require.ErrorIs(t, s.FailSyncRun(ctx(), run), store.ErrConflict)
	require.ErrorIs(t, s.ApplySync(ctx(), &run, store.Diff{}), store.ErrConflict)

	// The next good sync clears the error.
	apply(t, s, c.ID, t0.Add(2*time.Hour), store.Diff{})
	got, err = s.Connection(ctx(), c.ID)
	require.NoError(t, err)
	require.Equal(t, roster.StatusActive, got.Status)
	require.Empty(t, got.StatusMessage)
	require.Equal(t, t0.Add(2*time.Hour), got.LastSyncAt)
}

func testApplyFirstSync(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	d := firstDiff("o1")
	run := apply(t, s, c.ID, t0, d)

	runs, err := s.SyncRuns(ctx(), c.ID, 0)
	require.NoError(t, err)
	require.Len(t, runs, 1)
	require.Equal(t, roster.SyncSucceeded, runs[0].Status)
	require.Equal(t, t0, runs[0].EndedAt)
	require.Equal(t, 5, runs[0].Added)
	require.Equal(t, 500, runs[0].Credits)

	conn, err := s.Connection(ctx(), c.ID)
	require.NoError(t, err)
	require.Equal(t, t0, conn.LastSyncAt)
	require.Equal(t, roster.StatusActive, conn.Status)

	org, err := s.Organization(ctx(), "o1")
	require.NoError(t, err)
	require.Equal(t, *d.Organization, org)
	teams, err := s.Teams(ctx(), c.ID)
	require.NoError(t, err)
	require.Equal(t, d.Teams, teams)

	accounts, err := s.Accounts(ctx(), store.AccountFilter{})
	require.NoError(t, err)
	require.Len(t, accounts, 5)
	for i, a := range accounts {
		want := d.Accounts[i]
		want.ID = a.ID
		want.LastSeenAt = t0 // the connection's last sync
		require.Equal(t, want, a)
	}

	ms, err := s.AccountMemberships(ctx(), accounts[1].ID)
	require.NoError(t, err)
	require.Equal(t, []roster.Membership{
		{MiroUserID: "u002", MiroTeamID: "t1", Role: "member"},
		{MiroUserID: "u002", MiroTeamID: "t2", Role: "member"},
	}, ms)

	changes, err := s.Changes(ctx(), store.ChangeFilter{SyncRunID: run.ID})
	require.NoError(t, err)
	require.Len(t, changes, 5)
	for i, ch := range changes {
		require.NotZero(t, ch.ID)
		require.Equal(t, accounts[i].ID, ch.AccountID)
		require.Equal(t, run.ID, ch.SyncRunID)
		ch.ID, ch.AccountID, ch.SyncRunID = 0, 0, 0
		require.Equal(t, d.Changes[i], ch)
	}
}

func testApplyEmptyDiff(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	apply(t, s, c.ID, t0, firstDiff("o1"))
	run := roster.SyncRun{ConnectionID: c.ID, Source: roster.SourceOrganization}
	require.NoError(t, s.StartSyncRun(ctx(), &run))
	before := dump(t, s)
	beforeList := listing(t, s)
	written := sqliteChanges(t, s)

	run.EndedAt = t0.Add(24 * time.Hour)
	require.NoError(t, s.ApplySync(ctx(), &run, store.Diff{}))

	// The day's license points: one row per license held, full's purchase
	// count set from its organization where it has one. This run's: the
	// fixture's 5 people, 4 with a full license, all active within 60 days
	// of the run's end.
	days, err := s.LicenseDays(ctx(), "", t0.Add(24*time.Hour))
	require.NoError(t, err)
	require.NotEmpty(t, days)
	purchased := 0 // rows whose purchase count came from an organization
	people := 0
	for _, d := range days {
		require.True(t, d.Day.Equal(t0.Add(24*time.Hour).Truncate(24*time.Hour)), "this run's day")
		if d.Purchased > 0 {
			purchased++
		}
		people += d.Assigned
		if d.License == roster.LicenseFull {
			require.Equal(t, 4, d.Assigned)
			require.Equal(t, 4, d.Active)
		}
	}
	require.Equal(t, 5, people)
	if written >= 0 {
		require.Equal(t, 2+len(days)+purchased, sqliteChanges(t, s)-written,
			"an empty diff writes the run, the connection and the day's license points, nothing else")
	}

	after := dump(t, s)
	if before != nil {
		require.Equal(t, withoutTables(before, "sync_runs", "connections"),
			withoutTables(after, "sync_runs", "connections"), "an empty diff wrote rows")
		require.Len(t, after["sync_runs"], 2)
		require.Len(t, after["connections"], 1)
	}
	// Listings differ only by LastSeenAt, which is the connection's sync.
	afterList := listing(t, s)
	for _, a := range afterList["accounts"].([]roster.Account) {
		require.Equal(t, t0.Add(24*time.Hour), a.LastSeenAt)
	}
	for i := range beforeList["accounts"].([]roster.Account) {
		beforeList["accounts"].([]roster.Account)[i].LastSeenAt = t0.Add(24 * time.Hour)
	}
	require.Equal(t, beforeList, afterList)

	runs, err := s.SyncRuns(ctx(), c.ID, 1)
	require.NoError(t, err)
	require.Equal(t, run.ID, runs[0].ID)
	require.Equal(t, roster.SyncSucceeded, runs[0].Status)
	conn, err := s.Connection(ctx(), c.ID)
	require.NoError(t, err)
	require.Equal(t, t0.Add(24*time.Hour), conn.LastSyncAt)
}

func testApplyAtomic(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	apply(t, s, c.ID, t0, firstDiff("o1"))
	before := dump(t, s)
	beforeList := listing(t, s)
	beforeConn, err := s.Connection(ctx(), c.ID)
	require.NoError(t, err)

	run := roster.SyncRun{ConnectionID: c.ID, Source: roster.SourceOrganization}
	require.NoError(t, s.StartSyncRun(ctx(), &run))
	before2 := dump(t, s) // with the running run

	// Every part of the diff is valid but the last change, which names
	// nobody: nothing may stay written.
	d := store.Diff{
		Organization:       &roster.Organization{MiroOrgID: "o1", Name: "Renamed", Plan: "enterprise", FullLicensesPurchased: 20},
		Teams:              []roster.Team{{MiroTeamID: "t4", OrgID: "o1", Name: "New"}},
		RemovedTeams:       []string{"t3"},
		Accounts:           []roster.Account{account(6, roster.LicenseFull)},
		Seen:               []string{"u006"},
		Unseen:             []string{"u005"},
		Memberships:        []roster.Membership{{MiroUserID: "u006", MiroTeamID: "t4", Role: "member"}},
		RemovedMemberships: []roster.Membership{{MiroUserID: "u001", MiroTeamID: "t1"}},
		Changes: []roster.Change{
			{MiroUserID: "u006", Kind: roster.ChangeJoined},
			{MiroUserID: "nobody", Kind: roster.ChangeLicenseChanged, OldValue: "free", NewValue: "full"},
		},
	}
	run.EndedAt = t0.Add(time.Hour)
	err = s.ApplySync(ctx(), &run, d)
	require.Error(t, err)
	require.Contains(t, err.Error(), "nobody")

	require.Equal(t, beforeList, listing(t, s))
	got, err := s.Connection(ctx(), c.ID)
	require.NoError(t, err)
	require.Equal(t, beforeConn, got)
	if before != nil {
		require.Equal(t, before2, dump(t, s), "a failed ApplySync left rows behind")
	}

	// A constraint violation in the database itself rolls back too: a
	// membership of a team nobody upserted.
	d.Changes = d.Changes[:1]
	d.Memberships = append(d.Memberships, roster.Membership{MiroUserID: "u002", MiroTeamID: "no-such-team", Role: "member"})
	require.Error(t, s.ApplySync(ctx(), &run, d))
	require.Equal(t, beforeList, listing(t, s))
	if before != nil {
		require.Equal(t, before2, dump(t, s), "a failed ApplySync left rows behind")
	}

	// The run is still running, so the sync engine can record its failure.
	run.Error = "apply: constraint"
	require.NoError(t, s.FailSyncRun(ctx(), run))
}

func testApplyUpdates(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	apply(t, s, c.ID, t0, firstDiff("o1"))
	snap, err := s.Snapshot(ctx(), c.ID)
	require.NoError(t, err)

	u2 := snap.Accounts["u002"]
	u2.License, u2.Name, u2.AdminRoles = roster.LicenseFree, "Renamed", []string{"prebuilt:Team Admin"}
	u3 := snap.Accounts["u003"]
	u3.Active = false
	t1 := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
	run := apply(t, s, c.ID, t1, store.Diff{
		Organization: &roster.Organization{MiroOrgID: "o1", Name: "Renamed Org", Plan: "enterprise", FullLicensesPurchased: 12},
		Teams:        []roster.Team{{MiroTeamID: "t2", OrgID: "o1", Name: "Engineering"}},
		RemovedTeams: []string{"t3"},
		Accounts:     []roster.Account{u2, u3},
		Memberships: []roster.Membership{
			{MiroUserID: "u002", MiroTeamID: "t2", Role: "admin"},
			{MiroUserID: "u005", MiroTeamID: "t1", Role: "member"},
		},
		RemovedMemberships: []roster.Membership{{MiroUserID: "u001", MiroTeamID: "t1"}},
		Changes: []roster.Change{
			{MiroUserID: "u002", Kind: roster.ChangeLicenseChanged, OldValue: "full", NewValue: "free", At: t1},
			{MiroUserID: "u003", Kind: roster.ChangeDeactivated, At: t1},
			{MiroUserID: "u002", Kind: roster.ChangeTeamRoleChanged, MiroTeamID: "t2", OldValue: "member", NewValue: "admin", At: t1},
		},
	})

	after, err := s.Snapshot(ctx(), c.ID)
	require.NoError(t, err)
	require.Equal(t, "Renamed Org", after.Organization.Name)
	require.Equal(t, map[string]roster.Team{
		"t1": {MiroTeamID: "t1", OrgID: "o1", Name: "Design"},
		"t2": {MiroTeamID: "t2", OrgID: "o1", Name: "Engineering"},
	}, after.Teams)
	u2.LastSeenAt, u3.LastSeenAt = t1, t1
	require.Equal(t, u2, after.Accounts["u002"])
	require.Equal(t, u3, after.Accounts["u003"])
	require.Equal(t, map[store.MembershipKey]string{
		{MiroTeamID: "t1", MiroUserID: "u002"}: "member",
		{MiroTeamID: "t1", MiroUserID: "u005"}: "member",
		{MiroTeamID: "t2", MiroUserID: "u002"}: "admin",
		{MiroTeamID: "t2", MiroUserID: "u003"}: "admin",
		{MiroTeamID: "t2", MiroUserID: "u004"}: "non_team",
	}, after.Memberships)

	changes, err := s.Changes(ctx(), store.ChangeFilter{SyncRunID: run.ID})
	require.NoError(t, err)
	require.Len(t, changes, 3)
	require.Equal(t, roster.ChangeTeamRoleChanged, changes[2].Kind)
	require.Equal(t, u2.ID, changes[2].AccountID)

	// The team stays known to the store though no connection covers it.
	all, err := s.Teams(ctx(), 0)
	require.NoError(t, err)
	require.Len(t, all, 3)

	// Updating an account that does not exist fails.
	ghost := account(9, roster.LicenseFull)
	ghost.ID = 9999
	run2 := roster.SyncRun{ConnectionID: c.ID}
	require.NoError(t, s.StartSyncRun(ctx(), &run2))
	require.ErrorIs(t, s.ApplySync(ctx(), &run2, store.Diff{Accounts: []roster.Account{ghost}}), store.ErrNotFound)
	_, err = s.AccountsByMiroIDs(ctx(), []string{"u009"})
	require.NoError(t, err)
}

func testApplyLeft(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	apply(t, s, c.ID, t0, firstDiff("o1"))
	snap, err := s.Snapshot(ctx(), c.ID)
	require.NoError(t, err)

	// u004 leaves: the engine unsees them and drops their membership; the
	// store, seeing no other connection sees them, marks them left. Their
	// last seen is the sync before.
	t1 := t0.Add(24 * time.Hour)
	u4 := snap.Accounts["u004"]
	run := apply(t, s, c.ID, t1, store.Diff{
		Unseen:             []string{"u004"},
		RemovedMemberships: []roster.Membership{{MiroUserID: "u004", MiroTeamID: "t2"}},
		Changes:            []roster.Change{{MiroUserID: "u004", Kind: roster.ChangeTeamLeft, MiroTeamID: "t2", OldValue: "non_team", At: t1}},
	})
	require.Equal(t, 1, run.Removed)
	runs, err := s.SyncRuns(ctx(), c.ID, 1)
	require.NoError(t, err)
	require.Equal(t, 1, runs[0].Removed)
	changes, err := s.Changes(ctx(), store.ChangeFilter{SyncRunID: run.ID})
	require.NoError(t, err)
	require.Len(t, changes, 2)
	require.Equal(t, roster.ChangeLeft, changes[0].Kind)
	require.Equal(t, u4.ID, changes[0].AccountID)
	require.Equal(t, t1, changes[0].At)
	require.Equal(t, roster.ChangeTeamLeft, changes[1].Kind)
	t2 := t1.Add(24 * time.Hour)
	apply(t, s, c.ID, t2, store.Diff{})

	got, err := s.Account(ctx(), u4.ID)
	require.NoError(t, err)
	require.Equal(t, t1, got.LeftAt)
	require.Equal(t, t0, got.LastSeenAt, "last seen is the last sync that saw them")

	stayed, err := s.Account(ctx(), snap.Accounts["u001"].ID)
	require.NoError(t, err)
	require.Equal(t, t2, stayed.LastSeenAt)

	snap2, err := s.Snapshot(ctx(), c.ID)
	require.NoError(t, err)
	require.NotContains(t, snap2.Accounts, "u004")
	require.Len(t, snap2.Accounts, 4)

	list, err := s.Accounts(ctx(), store.AccountFilter{})
	require.NoError(t, err)
	require.Len(t, list, 4)
	list, err = s.Accounts(ctx(), store.AccountFilter{IncludeLeft: true})
	require.NoError(t, err)
	require.Len(t, list, 5)

	// Left people are still found, so a return reuses the account.
	byID, err := s.AccountsByMiroIDs(ctx(), []string{"u004"})
	require.NoError(t, err)
	require.Equal(t, u4.ID, byID["u004"].ID)

	// They come back.
	back := byID["u004"]
	back.LeftAt, back.LastSeenAt = time.Time{}, time.Time{}
	t3 := t2.Add(time.Hour)
	apply(t, s, c.ID, t3, store.Diff{Accounts: []roster.Account{back}, Seen: []string{"u004"}})
	got, err = s.Account(ctx(), u4.ID)
	require.NoError(t, err)
	require.True(t, got.LeftAt.IsZero())
	require.Equal(t, t3, got.LastSeenAt)
}

// twoTeamConnections stores two team-level connections that both see
// u001..u00n (the first n of them in both teams) and returns them.
func twoTeamConnections(t *testing.T, s store.Store, n int) (c1, c2 roster.Connection) {
	t.Helper()
	c1, c2 = create(t, s, teamConnection("o1", "t1")), create(t, s, teamConnection("o1", "t2"))
	d1 := store.Diff{Teams: []roster.Team{{MiroTeamID: "t1", OrgID: "o1", Name: "One"}}}
	d2 := store.Diff{Teams: []roster.Team{{MiroTeamID: "t2", OrgID: "o1", Name: "Two"}}}
	for i := 1; i <= n; i++ {
		a := account(i, roster.LicenseFull)
		d1.Accounts = append(d1.Accounts, a)
		for _, d := range []*store.Diff{&d1, &d2} {
			d.Seen = append(d.Seen, a.MiroUserID)
			d.Memberships = append(d.Memberships, roster.Membership{MiroUserID: a.MiroUserID, MiroTeamID: d.Teams[0].MiroTeamID, Role: "member"})
		}
	}
	apply(t, s, c1.ID, t0, d1)
	apply(t, s, c2.ID, t0.Add(time.Minute), d2)
	return c1, c2
}

// unseenDiff is the diff of a team-level connection of team that no
// longer sees u001..u00n.
func unseenDiff(team string, n int, at time.Time) store.Diff {
	var d store.Diff
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("u%03d", i)
		d.Unseen = append(d.Unseen, id)
		d.RemovedMemberships = append(d.RemovedMemberships, roster.Membership{MiroUserID: id, MiroTeamID: team, Role: "member"})
		d.Changes = append(d.Changes, roster.Change{MiroUserID: id, Kind: roster.ChangeTeamLeft, MiroTeamID: team, OldValue: "member", At: at})
	}
	return d
}

func testApplyLeftWhenNoConnectionSees(t *testing.T, s store.Store) {
	c1, c2 := twoTeamConnections(t, s, 1)
	u1, err := s.AccountsByMiroIDs(ctx(), []string{"u001"})
	require.NoError(t, err)
	id := u1["u001"].ID

	// The first connection to lose u001 leaves them to the other.
	t1 := t0.Add(time.Hour)
	r1 := apply(t, s, c1.ID, t1, unseenDiff("t1", 1, t1))
	require.Zero(t, r1.Removed)
	got, err := s.Account(ctx(), id)
	require.NoError(t, err)
	require.True(t, got.LeftAt.IsZero(), "still seen by the other connection")

	// The last one marks them left, though its snapshot, read before the
	// first applied, showed them seen elsewhere.
	t2 := t1.Add(time.Hour)
	r2 := apply(t, s, c2.ID, t2, unseenDiff("t2", 1, t2))
	require.Equal(t, 1, r2.Removed)
	got, err = s.Account(ctx(), id)
	require.NoError(t, err)
	require.Equal(t, t2, got.LeftAt)
	require.Equal(t, t0.Add(time.Minute), got.LastSeenAt, "the last sync of the connection that saw them last")
	left := leftChanges(t, s, id)
	require.Len(t, left, 1)
	require.Equal(t, r2.ID, left[0].SyncRunID)

	// Losing someone already left changes nothing more.
	r3 := apply(t, s, c2.ID, t2.Add(time.Hour), store.Diff{Unseen: []string{"u001"}})
	require.Zero(t, r3.Removed)
	got, err = s.Account(ctx(), id)
	require.NoError(t, err)
	require.Equal(t, t2, got.LeftAt)
}

func testApplyTwice(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	run := apply(t, s, c.ID, t0, firstDiff("o1"))
	require.ErrorIs(t, s.ApplySync(ctx(), &run, firstDiff("o1")), store.ErrConflict)
	accounts, err := s.Accounts(ctx(), store.AccountFilter{})
	require.NoError(t, err)
	require.Len(t, accounts, 5)
}

func testApplyNotFound(t *testing.T, s store.Store) {
	create(t, s, orgConnection("o1"))
	require.ErrorIs(t, s.ApplySync(ctx(), &roster.SyncRun{ID: 404, ConnectionID: 1}, store.Diff{}), store.ErrNotFound)
}

func testSnapshotRoundTrip(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	empty, err := s.Snapshot(ctx(), c.ID)
	require.NoError(t, err)
	require.Nil(t, empty.Organization)
	require.Empty(t, empty.Accounts)
	require.Empty(t, empty.Teams)
	require.Empty(t, empty.Memberships)

	d := firstDiff("o1")
	apply(t, s, c.ID, t0, d)
	snap, err := s.Snapshot(ctx(), c.ID)
	require.NoError(t, err)

	require.Equal(t, d.Organization, snap.Organization)
	require.Len(t, snap.Teams, 3)
	for _, team := range d.Teams {
		require.Equal(t, team, snap.Teams[team.MiroTeamID])
	}
	require.Len(t, snap.Accounts, 5)
	for _, a := range d.Accounts {
		got := snap.Accounts[a.MiroUserID]
		require.NotZero(t, got.ID)
		a.ID, a.LastSeenAt = got.ID, t0
		require.Equal(t, a, got)
	}
	require.Empty(t, snap.SeenElsewhere)
	require.Len(t, snap.Memberships, len(d.Memberships))
	for _, m := range d.Memberships {
		require.Equal(t, m.Role, snap.Memberships[store.MembershipKey{MiroTeamID: m.MiroTeamID, MiroUserID: m.MiroUserID}])
	}
}

func testSnapshotSeenElsewhere(t *testing.T, s store.Store) {
	// Two team-level connections see u002; each covers its own team.
	c1 := create(t, s, teamConnection("o1", "t1"))
	c2 := create(t, s, teamConnection("o1", "t2"))
	a1, a2, a3 := account(1, roster.LicenseFull), account(2, roster.LicenseFull), account(3, roster.LicenseFree)
	for _, a := range []*roster.Account{&a1, &a2, &a3} {
		a.LicenseExact, a.OrgRole, a.LastActivityAt = false, "", time.Time{}
	}
	apply(t, s, c1.ID, t0, store.Diff{
		Teams:       []roster.Team{{MiroTeamID: "t1", OrgID: "o1", Name: "One"}},
		Accounts:    []roster.Account{a1, a2},
		Seen:        []string{"u001", "u002"},
		Memberships: []roster.Membership{{MiroUserID: "u001", MiroTeamID: "t1", Role: "admin"}, {MiroUserID: "u002", MiroTeamID: "t1", Role: "member"}},
	})
	// The second connection finds u002 already known and only sees them.
	known, err := s.AccountsByMiroIDs(ctx(), []string{"u002", "u003"})
	require.NoError(t, err)
	require.Len(t, known, 1)
	t1 := t0.Add(time.Hour)
	apply(t, s, c2.ID, t1, store.Diff{
		Teams:       []roster.Team{{MiroTeamID: "t2", OrgID: "o1", Name: "Two"}},
		Accounts:    []roster.Account{a3},
		Seen:        []string{"u002", "u003"},
		Memberships: []roster.Membership{{MiroUserID: "u002", MiroTeamID: "t2", Role: "admin"}, {MiroUserID: "u003", MiroTeamID: "t2", Role: "member"}},
	})

	s1, err := s.Snapshot(ctx(), c1.ID)
	require.NoError(t, err)
	require.Nil(t, s1.Organization)
	require.Equal(t, map[string]bool{"u002": true}, s1.SeenElsewhere)
	require.Len(t, s1.Accounts, 2)
	require.Equal(t, map[store.MembershipKey]string{
		{MiroTeamID: "t1", MiroUserID: "u001"}: "admin",
		{MiroTeamID: "t1", MiroUserID: "u002"}: "member",
	}, s1.Memberships)
	// u002's last seen is the newest sync of the connections that see them.
	require.Equal(t, t1, s1.Accounts["u002"].LastSeenAt)
	require.Equal(t, t0, s1.Accounts["u001"].LastSeenAt)

	s2, err := s.Snapshot(ctx(), c2.ID)
	require.NoError(t, err)
	require.Equal(t, map[string]bool{"u002": true}, s2.SeenElsewhere)
	require.Equal(t, []string{"t2"}, keys(s2.Teams))

	all, err := s.Accounts(ctx(), store.AccountFilter{})
	require.NoError(t, err)
	require.Len(t, all, 3, "one account per person")
	ms, err := s.AccountMemberships(ctx(), known["u002"].ID)
	require.NoError(t, err)
	require.Len(t, ms, 2)
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func testSnapshotNotFound(t *testing.T, s store.Store) {
	_, err := s.Snapshot(ctx(), 404)
	require.ErrorIs(t, err, store.ErrNotFound)
}

func testAccountsFilters(t *testing.T, s store.Store) {
	c1 := create(t, s, orgConnection("o1"))
	c2 := create(t, s, teamConnection("o2", "x1"))
	apply(t, s, c1.ID, t0, firstDiff("o1"))
	other := account(7, roster.LicenseFull)
	other.Email = "aaa@other.example" // sorts first
	apply(t, s, c2.ID, t0, store.Diff{
		Teams:       []roster.Team{{MiroTeamID: "x1", OrgID: "o2", Name: "X"}},
		Accounts:    []roster.Account{other},
		Seen:        []string{"u007", "u001"},
		Memberships: []roster.Membership{{MiroUserID: "u007", MiroTeamID: "x1", Role: "member"}},
	})

	ids := func(f store.AccountFilter) []string {
		t.Helper()
		list, err := s.Accounts(ctx(), f)
		require.NoError(t, err)
		out := []string{}
		for _, a := range list {
			out = append(out, a.MiroUserID)
		}
		return out
	}
	require.Equal(t, []string{"u007", "u001", "u002", "u003", "u004", "u005"}, ids(store.AccountFilter{}))
	require.Equal(t, []string{"u001", "u002", "u003", "u004", "u005"}, ids(store.AccountFilter{ConnectionID: c1.ID}))
	require.Equal(t, []string{"u007", "u001"}, ids(store.AccountFilter{ConnectionID: c2.ID}))
	require.Equal(t, []string{"u005"}, ids(store.AccountFilter{License: roster.LicenseFree}))
	require.Equal(t, []string{"u001"}, ids(store.AccountFilter{OrgRole: "organization_internal_admin"}))
	require.Equal(t, []string{"u002", "u003", "u004"}, ids(store.AccountFilter{MiroTeamID: "t2"}))
	require.Equal(t, []string{"u003", "u004"}, ids(store.AccountFilter{MiroTeamID: "t2", ConnectionID: c1.ID,
		OrgRole: "organization_internal_user", License: roster.LicenseFull, InactiveSince: t0.Add(-60 * time.Hour)}))
	// Inactive since: last activity before it, or never (u005). u00n was
	// last active n days before t0; u007 seven days before.
	require.Equal(t, []string{"u007", "u003", "u004", "u005"}, ids(store.AccountFilter{InactiveSince: t0.Add(-2 * 24 * time.Hour)}))
	// The same instant in another zone filters the same.
	zone := time.FixedZone("UTC+5", 5*3600)
	require.Equal(t, []string{"u007", "u003", "u004", "u005"}, ids(store.AccountFilter{InactiveSince: t0.Add(-2 * 24 * time.Hour).In(zone)}))
	require.Equal(t, []string{"u001", "u002"}, ids(store.AccountFilter{Limit: 2, Offset: 1}))
	require.Equal(t, []string{"u004", "u005"}, ids(store.AccountFilter{Offset: 4}))
	require.Equal(t, []string{}, ids(store.AccountFilter{Offset: 10}))
	require.Equal(t, []string{}, ids(store.AccountFilter{License: "advanced"}))

	// Left accounts only with IncludeLeft.
	snap, err := s.Snapshot(ctx(), c1.ID)
	require.NoError(t, err)
	u3 := snap.Accounts["u003"]
	u3.LeftAt = t0.Add(time.Hour)
	apply(t, s, c1.ID, t0.Add(time.Hour), store.Diff{Accounts: []roster.Account{u3}, Unseen: []string{"u003"}})
	require.Equal(t, []string{"u002", "u004"}, ids(store.AccountFilter{MiroTeamID: "t2"}))
	require.Equal(t, []string{"u002", "u003", "u004"}, ids(store.AccountFilter{MiroTeamID: "t2", IncludeLeft: true}))
}

func testAccountsLookups(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	apply(t, s, c.ID, t0, firstDiff("o1"))

	byID, err := s.AccountsByMiroIDs(ctx(), []string{"u001", "u003", "missing"})
	require.NoError(t, err)
	require.Equal(t, []string{"u001", "u003"}, keys(byID))
	require.Equal(t, "user003@example.com", byID["u003"].Email)
	require.Equal(t, t0, byID["u003"].LastSeenAt)

	byEmail, err := s.AccountsByEmails(ctx(), []string{"user002@example.com", "nobody@example.com", ""})
	require.NoError(t, err)
	require.Equal(t, []string{"user002@example.com"}, keys(byEmail))
	require.Equal(t, "u002", byEmail["user002@example.com"].MiroUserID)

	none, err := s.AccountsByMiroIDs(ctx(), nil)
	require.NoError(t, err)
	require.Empty(t, none)

	// Many keys at once.
	many := make([]string, 5000)
	for i := range many {
		many[i] = fmt.Sprintf("u%03d", i)
	}
	byID, err = s.AccountsByMiroIDs(ctx(), many)
	require.NoError(t, err)
	require.Len(t, byID, 5)
}

func testAccountsNotFound(t *testing.T, s store.Store) {
	_, err := s.Account(ctx(), 404)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.Organization(ctx(), "o404")
	require.ErrorIs(t, err, store.ErrNotFound)
	ms, err := s.AccountMemberships(ctx(), 404)
	require.NoError(t, err)
	require.Empty(t, ms)
	teams, err := s.Teams(ctx(), 404)
	require.NoError(t, err)
	require.Empty(t, teams)
}

func testChanges(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	r1 := apply(t, s, c.ID, t0, firstDiff("o1"))
	r2 := apply(t, s, c.ID, t0.Add(time.Hour), store.Diff{Changes: []roster.Change{
		{MiroUserID: "u001", Kind: roster.ChangeRoleChanged, OldValue: "organization_internal_admin", NewValue: "organization_internal_user"},
	}})
	all, err := s.Changes(ctx(), store.ChangeFilter{})
	require.NoError(t, err)
	require.Len(t, all, 6)
	require.True(t, slices.IsSortedFunc(all, func(a, b roster.Change) int { return int(a.ID - b.ID) }))
	// At defaults to the run's end.
	require.Equal(t, t0.Add(time.Hour), all[5].At)
	require.Equal(t, r2.ID, all[5].SyncRunID)

	u1 := all[0].AccountID
	mine, err := s.Changes(ctx(), store.ChangeFilter{AccountID: u1})
	require.NoError(t, err)
	require.Len(t, mine, 2)
	require.Equal(t, roster.ChangeJoined, mine[0].Kind)
	require.Equal(t, roster.ChangeRoleChanged, mine[1].Kind)

	first, err := s.Changes(ctx(), store.ChangeFilter{SyncRunID: r1.ID, Limit: 2})
	require.NoError(t, err)
	require.Len(t, first, 2)
	// Keyset paging continues after the last id seen.
	rest, err := s.Changes(ctx(), store.ChangeFilter{SyncRunID: r1.ID, AfterID: first[1].ID})
	require.NoError(t, err)
	require.Len(t, rest, 3)
	require.Equal(t, all[2].ID, rest[0].ID)
	both, err := s.Changes(ctx(), store.ChangeFilter{SyncRunID: r2.ID, AccountID: u1})
	require.NoError(t, err)
	require.Len(t, both, 1)
}

func testConcurrentReaders(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	apply(t, s, c.ID, t0, firstDiff("o1"))

	big := store.Diff{Teams: []roster.Team{{MiroTeamID: "big", OrgID: "o1", Name: "Big"}}}
	for i := 100; i < 2100; i++ {
		a := account(i, roster.LicenseFull)
		big.Accounts = append(big.Accounts, a)
		big.Seen = append(big.Seen, a.MiroUserID)
		big.Memberships = append(big.Memberships, roster.Membership{MiroUserID: a.MiroUserID, MiroTeamID: "big", Role: "member"})
	}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 8)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				snap, err := s.Snapshot(ctx(), c.ID)
				if err != nil {
					errs <- err
					return
				}
				// All or nothing: 5 people, or 5 plus the whole batch.
				if n := len(snap.Accounts); n != 5 && n != 2005 {
					errs <- fmt.Errorf("snapshot saw %d accounts mid-transaction", n)
					return
				}
				if n := len(snap.Memberships); n != 5 && n != 2005 {
					errs <- fmt.Errorf("snapshot saw %d memberships mid-transaction", n)
					return
				}
				if _, err := s.Accounts(ctx(), store.AccountFilter{Limit: 10}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	apply(t, s, c.ID, t0.Add(time.Hour), big)
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	all, err := s.Accounts(ctx(), store.AccountFilter{})
	require.NoError(t, err)
	require.Len(t, all, 2005)
}

// testConcurrentLeavers applies, at once, the syncs of two connections
// that both lose the same people: each must be marked left exactly once,
// whichever commits last. SQLite runs them one after the other;
// PostgreSQL runs them together.
func testConcurrentLeavers(t *testing.T, s store.Store) {
	const n = 50
	c1, c2 := twoTeamConnections(t, s, n)
	at := t0.Add(time.Hour)
	var (
		start = make(chan struct{})
		wg    sync.WaitGroup
		runs  [2]roster.SyncRun
		errs  [2]error
	)
	for i, c := range []roster.Connection{c1, c2} {
		runs[i] = roster.SyncRun{ConnectionID: c.ID, Source: roster.SourceLegacyTeam, StartedAt: t0}
		require.NoError(t, s.StartSyncRun(ctx(), &runs[i]))
		runs[i].EndedAt = at
		wg.Go(func() {
			<-start
			errs[i] = s.ApplySync(ctx(), &runs[i], unseenDiff(c.TeamID, n, at))
		})
	}
	close(start)
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.Equal(t, n, runs[0].Removed+runs[1].Removed)

	all, err := s.Accounts(ctx(), store.AccountFilter{IncludeLeft: true})
	require.NoError(t, err)
	require.Len(t, all, n)
	for _, a := range all {
		require.Equal(t, at, a.LeftAt, "%s left", a.MiroUserID)
	}
	require.Len(t, leftChanges(t, s, 0), n)
}

// testInterleavedLeavers makes PostgreSQL interleave the two syncs of
// testConcurrentLeavers at their worst: the test holds the sightings
// both delete until both transactions wait, so that neither has
// committed when the other decides who left.
func testInterleavedLeavers(t *testing.T, s store.Store) {
	db, ok := s.(*sqlstore.DB)
	if !ok || db.Dialect() != "postgres" {
		t.Skip("only PostgreSQL runs two write transactions at once")
	}
	c1, c2 := twoTeamConnections(t, s, 1)
	at := t0.Add(time.Hour)

	hold, err := db.SQL().BeginTx(ctx(), nil)
	require.NoError(t, err)
	defer hold.Rollback()
	var holder int
	require.NoError(t, hold.QueryRowContext(ctx(), `SELECT pg_backend_pid()`).Scan(&holder))
	_, err = hold.ExecContext(ctx(), `SELECT 1 FROM connection_accounts FOR UPDATE`)
	require.NoError(t, err)

	var (
		wg   sync.WaitGroup
		runs [2]roster.SyncRun
		errs [2]error
	)
	for i, c := range []roster.Connection{c1, c2} {
		runs[i] = roster.SyncRun{ConnectionID: c.ID, Source: roster.SourceLegacyTeam, StartedAt: t0}
		require.NoError(t, s.StartSyncRun(ctx(), &runs[i]))
		runs[i].EndedAt = at
		wg.Go(func() { errs[i] = s.ApplySync(ctx(), &runs[i], unseenDiff(c.TeamID, 1, at)) })
	}
	// Wait until both wait on the holder, directly or behind each other;
	// fail if that stops advancing for 30 seconds.
	last, lastAt := -1, time.Now()
	for {
		var n int
		require.NoError(t, db.SQL().QueryRowContext(ctx(), `SELECT COUNT(*) FROM pg_stat_activity a
			WHERE $1 = ANY(pg_blocking_pids(a.pid)) OR EXISTS (SELECT 1 FROM unnest(pg_blocking_pids(a.pid)) b
				WHERE $1 = ANY(pg_blocking_pids(b)))`, holder).Scan(&n))
		if n == 2 {
			break
		}
		if n != last {
			last, lastAt = n, time.Now()
		}
		require.Less(t, time.Since(lastAt), 30*time.Second, "%d of the 2 syncs wait on the held sightings", n)
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, hold.Rollback())
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])

	require.Equal(t, 1, runs[0].Removed+runs[1].Removed)
	require.Len(t, leftChanges(t, s, 0), 1)
	all, err := s.Accounts(ctx(), store.AccountFilter{IncludeLeft: true})
	require.NoError(t, err)
	require.Equal(t, at, all[0].LeftAt)
}

// leftChanges are the left changes of an account (0: of all).
func leftChanges(t *testing.T, s store.Store, accountID int64) []roster.Change {
	t.Helper()
	all, err := s.Changes(ctx(), store.ChangeFilter{AccountID: accountID})
	require.NoError(t, err)
	var out []roster.Change
	for _, c := range all {
		if c.Kind == roster.ChangeLeft {
			out = append(out, c)
		}
	}
	return out
}

func testTimesUTC(t *testing.T, s store.Store) {
	zone := time.FixedZone("UTC-7", -7*3600)
	local := time.Date(2026, 7, 1, 20, 30, 0, 123456789, zone) // 03:30 UTC the next day
	c := orgConnection("o1")
	c.LastSyncAt = local
	c = create(t, s, c)
	got, err := s.Connection(ctx(), c.ID)
	require.NoError(t, err)
	want := local.UTC().Truncate(time.Microsecond)
	require.Equal(t, want, got.LastSyncAt)
	require.Equal(t, time.UTC, got.LastSyncAt.Location())
	require.Equal(t, time.UTC, got.CreatedAt.Location())

	// Zero times stay zero.
	a := account(1, roster.LicenseFull)
	a.LastActivityAt, a.LicenseAssignedAt = time.Time{}, local
	apply(t, s, c.ID, local.Add(time.Hour), store.Diff{Accounts: []roster.Account{a}, Seen: []string{"u001"}})
	list, err := s.Accounts(ctx(), store.AccountFilter{})
	require.NoError(t, err)
	require.True(t, list[0].LastActivityAt.IsZero())
	require.True(t, list[0].LeftAt.IsZero())
	require.Equal(t, want, list[0].LicenseAssignedAt)
	require.Equal(t, want.Add(time.Hour), list[0].LastSeenAt)
}
