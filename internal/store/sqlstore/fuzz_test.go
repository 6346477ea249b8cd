package sqlstore_test

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
)

// The lists whose cursors FuzzListCursor reads: the users list in each
// sort, the teams list and the directory.
var cursorLists = []string{"email", "name", "license", "last_activity", "teams", "people"}

// cursorPage is what one page of the fuzz target asks for.
const cursorPage = 3

// cursorFixture is a store and every row of each list, in list order.
type cursorFixture struct {
	db       *sqlstore.DB
	accounts map[string][]roster.Account // by sort, then "-desc"
	teams    []roster.Team
	people   []roster.Person
}

// newCursorFixture seeds db with 300 accounts (names, licenses and
// activity times repeat, some never active), teams whose names repeat,
// and a few people, and reads each list whole.
func newCursorFixture(tb testing.TB, db *sqlstore.DB) cursorFixture {
	tb.Helper()
	ctx := context.Background()
	d := storetest.DashboardDiff(300)
	for i, name := range []string{"Team 0", "", "team 0", "Zeta", "Team 0 "} {
		d.Teams = append(d.Teams, roster.Team{MiroTeamID: fmt.Sprintf("x%d", i), OrgID: "o1", Name: name})
	}
	c := roster.Connection{Level: roster.LevelOrganization, OrgID: "o1", TeamID: "t0"}
	require.NoError(tb, db.CreateConnection(ctx, &c))
	run := roster.SyncRun{ConnectionID: c.ID}
	require.NoError(tb, db.StartSyncRun(ctx, &run))
	run.EndedAt = storetest.SeedAt
	require.NoError(tb, db.ApplySync(ctx, &run, d))
	for i := range 8 {
		p := roster.Person{Email: fmt.Sprintf("p%d@example.com", i), Name: fmt.Sprintf("P %d", i)}
		require.NoError(tb, db.UpsertPerson(ctx, &p))
	}

	fx := cursorFixture{db: db, accounts: map[string][]roster.Account{}}
	for _, sort := range store.AccountSorts {
		for _, desc := range []bool{false, true} {
			page, err := db.ListAccounts(ctx, store.AccountQuery{Sort: sort, Desc: desc, Limit: 1000})
			require.NoError(tb, err)
			require.Empty(tb, page.NextCursor)
			fx.accounts[listKey(sort, desc)] = page.Accounts
		}
	}
	teams, err := db.TeamStats(ctx, store.TeamStatsQuery{Limit: 500})
	require.NoError(tb, err)
	for _, s := range teams.Teams {
		fx.teams = append(fx.teams, s.Team)
	}
	people, err := db.People(ctx, store.PeopleFilter{Limit: 1000})
	require.NoError(tb, err)
	fx.people = people.People
	return fx
}

func listKey(sort string, desc bool) string {
	if desc {
		return sort + "-desc"
	}
	return sort
}

