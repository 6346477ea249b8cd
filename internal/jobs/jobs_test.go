package jobs

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/mirosim"
	"roster/internal/mirosync"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
	"roster/internal/testkit"
)

// testBundle is the shared kit on the store dsn names.
type testBundle struct {
	*testkit.Kit
	dsn string
}

// setup starts a small simulated organization and opens the store dsn names.
func setup(t *testing.T, dsn string) *testBundle {
	t.Helper()
	k := testkit.New(t, storetest.Open(t, dsn), mirosim.Config{Members: 60, Teams: 3, RateWindow: time.Second})
	return &testBundle{Kit: k, dsn: dsn}
}

// connect stores a connection for one of the simulator's installs, as
// roster connect would.
func (b *testBundle) connect(t *testing.T, kind string, level roster.Level) roster.Connection {
	t.Helper()
	return b.Connect(t, kind, level)
}

// runner builds a Runner on db, closed when t ends.
func (b *testBundle) runner(t *testing.T, db *sqlstore.DB, cfg Config) *Runner {
	t.Helper()
	cfg.DB, cfg.DSN, cfg.Logger = db, b.dsn, b.logger(t)
	if cfg.Syncer == nil {
		cfg.Syncer = b.syncer(db)
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 20 * time.Millisecond
	}
	r, err := New(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(r.Close)
	return r
}

// syncer is a Syncer on db talking to the simulator, with the clients
// of a process whose store db is.
func (b *testBundle) syncer(db *sqlstore.DB) *mirosync.Syncer {
	return &mirosync.Syncer{Store: db, Clients: b.NewClients(db)}
}

// logger shows warnings and errors in the test's output.
func (b *testBundle) logger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// start starts r and stops it when t ends.
func start(t *testing.T, r *Runner) {
	t.Helper()
	require.NoError(t, r.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, r.Stop(ctx))
	})
}

// waitRuns waits until connection id has n finished runs and returns
// them, newest first. It fails when nothing advanced (no run started or
// ended, no call reached Miro) for 30 s: a slow machine is slow, a stall
// is stuck.
func (b *testBundle) waitRuns(t *testing.T, id int64, n int) []roster.SyncRun {
	t.Helper()
	last, lastAt := -1, time.Now()
	for {
		runs, err := b.DB.SyncRuns(context.Background(), id, 0)
		require.NoError(t, err)
		done := 0
		for _, r := range runs {
			if r.Status != roster.SyncRunning {
				done++
			}
		}
		if done >= n {
			return runs
		}
		if p := b.Sim.Stats().Calls + len(runs) + done; p > last {
			last, lastAt = p, time.Now()
		}
		require.Less(t, time.Since(lastAt), 30*time.Second,
			"waiting for %d finished runs of connection %d: nothing advanced for 30 s (%d finished)", n, id, done)
		time.Sleep(20 * time.Millisecond)
	}
}

func TestEnqueueSyncRunsIt(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.SQLiteDSN(t))
	c := b.connect(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
	// The scheduler would sync the new connection too: keep it out of the way.
	r := b.runner(t, b.DB, Config{ScheduleEvery: time.Hour, DefaultSyncInterval: time.Hour})
	require.NoError(t, b.DB.UpdateConnection(context.Background(), withLastSync(c, time.Now())))
	start(t, r)

	inserted, err := r.EnqueueSync(context.Background(), c.ID)
	require.NoError(t, err)
	require.True(t, inserted)
	runs := b.waitRuns(t, c.ID, 1)
	require.Len(t, runs, 1)
	require.Equal(t, roster.SyncSucceeded, runs[0].Status, runs[0].Error)
	accounts, err := b.DB.Accounts(context.Background(), store.AccountFilter{})
	require.NoError(t, err)
	require.NotEmpty(t, accounts)

	// Once the job has finished, a new request inserts a new job.
	require.Eventually(t, func() bool {
		inserted, err := r.EnqueueSync(context.Background(), c.ID)
		require.NoError(t, err)
		return inserted
	}, 10*time.Second, 20*time.Millisecond)
	runs = b.waitRuns(t, c.ID, 2)
	require.Equal(t, roster.SyncSucceeded, runs[0].Status, runs[0].Error)
}

func TestEnqueueSyncIsUniqueWhileLive(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.SQLiteDSN(t))
	c1 := b.connect(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
	c2 := b.connect(t, mirosim.InstallTeam, roster.LevelTeam)
	r := b.runner(t, b.DB, Config{}) // never started: the jobs stay queued
	ctx := context.Background()

	for _, want := range []bool{true, false, false} {
		inserted, err := r.EnqueueSync(ctx, c1.ID)
		require.NoError(t, err)
		require.Equal(t, want, inserted)
	}
	inserted, err := r.EnqueueSync(ctx, c2.ID)
	require.NoError(t, err)
	require.True(t, inserted, "another connection's sync is another job")
}

