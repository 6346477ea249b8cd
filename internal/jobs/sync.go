package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"roster"
	"roster/internal/store"
)

// Queues. Scheduling has its own so that long syncs never hold it up.
const (
	queueSync     = "sync"
	queueSchedule = "schedule"
)

// syncMaxAttempts bounds the tries of one sync job; River backs off
// between them (1 s, 16 s, 81 s, 256 s). Each try records its own run.
const syncMaxAttempts = 5

// liveStates are the job states in which a job is queued, waiting for a
// retry or running. Unique jobs are unique across them only, so that a
// finished job never blocks the next one.
var liveStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}

// SyncArgs is a job that syncs one connection.
type SyncArgs struct {
	ConnectionID int64 `json:"connection_id"`
}

// Kind is stored with every job; it never changes.
func (SyncArgs) Kind() string { return "sync_connection" }

// InsertOpts makes a sync unique per connection while it is live: two
// syncs of one connection never run at once, and asking for one while
// another is queued or running adds nothing.
func (SyncArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       queueSync,
		MaxAttempts: syncMaxAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: liveStates},
	}
}

// syncWorker works SyncArgs with the Syncer.
type syncWorker struct {
	river.WorkerDefaults[SyncArgs]
	r *Runner
}

// Timeout cancels a sync that runs longer than the Runner's SyncTimeout;
// River's one-minute default is too short for a large, paced org.
func (w *syncWorker) Timeout(*river.Job[SyncArgs]) time.Duration { return w.r.syncTimeout }

// Work runs the sync. Its error makes River retry with backoff; the
// Syncer has already recorded the failed run and logged it.
func (w *syncWorker) Work(ctx context.Context, job *river.Job[SyncArgs]) error {
	id := job.Args.ConnectionID
	c, err := w.r.store.Connection(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return river.JobCancel(fmt.Errorf("connection %d no longer exists", id))
	case err != nil:
		return fmt.Errorf("load connection %d: %w", id, err)
	case c.Status == roster.StatusDisconnected:
		return river.JobCancel(fmt.Errorf("connection %d is disconnected", id))
	}
	_, err = w.r.syncer.Sync(ctx, id)
	return err
}
