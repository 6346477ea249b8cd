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

// The steps a run does: an action through the action layer, a notice,
// a wait. (Approval steps are approval.go's.)

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
	subject, text, err := render(ctx, step, data)
	if err != nil {
		return renderFailure(ctx, err)
	}
	err = e.send(ctx, notify.Message{Key: ActionKey(run.ID, step.ID), Channel: step.Channel, To: to,
		Subject: subject, Text: text, Event: "workflow.notify",
		Data:  map[string]any{"run_id": run.ID, "workflow": run.WorkflowName, "email": run.Email, "step": step.ID},
		RunID: run.ID})
	if err != nil {
		return sendFailure(err, step.Channel)
	}
	where := step.Channel
	if len(to) > 0 {
		where += " to " + strings.Join(to, ", ")
	}
	return result{status: roster.StepSucceeded, next: next, detail: "sent by " + where}
}

// render renders a notify step's subject and text, within the budget of
// roster.ExecNotify.
func render(ctx context.Context, step roster.Step, data roster.NotifyData) (subject, text string, err error) {
	if subject, err = roster.RenderNotify(ctx, step.Subject, data); err != nil {
		return "", "", fmt.Errorf("render the subject: %w", err)
	}
	if text, err = roster.RenderNotify(ctx, step.Text, data); err != nil {
		return "", "", fmt.Errorf("render the text: %w", err)
	}
	return subject, text, nil
}

// renderFailure: a template that cannot render fails the step, as
// retrying renders the same; only a job stopped midway tries again.
func renderFailure(ctx context.Context, err error) result {
	if ctx.Err() != nil {
		return result{transient: err}
	}
	return result{status: roster.StepFailed, detail: err.Error()}
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
