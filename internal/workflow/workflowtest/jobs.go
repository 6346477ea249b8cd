// Package workflowtest helps tests that drive the workflow engine
// themselves, without River: Jobs records the step jobs and works them.
package workflowtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster/internal/workflow"
)

// Jobs is workflow.Jobs for tests that drive the engine themselves: it
// records the step jobs the engine enqueues, and Work runs the due ones
// with Engine.Work. The job queue itself is internal/jobs' to test.
type Jobs struct {
	mu   sync.Mutex
	jobs []workflow.StepJob
}

var _ workflow.Jobs = (*Jobs)(nil)

// EnqueueSteps records the jobs.
func (j *Jobs) EnqueueSteps(_ context.Context, steps []workflow.StepJob) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.jobs = append(j.jobs, steps...)
	return nil
}

// Due takes the jobs due at now, leaving the later ones.
func (j *Jobs) Due(now time.Time) []workflow.StepJob {
	j.mu.Lock()
	defer j.mu.Unlock()
	var due, later []workflow.StepJob
	for _, s := range j.jobs {
		if s.At.IsZero() || !s.At.After(now) {
			due = append(due, s)
		} else {
			later = append(later, s)
		}
	}
	j.jobs = later
	return due
}

// Work runs every step job due at now, and the jobs they enqueue, until
// none is due.
func (j *Jobs) Work(t testing.TB, eng *workflow.Engine, now time.Time) {
	t.Helper()
	for range 100 {
		due := j.Due(now)
		if len(due) == 0 {
			return
		}
		for _, s := range due {
			require.NoError(t, eng.Work(context.Background(), s, 1, 5))
		}
	}
	t.Fatal("the jobs never ran out")
}
