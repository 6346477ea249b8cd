package workflow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"roster"
	"roster/internal/notify"
	"roster/internal/store"
)

// result is what doing one step came to.
type result struct {
	status roster.StepStatus // succeeded, skipped, waiting, refused or failed
	detail string            // plain words
	// next is where the run goes after a succeeded or skipped step: a
	// step id or "end"; label says why, for an approval ("approved").
	next  string
	label string
	due   time.Time // waiting: when to look again
	// transient is a failure a retry may fix: the job is retried.
	transient error
}

// Work does the step of job's run once: it leases the run (a job of a
// stale generation, or one whose run another job holds, does nothing),
// does the step, and records the outcome and the move to the next step in
// one transaction, then enqueues the next step's job. A transient failure
// is returned so the job is retried, until attempt reaches maxAttempts,
// when the run fails with the reason.
func (e *Engine) Work(ctx context.Context, job StepJob, attempt, maxAttempts int) error {
	now := e.now()
	run, ok, err := e.Store.ClaimStep(ctx, job.RunID, job.Position, job.Generation, now.Add(e.lease()), now)
	if err != nil {
		return fmt.Errorf("claim run %d: %w", job.RunID, err)
	}
	if !ok {
		return nil // ended, moved on, re-dispatched, or held by a live job
	}
	w := run.Definition
	if run.Position < 0 || run.Position >= len(w.Steps) {
		return e.fail(ctx, run, nil, fmt.Sprintf("the run points at step %d of %d", run.Position, len(w.Steps)))
	}
	step := w.Steps[run.Position]
	timeline, err := e.Store.RunSteps(ctx, run.ID)
	if err != nil {
		e.release(ctx, run)
		return fmt.Errorf("read the timeline of run %d: %w", run.ID, err)
	}
	var prev *roster.RunStep
	for i := range timeline {
		if timeline[i].StepID == step.ID {
			prev = &timeline[i]
		}
	}

	stepCtx, stop := e.holdLease(ctx, run)
	res := e.do(stepCtx, run, step, prev, timeline)
	stop()
	return e.record(ctx, run, step, prev, res, attempt, maxAttempts)
}

// holdLease renews the run's lease while a step works, and cancels the
// step's context if the lease is lost (the run was cancelled or
// re-dispatched), so two jobs never act for one run at once for long.
func (e *Engine) holdLease(ctx context.Context, run roster.WorkflowRun) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(e.lease() / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				ok, err := e.Store.RenewLease(ctx, run.ID, run.Generation, e.now().Add(e.lease()))
				if err == nil && !ok {
					e.logger().WarnContext(ctx, "workflow run lease lost; stopping its step", "run", run.ID)
					cancel()
					return
				}
			}
		}
	}()
	return ctx, func() { close(done); cancel() }
}

// release gives the lease back so the job's retry can claim the run.
func (e *Engine) release(ctx context.Context, run roster.WorkflowRun) {
	run.LeaseUntil = time.Time{}
	run.UpdatedAt = e.now()
	if _, err := e.Store.UpdateRun(context.WithoutCancel(ctx), run, run.Generation, nil, nil); err != nil {
		e.logger().WarnContext(ctx, "release the lease of a workflow run", "run", run.ID, "error", err)
	}
}

