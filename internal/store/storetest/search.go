package storetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
)

// searchTests check the users list's search (an index on both backends),
// the names it shows (the directory's, else Miro's), and its
// organization and usage filters.
var searchTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"Search/EmailAndNames", testSearchEmailAndNames},
	{"Search/ShortAndLiteral", testSearchShort},
	{"Search/PagingAndTotal", testSearchPaging},
	{"ListAccounts/BroadEverySort", testListAccountsBroad},
	{"Search/FollowsAccountWrites", testSearchFollowsAccounts},
	{"Search/FollowsDirectoryWrites", testSearchFollowsDirectory},
	{"Names/FromTheDirectory", testDirectoryNames},
	{"ListAccounts/OrgFilter", testListAccountsOrg},
	{"ListAccounts/NeverAndUnknown", testListAccountsUsage},
	{"Search/CountStopsAtLimit", testSearchCountLimit},
}

// searchFixture syncs these accounts (Miro's email and name) and writes
// these people; it returns the accounts by Miro user id.
//
//	u001 ann.lee@example.com      ""            directory: Ann Lee
//	u002 jsmith@corp.example      ""            directory: John Smith
//	u003 old.name@corp.example    "Old Miro"    directory: Émile Zola (by alias; his email is emile@corp.example)
//	u004 miro.only@example.com    "Miro Only"   directory: "" (a person with no name)
//	u005 sokrates@example.org     ""            directory: ΣΩΚΡΆΤΗΣ Παππάς
//	u006 nobody@example.net       "Nina Nobody" not in the directory
func searchFixture(t *testing.T, s store.Store) (roster.Connection, map[string]roster.Account) {
	t.Helper()
	c := create(t, s, orgConnection("o1"))
	accounts := []struct{ email, name string }{
		{"ann.lee@example.com", ""},
		{"jsmith@corp.example", ""},
		{"old.name@corp.example", "Old Miro"},
		{"miro.only@example.com", "Miro Only"},
		{"sokrates@example.org", ""},
		{"nobody@example.net", "Nina Nobody"},
	}
	d := store.Diff{Organization: &roster.Organization{MiroOrgID: "o1", Name: "One"}}
	for i, x := range accounts {
		a := account(i+1, roster.LicenseFull)
		a.Email, a.Name, a.OrgID = x.email, x.name, "o1"
		d.Accounts = append(d.Accounts, a)
		d.Seen = append(d.Seen, a.MiroUserID)
	}
	apply(t, s, c.ID, t0, d)
	for _, p := range []roster.Person{
		{Email: "ann.lee@example.com", Name: "Ann Lee"},
		{Email: "JSmith@corp.example", Name: "John Smith"},
		{Email: "emile@corp.example", Name: "Émile Zola", Aliases: []string{"Old.Name@corp.example"}},
		{Email: "miro.only@example.com", Name: ""},
		{Email: "sokrates@example.org", Name: "ΣΩΚΡΆΤΗΣ Παππάς"},
		{Email: "someone.else@example.com", Name: "Ann Other"}, // no account
	} {
		require.NoError(t, s.UpsertPerson(ctx(), &p))
	}
	return c, byMiroID(t, s)
}

// byMiroID is every account as the users list shows it, by Miro user id.
func byMiroID(t *testing.T, s store.Store) map[string]roster.Account {
	t.Helper()
	out := map[string]roster.Account{}
	for _, a := range listAll(t, s, store.AccountQuery{Limit: 1000, IncludeLeft: true}) {
		out[a.MiroUserID] = a
	}
	return out
}

// found is the Miro user ids a search lists, in the list's order (by
// email), after checking that the total counts them.
func found(t *testing.T, s store.Store, q string) []string {
	t.Helper()
	var ids []string
	for _, a := range listAll(t, s, store.AccountQuery{Search: q, Limit: 2}) {
		ids = append(ids, a.MiroUserID)
	}
	return ids
}

