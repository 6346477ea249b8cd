package workflow

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"roster"
	"roster/internal/store"
)

// batch bounds the events, changes or accounts one evaluation reads per
// page.
const batch = 1000

// Evaluate runs every enabled workflow's trigger once: it reads what
// happened since the trigger's cursor (directory events, sync changes),
// or the accounts inactive long enough, or a schedule that is due, and
// starts a run per subject whose conditions hold. A run starts once per
// event (its trigger key), so evaluating again after a crash starts
// nothing twice. It returns how many runs started.
func (e *Engine) Evaluate(ctx context.Context) (int, error) {
	ws, err := e.Store.Workflows(ctx)
	if err != nil {
		return 0, fmt.Errorf("read workflows: %w", err)
	}
	started := 0
	var errs []error
	for _, w := range ws {
		if !w.Enabled || w.Trigger.Kind == roster.TriggerManual {
			continue
		}
		n, err := e.evaluate(ctx, w)
		started += n
		if err != nil {
			errs = append(errs, fmt.Errorf("workflow %s: %w", w.Name, err))
		}
	}
	return started, errors.Join(errs...)
}

func (e *Engine) evaluate(ctx context.Context, w roster.Workflow) (int, error) {
	cursor, nextFire, err := e.Store.TriggerState(ctx, w.ID)
	if err != nil {
		return 0, fmt.Errorf("read trigger state: %w", err)
	}
	now := e.now()
	switch w.Trigger.Kind {
	case roster.TriggerPersonJoined, roster.TriggerPersonLeft:
		return e.personEvents(ctx, w, cursor)
	case roster.TriggerNewAccount, roster.TriggerLicenseChanged:
		return e.changes(ctx, w, cursor)
	case roster.TriggerInactive:
		if !nextFire.IsZero() && now.Before(nextFire) {
			return 0, nil
		}
		n, err := e.inactive(ctx, w, now)
		if err != nil {
			return n, err
		}
		every := e.InactiveEvery
		if every <= 0 {
			every = DefaultInactiveEvery
		}
		return n, e.Store.SetTriggerState(ctx, w.ID, cursor, now.Add(every))
	case roster.TriggerSchedule:
		sched, err := ParseCron(w.Trigger.Cron)
		if err != nil {
			return 0, fmt.Errorf("trigger.cron: %w", err)
		}
		if nextFire.IsZero() {
			return 0, e.Store.SetTriggerState(ctx, w.ID, cursor, sched.Next(now))
		}
		if now.Before(nextFire) {
			return 0, nil
		}
		n, err := e.everyone(ctx, w, fmt.Sprintf("schedule:%d", nextFire.Unix()), "schedule "+w.Trigger.Cron)
		if err != nil {
			return n, err
		}
		return n, e.Store.SetTriggerState(ctx, w.ID, cursor, sched.Next(now))
	}
	return 0, nil
}

// personEvents starts runs for the directory's joined or left events.
func (e *Engine) personEvents(ctx context.Context, w roster.Workflow, cursor int64) (int, error) {
	want := roster.PersonEventJoined
	if w.Trigger.Kind == roster.TriggerPersonLeft {
		want = roster.PersonEventLeft
	}
	started := 0
	for {
		evs, err := e.Store.PersonEvents(ctx, cursor, batch)
		if err != nil {
			return started, fmt.Errorf("read directory events: %w", err)
		}
		if len(evs) == 0 {
			return started, nil
		}
		var cands []candidate
		for _, ev := range evs {
			if ev.Kind != want || e.handled(w.ID, ev.ID) {
				continue
			}
			s, err := e.personSubject(ctx, ev)
			if err != nil {
				return started, err
			}
			if want == roster.PersonEventLeft && (s.Account == nil || !s.Account.LeftAt.IsZero()) {
				continue // no Miro account to take away: nothing to run
			}
			cands = append(cands, candidate{s: s, key: fmt.Sprintf("%s:%d", ev.Kind, ev.ID),
				why: "directory: " + ev.Email + " " + string(ev.Kind)})
		}
		n, err := e.startFor(ctx, w, cands, "workflow:"+w.Name)
		started += n
		if err != nil {
			return started, err
		}
		for _, ev := range evs {
			e.handle(w.ID, ev.ID)
		}
		next := settled(cursor, len(evs), func(i int) (int64, time.Time) { return evs[i].ID, evs[i].At }, e.now())
		e.forget(w.ID, next)
		if next != cursor {
			if err := e.Store.SetTriggerState(ctx, w.ID, next, time.Time{}); err != nil {
				return started, fmt.Errorf("save the trigger cursor: %w", err)
			}
		}
		if next != evs[len(evs)-1].ID {
			return started, nil // the rest is read again next time
		}
		cursor = next
	}
}