// record writes a step's outcome and moves the run on.
func (e *Engine) record(ctx context.Context, run roster.WorkflowRun, step roster.Step, prev *roster.RunStep, res result, attempt, maxAttempts int) error {
	ctx = context.WithoutCancel(ctx) // what was done must be recorded
	now := e.now()
	rs := roster.RunStep{RunID: run.ID, StepID: step.ID, Kind: step.Kind, Status: res.status,
		Attempts: attempt, Detail: res.detail, DueAt: res.due, StartedAt: now}
	if prev != nil {
		rs.StartedAt = prev.StartedAt
		rs.Attempts = max(attempt, prev.Attempts)
	}
	w := run.Definition
	next := run
	next.LeaseUntil, next.UpdatedAt = time.Time{}, now
	var enqueue *StepJob

	switch res.status {
	case roster.StepSucceeded, roster.StepSkipped:
		rs.EndedAt = now
		target := res.next
		rs.Branch = target
		if res.label != "" {
			rs.Branch = res.label + " → " + target
		}
		if target == roster.StepEnd {
			next.Status, next.EndedAt, next.Position = roster.RunSucceeded, now, len(w.Steps)
		} else {
			next.Status, next.Position, next.Generation = roster.RunRunning, w.StepIndex(target), run.Generation+1
			enqueue = &StepJob{RunID: run.ID, Position: next.Position, Generation: next.Generation}
		}
	case roster.StepWaiting:
		next.Status, next.Generation = roster.RunWaiting, run.Generation+1
		// The run stays leased until just before it is due: its scheduled
		// job claims it then, and were that job lost, Reconcile finds the
		// lease expired, as for a job that died.
		next.LeaseUntil = res.due.Add(-time.Second)
		enqueue = &StepJob{RunID: run.ID, Position: run.Position, Generation: next.Generation, At: res.due}
	case roster.StepRefused, roster.StepFailed:
		rs.EndedAt = now
		next.Status, next.EndedAt = roster.RunFailed, now
		next.Error = fmt.Sprintf("step %s %s: %s", step.ID, res.status, res.detail)
	default: // running: a transient failure
		if attempt >= maxAttempts {
			rs.Status, rs.EndedAt = roster.StepFailed, now
			rs.Detail = fmt.Sprintf("gave up after %d attempts: %v", attempt, res.transient)
			next.Status, next.EndedAt = roster.RunFailed, now
			next.Error = fmt.Sprintf("step %s failed after %d attempts: %v", step.ID, attempt, res.transient)
			break
		}
		rs.Status = roster.StepRunning
		rs.Detail = fmt.Sprintf("attempt %d failed, retrying: %v", attempt, res.transient)
	}

	audit := stepAudit(run, rs, now)
	ok, err := e.Store.UpdateRun(ctx, next, run.Generation, &rs, audit)
	if err != nil {
		return fmt.Errorf("record step %s of run %d: %w", step.ID, run.ID, err)
	}
	if !ok {
		return nil // cancelled or re-dispatched meanwhile; the new owner goes on
	}
	e.logger().InfoContext(ctx, "workflow step", "run", run.ID, "workflow", run.WorkflowName, "step", step.ID,
		"status", rs.Status, "detail", rs.Detail, "run_status", next.Status)
	if rs.Status == roster.StepRunning {
		return res.transient // River retries the job
	}
	if next.Status == roster.RunFailed {
		if err := e.closeApproval(ctx, next, "run failed", "workflow:"+run.WorkflowName); err != nil {
			e.logger().ErrorContext(ctx, "close a failed run's approval", "run", run.ID, "error", err)
		}
		e.tellFailure(ctx, next)
	}
	if enqueue != nil {
		if err := e.Jobs.EnqueueSteps(ctx, []StepJob{*enqueue}); err != nil {
			// Reconcile enqueues it: the run is recorded as moved on.
			e.logger().ErrorContext(ctx, "enqueue the next workflow step", "run", run.ID, "error", err)
		}
	}
	return nil
}

// stepAudit is a step's audit entry; a transient attempt is not audited
// (its action, if any, audits itself).
func stepAudit(run roster.WorkflowRun, rs roster.RunStep, now time.Time) *roster.AuditEntry {
	var res string
	switch rs.Status {
	case roster.StepSucceeded, roster.StepSkipped:
		res = "ok"
	case roster.StepWaiting:
		res = "waiting"
	case roster.StepRefused:
		res = "refused"
	case roster.StepFailed:
		res = "failed"
	default:
		return nil
	}
	detail := fmt.Sprintf("run %d, step %s: %s", run.ID, rs.StepID, rs.Detail)
	if rs.Branch != "" {
		detail += " (next: " + rs.Branch + ")"
	}
	return &roster.AuditEntry{At: now, Actor: "workflow:" + run.WorkflowName, Kind: "workflow",
		Action: "step:" + string(rs.Kind), Target: run.Email, ConnectionID: run.Definition.ConnectionID,
		Result: res, Detail: detail}
}

