package web

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
	"roster/internal/testkit"
)

// benchServer is the dashboard on a store seeded with 100,000 accounts and
// 300,000 memberships (storetest.Seed100k), and the cookie of a logged-in
// viewer. The clock starts a day after the seeded sync, so the activity
// filters split the accounts as they would then, and moves 2 seconds a
// request, as for a person clicking through: the inactivity cut-offs move
// with it, and nothing computed for one request's time serves the next
// as is.
type benchServer struct {
	db     *sqlstore.DB
	srv    *Server
	cookie *http.Cookie
	now    atomic.Int64 // Unix nanoseconds
}

func newBenchServer(b *testing.B, dsn string) *benchServer {
	b.Helper()
	db, _ := storetest.Seed100k(b, dsn)
	now := storetest.SeedAt.Add(24 * time.Hour)
	s := &benchServer{db: db}
	s.now.Store(now.UnixNano())
	srv, err := New(Config{Store: db, Now: func() time.Time { return time.Unix(0, s.now.Load()).UTC() }})
	require.NoError(b, err)
	// A session as a login makes one (startSession), stored directly: the
	// benchmark measures pages, not bcrypt.
	ctx := context.Background()
	op := roster.Operator{Email: "viewer@example.com", PasswordHash: "x", Role: roster.RoleViewer}
	require.NoError(b, db.CreateOperator(ctx, &op))
	s.srv = srv
	s.cookie, _ = testkit.Session(b, db, op, now)
	return s
}

// get serves one GET through the real handler and returns the finished
// response, failing on anything but a 200.
func (s *benchServer) get(b *testing.B, path string) *httptest.ResponseRecorder {
	s.now.Add(int64(2 * time.Second))
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.AddCookie(s.cookie)
	w := httptest.NewRecorder()
	s.srv.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		b.Fatalf("GET %s: %d %s", path, w.Code, w.Body.String())
	}
	return w
}

var (
	nextLinkRe = regexp.MustCompile(`<a rel="next" href="([^"]+)"`)
	totalRe    = regexp.MustCompile(`<strong class="total">([0-9,]+)</strong>`)
)

// pageTotal is the users list's total count.
func pageTotal(b *testing.B, body string) int {
	b.Helper()
	m := totalRe.FindStringSubmatch(body)
	if m == nil {
		b.Fatal("no total on the page")
	}
	n, err := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
	require.NoError(b, err)
	return n
}

// follow opens path and follows its "next" links n times, as a person
// clicking through would, and returns the page reached.
func (s *benchServer) follow(b *testing.B, path string, n int) string {
	b.Helper()
	for range n {
		m := nextLinkRe.FindStringSubmatch(s.get(b, path).Body.String())
		if m == nil {
			b.Fatalf("%s: no next link", path)
		}
		path = html.UnescapeString(m[1])
	}
	return path
}

// timeRequests serves path b.N times and reports the median and 95th
// percentile of the time to complete each response.
func timeRequests(b *testing.B, s *benchServer, path string, check func(*httptest.ResponseRecorder)) {
	b.Helper()
	var ds []time.Duration
	for b.Loop() {
		start := time.Now()
		w := s.get(b, path)
		ds = append(ds, time.Since(start))
		if check != nil {
			b.StopTimer()
			check(w)
			b.StartTimer()
		}
	}
	slices.Sort(ds)
	if len(ds) > 0 {
		b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(ds[len(ds)*95/100].Microseconds())/1000, "p95-ms")
	}
}

var assetRe = regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`)

// BenchmarkDashboard100k measures the dashboard's pages server-side,
// through the real handler with a logged-in session, on a store of
// 100,000 accounts and 300,000 memberships:
//
//	ROSTER_TEST_POSTGRES_URL=postgres://... go test -run '^$' -bench Dashboard100k -benchtime 30x -timeout 30m ./internal/web/
//
// Each case reports p50-ms and p95-ms: the time from the request to the
// last byte written, templates included. The store's directory knows 9 in
// 10 people (storetest.SeedDashboard), whose names the list shows and
// searches. (The CSV export is the API's:
// BenchmarkUsersCSV100k in internal/api.) The overview also reports its
// weight: the HTML plus the CSS and JavaScript it references, uncompressed.
func BenchmarkDashboard100k(b *testing.B) {
	backends := []struct {
		name string
		dsn  func(testing.TB) string
	}{{"sqlite", storetest.SQLiteDSN}, {"postgres", storetest.PostgresDSN}}
	for _, backend := range backends {
		b.Run(backend.name, func(b *testing.B) {
			s := newBenchServer(b, backend.dsn(b))

			// The cursor of the last page but one, by email: the store's
			// cursor after 99,950 accounts, as /users?cursor= takes it.
			q := store.AccountQuery{Limit: 1000}
			for range 99 {
				page, err := s.db.ListAccounts(context.Background(), q)
				require.NoError(b, err)
				q.Cursor = page.NextCursor
			}
			page, err := s.db.ListAccounts(context.Background(), store.AccountQuery{Limit: 950, Cursor: q.Cursor})
			require.NoError(b, err)
			require.NotEmpty(b, page.NextCursor)
			nearEnd := "/users?cursor=" + page.NextCursor

			const filter = "/users?license=full&activity=inactive&status=active"
			const orgFilter = "/users?org=o1&license=full&activity=inactive&status=active"
			cases := []struct {
				name, path string
				shows      string // on the page when not ""
			}{
				{"users-first", "/users", ""},
				{"users-deep-50-pages", s.follow(b, "/users", 50), ""},
				{"users-near-end", nearEnd, ""},
				{"users-by-activity-deep-50", s.follow(b, "/users?sort=last_activity&desc=1", 50), ""},
				{"users-filtered-first", filter, ""},
				{"users-filtered-deep-50", s.follow(b, filter, 50), ""},
				{"users-never-logged-in", "/users?activity=never&status=active", ""},
				{"users-org", "/users?org=o1", ""},
				{"users-org-filtered", orgFilter, ""},
				{"users-org-filtered-by-name", orgFilter + "&sort=name", ""},
				// Part of an email: one person.
				{"users-search", "/users?q=user4242%40", "user4242@example.com"},
				// Part of a name the directory gives 2,205 people.
				{"users-search-name", "/users?q=kowalcz", "Kowalczyk"},
				// A domain every email holds.
				{"users-search-domain", "/users?q=example.com", ""},
				// Two characters: too short for the index, every row read.
				{"users-search-short", "/users?q=r4", ""},
			}

			b.Run("overview", func(b *testing.B) {
				w := s.get(b, "/")
				body := w.Body.String()
				weight := len(body)
				assets := assetRe.FindAllStringSubmatch(body, -1)
				require.NotEmpty(b, assets, "the overview references no assets")
				for _, m := range assets {
					weight += s.get(b, html.UnescapeString(m[1])).Body.Len()
				}
				timeRequests(b, s, "/", nil)
				b.ReportMetric(float64(len(body))/1000, "html-KB")
				b.ReportMetric(float64(weight)/1000, "page-KB")
			})
			for _, tc := range cases {
				b.Run(tc.name, func(b *testing.B) {
					body := s.get(b, tc.path).Body.String()
					if pageTotal(b, body) == 0 {
						b.Fatalf("%s: no one on the page", tc.path)
					}
					if !strings.Contains(body, tc.shows) {
						b.Fatalf("%s: %q is not on the page", tc.path, tc.shows)
					}
					timeRequests(b, s, tc.path, nil)
				})
			}
		})
	}
}
