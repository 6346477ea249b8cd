package mirosync_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"roster"
	"roster/internal/mirosim"
	"roster/internal/mirosync"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
	"roster/internal/testkit"
)

// Benchmarks of a full organization: ROSTER_BENCH_MEMBERS members (default
// 100,000), one team per hundred of them, three teams per member, against
// an in-process simulator with no rate budget.
//
//	go test -run '^$' -bench . -benchtime 1x ./internal/mirosync/
//
// PostgreSQL runs too when ROSTER_TEST_POSTGRES_URL is set.

func benchMembers(b *testing.B) int {
	if v := os.Getenv("ROSTER_BENCH_MEMBERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			b.Fatalf("ROSTER_BENCH_MEMBERS=%q is not a member count", v)
		}
		return n
	}
	return 100_000
}

// countingStore is the real store, noting the size of each applied diff:
// the rows a sync asked to write.
type countingStore struct {
	store.Store
	mu      sync.Mutex
	written int
}

func (c *countingStore) ApplySync(ctx context.Context, run *roster.SyncRun, d store.Diff) error {
	n := len(d.Teams) + len(d.RemovedTeams) + len(d.Accounts) + len(d.Seen) + len(d.Unseen) +
		len(d.Memberships) + len(d.RemovedMemberships) + len(d.Changes)
	if d.Organization != nil {
		n++
	}
	c.mu.Lock()
	c.written = n
	c.mu.Unlock()
	return c.Store.ApplySync(ctx, run, d)
}

// benchBackends runs fn on SQLite, and on PostgreSQL when configured.
func benchBackends(b *testing.B, fn func(b *testing.B, dsn func() string)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, func() string { return storetest.SQLiteDSN(b) }) })
	b.Run("postgres", func(b *testing.B) {
		if os.Getenv("ROSTER_TEST_POSTGRES_URL") == "" {
			b.Skip("ROSTER_TEST_POSTGRES_URL not set: PostgreSQL benchmark skipped")
		}
		fn(b, func() string { return storetest.PostgresDSN(b) })
	})
}

// simChildEnv, when set in the environment, makes the test binary serve a
// simulator instead of running tests (see TestMain): benchmarks run the
// simulator in a child process, so that the peak RSS they report is the
// sync's alone.
const simChildEnv = "ROSTER_SYNC_BENCH_SIM"

// simChildConfig is what the child simulator is built from.
type simChildConfig struct {
	Members, Teams int
	TeamsPerMember float64
}

func TestMain(m *testing.M) {
	if cfg := os.Getenv(simChildEnv); cfg != "" {
		os.Exit(serveSimChild(cfg))
	}
	os.Exit(m.Run())
}

// serveSimChild serves a simulator with no rate budget until stdin closes,
// printing its URL first.
func serveSimChild(raw string) int {
	var c simChildConfig
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		fmt.Fprintln(os.Stderr, "sim child:", err)
		return 2
	}
	sim, err := mirosim.New(mirosim.Config{Members: c.Members, Teams: c.Teams, TeamsPerMember: c.TeamsPerMember,
		RateWindow: time.Second, RateBudget: math.MaxInt32})
	if err != nil {
		fmt.Fprintln(os.Stderr, "sim child:", err)
		return 2
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "sim child:", err)
		return 2
	}
	go http.Serve(ln, sim.Handler())
	fmt.Println("http://" + ln.Addr().String())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// startSimChild runs the simulator in a child process for the benchmark.
func startSimChild(b *testing.B) string {
	b.Helper()
	n := benchMembers(b)
	cfg, _ := json.Marshal(simChildConfig{Members: n, Teams: max(1, n/100), TeamsPerMember: 3})
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), simChildEnv+"="+string(cfg))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("simulator child: %v", err)
	}
	return strings.TrimSpace(line)
}

// benchTruth is the little a benchmark keeps of the simulator's truth, so
// that the truth does not weigh on the peak RSS it measures.
type benchTruth struct {
	minCalls, members, memberships int
	licenses                       map[string]string // by member id
}

