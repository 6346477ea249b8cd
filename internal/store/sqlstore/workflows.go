package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
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

const runColumns = `id, workflow_id, workflow_name, definition, trigger_key, trigger_text, email, account_id,
	person_id, status, position, generation, lease_until, error, created_at, updated_at, ended_at`

func scanRun(row interface{ Scan(...any) error }) (roster.WorkflowRun, error) {
	var (
		r   roster.WorkflowRun
		def string
	)
	if err := row.Scan(&r.ID, &r.WorkflowID, &r.WorkflowName, &def, &r.TriggerKey, &r.Trigger, &r.Email,
		&r.AccountID, &r.PersonID, &r.Status, &r.Position, &r.Generation, ts(&r.LeaseUntil), &r.Error,
		ts(&r.CreatedAt), ts(&r.UpdatedAt), ts(&r.EndedAt)); err != nil {
		return roster.WorkflowRun{}, err
	}
	if err := json.Unmarshal([]byte(def), &r.Definition); err != nil {
		return roster.WorkflowRun{}, fmt.Errorf("run %d: definition: %w", r.ID, err)
	}
	return r, nil
}

func queryRuns(ctx context.Context, q querier, query string, args ...any) ([]roster.WorkflowRun, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return scanAll(rows, scanRun)
}

func validRunStatus(s roster.RunStatus) bool {
	switch s {
	case roster.RunRunning, roster.RunWaiting, roster.RunSucceeded, roster.RunFailed, roster.RunCancelled:
		return true
	}
	return false
}

func validStepStatus(s roster.StepStatus) bool {
	switch s {
	case roster.StepRunning, roster.StepWaiting, roster.StepSucceeded, roster.StepRefused, roster.StepFailed,
		roster.StepSkipped, roster.StepCancelled:
		return true
	}
	return false
}

// storedTime is t as the store gives it back: UTC, microseconds, zero
// kept zero.
func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// rowValues writes rows copies of tpl separated by commas, each "#" in tpl
// becoming the next placeholder, numbered from first.
func rowValues(b *strings.Builder, tpl string, rows, first int) {
	n := first
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		for _, c := range tpl {
			if c != '#' {
				b.WriteRune(c)
				continue
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			n++
		}
	}
}

// runKey is what makes a run unique.
type runKey struct {
	workflowID int64
	triggerKey string
}

// StartRuns inserts the runs no run of their workflow has the trigger key
// of, with an audit entry each, in one transaction of batched statements.
// Of runs repeating a key within runs, the first counts.
func (db *DB) StartRuns(ctx context.Context, runs []roster.WorkflowRun, actor string) ([]roster.WorkflowRun, error) {
	if len(runs) == 0 {
		return nil, nil
	}
	if actor == "" {
		return nil, fmt.Errorf("sqlstore: start runs: the actor is required: %w", store.ErrInvalid)
	}
	now := db.now()
	todo := make([]roster.WorkflowRun, 0, len(runs))
	defs := make([]string, 0, len(runs))
	seen := make(map[runKey]bool, len(runs))
	for _, r := range runs {
		if r.WorkflowID == 0 || r.TriggerKey == "" {
			return nil, fmt.Errorf("sqlstore: start runs: a run needs a workflow id and a trigger key: %w", store.ErrInvalid)
		}
		k := runKey{r.WorkflowID, r.TriggerKey}
		if seen[k] {
			continue
		}
		seen[k] = true
		b, err := json.Marshal(r.Definition)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: start runs: definition of workflow %d: %w", r.WorkflowID, err)
		}
		r.ID, r.Status, r.Position, r.Generation = 0, roster.RunRunning, 0, 1
		r.LeaseUntil, r.Error, r.CreatedAt, r.UpdatedAt, r.EndedAt = time.Time{}, "", now, now, time.Time{}
		todo = append(todo, r)
		defs = append(defs, string(b))
	}
	// Insert in key order: two concurrent calls with common keys then
	// wait on each other in one order, never in a cycle (PostgreSQL).
	order := make([]int, len(todo))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := todo[order[i]], todo[order[j]]
		if a.WorkflowID != b.WorkflowID {
			return a.WorkflowID < b.WorkflowID
		}
		return a.TriggerKey < b.TriggerKey
	})
	var started []roster.WorkflowRun
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		btx := newBatchTx(tx)
		defer btx.close()
		ids, err := db.insertRuns(ctx, btx, todo, defs, order, now)
		if err != nil {
			return err
		}
		started = make([]roster.WorkflowRun, 0, len(ids))
		for _, r := range todo {
			if id := ids[runKey{r.WorkflowID, r.TriggerKey}]; id != 0 {
				r.ID = id
				started = append(started, r)
			}
		}
		return db.auditRunsStarted(ctx, btx, started, actor, now)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: start runs: %w", err)
	}
	return started, nil
}

