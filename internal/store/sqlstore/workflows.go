package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"roster"
	"roster/internal/store"
)

// Workflows (store.Workflows): definitions, runs with their timelines,
// approvals, and the directory's person events. A run is driven by jobs
// that each hold the run's generation: every write that moves a run on is
// conditional on it, so a job of an older generation writes nothing.

// liveStatuses is the SQL list of the statuses of runs that have not ended.
const liveStatuses = `('running', 'waiting')`

// workflowDef is what the workflows table keeps as JSON; the other
// fields have their own columns.
type workflowDef struct {
	Trigger    roster.Trigger     `json:"trigger"`
	Conditions []roster.Condition `json:"conditions,omitempty"`
	Steps      []roster.Step      `json:"steps"`
	OnFailure  *roster.Step       `json:"on_failure,omitempty"`
}

const workflowColumns = `id, name, description, enabled, connection_id, definition, created_at, updated_at`

func scanWorkflow(row interface{ Scan(...any) error }) (roster.Workflow, error) {
	var (
		w   roster.Workflow
		def string
	)
	if err := row.Scan(&w.ID, &w.Name, &w.Description, &w.Enabled, &w.ConnectionID, &def,
		ts(&w.CreatedAt), ts(&w.UpdatedAt)); err != nil {
		return roster.Workflow{}, err
	}
	var d workflowDef
	if err := json.Unmarshal([]byte(def), &d); err != nil {
		return roster.Workflow{}, fmt.Errorf("workflow %d: definition: %w", w.ID, err)
	}
	w.Trigger, w.Conditions, w.Steps, w.OnFailure = d.Trigger, d.Conditions, d.Steps, d.OnFailure
	return w, nil
}

func workflowJSON(w *roster.Workflow) (string, error) {
	b, err := json.Marshal(workflowDef{Trigger: w.Trigger, Conditions: w.Conditions, Steps: w.Steps, OnFailure: w.OnFailure})
	return string(b), err
}

// cursorStart is the SQL expression of a new trigger cursor: the current
// end of what the trigger kind reads, so that it does not fire for the past.
func cursorStart(kind roster.TriggerKind) string {
	switch kind {
	case roster.TriggerPersonJoined, roster.TriggerPersonLeft:
		return `(SELECT COALESCE(MAX(id), 0) FROM person_events)`
	case roster.TriggerNewAccount, roster.TriggerLicenseChanged:
		return `(SELECT COALESCE(MAX(id), 0) FROM changes)`
	}
	return `0`
}

func checkWorkflow(w *roster.Workflow) error {
	if w.Name == "" || w.Trigger.Kind == "" {
		return fmt.Errorf("a workflow needs a name and a trigger kind: %w", store.ErrInvalid)
	}
	return nil
}

// CreateWorkflow inserts w with its trigger cursor at the current end of
// the events its trigger reads.
func (db *DB) CreateWorkflow(ctx context.Context, w *roster.Workflow) error {
	if err := checkWorkflow(w); err != nil {
		return fmt.Errorf("sqlstore: create workflow %q: %w", w.Name, err)
	}
	def, err := workflowJSON(w)
	if err != nil {
		return fmt.Errorf("sqlstore: create workflow %s: %w", w.Name, err)
	}
	now := db.now()
	var id int64
	err = db.db.QueryRowContext(ctx, `INSERT INTO workflows (name, description, enabled, connection_id, trigger_kind,
		definition, trigger_cursor, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, `+cursorStart(w.Trigger.Kind)+`, $7, $7) RETURNING id`,
		w.Name, w.Description, w.Enabled, w.ConnectionID, string(w.Trigger.Kind), def, tv(now)).Scan(&id)
	if err != nil {
		return fmt.Errorf("sqlstore: create workflow %s: %w", w.Name, db.conflict(err))
	}
	w.ID, w.CreatedAt, w.UpdatedAt = id, now, now
	return nil
}

