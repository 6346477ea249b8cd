package web

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"roster/internal/store/storetest"

	"github.com/stretchr/testify/require"
)

// BenchmarkLicenses100k measures the overview and the Licenses page's
// tabs on the 100,000-account store (1,000 teams, 300,000 memberships):
// chargeback by team is the heaviest, a thousand lines priced and paged.
//
//	go test -run '^$' -bench Licenses100k -benchtime 20x ./internal/web/
//
// With ROSTER_TEST_POSTGRES_URL set it runs on PostgreSQL too. Each case
// reports p50-ms, p95-ms and the page's size in KB.
func BenchmarkLicenses100k(b *testing.B) {
	backends := []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", storetest.SQLiteDSN}, {"postgres", storetest.PostgresDSN}}
	for _, backend := range backends {
		b.Run(backend.name, func(b *testing.B) {
			s := newBenchServer(b, backend.dsn(b))
			require.NoError(b, storetest.SeedLicenseDays(context.Background(), s.db, 730))
			for _, tc := range []struct{ name, path, want string }{
				{"overview", "/", "Monthly cost"},
				{"current", "/licenses", `class="licenses"`},
				{"recommendations", "/licenses?tab=recommendations", `class="rec"`},
				{"trend-2y", "/licenses?tab=trend&days=730", "time-chart"},
				{"chargeback-by-team", "/licenses?tab=chargeback", `rel="next"`},
				{"chargeback-by-department", "/licenses?tab=chargeback&by=department", "Department 1"},
				{"chargeback-csv", "/licenses/chargeback.csv", "Team 999"},
			} {
				b.Run(tc.name, func(b *testing.B) {
					body := s.get(b, tc.path).Body.String()
					if !strings.Contains(body, tc.want) {
						b.Fatalf("%s: no %q in the page", tc.path, tc.want)
					}
					timeRequests(b, s, tc.path, func(*httptest.ResponseRecorder) {})
					b.ReportMetric(float64(len(body))/1000, "KB")
				})
			}
		})
	}
}
