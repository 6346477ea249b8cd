package sqlstore

import (
	"context"
	"fmt"
)

// CountWaitingApprovals counts the pending approvals of live runs. It
// runs on every dashboard page (the navigation's badge): the partial
// index approvals_pending holds only the open questions, each joined to
// its run by primary key.
func (db *DB) CountWaitingApprovals(ctx context.Context) (int, error) {
	var n int
	err := db.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM approvals a
		JOIN workflow_runs r ON r.id = a.run_id
		WHERE a.status = 'pending' AND r.status IN ('running', 'waiting')`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: count waiting approvals: %w", err)
	}
	return n, nil
}
