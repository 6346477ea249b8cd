package sqlstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
)

// TestNoStoredTextMatches: a search, filter or lookup holding a NUL or
// bytes that are not UTF-8 (which PostgreSQL refuses as a parameter,
// and no stored text holds) finds nothing, on both backends, rather than
// failing: ?q=%00 was a 500 on PostgreSQL.
func TestNoStoredTextMatches(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		_, err := storetest.SeedDashboard(ctx, db, 300)
		require.NoError(t, err)
		p := roster.Person{Email: "ada@example.com", ExternalID: "00u1"}
		require.NoError(t, db.UpsertPerson(ctx, &p))
		for _, bad := range []string{"a\x00", "\x00", "\xe9", "user1\xff"} {
			for _, q := range []store.AccountQuery{{Search: bad}, {Org: bad}, {License: bad}, {OrgRole: bad}, {MiroTeamID: bad}} {
				page, err := db.ListAccounts(ctx, q)
				require.NoError(t, err, "%+v", q)
				require.Empty(t, page.Accounts)
				require.Zero(t, page.Total)
			}
			teams, err := db.TeamStats(ctx, store.TeamStatsQuery{Search: bad})
			require.NoError(t, err)
			require.Empty(t, teams.Teams)
			for _, f := range []store.PeopleFilter{{Search: bad}, {Status: roster.PersonStatus(bad)}} {
				people, err := db.People(ctx, f)
				require.NoError(t, err, "%+v", f)
				require.Empty(t, people.People)
			}
			_, err = db.PersonByEmail(ctx, bad+"@example.com")
			require.ErrorIs(t, err, store.ErrNotFound)
			_, err = db.PersonByExternalID(ctx, bad)
			require.ErrorIs(t, err, store.ErrNotFound)
		}
	})
}
