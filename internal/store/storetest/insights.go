package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
)

// insightsTests cover the overview's counts, the one inactivity rule, the
// trend and the team statistics.
var insightsTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Insights/Overview", testOverview},
	{"Insights/InactivityRule", testInactivityRule},
	{"Insights/OverviewEmpty", testOverviewEmpty},
	{"Insights/Trend", testTrend},
	{"Insights/TeamStats", testTeamStats},
}

// overviewFixture syncs two organizations whose accounts cover every
// count of the overview; the comments give each account's counts with a
// cut-off of t0-30 days.
func overviewFixture(t *testing.T, s store.Store) (cutoff time.Time, c1, c2 roster.Connection) {
	t.Helper()
	cutoff = t0.Add(-30 * 24 * time.Hour)
	acc := func(n int, license, role string, exact, active bool, activity time.Time) roster.Account {
		a := account(n, license)
		a.OrgRole, a.LicenseExact, a.Active, a.LastActivityAt = role, exact, active, activity
		return a
	}
	const internal = "organization_internal_user"
	day := 24 * time.Hour
	accounts := []roster.Account{
		acc(1, "full", internal, true, true, t0.Add(-day)),                             // full active
		acc(2, "full", internal, true, true, t0.Add(-40*day)),                          // full inactive
		acc(3, "full", internal, true, true, time.Time{}),                              // full inactive, never active
		acc(4, "full", internal, true, false, t0.Add(-day)),                            // deactivated
		acc(5, "free", "organization_team_guest_user", true, true, time.Time{}),        // guest, never active
		acc(6, "free", "organization_external_user", true, true, t0.Add(-2*day)),       // external
		acc(7, "full", internal, true, true, t0.Add(-day)),                             // left: counts nowhere
		acc(8, "unknown", internal, false, true, t0.Add(-day)),                         // inferred
		acc(9, "full", internal, false, true, cutoff),                                  // full active (at the cut-off), inferred
		acc(10, "free", "organization_team_guest_user", true, false, t0.Add(-100*day)), // guest, deactivated
	}
	accounts[6].LeftAt, accounts[6].LastSeenAt = t0.Add(-day), t0.Add(-day)

	c1 = create(t, s, orgConnection("o1"))
	d1 := store.Diff{
		Organization: &roster.Organization{MiroOrgID: "o1", Name: "One", FullLicensesPurchased: 10},
		Teams:        []roster.Team{{MiroTeamID: "t1", OrgID: "o1", Name: "Design"}, {MiroTeamID: "t2", OrgID: "o1", Name: "Eng"}},
		Accounts:     accounts[:7],
		Memberships: []roster.Membership{
			{MiroUserID: "u001", MiroTeamID: "t1", Role: "admin"},
			{MiroUserID: "u002", MiroTeamID: "t1", Role: "member"},
			{MiroUserID: "u003", MiroTeamID: "t2", Role: "member"},
		},
	}
	for _, a := range accounts[:7] {
		if a.LeftAt.IsZero() {
			d1.Seen = append(d1.Seen, a.MiroUserID)
		}
	}
	apply(t, s, c1.ID, t0, d1)

	c2 = create(t, s, orgConnection("o2"))
	d2 := store.Diff{
		Organization: &roster.Organization{MiroOrgID: "o2", Name: "Two", FullLicensesPurchased: 5},
		Teams:        []roster.Team{{MiroTeamID: "t3", OrgID: "o2", Name: "Ops"}},
		Accounts:     accounts[7:],
		Seen:         []string{"u008", "u009", "u010"},
		Memberships:  []roster.Membership{{MiroUserID: "u009", MiroTeamID: "t3", Role: "admin"}},
	}
	apply(t, s, c2.ID, t0, d2)
	return cutoff, c1, c2
}

func testOverview(t *testing.T, s store.Store) {
	cutoff, _, _ := overviewFixture(t, s)
	got, err := s.Overview(ctx(), store.OverviewQuery{InactiveBefore: cutoff})
	require.NoError(t, err)
	got.Orgs = nil // per organization: testOverviewPerOrg
	require.Equal(t, roster.Overview{
		Accounts:     9, // all but u007, who left
		Deactivated:  2, // u004, u010
		SeatsBought:  15,
		FullAssigned: 4, // u001, u002, u003, u009
		FullActive:   1, // u001
		FullInactive: 2, // u002, u003 (assigned 41 days ago, never active)
		// u009's activity came from a team-level sync: usage unknown.
		FullUsageUnknown: 1, // u009
		UsageUnknown:     2, // u008, u009
		NeverActive:      2, // u003, u005
		Guests:           2, // u005, u010
		External:         1, // u006
		ByLicense:        map[string]int{"full": 4, "free": 2, "unknown": 1},
		Inferred:         2, // u008, u009
	}, got)

	// A later cut-off makes u001 inactive too, and never u009.
	got, err = s.Overview(ctx(), store.OverviewQuery{InactiveBefore: t0})
	require.NoError(t, err)
	require.Equal(t, 0, got.FullActive)
	require.Equal(t, 3, got.FullInactive)
	require.Equal(t, 1, got.FullUsageUnknown)
}