// FuzzListCursor feeds any text as the cursor of each list, on both
// backends. A cursor is refused with ErrInvalid or it decodes; one that
// decodes re-encodes to an equivalent cursor, the store accepts it, and
// the page is exactly the first rows after it in the list's order, as
// worked out here from the whole list.
func FuzzListCursor(f *testing.F) {
	var fixtures []cursorFixture
	for _, db := range storetest.Stores(f) {
		fixtures = append(fixtures, newCursorFixture(f, db))
	}
	// Seeds: the real cursors of each list's first pages, as they are and
	// decoded (encode true, so that fuzzing also mutates the JSON inside
	// rather than only its base64), and a few hand-made ones; the corpus
	// under testdata holds what fuzzing found.
	fx := fixtures[0]
	ctx := context.Background()
	for i, list := range cursorLists {
		for _, desc := range []bool{false, true} {
			cursor := ""
			for range 3 {
				next := fx.nextCursor(ctx, f, list, desc, cursor)
				if next == "" {
					break
				}
				f.Add(uint8(i), desc, false, next)
				if raw, err := base64.RawURLEncoding.DecodeString(next); err == nil {
					f.Add(uint8(i), desc, true, string(raw))
				}
				cursor = next
			}
		}
	}
	for _, s := range []string{"", "p", "p-1", "p+7", "p9223372036854775807", "e30", "%%%", strings.Repeat("A", 5000)} {
		f.Add(uint8(5), false, false, s)
	}
	for _, s := range []string{`{}`, `{"s":"email","i":0}`, `{"s":"email","k":["a"],"i":1,"x":2}`, `{"s":"email","k":["a"],"i":1} {}`} {
		f.Add(uint8(0), false, true, s)
	}
	f.Add(uint8(3), false, true, `{"s":"last_activity","t":"2026-01-01T00:00:00+05:00","i":1}`)
	f.Add(uint8(4), false, true, `{"n":"Team 0","i":"t0"}`)

	f.Fuzz(func(t *testing.T, list uint8, desc, encode bool, cursor string) {
		if encode {
			cursor = base64.RawURLEncoding.EncodeToString([]byte(cursor))
		}
		for _, fx := range fixtures {
			fx.check(t, cursorLists[int(list)%len(cursorLists)], desc, cursor)
		}
	})
}

// nextCursor is the cursor after the page of list that cursor starts.
func (fx cursorFixture) nextCursor(ctx context.Context, tb testing.TB, list string, desc bool, cursor string) string {
	switch list {
	case "teams":
		page, err := fx.db.TeamStats(ctx, store.TeamStatsQuery{Cursor: cursor, Limit: cursorPage})
		require.NoError(tb, err)
		return page.NextCursor
	case "people":
		page, err := fx.db.People(ctx, store.PeopleFilter{Cursor: cursor, Limit: cursorPage})
		require.NoError(tb, err)
		return page.NextCursor
	}
	page, err := fx.db.ListAccounts(ctx, store.AccountQuery{Sort: list, Desc: desc, Cursor: cursor, Limit: cursorPage})
	require.NoError(tb, err)
	return page.NextCursor
}

func (fx cursorFixture) check(t *testing.T, list string, desc bool, cursor string) {
	ctx := context.Background()
	backend := fx.db.Dialect()
	switch list {
	case "teams":
		page, err := fx.db.TeamStats(ctx, store.TeamStatsQuery{Cursor: cursor, Limit: cursorPage})
		want := fx.teams
		if cursor != "" {
			c, derr := sqlstore.DecodeTeamCursor(cursor)
			if derr != nil {
				require.ErrorIs(t, err, store.ErrInvalid, backend)
				return
			}
			again, aerr := sqlstore.DecodeTeamCursor(sqlstore.EncodeTeamCursor(c))
			require.NoError(t, aerr, backend)
			require.Equal(t, c, again, "%s: the cursor re-encodes to itself", backend)
			want = slices.DeleteFunc(slices.Clone(want), func(tm roster.Team) bool {
				return cmp.Or(strings.Compare(tm.Name, c.Name), strings.Compare(tm.MiroTeamID, c.ID)) <= 0
			})
		}
		require.NoError(t, err, "%s: a cursor that decodes is one the store accepts", backend)
		var got []roster.Team
		for _, s := range page.Teams {
			got = append(got, s.Team)
		}
		require.Equal(t, firstOf(want), got, "%s: the teams after the cursor", backend)
		requireNext(t, backend, page.NextCursor, len(want) > cursorPage)
	case "people":
		page, err := fx.db.People(ctx, store.PeopleFilter{Cursor: cursor, Limit: cursorPage})
		after, derr := sqlstore.DecodePeopleCursor(cursor)
		if derr != nil {
			require.ErrorIs(t, err, store.ErrInvalid, backend)
			return
		}
		again, aerr := sqlstore.DecodePeopleCursor(sqlstore.EncodePeopleCursor(after))
		require.NoError(t, aerr, backend)
		require.Equal(t, after, again, "%s: the cursor re-encodes to an equivalent one", backend)
		require.NoError(t, err, "%s: a cursor that decodes is one the store accepts", backend)
		want := slices.DeleteFunc(slices.Clone(fx.people), func(p roster.Person) bool { return p.ID <= after })
		require.Equal(t, idsOf(firstOf(want), func(p roster.Person) int64 { return p.ID }),
			idsOf(page.People, func(p roster.Person) int64 { return p.ID }), "%s: the people after the cursor", backend)
		requireNext(t, backend, page.NextCursor, len(want) > cursorPage)
	default:
		page, err := fx.db.ListAccounts(ctx, store.AccountQuery{Sort: list, Desc: desc, Cursor: cursor, Limit: cursorPage})
		want := fx.accounts[listKey(list, desc)]
		if cursor != "" {
			c, derr := sqlstore.DecodeCursor(cursor, list, desc)
			if derr != nil {
				require.ErrorIs(t, err, store.ErrInvalid, backend)
				return
			}
			again, aerr := sqlstore.DecodeCursor(sqlstore.EncodeCursor(c), list, desc)
			require.NoError(t, aerr, backend)
			requireSameCursor(t, c, again)
			want = slices.DeleteFunc(slices.Clone(want), func(a roster.Account) bool {
				return !accountAfter(a, c)
			})
		}
		require.NoError(t, err, "%s: a cursor that decodes is one the store accepts", backend)
		require.Equal(t, idsOf(firstOf(want), accountID), idsOf(page.Accounts, accountID),
			"%s: the accounts after the cursor", backend)
		requireNext(t, backend, page.NextCursor, len(want) > cursorPage)
	}
}

