package mirosync_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/mirosync"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
	"roster/internal/testkit"
)

// teamPhase records, from a sync's progress, the first team-member page
// (when, and the time left it estimated) and the last one.
type teamPhase struct {
	mu              sync.Mutex
	first, last     time.Time
	firstEstimate   time.Duration
	firstTeamsDone  int
	creditsAtFirst  int
	creditsAtLast   int
	teamPages       int
	estimatesSeen   int
	waitingReported int
}

func (tp *teamPhase) observe(p mirosync.Progress) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if p.Waiting > 0 {
		tp.waitingReported++
		return
	}
	if p.Phase != "team members" {
		return
	}
	now := time.Now()
	if tp.first.IsZero() {
		tp.first, tp.firstEstimate, tp.firstTeamsDone, tp.creditsAtFirst = now, p.EstimatedLeft, p.TeamsDone, p.Credits
	}
	if p.EstimatedLeft > 0 {
		tp.estimatesSeen++
	}
	tp.last, tp.creditsAtLast = now, p.Credits
	tp.teamPages++
}

// openSQLite is a fresh SQLite store: these tests measure the walk, not
// the store.
func openSQLite(t *testing.T) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), storetest.SQLiteDSN(t))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// TestEstimateFromFirstTeamPage: on a sync that Miro's rate budget holds
// back, the first team-member page already estimates the time the team
// members take within a factor of two, from the budget Miro announced.
func TestEstimateFromFirstTeamPage(t *testing.T) {
	t.Parallel()
	// The members and teams (3,550 credits) take three windows of 1,500;
	// the team members (60 pages of 100) four more.
	const budget = 1500
	b := setup(t, mirosim.Config{Members: 600, Teams: 60, TeamsPerMember: 2, RateWindow: time.Second, RateBudget: budget}, openSQLite(t))
	conn := b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
	var tp teamPhase
	b.Syncer.Progress = tp.observe
	b.Sync(t, conn.ID)

	require.Zero(t, tp.firstTeamsDone, "the estimate comes from the first page, before any team is done")
	require.Positive(t, tp.firstEstimate, "the first team-member page estimates the time left")
	took := tp.last.Sub(tp.first)
	// The budget held the sync back: the team pages took at least half
	// the time their credits need at the budget's rate.
	atBudget := time.Duration(float64(tp.creditsAtLast-tp.creditsAtFirst) / budget * float64(time.Second))
	require.Greater(t, float64(took), 0.5*float64(atBudget), "the budget binds: took %s, credits at the budget %s", took, atBudget)
	ratio := float64(tp.firstEstimate) / float64(took)
	t.Logf("first estimate %s, took %s (ratio %.2f); credits at the budget %s", tp.firstEstimate, took, ratio, atBudget)
	require.Greater(t, ratio, 0.5)
	require.Less(t, ratio, 2.0)
	require.GreaterOrEqual(t, tp.estimatesSeen, tp.teamPages-4, "every team page estimates, but the last few (one per worker)")
}

// TestEstimateAtMirosPace: when Miro answers slowly and the budget is
// not what holds the sync back, the estimate follows the pace so far.
func TestEstimateAtMirosPace(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 600, Teams: 60, TeamsPerMember: 2}, openSQLite(t))
	conn := b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
	b.Sim.SetFaults(mirosim.Fault{Kind: mirosim.FaultLatency, Rate: 1, Latency: 30 * time.Millisecond})
	var tp teamPhase
	b.Syncer.Progress = tp.observe
	b.Sync(t, conn.ID)

	require.Positive(t, tp.firstEstimate)
	took := tp.last.Sub(tp.first)
	ratio := float64(tp.firstEstimate) / float64(took)
	t.Logf("first estimate %s, took %s (ratio %.2f)", tp.firstEstimate, took, ratio)
	require.Greater(t, ratio, 0.5)
	require.Less(t, ratio, 2.0)
	require.Zero(t, tp.waitingReported, "Miro's budget never made the sync wait")
}

