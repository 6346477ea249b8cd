package miro

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster/internal/mirosim"
)

// TestBudgetLearned: the client reports Miro's budget from the first
// answer, and the window's length once it has seen two windows.
func TestBudgetLearned(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 1000, RateWindow: time.Second, RateBudget: 1000})
	c := b.adminClient(t)
	require.False(t, c.Budget().Known, "nothing asked yet")
	require.Zero(t, c.Budget().PerSecond())

	ctx := ctxTimeout(t, time.Minute)
	pages := 0
	var first Budget
	for _, err := range c.OrgMembers(ctx, b.info.OrgID, MemberFilter{}) {
		require.NoError(t, err)
		pages++
		if pages == 1 {
			first = c.Budget()
		}
	}
	// The first answer announces the limit; the window is Miro's
	// documented minute until two windows were seen.
	require.True(t, first.Known)
	require.Equal(t, 1000, first.Limit)
	require.Equal(t, time.Minute, first.Window)
	require.False(t, first.WindowMeasured)

	// Ten Level 3 pages at two a window cross several windows.
	got := c.Budget()
	require.True(t, got.WindowMeasured)
	require.Equal(t, time.Second, got.Window)
	require.InDelta(t, 1000, got.PerSecond(), 0.001)
}

// TestBudgetWindowNeedsARefill: a reset that moves on while the budget
// keeps falling (no window ended) measures nothing.
func TestBudgetWindowNeedsARefill(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_000_000, 0)
	p := newPacer(func() time.Time { return now })
	answer := func(remaining int, reset time.Time) {
		h := http.Header{}
		h.Set("X-RateLimit-Limit", "10000")
		h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		p.release(0, h, http.StatusOK)
	}
	answer(9000, now.Add(30*time.Second))
	answer(8000, now.Add(31*time.Second))
	require.False(t, p.budget().WindowMeasured, "a later reset with less left is not a new window")
	answer(9500, now.Add(91*time.Second))
	require.Equal(t, Budget{Known: true, Limit: 10000, Window: time.Minute, WindowMeasured: true,
		Remaining: 9500, Reset: now.Add(91 * time.Second)}, p.budget())
	answer(9900, now.Add(211*time.Second))
	require.Equal(t, time.Minute, p.budget().Window, "a gap over an unused window is two windows, not one")
}

// TestWaitNoticeRateLimit: a walk over a tight budget is told of each
// long wait for the next window as it starts.
func TestWaitNoticeRateLimit(t *testing.T) {
	t.Parallel()
	// One Level 3 page per 2 s window: every page after the first waits.
	b := setup(t, mirosim.Config{Members: 300, RateWindow: 2 * time.Second, RateBudget: 500})
	c := b.adminClient(t)
	type told struct {
		Wait
		at time.Time
	}
	var (
		mu    sync.Mutex
		waits []told
	)
	ctx := WithWaitNotice(ctxTimeout(t, time.Minute), func(w Wait) {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, told{w, time.Now()})
	})
	var pageAt []time.Time
	n := 0
	for _, err := range c.OrgMembers(ctx, b.info.OrgID, MemberFilter{}) {
		require.NoError(t, err)
		if n++; n%100 == 1 {
			pageAt = append(pageAt, time.Now())
			if len(pageAt) == 3 {
				break
			}
		}
	}
	require.Len(t, pageAt, 3)
	mu.Lock()
	defer mu.Unlock()
	// The wait before the third page is a whole window less a burst, so
	// it is always told; the one before the second depends on where in
	// its window the walk started.
	require.NotEmpty(t, waits)
	require.LessOrEqual(t, len(waits), 2, "each wait is told once")
	last := waits[len(waits)-1]
	require.Equal(t, WaitRateLimit, last.Reason)
	require.Greater(t, last.For, time.Second)
	require.LessOrEqual(t, last.For, 2*time.Second+100*time.Millisecond)
	// Told at the start: the page came most of the wait after the notice.
	require.True(t, last.at.After(pageAt[1]))
	waited := pageAt[2].Sub(last.at)
	require.Greater(t, float64(waited)/float64(last.For), 0.5, "told %s, the page came %s later", last.For, waited)
	require.Zero(t, c.Stats().RateLimited, "paced, not refused")
}

// TestWaitNoticeRetryAfter: after a 429 with Retry-After, the next call
// is told it waits that long for Miro's request to slow down.
func TestWaitNoticeRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_000_000, 0)
	p := newPacer(func() time.Time { return now })
	h := http.Header{}
	h.Set("Retry-After", "42")
	p.release(0, h, http.StatusTooManyRequests)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []Wait
	ctx = WithWaitNotice(ctx, func(w Wait) {
		got = append(got, w)
		cancel() // the test does not sit out the wait
	})
	err := p.acquire(ctx, L2.Credits())
	require.True(t, errors.Is(err, context.Canceled), "got %v", err)
	require.Len(t, got, 1)
	require.Equal(t, WaitRetryAfter, got[0].Reason)
	require.GreaterOrEqual(t, got[0].For, 42*time.Second)
	require.Less(t, got[0].For, 43*time.Second)
}

// TestWaitNoticeShortWaitsUntold: waits of a second or less, and waits
// for answers in flight, are not told.
func TestWaitNoticeShortWaitsUntold(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_000_000, 0)
	p := newPacer(func() time.Time { return now })
	h := http.Header{}
	h.Set("Retry-After", "1")
	p.release(0, h, http.StatusTooManyRequests)
	told := 0
	ctx := WithWaitNotice(context.Background(), func(Wait) { told++ })
	go func() {
		// The fake clock stands still: move it past Retry-After and wake
		// the waiter.
		time.Sleep(50 * time.Millisecond)
		p.mu.Lock()
		now = now.Add(2 * time.Second)
		p.broadcast()
		p.mu.Unlock()
	}()
	require.NoError(t, p.acquire(ctx, L2.Credits()), "the probe goes out once the wait is over")
	require.Zero(t, told)
}
