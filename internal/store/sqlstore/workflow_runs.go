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

// Workflow runs: starting them once per trigger key, listing, the step
// lease (ClaimStep, RenewLease) and the step with its move in one
// transaction (UpdateRun), reconciliation and cancel.

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
	if f.Status != "" && !f.Status.Valid() {
		return store.RunPage{}, fmt.Errorf("sqlstore: runs: unknown status %q: %w", f.Status, store.ErrInvalid)
	}
	var (
		where []string
		args  params
	)
	arg := args.add
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
	if !run.Status.Valid() {
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
