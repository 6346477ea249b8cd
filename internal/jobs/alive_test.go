package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/mirosim"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
)

// killedMidSync leaves in db what a process killed in the middle of a
// sync of connection id leaves (cmd/roster's TestSyncSurvivesKill does it
// with a real SIGKILL): the sync job running, attempted by the process,
// and its run running. It returns the run.
func killedMidSync(t *testing.T, db *sqlstore.DB, r *Runner, id int64, process string) roster.SyncRun {
	t.Helper()
	ctx := context.Background()
	inserted, err := r.EnqueueSync(ctx, id)
	require.NoError(t, err)
	require.True(t, inserted)
	fetch := `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now(), attempted_by = ARRAY[$1::text]
		WHERE kind = 'sync_connection' AND state = 'available'`
	if db.Dialect() == "sqlite" {
		fetch = `UPDATE river_job SET state = 'running', attempt = 1, attempted_at = datetime('now', 'subsec'),
			attempted_by = json_array($1) WHERE kind = 'sync_connection' AND state = 'available'`
	}
	_, err = db.SQL().ExecContext(ctx, fetch, process)
	require.NoError(t, err)
	require.NoError(t, db.StartProcess(ctx, process))
	run := roster.SyncRun{ConnectionID: id, Source: roster.SourceOrganization}
	require.NoError(t, db.StartSyncRun(ctx, &run))
	inserted, err = r.EnqueueSync(ctx, id)
	require.NoError(t, err)
	require.False(t, inserted, "the dead job holds the connection")
	return run
}

// TestDeadProcessSyncIsRescued: the sync a killed process held is rescued,
// on SQLite as the next process starts and on PostgreSQL once the dead
// one's heartbeat has stood still for a lease. Its run ends "interrupted"
// and the next sync runs.
func TestDeadProcessSyncIsRescued(t *testing.T) {
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		t.Parallel()
		b := setup(t, dsn)
		ctx := context.Background()
		c := b.connect(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		require.NoError(t, b.DB.UpdateConnection(ctx, withLastSync(c, time.Now())))
		cfg := Config{ProcessLease: time.Second, ScheduleEvery: time.Hour}
		dead := killedMidSync(t, b.DB, b.runner(t, b.DB, cfg), c.ID, "killed-host_1_abc")

		r := b.runner(t, b.DB, cfg)
		start(t, r)
		if b.DB.Dialect() == "sqlite" {
			runs, err := b.DB.SyncRuns(ctx, c.ID, 0)
			require.NoError(t, err)
			require.Equal(t, roster.SyncFailed, runs[len(runs)-1].Status, "rescued before the first job is worked")
		}
		runs := b.waitRuns(t, c.ID, 2)
		require.Len(t, runs, 2)
		require.Equal(t, dead.ID, runs[1].ID)
		require.Equal(t, roster.SyncFailed, runs[1].Status)
		require.Equal(t, "interrupted", runs[1].Error)
		require.Equal(t, roster.SyncSucceeded, runs[0].Status, runs[0].Error)

		// The connection is free: a new request inserts a new job.
		require.Eventually(t, func() bool {
			inserted, err := r.EnqueueSync(ctx, c.ID)
			require.NoError(t, err)
			return inserted
		}, 30*time.Second, 20*time.Millisecond)
		beats, err := b.DB.ProcessBeats(ctx)
		require.NoError(t, err)
		require.NotContains(t, beats, "killed-host_1_abc", "the dead process is forgotten")
	})
}

// TestLiveProcessSyncIsNotRescued: two processes on one PostgreSQL with a
// one-second lease, one running a sync that lasts several leases. The
// other never takes it for dead: the sync runs once and succeeds.
func TestLiveProcessSyncIsNotRescued(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.PostgresDSN(t))
	ctx := context.Background()
	c := b.connect(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
	require.NoError(t, b.DB.UpdateConnection(ctx, withLastSync(c, time.Now())))
	cfg := Config{ProcessLease: time.Second, ScheduleEvery: time.Hour}
	working := b.runner(t, b.DB, cfg)
	watching := b.runner(t, storetest.Open(t, b.dsn), cfg)
	start(t, watching)
	// Every Miro call is slow: the sync lasts several leases.
	b.Sim.SetFaults(mirosim.Fault{Kind: mirosim.FaultLatency, Rate: 1, Latency: 500 * time.Millisecond})
	_, err := working.EnqueueSync(ctx, c.ID)
	require.NoError(t, err)
	start(t, working)

	runs := b.waitRuns(t, c.ID, 1)
	require.Len(t, runs, 1)
	require.Equal(t, roster.SyncSucceeded, runs[0].Status, runs[0].Error)
	require.Greater(t, runs[0].EndedAt.Sub(runs[0].StartedAt), 2*time.Second, "the sync outlived two leases")
	require.Equal(t, runs[0].APICalls, b.Sim.Stats().Calls, "Miro saw one sync")
}

// TestProcessTakenForDeadStopsItsSync: a process that finds it was taken
// for dead (its heartbeat row gone) cancels the sync it runs, since
// another process has rescued it.
func TestProcessTakenForDeadStopsItsSync(t *testing.T) {
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		t.Parallel()
		b := setup(t, dsn)
		ctx := context.Background()
		c := b.connect(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		require.NoError(t, b.DB.UpdateConnection(ctx, withLastSync(c, time.Now())))
		b.Sim.SetFaults(mirosim.Fault{Kind: mirosim.FaultLatency, Rate: 1, Latency: time.Second})
		r := b.runner(t, b.DB, Config{ProcessLease: time.Second, ScheduleEvery: time.Hour})
		start(t, r)
		_, err := r.EnqueueSync(ctx, c.ID)
		require.NoError(t, err)
		var runs []roster.SyncRun
		require.Eventually(t, func() bool {
			runs, err = b.DB.SyncRuns(ctx, c.ID, 1)
			require.NoError(t, err)
			return len(runs) == 1
		}, 30*time.Second, 20*time.Millisecond)
		first := runs[0].ID

		require.NoError(t, b.DB.EndProcess(ctx, r.id))
		runs = b.waitRuns(t, c.ID, 1)
		run := runs[len(runs)-1]
		require.Equal(t, first, run.ID)
		require.Equal(t, roster.SyncFailed, run.Status)
		require.Less(t, run.EndedAt.Sub(run.StartedAt), 10*time.Second, "cancelled, not run to its end")
		b.Sim.SetFaults() // River's retry runs quickly
		beats, err := b.DB.ProcessBeats(ctx)
		require.NoError(t, err)
		require.Contains(t, beats, r.id, "the process is back")
	})
}

func TestSyncTimeoutGrowsWithTheConnection(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.SQLiteDSN(t))
	ctx := context.Background()
	c := b.connect(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
	r := b.runner(t, b.DB, Config{SyncTimeout: time.Minute})
	got, err := r.syncTimeout(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, time.Minute, got, "no runs yet: the least timeout")

	// A large org's sync took 50 minutes, paced by its credit budget.
	began := time.Now().Add(-time.Hour)
	run := roster.SyncRun{ConnectionID: c.ID, Source: roster.SourceOrganization, StartedAt: began}
	require.NoError(t, b.DB.StartSyncRun(ctx, &run))
	run.Error, run.EndedAt = "cancelled", began.Add(50*time.Minute)
	require.NoError(t, b.DB.FailSyncRun(ctx, run))
	got, err = r.syncTimeout(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, 200*time.Minute, got)
}
