package api

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/testkit"
)

// BenchmarkUsersCSV100k exports all 100,000 accounts of the dashboard's
// benchmark store as CSV, through the real handler with an API key (the
// dashboard's Export CSV link is the same route, with a session):
//
//	ROSTER_TEST_POSTGRES_URL=postgres://... go test -run '^$' -bench UsersCSV100k -benchtime 5x -timeout 30m ./internal/api/
//
// It reports p50-ms and p95-ms to the last byte, and the file's size.
func BenchmarkUsersCSV100k(b *testing.B) {
	for _, backend := range []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", storetest.SQLiteDSN}, {"postgres", storetest.PostgresDSN}} {
		b.Run(backend.name, func(b *testing.B) {
			db, _ := storetest.Seed100k(b, backend.dsn(b))
			now := storetest.SeedAt.Add(24 * time.Hour)
			srv, err := New(Config{Store: db, Now: func() time.Time { return now }})
			require.NoError(b, err)
			key := testkit.APIKey(b, db, "bench", now, roster.ScopeRead)
			all, err := db.ListAccounts(b.Context(), store.AccountQuery{Limit: 1})
			require.NoError(b, err)
			var ds []time.Duration
			size := 0
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, "/api/v1/users.csv", nil)
				req.Header.Set("Authorization", "Bearer "+key)
				w := httptest.NewRecorder()
				start := time.Now()
				srv.ServeHTTP(w, req)
				ds = append(ds, time.Since(start))
				b.StopTimer()
				require.Equal(b, http.StatusOK, w.Code, w.Body.String())
				if n := strings.Count(w.Body.String(), "\n"); n != all.Total+1 {
					b.Fatalf("the export has %d lines, want %d (header and %d people)", n, all.Total+1, all.Total)
				}
				size = w.Body.Len()
				b.StartTimer()
			}
			slices.Sort(ds)
			b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(ds[len(ds)*95/100].Microseconds())/1000, "p95-ms")
			b.ReportMetric(float64(size)/1e6, "MB")
		})
	}
}
