package jobs

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/mirosim"
	"roster/internal/store/storetest"
)

// countingSyncer counts the syncs one runner ran.
type countingSyncer struct {
	Syncer
	n atomic.Int64
}

func (s *countingSyncer) Sync(ctx context.Context, id int64) (roster.SyncRun, error) {
	s.n.Add(1)
	return s.Syncer.Sync(ctx, id)
}

// TestTwoServeProcessesNeverSyncOneConnectionTwiceAtOnce runs two Runners,
// as two `roster serve` processes would (each with its own store and River
// pool, on one schema), asks both for syncs of one connection over and
// over while slow syncs run, and checks from the recorded runs that no two
// syncs of it overlapped and that Miro saw exactly one sync's calls per run.
func TestTwoServeProcessesNeverSyncOneConnectionTwiceAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.PostgresDSN(t))
	ctx := context.Background()
	c := b.connect(t, mirosim.InstallTeam, roster.LevelTeam)
	// Synced just now, so that only the requests below start syncs.
	require.NoError(t, b.DB.UpdateConnection(ctx, withLastSync(c, time.Now())))
	// Every Miro call is slow, so a sync lasts long enough to be overlapped.
	b.Sim.SetFaults(mirosim.Fault{Kind: mirosim.FaultLatency, Rate: 1, Latency: 80 * time.Millisecond})

	// Both processes start at once: their River migrations take turns.
	runners := make([]*Runner, 2)
	counters := make([]*countingSyncer, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range runners {
		db := storetest.Open(t, b.dsn)
		counters[i] = &countingSyncer{Syncer: b.syncer(db)}
		wg.Go(func() {
			runners[i], errs[i] = New(ctx, Config{DB: db, DSN: b.dsn, Syncer: counters[i],
				Logger: b.logger(t), PollInterval: 50 * time.Millisecond})
		})
	}
	wg.Wait()
	for i, r := range runners {
		require.NoError(t, errs[i])
		t.Cleanup(r.Close)
		start(t, r)
	}

	// Both ask for a sync of the connection every 10 ms for at least 2 s,
	// and on until several syncs have followed one another (a loaded
	// machine runs fewer in 2 s), for 30 s at most.
	var inserted atomic.Int64
	for _, r := range runners {
		wg.Go(func() {
			begin := time.Now()
			for time.Since(begin) < 2*time.Second || (inserted.Load() < 4 && time.Since(begin) < 30*time.Second) {
				time.Sleep(10 * time.Millisecond)
				ok, err := r.EnqueueSync(ctx, c.ID)
				if err != nil {
					t.Errorf("enqueue: %v", err)
					return
				}
				if ok {
					inserted.Add(1)
				}
			}
		})
	}
	wg.Wait()

	n := int(inserted.Load())
	require.Greater(t, n, 2, "syncs should have followed one another")
	runs := b.waitRuns(t, c.ID, n)
	require.Equal(t, n, len(runs), "one run per inserted job")
	slices.Reverse(runs) // oldest first
	for i, run := range runs {
		require.Equal(t, roster.SyncSucceeded, run.Status, run.Error)
		require.Equal(t, runs[0].APICalls, run.APICalls)
		if i > 0 {
			require.False(t, run.StartedAt.Before(runs[i-1].EndedAt),
				"run %d started at %s, before run %d ended at %s", run.ID, run.StartedAt, runs[i-1].ID, runs[i-1].EndedAt)
		}
	}
	require.Equal(t, n*runs[0].APICalls, b.Sim.Stats().Calls, "Miro saw one sync's calls per run")
	require.EqualValues(t, n, counters[0].n.Load()+counters[1].n.Load())
	t.Logf("%d syncs: %d by the first process, %d by the second", n, counters[0].n.Load(), counters[1].n.Load())
}
