package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"roster"
	"roster/internal/store"
)

// Bulk runs, their runs and progress, and the lookups a bulk selection
// makes for many accounts at once.

const bulkColumns = `id, key, action, team_id, workflow_id, selection, description, selected, runs, excluded,
	actor, started_at, created_at`

func scanBulkRun(row interface{ Scan(...any) error }) (roster.BulkRun, error) {
	var b roster.BulkRun
	err := row.Scan(&b.ID, &b.Key, &b.Action, &b.TeamID, &b.WorkflowID, &b.Selection, &b.Description,
		&b.Selected, &b.Runs, &b.Excluded, &b.Actor, ts(&b.StartedAt), ts(&b.CreatedAt))
	return b, err
}

// CreateBulkRun inserts b with its audit entry, or fills b with the bulk
// run its key already names.
func (db *DB) CreateBulkRun(ctx context.Context, b *roster.BulkRun, audit roster.AuditEntry) (bool, error) {
	switch {
	case b.Key == "" || b.Actor == "" || b.Selection == "":
		return false, fmt.Errorf("sqlstore: create bulk run: key, actor and selection are required: %w", store.ErrInvalid)
	case !b.Action.Valid():
		return false, fmt.Errorf("sqlstore: create bulk run %s: unknown action %q: %w", b.Key, b.Action, store.ErrInvalid)
	}
	created := b.CreatedAt
	if created.IsZero() {
		created = db.now()
	}
	var (
		existed bool
		stored  roster.BulkRun
	)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO bulk_runs (key, action, team_id, workflow_id, selection, description,
			selected, runs, excluded, actor, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, $8, $9)
			ON CONFLICT (key) DO NOTHING RETURNING id`,
			b.Key, b.Action, b.TeamID, b.WorkflowID, b.Selection, b.Description, b.Selected, b.Actor, tv(created)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			existed = true
			stored, err = scanBulkRun(tx.QueryRowContext(ctx, `SELECT `+bulkColumns+` FROM bulk_runs WHERE key = $1`, b.Key))
			return err
		}
		if err != nil {
			return err
		}
		stored = *b
		stored.ID, stored.Runs, stored.Excluded, stored.StartedAt = id, 0, 0, time.Time{}
		stored.CreatedAt = created.UTC().Truncate(time.Microsecond)
		if audit.Target == "" {
			audit.Target = "bulk run " + strconv.FormatInt(id, 10)
		}
		return db.appendAudit(ctx, tx, &audit)
	})
	if err != nil {
		return false, fmt.Errorf("sqlstore: create bulk run %s: %w", b.Key, err)
	}
	*b = stored
	return existed, nil
}

// BulkRun reads one bulk run.
func (db *DB) BulkRun(ctx context.Context, id int64) (roster.BulkRun, error) {
	b, err := scanBulkRun(db.db.QueryRowContext(ctx, `SELECT `+bulkColumns+` FROM bulk_runs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return b, fmt.Errorf("sqlstore: bulk run %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return b, fmt.Errorf("sqlstore: bulk run %d: %w", id, err)
	}
	return b, nil
}

// bulkRunsWhere selects the workflow runs of a bulk run: its runs'
// workflow id and the prefix of their trigger keys (digits and colons,
// nothing LIKE reads as a wildcard).
func bulkRunsWhere(b roster.BulkRun, arg func(any) string) string {
	return `workflow_id = ` + arg(b.RunsWorkflowID()) + ` AND trigger_key LIKE ` + arg(b.TriggerKeyPrefix()+"%")
}

// FinishBulkStart records the end of a bulk run's start, counting its
// runs in the same statement.
func (db *DB) FinishBulkStart(ctx context.Context, id int64, selected, excluded int, at time.Time) (roster.BulkRun, error) {
	b, err := db.BulkRun(ctx, id)
	if err != nil {
		return b, err
	}
	var args params
	arg := args.add
	q := `UPDATE bulk_runs SET selected = ` + arg(selected) + `, excluded = ` + arg(excluded) +
		`, started_at = ` + arg(tv(at)) + `, runs = (SELECT COUNT(*) FROM workflow_runs WHERE ` + bulkRunsWhere(b, arg) + `)
		WHERE id = ` + arg(id) + ` RETURNING ` + bulkColumns
	b, err = scanBulkRun(db.db.QueryRowContext(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return b, fmt.Errorf("sqlstore: finish bulk run %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return b, fmt.Errorf("sqlstore: finish bulk run %d: %w", id, err)
	}
	return b, nil
}

// BulkRuns lists bulk runs newest first.
func (db *DB) BulkRuns(ctx context.Context, beforeID int64, limit int) ([]roster.BulkRun, error) {
	out, err := newestFirst(ctx, db.db, "bulk_runs", bulkColumns, beforeID, limit, scanBulkRun)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: bulk runs: %w", err)
	}
	return out, nil
}

// BulkRunCounts counts a bulk run's workflow runs by status.
func (db *DB) BulkRunCounts(ctx context.Context, b roster.BulkRun) (map[roster.RunStatus]int, error) {
	var args params
	rows, err := db.db.QueryContext(ctx, `SELECT status, COUNT(*) FROM workflow_runs WHERE `+bulkRunsWhere(b, args.add)+
		` GROUP BY status`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: count the runs of bulk run %d: %w", b.ID, err)
	}
	defer rows.Close()
	counts := map[roster.RunStatus]int{}
	for rows.Next() {
		var (
			st roster.RunStatus
			n  int
		)
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("sqlstore: count the runs of bulk run %d: %w", b.ID, err)
		}
		counts[st] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: count the runs of bulk run %d: %w", b.ID, err)
	}
	return counts, nil
}