func TestScheduleDue(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.SQLiteDSN(t))
	ctx := context.Background()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

	never := b.connect(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
	stale := b.connect(t, mirosim.InstallTeam, roster.LevelTeam)
	require.NoError(t, b.DB.UpdateConnection(ctx, withLastSync(stale, now.Add(-25*time.Hour))))
	fresh := b.connect(t, mirosim.InstallNonEnterpriseTeam, roster.LevelTeam)
	require.NoError(t, b.DB.UpdateConnection(ctx, withLastSync(fresh, now.Add(-time.Hour))))

	r := b.runner(t, b.DB, Config{Now: func() time.Time { return now }})
	ids, err := r.ScheduleDue(ctx)
	require.NoError(t, err)
	require.ElementsMatch(t, []int64{never.ID, stale.ID}, ids)

	ids, err = r.ScheduleDue(ctx)
	require.NoError(t, err)
	require.Empty(t, ids, "the syncs already queued are not queued again")
}

func TestDue(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		lastSync time.Time
		lastTry  time.Time
		interval time.Duration
		want     bool
	}{
		{name: "NeverSynced", want: true},
		{name: "DefaultIntervalPassed", lastSync: now.Add(-24 * time.Hour), lastTry: now.Add(-24 * time.Hour), want: true},
		{name: "DefaultIntervalNotPassed", lastSync: now.Add(-23 * time.Hour), lastTry: now.Add(-23 * time.Hour), want: false},
		{name: "OwnIntervalPassed", lastSync: now.Add(-2 * time.Hour), interval: time.Hour, want: true},
		{name: "OwnIntervalNotPassed", lastSync: now.Add(-30 * time.Minute), interval: time.Hour, want: false},
		{name: "FailedTryRecently", lastSync: now.Add(-48 * time.Hour), lastTry: now.Add(-time.Hour), want: false},
		{name: "FailedFirstTryRecently", lastTry: now.Add(-time.Hour), want: false},
		{name: "FailedTryLongAgo", lastSync: now.Add(-72 * time.Hour), lastTry: now.Add(-48 * time.Hour), want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := roster.Connection{LastSyncAt: tc.lastSync, SyncInterval: tc.interval}
			require.Equal(t, tc.want, due(c, tc.lastTry, now, 24*time.Hour))
		})
	}
}

func TestPeriodicSchedulerSyncsDueConnections(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.SQLiteDSN(t))
	ctx := context.Background()
	due := b.connect(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
	fresh := b.connect(t, mirosim.InstallTeam, roster.LevelTeam)
	require.NoError(t, b.DB.UpdateConnection(ctx, withLastSync(fresh, time.Now())))

	r := b.runner(t, b.DB, Config{ScheduleEvery: 100 * time.Millisecond})
	start(t, r)
	runs := b.waitRuns(t, due.ID, 1)
	require.Equal(t, roster.SyncSucceeded, runs[0].Status, runs[0].Error)

	// Several ticks later: the synced connection is not due again, and the
	// fresh one never was.
	time.Sleep(500 * time.Millisecond)
	runs, err := b.DB.SyncRuns(ctx, due.ID, 0)
	require.NoError(t, err)
	require.Len(t, runs, 1)
	runs, err = b.DB.SyncRuns(ctx, fresh.ID, 0)
	require.NoError(t, err)
	require.Empty(t, runs)
}

func TestFailedSyncIsRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.SQLiteDSN(t))
	ctx := context.Background()
	c := b.connect(t, mirosim.InstallTeam, roster.LevelTeam)
	require.NoError(t, b.DB.UpdateConnection(ctx, withLastSync(c, time.Now())))
	// The first call fails, and the client does not retry it: the first
	// try fails, River's retry succeeds.
	b.Sim.SetFaults(mirosim.Fault{Kind: mirosim.Fault503, Rate: 1, Times: 1})
	s := b.syncer(b.DB)
	s.Clients.MaxRetries = -1
	r := b.runner(t, b.DB, Config{Syncer: s})
	start(t, r)

	_, err := r.EnqueueSync(ctx, c.ID)
	require.NoError(t, err)
	runs := b.waitRuns(t, c.ID, 2)
	require.Len(t, runs, 2)
	require.Equal(t, roster.SyncFailed, runs[1].Status)
	require.Equal(t, roster.SyncSucceeded, runs[0].Status, runs[0].Error)
}

func TestSyncOfGoneConnectionIsCancelled(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.SQLiteDSN(t))
	ctx := context.Background()
	c := b.connect(t, mirosim.InstallTeam, roster.LevelTeam)
	c.Status = roster.StatusDisconnected
	require.NoError(t, b.DB.UpdateConnection(ctx, &c))
	r := b.runner(t, b.DB, Config{})
	start(t, r)

	for _, id := range []int64{c.ID, 999} {
		inserted, err := r.EnqueueSync(ctx, id)
		require.NoError(t, err)
		require.True(t, inserted)
		// Cancelled, not retried: once it is, a new request inserts again.
		require.Eventually(t, func() bool {
			inserted, err := r.EnqueueSync(ctx, id)
			require.NoError(t, err)
			return inserted
		}, 10*time.Second, 20*time.Millisecond)
	}
	runs, err := b.DB.SyncRuns(ctx, c.ID, 0)
	require.NoError(t, err)
	require.Empty(t, runs)
}

func withLastSync(c roster.Connection, at time.Time) *roster.Connection {
	c.LastSyncAt = at.UTC().Truncate(time.Microsecond)
	return &c
}
