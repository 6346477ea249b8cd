package mirosync

import (
	"context"
	"math"
	"strconv"
	"sync"
	"time"

	"roster/internal/miro"
	"roster/internal/store"
)

// Progress is where a running sync stands.
type Progress struct {
	Phase     string // "organization", "members", "teams", "team members", "audit"; "" before the first page
	Pages     int    // pages fetched so far
	Members   int    // people seen so far
	Teams     int    // teams seen so far
	TeamsDone int    // teams whose members are all fetched
	APICalls  int    // calls to Miro so far
	Credits   int    // Miro's rate-limit units those calls cost
	// EstimatedLeft is the time the rest of the team-member pages (or a
	// team plan's member lookups) should take, at Miro's announced rate
	// budget or at the rate seen so far when that is lower; zero while
	// unknown.
	EstimatedLeft time.Duration
	// Waiting is how long the sync now waits for Miro's limits, reported
	// as the wait starts; zero when it is not waiting. WaitReason says
	// what for, in words a person reads (miro.WaitRateLimit,
	// miro.WaitRetryAfter).
	Waiting    time.Duration
	WaitReason string
}

// DefaultProgressEvery is how often a running sync records its progress
// in the store when Syncer.ProgressEvery is zero.
const DefaultProgressEvery = time.Second

// CallsToMiro is n calls in words: "1 call to Miro", "120 calls to Miro".
func CallsToMiro(n int) string {
	if n == 1 {
		return "1 call to Miro"
	}
	return strconv.Itoa(n) + " calls to Miro"
}

// page counts one fetched page and reports progress.
func (w *walk) page(phase string, update func(w *walk)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.phase = phase
	w.pages++
	// A page came: any wait is over.
	w.waitUntil, w.waitReason = time.Time{}, ""
	if update != nil {
		update(w)
	}
	w.report(0)
}

// waiting reports a wait for Miro's limits as it starts. The pacer tells
// each waiting call; calls waiting for the same window are told once.
func (w *walk) waiting(wt miro.Wait) {
	w.mu.Lock()
	defer w.mu.Unlock()
	until := time.Now().Add(wt.For)
	if d := until.Sub(w.waitUntil); d > -time.Second && d < time.Second && wt.Reason == w.waitReason {
		return
	}
	w.waitUntil, w.waitReason = until, wt.Reason
	w.report(wt.For)
}

// report hands where the sync stands to the Progress callback and the
// store's saver; waiting is the wait starting now, if any. Callers hold mu.
func (w *walk) report(waiting time.Duration) {
	if w.s.Progress == nil && w.saver == nil {
		return
	}
	st := w.meter.Stats()
	p := Progress{
		Phase: w.phase, Pages: w.pages, Members: w.members, Teams: w.teams, TeamsDone: w.teamsDone,
		APICalls: st.Calls, Credits: st.Credits, EstimatedLeft: w.estimateLeft(st.Credits),
	}
	if waiting > 0 {
		p.Waiting, p.WaitReason = waiting, w.waitReason
	}
	if w.saver != nil {
		w.saver.set(store.SyncProgress{
			Phase: p.Phase, Pages: p.Pages, Members: p.Members, Teams: p.Teams, TeamsDone: p.TeamsDone,
			APICalls: p.APICalls, Credits: p.Credits, EstimatedLeft: p.EstimatedLeft,
			WaitingUntil: w.waitUntil, WaitReason: w.waitReason, At: time.Now(),
		})
	}
	if w.s.Progress != nil {
		w.s.Progress(p)
	}
}