// BulkRunRuns lists a page of a bulk run's workflow runs, newest first.
func (db *DB) BulkRunRuns(ctx context.Context, b roster.BulkRun, f store.RunFilter) (store.RunPage, error) {
	limit := f.Limit
	switch {
	case limit == 0:
		limit = 50
	case limit < 0 || limit > 500:
		return store.RunPage{}, fmt.Errorf("sqlstore: runs of bulk run %d: limit %d is not within 1..500: %w", b.ID, limit, store.ErrInvalid)
	}
	if f.Status != "" && !f.Status.Valid() {
		return store.RunPage{}, fmt.Errorf("sqlstore: runs of bulk run %d: unknown status %q: %w", b.ID, f.Status, store.ErrInvalid)
	}
	counts, err := db.BulkRunCounts(ctx, b)
	if err != nil {
		return store.RunPage{}, err
	}
	page := store.RunPage{Counts: counts}
	for st, n := range counts {
		if f.Status == "" || f.Status == st {
			page.Total += n
		}
	}
	var args params
	arg := args.add
	cond := bulkRunsWhere(b, arg)
	if f.Status != "" {
		cond += ` AND status = ` + arg(string(f.Status))
	}
	if f.BeforeID > 0 {
		cond += ` AND id < ` + arg(f.BeforeID)
	}
	page.Runs, err = queryRuns(ctx, db.db, `SELECT `+runColumns+` FROM workflow_runs WHERE `+cond+
		` ORDER BY id DESC LIMIT `+arg(limit+1), args...)
	if err != nil {
		return store.RunPage{}, fmt.Errorf("sqlstore: runs of bulk run %d: %w", b.ID, err)
	}
	if len(page.Runs) > limit {
		page.Runs = page.Runs[:limit]
		page.NextBefore = page.Runs[limit-1].ID
	}
	return page, nil
}

// AccountsByIDs reads accounts by id, in batches.
func (db *DB) AccountsByIDs(ctx context.Context, ids []int64) (map[int64]roster.Account, error) {
	out := make(map[int64]roster.Account, len(ids))
	err := chunks(ids, db.batchSize(1, 0), func(batch []int64) error {
		var b strings.Builder
		b.WriteString(accountDisplaySelect + ` WHERE a.id IN (`)
		list(&b, len(batch), 1)
		b.WriteString(`)`)
		return queryAccounts(ctx, db.db, b.String(), int64Args(batch), func(a roster.Account) { out[a.ID] = a })
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: accounts by id: %w", err)
	}
	return out, nil
}

// MembershipsOf lists the memberships of many accounts, in batches.
func (db *DB) MembershipsOf(ctx context.Context, accountIDs []int64) (map[int64][]roster.Membership, error) {
	out := make(map[int64][]roster.Membership, len(accountIDs))
	err := chunks(accountIDs, db.batchSize(1, 0), func(batch []int64) error {
		var b strings.Builder
		b.WriteString(`SELECT m.account_id, a.miro_user_id, m.miro_team_id, m.role
			FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE m.account_id IN (`)
		list(&b, len(batch), 1)
		b.WriteString(`) ORDER BY m.account_id, m.miro_team_id`)
		rows, err := db.db.QueryContext(ctx, b.String(), int64Args(batch)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				id int64
				m  roster.Membership
			)
			if err := rows.Scan(&id, &m.MiroUserID, &m.MiroTeamID, &m.Role); err != nil {
				return err
			}
			out[id] = append(out[id], m)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: memberships of %d accounts: %w", len(accountIDs), err)
	}
	return out, nil
}

// TeamAdminCounts counts each team's admins who have not left.
func (db *DB) TeamAdminCounts(ctx context.Context) (map[string]int, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT m.miro_team_id, COUNT(*) FROM memberships m
		JOIN accounts a ON a.id = m.account_id
		WHERE m.role = $1 AND a.left_at IS NULL GROUP BY m.miro_team_id`, roster.TeamRoleAdmin)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: team admins: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			team string
			n    int
		)
		if err := rows.Scan(&team, &n); err != nil {
			return nil, fmt.Errorf("sqlstore: team admins: %w", err)
		}
		out[team] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: team admins: %w", err)
	}
	return out, nil
}

// int64Args is ids as query arguments.
func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
