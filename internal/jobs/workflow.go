package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"roster/internal/workflow"
)

// Workflows is what the workflow jobs call; *workflow.Engine implements it.
type Workflows interface {
	Work(ctx context.Context, job workflow.StepJob, attempt, maxAttempts int) error
	Evaluate(ctx context.Context) (int, error)
	Reconcile(ctx context.Context) (int, error)
}

// Workflow queues and defaults.
const (
	queueWorkflow = "workflow"
	// DefaultWorkflowWorkers bounds the steps worked at once: steps mostly
	// wait on Miro, whose budget the shared pacers spend.
	DefaultWorkflowWorkers = 8
	DefaultStepAttempts    = 10
	DefaultStepRetryBase   = 5 * time.Second
	DefaultTriggerEvery    = 30 * time.Second
	// stepTimeout bounds one step's job; a long step (removal from many
	// teams) keeps its run's lease renewed meanwhile.
	stepTimeout = 15 * time.Minute
)

// StepArgs is a job that works one step of one workflow run. It is unique
// by its arguments in every state but cancelled and discarded, so that
// enqueueing a step that is queued, running or done adds nothing.
type StepArgs struct {
	RunID      int64 `json:"run_id"`
	Position   int   `json:"position"`
	Generation int   `json:"generation"`
}

// Kind is stored with every job; it never changes.
func (StepArgs) Kind() string { return "workflow_step" }

type stepWorker struct {
	river.WorkerDefaults[StepArgs]
	r *Runner
}

func (w *stepWorker) Timeout(*river.Job[StepArgs]) time.Duration { return stepTimeout }

// NextRetry backs off exponentially from the configured base, capped at
// ten minutes, instead of River's attempt⁴ seconds.
func (w *stepWorker) NextRetry(job *river.Job[StepArgs]) time.Time {
	d := w.r.stepRetryBase << min(job.Attempt-1, 16)
	return time.Now().Add(min(d, 10*time.Minute))
}

func (w *stepWorker) Work(ctx context.Context, job *river.Job[StepArgs]) error {
	a := job.Args
	return w.r.workflows.Work(ctx, workflow.StepJob{RunID: a.RunID, Position: a.Position, Generation: a.Generation},
		job.Attempt, job.MaxAttempts)
}

// DefaultStepHeadStart is how far ahead of a first step a later step is
// queued, per step before it (three at most). River works the earliest
// job first, so a run already going goes on before new ones start. Were
// the 1,000 first steps of a bulk trigger worked before any second step,
// each kind of step would take its turn alone, and the credit budget
// would sit idle while SCIM's limits paced the deactivations, and the
// other way round; run by run, the steps of different runs spend the
// budgets together. Being a head start and not a rank, it ages: a step
// that waited three head starts goes before every step queued after it,
// so no run waits forever behind the later steps of others.
const DefaultStepHeadStart = time.Minute

// queuedAt is when a step job counts as queued: when it is due (now, or
// At; an At in the past is a job due since then), less its head start. A
// step due later is not moved earlier.
func queuedAt(s workflow.StepJob, now time.Time, headStart time.Duration) time.Time {
	if s.At.After(now) {
		return s.At
	}
	due := now
	if !s.At.IsZero() {
		due = s.At
	}
	return due.Add(-time.Duration(min(s.Position, 3)) * headStart)
}

// dueNow makes a job inserted with a time already past available at once.
// River inserts any job given a time as scheduled, for its leader's
// scheduler to make available some seconds later; a step queued with a
// head start is due already.
var dueNow = river.JobInsertMiddlewareFunc(func(ctx context.Context, jobs []*rivertype.JobInsertParams,
	next func(context.Context) ([]*rivertype.JobInsertResult, error)) ([]*rivertype.JobInsertResult, error) {
	now := time.Now()
	for _, p := range jobs {
		if p.State == rivertype.JobStateScheduled && p.ScheduledAt != nil && !p.ScheduledAt.After(now) {
			p.State = rivertype.JobStateAvailable
		}
	}
	return next(ctx)
})

// EnqueueSteps inserts step jobs, each queued at queuedAt.
func (r *Runner) EnqueueSteps(ctx context.Context, steps []workflow.StepJob) error {
	now := time.Now()
	params := make([]river.InsertManyParams, len(steps))
	for i, s := range steps {
		opts := &river.InsertOpts{Queue: queueWorkflow, MaxAttempts: r.stepAttempts,
			ScheduledAt: queuedAt(s, now, r.stepHeadStart), UniqueOpts: river.UniqueOpts{ByArgs: true}}
		params[i] = river.InsertManyParams{Args: StepArgs{RunID: s.RunID, Position: s.Position, Generation: s.Generation}, InsertOpts: opts}
	}
	for len(params) > 0 {
		n := min(len(params), 500)
		if _, err := r.client.InsertMany(ctx, params[:n]); err != nil {
			return fmt.Errorf("jobs: enqueue workflow steps: %w", err)
		}
		params = params[n:]
	}
	return nil
}

// TriggersArgs is the periodic job that evaluates workflow triggers and
// re-dispatches orphaned runs. River inserts it on the leader only.
type TriggersArgs struct{}

// Kind is stored with every job; it never changes.
func (TriggersArgs) Kind() string { return "workflow_triggers" }

// InsertOpts keeps at most one live and does not retry: the next tick is
// the retry.
func (TriggersArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueTriggers, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByState: liveStates}}
}

// queueTriggers has one worker: evaluations never overlap in a process,
// and neither they nor syncs hold up the other.
const queueTriggers = "workflow_triggers"

type triggersWorker struct {
	river.WorkerDefaults[TriggersArgs]
	r *Runner
}

func (w *triggersWorker) Timeout(*river.Job[TriggersArgs]) time.Duration { return 10 * time.Minute }

func (w *triggersWorker) Work(ctx context.Context, job *river.Job[TriggersArgs]) error {
	if stale(job.CreatedAt, w.r.triggerEvery) {
		return nil
	}
	rec, err := w.r.workflows.Reconcile(ctx)
	if err != nil {
		w.r.logger.ErrorContext(ctx, "workflow reconcile", "error", err)
	} else if rec > 0 {
		w.r.logger.InfoContext(ctx, "workflow runs dispatched again", "runs", rec)
	}
	n, err := w.r.workflows.Evaluate(ctx)
	if n > 0 {
		w.r.logger.InfoContext(ctx, "workflow runs started by triggers", "runs", n)
	}
	return err
}