// benchBundle starts the simulator process once per backend and reads
// its truth.
func benchBundle(b *testing.B, dsn string) (*testBundle, *countingStore, benchTruth) {
	b.Helper()
	db, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	url := startSimChild(b)
	hc := &http.Client{}
	var info mirosim.Info
	simAdmin(b, hc, url+"/_sim", http.MethodGet, "/info", nil, &info)
	tb := &testBundle{Kit: testkit.Wire(b, db, info, hc), hc: hc}
	cs := &countingStore{Store: db}
	tb.Syncer.Store = cs
	tr := tb.readTruth(b)
	bt := benchTruth{minCalls: tr.minCalls(), members: len(tr.members), memberships: len(tr.memberships),
		licenses: map[string]string{}}
	for id, m := range tr.members {
		bt.licenses[id] = m.License.String()
	}
	return tb, cs, bt
}

// peakRSS resets the kernel's peak-RSS mark (VmHWM) and returns a func
// that reads it, in MB.
func peakRSS() func() float64 {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	return func() float64 {
		f, err := os.Open("/proc/self/status")
		if err != nil {
			return 0
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
				kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
				return float64(kb) / 1024
			}
		}
		return 0
	}
}

// heapSampler samples the Go heap every 20ms and returns a stop func
// giving, in MB, the peak of the heap in use (garbage included, so it
// follows the GC target) and the peak of the live heap as of each GC.
func heapSampler() func() (inUse, live float64) {
	done := make(chan struct{})
	var peakInUse, peakLive uint64
	var wg sync.WaitGroup
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	wg.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peakInUse = max(peakInUse, s[0].Value.Uint64())
			peakLive = max(peakLive, s[1].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() (float64, float64) {
		close(done)
		wg.Wait()
		return float64(peakInUse) / (1 << 20), float64(peakLive) / (1 << 20)
	}
}

func liveHeapMB() float64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return float64(s[0].Value.Uint64()) / (1 << 20)
}

// BenchmarkFirstSync syncs the whole organization into an empty store.
// It reports API calls against the minimum, credits, wall time, the
// process's peak RSS during the sync (the in-process simulator's world
// included; sim-live-MB is that world's share) and the Go heap's peak.
func BenchmarkFirstSync(b *testing.B) {
	benchBackends(b, func(b *testing.B, dsn func() string) {
		tb, _, tr := benchBundle(b, dsn())
		tr.licenses = nil
		base := liveHeapMB()
		ctx := context.Background()
		var secs, rss, heap, live float64
		var run roster.SyncRun
		b.ResetTimer()
		for range b.N {
			b.StopTimer()
			// A fresh, empty store and connection each time.
			db, err := sqlstore.Open(ctx, dsn())
			if err != nil {
				b.Fatal(err)
			}
			tb.DB = db
			tb.Syncer.Store = db
			conn := tb.connectKind(b, mirosim.InstallOrgAdmin, roster.LevelOrganization)
			tb.resetStats(b)
			runtime.GC()
			readRSS := peakRSS()
			stopHeap := heapSampler()
			start := time.Now()
			b.StartTimer()

			run, err = tb.Syncer.Sync(ctx, conn.ID)

			b.StopTimer()
			secs = time.Since(start).Seconds()
			heap, live = stopHeap()
			rss = readRSS()
			if err != nil {
				b.Fatal(err)
			}
			db.Close()
			b.StartTimer()
		}
		st := tb.stats(b)
		audit := st.ByOperation["enterprise-get-audit-logs"].Calls
		b.ReportMetric(float64(st.Calls-audit), "api-calls")
		b.ReportMetric(float64(tr.minCalls), "minimum-calls")
		b.ReportMetric(float64(audit), "audit-calls")
		b.ReportMetric(float64(st.Credits), "credits")
		b.ReportMetric(secs, "seconds")
		b.ReportMetric(rss, "peak-rss-MB")
		b.ReportMetric(heap, "peak-heap-MB")
		// What the sync itself held live at its peak, over what the
		// process held before it.
		b.ReportMetric(live-base, "sync-live-MB")
		b.ReportMetric(float64(tr.memberships), "memberships")
		if st.Calls-audit != tr.minCalls {
			b.Errorf("api calls %d, minimum %d", st.Calls-audit, tr.minCalls)
		}
		if run.Added != tr.members {
			b.Errorf("added %d accounts, want %d", run.Added, tr.members)
		}
	})
}

