package storetest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
)

// listAccountsTests cover the users list's paging, filters and checks.
var listAccountsTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"ListAccounts/PagingEverySort", testListAccountsPaging},
	{"ListAccounts/Filters", testListAccountsFilters},
	{"ListAccounts/SearchIsLiteral", testListAccountsSearch},
	{"ListAccounts/ErrInvalid", testListAccountsInvalid},
}

// listFixture stores 40 accounts not left (and one left) whose sort keys
// repeat, so that ties are broken by id: 5 names in two cases, 3 licenses,
// 6 activity times and never. Those with the unknown license (i%3 == 2, 13
// of the 40) have unknown usage, as a team-level connection sees them. Of
// the 40, 10 have no activity (every 4th), 7 of them with usage known (all
// but 8, 20, 32), and 8 are deactivated (i%5 == 1), 2 of them never active
// (16, 36) and 2 with usage unknown (11, 26).
func listFixture(t *testing.T, s store.Store) (connID int64, want []roster.Account) {
	t.Helper()
	c := create(t, s, orgConnection("o1"))
	names := []string{"alice", "Bob", "bob", "Émile", "zed"}
	d := store.Diff{Teams: []roster.Team{{MiroTeamID: "t1", OrgID: "o1", Name: "T"}}}
	for i := range 41 {
		a := account(i, []string{roster.LicenseFull, roster.LicenseFree, roster.LicenseUnknown}[i%3])
		a.LicenseExact = i%3 != 2
		a.Email = fmt.Sprintf("%c%02d@example.com", 'a'+(i*7)%26, i)
		if i%10 == 3 {
			a.Email = "same@example.com" // identical emails page by id
		}
		a.Name = names[i%len(names)]
		a.LastActivityAt = t0.Add(-time.Duration(i%6) * 24 * time.Hour)
		if i%4 == 0 {
			a.LastActivityAt = time.Time{}
		}
		a.Active = i%5 != 1
		if i == 40 {
			a.LeftAt = t0
		}
		d.Accounts = append(d.Accounts, a)
		d.Seen = append(d.Seen, a.MiroUserID)
		if i%2 == 0 {
			d.Memberships = append(d.Memberships, roster.Membership{MiroUserID: a.MiroUserID, MiroTeamID: "t1", Role: "member"})
		}
	}
	apply(t, s, c.ID, t0, d)
	want, err := s.Accounts(ctx(), store.AccountFilter{})
	require.NoError(t, err)
	require.Len(t, want, 40)
	return c.ID, want
}

// listAll follows the cursors of q to the end.
func listAll(t *testing.T, s store.Store, q store.AccountQuery) []roster.Account {
	t.Helper()
	var out []roster.Account
	for pages := 0; ; pages++ {
		require.Less(t, pages, 1000, "paging does not end")
		page, err := s.ListAccounts(ctx(), q)
		require.NoError(t, err)
		out = append(out, page.Accounts...)
		if page.NextCursor == "" {
			require.Equal(t, page.Total, len(out), "the total is what the pages hold")
			return out
		}
		require.Len(t, page.Accounts, max(q.Limit, 1))
		q.Cursor = page.NextCursor
	}
}

func compareAccounts(sort string) func(a, b roster.Account) int {
	str := func(a, b string) int { return strings.Compare(a, b) } // bytewise, as the store sorts
	return func(a, b roster.Account) int {
		var c int
		switch sort {
		case "email":
			c = str(a.Email, b.Email)
		case "name":
			c = str(a.Name, b.Name)
		case "license":
			if c = str(a.License, b.License); c == 0 {
				c = str(a.Email, b.Email)
			}
		case "last_activity":
			c = a.LastActivityAt.Compare(b.LastActivityAt) // zero (never) is the oldest
		}
		if c == 0 {
			c = int(a.ID - b.ID)
		}
		return c
	}
}

