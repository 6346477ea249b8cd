package workflow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"roster"
	"roster/internal/action"
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
// one. It is sent once and put on the run's timeline and in the audit
// log; a notice that cannot be sent is recorded there and changes nothing
// else (the run has failed either way).
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
		subject, err := notify.Render(f.Subject, data)
		if err != nil {
			return err
		}
		text, err := notify.Render(f.Text, data)
		if err != nil {
			return err
		}
		rs.Detail = "told by " + f.Channel
		if len(to) > 0 {
			rs.Detail += " " + strings.Join(to, ", ")
		}
		return e.send(ctx, notify.Message{Key: ActionKey(run.ID, roster.OnFailureID), Channel: f.Channel, To: to,
			Subject: subject, Text: text, Event: "workflow.failed",
			Data: map[string]any{"run_id": run.ID, "workflow": run.WorkflowName, "email": run.Email, "error": run.Error}})
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

// do does one step.
func (e *Engine) do(ctx context.Context, run roster.WorkflowRun, step roster.Step, prev *roster.RunStep, timeline []roster.RunStep) result {
	w := run.Definition
	i := run.Position
	switch step.Kind {
	case roster.StepWait:
		return e.wait(run, step, prev, w.NextOf(i))
	case roster.StepApproval:
		return e.approval(ctx, run, step, prev, timeline)
	case roster.StepNotify:
		return e.notifyStep(ctx, run, step, timeline, w.NextOf(i))
	}
	return e.act(ctx, run, step, w.NextOf(i))
}

func (e *Engine) wait(run roster.WorkflowRun, step roster.Step, prev *roster.RunStep, next string) result {
	now := e.now()
	if prev == nil || prev.DueAt.IsZero() {
		due := now.Add(time.Duration(step.Duration))
		return result{status: roster.StepWaiting, due: due,
			detail: fmt.Sprintf("waiting %s, until %s", step.Duration, stamp(due))}
	}
	if now.Before(prev.DueAt) {
		return result{status: roster.StepWaiting, due: prev.DueAt, detail: prev.Detail}
	}
	return result{status: roster.StepSucceeded, next: next, detail: fmt.Sprintf("waited %s", step.Duration)}
}

// ActionKey is the idempotency key of a run's action step: the same step
// of the same run never acts twice, however often its job runs. Only the
// job holding the run's lease acts under it, so an action left pending
// for longer than a lease was started by a job that lost the run (its
// process died): the action layer may check Miro and retry it then,
// rather than after its own, longer grace for keys nothing guards.
func ActionKey(runID int64, stepID string) string { return fmt.Sprintf("wf:%d:%s", runID, stepID) }

// act does an action step through the action layer.
func (e *Engine) act(ctx context.Context, run roster.WorkflowRun, step roster.Step, next string) result {
	w := run.Definition
	req := action.Request{Key: ActionKey(run.ID, step.ID), ConnectionID: w.ConnectionID,
		Actor: "workflow:" + w.Name, Email: run.Email, PendingGrace: e.lease()}
	if step.Kind != roster.StepInvite {
		acc, found, err := e.account(ctx, run)
		if err != nil {
			return result{transient: err}
		}
		if !found {
			return result{status: roster.StepSkipped, next: next,
				detail: "no Miro account matches " + run.Email + "; nothing to " + strings.ReplaceAll(string(step.Kind), "_", " ")}
		}
		req.Email, req.MiroUserID = "", acc.MiroUserID
	}
	var a roster.Action
	var err error
	switch step.Kind {
	case roster.StepInvite:
		req.MiroTeamID, req.Role = step.Team, step.Role
		a, err = e.Actions.Invite(ctx, req)
	case roster.StepRemove:
		req.MiroTeamID = step.Team
		a, err = e.Actions.Remove(ctx, req)
	case roster.StepChangeRole:
		req.MiroTeamID, req.Role = step.Team, step.Role
		a, err = e.Actions.ChangeRole(ctx, req)
	case roster.StepDeactivate:
		a, err = e.Actions.Deactivate(ctx, req)
	case roster.StepReactivate:
		a, err = e.Actions.Reactivate(ctx, req)
	case roster.StepSignOut:
		a, err = e.Actions.SignOut(ctx, req)
	case roster.StepRemoveAllTeams:
		req.ServiceAccountEmail = step.ServiceAccount
		return e.removeAll(ctx, req, next)
	default:
		return result{status: roster.StepFailed, detail: fmt.Sprintf("unknown step kind %q", step.Kind)}
	}
	return actionResult(a, err, next)
}

// actionResult maps the action layer's outcome onto the step.
func actionResult(a roster.Action, err error, next string) result {
	switch {
	case err == nil:
		return result{status: roster.StepSucceeded, next: next, detail: a.Result}
	case errors.Is(err, action.ErrRefused):
		return result{status: roster.StepRefused, detail: a.Result}
	case errors.Is(err, action.ErrInvalid):
		return result{status: roster.StepFailed, detail: err.Error()}
	}
	return result{transient: err} // failed (checked against Miro on retry) or in progress
}

// removeAll removes the subject from every team; a team that failed is
// retried (the teams already done are not: they have their own keys).
func (e *Engine) removeAll(ctx context.Context, req action.Request, next string) result {
	sum, err := e.Actions.RemoveFromAllTeams(ctx, req)
	if err != nil {
		return actionResult(roster.Action{}, err, next)
	}
	removed, skipped, failed := sum.Counts()
	var notes []string
	for _, t := range sum.Teams {
		if t.Outcome != action.TeamRemoved {
			notes = append(notes, fmt.Sprintf("%s %s: %s", t.Outcome, t.TeamName, t.Reason))
		}
	}
	detail := "removed from " + plural(removed, "team")
	if skipped > 0 {
		detail += fmt.Sprintf(", skipped %d", skipped)
	}
	if len(notes) > 0 {
		detail += " (" + strings.Join(notes, "; ") + ")"
	}
	if failed > 0 {
		return result{transient: fmt.Errorf("%s; %d teams failed", detail, failed)}
	}
	return result{status: roster.StepSucceeded, next: next, detail: detail}
}