func firstOf[T any](all []T) []T {
	if len(all) == 0 {
		return nil
	}
	return all[:min(len(all), cursorPage)]
}

func idsOf[T any](items []T, id func(T) int64) []int64 {
	out := []int64{}
	for _, it := range items {
		out = append(out, id(it))
	}
	return out
}

func accountID(a roster.Account) int64 { return a.ID }

// requireNext: a next cursor exactly when more rows follow.
func requireNext(t *testing.T, backend, next string, more bool) {
	t.Helper()
	require.Equal(t, more, next != "", "%s: a next cursor when more rows follow", backend)
}

func requireSameCursor(t *testing.T, a, b sqlstore.ListCursor) {
	t.Helper()
	require.Equal(t, a.Sort, b.Sort)
	require.Equal(t, a.Desc, b.Desc)
	require.Equal(t, a.ID, b.ID)
	require.True(t, slices.Equal(a.Keys, b.Keys), "keys %q became %q", a.Keys, b.Keys)
	require.Equal(t, a.At == nil, b.At == nil)
	if a.At != nil {
		require.True(t, a.At.Equal(*b.At), "time %v became %v", a.At, b.At)
	}
}

// accountAfter reports whether a comes after the cursor in its sort:
// strings bytewise, ties by id; by activity, the never active first.
// The store compares times to the microsecond.
func accountAfter(a roster.Account, c sqlstore.ListCursor) bool {
	var order int
	switch c.Sort {
	case "last_activity":
		var at time.Time
		if c.At != nil {
			at = c.At.UTC().Truncate(time.Microsecond)
		}
		dated := func(yes bool) int {
			if yes {
				return 1
			}
			return 0
		}
		order = cmp.Or(
			cmp.Compare(dated(!a.LastActivityAt.IsZero()), dated(c.At != nil)),
			a.LastActivityAt.Compare(at),
			cmp.Compare(a.ID, c.ID))
	default:
		keys := map[string][]string{"email": {a.Email}, "name": {a.Name}, "license": {a.License, a.Email}}[c.Sort]
		for i, k := range keys {
			if order = strings.Compare(k, c.Keys[i]); order != 0 {
				break
			}
		}
		order = cmp.Or(order, cmp.Compare(a.ID, c.ID))
	}
	if c.Desc {
		return order < 0
	}
	return order > 0
}
