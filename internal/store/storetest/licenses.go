package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
)

var licenseTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Licenses/OverviewPerOrg", testOverviewPerOrg},
	{"Licenses/Days", testLicenseDays},
	{"Licenses/ChargebackByTeam", testChargebackByTeam},
	{"Licenses/ChargebackByDepartment", testChargebackByDepartment},
	{"Licenses/ChargebackDepartmentFollowsPeople", testChargebackDepartmentFollowsPeople},
	{"Licenses/ChargebackDepartmentByAlias", testChargebackDepartmentByAlias},
	{"Licenses/ChargebackDepartmentFollowsAccountEmail", testChargebackDepartmentFollowsAccountEmail},
	{"Licenses/ChargebackErrInvalid", testChargebackInvalid},
	{"Licenses/UsersFilters", testLicenseUsersFilters},
	{"Licenses/InactiveGuests", testInactiveGuests},
}

// testInactiveGuests: of the inactive licenses, those guests and external
// users hold (leavers aside) are counted apart, since a deactivation
// cannot take them, and the members filter lists everyone else.
func testInactiveGuests(t *testing.T, s store.Store) {
	day := 24 * time.Hour
	cutoff := t0.Add(-60 * day)
	acc := func(n int, role string, activity time.Time) roster.Account {
		a := account(n, roster.LicenseFull)
		a.OrgID, a.OrgRole, a.LastActivityAt, a.LicenseAssignedAt = "o1", role, activity, t0.Add(-400*day)
		return a
	}
	org := []roster.Account{
		acc(1, roster.OrgRoleInternalUser, t0.Add(-90*day)),  // inactive member: the reclaim's
		acc(2, roster.OrgRoleTeamGuest, t0.Add(-90*day)),     // inactive guest
		acc(3, roster.OrgRoleExternalUser, t0.Add(-90*day)),  // inactive external user who left: a leaver
		acc(4, roster.OrgRoleExternalUser, t0.Add(-day)),     // active external user
		acc(5, roster.OrgRoleInternalAdmin, t0.Add(-90*day)), // inactive admin: a member
	}
	c := create(t, s, orgConnection("o1"))
	d := store.Diff{Organization: &roster.Organization{MiroOrgID: "o1", Name: "One", FullLicensesPurchased: 10}, Accounts: org}
	for _, a := range org {
		d.Seen = append(d.Seen, a.MiroUserID)
	}
	apply(t, s, c.ID, t0, d)
	p := roster.Person{Email: org[2].Email, Status: roster.PersonLeft}
	require.NoError(t, s.UpsertPerson(ctx(), &p))

	o, err := s.Overview(ctx(), store.OverviewQuery{InactiveBefore: cutoff})
	require.NoError(t, err)
	got, ok := o.Org("o1")
	require.True(t, ok)
	full := got.Licenses[roster.LicenseFull]
	require.Equal(t, 4, full.Inactive)
	require.Equal(t, 1, full.Leavers)
	require.Equal(t, 1, full.InactiveLeavers)
	require.Equal(t, 1, full.InactiveGuests, "the guest; the external user who left is a leaver")

	page, err := s.ListAccounts(ctx(), store.AccountQuery{Org: "o1", License: roster.LicenseFull, Activity: "inactive",
		ActiveSince: cutoff, Directory: "not_left", Status: "active", Members: true})
	require.NoError(t, err)
	var ids []string
	for _, a := range page.Accounts {
		ids = append(ids, a.MiroUserID)
	}
	require.ElementsMatch(t, []string{"u001", "u005"}, ids, "the reclaim's people: members, inactive, not leavers")
	require.Equal(t, full.Inactive-full.InactiveLeavers-full.InactiveGuests, page.Total)

	_, err = s.ListAccounts(ctx(), store.AccountQuery{Guests: true, Members: true})
	require.ErrorIs(t, err, store.ErrInvalid)
}

