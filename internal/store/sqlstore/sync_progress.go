package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"roster/internal/store"
)

// SaveSyncProgress records where a running run stands. A run that has
// ended keeps what its end recorded (ErrConflict).
func (db *DB) SaveSyncProgress(ctx context.Context, runID int64, p store.SyncProgress) error {
	if p.At.IsZero() {
		p.At = db.now()
	}
	res, err := db.db.ExecContext(ctx, `UPDATE sync_runs SET phase = $2, pages = $3, members = $4, teams = $5,
		teams_done = $6, api_calls = $7, credits = $8, waiting_until = $9, wait_reason = $10,
		estimated_left_seconds = $11, progress_at = $12
		WHERE id = $1 AND status = 'running'`,
		runID, p.Phase, p.Pages, p.Members, p.Teams, p.TeamsDone, p.APICalls, p.Credits,
		tv(p.WaitingUntil), p.WaitReason, int64(p.EstimatedLeft.Round(time.Second)/time.Second), tv(p.At))
	if err != nil {
		return fmt.Errorf("sqlstore: save progress of sync run %d: %w", runID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var status string
	err = db.db.QueryRowContext(ctx, `SELECT status FROM sync_runs WHERE id = $1`, runID).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlstore: save progress of sync run %d: %w", runID, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: save progress of sync run %d: %w", runID, err)
	}
	return fmt.Errorf("sqlstore: save progress of sync run %d: the run has %s: %w", runID, status, store.ErrConflict)
}

// SyncProgress reads the progress a run last recorded.
func (db *DB) SyncProgress(ctx context.Context, runID int64) (store.SyncProgress, error) {
	var (
		p    store.SyncProgress
		left int64
	)
	err := db.db.QueryRowContext(ctx, `SELECT phase, pages, members, teams, teams_done, api_calls, credits,
		waiting_until, wait_reason, estimated_left_seconds, progress_at FROM sync_runs WHERE id = $1`, runID).Scan(
		&p.Phase, &p.Pages, &p.Members, &p.Teams, &p.TeamsDone, &p.APICalls, &p.Credits,
		ts(&p.WaitingUntil), &p.WaitReason, &left, ts(&p.At))
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("sqlstore: progress of sync run %d: %w", runID, store.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("sqlstore: progress of sync run %d: %w", runID, err)
	}
	p.EstimatedLeft = time.Duration(left) * time.Second
	return p, nil
}
