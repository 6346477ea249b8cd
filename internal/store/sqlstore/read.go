package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"roster"
	"roster/internal/store"
)

// accountSelect reads accounts as a. LastSeenAt is derived: the newest
// last sync of the connections that see an account not left, the stored
// value once it left.
const accountSelect = `SELECT a.id, a.miro_user_id, a.email, a.name, ` + accountSelectRest

// accountDisplaySelect reads accounts as accountSelect does, but with the
// name people see: the directory's where it knows the email, else Miro's
// (display_name, 00009_search.sql). For the users list and the user page;
// a sync diffs against Miro's own name.
const accountDisplaySelect = `SELECT a.id, a.miro_user_id, a.email, a.display_name, ` + accountSelectRest

const accountSelectRest = `a.org_id, a.org_role, a.admin_roles, a.license,
	a.license_exact, a.active, a.last_activity_at, a.license_assigned_at, a.first_seen_at,
	CASE WHEN a.left_at IS NULL THEN COALESCE((SELECT MAX(c.last_sync_at)
		FROM connection_accounts s JOIN connections c ON c.id = s.connection_id
		WHERE s.account_id = a.id), a.last_seen_at) ELSE a.last_seen_at END,
	a.left_at
	FROM accounts a`

func scanAccount(row interface{ Scan(...any) error }) (roster.Account, error) {
	var a roster.Account
	err := row.Scan(&a.ID, &a.MiroUserID, &a.Email, &a.Name, &a.OrgID, &a.OrgRole, ls(&a.AdminRoles), &a.License,
		&a.LicenseExact, &a.Active, ts(&a.LastActivityAt), ts(&a.LicenseAssignedAt), ts(&a.FirstSeenAt),
		ts(&a.LastSeenAt), ts(&a.LeftAt))
	return a, err
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queryAccounts runs an account query and calls fn on each account.
func queryAccounts(ctx context.Context, q querier, query string, args []any, fn func(roster.Account)) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return err
		}
		fn(a)
	}
	return rows.Err()
}

// Snapshot is what a connection saw at its last successful sync, read in
// one consistent transaction.
func (db *DB) Snapshot(ctx context.Context, connectionID int64) (*store.Snapshot, error) {
	tx, err := db.db.BeginTx(ctx, db.dialect.readTx)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: snapshot of connection %d: %w", connectionID, err)
	}
	defer tx.Rollback()
	s, err := db.snapshot(ctx, tx, connectionID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: snapshot of connection %d: %w", connectionID, err)
	}
	return s, nil
}

func (db *DB) snapshot(ctx context.Context, tx *sql.Tx, connID int64) (*store.Snapshot, error) {
	var orgID string
	err := tx.QueryRowContext(ctx, `SELECT org_id FROM connections WHERE id = $1`, connID).Scan(&orgID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	s := &store.Snapshot{
		Teams:         map[string]roster.Team{},
		Accounts:      map[string]roster.Account{},
		SeenElsewhere: map[string]bool{},
		Memberships:   map[store.MembershipKey]string{},
	}
	if orgID != "" {
		var o roster.Organization
		err := tx.QueryRowContext(ctx, `SELECT miro_org_id, name, plan, full_licenses_purchased
			FROM organizations WHERE miro_org_id = $1`, orgID).Scan(&o.MiroOrgID, &o.Name, &o.Plan, &o.FullLicensesPurchased)
		switch {
		case err == nil:
			s.Organization = &o
		case !errors.Is(err, sql.ErrNoRows):
			return nil, fmt.Errorf("organization: %w", err)
		}
	}

	teams, err := queryTeams(ctx, tx, connID)
	if err != nil {
		return nil, fmt.Errorf("teams: %w", err)
	}
	for _, t := range teams {
		s.Teams[t.MiroTeamID] = t
	}

	err = queryAccounts(ctx, tx, accountSelect+` JOIN connection_accounts v ON v.account_id = a.id WHERE v.connection_id = $1`,
		[]any{connID}, func(a roster.Account) { s.Accounts[a.MiroUserID] = a })
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}

	err = scanStrings(ctx, tx, `SELECT a.miro_user_id FROM connection_accounts v JOIN accounts a ON a.id = v.account_id
		WHERE v.connection_id = $1 AND EXISTS (SELECT 1 FROM connection_accounts o
			WHERE o.account_id = v.account_id AND o.connection_id <> $1)`,
		[]any{connID}, func(m string) { s.SeenElsewhere[m] = true })
	if err != nil {
		return nil, fmt.Errorf("seen elsewhere: %w", err)
	}

	rows, err := tx.QueryContext(ctx, `SELECT m.miro_team_id, a.miro_user_id, m.role
		FROM memberships m
		JOIN connection_teams ct ON ct.miro_team_id = m.miro_team_id
		JOIN accounts a ON a.id = m.account_id
		WHERE ct.connection_id = $1`, connID)
	if err != nil {
		return nil, fmt.Errorf("memberships: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			k    store.MembershipKey
			role string
		)
		if err := rows.Scan(&k.MiroTeamID, &k.MiroUserID, &role); err != nil {
			return nil, fmt.Errorf("memberships: %w", err)
		}
		s.Memberships[k] = role
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("memberships: %w", err)
	}
	return s, nil
}