func testSearchEmailAndNames(t *testing.T, s store.Store) {
	searchFixture(t, s)
	for q, want := range map[string][]string{
		// Part of an email, in any case.
		"ann.le":      {"u001"},
		"CORP.EXAMPL": {"u002", "u003"},
		"example.com": {"u001", "u004"},
		// Part of the directory's name, the account's own name empty.
		"smith":  {"u002"},
		"N SMIT": {"u002"},
		"ann":    {"u001"}, // Ann Other has no account
		// By alias: the directory's name of the account's email.
		"émile zo": {"u003"},
		"ÉMILE":    {"u003"},
		"emile":    nil, // no accent folding: é is not e
		// Miro's own name is still searched.
		"old miro":    {"u003"},
		"nina nobody": {"u006"},
		// Beyond ASCII: Greek folds to lower case as Go folds it.
		"ΣΩΚΡΆΤΗ":      {"u005"},
		"σωκρ":         {"u005"},
		"ΠΑΠΠ":         {"u005"},
		"παππάς":       {"u005"},
		"nothing here": nil,
	} {
		require.Equal(t, want, found(t, s, q), "search %q", q)
	}
}

// testSearchShort: a search of one or two characters cannot use a trigram
// index; it reads every row and is as right. So is a search holding LIKE's
// wildcards or FTS5's syntax, which match themselves.
func testSearchShort(t *testing.T, s store.Store) {
	searchFixture(t, s)
	for q, want := range map[string][]string{
		"zo": {"u003"},                                         // Émile Zola, from the directory
		"ΣΩ": {"u005"},                                         // σω
		"é":  {"u003"},                                         // Émile
		"y@": {"u004", "u006"},                                 // miro.only@, nobody@
		"@":  {"u001", "u002", "u004", "u006", "u003", "u005"}, // every email, in email order
		"%":  nil,
		"_":  nil,
		"\"": nil,
		// Longer searches with FTS5's and LIKE's syntax.
		`"smith"`:      nil,
		`smith OR ann`: nil,
		"sm*":          nil,
		"s_ith":        nil,
		"%smith":       nil,
		"NEAR(ann)":    nil,
	} {
		require.Equal(t, want, found(t, s, q), "search %q", q)
	}
}

// testSearchPaging: a search pages by every sort with the right total, the
// same on its last page as on its first.
func testSearchPaging(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	var d store.Diff
	want := map[string]bool{}
	for i := 1; i <= 30; i++ {
		a := account(i, roster.LicenseFull)
		a.Email, a.Name = fmt.Sprintf("p%02d@example.com", (i*7)%30), ""
		if i%3 == 0 {
			a.Name = fmt.Sprintf("Pager %d", i) // Miro's name
		}
		a.LastActivityAt = t0.Add(-time.Duration(i%4) * time.Hour)
		d.Accounts = append(d.Accounts, a)
		d.Seen = append(d.Seen, a.MiroUserID)
	}
	apply(t, s, c.ID, t0, d)
	for i := 1; i <= 30; i++ {
		email := fmt.Sprintf("p%02d@example.com", (i*7)%30)
		switch {
		case i%3 == 0:
			want[fmt.Sprintf("u%03d", i)] = true // "Pager" from Miro
		case i%2 == 0:
			p := roster.Person{Email: email, Name: fmt.Sprintf("Paula Pager %d", i)}
			require.NoError(t, s.UpsertPerson(ctx(), &p))
			want[fmt.Sprintf("u%03d", i)] = true // "Pager" from the directory
		default:
			p := roster.Person{Email: email, Name: fmt.Sprintf("Someone %d", i)}
			require.NoError(t, s.UpsertPerson(ctx(), &p))
		}
	}
	require.Len(t, want, 20) // 10 multiples of 3, 10 other even numbers
	for _, sort := range store.AccountSorts {
		for _, desc := range []bool{false, true} {
			for _, q := range []string{"PAGER", "ge"} { // the index, and every row
				var got []string
				page, err := s.ListAccounts(ctx(), store.AccountQuery{Search: q, Sort: sort, Desc: desc, Limit: 3})
				require.NoError(t, err)
				first := page.Total
				all := listAll(t, s, store.AccountQuery{Search: q, Sort: sort, Desc: desc, Limit: 3})
				for _, a := range all {
					got = append(got, a.MiroUserID)
				}
				require.Equal(t, 20, first, "total of %q by %s", q, sort)
				require.Len(t, got, 20, "%q by %s desc %v: every match once", q, sort, desc)
				for _, id := range got {
					require.True(t, want[id], "%s does not match %q", id, q)
				}
				sorted := slices.Clone(all)
				slices.SortStableFunc(sorted, compareAccounts(sort))
				if desc {
					slices.Reverse(sorted)
				}
				require.Equal(t, sorted, all, "%q by %s desc %v: in order", q, sort, desc)
			}
		}
	}
}

