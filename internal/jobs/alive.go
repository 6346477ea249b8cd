package jobs

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"roster"
	"roster/internal/store"
)

// A process killed mid-job leaves its job running at River: a sync job,
// unique per connection while live, then refuses every new sync of the
// connection. River's own rescue goes by time alone, so it must wait out
// the longest sync before it can tell a dead job from a slow one.
//
// Instead each process counts heartbeats in job_processes, and every
// process watches the counts on its own clock. The running jobs of a
// process whose count stood still for a lease are rescued: made available
// again, after a sync's interrupted run is recorded as failed. A process
// that cannot beat for half a lease cancels its own syncs first, so no
// sync is rescued while it still runs.

// interrupted is the error of a sync run whose process died.
const interrupted = "interrupted"

// processID names this process's River client and its heartbeat row.
// River's default (host and start time) could repeat when several Runners
// start in one microsecond, as tests do.
func processID() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s_%d_%s", cmp.Or(host, "unknown"), os.Getpid(), rand.Text()[:8])
}

// sighting is a process's count of beats and since when it is so, on this
// process's clock; -1 beats is a process not recorded.
type sighting struct {
	beats int64
	since time.Time
}

// watch is what this process saw of the others' heartbeats.
type watch struct {
	seen map[string]sighting
}

// look records the counts read at now.
func (w *watch) look(beats map[string]int64, now time.Time, lease time.Duration) {
	for id, b := range beats {
		if s, ok := w.seen[id]; !ok || s.beats != b {
			w.seen[id] = sighting{beats: b, since: now}
		}
	}
	for id, s := range w.seen {
		if _, ok := beats[id]; !ok {
			switch {
			case s.beats >= 0:
				w.seen[id] = sighting{beats: -1, since: now}
			case now.Sub(s.since) > 10*lease:
				delete(w.seen, id) // long gone, and its jobs with it
			}
		}
	}
}

// still says how long process id's count has not moved as far as this
// process knows; a process first heard of now (from a job) has not moved
// for no time yet.
func (w *watch) still(id string, now time.Time) time.Duration {
	s, ok := w.seen[id]
	if !ok {
		w.seen[id] = sighting{beats: -1, since: now}
		return 0
	}
	return now.Sub(s.since)
}

// keepAlive beats every quarter lease and rescues the jobs of processes
// that stopped beating, until ctx is done.
func (r *Runner) keepAlive(ctx context.Context) {
	defer close(r.aliveDone)
	t := time.NewTicker(r.lease / 4)
	defer t.Stop()
	lastBeat := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// A beat that hangs counts as missed, so the fence below is reached.
		beatCtx, cancel := context.WithTimeout(ctx, r.lease/4)
		ok, err := r.db.BeatProcess(beatCtx, r.id)
		cancel()
		switch {
		case err != nil:
			if ctx.Err() == nil {
				r.logger.WarnContext(ctx, "job heartbeat", "error", err)
			}
		case !ok:
			// Another process took this one for dead and rescued its
			// jobs: stop what still runs of them, and live on.
			r.fence(errors.New("this process was taken for dead and its sync rescued"))
			if err := r.db.StartProcess(ctx, r.id); err == nil {
				lastBeat = time.Now()
			}
		default:
			lastBeat = time.Now()
		}
		// On SQLite no other process rescues this one's jobs (they are
		// rescued when serve starts again), and a beat waits behind the
		// one connection, so a long write would look like a missed beat:
		// only PostgreSQL fences on silence.
		if missed := time.Since(lastBeat); missed > r.lease/2 && r.db.Dialect() != "sqlite" {
			r.fence(fmt.Errorf("no heartbeat for %s: the sync may be rescued by another process", missed.Round(time.Second)))
		}
		sweepCtx, cancel := context.WithTimeout(ctx, r.lease)
		if err := r.sweep(sweepCtx); err != nil && ctx.Err() == nil {
			r.logger.ErrorContext(ctx, "rescue the jobs of dead processes", "error", err)
		}
		cancel()
	}
}

// hold registers a sync working here, so that fence can cancel it.
func (r *Runner) hold(ctx context.Context, jobID int64) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	r.heldMu.Lock()
	r.held[jobID] = cancel
	r.heldMu.Unlock()
	return ctx, func() {
		r.heldMu.Lock()
		delete(r.held, jobID)
		r.heldMu.Unlock()
		cancel(nil)
	}
}

// fence cancels every sync working here: this process may have been
// taken for dead, and its syncs rescued.
func (r *Runner) fence(cause error) {
	r.heldMu.Lock()
	defer r.heldMu.Unlock()
	for id, cancel := range r.held {
		r.logger.Warn("cancelling a sync", "job", id, "reason", cause)
		cancel(cause)
	}
}