// testInactivityRule: inactivity runs from the later of the last activity
// and the license's assignment (first sight where Miro gives neither), and
// usage unknown (team-level only) is never inactive, in every query that
// decides it.
func testInactivityRule(t *testing.T, s store.Store) {
	day := 24 * time.Hour
	cutoff := roster.InactiveBefore(t0, 60)
	full := func(n int, activity, assigned, firstSeen time.Time) roster.Account {
		a := account(n, roster.LicenseFull)
		a.LastActivityAt, a.LicenseAssignedAt, a.FirstSeenAt = activity, assigned, firstSeen
		return a
	}
	org := []roster.Account{
		full(1, time.Time{}, t0.Add(-time.Minute), t0),               // new hire: assigned a minute ago, never logged in
		full(2, time.Time{}, t0.Add(-90*day), t0.Add(-90*day)),       // assigned 90 days ago, never logged in: inactive
		full(3, t0.Add(-90*day), t0.Add(-5*day), t0.Add(-400*day)),   // quiet 90 days, reassigned 5 days ago
		full(4, t0.Add(-90*day), t0.Add(-400*day), t0.Add(-400*day)), // quiet 90 days: inactive
		full(5, time.Time{}, time.Time{}, t0.Add(-90*day)),           // Miro gives neither; first seen 90 days ago: inactive
		full(6, t0.Add(-day), t0.Add(-400*day), t0.Add(-400*day)),    // active yesterday
	}
	c := create(t, s, orgConnection("o1"))
	d := store.Diff{
		Organization: &roster.Organization{MiroOrgID: "o1", Name: "One", FullLicensesPurchased: 10},
		Teams:        []roster.Team{{MiroTeamID: "t1", OrgID: "o1", Name: "All"}},
		Accounts:     org,
	}
	for _, a := range org {
		d.Seen = append(d.Seen, a.MiroUserID)
		d.Memberships = append(d.Memberships, roster.Membership{MiroUserID: a.MiroUserID, MiroTeamID: "t1", Role: "member"})
	}
	apply(t, s, c.ID, t0, d)

	// A team-level connection to another organization: license inferred,
	// no activity, seen long ago. Usage unknown.
	team := full(7, time.Time{}, time.Time{}, t0.Add(-400*day))
	team.LicenseExact, team.OrgRole = false, ""
	tc := create(t, s, teamConnection("o2", "t9"))
	apply(t, s, tc.ID, t0, store.Diff{
		Teams:       []roster.Team{{MiroTeamID: "t9", OrgID: "o2", Name: "Small"}},
		Accounts:    []roster.Account{team},
		Seen:        []string{team.MiroUserID},
		Memberships: []roster.Membership{{MiroUserID: team.MiroUserID, MiroTeamID: "t9", Role: "member"}},
	})

	inactive, active := []string{"u002", "u004", "u005"}, []string{"u001", "u003", "u006"}
	// The Go rule agrees with the store on what it stored.
	stored, err := s.Accounts(ctx(), store.AccountFilter{})
	require.NoError(t, err)
	var goInactive []string
	for _, a := range stored {
		if a.Inactive(cutoff) {
			goInactive = append(goInactive, a.MiroUserID)
		}
	}
	require.ElementsMatch(t, inactive, goInactive)

	o, err := s.Overview(ctx(), store.OverviewQuery{InactiveBefore: cutoff})
	require.NoError(t, err)
	require.Equal(t, 7, o.FullAssigned)
	require.Equal(t, 3, o.FullInactive)
	require.Equal(t, 3, o.FullActive)
	require.Equal(t, 1, o.FullUsageUnknown)
	require.Equal(t, 1, o.UsageUnknown)

	ids := func(q store.AccountQuery) []string {
		t.Helper()
		var out []string
		for _, a := range listAll(t, s, q) {
			out = append(out, a.MiroUserID)
		}
		return out
	}
	require.Equal(t, inactive, ids(store.AccountQuery{License: "full", Activity: "inactive", ActiveSince: cutoff}))
	require.Equal(t, active, ids(store.AccountQuery{License: "full", Activity: "active", ActiveSince: cutoff}))

	filtered, err := s.Accounts(ctx(), store.AccountFilter{License: roster.LicenseFull, InactiveSince: cutoff})
	require.NoError(t, err)
	var got []string
	for _, a := range filtered {
		got = append(got, a.MiroUserID)
	}
	require.ElementsMatch(t, inactive, got)

	stats, err := s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: cutoff})
	require.NoError(t, err)
	byTeam := map[string]int{}
	for _, st := range stats.Teams {
		byTeam[st.Team.MiroTeamID] = st.Inactive
	}
	require.Equal(t, map[string]int{"t1": 3, "t9": 0}, byTeam)
}

