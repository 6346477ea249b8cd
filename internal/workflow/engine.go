// Package workflow runs roster's automations: onboarding, offboarding and
// license reclaim. A workflow is a trigger, conditions and ordered steps
// (roster.Workflow). The engine
//   - validates and stores definitions, and reads and writes them as YAML;
//   - evaluates triggers (directory events, sync changes, inactivity,
//     schedules, manual runs) and starts one run per subject and event;
//   - works a run one step per durable job: each step is leased, done
//     through the idempotent action layer (or notify, approval, wait), and
//     recorded with the move to the next step in one transaction, so a
//     crash at any point resumes without repeating a completed step;
//   - asks for approvals by signed, expiring links and in the UI;
//   - previews any workflow as a dry run that touches nothing.
//
// It serves no HTTP: internal/web and cmd/roster call it, internal/jobs
// runs its jobs.
package workflow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"roster"
	"roster/internal/action"
	"roster/internal/notify"
	"roster/internal/store"
)

// Jobs enqueues step jobs; internal/jobs implements it. A job with the
// same run, position and generation as one that exists (queued, running
// or done) is not inserted again.
type Jobs interface {
	EnqueueSteps(ctx context.Context, steps []StepJob) error
}

// StepJob asks for the step of a run at Position to be worked, at At (now
// when zero), by the run's dispatch Generation. An At in the past is a
// step due since then, which goes before steps queued after it.
type StepJob struct {
	RunID      int64
	Position   int
	Generation int
	At         time.Time
}

// Notifier sends notifications; *notify.Notifier implements it.
type Notifier interface {
	Send(ctx context.Context, m notify.Message) error
}

// Defaults of the Engine's zero fields.
const (
	DefaultLease = 2 * time.Minute
	// DefaultInactiveEvery is how often the inactive trigger re-reads the
	// accounts: inactivity changes by the day, not the second.
	DefaultInactiveEvery = time.Hour
)

// Engine runs workflows. Store and Actions are required; Jobs is required
// to start runs; Notifier may be nil (notify steps then fail saying so).
type Engine struct {
	Store    store.Store
	Actions  *action.Runner
	Jobs     Jobs
	Notifier Notifier
	// LinkKey signs approval links (secret.Sealer.MACKey).
	LinkKey []byte
	// PublicURL is roster's URL as approvers reach it, for links.
	PublicURL string
	Logger    *slog.Logger
	Now       func() time.Time
	// Lease is how long a step's job holds its run before the run is
	// taken to be orphaned (the process died) and dispatched again.
	Lease time.Duration
	// InactiveEvery spaces the inactive trigger's evaluations.
	InactiveEvery time.Duration
	// BulkLimit is the most people a bulk run may select;
	// MaxBulkSelection when zero.
	BulkLimit int
	mu        sync.Mutex
	seen      map[int64]map[int64]bool // workflow → events handled, not yet passed by its cursor
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC().Truncate(time.Millisecond)
	}
	return time.Now().UTC().Truncate(time.Millisecond)
}

func (e *Engine) logger() *slog.Logger {
	return cmp.Or(e.Logger, slog.New(slog.DiscardHandler))
}

func (e *Engine) lease() time.Duration { return cmp.Or(e.Lease, DefaultLease) }

// ErrInvalid marks a definition or request that does not validate: the
// error is roster.WorkflowErrors, naming each field.
var ErrInvalid = errors.New("invalid workflow")

// invalidErr wraps field errors so callers can test errors.Is(ErrInvalid)
// and still reach the fields with errors.As.
type invalidErr struct{ roster.WorkflowErrors }

func (e invalidErr) Error() string        { return e.WorkflowErrors.Error() }
func (e invalidErr) Is(target error) bool { return target == ErrInvalid }
func (e invalidErr) Unwrap() error        { return e.WorkflowErrors }

func fieldErrs(errs roster.WorkflowErrors) error { return invalidErr{errs} }

// Check normalizes w and validates it, including against the store: the
// connection exists and can do each action step, and each team is one of
// the connection's. Its error is roster.WorkflowErrors wrapped in
// ErrInvalid, or a store failure.
func (e *Engine) Check(ctx context.Context, w *roster.Workflow) error {
	w.Normalize()
	var errs roster.WorkflowErrors
	var fe roster.WorkflowErrors
	if err := w.Validate(ctx); errors.As(err, &fe) {
		errs = append(errs, fe...)
	} else if err != nil {
		return err
	}
	if w.Trigger.Kind == roster.TriggerSchedule && w.Trigger.Cron != "" {
		if _, err := ParseCron(w.Trigger.Cron); err != nil {
			errs = append(errs, roster.WorkflowFieldError{Path: "trigger.cron",
				Message: fmt.Sprintf("%q is not a cron schedule: %v", w.Trigger.Cron, err)})
		}
	}
	if w.ConnectionID > 0 {
		more, err := e.checkConnection(ctx, *w)
		if err != nil {
			return err
		}
		errs = append(errs, more...)
	}
	if len(errs) > 0 {
		return fieldErrs(errs)
	}
	return nil
}