// testSearchFollowsAccounts: the index follows every write of accounts: a
// sync's insert and update, an action's new account and the email and name
// it fills in.
func testSearchFollowsAccounts(t *testing.T, s store.Store) {
	c, _ := searchFixture(t, s)

	// A sync changes emails and names; its diff carries Miro's names, as
	// the snapshot holds them.
	snap, err := s.Snapshot(ctx(), c.ID)
	require.NoError(t, err)
	ann, nina, john := snap.Accounts["u001"], snap.Accounts["u006"], snap.Accounts["u002"]
	ann.Email, ann.Name = "ann.lee@new.example", "Annie Miro"
	nina.Email, nina.Name = "jsmith@corp.example", "Nina Renamed" // the email the directory gives John Smith's name
	john.Email = "john.gone@corp.example"
	apply(t, s, c.ID, t0.Add(time.Hour), store.Diff{Accounts: []roster.Account{ann, nina, john}})
	require.Equal(t, []string{"u001"}, found(t, s, "new.example"))
	require.Empty(t, found(t, s, "ann.lee@example"))
	require.Equal(t, []string{"u001"}, found(t, s, "annie miro"), "Miro's new name")
	require.Empty(t, found(t, s, "ann lee"), "the directory knows the old email, not the new one")
	require.Empty(t, found(t, s, "nina nobody"))
	require.Equal(t, []string{"u006"}, found(t, s, "nina renamed"))
	require.Equal(t, []string{"u006"}, found(t, s, "john smith"))
	got := byMiroID(t, s)
	require.Equal(t, "Annie Miro", got["u001"].Name)
	require.Equal(t, "John Smith", got["u006"].Name)
	require.Equal(t, "", got["u002"].Name, "Miro gives u002 no name")

	// An action adds an account the store did not know, and fills in the
	// email and name of one it knew without them.
	blank := account(7, roster.LicenseFree)
	blank.Email, blank.Name = "", ""
	apply(t, s, c.ID, t0.Add(2*time.Hour), store.Diff{Accounts: []roster.Account{blank}, Seen: []string{"u007"}})
	p := roster.Person{Email: "late@example.com", Name: "Lena Latecomer"}
	require.NoError(t, s.UpsertPerson(ctx(), &p))
	for i, effect := range []*roster.Account{
		{MiroUserID: "u100", Email: "Fresh@Example.com", Name: "Fred Fresh"},
		{MiroUserID: "u007", Email: "late@example.com", Name: "Late Miro"},
	} {
		a := startAction(t, s, roster.Action{Key: fmt.Sprintf("invite-%d", i), Kind: roster.ActionInvite, ConnectionID: c.ID,
			MiroTeamID: "t1", Email: effect.Email, Actor: "operator:ada@example.com"})
		a.Status = roster.ActionSucceeded
		require.NoError(t, s.FinishAction(ctx(), a, store.ActionEffect{Account: effect}, auditOf(a, "ok")))
	}
	require.Equal(t, []string{"u100"}, found(t, s, "FRED FR"))
	require.Equal(t, []string{"u100"}, found(t, s, "fresh@"))
	require.Equal(t, []string{"u007"}, found(t, s, "late@ex"))
	require.Equal(t, []string{"u007"}, found(t, s, "late miro"), "the name Miro gave the action")
	require.Equal(t, []string{"u007"}, found(t, s, "latecomer"), "the directory's, by the filled-in email")
	require.Equal(t, "Lena Latecomer", byMiroID(t, s)["u007"].Name)
}

