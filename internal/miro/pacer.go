package miro

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Level is an endpoint's rate-limit level in Miro's credit system.
type Level int

// Miro's rate-limit levels.
const (
	L1 Level = 1
	L2 Level = 2
	L3 Level = 3
	L4 Level = 4
)

// Credits is what one call at the level costs: L1 50, L2 100, L3 500, L4 2000.
func (l Level) Credits() int {
	switch l {
	case L1:
		return 50
	case L2:
		return 100
	case L3:
		return 500
	case L4:
		return 2000
	}
	return 0
}

// pacer spends one token's credit budget without overrunning it. Miro counts
// credits per user and app per window (a minute) and reports the budget,
// what is left and when the window resets on every response. The pacer
// reserves a call's credits against what is left, counting calls still in
// flight, and when the window cannot afford the call it sleeps until the
// reset. So a long walk uses the whole budget in every window and sees
// almost no 429s.
type pacer struct {
	now func() time.Time

	mu        sync.Mutex
	known     bool      // a response with X-RateLimit-* headers has been seen
	limit     int       // X-RateLimit-Limit
	remaining int       // lowest X-RateLimit-Remaining reported for the window ending at reset
	reset     time.Time // X-RateLimit-Reset of the current window
	inflight  int       // credits reserved by calls not answered yet
	probing   bool      // a call is out to learn the headers
	notBefore time.Time // Retry-After from a 429
	changed   chan struct{}
}

func newPacer(now func() time.Time) *pacer {
	return &pacer{now: now, changed: make(chan struct{})}
}

// broadcast wakes every waiter; callers hold mu.
func (p *pacer) broadcast() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// acquire blocks until the call's credits fit the current window, then
// reserves them. release must follow with the call's response headers.
func (p *pacer) acquire(ctx context.Context, cost int) error {
	for {
		p.mu.Lock()
		now := p.now()
		wait, ok := p.tryReserve(now, cost)
		changed := p.changed
		p.mu.Unlock()
		if ok {
			return nil
		}
		if err := sleepOrChange(ctx, wait, changed); err != nil {
			return err
		}
	}
}

// tryReserve reserves cost credits or says how long to wait. Callers hold mu.
func (p *pacer) tryReserve(now time.Time, cost int) (time.Duration, bool) {
	if now.Before(p.notBefore) {
		return p.notBefore.Sub(now) + jitter(), false
	}
	if !p.known {
		// Nothing learned yet: let one call out to learn the budget.
		if p.probing {
			return time.Second, false // woken early by release
		}
		p.probing = true
		p.inflight += cost
		return 0, true
	}
	if !p.reset.IsZero() && !now.Before(p.reset) {
		// The window we know of has ended; the next one starts full. Its
		// reset time comes with the next response.
		p.remaining = p.limit
		p.reset = time.Time{}
	}
	if p.remaining-p.inflight >= cost {
		p.inflight += cost
		return 0, true
	}
	if p.reset.IsZero() {
		// A new window whose budget calls in flight already use up: wait
		// for their answers, which bring the reset time.
		return time.Second, false
	}
	// Not enough left in this window: sleep until it resets. Answers of
	// calls in flight wake us early to look again.
	return p.reset.Sub(now) + jitter(), false
}

// release returns a reservation and learns from the response headers (h
// may be nil when the call got no response).
func (p *pacer) release(cost int, h http.Header, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight -= cost
	if p.inflight < 0 {
		p.inflight = 0
	}
	p.probing = false
	if h != nil {
		p.learn(h, status)
	}
	p.broadcast()
}

// learn updates the window from X-RateLimit-* and Retry-After. Callers hold mu.
func (p *pacer) learn(h http.Header, status int) {
	limit, errL := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	remaining, errR := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	resetSec, errS := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64)
	if errL == nil && errR == nil && errS == nil && limit > 0 {
		reset := time.Unix(resetSec, 0)
		switch {
		case !p.known || p.reset.IsZero() || reset.After(p.reset):
			p.limit, p.remaining, p.reset = limit, remaining, reset
		case reset.Equal(p.reset):
			p.limit = limit
			p.remaining = min(p.remaining, remaining)
		}
		p.known = true
		if status == http.StatusTooManyRequests && reset.Equal(p.reset) {
			// Miro refused: the window is spent whatever it said.
			p.remaining = 0
		}
	}
	if status == http.StatusTooManyRequests {
		if d, ok := parseRetryAfter(h.Get("Retry-After"), p.now()); ok {
			if t := p.now().Add(d); t.After(p.notBefore) {
				p.notBefore = t
			}
		} else if !p.known || !p.reset.After(p.now()) {
			// No usable reset (no headers, or a reset already past by our
			// clock): back off a second so that we do not hammer Miro.
			p.notBefore = p.now().Add(time.Second)
		}
	}
}

func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// jitter spreads wake-ups after a reset so that goroutines (and the
// server's clock) line up, without wasting much of the window.
func jitter() time.Duration {
	return 5*time.Millisecond + rand.N(20*time.Millisecond)
}

// sleepOrChange waits d, or until changed is closed, or until ctx ends.
func sleepOrChange(ctx context.Context, d time.Duration, changed <-chan struct{}) error {
	if d <= 0 {
		d = time.Millisecond
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	case <-changed:
		return nil
	}
}

// sleepCtx waits d unless ctx ends first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	return sleepOrChange(ctx, d, nil)
}