func testListAccountsPaging(t *testing.T, s store.Store) {
	_, all := listFixture(t, s)
	for _, sort := range []string{"email", "name", "license", "last_activity"} {
		for _, desc := range []bool{false, true} {
			for _, limit := range []int{1, 7, 40, 1000} {
				want := slices.Clone(all)
				slices.SortFunc(want, compareAccounts(sort))
				if desc {
					slices.Reverse(want)
				}
				got := listAll(t, s, store.AccountQuery{Sort: sort, Desc: desc, Limit: limit})
				require.Equal(t, want, got, "sort %s desc %v limit %d", sort, desc, limit)
			}
		}
	}
	// Activity "never" and "unknown" and Status page like any filter:
	// every matching row once, in order, with the hand-counted total.
	// Never active is among those whose usage is known: no activity from a
	// team-level connection says nothing.
	for _, tc := range []struct {
		q    store.AccountQuery
		keep func(roster.Account) bool
		n    int
	}{
		{store.AccountQuery{Activity: "never"}, func(a roster.Account) bool { return a.UsageKnown() && a.LastActivityAt.IsZero() }, 7},
		{store.AccountQuery{Activity: "unknown"}, func(a roster.Account) bool { return !a.UsageKnown() }, 13},
		{store.AccountQuery{Status: "active"}, func(a roster.Account) bool { return a.Active }, 32},
		{store.AccountQuery{Status: "deactivated"}, func(a roster.Account) bool { return !a.Active }, 8},
		{store.AccountQuery{Activity: "never", Status: "active"}, func(a roster.Account) bool {
			return a.Active && a.UsageKnown() && a.LastActivityAt.IsZero()
		}, 5},
		{store.AccountQuery{Activity: "never", Status: "deactivated"}, func(a roster.Account) bool {
			return !a.Active && a.UsageKnown() && a.LastActivityAt.IsZero()
		}, 2},
		{store.AccountQuery{Activity: "unknown", Status: "active"}, func(a roster.Account) bool { return a.Active && !a.UsageKnown() }, 11},
		{store.AccountQuery{License: roster.LicenseFull, Status: "active"}, func(a roster.Account) bool { return a.Active && a.License == roster.LicenseFull }, 11},
	} {
		for _, sort := range []string{"email", "last_activity"} {
			for _, desc := range []bool{false, true} {
				for _, limit := range []int{1, 3, 1000} {
					want := slices.DeleteFunc(slices.Clone(all), func(a roster.Account) bool { return !tc.keep(a) })
					require.Len(t, want, tc.n, "the fixture's hand count for %+v", tc.q)
					slices.SortFunc(want, compareAccounts(sort))
					if desc {
						slices.Reverse(want)
					}
					q := tc.q
					q.Sort, q.Desc, q.Limit = sort, desc, limit
					require.Equal(t, want, listAll(t, s, q), "%+v", q)
				}
			}
		}
	}

	// The default is by email, 50 a page.
	page, err := s.ListAccounts(ctx(), store.AccountQuery{})
	require.NoError(t, err)
	require.Equal(t, 40, page.Total)
	require.Empty(t, page.NextCursor)
	slices.SortFunc(all, compareAccounts("email"))
	require.Equal(t, all, page.Accounts)
}

