package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"roster"
	"roster/internal/store"
)

// Approvals, and the directory's person events the triggers read.

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