// stepCapability is the connection capability an action step needs.
func stepCapability(k roster.StepKind) string {
	switch k {
	case roster.StepInvite, roster.StepRemove, roster.StepChangeRole, roster.StepRemoveAllTeams:
		return roster.CapManage
	case roster.StepDeactivate, roster.StepReactivate:
		return roster.CapDeactivate
	case roster.StepSignOut:
		return roster.CapSignOut
	}
	return ""
}

func (e *Engine) checkConnection(ctx context.Context, w roster.Workflow) (roster.WorkflowErrors, error) {
	var errs roster.WorkflowErrors
	conn, err := e.Store.Connection(ctx, w.ConnectionID)
	if errors.Is(err, store.ErrNotFound) {
		return roster.WorkflowErrors{{Path: "connection", Message: fmt.Sprintf("no connection %d", w.ConnectionID)}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read connection %d: %w", w.ConnectionID, err)
	}
	caps := map[string]roster.Capability{}
	for _, c := range conn.Capabilities() {
		caps[c.Name] = c
	}
	teams, err := e.Store.Teams(ctx, conn.ID)
	if err != nil {
		return nil, fmt.Errorf("read the teams of connection %d: %w", conn.ID, err)
	}
	known := map[string]bool{}
	for _, t := range teams {
		known[t.MiroTeamID] = true
	}
	for i, s := range w.Steps {
		p := fmt.Sprintf("steps[%d]", i)
		if name := stepCapability(s.Kind); name != "" {
			if c, ok := caps[name]; !ok || !c.Available {
				errs = append(errs, roster.WorkflowFieldError{Path: p + ".kind",
					Message: fmt.Sprintf("connection %d cannot %s: %s", conn.ID, name, c.Reason)})
			}
		}
		if s.Team != "" && !known[s.Team] {
			errs = append(errs, roster.WorkflowFieldError{Path: p + ".team",
				Message: fmt.Sprintf("%q is not a team of connection %d (sync it, or check the id)", s.Team, conn.ID)})
		}
	}
	return errs, nil
}

// Save checks w and creates it, or updates the workflow with its ID (or,
// when ID is 0, its name). It returns the stored workflow.
func (e *Engine) Save(ctx context.Context, w roster.Workflow) (roster.Workflow, error) {
	if err := e.Check(ctx, &w); err != nil {
		return w, err
	}
	if w.ID == 0 {
		old, err := e.Store.WorkflowByName(ctx, w.Name)
		switch {
		case err == nil:
			w.ID, w.CreatedAt = old.ID, old.CreatedAt
		case !errors.Is(err, store.ErrNotFound):
			return w, fmt.Errorf("read workflow %s: %w", w.Name, err)
		}
	}
	if w.ID == 0 {
		err := e.Store.CreateWorkflow(ctx, &w)
		if errors.Is(err, store.ErrConflict) {
			return w, fieldErrs(roster.WorkflowErrors{{Path: "name", Message: fmt.Sprintf("%q is taken by another workflow", w.Name)}})
		}
		if err != nil {
			return w, fmt.Errorf("save workflow %s: %w", w.Name, err)
		}
		return w, nil
	}
	err := e.Store.UpdateWorkflow(ctx, &w)
	switch {
	case errors.Is(err, store.ErrConflict):
		return w, fieldErrs(roster.WorkflowErrors{{Path: "name", Message: fmt.Sprintf("%q is taken by another workflow", w.Name)}})
	case errors.Is(err, store.ErrNotFound):
		return w, fmt.Errorf("workflow %d: %w", w.ID, err)
	case err != nil:
		return w, fmt.Errorf("save workflow %s: %w", w.Name, err)
	}
	return w, nil
}

// SetEnabled turns a workflow on or off. Enabling checks the definition
// again (the connection may have lost a capability or a team), so nothing
// invalid is ever enabled; disabling never depends on the definition
// still being valid, so a broken workflow can always be stopped.
func (e *Engine) SetEnabled(ctx context.Context, w roster.Workflow, enabled bool) (roster.Workflow, error) {
	w.Enabled = enabled
	if enabled {
		return e.Save(ctx, w)
	}
	if err := e.Store.UpdateWorkflow(ctx, &w); err != nil {
		return w, fmt.Errorf("disable workflow %s: %w", w.Name, err)
	}
	return w, nil
}