func testListAccountsFilters(t *testing.T, s store.Store) {
	cutoff, c1, _ := overviewFixture(t, s)
	ids := func(q store.AccountQuery) []string {
		t.Helper()
		q.Limit = 3 // several pages: filters hold across cursors
		var out []string
		for _, a := range listAll(t, s, q) {
			out = append(out, a.MiroUserID)
		}
		return out
	}
	all := []string{"u001", "u002", "u003", "u004", "u005", "u006", "u008", "u009", "u010"}
	require.Equal(t, all, ids(store.AccountQuery{}))
	require.Equal(t, []string{"u001", "u002", "u003", "u004", "u005", "u006", "u007", "u008", "u009", "u010"},
		ids(store.AccountQuery{IncludeLeft: true}))
	require.Equal(t, []string{"u001", "u002", "u003", "u004", "u009"}, ids(store.AccountQuery{License: "full"}))
	require.Equal(t, []string{"u006"}, ids(store.AccountQuery{OrgRole: "organization_external_user"}))
	require.Equal(t, []string{"u001", "u002"}, ids(store.AccountQuery{MiroTeamID: "t1"}))
	require.Equal(t, []string{"u001", "u002", "u003", "u004", "u005", "u006"}, ids(store.AccountQuery{ConnectionID: c1.ID}))
	// u008 and u009 are team-level only: usage unknown, neither active nor inactive.
	require.Equal(t, []string{"u001", "u004", "u006"}, ids(store.AccountQuery{Activity: "active", ActiveSince: cutoff}))
	require.Equal(t, []string{"u002", "u003", "u005", "u010"}, ids(store.AccountQuery{Activity: "inactive", ActiveSince: cutoff}))
	require.Equal(t, []string{"u005", "u006", "u010"}, ids(store.AccountQuery{Guests: true}))
	require.Equal(t, []string{"u004", "u010"}, ids(store.AccountQuery{Status: "deactivated"}))
	require.Equal(t, []string{"u001", "u002", "u003", "u005", "u006", "u008", "u009"}, ids(store.AccountQuery{Status: "active"}))
	// u003 and u005 never logged in; u008 and u009 are usage unknown
	// (u009's activity came from a team-level sync), never "never".
	require.Equal(t, []string{"u003", "u005"}, ids(store.AccountQuery{Activity: "never"}))
	require.Equal(t, []string{"u008", "u009"}, ids(store.AccountQuery{Activity: "unknown"}))
	// "never" needs no cut-off, and one given changes nothing.
	require.Equal(t, []string{"u003", "u005"}, ids(store.AccountQuery{Activity: "never", ActiveSince: cutoff}))
	require.Equal(t, []string{"u003"}, ids(store.AccountQuery{Activity: "never", License: "full"}))
	require.Empty(t, ids(store.AccountQuery{Activity: "never", Status: "deactivated"}))
	// Every overview number is one query: its total is the number.
	o, err := s.Overview(ctx(), store.OverviewQuery{InactiveBefore: cutoff})
	require.NoError(t, err)
	total := func(q store.AccountQuery) int {
		t.Helper()
		page, err := s.ListAccounts(ctx(), q)
		require.NoError(t, err)
		return page.Total
	}
	require.Equal(t, o.NeverActive, total(store.AccountQuery{Activity: "never", Status: "active"}))
	require.Equal(t, o.UsageUnknown, total(store.AccountQuery{Activity: "unknown", Status: "active"}))
	require.Equal(t, o.Deactivated, total(store.AccountQuery{Status: "deactivated"}))
	require.Equal(t, o.Accounts-o.Deactivated, total(store.AccountQuery{Status: "active"}))
	for license, n := range o.ByLicense {
		require.Equal(t, n, total(store.AccountQuery{License: license, Status: "active"}), license)
	}
	require.Equal(t, o.FullAssigned, total(store.AccountQuery{License: roster.LicenseFull, Status: "active"}))
	// Filters combine: the overview's "full inactive" link.
	require.Equal(t, []string{"u002", "u003"}, ids(store.AccountQuery{License: "full", Activity: "inactive", ActiveSince: cutoff}))
	require.Equal(t, []string{"u003"}, ids(store.AccountQuery{License: "full", Activity: "inactive", ActiveSince: cutoff, MiroTeamID: "t2"}))
	require.Empty(t, ids(store.AccountQuery{License: "full", Status: "deactivated", Guests: true}))
	require.Equal(t, []string{"u006", "u004", "u001"},
		ids(store.AccountQuery{Activity: "active", ActiveSince: cutoff, Sort: "email", Desc: true}))
	// One inactivity rule: the overview's counts are the filter's totals.
	require.Equal(t, o.FullInactive, total(store.AccountQuery{License: "full", Activity: "inactive", ActiveSince: cutoff, Status: "active"}))
	require.Equal(t, o.FullActive, total(store.AccountQuery{License: "full", Activity: "active", ActiveSince: cutoff, Status: "active"}))
}