// licenseFixture is two organizations: "big" at organization level (20
// full seats bought per Miro) and "small" reached only by a team-level
// connection. In big:
//
//	u101 full, active yesterday, teams t1+t2        (active)
//	u102 full, last active 90 days ago, team t1     (inactive)
//	u103 full, assigned today, never active, no team (active: a new hire)
//	u104 full, active yesterday, left per the directory, team t2 (leaver)
//	u105 full, last active 90 days ago, left per the directory by alias (inactive leaver)
//	u106 occasional, active 10 days ago, team t2   (used this month)
//	u107 free, never active                        (never)
//	u108 full, deactivated                         (counts as deactivated only)
//	u109 free, external user, active yesterday
//
// In small (team level, usage unknown): u201 full, u202 free, both in t9.
func licenseFixture(t *testing.T, s store.Store) (cutoff, usedSince time.Time) {
	t.Helper()
	day := 24 * time.Hour
	cutoff, usedSince = t0.Add(-60*day), t0.Add(-30*day)
	acc := func(n int, license string, activity, assigned time.Time) roster.Account {
		a := account(n, license)
		a.OrgID, a.OrgRole, a.LicenseExact, a.Active = "big", roster.OrgRoleInternalUser, true, true
		a.LastActivityAt, a.LicenseAssignedAt = activity, assigned
		a.FirstSeenAt, a.LastSeenAt = t0.Add(-200*day), t0
		return a
	}
	long := t0.Add(-180 * day)
	big := []roster.Account{
		acc(101, "full", t0.Add(-day), long),
		acc(102, "full", t0.Add(-90*day), long),
		acc(103, "full", time.Time{}, t0),
		acc(104, "full", t0.Add(-day), long),
		acc(105, "full", t0.Add(-90*day), long),
		acc(106, "occasional", t0.Add(-10*day), long),
		acc(107, "free", time.Time{}, time.Time{}),
		acc(108, "full", t0.Add(-day), long),
		acc(109, "free", t0.Add(-day), time.Time{}),
	}
	big[7].Active = false
	big[8].OrgRole = roster.OrgRoleExternalUser
	bigConn := create(t, s, orgConnection("big"))
	d := store.Diff{
		Organization: &roster.Organization{MiroOrgID: "big", Name: "Big Co", FullLicensesPurchased: 20},
		Teams:        []roster.Team{{MiroTeamID: "t1", OrgID: "big", Name: "Design"}, {MiroTeamID: "t2", OrgID: "big", Name: "Eng"}},
		Accounts:     big,
		Memberships: []roster.Membership{
			{MiroUserID: "u101", MiroTeamID: "t1", Role: "member"}, {MiroUserID: "u101", MiroTeamID: "t2", Role: "member"},
			{MiroUserID: "u102", MiroTeamID: "t1", Role: "member"},
			{MiroUserID: "u104", MiroTeamID: "t2", Role: "member"},
			{MiroUserID: "u106", MiroTeamID: "t2", Role: "member"},
		},
	}
	for _, a := range big {
		d.Seen = append(d.Seen, a.MiroUserID)
	}
	apply(t, s, bigConn.ID, t0, d)

	small := []roster.Account{account(201, "full"), account(202, "free")}
	for i := range small {
		small[i].OrgID, small[i].LicenseExact, small[i].Active = "small", false, true
		small[i].FirstSeenAt, small[i].LastSeenAt = t0.Add(-200*day), t0
	}
	smallConn := create(t, s, teamConnection("small", "t9"))
	apply(t, s, smallConn.ID, t0, store.Diff{
		Teams:       []roster.Team{{MiroTeamID: "t9", OrgID: "small", Name: "Small team"}},
		Accounts:    small,
		Seen:        []string{"u201", "u202"},
		Memberships: []roster.Membership{{MiroUserID: "u201", MiroTeamID: "t9", Role: "admin"}, {MiroUserID: "u202", MiroTeamID: "t9", Role: "member"}},
	})

	// The directory: u104 left; u105 left, known by an alias; u101 works
	// here, in Design. u201 left too, but their usage is unknown.
	for _, p := range []roster.Person{
		{Email: "left104@example.com", Status: roster.PersonLeft, Aliases: []string{big[3].Email}},
		{Email: "other105@example.com", Status: roster.PersonLeft, Aliases: []string{big[4].Email}},
		{Email: big[0].Email, Status: roster.PersonActive, Department: "Design"},
		{Email: big[1].Email, Status: roster.PersonActive, Department: "Design"},
		{Email: big[5].Email, Status: roster.PersonActive, Department: "Engineering"},
		{Email: small[0].Email, Status: roster.PersonLeft},
	} {
		require.NoError(t, s.UpsertPerson(ctx(), &p))
	}
	return cutoff, usedSince
}