// settleTime is how long after an event the trigger cursor may pass it.
// Ids are taken when a transaction writes, not when it commits, so an
// event with a smaller id can become visible after a larger one; events
// younger than this are read again at the next evaluation (their runs'
// trigger keys keep them from starting twice) so none is skipped.
const settleTime = 2 * time.Minute

// settled is the cursor after a page of n events read in id order: the
// id of the last event of the unbroken run, from the start, of events
// older than settleTime.
func settled(cursor int64, n int, at func(i int) (int64, time.Time), now time.Time) int64 {
	for i := range n {
		id, when := at(i)
		if now.Sub(when) < settleTime {
			break
		}
		cursor = id
	}
	return cursor
}

// personSubject is an event's person as it is now, or as the event
// recorded it when the identity provider deleted them.
func (e *Engine) personSubject(ctx context.Context, ev roster.PersonEvent) (*subject, error) {
	p, err := e.Store.PersonByID(ctx, ev.PersonID)
	if errors.Is(err, store.ErrNotFound) {
		p = roster.Person{ID: ev.PersonID, Email: ev.Email, Status: roster.PersonLeft}
	} else if err != nil {
		return nil, fmt.Errorf("read person %d: %w", ev.PersonID, err)
	}
	return e.subjectForPerson(ctx, p)
}

// changes starts runs for new accounts outside the directory, or for
// license changes, from the sync change log.
func (e *Engine) changes(ctx context.Context, w roster.Workflow, cursor int64) (int, error) {
	started := 0
	for {
		chs, err := e.Store.Changes(ctx, store.ChangeFilter{AfterID: cursor, Limit: batch})
		if err != nil {
			return started, fmt.Errorf("read changes: %w", err)
		}
		if len(chs) == 0 {
			return started, nil
		}
		var cands []candidate
		for _, ch := range chs {
			if e.handled(w.ID, ch.ID) {
				continue
			}
			var why string
			switch {
			case w.Trigger.Kind == roster.TriggerNewAccount && ch.Kind == roster.ChangeJoined:
				why = "new Miro account"
			case w.Trigger.Kind == roster.TriggerLicenseChanged && ch.Kind == roster.ChangeLicenseChanged &&
				(w.Trigger.License == "" || w.Trigger.License == ch.NewValue):
				why = fmt.Sprintf("license changed from %s to %s", ch.OldValue, ch.NewValue)
			default:
				continue
			}
			a, err := e.Store.Account(ctx, ch.AccountID)
			if err != nil {
				return started, fmt.Errorf("read account %d: %w", ch.AccountID, err)
			}
			s, err := e.subjectForAccount(ctx, a)
			if err != nil {
				return started, err
			}
			if w.Trigger.Kind == roster.TriggerNewAccount && s.Person != nil {
				continue // the directory knows them: not a shadow account
			}
			if s.Email == "" {
				continue // no email to act on or report
			}
			cands = append(cands, candidate{s: s, key: fmt.Sprintf("%s:%d", w.Trigger.Kind, ch.ID), why: why})
		}
		n, err := e.startFor(ctx, w, cands, "workflow:"+w.Name)
		started += n
		if err != nil {
			return started, err
		}
		for _, ch := range chs {
			e.handle(w.ID, ch.ID)
		}
		next := settled(cursor, len(chs), func(i int) (int64, time.Time) { return chs[i].ID, chs[i].At }, e.now())
		e.forget(w.ID, next)
		if next != cursor {
			if err := e.Store.SetTriggerState(ctx, w.ID, next, time.Time{}); err != nil {
				return started, fmt.Errorf("save the trigger cursor: %w", err)
			}
		}
		if next != chs[len(chs)-1].ID {
			return started, nil
		}
		cursor = next
	}
}

