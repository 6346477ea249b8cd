package miro

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"roster/internal/mirosim"
)

// liveHeapAfterGC forces a collection and returns the bytes still live:
// exactly what the program holds at that moment. Sampling HeapAlloc (or
// /memory/classes/heap/objects:bytes) from a goroutine instead measures
// uncollected garbage too, whose amount follows the GC target, which the
// in-process simulator's own world (large at 100k members) sets, and so
// says nothing about the client.
func liveHeapAfterGC() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// BenchmarkListMembers walks every member of an in-process simulator with
// a budget too large to pace, and reports requests per walk (which must be
// the minimum, ceil(members/100)), members, and the peak growth of the
// live heap during the walk over a baseline taken once the simulator is
// built: live heap is measured after a forced GC every 10 pages (timer
// stopped), so it is what client and simulator really hold mid-walk.
func BenchmarkListMembers(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) {
			tb := setup(b, mirosim.Config{Members: n, Teams: 50, TeamsPerMember: 1, RateWindow: time.Second, RateBudget: math.MaxInt32})
			c := tb.adminClient(b)
			ctx := context.Background()
			wantRequests := (n + pageLimit - 1) / pageLimit
			var peak float64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				before := c.Stats().Calls
				b.StopTimer()
				baseline := liveHeapAfterGC()
				b.StartTimer()
				members := 0
				for _, err := range c.OrgMembers(ctx, tb.info.OrgID, MemberFilter{}) {
					if err != nil {
						b.Fatal(err)
					}
					members++
					if members%(10*pageLimit) == pageLimit/2 {
						b.StopTimer()
						if live := liveHeapAfterGC(); live > baseline {
							peak = max(peak, float64(live-baseline)/(1<<20))
						}
						b.StartTimer()
					}
				}
				requests := c.Stats().Calls - before
				if members != n || requests != wantRequests {
					b.Fatalf("walk got %d members in %d requests, want %d in %d", members, requests, n, wantRequests)
				}
				b.ReportMetric(float64(requests), "requests/op")
				b.ReportMetric(float64(members), "members/op")
			}
			b.ReportMetric(peak, "peak-live-heap-MB")
		})
	}
}

// BenchmarkPacedWalk walks 20,000 members (200 L3 pages = 100,000 credits)
// against a budget compressed to 25,000 credits per 1 s window: ideally
// 4 s. It reports ratio = elapsed / (credits ÷ budget × window), which
// must stay at or under 1.15, and the share of 429 answers (≤ 1%). Each
// iteration uses a fresh simulator and starts just after a window
// boundary, so that figures are repeatable. That start is the least
// favourable here: a page takes well under a millisecond, so each window's
// share is spent at once and the walk then waits out three whole windows;
// a start later in a window only shortens the first wait.
func BenchmarkPacedWalk(b *testing.B) {
	const (
		members = 20_000
		budget  = 25_000
		window  = time.Second
	)
	var ratio, share, elapsed float64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		tb := setup(b, mirosim.Config{Members: members, Teams: 10, TeamsPerMember: 1, RateWindow: window, RateBudget: budget})
		c := tb.adminClient(b)
		now := time.Now()
		time.Sleep(now.Truncate(window).Add(window + 5*time.Millisecond).Sub(now))
		b.StartTimer()

		start := time.Now()
		n := 0
		for _, err := range c.OrgMembers(context.Background(), tb.info.OrgID, MemberFilter{}) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		took := time.Since(start)
		b.StopTimer()

		st := c.Stats()
		if n != members {
			b.Fatalf("walk got %d members, want %d", n, members)
		}
		ideal := float64(st.Credits) / budget * window.Seconds()
		elapsed = took.Seconds()
		ratio = elapsed / ideal
		share = float64(st.RateLimited) / float64(st.Calls)
		b.Logf("paced walk: %d members, %d calls, %d credits, %d 429s, %.2fs elapsed, ideal %.2fs, ratio %.3f",
			n, st.Calls, st.Credits, st.RateLimited, elapsed, ideal, ratio)
		if ratio > 1.15 || share > 0.01 {
			b.Fatalf("paced walk: ratio %.3f (max 1.15), 429 share %.2f%% (max 1%%)", ratio, 100*share)
		}
		b.StartTimer()
	}
	b.ReportMetric(elapsed, "elapsed-s")
	b.ReportMetric(ratio, "ratio")
	b.ReportMetric(100*share, "429-%")
}
