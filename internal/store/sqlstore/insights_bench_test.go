package sqlstore_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
)

// benchAt is the end of the benchmark organization's sync.
var benchAt = storetest.SeedAt

// dashboardStore is a store holding one organization of 100,000 accounts
// in 1,000 teams (300,000 memberships), with a dashboard's mix
// (storetest.DashboardDiff).
func dashboardStore(b *testing.B, dsn string) *sqlstore.DB {
	b.Helper()
	db, _ := storetest.Seed100k(b, dsn)
	return db
}

// timeOps runs op b.N times and reports the median and 95th percentile.
func timeOps(b *testing.B, op func()) {
	b.Helper()
	var ds []time.Duration
	for b.Loop() {
		start := time.Now()
		op()
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	if len(ds) > 0 {
		b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(ds[len(ds)*95/100].Microseconds())/1000, "p95-ms")
	}
}

// cursorAfter follows pages of q and returns the cursor after them.
func cursorAfter(b *testing.B, db *sqlstore.DB, q store.AccountQuery, pages int) string {
	b.Helper()
	for range pages {
		page, err := db.ListAccounts(context.Background(), q)
		require.NoError(b, err)
		require.NotEmpty(b, page.NextCursor)
		q.Cursor = page.NextCursor
	}
	return q.Cursor
}

var benchBackends = []struct {
	name string
	dsn  func(testing.TB) string
}{{"sqlite", storetest.SQLiteDSN}, {"postgres", storetest.PostgresDSN}}

// BenchmarkListAccounts100k pages the users list of 100,000 accounts:
//
//	ROSTER_TEST_POSTGRES_URL=postgres://... go test -run '^$' -bench 'ListAccounts100k|Overview100k' -benchtime 200x ./internal/store/sqlstore/
func BenchmarkListAccounts100k(b *testing.B) {
	ctx := context.Background()
	cutoff := benchAt.Add(-60 * 24 * time.Hour)
	for _, backend := range benchBackends {
		b.Run(backend.name, func(b *testing.B) {
			db := dashboardStore(b, backend.dsn(b))
			byEmail := store.AccountQuery{}
			byActivity := store.AccountQuery{Sort: "last_activity", Desc: true}
			cases := []struct {
				name string
				q    store.AccountQuery
			}{
				{"first", byEmail},
				{"deep-50-pages", store.AccountQuery{Cursor: cursorAfter(b, db, byEmail, 50)}},
				{"deep-end", store.AccountQuery{Cursor: cursorAfter(b, db, store.AccountQuery{Limit: 1000}, 98)}},
				{"name-first", store.AccountQuery{Sort: "name"}},
				{"activity-desc-first", byActivity},
				{"activity-desc-deep-50", store.AccountQuery{Sort: "last_activity", Desc: true, Cursor: cursorAfter(b, db, byActivity, 50)}},
				{"activity-asc-in-never", store.AccountQuery{Sort: "last_activity",
					Cursor: cursorAfter(b, db, store.AccountQuery{Sort: "last_activity"}, 50)}},
				{"license-desc-first", store.AccountQuery{Sort: "license", Desc: true}},
				{"filtered-full-inactive", store.AccountQuery{License: roster.LicenseFull, Activity: "inactive", ActiveSince: cutoff}},
				{"filtered-team", store.AccountQuery{MiroTeamID: "t7"}},
				{"filtered-guests-by-name", store.AccountQuery{Guests: true, Sort: "name"}},
				{"never-logged-in", store.AccountQuery{Activity: "never", Status: "active"}},
				{"usage-unknown", store.AccountQuery{Activity: "unknown"}},
				{"org", store.AccountQuery{Org: "o1"}},
				{"org-filtered", store.AccountQuery{Org: "o1", License: roster.LicenseFull, Activity: "inactive", ActiveSince: cutoff, Status: "active"}},
				{"search-narrow", store.AccountQuery{Search: "user4242@"}},
				{"search-directory-name", store.AccountQuery{Search: "kowalcz"}},
				{"search-domain", store.AccountQuery{Search: "example.com"}},
				{"search-short", store.AccountQuery{Search: "r4"}},
				{"search-broad-filtered", store.AccountQuery{Search: "ada", License: roster.LicenseFull, Sort: "last_activity"}},
			}
			for _, tc := range cases {
				b.Run(tc.name, func(b *testing.B) {
					timeOps(b, func() {
						page, err := db.ListAccounts(ctx, tc.q)
						if err != nil || page.Total == 0 {
							b.Fatalf("page: %v (total %d)", err, page.Total)
						}
					})
				})
			}
		})
	}
}