// inactive starts runs for accounts holding a paid license and inactive
// for the trigger's days (roster.Account.Inactive); one run per stretch
// of inactivity (the key has its start, ActivityAt), so a person who
// comes back, or is given the license again, and goes quiet again is
// asked about again.
func (e *Engine) inactive(ctx context.Context, w roster.Workflow, now time.Time) (int, error) {
	accs, err := e.inactiveAccounts(ctx, w.Trigger.Days, now)
	if err != nil {
		return 0, err
	}
	subjects, err := e.subjectsForAccounts(ctx, accs)
	if err != nil {
		return 0, err
	}
	var cands []candidate
	for _, s := range subjects {
		a := s.Account
		cands = append(cands, candidate{s: s, key: fmt.Sprintf("inactive:%d:%d", a.ID, a.ActivityAt().Unix()),
			why: fmt.Sprintf("%s license unused for %d days or more", a.License, w.Trigger.Days)})
	}
	return e.startFor(ctx, w, cands, "workflow:"+w.Name)
}

// inactiveAccounts are active, not-left accounts with a paid license
// inactive for days by the one rule: the store applies it in SQL.
func (e *Engine) inactiveAccounts(ctx context.Context, days int, now time.Time) ([]roster.Account, error) {
	var out []roster.Account
	for _, lic := range paidLicenses {
		accs, err := e.Store.Accounts(ctx, store.AccountFilter{License: lic, InactiveSince: roster.InactiveBefore(now, days)})
		if err != nil {
			return nil, fmt.Errorf("read inactive accounts: %w", err)
		}
		for _, a := range accs {
			if a.Active && a.Email != "" {
				out = append(out, a)
			}
		}
	}
	return out, nil
}

// everyone starts runs for every account the conditions select.
func (e *Engine) everyone(ctx context.Context, w roster.Workflow, keyPrefix, why string) (int, error) {
	accs, err := e.Store.Accounts(ctx, store.AccountFilter{})
	if err != nil {
		return 0, fmt.Errorf("read accounts: %w", err)
	}
	subjects, err := e.subjectsForAccounts(ctx, accs)
	if err != nil {
		return 0, err
	}
	cands := make([]candidate, len(subjects))
	for i, s := range subjects {
		cands[i] = candidate{s: s, key: fmt.Sprintf("%s:%d", keyPrefix, s.Account.ID), why: why}
	}
	return e.startFor(ctx, w, cands, "workflow:"+w.Name)
}

// candidate is a subject a trigger fired for, with its run's key.
type candidate struct {
	s   *subject
	key string
	why string
}

// startFor starts a run for each candidate whose conditions hold, and
// enqueues their first steps.
func (e *Engine) startFor(ctx context.Context, w roster.Workflow, cands []candidate, actor string) (int, error) {
	now := e.now()
	var runs []roster.WorkflowRun
	for _, c := range cands {
		ok, _, err := e.holds(ctx, w.Conditions, c.s, now)
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		runs = append(runs, newRun(w, c))
	}
	started, err := e.start(ctx, runs, actor)
	return len(started), err
}

func newRun(w roster.Workflow, c candidate) roster.WorkflowRun {
	r := roster.WorkflowRun{WorkflowID: w.ID, WorkflowName: w.Name, Definition: w,
		TriggerKey: c.key, Trigger: c.why, Email: c.s.Email}
	if c.s.Account != nil {
		r.AccountID = c.s.Account.ID
	}
	if c.s.Person != nil {
		r.PersonID = c.s.Person.ID
	}
	return r
}