func testOverviewPerOrg(t *testing.T, s store.Store) {
	cutoff, usedSince := licenseFixture(t, s)
	got, err := s.Overview(ctx(), store.OverviewQuery{InactiveBefore: cutoff, UsedSince: usedSince})
	require.NoError(t, err)
	require.Len(t, got.Orgs, 2)
	big, ok := got.Org("big")
	require.True(t, ok)
	require.Equal(t, roster.OrgOverview{
		OrgID: "big", Name: "Big Co", Exact: true, SeatsFromMiro: 20,
		Accounts: 9, Deactivated: 1, UsageUnknown: 0,
		NeverActive: 2, // u103 (the new hire, not inactive) and u107
		External:    1,
		Licenses: map[string]roster.LicenseCount{
			// u101, u103, u104 active; u102, u105 inactive; u101, u104 used
			// Miro this month; u103's license, assigned today, is in use by
			// the activity rule, so not idle either.
			"full": {Assigned: 5, Active: 3, Inactive: 2, UsedThisMonth: 2, NotUsedThisMonth: 0,
				Leavers: 2, InactiveLeavers: 1},
			"occasional": {Assigned: 1, Active: 1, UsedThisMonth: 1},
			"free":       {Assigned: 2, Active: 1, Inactive: 1, UsedThisMonth: 1},
		},
	}, big)
	small, ok := got.Org("small")
	require.True(t, ok)
	require.Equal(t, roster.OrgOverview{
		OrgID: "small", Name: "Org small", Accounts: 2, UsageUnknown: 2, Inferred: 2,
		Licenses: map[string]roster.LicenseCount{
			// u201 left per the directory: a leaver, whose usage is unknown.
			"full": {Assigned: 1, UsageUnknown: 1, Leavers: 1},
			"free": {Assigned: 1, UsageUnknown: 1},
		},
	}, small)
	// Totals add the organizations; the never active are usage-known only.
	require.Equal(t, 11, got.Accounts)
	require.Equal(t, 20, got.SeatsBought)
	require.Equal(t, 6, got.FullAssigned)
	require.Equal(t, 2, got.FullInactive)
	require.Equal(t, 1, got.FullUsageUnknown)
	require.Equal(t, 2, got.NeverActive)
	require.Equal(t, 2, got.UsageUnknown)
}