// account is the run's Miro account now: the one it started with, or one
// a sync found since by email.
func (e *Engine) account(ctx context.Context, run roster.WorkflowRun) (roster.Account, bool, error) {
	if run.AccountID > 0 {
		a, err := e.Store.Account(ctx, run.AccountID)
		if err == nil {
			return a, true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return a, false, fmt.Errorf("read account %d: %w", run.AccountID, err)
		}
	}
	accs, err := e.Store.AccountsByEmails(ctx, []string{run.Email})
	if err != nil {
		return roster.Account{}, false, fmt.Errorf("look up %s: %w", run.Email, err)
	}
	a, ok := accs[run.Email]
	return a, ok, nil
}

// notifyStep renders and sends a notification. Its key goes with it, so a
// receiver can drop the resend that a crash right after sending causes.
func (e *Engine) notifyStep(ctx context.Context, run roster.WorkflowRun, step roster.Step, timeline []roster.RunStep, next string) result {
	data, err := e.notifyData(ctx, run, timeline)
	if err != nil {
		return result{transient: err}
	}
	to, res, ok := e.recipients(ctx, run, step.To)
	if !ok {
		return res
	}
	subject, err := notify.Render(step.Subject, data)
	if err == nil {
		var text string
		if text, err = notify.Render(step.Text, data); err == nil {
			err = e.send(ctx, notify.Message{Key: ActionKey(run.ID, step.ID), Channel: step.Channel, To: to,
				Subject: subject, Text: text, Event: "workflow.notify",
				Data: map[string]any{"run_id": run.ID, "workflow": run.WorkflowName, "email": run.Email, "step": step.ID}})
		}
	}
	if err != nil {
		return sendFailure(err, step.Channel)
	}
	where := step.Channel
	if len(to) > 0 {
		where += " to " + strings.Join(to, ", ")
	}
	return result{status: roster.StepSucceeded, next: next, detail: "sent by " + where}
}

func (e *Engine) send(ctx context.Context, m notify.Message) error {
	if e.Notifier == nil {
		return fmt.Errorf("%w: no notification channel is configured", notify.ErrNotConfigured)
	}
	return e.Notifier.Send(ctx, m)
}

// sendFailure: a channel that is not configured, or an answer retrying
// will not change, fails the step; anything else is retried.
func sendFailure(err error, channel string) result {
	if errors.Is(err, notify.ErrNotConfigured) || notify.IsPermanent(err) {
		return result{status: roster.StepFailed, detail: fmt.Sprintf("could not send by %s: %v", channel, err)}
	}
	return result{transient: fmt.Errorf("send by %s: %w", channel, err)}
}

// recipients resolves "manager" to the subject's manager.
func (e *Engine) recipients(ctx context.Context, run roster.WorkflowRun, to []string) ([]string, result, bool) {
	var out []string
	for _, t := range to {
		if t != roster.ApproverManager {
			out = append(out, t)
			continue
		}
		m, err := e.manager(ctx, run)
		if err != nil {
			return nil, result{transient: err}, false
		}
		if m == "" {
			return nil, result{status: roster.StepFailed, detail: "the directory names no manager for " + run.Email}, false
		}
		out = append(out, m)
	}
	return out, result{}, true
}

// manager is the subject's manager's email from the directory, or "".
func (e *Engine) manager(ctx context.Context, run roster.WorkflowRun) (string, error) {
	p, err := e.person(ctx, run)
	if err != nil || p == nil {
		return "", err
	}
	return p.ManagerEmail, nil
}

// person is the run's directory person now, or nil.
func (e *Engine) person(ctx context.Context, run roster.WorkflowRun) (*roster.Person, error) {
	var p roster.Person
	var err error
	if run.PersonID > 0 {
		p, err = e.Store.PersonByID(ctx, run.PersonID)
	} else {
		p, err = e.Store.PersonForAccount(ctx, run.Email)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("read the directory person of %s: %w", run.Email, err)
	}
	return &p, nil
}

// notifyData is what a run's templates see.
func (e *Engine) notifyData(ctx context.Context, run roster.WorkflowRun, timeline []roster.RunStep) (roster.NotifyData, error) {
	d := roster.NotifyData{Workflow: run.WorkflowName, RunID: run.ID, RunURL: e.runURL(run.ID),
		Email: run.Email, Trigger: run.Trigger}
	p, err := e.person(ctx, run)
	if err != nil {
		return d, err
	}
	if p != nil {
		d.Name, d.Manager, d.Department = p.Name, p.ManagerEmail, p.Department
	}
	if a, ok, err := e.account(ctx, run); err != nil {
		return d, err
	} else if ok {
		d.License = a.License
		if d.Name == "" {
			d.Name = a.Name
		}
	}
	for _, s := range timeline {
		if s.Status != roster.StepRunning && s.Status != roster.StepWaiting {
			d.Steps = append(d.Steps, fmt.Sprintf("%s: %s, %s", s.StepID, s.Status, s.Detail))
		}
	}
	return d, nil
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
				jobs = append(jobs, job) // skipped if it exists
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
			jobs = append(jobs, StepJob{RunID: run.ID, Position: run.Position, Generation: next.Generation})
			redispatched++
		}
	}
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