// start records runs (those whose key already ran are skipped) and
// enqueues their first steps. Were the process to die between the two,
// Reconcile enqueues them.
func (e *Engine) start(ctx context.Context, runs []roster.WorkflowRun, actor string) ([]roster.WorkflowRun, error) {
	if len(runs) == 0 {
		return nil, nil
	}
	if e.Jobs == nil {
		return nil, errors.New("workflow: no job queue to run steps on")
	}
	var started []roster.WorkflowRun
	for chunk := range slices.Chunk(runs, batch) {
		ins, err := e.Store.StartRuns(ctx, chunk, actor)
		if err != nil {
			return started, fmt.Errorf("start runs: %w", err)
		}
		jobs := make([]StepJob, len(ins))
		for i, r := range ins {
			jobs[i] = StepJob{RunID: r.ID, Position: r.Position, Generation: r.Generation}
		}
		if err := e.Jobs.EnqueueSteps(ctx, jobs); err != nil {
			return started, fmt.Errorf("enqueue the first steps: %w", err)
		}
		started = append(started, ins...)
		for _, r := range ins {
			e.logger().InfoContext(ctx, "workflow run started", "run", r.ID, "workflow", r.WorkflowName, "email", r.Email, "trigger", r.Trigger)
		}
	}
	return started, nil
}

// ManualResult is what RunManual did for each email asked for.
type ManualResult struct {
	Started  []roster.WorkflowRun
	Excluded []Exclusion
}

// Exclusion is an email a run did not start for, and why.
type Exclusion struct {
	Email  string
	Reason string
}

// RunManual starts the workflow now for each email (directory people or
// Miro accounts) whose conditions hold, whatever its trigger. actor is who
// asked.
func (e *Engine) RunManual(ctx context.Context, workflowID int64, emails []string, actor string) (ManualResult, error) {
	var res ManualResult
	w, err := e.Store.Workflow(ctx, workflowID)
	if err != nil {
		return res, fmt.Errorf("workflow %d: %w", workflowID, err)
	}
	if len(emails) == 0 {
		return res, fieldErrs(roster.WorkflowErrors{{Path: "emails", Message: "name at least one person"}})
	}
	if len(emails) > 5000 {
		return res, fieldErrs(roster.WorkflowErrors{{Path: "emails", Message: fmt.Sprintf("at most 5000 people at once, not %d", len(emails))}})
	}
	request := newRequestID()
	now := e.now()
	var runs []roster.WorkflowRun
	for _, em := range uniqueEmails(emails) {
		s, err := e.subjectForEmail(ctx, em)
		if errors.Is(err, store.ErrNotFound) {
			res.Excluded = append(res.Excluded, Exclusion{Email: em, Reason: "roster knows no one with this email"})
			continue
		}
		if err != nil {
			return res, err
		}
		ok, why, err := e.holds(ctx, w.Conditions, s, now)
		if err != nil {
			return res, err
		}
		if !ok {
			res.Excluded = append(res.Excluded, Exclusion{Email: em, Reason: why})
			continue
		}
		runs = append(runs, newRun(w, candidate{s: s, key: "manual:" + request + ":" + em, why: "manual, by " + actor}))
	}
	res.Started, err = e.start(ctx, runs, actor)
	return res, err
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// handled reports whether this process already started (or passed over)
// the runs of event id for a workflow: events the cursor may not pass yet
// are read again every evaluation, and looking their people up again is
// the cost this saves. Forgotten on restart, the runs' trigger keys still
// keep anything from starting twice.
func (e *Engine) handled(workflowID, id int64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.seen[workflowID][id]
}

func (e *Engine) handle(workflowID, id int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.seen == nil {
		e.seen = map[int64]map[int64]bool{}
	}
	if e.seen[workflowID] == nil {
		e.seen[workflowID] = map[int64]bool{}
	}
	e.seen[workflowID][id] = true
}

// forget drops the events the cursor has passed.
func (e *Engine) forget(workflowID, cursor int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for id := range e.seen[workflowID] {
		if id <= cursor {
			delete(e.seen[workflowID], id)
		}
	}
}