// testSearchFollowsDirectory: names follow every write of the directory.
func testSearchFollowsDirectory(t *testing.T, s store.Store) {
	searchFixture(t, s)
	name := func(id string) string { t.Helper(); return byMiroID(t, s)[id].Name }

	// A rename, by email (UpsertPerson) and by id (UpdatePerson).
	p, err := s.PersonByEmail(ctx(), "jsmith@corp.example")
	require.NoError(t, err)
	p.Name = "Johanna Smythe"
	require.NoError(t, s.UpsertPerson(ctx(), &p))
	require.Equal(t, "Johanna Smythe", name("u002"))
	require.Equal(t, []string{"u002"}, found(t, s, "smythe"))
	require.Empty(t, found(t, s, "john smith"))
	p.Name = "Jo Smythe"
	require.NoError(t, s.UpdatePerson(ctx(), &p))
	require.Equal(t, []string{"u002"}, found(t, s, "jo smy"))

	// A person's email changes: the old email's account loses the name, the
	// new one's gains it.
	p.Email = "nobody@example.net"
	require.NoError(t, s.UpdatePerson(ctx(), &p))
	require.Equal(t, "", name("u002"))
	require.Equal(t, "Jo Smythe", name("u006"))
	require.Equal(t, []string{"u006"}, found(t, s, "jo smy"))
	require.Equal(t, []string{"u006"}, found(t, s, "nina nobody"), "Miro's name is still searched")

	// Aliases: removing one takes the name away, adding one gives it.
	emile, err := s.PersonByEmail(ctx(), "emile@corp.example")
	require.NoError(t, err)
	require.NoError(t, s.SetAliases(ctx(), emile.ID, nil))
	require.Equal(t, "Old Miro", name("u003"), "Miro's name again")
	require.Empty(t, found(t, s, "zola"))
	require.Empty(t, found(t, s, "zo"))
	require.NoError(t, s.SetAliases(ctx(), emile.ID, []string{"old.name@corp.example"}))
	require.Equal(t, "Émile Zola", name("u003"))
	require.Equal(t, []string{"u003"}, found(t, s, "zola"))

	// Deleting a person takes the name of its email and aliases away.
	require.NoError(t, s.DeletePerson(ctx(), emile.ID))
	require.Equal(t, "Old Miro", name("u003"))
	require.Empty(t, found(t, s, "émile"))
	require.Empty(t, found(t, s, "zo"))

	// A new person names an account already synced.
	np := roster.Person{Email: "Miro.Only@example.com", Name: "Mira Only-Person"}
	err = s.UpsertPerson(ctx(), &np)
	require.NoError(t, err)
	require.Equal(t, "Mira Only-Person", name("u004"))
	require.Equal(t, []string{"u004"}, found(t, s, "only-person"))
}

// testDirectoryNames: the list, the single account and the sort by name
// show the directory's name where it has one; a sync still sees Miro's.
func testDirectoryNames(t *testing.T, s store.Store) {
	c, accs := searchFixture(t, s)
	want := map[string]string{
		"u001": "Ann Lee", "u002": "John Smith", "u003": "Émile Zola",
		"u004": "Miro Only", "u005": "ΣΩΚΡΆΤΗΣ Παππάς", "u006": "Nina Nobody",
	}
	for id, a := range accs {
		require.Equal(t, want[id], a.Name, id)
		one, err := s.Account(ctx(), a.ID)
		require.NoError(t, err)
		require.Equal(t, a, one, "the user page reads what the list shows")
	}
	// Sorting by name sorts what is shown, bytewise, on every page.
	for _, desc := range []bool{false, true} {
		var names []string
		for _, a := range listAll(t, s, store.AccountQuery{Sort: "name", Desc: desc, Limit: 2}) {
			names = append(names, a.Name)
		}
		sorted := slices.Sorted(func(yield func(string) bool) {
			for _, n := range want {
				if !yield(n) {
					return
				}
			}
		})
		if desc {
			slices.Reverse(sorted)
		}
		require.Equal(t, sorted, names, "desc %v", desc)
	}
	// A sync diffs against Miro's own names, so that the directory's never
	// look like a change in Miro.
	snap, err := s.Snapshot(ctx(), c.ID)
	require.NoError(t, err)
	for id, miro := range map[string]string{"u001": "", "u002": "", "u003": "Old Miro", "u004": "Miro Only", "u005": "", "u006": "Nina Nobody"} {
		require.Equal(t, miro, snap.Accounts[id].Name, id)
	}
}