// UpdateWorkflow writes w over the workflow with w.ID. A new trigger kind
// restarts the trigger's bookkeeping at the current end of what it reads;
// the same kind keeps it.
func (db *DB) UpdateWorkflow(ctx context.Context, w *roster.Workflow) error {
	if err := checkWorkflow(w); err != nil {
		return fmt.Errorf("sqlstore: update workflow %d: %w", w.ID, err)
	}
	def, err := workflowJSON(w)
	if err != nil {
		return fmt.Errorf("sqlstore: update workflow %d: %w", w.ID, err)
	}
	now := db.now()
	// The right-hand sides read the row as it was, trigger_kind and
	// enabled included: the trigger restarts from now when its kind
	// changes or a disabled workflow is enabled, so enabling never fires
	// for what happened while it was off.
	err = db.db.QueryRowContext(ctx, `UPDATE workflows SET name = $2, description = $3, enabled = $4,
		connection_id = $5, definition = $6, updated_at = $7,
		trigger_cursor = CASE WHEN trigger_kind = $8 AND (enabled OR NOT $4) THEN trigger_cursor ELSE `+cursorStart(w.Trigger.Kind)+` END,
		next_fire_at = CASE WHEN trigger_kind = $8 AND (enabled OR NOT $4) THEN next_fire_at ELSE NULL END,
		trigger_kind = $8
		WHERE id = $1 RETURNING created_at`,
		w.ID, w.Name, w.Description, w.Enabled, w.ConnectionID, def, tv(now), string(w.Trigger.Kind)).Scan(ts(&w.CreatedAt))
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlstore: update workflow %d: %w", w.ID, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: update workflow %d: %w", w.ID, db.conflict(err))
	}
	w.UpdatedAt = now
	return nil
}

func (db *DB) oneWorkflow(ctx context.Context, what, where string, arg any) (roster.Workflow, error) {
	w, err := scanWorkflow(db.db.QueryRowContext(ctx, `SELECT `+workflowColumns+` FROM workflows WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return roster.Workflow{}, fmt.Errorf("sqlstore: workflow %s: %w", what, store.ErrNotFound)
	}
	if err != nil {
		return roster.Workflow{}, fmt.Errorf("sqlstore: workflow %s: %w", what, err)
	}
	return w, nil
}

// Workflow reads a workflow by id.
func (db *DB) Workflow(ctx context.Context, id int64) (roster.Workflow, error) {
	return db.oneWorkflow(ctx, strconv.FormatInt(id, 10), `id = $1`, id)
}

// WorkflowByName reads a workflow by name.
func (db *DB) WorkflowByName(ctx context.Context, name string) (roster.Workflow, error) {
	return db.oneWorkflow(ctx, name, `name = $1`, name)
}

// Workflows lists every workflow by name.
func (db *DB) Workflows(ctx context.Context) ([]roster.Workflow, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+workflowColumns+` FROM workflows ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: workflows: %w", err)
	}
	out, err := scanAll(rows, scanWorkflow)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: workflows: %w", err)
	}
	return out, nil
}

// DeleteWorkflow deletes a workflow; its runs stay.
func (db *DB) DeleteWorkflow(ctx context.Context, id int64) error {
	res, err := db.db.ExecContext(ctx, `DELETE FROM workflows WHERE id = $1`, id)
	if err == nil {
		err = mustAffect(res, "workflow", id)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: delete workflow: %w", err)
	}
	return nil
}

// TriggerState reads a workflow's trigger cursor and next fire time.
func (db *DB) TriggerState(ctx context.Context, workflowID int64) (int64, time.Time, error) {
	var (
		cursor int64
		next   time.Time
	)
	err := db.db.QueryRowContext(ctx, `SELECT trigger_cursor, next_fire_at FROM workflows WHERE id = $1`, workflowID).
		Scan(&cursor, ts(&next))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, fmt.Errorf("sqlstore: trigger state of workflow %d: %w", workflowID, store.ErrNotFound)
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlstore: trigger state of workflow %d: %w", workflowID, err)
	}
	return cursor, next, nil
}

// SetTriggerState writes a workflow's trigger cursor and next fire time
// (zero: none). It does not change UpdatedAt: the definition did not change.
func (db *DB) SetTriggerState(ctx context.Context, workflowID int64, cursor int64, nextFire time.Time) error {
	res, err := db.db.ExecContext(ctx, `UPDATE workflows SET trigger_cursor = $2, next_fire_at = $3 WHERE id = $1`,
		workflowID, cursor, tv(nextFire))
	if err == nil {
		err = mustAffect(res, "workflow", workflowID)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: set trigger state of workflow %d: %w", workflowID, err)
	}
	return nil
}

// forUpdate locks the rows a read in a write transaction selects, on
// PostgreSQL; SQLite transactions hold the database's one write lock
// from BEGIN.
func (db *DB) forUpdate() string {
	if db.dialect.name == "postgres" {
		return ` FOR UPDATE`
	}
	return ``
}