// tellFailure sends a failed run's on_failure notice, if its workflow has
// one. It is put on the run's timeline and in the audit log; a notice
// that cannot be sent is recorded there and changes nothing else (the run
// has failed either way). When the notifier records messages (the
// Outbox), a transient failure is due again after NoticeRetryAfter and
// Reconcile sends it again.
func (e *Engine) tellFailure(ctx context.Context, run roster.WorkflowRun) {
	f := run.Definition.OnFailure
	if f == nil {
		return
	}
	now := e.now()
	rs := roster.RunStep{RunID: run.ID, StepID: roster.OnFailureID, Kind: roster.StepNotify, Attempts: 1, StartedAt: now}
	err := func() error {
		timeline, err := e.Store.RunSteps(ctx, run.ID)
		if err != nil {
			return fmt.Errorf("read the timeline: %w", err)
		}
		data, err := e.notifyData(ctx, run, timeline)
		if err != nil {
			return err
		}
		data.Error = run.Error
		to, res, ok := e.recipients(ctx, run, f.To)
		if !ok {
			if res.transient != nil {
				return res.transient
			}
			return errors.New(res.detail)
		}
		subject, text, err := render(ctx, *f, data)
		if err != nil {
			return err
		}
		rs.Detail = "told by " + f.Channel
		if len(to) > 0 {
			rs.Detail += " " + strings.Join(to, ", ")
		}
		return e.send(ctx, notify.Message{Key: ActionKey(run.ID, roster.OnFailureID), Channel: f.Channel, To: to,
			Subject: subject, Text: text, Event: "workflow.failed",
			Data:  map[string]any{"run_id": run.ID, "workflow": run.WorkflowName, "email": run.Email, "error": run.Error},
			RunID: run.ID, RetryAfter: NoticeRetryAfter})
	}()
	rs.Status, rs.EndedAt = roster.StepSucceeded, e.now()
	if err != nil {
		rs.Status, rs.Detail = roster.StepFailed, "could not tell of the failure: "+err.Error()
		e.logger().ErrorContext(ctx, "workflow failure notice not sent", "run", run.ID, "error", err)
	}
	if _, err := e.Store.UpdateRun(ctx, run, run.Generation, &rs, stepAudit(run, rs, rs.EndedAt)); err != nil {
		e.logger().ErrorContext(ctx, "record a workflow failure notice", "run", run.ID, "error", err)
	}
}

// fail ends a run whose definition cannot go on.
func (e *Engine) fail(ctx context.Context, run roster.WorkflowRun, rs *roster.RunStep, why string) error {
	now := e.now()
	next := run
	next.Status, next.EndedAt, next.Error, next.LeaseUntil, next.UpdatedAt = roster.RunFailed, now, why, time.Time{}, now
	_, err := e.Store.UpdateRun(context.WithoutCancel(ctx), next, run.Generation, rs, nil)
	return err
}

func (e *Engine) runURL(id int64) string {
	return strings.TrimRight(e.PublicURL, "/") + fmt.Sprintf("/workflows/runs/%d", id)
}

// Cancel ends a live run; its queued jobs then do nothing. A step working
// at that moment finishes its call to Miro (which is recorded and
// audited) but the run does not go on.
func (e *Engine) Cancel(ctx context.Context, runID int64, actor string) (roster.WorkflowRun, error) {
	now := e.now()
	run, err := e.Store.CancelRun(ctx, runID, "cancelled by "+actor, roster.AuditEntry{At: now, Actor: actor,
		Kind: "workflow", Action: "run_cancelled", Result: "ok", Detail: fmt.Sprintf("run %d cancelled", runID)})
	if err != nil {
		return run, fmt.Errorf("cancel run %d: %w", runID, err)
	}
	if err := e.closeApproval(ctx, run, "run cancelled by "+actor, actor); err != nil {
		return run, err
	}
	return run, nil
}