func testListAccountsOrg(t *testing.T, s store.Store) {
	c1 := create(t, s, orgConnection("o1"))
	c2 := create(t, s, orgConnection("o2"))
	var d1, d2 store.Diff
	for i := 1; i <= 6; i++ {
		a := account(i, []string{roster.LicenseFull, roster.LicenseFree}[i%2])
		if i <= 4 {
			a.OrgID = "o1"
			d1.Accounts, d1.Seen = append(d1.Accounts, a), append(d1.Seen, a.MiroUserID)
		} else {
			a.OrgID = "o2"
			d2.Accounts, d2.Seen = append(d2.Accounts, a), append(d2.Seen, a.MiroUserID)
		}
	}
	apply(t, s, c1.ID, t0, d1)
	apply(t, s, c2.ID, t0, d2)
	ids := func(q store.AccountQuery) []string {
		t.Helper()
		q.Limit = 1
		var out []string
		for _, a := range listAll(t, s, q) {
			out = append(out, a.MiroUserID)
		}
		return out
	}
	require.Equal(t, []string{"u001", "u002", "u003", "u004"}, ids(store.AccountQuery{Org: "o1"}))
	require.Equal(t, []string{"u005", "u006"}, ids(store.AccountQuery{Org: "o2"}))
	require.Equal(t, []string{"u002", "u004"}, ids(store.AccountQuery{Org: "o1", License: roster.LicenseFull}))
	require.Equal(t, []string{"u006"}, ids(store.AccountQuery{Org: "o2", License: roster.LicenseFull, Search: "user00"}))
	require.Empty(t, ids(store.AccountQuery{Org: "o3"}))
	require.Empty(t, ids(store.AccountQuery{Org: "O1"}), "exact, as Miro's ids are")
	require.Len(t, ids(store.AccountQuery{}), 6, "no organization: all")

	got, err := s.Accounts(ctx(), store.AccountFilter{Org: "o2"})
	require.NoError(t, err)
	require.Len(t, got, 2)
	for _, a := range got {
		require.Equal(t, "o2", a.OrgID)
	}
}

// testListAccountsUsage: "never" is never logged in among people whose
// usage is known; "unknown" is the people seen only through team-level
// connections, whatever activity they show.
func testListAccountsUsage(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	var d store.Diff
	for i, x := range []struct {
		exact    bool
		activity time.Time
	}{
		{true, time.Time{}},         // u001: never logged in
		{true, t0.Add(-time.Hour)},  // u002: active
		{false, time.Time{}},        // u003: usage unknown, no activity known
		{false, t0.Add(-time.Hour)}, // u004: usage unknown
		{true, time.Time{}},         // u005: never logged in, deactivated
	} {
		a := account(i+1, roster.LicenseFull)
		a.LicenseExact, a.LastActivityAt, a.Active = x.exact, x.activity, i != 4
		d.Accounts, d.Seen = append(d.Accounts, a), append(d.Seen, a.MiroUserID)
	}
	apply(t, s, c.ID, t0, d)
	ids := func(q store.AccountQuery) []string {
		t.Helper()
		var out []string
		for _, a := range listAll(t, s, q) {
			out = append(out, a.MiroUserID)
		}
		return out
	}
	require.Equal(t, []string{"u001", "u005"}, ids(store.AccountQuery{Activity: "never"}))
	require.Equal(t, []string{"u001"}, ids(store.AccountQuery{Activity: "never", Status: "active"}))
	require.Equal(t, []string{"u003", "u004"}, ids(store.AccountQuery{Activity: "unknown"}))
	require.Equal(t, []string{"u003"}, ids(store.AccountQuery{Activity: "unknown", Search: "user003"}))
	require.Equal(t, []string{"u002"}, ids(store.AccountQuery{Activity: "active", ActiveSince: t0.Add(-24 * time.Hour)}))

	// The one check of the query's values names every value allowed.
	err := store.AccountQuery{Activity: "sometimes"}.Check()
	require.ErrorIs(t, err, store.ErrInvalid)
	require.EqualError(t, err, `activity must be active, inactive, never, unknown or idle, got "sometimes"`)
	require.NoError(t, store.AccountQuery{Activity: "unknown"}.Check())
	_, err = s.ListAccounts(ctx(), store.AccountQuery{Activity: "Never"})
	require.ErrorIs(t, err, store.ErrInvalid)
	require.True(t, strings.Contains(err.Error(), "never, unknown or idle"), err.Error())
}