func testLicenseDays(t *testing.T, s store.Store) {
	licenseFixture(t, s)
	days, err := s.LicenseDays(ctx(), "big", t0.Add(-24*time.Hour))
	require.NoError(t, err)
	day0 := t0.Truncate(24 * time.Hour)
	// The trend's own 60-day window: u102 and u105 inactive.
	require.Equal(t, []roster.LicenseDay{
		{Day: day0, OrgID: "big", License: "free", Assigned: 2, Active: 1, Inactive: 1},
		{Day: day0, OrgID: "big", License: "full", Purchased: 20, Assigned: 5, Active: 3, Inactive: 2},
		{Day: day0, OrgID: "big", License: "occasional", Assigned: 1, Active: 1},
	}, days)
	small, err := s.LicenseDays(ctx(), "small", time.Time{})
	require.NoError(t, err)
	require.Equal(t, []roster.LicenseDay{
		{Day: day0, OrgID: "small", License: "free", Assigned: 1, UsageUnknown: 1},
		{Day: day0, OrgID: "small", License: "full", Assigned: 1, UsageUnknown: 1},
	}, small)

	// A later sync the same day replaces the day's points; the next day
	// adds its own.
	conns, err := s.Connections(ctx())
	require.NoError(t, err)
	bigConn := conns[0]
	require.Equal(t, "big", bigConn.OrgID)
	byID, err := s.AccountsByMiroIDs(ctx(), []string{"u102"})
	require.NoError(t, err)
	a := byID["u102"]
	a.Active = false
	apply(t, s, bigConn.ID, t0.Add(time.Minute), store.Diff{Accounts: []roster.Account{a}})
	apply(t, s, bigConn.ID, t0.Add(24*time.Hour), store.Diff{})
	all, err := s.LicenseDays(ctx(), "big", time.Time{})
	require.NoError(t, err)
	var full []roster.LicenseDay
	for _, d := range all {
		if d.License == "full" {
			full = append(full, d)
		}
	}
	require.Equal(t, []roster.LicenseDay{
		{Day: day0, OrgID: "big", License: "full", Purchased: 20, Assigned: 4, Active: 3, Inactive: 1},
		{Day: day0.Add(24 * time.Hour), OrgID: "big", License: "full", Purchased: 20, Assigned: 4, Active: 3, Inactive: 1},
	}, full)
}

func testChargebackByTeam(t *testing.T, s store.Store) {
	licenseFixture(t, s)
	rows, err := s.Chargeback(ctx(), store.ChargebackQuery{OrgID: "big", By: store.ChargebackByTeam})
	require.NoError(t, err)
	// u101 is in Design and Eng: half each. The rest of big's not
	// deactivated people (u103, u105, u107, u109) are in no team.
	require.Equal(t, []store.ChargebackRow{
		{Key: "t1", Name: "Design", People: 2, Shares: map[string]float64{"full": 1.5}},
		{Key: "t2", Name: "Eng", People: 3, Shares: map[string]float64{"full": 1.5, "occasional": 1}},
		{Key: "", Name: "", People: 4, Shares: map[string]float64{"full": 2, "free": 2}},
	}, rows)
	var full float64
	for _, r := range rows {
		full += r.Shares["full"]
	}
	require.InDelta(t, 5, full, 1e-9, "the teams add up to the organization's 5 full licenses")
}

func testChargebackByDepartment(t *testing.T, s store.Store) {
	licenseFixture(t, s)
	rows, err := s.Chargeback(ctx(), store.ChargebackQuery{OrgID: "big", By: store.ChargebackByDepartment})
	require.NoError(t, err)
	require.Equal(t, []store.ChargebackRow{
		{Key: "Design", Name: "Design", People: 2, Shares: map[string]float64{"full": 2}},
		{Key: "Engineering", Name: "Engineering", People: 1, Shares: map[string]float64{"occasional": 1}},
		// Leavers known by alias only, the new hire, u107 and u109.
		{Key: "", Name: "", People: 5, Shares: map[string]float64{"full": 3, "free": 2}},
	}, rows)
}

// byDepartment is big's chargeback by department.
func byDepartment(t *testing.T, s store.Store) []store.ChargebackRow {
	t.Helper()
	rows, err := s.Chargeback(ctx(), store.ChargebackQuery{OrgID: "big", By: store.ChargebackByDepartment})
	require.NoError(t, err)
	return rows
}

