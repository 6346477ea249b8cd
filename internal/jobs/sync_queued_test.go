package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/mirosim"
	"roster/internal/store/storetest"
)

// TestQueuedSyncs: a queued sync is listed for its connection until its
// job has finished.
func TestQueuedSyncs(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.SQLiteDSN(t))
	c1 := b.connect(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
	c2 := b.connect(t, mirosim.InstallTeam, roster.LevelTeam)
	ctx := context.Background()
	r := b.runner(t, b.DB, Config{ScheduleEvery: time.Hour, DefaultSyncInterval: time.Hour})
	for _, c := range []roster.Connection{c1, c2} {
		require.NoError(t, b.DB.UpdateConnection(ctx, withLastSync(c, time.Now())))
	}

	queued, err := r.QueuedSyncs(ctx)
	require.NoError(t, err)
	require.Empty(t, queued)
	_, err = r.EnqueueSync(ctx, c1.ID)
	require.NoError(t, err)
	queued, err = r.QueuedSyncs(ctx)
	require.NoError(t, err)
	require.Equal(t, map[int64]bool{c1.ID: true}, queued, "not started: the job waits")

	start(t, r)
	b.waitRuns(t, c1.ID, 1)
	require.Eventually(t, func() bool {
		queued, err := r.QueuedSyncs(ctx)
		require.NoError(t, err)
		return len(queued) == 0
	}, 10*time.Second, 20*time.Millisecond, "the finished job is no longer listed")
}
