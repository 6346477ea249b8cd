package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
)

var syncProgressTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"SyncProgress/OK", testSyncProgress},
	{"SyncProgress/ErrConflictOnceEnded", testSyncProgressEnded},
	{"SyncProgress/ErrNotFound", testSyncProgressNotFound},
}

// testSyncProgress: a running run's progress reads back as written, the
// latest write wins, and the run's counters follow it.
func testSyncProgress(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	run := roster.SyncRun{ConnectionID: c.ID, Source: roster.SourceOrganization, StartedAt: t0}
	require.NoError(t, s.StartSyncRun(ctx(), &run))

	got, err := s.SyncProgress(ctx(), run.ID)
	require.NoError(t, err)
	require.Equal(t, store.SyncProgress{}, got, "nothing recorded yet")

	waiting := store.SyncProgress{
		Phase: "team members", Pages: 1300, Members: 50000, Teams: 3000, TeamsDone: 1240,
		APICalls: 1302, Credits: 380000, WaitingUntil: t0.Add(5 * time.Minute), WaitReason: "Miro's rate limit",
		EstimatedLeft: 3 * time.Minute, At: t0.Add(4*time.Minute + 18*time.Second),
	}
	require.NoError(t, s.SaveSyncProgress(ctx(), run.ID, waiting))
	got, err = s.SyncProgress(ctx(), run.ID)
	require.NoError(t, err)
	require.Equal(t, waiting, got)
	runs, err := s.SyncRuns(ctx(), c.ID, 1)
	require.NoError(t, err)
	require.Equal(t, roster.SyncRunning, runs[0].Status)
	require.Equal(t, [3]int{1300, 1302, 380000}, [3]int{runs[0].Pages, runs[0].APICalls, runs[0].Credits},
		"the run's counters so far")

	// The wait is over and the estimate unknown again: both clear.
	moving := store.SyncProgress{Phase: "audit", Pages: 1400, Members: 50000, Teams: 3000, TeamsDone: 3000,
		APICalls: 1402, Credits: 390000, At: t0.Add(5 * time.Minute)}
	require.NoError(t, s.SaveSyncProgress(ctx(), run.ID, moving))
	got, err = s.SyncProgress(ctx(), run.ID)
	require.NoError(t, err)
	require.Equal(t, moving, got)

	// Whole seconds are kept.
	moving.EstimatedLeft = 90*time.Second + 400*time.Millisecond
	require.NoError(t, s.SaveSyncProgress(ctx(), run.ID, moving))
	got, err = s.SyncProgress(ctx(), run.ID)
	require.NoError(t, err)
	require.Equal(t, 90*time.Second, got.EstimatedLeft)
}

// testSyncProgressEnded: once a run has ended, a late progress write
// (from a process that has not noticed) changes nothing.
func testSyncProgressEnded(t *testing.T, s store.Store) {
	c := create(t, s, orgConnection("o1"))
	run := roster.SyncRun{ConnectionID: c.ID, Source: roster.SourceOrganization, StartedAt: t0}
	require.NoError(t, s.StartSyncRun(ctx(), &run))
	last := store.SyncProgress{Phase: "team members", Pages: 40, Members: 4000, Teams: 30, TeamsDone: 30,
		APICalls: 41, Credits: 9000, At: t0.Add(time.Minute)}
	require.NoError(t, s.SaveSyncProgress(ctx(), run.ID, last))

	run.EndedAt, run.Pages, run.APICalls, run.Credits = t0.Add(2*time.Minute), 45, 46, 9500
	require.NoError(t, s.ApplySync(ctx(), &run, store.Diff{}))

	late := last
	late.Pages, late.APICalls, late.Credits, late.At = 99, 99, 99999, t0.Add(3*time.Minute)
	require.ErrorIs(t, s.SaveSyncProgress(ctx(), run.ID, late), store.ErrConflict)
	got, err := s.SyncProgress(ctx(), run.ID)
	require.NoError(t, err)
	last.Pages, last.APICalls, last.Credits = 45, 46, 9500 // as the run's end recorded them
	require.Equal(t, last, got, "the people and teams counted stay for the finished run")
	runs, err := s.SyncRuns(ctx(), c.ID, 1)
	require.NoError(t, err)
	require.Equal(t, roster.SyncSucceeded, runs[0].Status)
	require.Equal(t, [3]int{45, 46, 9500}, [3]int{runs[0].Pages, runs[0].APICalls, runs[0].Credits})
}

func testSyncProgressNotFound(t *testing.T, s store.Store) {
	require.ErrorIs(t, s.SaveSyncProgress(ctx(), 999, store.SyncProgress{Phase: "members"}), store.ErrNotFound)
	_, err := s.SyncProgress(ctx(), 999)
	require.ErrorIs(t, err, store.ErrNotFound)
}