// insertRuns inserts runs in batches, in the order of the indexes in
// order, skipping those whose key exists, and returns the ids of those
// inserted by key.
func (db *DB) insertRuns(ctx context.Context, btx *batchTx, runs []roster.WorkflowRun, defs []string, order []int, now time.Time) (map[runKey]int64, error) {
	const cols = 8
	ids := make(map[runKey]int64, len(runs))
	size := db.batchSize(cols, 1)
	args := make([]any, 0, 1+cols*size)
	for start := 0; start < len(runs); start += size {
		end := min(len(runs), start+size)
		var b strings.Builder
		b.WriteString(`INSERT INTO workflow_runs (workflow_id, workflow_name, definition, trigger_key, trigger_text,
			email, account_id, person_id, status, position, generation, error, created_at, updated_at) VALUES `)
		rowValues(&b, `(#, #, #, #, #, #, #, #, 'running', 0, 1, '', $1, $1)`, end-start, 2)
		b.WriteString(` ON CONFLICT (workflow_id, trigger_key) DO NOTHING RETURNING id, workflow_id, trigger_key`)
		args = append(args[:0], tv(now))
		for _, i := range order[start:end] {
			r := &runs[i]
			args = append(args, r.WorkflowID, r.WorkflowName, defs[i], r.TriggerKey, r.Trigger, r.Email,
				r.AccountID, r.PersonID)
		}
		rows, err := btx.query(ctx, b.String(), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var (
				id int64
				k  runKey
			)
			if err := rows.Scan(&id, &k.workflowID, &k.triggerKey); err != nil {
				rows.Close()
				return nil, err
			}
			ids[k] = id
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// auditRunsStarted appends the "run_started" entry of each run, batched.
func (db *DB) auditRunsStarted(ctx context.Context, btx *batchTx, runs []roster.WorkflowRun, actor string, now time.Time) error {
	const cols = 3
	size := db.batchSize(cols, 2)
	args := make([]any, 0, 2+cols*size)
	for start := 0; start < len(runs); start += size {
		end := min(len(runs), start+size)
		var b strings.Builder
		b.WriteString(`INSERT INTO audit_log (at, actor, kind, action, target, connection_id, result, detail) VALUES `)
		rowValues(&b, `($1, $2, 'workflow', 'run_started', #, #, 'ok', #)`, end-start, 3)
		args = append(args[:0], tv(now), actor)
		for i := start; i < end; i++ {
			r := &runs[i]
			args = append(args, r.Email, nullID(r.Definition.ConnectionID),
				fmt.Sprintf("workflow %s, run %d: %s", r.WorkflowName, r.ID, r.Trigger))
		}
		if err := btx.exec(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// Run reads a run.
func (db *DB) Run(ctx context.Context, id int64) (roster.WorkflowRun, error) {
	r, err := scanRun(db.db.QueryRowContext(ctx, `SELECT `+runColumns+` FROM workflow_runs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return roster.WorkflowRun{}, fmt.Errorf("sqlstore: run %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return roster.WorkflowRun{}, fmt.Errorf("sqlstore: run %d: %w", id, err)
	}
	return r, nil
}

// Runs lists a page of runs, newest first, with the filter's total and
// its counts by status (present statuses only).
func (db *DB) Runs(ctx context.Context, f store.RunFilter) (store.RunPage, error) {
	limit := f.Limit
	switch {
	case limit == 0:
		limit = 50
	case limit < 0 || limit > 500:
		return store.RunPage{}, fmt.Errorf("sqlstore: runs: limit %d is not within 1..500: %w", limit, store.ErrInvalid)
	}
	if f.BeforeID < 0 {
		return store.RunPage{}, fmt.Errorf("sqlstore: runs: negative before id: %w", store.ErrInvalid)
	}
	if f.Status != "" && !validRunStatus(f.Status) {
		return store.RunPage{}, fmt.Errorf("sqlstore: runs: unknown status %q: %w", f.Status, store.ErrInvalid)
	}
	var (
		where []string
		args  []any
	)
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if f.WorkflowID != 0 {
		where = append(where, `workflow_id = `+arg(f.WorkflowID))
	}
	if f.Email != "" {
		where = append(where, `email = `+arg(f.Email))
	}
	cond := "1 = 1"
	if len(where) > 0 {
		cond = strings.Join(where, " AND ")
	}
	page := store.RunPage{Counts: map[roster.RunStatus]int{}}
	rows, err := db.db.QueryContext(ctx, `SELECT status, COUNT(*) FROM workflow_runs WHERE `+cond+` GROUP BY status`, args...)
	if err != nil {
		return store.RunPage{}, fmt.Errorf("sqlstore: runs: count: %w", err)
	}
	for rows.Next() {
		var (
			st roster.RunStatus
			n  int
		)
		if err := rows.Scan(&st, &n); err != nil {
			rows.Close()
			return store.RunPage{}, fmt.Errorf("sqlstore: runs: count: %w", err)
		}
		page.Counts[st] = n
		if f.Status == "" || f.Status == st {
			page.Total += n
		}
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return store.RunPage{}, fmt.Errorf("sqlstore: runs: count: %w", err)
	}
	if f.Status != "" {
		cond += ` AND status = ` + arg(string(f.Status))
	}
	if f.BeforeID > 0 {
		cond += ` AND id < ` + arg(f.BeforeID)
	}
	page.Runs, err = queryRuns(ctx, db.db, `SELECT `+runColumns+` FROM workflow_runs WHERE `+cond+
		` ORDER BY id DESC LIMIT `+arg(limit+1), args...)
	if err != nil {
		return store.RunPage{}, fmt.Errorf("sqlstore: runs: %w", err)
	}
	if len(page.Runs) > limit {
		page.Runs = page.Runs[:limit]
		page.NextBefore = page.Runs[limit-1].ID
	}
	return page, nil
}

// ClaimStep leases a live run's step to the caller when no unexpired
// lease holds it, in one conditional update.
func (db *DB) ClaimStep(ctx context.Context, runID int64, position, generation int, leaseUntil, now time.Time) (roster.WorkflowRun, bool, error) {
	if leaseUntil.IsZero() || now.IsZero() {
		return roster.WorkflowRun{}, false, fmt.Errorf("sqlstore: claim step of run %d: lease and now are required: %w", runID, store.ErrInvalid)
	}
	r, err := scanRun(db.db.QueryRowContext(ctx, `UPDATE workflow_runs SET lease_until = $4, updated_at = $5
		WHERE id = $1 AND position = $2 AND generation = $3 AND status IN `+liveStatuses+`
		AND (lease_until IS NULL OR lease_until <= $5)
		RETURNING `+runColumns, runID, position, generation, tv(leaseUntil), tv(now)))
	if errors.Is(err, sql.ErrNoRows) {
		return roster.WorkflowRun{}, false, nil
	}
	if err != nil {
		return roster.WorkflowRun{}, false, fmt.Errorf("sqlstore: claim step of run %d: %w", runID, err)
	}
	return r, true, nil
}

// RenewLease extends the lease of a live run still at generation.
func (db *DB) RenewLease(ctx context.Context, runID int64, generation int, leaseUntil time.Time) (bool, error) {
	res, err := db.db.ExecContext(ctx, `UPDATE workflow_runs SET lease_until = $3
		WHERE id = $1 AND generation = $2 AND status IN `+liveStatuses, runID, generation, tv(leaseUntil))
	if err != nil {
		return false, fmt.Errorf("sqlstore: renew lease of run %d: %w", runID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: renew lease of run %d: %w", runID, err)
	}
	return n > 0, nil
}

// UpdateRun moves a run on, when it is still at generation, with its
// step and audit entry, in one transaction.
func (db *DB) UpdateRun(ctx context.Context, run roster.WorkflowRun, generation int, step *roster.RunStep, audit *roster.AuditEntry) (bool, error) {
	if !validRunStatus(run.Status) {
		return false, fmt.Errorf("sqlstore: update run %d: unknown status %q: %w", run.ID, run.Status, store.ErrInvalid)
	}
	if step != nil && (step.StepID == "" || !validStepStatus(step.Status)) {
		return false, fmt.Errorf("sqlstore: update run %d: step %q needs an id and a known status, not %q: %w",
			run.ID, step.StepID, step.Status, store.ErrInvalid)
	}
	now := db.now()
	updated := run.UpdatedAt
	if updated.IsZero() {
		updated = now
	}
	var ok bool
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE workflow_runs SET status = $3, position = $4, generation = $5,
			lease_until = $6, error = $7, ended_at = $8, updated_at = $9 WHERE id = $1 AND generation = $2`,
			run.ID, generation, string(run.Status), run.Position, run.Generation, tv(run.LeaseUntil), run.Error,
			tv(run.EndedAt), tv(updated))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		ok = true
		if step != nil {
			if err := db.upsertStep(ctx, tx, run.ID, step, now); err != nil {
				return fmt.Errorf("step %s: %w", step.StepID, err)
			}
		}
		if audit != nil {
			if err := db.appendAudit(ctx, tx, audit); err != nil {
				return fmt.Errorf("append audit: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("sqlstore: update run %d: %w", run.ID, err)
	}
	return ok, nil
}

// upsertStep writes a run's step; a step already written keeps the time
// it started.
func (db *DB) upsertStep(ctx context.Context, tx *sql.Tx, runID int64, s *roster.RunStep, now time.Time) error {
	s.RunID = runID
	if s.StartedAt.IsZero() {
		s.StartedAt = now
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO run_steps (run_id, step_id, kind, status, attempts, detail, branch,
		due_at, started_at, ended_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (run_id, step_id) DO UPDATE SET kind = excluded.kind, status = excluded.status,
		attempts = excluded.attempts, detail = excluded.detail, branch = excluded.branch,
		due_at = excluded.due_at, ended_at = excluded.ended_at`,
		runID, s.StepID, string(s.Kind), string(s.Status), s.Attempts, s.Detail, s.Branch, tv(s.DueAt),
		tv(s.StartedAt), tv(s.EndedAt))
	return err
}

// RunSteps is a run's timeline, in the order the steps started.
func (db *DB) RunSteps(ctx context.Context, runID int64) ([]roster.RunStep, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT run_id, step_id, kind, status, attempts, detail, branch, due_at,
		started_at, ended_at FROM run_steps WHERE run_id = $1 ORDER BY started_at, id`, runID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: steps of run %d: %w", runID, err)
	}
	defer rows.Close()
	var out []roster.RunStep
	for rows.Next() {
		var s roster.RunStep
		if err := rows.Scan(&s.RunID, &s.StepID, &s.Kind, &s.Status, &s.Attempts, &s.Detail, &s.Branch,
			ts(&s.DueAt), ts(&s.StartedAt), ts(&s.EndedAt)); err != nil {
			return nil, fmt.Errorf("sqlstore: steps of run %d: %w", runID, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: steps of run %d: %w", runID, err)
	}
	return out, nil
}

// StaleRuns lists live runs whose job died or was never enqueued, least
// recently updated first; limit 0 is 100.
func (db *DB) StaleRuns(ctx context.Context, leaseBefore, idleBefore time.Time, limit int) ([]roster.WorkflowRun, error) {
	if limit < 0 {
		return nil, fmt.Errorf("sqlstore: stale runs: negative limit: %w", store.ErrInvalid)
	}
	if limit == 0 {
		limit = 100
	}
	runs, err := queryRuns(ctx, db.db, `SELECT `+runColumns+` FROM workflow_runs
		WHERE status IN `+liveStatuses+` AND ((lease_until IS NOT NULL AND lease_until < $1)
			OR (lease_until IS NULL AND updated_at < $2))
		ORDER BY updated_at, id LIMIT $3`, tv(leaseBefore), tv(idleBefore), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: stale runs: %w", err)
	}
	return runs, nil
}

// CancelRun ends a live run as cancelled and bumps its generation, so its
// queued jobs do nothing; the run ends at audit.At (now when zero).
func (db *DB) CancelRun(ctx context.Context, id int64, reason string, audit roster.AuditEntry) (roster.WorkflowRun, error) {
	now := db.now()
	if audit.At.IsZero() {
		audit.At = now
	}
	var run roster.WorkflowRun
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		run, err = scanRun(tx.QueryRowContext(ctx, `UPDATE workflow_runs SET status = 'cancelled', error = $2,
			generation = generation + 1, lease_until = NULL, ended_at = $3, updated_at = $4
			WHERE id = $1 AND status IN `+liveStatuses+` RETURNING `+runColumns, id, reason, tv(audit.At), tv(now)))
		if errors.Is(err, sql.ErrNoRows) {
			run, err = scanRun(tx.QueryRowContext(ctx, `SELECT `+runColumns+` FROM workflow_runs WHERE id = $1`, id))
			if errors.Is(err, sql.ErrNoRows) {
				return store.ErrNotFound
			}
			if err != nil {
				return err
			}
			return fmt.Errorf("it has already %s: %w", run.Status, store.ErrConflict)
		}
		if err != nil {
			return err
		}
		if err := db.appendAudit(ctx, tx, &audit); err != nil {
			return fmt.Errorf("append audit: %w", err)
		}
		return nil
	})
	if err != nil {
		return run, fmt.Errorf("sqlstore: cancel run %d: %w", id, err)
	}
	return run, nil
}

const approvalColumns = `id, run_id, step_id, approver, status, decided_by, expires_at, created_at, decided_at`

func scanApproval(row interface{ Scan(...any) error }) (roster.Approval, error) {
	var a roster.Approval
	err := row.Scan(&a.ID, &a.RunID, &a.StepID, &a.Approver, &a.Status, &a.DecidedBy, ts(&a.ExpiresAt),
		ts(&a.CreatedAt), ts(&a.DecidedAt))
	return a, err
}

// CreateApproval inserts a pending approval for a run's step, or fills a
// with the one the step has (ErrConflict). ErrNotFound when the run does
// not exist.
func (db *DB) CreateApproval(ctx context.Context, a *roster.Approval) error {
	if a.RunID == 0 || a.StepID == "" || a.Approver == "" {
		return fmt.Errorf("sqlstore: create approval: run, step and approver are required: %w", store.ErrInvalid)
	}
	created := a.CreatedAt
	if created.IsZero() {
		created = db.now()
	}
	// INSERT ... SELECT from the run: no row means no run, or the step
	// has its approval. (SQLite needs the WHERE to tell the SELECT from
	// the upsert clause.)
	var id int64
	err := db.db.QueryRowContext(ctx, `INSERT INTO approvals (run_id, step_id, approver, status, decided_by,
		expires_at, created_at)
		SELECT id, $2, $3, 'pending', '', $4, $5 FROM workflow_runs WHERE id = $1
		ON CONFLICT (run_id, step_id) DO NOTHING
		RETURNING id`, a.RunID, a.StepID, a.Approver, tv(a.ExpiresAt), tv(created)).Scan(&id)
	if err == nil {
		a.ID, a.Status, a.DecidedBy, a.DecidedAt = id, roster.ApprovalPending, "", time.Time{}
		a.CreatedAt, a.ExpiresAt = storedTime(created), storedTime(a.ExpiresAt)
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlstore: create approval of run %d step %s: %w", a.RunID, a.StepID, err)
	}
	stored, err := scanApproval(db.db.QueryRowContext(ctx, `SELECT `+approvalColumns+` FROM approvals
		WHERE run_id = $1 AND step_id = $2`, a.RunID, a.StepID))
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlstore: create approval: run %d: %w", a.RunID, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create approval of run %d step %s: %w", a.RunID, a.StepID, err)
	}
	*a = stored
	return fmt.Errorf("sqlstore: create approval: run %d step %s has approval %d: %w", a.RunID, a.StepID, a.ID, store.ErrConflict)
}

// Approval reads an approval.
func (db *DB) Approval(ctx context.Context, id int64) (roster.Approval, error) {
	a, err := scanApproval(db.db.QueryRowContext(ctx, `SELECT `+approvalColumns+` FROM approvals WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return roster.Approval{}, fmt.Errorf("sqlstore: approval %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return roster.Approval{}, fmt.Errorf("sqlstore: approval %d: %w", id, err)
	}
	return a, nil
}

// ApprovalFor reads the approval of a run's step.
func (db *DB) ApprovalFor(ctx context.Context, runID int64, stepID string) (roster.Approval, error) {
	a, err := scanApproval(db.db.QueryRowContext(ctx, `SELECT `+approvalColumns+` FROM approvals
		WHERE run_id = $1 AND step_id = $2`, runID, stepID))
	if errors.Is(err, sql.ErrNoRows) {
		return roster.Approval{}, fmt.Errorf("sqlstore: approval of run %d step %s: %w", runID, stepID, store.ErrNotFound)
	}
	if err != nil {
		return roster.Approval{}, fmt.Errorf("sqlstore: approval of run %d step %s: %w", runID, stepID, err)
	}
	return a, nil
}

// DecideApproval answers a pending approval once, with its audit entry.
func (db *DB) DecideApproval(ctx context.Context, id int64, status roster.ApprovalStatus, by string, at time.Time, audit roster.AuditEntry) (roster.Approval, error) {
	switch status {
	case roster.ApprovalApproved, roster.ApprovalDenied, roster.ApprovalTimedOut:
	default:
		return roster.Approval{}, fmt.Errorf("sqlstore: decide approval %d: %q is no answer: %w", id, status, store.ErrInvalid)
	}
	if at.IsZero() {
		at = db.now()
	}
	var a roster.Approval
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		a, err = scanApproval(tx.QueryRowContext(ctx, `UPDATE approvals SET status = $2, decided_by = $3, decided_at = $4
			WHERE id = $1 AND status = 'pending' RETURNING `+approvalColumns, id, string(status), by, tv(at)))
		if errors.Is(err, sql.ErrNoRows) {
			a, err = scanApproval(tx.QueryRowContext(ctx, `SELECT `+approvalColumns+` FROM approvals WHERE id = $1`, id))
			if errors.Is(err, sql.ErrNoRows) {
				return store.ErrNotFound
			}
			if err != nil {
				return err
			}
			return fmt.Errorf("it was already %s by %s: %w", a.Status, a.DecidedBy, store.ErrConflict)
		}
		if err != nil {
			return err
		}
		if err := db.appendAudit(ctx, tx, &audit); err != nil {
			return fmt.Errorf("append audit: %w", err)
		}
		return nil
	})
	if err != nil {
		return a, fmt.Errorf("sqlstore: decide approval %d: %w", id, err)
	}
	return a, nil
}

// Approvals lists approvals newest first, pending ones only when
// pendingOnly; limit 0 lists all.
func (db *DB) Approvals(ctx context.Context, pendingOnly bool, limit int) ([]roster.Approval, error) {
	if limit < 0 {
		return nil, fmt.Errorf("sqlstore: approvals: negative limit: %w", store.ErrInvalid)
	}
	q := `SELECT ` + approvalColumns + ` FROM approvals`
	if pendingOnly {
		q += ` WHERE status = 'pending'`
	}
	q += ` ORDER BY id DESC`
	var args []any
	if limit > 0 {
		q += ` LIMIT $1`
		args = append(args, limit)
	}
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: approvals: %w", err)
	}
	out, err := scanAll(rows, scanApproval)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: approvals: %w", err)
	}
	return out, nil
}

// PersonEvents lists directory events after afterID, oldest first; limit
// 0 is 1000.
func (db *DB) PersonEvents(ctx context.Context, afterID int64, limit int) ([]roster.PersonEvent, error) {
	if limit < 0 {
		return nil, fmt.Errorf("sqlstore: person events: negative limit: %w", store.ErrInvalid)
	}
	if limit == 0 {
		limit = 1000
	}
	rows, err := db.db.QueryContext(ctx, `SELECT id, person_id, email, kind, at FROM person_events
		WHERE id > $1 ORDER BY id LIMIT $2`, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: person events: %w", err)
	}
	defer rows.Close()
	var out []roster.PersonEvent
	for rows.Next() {
		var e roster.PersonEvent
		if err := rows.Scan(&e.ID, &e.PersonID, &e.Email, &e.Kind, ts(&e.At)); err != nil {
			return nil, fmt.Errorf("sqlstore: person events: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: person events: %w", err)
	}
	return out, nil
}

// personEvent records, in the directory write's transaction, what a
// status change from prev (empty: the person is new or was deleted) to
// next means: joined when a person arrives active or comes back, left
// when an active one turns left or goes.
func personEvent(ctx context.Context, tx *sql.Tx, personID int64, email string, prev, next roster.PersonStatus, at time.Time) error {
	var kind roster.PersonEventKind
	switch {
	case next == roster.PersonActive && prev != roster.PersonActive:
		kind = roster.PersonEventJoined
	case prev == roster.PersonActive && next != roster.PersonActive:
		kind = roster.PersonEventLeft
	default:
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO person_events (person_id, email, kind, at) VALUES ($1, $2, $3, $4)`,
		personID, email, string(kind), tv(at))
	if err != nil {
		return fmt.Errorf("person event: %w", err)
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