// testChargebackDepartmentFollowsPeople: a person's department change,
// by id (UpdatePerson) or by email (UpsertPerson), moves their account;
// deleting the person moves it to the directory's unknowns.
func testChargebackDepartmentFollowsPeople(t *testing.T, s store.Store) {
	licenseFixture(t, s)
	p101, err := s.PersonByEmail(ctx(), "user101@example.com")
	require.NoError(t, err)
	p101.Department = "Engineering"
	require.NoError(t, s.UpdatePerson(ctx(), &p101))
	p102 := roster.Person{Email: "user102@example.com", Status: roster.PersonActive, Department: "Research"}
	require.NoError(t, s.UpsertPerson(ctx(), &p102))
	require.Equal(t, []store.ChargebackRow{
		{Key: "Engineering", Name: "Engineering", People: 2, Shares: map[string]float64{"full": 1, "occasional": 1}},
		{Key: "Research", Name: "Research", People: 1, Shares: map[string]float64{"full": 1}},
		{Key: "", Name: "", People: 5, Shares: map[string]float64{"full": 3, "free": 2}},
	}, byDepartment(t, s))

	p106, err := s.PersonByEmail(ctx(), "user106@example.com")
	require.NoError(t, err)
	require.NoError(t, s.DeletePerson(ctx(), p106.ID))
	require.Equal(t, []store.ChargebackRow{
		{Key: "Engineering", Name: "Engineering", People: 1, Shares: map[string]float64{"full": 1}},
		{Key: "Research", Name: "Research", People: 1, Shares: map[string]float64{"full": 1}},
		{Key: "", Name: "", People: 6, Shares: map[string]float64{"full": 3, "occasional": 1, "free": 2}},
	}, byDepartment(t, s))
}

// testChargebackDepartmentByAlias: an account whose email is a person's
// alias is in that person's department, whichever write made the alias
// or the department, and an account synced after the alias too.
func testChargebackDepartmentByAlias(t *testing.T, s store.Store) {
	licenseFixture(t, s)
	// u104's account is left104@'s alias; that person gets a department.
	p104, err := s.PersonByEmail(ctx(), "left104@example.com")
	require.NoError(t, err)
	p104.Department = "Sales"
	require.NoError(t, s.UpsertPerson(ctx(), &p104))
	// A new person whose aliases are u109's email and one no account has yet.
	cy := roster.Person{Email: "cy@corp.example", Status: roster.PersonActive, Department: "Support",
		Aliases: []string{"user109@example.com", "user110@example.com"}}
	require.NoError(t, s.UpsertPerson(ctx(), &cy))
	// u107's email becomes an alias of the Sales person too.
	require.NoError(t, s.SetAliases(ctx(), p104.ID, []string{"user104@example.com", "user107@example.com"}))
	require.Equal(t, []store.ChargebackRow{
		{Key: "Design", Name: "Design", People: 2, Shares: map[string]float64{"full": 2}},
		{Key: "Engineering", Name: "Engineering", People: 1, Shares: map[string]float64{"occasional": 1}},
		{Key: "Sales", Name: "Sales", People: 2, Shares: map[string]float64{"full": 1, "free": 1}},
		{Key: "Support", Name: "Support", People: 1, Shares: map[string]float64{"free": 1}},
		{Key: "", Name: "", People: 2, Shares: map[string]float64{"full": 2}},
	}, byDepartment(t, s))

	// Removing an alias takes its account out; a new account whose email
	// is an alias joins as it is synced.
	require.NoError(t, s.SetAliases(ctx(), p104.ID, []string{"user107@example.com"}))
	u110 := account(110, "full")
	u110.OrgID, u110.Active = "big", true
	apply(t, s, bigConnection(t, s).ID, t0.Add(time.Hour), store.Diff{Accounts: []roster.Account{u110}, Seen: []string{"u110"}})
	require.Equal(t, []store.ChargebackRow{
		{Key: "Design", Name: "Design", People: 2, Shares: map[string]float64{"full": 2}},
		{Key: "Engineering", Name: "Engineering", People: 1, Shares: map[string]float64{"occasional": 1}},
		{Key: "Sales", Name: "Sales", People: 1, Shares: map[string]float64{"free": 1}},
		{Key: "Support", Name: "Support", People: 2, Shares: map[string]float64{"full": 1, "free": 1}},
		{Key: "", Name: "", People: 3, Shares: map[string]float64{"full": 3}},
	}, byDepartment(t, s))
}

