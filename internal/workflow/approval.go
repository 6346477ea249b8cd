package workflow

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"roster"
	"roster/internal/notify"
	"roster/internal/store"
)

// approval asks, then waits for the answer or the deadline, then takes the
// branch of the answer.
func (e *Engine) approval(ctx context.Context, run roster.WorkflowRun, step roster.Step, prev *roster.RunStep, timeline []roster.RunStep) result {
	now := e.now()
	a, err := e.Store.ApprovalFor(ctx, run.ID, step.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		approver := step.Approver
		if approver == roster.ApproverManager {
			if approver, err = e.manager(ctx, run); err != nil {
				return result{transient: err}
			}
			if approver == "" {
				return result{status: roster.StepFailed, detail: "the directory names no manager for " + run.Email + " to approve; name an approver in the step"}
			}
		}
		a = roster.Approval{RunID: run.ID, StepID: step.ID, Approver: approver, Status: roster.ApprovalPending,
			ExpiresAt: now.Add(time.Duration(step.Timeout)), CreatedAt: now}
		if err := e.Store.CreateApproval(ctx, &a); err != nil && !errors.Is(err, store.ErrConflict) {
			return result{transient: fmt.Errorf("record the approval: %w", err)}
		}
	case err != nil:
		return result{transient: fmt.Errorf("read the approval: %w", err)}
	}

	if a.Status == roster.ApprovalPending {
		asked := prev != nil && prev.Status == roster.StepWaiting
		if !asked {
			if res, ok := e.ask(ctx, run, step, a, timeline); !ok {
				return res
			}
		}
		if now.Before(a.ExpiresAt) {
			waiting := fmt.Sprintf("asked %s (%s); waiting for an answer until %s", a.Approver, step.Via, stamp(a.ExpiresAt))
			// The recorded due time before the deadline is the reminder
			// point (approval_reminder.go): wait for it, or, once come,
			// remind and wait for the deadline.
			if !asked {
				if at := reminderAt(a, step.Via); now.Before(at) {
					return result{status: roster.StepWaiting, due: at, detail: waiting + "; a reminder goes at " + stamp(at)}
				}
				return result{status: roster.StepWaiting, due: a.ExpiresAt, detail: waiting}
			}
			if prev.DueAt.IsZero() || !prev.DueAt.Before(a.ExpiresAt) {
				return result{status: roster.StepWaiting, due: a.ExpiresAt, detail: prev.Detail}
			}
			if now.Before(prev.DueAt) {
				return result{status: roster.StepWaiting, due: prev.DueAt, detail: prev.Detail}
			}
			return result{status: roster.StepWaiting, due: a.ExpiresAt, detail: waiting + "; " + e.remind(ctx, run, step, a)}
		}
		decided, err := e.Store.DecideApproval(ctx, a.ID, roster.ApprovalTimedOut, "timeout", now, roster.AuditEntry{
			At: now, Actor: "workflow:" + run.WorkflowName, Kind: "workflow", Action: "approval_timed_out",
			Target: run.Email, Result: "ok", Detail: fmt.Sprintf("run %d, step %s: no answer from %s by %s", run.ID, step.ID, a.Approver, stamp(a.ExpiresAt))})
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return result{transient: fmt.Errorf("record the timeout: %w", err)}
		}
		a = decided
	}
	approve, deny, timeout := run.Definition.Branches(run.Position)
	switch a.Status {
	case roster.ApprovalApproved:
		return result{status: roster.StepSucceeded, next: approve, label: "approved", detail: "approved by " + a.DecidedBy}
	case roster.ApprovalDenied:
		return result{status: roster.StepSucceeded, next: deny, label: "denied", detail: "denied by " + a.DecidedBy}
	}
	return result{status: roster.StepSucceeded, next: timeout, label: "timed out",
		detail: fmt.Sprintf("%s did not answer by %s", a.Approver, stamp(a.ExpiresAt))}
}

