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

// Budget is Miro's rate budget for one token as the client has learned it
// from the X-RateLimit-* headers of Miro's answers.
type Budget struct {
	// Known is false until an answer carried the headers.
	Known bool
	// Limit is the credits Miro allows per window (X-RateLimit-Limit).
	Limit int
	// Window is the window's length: measured once two windows were
	// seen (WindowMeasured), a minute (Miro's documented window) before.
	Window         time.Duration
	WindowMeasured bool
	// Remaining is what the current window has left for calls not yet
	// sent, and Reset when it ends; Reset is zero when a new window has
	// begun whose end no answer has told yet.
	Remaining int
	Reset     time.Time
}

// defaultWindow is Miro's documented rate-limit window.
const defaultWindow = time.Minute

// PerSecond is the budget's rate in credits per second; 0 while unknown.
func (b Budget) PerSecond() float64 {
	if !b.Known || b.Limit <= 0 || b.Window <= 0 {
		return 0
	}
	return float64(b.Limit) / b.Window.Seconds()
}

// Budget reports the rate budget the client has learned so far. It is
// shared by everything acting through the client's token.
func (c *Client) Budget() Budget { return c.pacer.budget() }

func (p *pacer) budget() Budget {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := Budget{Known: p.known, Limit: p.limit, Window: defaultWindow, Remaining: p.remaining, Reset: p.reset}
	if p.window > 0 {
		b.Window, b.WindowMeasured = p.window, true
	}
	if b.Reset.IsZero() || !p.now().Before(b.Reset) {
		// The window we know of has ended: the next starts full.
		b.Remaining, b.Reset = p.limit, time.Time{}
	}
	b.Remaining = max(0, b.Remaining-p.inflight)
	return b
}

// Wait is a pause the pacer makes a call take before it is sent.
type Wait struct {
	For    time.Duration
	Reason string // WaitRateLimit or WaitRetryAfter, in words a person reads
}

// Why a call waits.
const (
	// WaitRateLimit: this window's budget is spent; the call waits for
	// the next window (X-RateLimit-Reset).
	WaitRateLimit = "Miro's rate limit"
	// WaitRetryAfter: Miro refused a call (429) and said when to retry.
	WaitRetryAfter = "Miro's request to slow down"
)

// waitNoticeMin is the shortest wait worth telling: a second, and the
// jitter added to every wait.
const waitNoticeMin = time.Second + 50*time.Millisecond

type waitNoticeKey struct{}

// WithWaitNotice returns ctx whose calls tell notice, when the pacer makes
// one wait more than a second for Miro's limits, how long and why, as the
// wait starts. notice may be called from several goroutines at once (one
// per call waiting); it must not block for long.
func WithWaitNotice(ctx context.Context, notice func(Wait)) context.Context {
	return context.WithValue(ctx, waitNoticeKey{}, notice)
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

	// What the budget's windows look like, for Budget: the latest window
	// Miro reported and the lowest remaining it gave in it, and the
	// window's length once two windows were seen.
	seenReset     time.Time
	seenRemaining int
	window        time.Duration
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
// A wait of more than waitNoticeMin is told to the context's
// WithWaitNotice callback at its start.
func (p *pacer) acquire(ctx context.Context, cost int) error {
	notice, _ := ctx.Value(waitNoticeKey{}).(func(Wait))
	var told time.Time // the end of the wait last told
	for {
		p.mu.Lock()
		now := p.now()
		wait, reason, ok := p.tryReserve(now, cost)
		changed := p.changed
		p.mu.Unlock()
		if ok {
			return nil
		}
		// Tell a long wait once: a waiter woken early to look again
		// tells it again only when the wait ends later than it said.
		if until := now.Add(wait); notice != nil && reason != "" && wait > waitNoticeMin && until.Sub(told) > waitNoticeMin {
			told = until
			notice(Wait{For: wait, Reason: reason})
		}
		if err := sleepOrChange(ctx, wait, changed); err != nil {
			return err
		}
	}
}

// tryReserve reserves cost credits or says how long to wait and, for a
// wait on Miro's limits rather than on answers in flight, why. Callers
// hold mu.
func (p *pacer) tryReserve(now time.Time, cost int) (time.Duration, string, bool) {
	if now.Before(p.notBefore) {
		return p.notBefore.Sub(now) + jitter(), WaitRetryAfter, false
	}
	if !p.known {
		// Nothing learned yet: let one call out to learn the budget.
		if p.probing {
			return time.Second, "", false // woken early by release
		}
		p.probing = true
		p.inflight += cost
		return 0, "", true
	}
	if !p.reset.IsZero() && !now.Before(p.reset) {
		// The window we know of has ended; the next one starts full. Its
		// reset time comes with the next response.
		p.remaining = p.limit
		p.reset = time.Time{}
	}
	if p.remaining-p.inflight >= cost {
		p.inflight += cost
		return 0, "", true
	}
	if p.reset.IsZero() {
		// A new window whose budget calls in flight already use up: wait
		// for their answers, which bring the reset time.
		return time.Second, "", false
	}
	// Not enough left in this window: sleep until it resets. Answers of
	// calls in flight wake us early to look again.
	return p.reset.Sub(now) + jitter(), WaitRateLimit, false
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
		p.learnWindow(reset, remaining)
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

// learnWindow measures the budget's window: the time between two
// windows' resets, when the later one gave budget back (its remaining
// above the earlier one's lowest). The shortest such gap is the window;
// a longer one spans windows nobody used. Callers hold mu.
func (p *pacer) learnWindow(reset time.Time, remaining int) {
	switch {
	case p.seenReset.IsZero() || reset.After(p.seenReset):
		if !p.seenReset.IsZero() && remaining > p.seenRemaining {
			if d := reset.Sub(p.seenReset); p.window == 0 || d < p.window {
				p.window = d
			}
		}
		p.seenReset, p.seenRemaining = reset, remaining
	case reset.Equal(p.seenReset):
		p.seenRemaining = min(p.seenRemaining, remaining)
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
