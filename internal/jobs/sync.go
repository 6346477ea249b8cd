package jobs

import (
	"context"
	"encoding/json"
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

// Timeout is none at River: Work sets the sync's own (syncTimeout), and
// River never rescues by time a sync that may still be running. A dead
// process's sync is rescued through its heartbeat (alive.go).
func (w *syncWorker) Timeout(*river.Job[SyncArgs]) time.Duration { return -1 }

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
	timeout, err := w.r.syncTimeout(ctx, id)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("the sync ran over its timeout of %s", timeout))
	defer cancel()
	ctx, release := w.r.hold(ctx, job.ID)
	defer release()
	_, err = w.r.syncer.Sync(ctx, id)
	return err
}

// A sync may run syncTimeoutFactor times the longest of its connection's
// last syncTimeoutRuns runs, and never less than the Runner's least
// timeout. The credit budget paces a sync, so its runs measure what the
// organization costs at the budget, and the largest org gets the time it
// needs. A run cut by its timeout lengthens the next one's.
const (
	syncTimeoutFactor = 4
	syncTimeoutRuns   = 10
)

// syncTimeout is how long a sync of connection id may run.
func (r *Runner) syncTimeout(ctx context.Context, id int64) (time.Duration, error) {
	runs, err := r.store.SyncRuns(ctx, id, syncTimeoutRuns)
	if err != nil {
		return 0, fmt.Errorf("the timeout of a sync of connection %d: %w", id, err)
	}
	var longest time.Duration
	for _, run := range runs {
		if !run.EndedAt.IsZero() {
			longest = max(longest, run.EndedAt.Sub(run.StartedAt))
		}
	}
	return max(r.syncFloor, syncTimeoutFactor*longest), nil
}

// QueuedSyncs lists the connections with a live sync job: queued,
// waiting for a retry, or running (its run may not have started yet).
// The dashboard shows them as queued until their run is recorded. Live
// sync jobs are at most one per connection.
func (r *Runner) QueuedSyncs(ctx context.Context) (map[int64]bool, error) {
	params := river.NewJobListParams().Kinds(SyncArgs{}.Kind()).States(liveStates...).First(10000)
	res, err := r.client.JobList(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("jobs: list queued syncs: %w", err)
	}
	out := map[int64]bool{}
	for _, j := range res.Jobs {
		var a SyncArgs
		if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
			return nil, fmt.Errorf("jobs: sync job %d: %w", j.ID, err)
		}
		out[a.ConnectionID] = true
	}
	return out, nil
}