// ask sends the approval request with its signed links, by email or
// Slack; an approval in the UI sends nothing.
func (e *Engine) ask(ctx context.Context, run roster.WorkflowRun, step roster.Step, a roster.Approval, timeline []roster.RunStep) (result, bool) {
	if step.Via == roster.ChannelUI {
		return result{}, true
	}
	data, err := e.notifyData(ctx, run, timeline)
	if err != nil {
		return result{transient: err}, false
	}
	question := fmt.Sprintf("Workflow %s asks you to approve its next step for %s.", run.WorkflowName, run.Email)
	if step.Text != "" {
		if question, err = roster.RenderNotify(ctx, step.Text, data); err != nil {
			return renderFailure(ctx, fmt.Errorf("render the approval text: %w", err)), false
		}
	}
	// Who, why, what approving does and saves: the approver needs it to
	// answer from the message alone.
	text, err := e.approvalText(ctx, run, a, question)
	if err != nil {
		return result{transient: err}, false
	}
	approveURL, denyURL := e.LinkURL(a, true), e.LinkURL(a, false)
	var to []string
	if step.Via == roster.ChannelEmail {
		to = []string{a.Approver}
	}
	err = e.send(ctx, notify.Message{Key: ActionKey(run.ID, step.ID) + ":ask", Channel: step.Via, To: to,
		Subject: fmt.Sprintf("Approval needed: %s for %s", run.WorkflowName, run.Email), Text: text,
		Event: "workflow.approval",
		Data: map[string]any{"run_id": run.ID, "workflow": run.WorkflowName, "email": run.Email, "step": step.ID,
			"approver": a.Approver, "approve_url": approveURL, "deny_url": denyURL, "expires_at": a.ExpiresAt},
		RunID: run.ID})
	if err != nil {
		return sendFailure(err, step.Via), false
	}
	return result{}, true
}

// Link errors.
var (
	ErrLinkInvalid = errors.New("this approval link is not valid: it was altered or not made by this roster")
	ErrLinkExpired = errors.New("this approval link has expired")
	// ErrDecided is an approval answered already (by someone, or by the timeout).
	ErrDecided = errors.New("this approval was already answered")
)

// LinkToken signs (approval, answer, expiry): the approver needs no login,
// and the token can neither be altered nor outlive the approval.
func (e *Engine) LinkToken(a roster.Approval, approve bool) string {
	payload := fmt.Sprintf("%d.%s.%d", a.ID, answerWord(approve), a.ExpiresAt.Unix())
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." + e.mac(payload)
}

// LinkURL is the link an approver follows.
func (e *Engine) LinkURL(a roster.Approval, approve bool) string {
	return strings.TrimRight(e.PublicURL, "/") + "/approvals/" + e.LinkToken(a, approve)
}