// TestProgressRecordedLive: a running sync records its progress in the
// store while it runs, and a wait for Miro's rate limit as it starts;
// the finished run keeps the people and teams it counted.
func TestProgressRecordedLive(t *testing.T) {
	t.Parallel()
	testkit.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		// 2,500 credits of organization and members against 1,500 per 2 s
		// window: the sync waits for the next window at least once.
		b := setup(t, mirosim.Config{Members: 400, Teams: 4, TeamsPerMember: 1, RateWindow: 2 * time.Second, RateBudget: 1500}, db)
		conn := b.connectKind(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		b.Syncer.ProgressEvery = 10 * time.Millisecond

		var (
			runID                int64
			sawWait, sawTeamPage bool
			waits                []mirosync.Progress
		)
		// The callback runs on the sync's goroutines: it reports with
		// Errorf, never FailNow.
		current := func() (store.SyncProgress, error) {
			if runID == 0 {
				runs, err := db.SyncRuns(ctx, conn.ID, 1)
				if err != nil || len(runs) != 1 {
					return store.SyncProgress{}, fmt.Errorf("the running run: %v %v", runs, err)
				}
				runID = runs[0].ID
			}
			return db.SyncProgress(ctx, runID)
		}
		// awaitStored holds the sync (its Progress callback) until the
		// store shows what ok accepts: the saver writes on its own.
		awaitStored := func(what string, ok func(store.SyncProgress) bool) {
			for {
				p, err := current()
				if err != nil {
					t.Errorf("read progress: %v", err)
					return
				}
				if ok(p) {
					return
				}
				select {
				case <-ctx.Done():
					t.Errorf("the store never showed %s: %+v", what, p)
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}
		b.Syncer.Progress = func(p mirosync.Progress) {
			switch {
			case p.Waiting > 0:
				waits = append(waits, p)
				if !sawWait {
					sawWait = true
					awaitStored("the wait", func(sp store.SyncProgress) bool {
						return sp.WaitReason == miro.WaitRateLimit && sp.WaitingUntil.After(time.Now())
					})
				}
			case p.Phase == "team members" && !sawTeamPage:
				sawTeamPage = true
				awaitStored("the team members", func(sp store.SyncProgress) bool {
					return sp.Phase == "team members" && sp.Teams == p.Teams && sp.Members == p.Members &&
						sp.WaitingUntil.IsZero() && sp.EstimatedLeft > 0 && !sp.At.IsZero()
				})
				runs, err := db.SyncRuns(ctx, conn.ID, 1)
				if err != nil || runs[0].Status != roster.SyncRunning || runs[0].APICalls == 0 {
					t.Errorf("the running run shows its calls so far: %+v %v", runs, err)
				}
			}
		}
		run := b.Sync(t, conn.ID)
		require.True(t, sawWait, "the budget made the sync wait")
		require.True(t, sawTeamPage)
		for _, w := range waits {
			require.Equal(t, miro.WaitRateLimit, w.WaitReason)
			require.Greater(t, w.Waiting, time.Second)
			require.LessOrEqual(t, w.Waiting, 2*time.Second+100*time.Millisecond)
		}

		final, err := current()
		require.NoError(t, err)
		accounts, err := db.Accounts(ctx, store.AccountFilter{})
		require.NoError(t, err)
		teams, err := db.Teams(ctx, conn.ID)
		require.NoError(t, err)
		require.Equal(t, len(accounts), final.Members, "the finished run keeps the people it saw")
		require.Equal(t, len(teams), final.Teams)
		require.Equal(t, len(teams), final.TeamsDone)
		require.True(t, final.WaitingUntil.IsZero())
		require.Equal(t, run.APICalls, final.APICalls)

		entries, err := db.AuditEntries(ctx, store.AuditFilter{Kind: "sync", ConnectionID: conn.ID})
		require.NoError(t, err)
		require.Len(t, entries, 1)
		require.Contains(t, entries[0].Detail, mirosync.CallsToMiro(run.APICalls))
		require.NotContains(t, entries[0].Detail, "credit")
	})
}

func TestCallsToMiro(t *testing.T) {
	t.Parallel()
	require.Equal(t, "1 call to Miro", mirosync.CallsToMiro(1))
	require.Equal(t, "0 calls to Miro", mirosync.CallsToMiro(0))
	require.Equal(t, "31020 calls to Miro", mirosync.CallsToMiro(31020))
}