func testListAccountsSearch(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	people := []struct{ email, name string }{
		{"pct@example.com", "100% Done"},
		{"under_score@example.com", "Under Score"},
		{"underxscore@example.com", "Under X Score"},
		{"quote@example.com", `O'Brien "Q" Quinn`},
		{"back@example.com", `Back\Slash`},
		{"olaf@example.com", "Ölaf Ärger"},
		{"plain@example.com", "Plain Person"},
	}
	var d store.Diff
	for i, p := range people {
		a := account(i+1, roster.LicenseFull)
		a.Email, a.Name = p.email, p.name
		d.Accounts = append(d.Accounts, a)
		d.Seen = append(d.Seen, a.MiroUserID)
	}
	apply(t, s, c.ID, t0, d)
	search := func(q string) []string {
		t.Helper()
		page, err := s.ListAccounts(ctx(), store.AccountQuery{Search: q})
		require.NoError(t, err, "search %q", q)
		require.Equal(t, len(page.Accounts), page.Total)
		var out []string
		for _, a := range page.Accounts {
			out = append(out, a.Email)
		}
		return out
	}
	require.Equal(t, []string{"pct@example.com"}, search("%"))
	require.Equal(t, []string{"pct@example.com"}, search("0% d"))
	require.Equal(t, []string{"under_score@example.com"}, search("_"))
	require.Equal(t, []string{"under_score@example.com"}, search("UNDER_"))
	require.Equal(t, []string{"quote@example.com"}, search("o'brien"))
	require.Equal(t, []string{"quote@example.com"}, search(`"q"`))
	require.Equal(t, []string{"back@example.com"}, search(`\`))
	require.Equal(t, []string{"back@example.com"}, search(`k\s`))
	require.Equal(t, []string{"olaf@example.com"}, search("ÖLAF ä"), "case folding beyond ASCII")
	require.Equal(t, []string{"plain@example.com"}, search("PLAIN@"), "email and name are searched")
	require.Len(t, search("example.com"), len(people))
	require.Len(t, search("   "), len(people), "blank is no search")
	require.Equal(t, []string{"pct@example.com"}, search("  PCT@  "), "outer spaces are trimmed")
	for _, attack := range []string{"'; DROP TABLE accounts; --", `" OR 1=1 --`, "%' OR '1'='1", "*", "[a-z]"} {
		require.Empty(t, search(attack), attack)
	}
	require.Len(t, search("example"), len(people), "the table is intact")
}

func testListAccountsInvalid(t *testing.T, s store.Store) {
	listFixture(t, s)
	page, err := s.ListAccounts(ctx(), store.AccountQuery{Limit: 5})
	require.NoError(t, err)
	require.NotEmpty(t, page.NextCursor)
	good := page.NextCursor

	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for name, q := range map[string]store.AccountQuery{
		"not base64":          {Cursor: "!!!"},
		"not JSON":            {Cursor: b64("hello")},
		"empty JSON":          {Cursor: b64("{}")},
		"unknown field":       {Cursor: b64(`{"s":"email","k":["a"],"i":1,"x":"'; DROP TABLE accounts"}`)},
		"no id":               {Cursor: b64(`{"s":"email","k":["a"]}`)},
		"too many keys":       {Cursor: b64(`{"s":"email","k":["a","b"],"i":1}`)},
		"sql in sort":         {Cursor: b64(`{"s":"email; DROP TABLE accounts","k":["a"],"i":1}`)},
		"another sort":        {Cursor: good, Sort: "name"},
		"another direction":   {Cursor: good, Desc: true},
		"truncated":           {Cursor: good[:len(good)-3]},
		"trailing data":       {Cursor: b64(`{"s":"email","k":["a"],"i":1} {}`)},
		"limit above 1000":    {Limit: 1001},
		"negative limit":      {Limit: -1},
		"unknown sort":        {Sort: "email DESC; --"},
		"unknown activity":    {Activity: "sometimes", ActiveSince: t0},
		"activity, no cutoff": {Activity: "active"},
		"inactive, no cutoff": {Activity: "inactive"},
		"unknown status":      {Status: "left"},
		"status as a flag":    {Status: "true"},
	} {
		_, err := s.ListAccounts(ctx(), q)
		require.ErrorIs(t, err, store.ErrInvalid, name)
		require.False(t, errors.Is(err, store.ErrNotFound), name)
	}
	page, err = s.ListAccounts(ctx(), store.AccountQuery{Limit: 1000})
	require.NoError(t, err)
	require.Len(t, page.Accounts, 40, "the table is intact")
}