// BenchmarkResyncNoChanges resyncs an unchanged organization: no rows.
func BenchmarkResyncNoChanges(b *testing.B) {
	benchBackends(b, func(b *testing.B, dsn func() string) {
		tb, cs, _ := benchBundle(b, dsn())
		conn := tb.connectKind(b, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		ctx := context.Background()
		if _, err := tb.Syncer.Sync(ctx, conn.ID); err != nil {
			b.Fatal(err)
		}
		var secs float64
		b.ResetTimer()
		for range b.N {
			start := time.Now()
			run, err := tb.Syncer.Sync(ctx, conn.ID)
			if err != nil {
				b.Fatal(err)
			}
			secs = time.Since(start).Seconds()
			if cs.written != 0 || run.Added+run.Changed+run.Removed != 0 {
				b.Fatalf("an unchanged resync wrote %d rows", cs.written)
			}
		}
		b.ReportMetric(float64(cs.written), "rows-written")
		b.ReportMetric(secs, "seconds")
	})
}

// BenchmarkResyncOnePercent changes the license of 1% of the members
// between syncs: only their account and change rows are written.
func BenchmarkResyncOnePercent(b *testing.B) {
	benchBackends(b, func(b *testing.B, dsn func() string) {
		tb, cs, tr := benchBundle(b, dsn())
		conn := tb.connectKind(b, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		ctx := context.Background()
		if _, err := tb.Syncer.Sync(ctx, conn.ID); err != nil {
			b.Fatal(err)
		}
		license := tr.licenses
		ids := slices.Sorted(maps.Keys(license))
		const step = 100 // 1%
		var secs float64
		var changes int
		b.ResetTimer()
		for i := range b.N {
			b.StopTimer()
			changes = 0
			for j := i % step; j < len(ids); j += step {
				next := "basic"
				if license[ids[j]] == next {
					next = "advanced"
				}
				tb.simAdmin(b, http.MethodPatch, "/members/"+ids[j], map[string]string{"license": next}, nil)
				license[ids[j]] = next
				changes++
			}
			start := time.Now()
			b.StartTimer()
			run, err := tb.Syncer.Sync(ctx, conn.ID)
			b.StopTimer()
			secs = time.Since(start).Seconds()
			if err != nil {
				b.Fatal(err)
			}
			if run.Changed != changes {
				b.Fatalf("changed %d accounts, want %d", run.Changed, changes)
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(changes), "members-changed")
		b.ReportMetric(float64(cs.written), "rows-written")
		b.ReportMetric(secs, "seconds")
	})
}

// BenchmarkPacedSync syncs against a compressed credit budget (credits per
// second instead of per minute) and reports how close the wall time comes
// to credits ÷ budget, the physical limit (ratio; 1.15 is the target), and
// how well the progress estimate of the time left did half-way through the
// team-member pages.
func BenchmarkPacedSync(b *testing.B) {
	members := 10_000
	if v := os.Getenv("ROSTER_BENCH_PACED_MEMBERS"); v != "" {
		members, _ = strconv.Atoi(v)
	}
	const budget = 20_000 // credits per one-second window
	db, err := sqlstore.Open(context.Background(), storetest.SQLiteDSN(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	tb := setup(b, mirosim.Config{Members: members, Teams: max(1, members/100), TeamsPerMember: 3,
		RateWindow: time.Second, RateBudget: budget}, db)
	ctx := context.Background()
	var ratio, secs, estimate, actual float64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		db, err := sqlstore.Open(ctx, storetest.SQLiteDSN(b))
		if err != nil {
			b.Fatal(err)
		}
		tb.DB, tb.Syncer.Store = db, db
		conn := tb.connectKind(b, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		tb.resetStats(b)
		time.Sleep(time.Second) // a fresh window
		var half time.Time
		var halfEstimate time.Duration
		var lastTeamPage time.Time
		tb.Syncer.Progress = func(p mirosync.Progress) {
			if p.Phase != "team members" || p.Waiting > 0 {
				return // only pages, not the start of a wait
			}
			lastTeamPage = time.Now()
			if half.IsZero() && p.TeamsDone*2 >= p.Teams {
				half, halfEstimate = time.Now(), p.EstimatedLeft
			}
		}
		start := time.Now()
		b.StartTimer()
		run, err := tb.Syncer.Sync(ctx, conn.ID)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		secs = time.Since(start).Seconds()
		ideal := float64(run.Credits) / budget
		ratio = secs / ideal
		estimate, actual = halfEstimate.Seconds(), lastTeamPage.Sub(half).Seconds()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(secs, "seconds")
	b.ReportMetric(ratio, "x-credits/budget")
	b.ReportMetric(estimate, "est-left-at-half-s")
	b.ReportMetric(actual, "actual-left-at-half-s")
}