func testOverviewEmpty(t *testing.T, s store.Store) {
	got, err := s.Overview(ctx(), store.OverviewQuery{InactiveBefore: t0})
	require.NoError(t, err)
	require.Equal(t, roster.Overview{ByLicense: map[string]int{}}, got)
	days, err := s.LicenseDays(ctx(), "", time.Time{})
	require.NoError(t, err)
	require.Empty(t, days)
	stats, err := s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: t0})
	require.NoError(t, err)
	require.Empty(t, stats.Teams)
	require.Zero(t, stats.Total)
	require.Empty(t, stats.NextCursor)
}

// testTrend: each successful sync writes its day's license points (the
// last sync of a day wins), counted by the trend's fixed 60-day window; a
// failed run writes none.
func testTrend(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	d := firstDiff("o1")
	apply(t, s, c.ID, t0, d) // 5 accounts, 4 full, all active within 60 days

	// A failed run adds no point.
	failed := roster.SyncRun{ConnectionID: c.ID}
	require.NoError(t, s.StartSyncRun(ctx(), &failed))
	failed.Error = "boom"
	require.NoError(t, s.FailSyncRun(ctx(), failed))

	// 59 days later u001 (1 day before t0) is still active, u002 (2 days) is not.
	apply(t, s, c.ID, t0.Add(59*24*time.Hour), store.Diff{})
	// u006 joins with a full license.
	apply(t, s, c.ID, t0.Add(60*24*time.Hour), store.Diff{
		Accounts: []roster.Account{account(6, roster.LicenseFull)}, Seen: []string{"u006"},
	})

	all, err := s.LicenseDays(ctx(), "", time.Time{})
	require.NoError(t, err)
	var full []roster.LicenseDay
	for _, p := range all {
		if p.License == roster.LicenseFull {
			full = append(full, p)
		}
	}
	day := t0.Truncate(24 * time.Hour)
	require.Equal(t, []roster.LicenseDay{
		{Day: day, License: "full", Assigned: 4, Active: 4},
		{Day: day.Add(59 * 24 * time.Hour), License: "full", Assigned: 4, Active: 1, Inactive: 3},
		{Day: day.Add(60 * 24 * time.Hour), License: "full", Assigned: 5, Active: 0, Inactive: 5},
	}, full)
	last2, err := s.LicenseDays(ctx(), "", t0.Add(59*24*time.Hour))
	require.NoError(t, err)
	require.Len(t, last2, len(all)-2, "from a day on: that day's and later points")
}