// closeApproval closes the pending question of a run that ended at an
// approval step (cancelled, or failed asking), so it leaves the
// approvers' lists and its links say it was answered.
func (e *Engine) closeApproval(ctx context.Context, run roster.WorkflowRun, why, actor string) error {
	if run.Position >= len(run.Definition.Steps) || run.Definition.Steps[run.Position].Kind != roster.StepApproval {
		return nil
	}
	now := e.now()
	a, err := e.Store.ApprovalFor(ctx, run.ID, run.Definition.Steps[run.Position].ID)
	if err == nil && a.Status == roster.ApprovalPending {
		_, err = e.Store.DecideApproval(ctx, a.ID, roster.ApprovalDenied, why, now, roster.AuditEntry{
			At: now, Actor: actor, Kind: "workflow", Action: "approval_denied", Target: run.Email, Result: "ok",
			Detail: fmt.Sprintf("run %d ended (%s): its approval %d is closed", run.ID, run.Status, a.ID)})
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("close the approval of run %d: %w", run.ID, err)
	}
	return nil
}

// RunningLister is what Reconcile needs of a job queue to find jobs a
// dead process left running; *jobs.Runner implements it.
type RunningLister interface {
	RunningSteps(ctx context.Context) (map[StepJob]time.Time, error)
}

// dueGrace is how late a waiting run's scheduled job may be before
// Reconcile takes it for lost.
const dueGrace = 15 * time.Second

// Reconcile dispatches again the runs whose job died (their lease
// expired: the process was killed mid-step, or a waiting run's scheduled
// job is long overdue) and enqueues again the job of runs idle between
// steps (the process died between recording a step and enqueueing the
// next; a job that exists is not inserted twice). It is safe to run at
// any time and on several processes: a re-dispatch bumps the generation,
// so the dead job can never act if it wakes. It returns how many runs it
// dispatched again.
func (e *Engine) Reconcile(ctx context.Context) (int, error) {
	now := e.now()
	runs, err := e.Store.StaleRuns(ctx, now, now.Add(-time.Minute), batch)
	if err != nil {
		return 0, fmt.Errorf("read stale runs: %w", err)
	}
	// A job a killed process had fetched but not yet leased its run with
	// stays running at River: enqueueing it again would be skipped as a
	// duplicate, so such runs are re-dispatched like expired leases.
	var running map[StepJob]time.Time
	if rs, ok := e.Jobs.(RunningLister); ok && len(runs) > 0 {
		if running, err = rs.RunningSteps(ctx); err != nil {
			return 0, err
		}
	}
	var jobs []StepJob
	redispatched := 0
	for _, run := range runs {
		job := StepJob{RunID: run.ID, Position: run.Position, Generation: run.Generation}
		if run.LeaseUntil.IsZero() {
			since, isRunning := running[job]
			if !isRunning || now.Sub(since) < e.lease() {
				// Skipped if it exists. Due since the run last moved, it
				// goes before the steps queued after it, not behind them.
				job.At = run.UpdatedAt
				jobs = append(jobs, job)
				continue
			}
		} else if run.Status == roster.RunWaiting && now.Sub(run.LeaseUntil) < dueGrace {
			continue // its scheduled job is about to claim it
		}
		next := run
		next.Generation, next.LeaseUntil, next.UpdatedAt = run.Generation+1, time.Time{}, now
		ok, err := e.Store.UpdateRun(ctx, next, run.Generation, nil, nil)
		if err != nil {
			return 0, fmt.Errorf("re-dispatch run %d: %w", run.ID, err)
		}
		if ok {
			e.logger().WarnContext(ctx, "workflow run orphaned by a dead job; dispatching it again", "run", run.ID, "position", run.Position)
			jobs = append(jobs, StepJob{RunID: run.ID, Position: run.Position, Generation: next.Generation, At: run.UpdatedAt})
			redispatched++
		}
	}
	e.resendDue(ctx)
	if len(jobs) == 0 {
		return 0, nil
	}
	if err := e.Jobs.EnqueueSteps(ctx, jobs); err != nil {
		return 0, fmt.Errorf("enqueue stale runs: %w", err)
	}
	return redispatched, nil
}

// stamp is a time as timelines, messages and the dashboard show it.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