func scanStrings(ctx context.Context, q querier, query string, args []any, fn func(string)) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return err
		}
		fn(v)
	}
	return rows.Err()
}

// AccountsByMiroIDs looks accounts up by Miro user id.
func (db *DB) AccountsByMiroIDs(ctx context.Context, ids []string) (map[string]roster.Account, error) {
	out := make(map[string]roster.Account, len(ids))
	err := db.accountsWhereIn(ctx, `a.miro_user_id`, ids, func(a roster.Account) { out[a.MiroUserID] = a })
	if err != nil {
		return nil, fmt.Errorf("sqlstore: accounts by Miro id: %w", err)
	}
	return out, nil
}

// AccountsByEmails looks accounts up by lower-case email. Should several
// accounts share one, an account not left wins, then the oldest.
func (db *DB) AccountsByEmails(ctx context.Context, emails []string) (map[string]roster.Account, error) {
	out := make(map[string]roster.Account, len(emails))
	keys := make([]string, 0, len(emails))
	for _, e := range emails {
		if e != "" {
			keys = append(keys, e)
		}
	}
	err := db.accountsWhereIn(ctx, `a.email`, keys, func(a roster.Account) {
		if old, ok := out[a.Email]; ok && (old.LeftAt.IsZero() || !a.LeftAt.IsZero()) {
			return
		}
		out[a.Email] = a
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: accounts by email: %w", err)
	}
	return out, nil
}

func (db *DB) accountsWhereIn(ctx context.Context, col string, keys []string, fn func(roster.Account)) error {
	// A read transaction, so that SQLite's one connection is taken once.
	tx, err := db.db.BeginTx(ctx, db.dialect.readTx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return chunks(keys, db.batchSize(1, 0), func(batch []string) error {
		var b strings.Builder
		b.WriteString(accountSelect + ` WHERE ` + col + ` IN (`)
		list(&b, len(batch), 1)
		b.WriteString(`) ORDER BY a.id`)
		return queryAccounts(ctx, tx, b.String(), anySlice(batch), fn)
	})
}

// Accounts lists accounts matching f, ordered by email then id.
func (db *DB) Accounts(ctx context.Context, f store.AccountFilter) ([]roster.Account, error) {
	var (
		where []string
		args  params
	)
	arg := args.add
	if f.ConnectionID != 0 {
		where = append(where, `EXISTS (SELECT 1 FROM connection_accounts v WHERE v.account_id = a.id AND v.connection_id = `+arg(f.ConnectionID)+`)`)
	}
	if f.Org != "" {
		where = append(where, `a.org_id = `+arg(f.Org))
	}
	if f.License != "" {
		where = append(where, `a.license = `+arg(f.License))
	}
	if f.OrgRole != "" {
		where = append(where, `a.org_role = `+arg(f.OrgRole))
	}
	if f.MiroTeamID != "" {
		where = append(where, `EXISTS (SELECT 1 FROM memberships m WHERE m.account_id = a.id AND m.miro_team_id = `+arg(f.MiroTeamID)+`)`)
	}
	if !f.InactiveSince.IsZero() {
		where = append(where, inactiveSQL(arg(tv(f.InactiveSince))))
	}
	if !f.IncludeLeft {
		where = append(where, `a.left_at IS NULL`)
	}
	q := accountSelect
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY a.email, a.id`
	if f.Limit > 0 || f.Offset > 0 {
		limit := int64(f.Limit)
		if limit <= 0 {
			limit = 1<<63 - 1 // LIMIT is needed for OFFSET on SQLite
		}
		q += ` LIMIT ` + arg(limit) + ` OFFSET ` + arg(int64(max(0, f.Offset)))
	}
	var out []roster.Account
	if err := queryAccounts(ctx, db.db, q, args, func(a roster.Account) { out = append(out, a) }); err != nil {
		return nil, fmt.Errorf("sqlstore: accounts: %w", err)
	}
	return out, nil
}

// Account reads one account, named as the users list names it.
func (db *DB) Account(ctx context.Context, id int64) (roster.Account, error) {
	a, err := scanAccount(db.db.QueryRowContext(ctx, accountDisplaySelect+` WHERE a.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return roster.Account{}, fmt.Errorf("sqlstore: account %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return roster.Account{}, fmt.Errorf("sqlstore: account %d: %w", id, err)
	}
	return a, nil
}

// AccountMemberships lists an account's memberships by team id. An
// unknown account has none.
func (db *DB) AccountMemberships(ctx context.Context, accountID int64) ([]roster.Membership, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT a.miro_user_id, m.miro_team_id, m.role
		FROM memberships m JOIN accounts a ON a.id = m.account_id
		WHERE m.account_id = $1 ORDER BY m.miro_team_id`, accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: memberships of account %d: %w", accountID, err)
	}
	defer rows.Close()
	var out []roster.Membership
	for rows.Next() {
		var m roster.Membership
		if err := rows.Scan(&m.MiroUserID, &m.MiroTeamID, &m.Role); err != nil {
			return nil, fmt.Errorf("sqlstore: memberships of account %d: %w", accountID, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: memberships of account %d: %w", accountID, err)
	}
	return out, nil
}

// Teams lists teams by id, those a connection covers when connectionID > 0.
func (db *DB) Teams(ctx context.Context, connectionID int64) ([]roster.Team, error) {
	out, err := queryTeams(ctx, db.db, connectionID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: teams: %w", err)
	}
	return out, nil
}

func queryTeams(ctx context.Context, q querier, connID int64) ([]roster.Team, error) {
	query := `SELECT t.miro_team_id, t.org_id, t.name FROM teams t ORDER BY t.miro_team_id`
	var args []any
	if connID > 0 {
		query = `SELECT t.miro_team_id, t.org_id, t.name FROM teams t
			JOIN connection_teams ct ON ct.miro_team_id = t.miro_team_id
			WHERE ct.connection_id = $1 ORDER BY t.miro_team_id`
		args = []any{connID}
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []roster.Team
	for rows.Next() {
		var t roster.Team
		if err := rows.Scan(&t.MiroTeamID, &t.OrgID, &t.Name); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Organization reads an organization synced at organization level.
func (db *DB) Organization(ctx context.Context, miroOrgID string) (roster.Organization, error) {
	var o roster.Organization
	err := db.db.QueryRowContext(ctx, `SELECT miro_org_id, name, plan, full_licenses_purchased
		FROM organizations WHERE miro_org_id = $1`, miroOrgID).Scan(&o.MiroOrgID, &o.Name, &o.Plan, &o.FullLicensesPurchased)
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("sqlstore: organization %s: %w", miroOrgID, store.ErrNotFound)
	}
	if err != nil {
		return o, fmt.Errorf("sqlstore: organization %s: %w", miroOrgID, err)
	}
	return o, nil
}

// SyncRuns lists a connection's runs, newest first; limit 0 lists all.
func (db *DB) SyncRuns(ctx context.Context, connectionID int64, limit int) ([]roster.SyncRun, error) {
	q := `SELECT id, connection_id, source, status, error, started_at, ended_at, pages, api_calls, credits,
		added, changed, removed, usage_note FROM sync_runs WHERE connection_id = $1 ORDER BY id DESC`
	args := []any{connectionID}
	if limit > 0 {
		q += ` LIMIT $2`
		args = append(args, limit)
	}
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: sync runs of connection %d: %w", connectionID, err)
	}
	defer rows.Close()
	var out []roster.SyncRun
	for rows.Next() {
		var r roster.SyncRun
		if err := rows.Scan(&r.ID, &r.ConnectionID, &r.Source, &r.Status, &r.Error, ts(&r.StartedAt), ts(&r.EndedAt),
			&r.Pages, &r.APICalls, &r.Credits, &r.Added, &r.Changed, &r.Removed, &r.UsageNote); err != nil {
			return nil, fmt.Errorf("sqlstore: sync runs of connection %d: %w", connectionID, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: sync runs of connection %d: %w", connectionID, err)
	}
	return out, nil
}

// Changes lists change rows matching f, oldest first.
func (db *DB) Changes(ctx context.Context, f store.ChangeFilter) ([]roster.Change, error) {
	var (
		where []string
		args  params
	)
	arg := args.add
	if f.AccountID != 0 {
		where = append(where, `c.account_id = `+arg(f.AccountID))
	}
	if f.SyncRunID != 0 {
		where = append(where, `c.sync_run_id = `+arg(f.SyncRunID))
	}
	if f.AfterID != 0 {
		where = append(where, `c.id > `+arg(f.AfterID))
	}
	q := `SELECT c.id, c.account_id, a.miro_user_id, c.sync_run_id, c.kind, c.miro_team_id, c.old_value, c.new_value, c.at
		FROM changes c JOIN accounts a ON a.id = c.account_id`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY c.id`
	if f.Limit > 0 {
		q += ` LIMIT ` + arg(f.Limit)
	}
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: changes: %w", err)
	}
	defer rows.Close()
	var out []roster.Change
	for rows.Next() {
		var c roster.Change
		if err := rows.Scan(&c.ID, &c.AccountID, &c.MiroUserID, &c.SyncRunID, &c.Kind, &c.MiroTeamID,
			&c.OldValue, &c.NewValue, ts(&c.At)); err != nil {
			return nil, fmt.Errorf("sqlstore: changes: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: changes: %w", err)
	}
	return out, nil
}