func testTeamStats(t *testing.T, s store.Store) {
	cutoff, c1, c2 := overviewFixture(t, s)
	// A team-level connection also covers t1; the lowest id is reported.
	tc := create(t, s, teamConnection("o1", "t1"))
	apply(t, s, tc.ID, t0, store.Diff{Teams: []roster.Team{{MiroTeamID: "t1", OrgID: "o1", Name: "Design"}}})
	// The left u007 was in t2: left members count nowhere.
	apply(t, s, c1.ID, t0.Add(time.Hour), store.Diff{Memberships: []roster.Membership{{MiroUserID: "u007", MiroTeamID: "t2", Role: "admin"}}})
	// An empty team no connection covers.
	apply(t, s, c2.ID, t0.Add(time.Hour), store.Diff{Teams: []roster.Team{{MiroTeamID: "t4", OrgID: "o2", Name: "Empty"}},
		RemovedTeams: []string{"t4"}})

	// By name, bytewise: "Empty" before "Eng".
	want := []roster.TeamStat{
		// u001 admin full active, u002 member full inactive
		{Team: roster.Team{MiroTeamID: "t1", OrgID: "o1", Name: "Design"}, Members: 2, Admins: 1, Licensed: 2, Inactive: 1, ConnectionID: c1.ID},
		{Team: roster.Team{MiroTeamID: "t4", OrgID: "o2", Name: "Empty"}},
		// u003 member full never active
		{Team: roster.Team{MiroTeamID: "t2", OrgID: "o1", Name: "Eng"}, Members: 1, Admins: 0, Licensed: 1, Inactive: 1, ConnectionID: c1.ID},
		// u009 admin full active at the cut-off
		{Team: roster.Team{MiroTeamID: "t3", OrgID: "o2", Name: "Ops"}, Members: 1, Admins: 1, Licensed: 1, Inactive: 0, ConnectionID: c2.ID},
	}
	got, err := s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: cutoff})
	require.NoError(t, err)
	require.Equal(t, store.TeamStatsPage{Teams: want, Total: 4}, got)

	// Paging at any size walks every team exactly once, in order, with
	// the same counts and the same total on every page.
	walk := func(q store.TeamStatsQuery) []roster.TeamStat {
		t.Helper()
		var all []roster.TeamStat
		for pages := 0; ; pages++ {
			require.Less(t, pages, 20, "paging does not end")
			page, err := s.TeamStats(ctx(), q)
			require.NoError(t, err)
			all = append(all, page.Teams...)
			if page.NextCursor == "" {
				return all
			}
			require.Len(t, page.Teams, q.Limit)
			q.Cursor = page.NextCursor
		}
	}
	for _, limit := range []int{1, 2, 3, 4, 500} {
		require.Equal(t, want, walk(store.TeamStatsQuery{InactiveBefore: cutoff, Limit: limit}), "limit %d", limit)
	}
	first, err := s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: cutoff, Limit: 3})
	require.NoError(t, err)
	require.Equal(t, 4, first.Total)
	last, err := s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: cutoff, Limit: 3, Cursor: first.NextCursor})
	require.NoError(t, err)
	require.Equal(t, store.TeamStatsPage{Teams: want[3:], Total: 4}, last)

	// Search is a case-insensitive substring of the name; the total
	// counts the matches, on every page.
	page, err := s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: cutoff, Search: " EN "})
	require.NoError(t, err)
	require.Equal(t, store.TeamStatsPage{Teams: want[2:3], Total: 1}, page)
	page, err = s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: cutoff, Search: "e", Limit: 2})
	require.NoError(t, err)
	require.Equal(t, want[:2], page.Teams)
	require.Equal(t, 3, page.Total)
	page, err = s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: cutoff, Search: "e", Limit: 2, Cursor: page.NextCursor})
	require.NoError(t, err)
	require.Equal(t, store.TeamStatsPage{Teams: want[2:3], Total: 3}, page)
	// LIKE's wildcards match themselves.
	page, err = s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: cutoff, Search: "%"})
	require.NoError(t, err)
	require.Empty(t, page.Teams)
	require.Zero(t, page.Total)

	// Malformed cursors and limits out of range are invalid.
	for _, cursor := range []string{"!!", "e30", "bm90IGpzb24", first.NextCursor + "x"} {
		_, err := s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: cutoff, Cursor: cursor})
		require.ErrorIs(t, err, store.ErrInvalid, "cursor %q", cursor)
	}
	for _, limit := range []int{-1, 501} {
		_, err := s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: cutoff, Limit: limit})
		require.ErrorIs(t, err, store.ErrInvalid, "limit %d", limit)
	}

	// Teams of the same name page by team id.
	apply(t, s, c2.ID, t0.Add(2*time.Hour), store.Diff{Teams: []roster.Team{
		{MiroTeamID: "t6", OrgID: "o2", Name: "Eng"}, {MiroTeamID: "t5", OrgID: "o2", Name: "Eng"}}})
	got, err = s.TeamStats(ctx(), store.TeamStatsQuery{InactiveBefore: cutoff})
	require.NoError(t, err)
	ids := []string{}
	for _, st := range got.Teams {
		ids = append(ids, st.Team.MiroTeamID)
	}
	require.Equal(t, []string{"t1", "t4", "t2", "t5", "t6", "t3"}, ids)
	require.Equal(t, got.Teams, walk(store.TeamStatsQuery{InactiveBefore: cutoff, Limit: 1}))
}