// estimateLeft guesses the time the rest of the team-member pages take
// (or the rest of a team plan's member lookups). Pages left are the teams
// left times the mean pages of a team done, less the pages of teams under
// way; before any team is done, a team is guessed at its share of the
// members (one page at least). Their cost takes the longer of two times:
// at the pace the sync has kept so far (Miro is then not what holds it
// back), and what Miro's rate budget, announced from the first answer,
// allows: what the current window has left now, a full window after each
// reset. Callers hold mu.
func (w *walk) estimateLeft(credits int) time.Duration {
	var cost float64 // credits still to spend
	switch {
	case w.phase == "team members" && w.teams > 0:
		perTeam := max(1, float64(w.members)/float64(w.teams)/pageSize)
		if w.teamsDone > 0 {
			perTeam = float64(w.finishedTeamPages) / float64(w.teamsDone)
		}
		pages := float64(w.teams-w.teamsDone)*perTeam - float64(w.teamPagesDone-w.finishedTeamPages)
		cost = pages * float64(miro.L2.Credits())
	case w.phase == "members" && w.lookups > 0:
		cost = float64(w.lookups-w.lookupsDone) * float64(miro.L3.Credits())
	}
	if cost <= 0 || w.client == nil {
		return 0
	}
	var left time.Duration
	if elapsed := time.Since(w.started); credits > 0 && elapsed > 0 {
		left = time.Duration(cost / float64(credits) * float64(elapsed))
	}
	return max(left, budgetTime(w.client.Budget(), cost, time.Now()))
}

// budgetTime is the least time Miro's rate budget b lets cost credits
// take from now: what the window has left goes at once, the rest a
// window's limit at each reset.
func budgetTime(b miro.Budget, cost float64, now time.Time) time.Duration {
	if !b.Known || b.Limit <= 0 {
		return 0
	}
	remaining := b.Remaining
	untilReset := b.Window // a window begun with no answer yet: at most a window
	switch {
	case b.Reset.IsZero():
	case now.Before(b.Reset):
		untilReset = b.Reset.Sub(now)
	default:
		// The window the last answer spoke of is over: the next one
		// starts full, as the pacer counts it.
		remaining = b.Limit
	}
	over := cost - float64(remaining)
	if over <= 0 {
		return 0
	}
	resets := math.Ceil(over / float64(b.Limit))
	return untilReset + time.Duration(resets-1)*b.Window
}

// progressSaver records a running sync's progress in the store, at most
// once per every, off the walk's path: the latest progress is written as
// soon as the last write is every old, so a wait reported just after a
// page still reaches the store at most every later.
type progressSaver struct {
	store store.Store
	runID int64
	every time.Duration
	warn  func(err error)

	mu     sync.Mutex
	latest store.SyncProgress
	dirty  bool

	kick chan struct{}
	stop context.CancelFunc
	done chan struct{}
}

// startSaver starts recording run's progress until finish.
func (s *Syncer) startSaver(ctx context.Context, runID int64) *progressSaver {
	every := s.ProgressEvery
	if every <= 0 {
		every = DefaultProgressEvery
	}
	ctx, stop := context.WithCancel(ctx)
	ps := &progressSaver{store: s.Store, runID: runID, every: every, kick: make(chan struct{}, 1), stop: stop, done: make(chan struct{})}
	ps.warn = func(err error) {
		s.logger().DebugContext(ctx, "sync: record progress", "run", runID, "error", err)
	}
	go ps.loop(ctx)
	return ps
}

// set makes p the progress to record next.
func (ps *progressSaver) set(p store.SyncProgress) {
	ps.mu.Lock()
	ps.latest, ps.dirty = p, true
	ps.mu.Unlock()
	select {
	case ps.kick <- struct{}{}:
	default:
	}
}

func (ps *progressSaver) loop(ctx context.Context) {
	defer close(ps.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-ps.kick:
		}
		ps.write(ctx)
		t := time.NewTimer(ps.every)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// write records the latest progress if it is not recorded yet.
func (ps *progressSaver) write(ctx context.Context) {
	ps.mu.Lock()
	p, dirty := ps.latest, ps.dirty
	ps.dirty = false
	ps.mu.Unlock()
	if !dirty {
		return
	}
	err := ps.store.SaveSyncProgress(ctx, ps.runID, p)
	if err == nil {
		return
	}
	// A failed write only leaves the page a little behind; finish tries
	// it again unless newer progress came meanwhile.
	ps.mu.Lock()
	if !ps.dirty {
		ps.latest, ps.dirty = p, true
	}
	ps.mu.Unlock()
	if ctx.Err() == nil {
		ps.warn(err)
	}
}

// finish stops the saver and records the last progress, so that the run
// keeps how many people and teams it saw, before the run's end is
// recorded.
func (ps *progressSaver) finish(ctx context.Context) {
	ps.stop()
	<-ps.done
	ps.write(context.WithoutCancel(ctx))
}