// testListAccountsBroad: a query that matches many rows (a thousand or
// more, which SQLite reads by walking the sort's index, and a search most
// rows hold, which it reads without the search index) lists the same rows
// in the same order as one that matches few.
func testListAccountsBroad(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	const n = 2500
	var d store.Diff
	for i := 1; i <= n; i++ {
		a := account(i, []string{roster.LicenseFree, roster.LicenseFull, roster.LicenseFull}[i%3])
		a.MiroUserID = fmt.Sprintf("m%05d", i)
		a.Email = fmt.Sprintf("m%04d@example.com", (i*7919)%n) // email order is not id order
		a.Name = fmt.Sprintf("Name %d", (i*31)%97)
		a.OrgID = "o1"
		if i%10 == 0 {
			a.OrgID = "o2"
		}
		a.LicenseExact = i%7 != 0
		a.LastActivityAt = t0.Add(-time.Duration(i%50) * time.Hour)
		if i%2 == 0 {
			a.LastActivityAt = time.Time{}
		}
		d.Accounts, d.Seen = append(d.Accounts, a), append(d.Seen, a.MiroUserID)
	}
	apply(t, s, c.ID, t0, d)
	all, err := s.Accounts(ctx(), store.AccountFilter{}) // not the list's own query
	require.NoError(t, err)
	require.Len(t, all, n)

	for _, tc := range []struct {
		q    store.AccountQuery
		keep func(roster.Account) bool
		n    int // by hand
	}{
		{store.AccountQuery{Org: "o1"}, func(a roster.Account) bool { return a.OrgID == "o1" }, 2250},
		{store.AccountQuery{License: roster.LicenseFull}, func(a roster.Account) bool { return a.License == roster.LicenseFull }, 1667},
		{store.AccountQuery{Search: "EXAMPLE"}, func(roster.Account) bool { return true }, n},
		{store.AccountQuery{Search: "m00"}, func(a roster.Account) bool { return strings.HasPrefix(a.Email, "m00") }, 100},
		// 1,250 even ids, less the 178 multiples of 14, whose usage is unknown.
		{store.AccountQuery{Activity: "never"}, func(a roster.Account) bool { return a.UsageKnown() && a.LastActivityAt.IsZero() }, 1072},
	} {
		want := slices.DeleteFunc(slices.Clone(all), func(a roster.Account) bool { return !tc.keep(a) })
		require.Len(t, want, tc.n, "the hand count of %+v", tc.q)
		for _, sort := range store.AccountSorts {
			for _, desc := range []bool{false, true} {
				slices.SortFunc(want, compareAccounts(sort))
				if desc {
					slices.Reverse(want)
				}
				q := tc.q
				q.Sort, q.Desc, q.Limit = sort, desc, 600
				require.Equal(t, want, listAll(t, s, q), "%+v", q)
			}
		}
	}
}

// testSearchCountLimit: a search counts its matches up to
// store.SearchCountLimit and says when more match; a narrower search, and
// a list without one, count exactly.
func testSearchCountLimit(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	n := store.SearchCountLimit + 50
	d := FirstSyncDiff(n)
	d.Teams, d.Memberships, d.Changes = nil, nil, nil
	apply(t, s, c.ID, t0, d)

	for _, tc := range []struct {
		q    store.AccountQuery
		want int
		more bool
	}{
		{store.AccountQuery{Search: "example.com"}, store.SearchCountLimit, true},
		{store.AccountQuery{Search: "us"}, store.SearchCountLimit, true}, // short: read row by row
		// user1, user10-19, user100-199, user1000-1999, user10000-10049.
		{store.AccountQuery{Search: "user1"}, 1 + 10 + 100 + 1000 + 50, false},
		{store.AccountQuery{}, n, false},
		{store.AccountQuery{License: roster.LicenseFull}, n, false},
	} {
		page, err := s.ListAccounts(ctx(), tc.q)
		require.NoError(t, err)
		require.Equal(t, tc.want, page.Total, "%+v", tc.q)
		require.Equal(t, tc.more, page.TotalMore, "%+v", tc.q)
		require.Len(t, page.Accounts, 50)
	}
}