// BenchmarkOverview100k computes the overview of 100,000 accounts and
// pages of the team stats of 1,000 teams and 300,000 memberships (same
// command as above).
func BenchmarkOverview100k(b *testing.B) {
	ctx := context.Background()
	cutoff := benchAt.Add(-60 * 24 * time.Hour)
	for _, backend := range benchBackends {
		b.Run(backend.name, func(b *testing.B) {
			db := dashboardStore(b, backend.dsn(b))
			// Every account scanned, as figures before kept groups were.
			b.Run("overview", func(b *testing.B) {
				timeOps(b, func() {
					db.ForgetOverview()
					o, err := db.Overview(ctx, store.OverviewQuery{InactiveBefore: cutoff})
					if err != nil || o.Accounts == 0 {
						b.Fatalf("overview: %v", err)
					}
				})
			})
			// The teams page: its first page of 50, and the 15th (teams
			// 701-750 of 1,000), reached by following cursors.
			first := store.TeamStatsQuery{InactiveBefore: cutoff}
			deep := first
			for range 14 {
				page, err := db.TeamStats(ctx, deep)
				require.NoError(b, err)
				require.NotEmpty(b, page.NextCursor)
				deep.Cursor = page.NextCursor
			}
			for _, tc := range []struct {
				name string
				q    store.TeamStatsQuery
			}{{"team-stats-first", first}, {"team-stats-deep-15-pages", deep}} {
				b.Run(tc.name, func(b *testing.B) {
					timeOps(b, func() {
						page, err := db.TeamStats(ctx, tc.q)
						if err != nil || len(page.Teams) != 50 || page.Total == 0 {
							b.Fatalf("team stats: %v (%d teams)", err, len(page.Teams))
						}
					})
				})
			}
		})
	}
}

// BenchmarkLicenses100k reads what the overview and the Licenses page
// need over 100,000 accounts in 1,000 teams, 90,000 directory people and
// two years of daily points:
//
//	ROSTER_TEST_POSTGRES_URL=postgres://... go test -run '^$' -bench 'Licenses100k' -benchtime 50x ./internal/store/sqlstore/
func BenchmarkLicenses100k(b *testing.B) {
	ctx := context.Background()
	q := store.OverviewQuery{InactiveBefore: benchAt.Add(-60 * 24 * time.Hour), UsedSince: benchAt.Add(-30 * 24 * time.Hour)}
	for _, backend := range benchBackends {
		b.Run(backend.name, func(b *testing.B) {
			db := dashboardStore(b, backend.dsn(b))
			// Two years of daily points: the last day is the seed's own.
			require.NoError(b, storetest.SeedLicenseDays(ctx, db, 730))
			// The overview as a process computes it first (every account
			// scanned), and as it does later: cut-offs a minute on from the
			// kept groups', the accounts in between recounted.
			overview := func(b *testing.B, q store.OverviewQuery) {
				o, err := db.Overview(ctx, q)
				if err != nil || len(o.Orgs) != 1 || o.Orgs[0].Licenses[roster.LicenseFull].Leavers == 0 {
					b.Fatalf("overview: %v %+v", err, o.Orgs)
				}
			}
			b.Run("overview-first", func(b *testing.B) {
				timeOps(b, func() {
					db.ForgetOverview()
					overview(b, q)
				})
			})
			b.Run("overview-a-minute-later", func(b *testing.B) {
				later := q
				timeOps(b, func() {
					later.InactiveBefore = later.InactiveBefore.Add(time.Minute)
					later.UsedSince = later.UsedSince.Add(time.Minute)
					overview(b, later)
				})
			})
			for _, by := range []string{store.ChargebackByTeam, store.ChargebackByDepartment} {
				b.Run("chargeback-"+by, func(b *testing.B) {
					timeOps(b, func() {
						rows, err := db.Chargeback(ctx, store.ChargebackQuery{OrgID: "o1", By: by})
						if err != nil || len(rows) < 20 {
							b.Fatalf("chargeback: %v (%d rows)", err, len(rows))
						}
					})
				})
			}
			b.Run("license-days-2y", func(b *testing.B) {
				timeOps(b, func() {
					days, err := db.LicenseDays(ctx, "o1", benchAt.AddDate(-2, 0, 0))
					if err != nil || len(days) < 730 {
						b.Fatalf("days: %v (%d)", err, len(days))
					}
				})
			})
		})
	}
}