// testChargebackDepartmentFollowsAccountEmail: an account whose email a
// sync changes takes the department of its new email's person, by email
// or alias, or none.
func testChargebackDepartmentFollowsAccountEmail(t *testing.T, s store.Store) {
	licenseFixture(t, s)
	for _, p := range []roster.Person{
		{Email: "hire@example.com", Status: roster.PersonActive, Department: "Support"},
		{Email: "dee@corp.example", Status: roster.PersonActive, Department: "Sales", Aliases: []string{"dee.old@example.com"}},
	} {
		require.NoError(t, s.UpsertPerson(ctx(), &p))
	}
	c := bigConnection(t, s)
	snap, err := s.Snapshot(ctx(), c.ID)
	require.NoError(t, err)
	u103, u106, u107 := snap.Accounts["u103"], snap.Accounts["u106"], snap.Accounts["u107"]
	u103.Email = "hire@example.com"
	u106.Email = "nobody@example.net" // was Engineering's
	u107.Email = "dee.old@example.com"
	apply(t, s, c.ID, t0.Add(time.Hour), store.Diff{Accounts: []roster.Account{u103, u106, u107}})
	require.Equal(t, []store.ChargebackRow{
		{Key: "Design", Name: "Design", People: 2, Shares: map[string]float64{"full": 2}},
		{Key: "Sales", Name: "Sales", People: 1, Shares: map[string]float64{"free": 1}},
		{Key: "Support", Name: "Support", People: 1, Shares: map[string]float64{"full": 1}},
		{Key: "", Name: "", People: 4, Shares: map[string]float64{"full": 2, "occasional": 1, "free": 1}},
	}, byDepartment(t, s))
}

// bigConnection is licenseFixture's connection to "big".
func bigConnection(t *testing.T, s store.Store) roster.Connection {
	t.Helper()
	conns, err := s.Connections(ctx())
	require.NoError(t, err)
	for _, c := range conns {
		if c.OrgID == "big" {
			return c
		}
	}
	t.Fatal("no connection to big")
	return roster.Connection{}
}

func testChargebackInvalid(t *testing.T, s store.Store) {
	_, err := s.Chargeback(ctx(), store.ChargebackQuery{OrgID: "big", By: "manager"})
	require.ErrorIs(t, err, store.ErrInvalid)
}

// testLicenseUsersFilters: the users list's filters behind the Licenses
// page's links list exactly the people its numbers count.
func testLicenseUsersFilters(t *testing.T, s store.Store) {
	cutoff, _ := licenseFixture(t, s)
	ids := func(q store.AccountQuery) []string {
		t.Helper()
		q.Limit = 100
		page, err := s.ListAccounts(ctx(), q)
		require.NoError(t, err)
		var out []string
		for _, a := range page.Accounts {
			out = append(out, a.MiroUserID)
		}
		require.Equal(t, len(out), page.Total)
		return out
	}
	// Leavers: by email (u104's alias) or alias, usage unknown too (u201).
	require.ElementsMatch(t, []string{"u104", "u105", "u201"}, ids(store.AccountQuery{Directory: "left", Status: "active"}))
	require.ElementsMatch(t, []string{"u104", "u105"}, ids(store.AccountQuery{Directory: "left", Org: "big"}))
	// Reclaim: inactive Full licenses of people who did not leave.
	require.Equal(t, []string{"u102"}, ids(store.AccountQuery{Org: "big", License: "full", Activity: "inactive",
		ActiveSince: cutoff, Directory: "not_left", Status: "active"}))
	// Idle: active by the rule, not in use since UsedSince; u103's license
	// was assigned at t0, so it is in use.
	require.ElementsMatch(t, []string{"u101", "u104", "u106", "u108", "u109"}, ids(store.AccountQuery{Org: "big",
		Activity: "idle", ActiveSince: cutoff, UsedSince: t0}))
	_, err := s.ListAccounts(ctx(), store.AccountQuery{Activity: "idle", ActiveSince: cutoff})
	require.ErrorIs(t, err, store.ErrInvalid)
	require.Error(t, store.AccountQuery{Directory: "gone"}.Check())
}
