package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/mirosim"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
)

// TestSyncSurvivesKill: a roster serve killed with SIGKILL in the middle
// of a sync leaves the sync's job held and its run running, and so every
// request for a sync of the connection refused. The next serve on the
// same database records the run as interrupted and syncs again: on
// SQLite as it starts, on PostgreSQL once the dead process has missed
// its heartbeats for --job-lease. Not hours later.
func TestSyncSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("a two-process crash test")
	}
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		t.Parallel()
		syncSurvivesKill(t, dsn)
	})
}

func syncSurvivesKill(t *testing.T, dsn string) {
	ctx := context.Background()
	e := newE2E(t)
	db := []string{"--database", dsn}
	r := e.roster(t, append([]string{"connect", "--level", "organization", "--miro-url", e.info.APIBaseURL,
		"--token", e.token(mirosim.InstallOrgAdmin)}, db...)...)
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "Saved as connection 1.")
	st, err := sqlstore.Open(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	runs := func() []roster.SyncRun {
		runs, err := st.SyncRuns(ctx, 1, 0)
		require.NoError(t, err)
		return runs
	}

	// Every Miro call is slow: the sync lasts seconds, and is killed
	// in the middle. serve's scheduler starts it (never synced: due).
	e.sim.SetFaults(mirosim.Fault{Kind: mirosim.FaultLatency, Rate: 1, Latency: 300 * time.Millisecond})
	serveArgs := append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", e.dataDir, "--job-lease", "2s"}, db...)
	dir := t.TempDir()
	first := startChild(t, filepath.Join(dir, "serve-1.log"), serveArgs...)
	waitProgress(t, first, 30*time.Second, 20*time.Millisecond, "a sync half-way", func() bool {
		rs := runs()
		return len(rs) == 1 && rs[0].Status == roster.SyncRunning && e.sim.Stats().Calls >= 3
	}, func() int { return e.sim.Stats().Calls }, func() string { return runsText(runs()) })
	first.kill(t)
	calls := e.sim.Stats().Calls
	killed := runs()
	require.Len(t, killed, 1)
	require.Equal(t, roster.SyncRunning, killed[0].Status, "the sync ended before the kill: make it slower")
	r = e.roster(t, append([]string{"sync", "--enqueue"}, db...)...)
	require.NoError(t, r.err, r.stderr)
	require.Contains(t, r.stdout, "already queued or running", "the dead sync holds the connection")
	t.Logf("killed after %d Miro calls, the run running since %s", calls, killed[0].StartedAt.Format(time.RFC3339Nano))

	// The next serve on the same database.
	e.sim.SetFaults()
	restarted := time.Now()
	second := startChild(t, filepath.Join(dir, "serve-2.log"), serveArgs...)
	progress := func() int {
		n := e.sim.Stats().Calls
		for _, run := range runs() {
			n++
			if run.Status != roster.SyncRunning {
				n++
			}
		}
		return n
	}
	// The killed run ends as interrupted, and a later sync succeeds (a
	// busy machine may fail one attempt in between; River retries it).
	var rs []roster.SyncRun
	waitProgress(t, second, 30*time.Second, 50*time.Millisecond, "the run interrupted and a sync done", func() bool {
		rs = runs()
		return len(rs) >= 2 && rs[len(rs)-1].Status == roster.SyncFailed && rs[0].Status == roster.SyncSucceeded
	}, progress, func() string { return runsText(runs()) })
	require.Equal(t, killed[0].ID, rs[len(rs)-1].ID)
	require.Equal(t, "interrupted", rs[len(rs)-1].Error)
	next := rs[len(rs)-2] // the first sync after the restart
	require.Less(t, next.StartedAt.Sub(restarted), time.Minute, "the sync started again within a minute of the restart")
	t.Logf("restarted: the next sync started after %s; one succeeded %s after the restart (%d runs)",
		next.StartedAt.Sub(restarted).Round(time.Millisecond), rs[0].EndedAt.Sub(restarted).Round(time.Millisecond), len(rs))

	// The connection takes syncs again, once River has marked the job of
	// the sync just recorded completed.
	require.Eventually(t, func() bool {
		r = e.roster(t, append([]string{"sync", "--enqueue"}, db...)...)
		require.NoError(t, r.err, r.stderr)
		return strings.Contains(r.stdout, "sync queued")
	}, 30*time.Second, 100*time.Millisecond, r.stdout)
	second.stop(t)
}

// runsText lists sync runs for a failure message.
func runsText(runs []roster.SyncRun) string {
	var b strings.Builder
	for _, run := range runs {
		fmt.Fprintf(&b, "run %d: %s %q, started %s, ended %s\n", run.ID, run.Status, run.Error,
			run.StartedAt.Format(time.RFC3339Nano), run.EndedAt.Format(time.RFC3339Nano))
	}
	return b.String()
}