// sweep reads the heartbeats and rescues the jobs of the processes whose
// count stood still for a lease, then forgets those processes. On
// PostgreSQL one process sweeps at a time.
func (r *Runner) sweep(ctx context.Context) error {
	beats, err := r.db.ProcessBeats(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	r.watch.look(beats, now, r.lease)
	dead := func(process string) bool { return process != r.id && r.watch.still(process, now) >= r.lease }
	return r.exclusively(ctx, "roster job rescue", func() error {
		if _, err := r.rescue(ctx, dead); err != nil {
			return err
		}
		for id, b := range beats {
			if dead(id) {
				if err := r.db.EndDeadProcess(ctx, id, b); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// rescueAll rescues the jobs of every other process, and forgets them:
// on SQLite one process owns the database, so a job still running as it
// starts was left by a process that is gone.
func (r *Runner) rescueAll(ctx context.Context) error {
	if _, err := r.rescue(ctx, func(process string) bool { return process != r.id }); err != nil {
		return err
	}
	beats, err := r.db.ProcessBeats(ctx)
	if err != nil {
		return err
	}
	for id, b := range beats {
		if id != r.id {
			if err := r.db.EndDeadProcess(ctx, id, b); err != nil {
				return err
			}
		}
	}
	return nil
}

// rescue makes the running jobs of dead processes available again and
// returns how many it rescued. A sync's interrupted runs are recorded
// first, while its job still holds the connection, so that no new sync
// of it can have started.
func (r *Runner) rescue(ctx context.Context, dead func(process string) bool) (int, error) {
	res, err := r.client.JobList(ctx, river.NewJobListParams().States(rivertype.JobStateRunning).First(10000))
	if err != nil {
		return 0, fmt.Errorf("list running jobs: %w", err)
	}
	n := 0
	for _, j := range res.Jobs {
		if len(j.AttemptedBy) == 0 || !dead(j.AttemptedBy[len(j.AttemptedBy)-1]) {
			continue
		}
		if j.Kind == (SyncArgs{}).Kind() {
			if err := r.interruptRuns(ctx, j); err != nil {
				return n, err
			}
		}
		ok, err := releaseJob(ctx, r.db.SQL(), j.ID, j.Attempt)
		if err != nil {
			return n, err
		}
		if ok {
			n++
			r.logger.WarnContext(ctx, "job of a dead process rescued", "job", j.ID, "kind", j.Kind,
				"process", j.AttemptedBy[len(j.AttemptedBy)-1])
		}
	}
	return n, nil
}

// interruptRuns records as failed ("interrupted") the running runs of a
// dead sync job's connection that its attempt started. A minute of slack
// allows for two machines' clocks.
func (r *Runner) interruptRuns(ctx context.Context, j *rivertype.JobRow) error {
	var a SyncArgs
	if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
		return fmt.Errorf("sync job %d: %w", j.ID, err)
	}
	var since time.Time
	if j.AttemptedAt != nil {
		since = j.AttemptedAt.Add(-time.Minute)
	}
	runs, err := r.store.SyncRuns(ctx, a.ConnectionID, 5)
	if err != nil {
		return err
	}
	for _, run := range runs {
		if run.Status != roster.SyncRunning || run.StartedAt.Before(since) {
			continue
		}
		run.Error, run.EndedAt = interrupted, time.Time{}
		err := r.store.FailSyncRun(ctx, run)
		if errors.Is(err, store.ErrConflict) {
			continue // it ended meanwhile
		}
		if err != nil {
			return err
		}
		r.logger.WarnContext(ctx, "sync interrupted by the death of its process", "connection", a.ConnectionID, "run", run.ID)
	}
	return nil
}

// releaseJob makes a running job available again if it is still at
// attempt: a job fetched again meanwhile is left alone. A job out of
// attempts gets one more, as River's own retry gives: its process died,
// the job did not fail. The job keeps its place in the queue.
func releaseJob(ctx context.Context, db *sql.DB, id int64, attempt int) (bool, error) {
	res, err := db.ExecContext(ctx, `UPDATE river_job SET state = 'available',
		max_attempts = CASE WHEN attempt >= max_attempts THEN attempt + 1 ELSE max_attempts END
		WHERE id = $1 AND state = 'running' AND attempt = $2`, id, attempt)
	if err != nil {
		return false, fmt.Errorf("release job %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("release job %d: %w", id, err)
	}
	return n > 0, nil
}

// exclusively runs fn holding a PostgreSQL advisory lock named by name
// and the schema, or skips it when another process holds the lock. On
// SQLite it just runs fn.
func (r *Runner) exclusively(ctx context.Context, name string, fn func() error) error {
	if r.pool == nil {
		return fn()
	}
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: lock: %w", name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, lockKey(name, r.schema)).Scan(&ok); err != nil {
		return fmt.Errorf("%s: lock: %w", name, err)
	}
	if !ok {
		return nil
	}
	return fn()
}
