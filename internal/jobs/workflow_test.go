package jobs

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster/internal/store/storetest"
	"roster/internal/workflow"
)

// stepLog is the workflow engine as the job queue sees it: it records the
// order in which step jobs are worked, and then calls next, if set.
type stepLog struct {
	mu   sync.Mutex
	done []workflow.StepJob
	next func(workflow.StepJob)
}

func (l *stepLog) Work(_ context.Context, job workflow.StepJob, _, _ int) error {
	l.mu.Lock()
	l.done = append(l.done, job)
	l.mu.Unlock()
	if l.next != nil {
		l.next(job)
	}
	return nil
}

func (l *stepLog) Evaluate(context.Context) (int, error)  { return 0, nil }
func (l *stepLog) Reconcile(context.Context) (int, error) { return 0, nil }

// worked returns the runs of the steps worked so far, in order.
func (l *stepLog) worked() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var runs []int64
	for _, s := range l.done {
		runs = append(runs, s.RunID)
	}
	return runs
}

// wait polls done with the steps worked so far until it holds, failing
// when no step was worked for 30 s.
func (l *stepLog) wait(t *testing.T, done func(worked []int64) bool) {
	t.Helper()
	last, lastAt := -1, time.Now()
	for worked := l.worked(); !done(worked); worked = l.worked() {
		if len(worked) > last {
			last, lastAt = len(worked), time.Now()
		}
		require.Less(t, time.Since(lastAt), 30*time.Second, "no step worked for 30 s (%d so far)", last)
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStepOrder: a later step goes before a first step queued up to a
// head start per step before it, and a step that has waited longer goes
// first (a step due since long ago: a run re-dispatched after a crash).
func TestStepOrder(t *testing.T) {
	t.Parallel()
	storetest.ForEachBackend(t, func(t *testing.T, dsn string) {
		t.Parallel()
		b := setup(t, dsn)
		log := &stepLog{}
		r := b.runner(t, b.DB, Config{Workflows: log, WorkflowWorkers: 1, TriggerEvery: time.Hour, ScheduleEvery: time.Hour})
		now := time.Now()
		require.NoError(t, r.EnqueueSteps(context.Background(), []workflow.StepJob{
			{RunID: 1, Position: 0},                                        // queued now
			{RunID: 2, Position: 3},                                        // three head starts ahead
			{RunID: 3, Position: 1},                                        // one ahead
			{RunID: 4, Position: 0, At: now.Add(-4 * time.Minute)},         // due for four minutes
			{RunID: 5, Position: 2, At: now.Add(-30 * time.Second)},        // due for half a minute, two ahead
			{RunID: 6, Position: 0, Generation: 1, At: now.Add(time.Hour)}, // a wait: not before its time
		}))
		start(t, r)
		log.wait(t, func(worked []int64) bool { return len(worked) == 5 })
		require.Equal(t, []int64{4, 2, 5, 3, 1}, log.worked())
	})
}

// TestFirstStepIsNotStarved: runs whose later steps keep coming do not
// keep a first step waiting forever. Twenty runs loop on their fourth
// step without end; a first step queued meanwhile is worked once it has
// waited three head starts, while the loops have done a few hundred
// steps at most. By position alone it would wait until they all end.
func TestFirstStepIsNotStarved(t *testing.T) {
	t.Parallel()
	b := setup(t, storetest.SQLiteDSN(t))
	ctx := context.Background()
	const headStart = 100 * time.Millisecond
	log := &stepLog{}
	r := b.runner(t, b.DB, Config{Workflows: log, WorkflowWorkers: 1, StepHeadStart: headStart,
		TriggerEvery: time.Hour, ScheduleEvery: time.Hour})
	stop := make(chan struct{})
	log.next = func(s workflow.StepJob) {
		select {
		case <-stop:
			return
		default:
		}
		if s.RunID < 100 { // a looping run: its next step
			next := workflow.StepJob{RunID: s.RunID, Position: min(s.Position+1, 3), Generation: s.Generation + 1}
			if err := r.EnqueueSteps(ctx, []workflow.StepJob{next}); err != nil {
				t.Error(err)
			}
		}
	}
	var loops []workflow.StepJob
	for run := range int64(20) {
		loops = append(loops, workflow.StepJob{RunID: run, Position: 1})
	}
	require.NoError(t, r.EnqueueSteps(ctx, loops))
	start(t, r)
	t.Cleanup(func() { close(stop) })
	// Every loop at its fourth step.
	log.wait(t, func(worked []int64) bool { return len(worked) >= 40 })

	require.NoError(t, r.EnqueueSteps(ctx, []workflow.StepJob{{RunID: 100, Position: 0}}))
	// Progress, not time: the loops always advance; the first step must
	// come before they have done 400 more steps (a few tens is usual).
	from := len(log.worked())
	log.wait(t, func(worked []int64) bool {
		require.Less(t, len(worked)-from, 400, "the first step is still waiting")
		return slices.Contains(worked, 100)
	})
	t.Logf("the first step waited %d steps of the loops", slices.Index(log.worked(), 100)-from)
}
