package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
)

// benchMembers is the organization's size in BenchmarkApplySyncFirst100k.
const benchMembers = storetest.SeedMembers

// firstSyncDiff is the first sync of an organization of n members in n/100
// teams, each member in 3 teams.
func firstSyncDiff(n int) store.Diff { return storetest.FirstSyncDiff(n) }

// BenchmarkApplySyncFirst100k applies a first sync of 100,000 accounts,
// 1,000 teams, 300,000 memberships and 100,000 changes, into an empty
// store and into one whose directory knows 9 in 10 of the people (their
// names are looked up and indexed as the accounts are inserted):
//
//	ROSTER_TEST_POSTGRES_URL=postgres://... go test -run '^$' -bench ApplySyncFirst100k -benchtime 1x ./internal/store/sqlstore/
func BenchmarkApplySyncFirst100k(b *testing.B) {
	d := firstSyncDiff(benchMembers)
	for _, backend := range []struct {
		name      string
		dsn       func(testing.TB) string
		directory bool
	}{
		{"sqlite", storetest.SQLiteDSN, false}, {"sqlite-directory", storetest.SQLiteDSN, true},
		{"postgres", storetest.PostgresDSN, false}, {"postgres-directory", storetest.PostgresDSN, true},
	} {
		b.Run(backend.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				db, err := sqlstore.Open(context.Background(), backend.dsn(b))
				require.NoError(b, err)
				if backend.directory {
					require.NoError(b, storetest.SeedDirectory(context.Background(), db, d.Accounts))
				}
				c := roster.Connection{Level: roster.LevelOrganization, OrgID: "o1", TeamID: "t0"}
				require.NoError(b, db.CreateConnection(context.Background(), &c))
				run := roster.SyncRun{ConnectionID: c.ID}
				require.NoError(b, db.StartSyncRun(context.Background(), &run))
				b.StartTimer()

				require.NoError(b, db.ApplySync(context.Background(), &run, d))

				b.StopTimer()
				snapStart := time.Now()
				snap, err := db.Snapshot(context.Background(), c.ID)
				require.NoError(b, err)
				require.Len(b, snap.Accounts, benchMembers)
				require.Len(b, snap.Memberships, 3*benchMembers)
				b.ReportMetric(time.Since(snapStart).Seconds(), "snapshot-s")
				db.Close()
				b.StartTimer()
			}
		})
	}
}

// BenchmarkApplySyncResync1pct applies a resync in which 1% of the 100,000
// accounts changed license and 1% of the memberships changed role, on top
// of a first sync.
func BenchmarkApplySyncResync1pct(b *testing.B) {
	ctx := context.Background()
	first := firstSyncDiff(benchMembers)
	for _, backend := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", storetest.SQLiteDSN}, {"postgres", storetest.PostgresDSN}} {
		b.Run(backend.name, func(b *testing.B) {
			db, err := sqlstore.Open(ctx, backend.dsn(b))
			require.NoError(b, err)
			defer db.Close()
			c := roster.Connection{Level: roster.LevelOrganization, OrgID: "o1", TeamID: "t0"}
			require.NoError(b, db.CreateConnection(ctx, &c))
			run := roster.SyncRun{ConnectionID: c.ID}
			require.NoError(b, db.StartSyncRun(ctx, &run))
			require.NoError(b, db.ApplySync(ctx, &run, first))
			snap, err := db.Snapshot(ctx, c.ID)
			require.NoError(b, err)

			license := []string{roster.LicenseFree, roster.LicenseFull}
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				var d store.Diff
				for k := 0; k < benchMembers/100; k++ {
					a := snap.Accounts[first.Accounts[k*100].MiroUserID]
					a.License = license[i%2]
					d.Accounts = append(d.Accounts, a)
					d.Changes = append(d.Changes, roster.Change{MiroUserID: a.MiroUserID, Kind: roster.ChangeLicenseChanged, NewValue: a.License})
					m := first.Memberships[k*300]
					m.Role = []string{"admin", "member"}[i%2]
					d.Memberships = append(d.Memberships, m)
				}
				run := roster.SyncRun{ConnectionID: c.ID}
				require.NoError(b, db.StartSyncRun(ctx, &run))
				b.StartTimer()
				require.NoError(b, db.ApplySync(ctx, &run, d))
			}
		})
	}
}