func (e *Engine) mac(payload string) string {
	m := hmac.New(sha256.New, e.LinkKey)
	m.Write([]byte("approval link v1\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func answerWord(approve bool) string {
	if approve {
		return "approve"
	}
	return "deny"
}

// OpenLink checks a link token and returns the approval it answers and
// the answer; ErrLinkInvalid for a forged or altered token, ErrLinkExpired
// past the approval's deadline.
func (e *Engine) OpenLink(ctx context.Context, token string) (roster.Approval, bool, error) {
	if len(e.LinkKey) == 0 {
		return roster.Approval{}, false, errors.New("approval links are not set up (no link key)")
	}
	enc, sig, ok := strings.Cut(token, ".")
	if !ok {
		return roster.Approval{}, false, ErrLinkInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return roster.Approval{}, false, ErrLinkInvalid
	}
	payload := string(raw)
	if !hmac.Equal([]byte(sig), []byte(e.mac(payload))) {
		return roster.Approval{}, false, ErrLinkInvalid
	}
	parts := strings.Split(payload, ".")
	if len(parts) != 3 || (parts[1] != "approve" && parts[1] != "deny") {
		return roster.Approval{}, false, ErrLinkInvalid
	}
	id, err1 := strconv.ParseInt(parts[0], 10, 64)
	exp, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return roster.Approval{}, false, ErrLinkInvalid
	}
	if !e.now().Before(time.Unix(exp, 0)) {
		return roster.Approval{}, false, fmt.Errorf("%w: it was valid until %s", ErrLinkExpired, stamp(time.Unix(exp, 0)))
	}
	a, err := e.Store.Approval(ctx, id)
	if err != nil {
		return a, false, fmt.Errorf("read approval %d: %w", id, err)
	}
	return a, parts[1] == "approve", nil
}

// DecideByLink answers the approval a link token names.
func (e *Engine) DecideByLink(ctx context.Context, token string) (roster.Approval, error) {
	a, approve, err := e.OpenLink(ctx, token)
	if err != nil {
		return a, err
	}
	return e.Decide(ctx, a.ID, approve, "link:"+a.Approver)
}

// Decide answers an approval (by is "operator:<email>" in the UI) and
// wakes its run to take the branch at once. ErrDecided when it was
// already answered or timed out.
func (e *Engine) Decide(ctx context.Context, approvalID int64, approve bool, by string) (roster.Approval, error) {
	now := e.now()
	status := roster.ApprovalDenied
	if approve {
		status = roster.ApprovalApproved
	}
	cur, err := e.Store.Approval(ctx, approvalID)
	if err != nil {
		return cur, fmt.Errorf("read approval %d: %w", approvalID, err)
	}
	run, err := e.Store.Run(ctx, cur.RunID)
	if err != nil {
		return cur, fmt.Errorf("read run %d: %w", cur.RunID, err)
	}
	if !run.Status.Live() && cur.Status == roster.ApprovalPending {
		return cur, fmt.Errorf("%w: its run %d is %s", ErrDecided, run.ID, run.Status)
	}
	a, err := e.Store.DecideApproval(ctx, approvalID, status, by, now, roster.AuditEntry{
		At: now, Actor: by, Kind: "workflow", Action: "approval_" + string(status), Target: run.Email, Result: "ok",
		Detail: fmt.Sprintf("run %d (%s), step %s", run.ID, run.WorkflowName, cur.StepID)})
	if errors.Is(err, store.ErrConflict) {
		return a, fmt.Errorf("%w (%s by %s)", ErrDecided, a.Status, a.DecidedBy)
	}
	if err != nil {
		return a, fmt.Errorf("record the answer to approval %d: %w", approvalID, err)
	}
	// Wake the run: a new generation outdates the deadline's job. A run
	// still asking (its job has not yet recorded the wait) is woken too:
	// the new generation makes that job's record a no-op. Were that job to
	// record the wait between our read and our write, the write misses;
	// read again, so the answer is never left waiting for the deadline.
	for range 20 {
		run, err = e.Store.Run(ctx, a.RunID)
		if err != nil {
			return a, fmt.Errorf("read run %d: %w", a.RunID, err)
		}
		if !run.Status.Live() || run.Position >= len(run.Definition.Steps) || run.Definition.Steps[run.Position].ID != a.StepID {
			break
		}
		next := run
		next.Status, next.Generation, next.LeaseUntil, next.UpdatedAt = roster.RunRunning, run.Generation+1, time.Time{}, now
		ok, err := e.Store.UpdateRun(ctx, next, run.Generation, nil, nil)
		if err != nil {
			return a, fmt.Errorf("wake run %d: %w", run.ID, err)
		}
		if !ok {
			continue
		}
		if err := e.Jobs.EnqueueSteps(ctx, []StepJob{{RunID: run.ID, Position: run.Position, Generation: next.Generation}}); err != nil {
			e.logger().ErrorContext(ctx, "enqueue an answered approval's step; reconcile will", "run", run.ID, "error", err)
		}
		break
	}
	return a, nil
}
