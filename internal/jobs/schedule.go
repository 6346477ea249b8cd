package jobs

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"roster"
)

// ScheduleArgs is the periodic job that enqueues due syncs. River inserts
// it on the elected leader only.
type ScheduleArgs struct{}

// Kind is stored with every job; it never changes.
func (ScheduleArgs) Kind() string { return "schedule_syncs" }

// InsertOpts keeps at most one scheduling job live, and does not retry
// one: the next tick is the retry.
func (ScheduleArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       queueSchedule,
		MaxAttempts: 1,
		UniqueOpts:  river.UniqueOpts{ByState: liveStates},
	}
}

type scheduleWorker struct {
	river.WorkerDefaults[ScheduleArgs]
	r *Runner
}

func (w *scheduleWorker) Work(ctx context.Context, job *river.Job[ScheduleArgs]) error {
	if stale(job.CreatedAt, w.r.scheduleEvery) {
		return nil
	}
	_, err := w.r.ScheduleDue(ctx)
	return err
}

// ScheduleDue enqueues a sync of every connection that is due (see due)
// and returns the ids of those it inserted; a connection whose sync is
// already live is skipped.
func (r *Runner) ScheduleDue(ctx context.Context) ([]int64, error) {
	conns, err := r.store.Connections(ctx)
	if err != nil {
		return nil, fmt.Errorf("jobs: schedule syncs: %w", err)
	}
	now := r.now()
	var params []river.InsertManyParams
	for _, c := range conns {
		if c.Status == roster.StatusDisconnected {
			continue
		}
		runs, err := r.store.SyncRuns(ctx, c.ID, 1)
		if err != nil {
			return nil, fmt.Errorf("jobs: schedule syncs: %w", err)
		}
		var lastTry time.Time
		if len(runs) > 0 {
			lastTry = runs[0].StartedAt
		}
		if due(c, lastTry, now, r.defInterval) {
			params = append(params, river.InsertManyParams{Args: SyncArgs{ConnectionID: c.ID}})
		}
	}
	if len(params) == 0 {
		return nil, nil
	}
	res, err := r.client.InsertMany(ctx, params)
	if err != nil {
		return nil, fmt.Errorf("jobs: schedule syncs: %w", err)
	}
	var ids []int64
	for i, ir := range res {
		if !ir.UniqueSkippedAsDuplicate {
			ids = append(ids, params[i].Args.(SyncArgs).ConnectionID)
		}
	}
	if len(ids) > 0 {
		r.logger.InfoContext(ctx, "scheduled syncs", "connections", ids)
	}
	return ids, nil
}

// due reports whether connection c needs a sync at now: its interval
// (def when unset) has passed since its last successful sync and since
// its last try, lastTry. Counting failed tries keeps a connection that
// keeps failing (a revoked token) to one job, with its retries, per
// interval rather than one per scheduler tick.
func due(c roster.Connection, lastTry, now time.Time, def time.Duration) bool {
	last := c.LastSyncAt
	if lastTry.After(last) {
		last = lastTry
	}
	return last.IsZero() || !now.Before(last.Add(cmp.Or(c.SyncInterval, def)))
}
