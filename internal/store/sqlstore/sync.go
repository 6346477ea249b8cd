package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"roster"
	"roster/internal/store"
)

// StartSyncRun inserts run with status running and sets its ID (and
// StartedAt when zero).
func (db *DB) StartSyncRun(ctx context.Context, run *roster.SyncRun) error {
	if run.StartedAt.IsZero() {
		run.StartedAt = db.now()
	}
	var id int64
	// INSERT ... SELECT from the connection: no row means no connection.
	err := db.db.QueryRowContext(ctx, `INSERT INTO sync_runs (connection_id, source, status, started_at, usage_note)
		SELECT id, $2, 'running', $3, $4 FROM connections WHERE id = $1
		RETURNING id`, run.ConnectionID, run.Source, tv(run.StartedAt), run.UsageNote).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlstore: start sync run: connection %d: %w", run.ConnectionID, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: start sync run: %w", err)
	}
	run.ID, run.Status = id, roster.SyncRunning
	run.StartedAt = run.StartedAt.UTC().Truncate(time.Microsecond)
	return nil
}

// finishRun completes a running run and returns its connection id. It
// refuses (ErrConflict) a run that already ended, so a run is never
// applied twice nor failed after it succeeded.
func (db *DB) finishRun(ctx context.Context, tx *sql.Tx, run roster.SyncRun, status roster.SyncStatus) (int64, error) {
	var connID int64
	err := tx.QueryRowContext(ctx, `UPDATE sync_runs SET status = $2, error = $3, ended_at = $4,
		pages = $5, api_calls = $6, credits = $7, added = $8, changed = $9, removed = $10,
		source = $11, usage_note = $12
		WHERE id = $1 AND status = 'running'
		RETURNING connection_id`,
		run.ID, status, run.Error, tv(run.EndedAt), run.Pages, run.APICalls, run.Credits,
		run.Added, run.Changed, run.Removed, run.Source, run.UsageNote).Scan(&connID)
	if errors.Is(err, sql.ErrNoRows) {
		var st string
		err := tx.QueryRowContext(ctx, `SELECT status FROM sync_runs WHERE id = $1`, run.ID).Scan(&st)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("run %d: %w", run.ID, store.ErrNotFound)
		}
		if err != nil {
			return 0, err
		}
		return 0, fmt.Errorf("run %d has already %s: %w", run.ID, st, store.ErrConflict)
	}
	return connID, err
}

// FailSyncRun records a failed run and puts its connection in error. It
// writes nothing else.
func (db *DB) FailSyncRun(ctx context.Context, run roster.SyncRun) error {
	if run.EndedAt.IsZero() {
		run.EndedAt = db.now()
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		connID, err := db.finishRun(ctx, tx, run, roster.SyncFailed)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE connections SET status = $2, status_message = $3, updated_at = $4
			WHERE id = $1`, connID, roster.StatusError, run.Error, tv(db.now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: fail sync run: %w", err)
	}
	return nil
}

// ApplySync writes d and completes run in one transaction; run is
// updated only when it commits.
func (db *DB) ApplySync(ctx context.Context, run *roster.SyncRun, d store.Diff) error {
	r := *run
	if r.EndedAt.IsZero() {
		r.EndedAt = db.now()
	}
	r.Error = ""
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		connID, err := db.finishRun(ctx, tx, r, roster.SyncSucceeded)
		if err != nil {
			return fmt.Errorf("complete run: %w", err)
		}
		if !d.Empty() {
			var orgOf string
			if err := tx.QueryRowContext(ctx, `SELECT org_id FROM connections WHERE id = $1`, connID).Scan(&orgOf); err != nil {
				return fmt.Errorf("organization of connection: %w", err)
			}
			btx := newBatchTx(tx)
			left, err := db.applyDiff(ctx, btx, connID, r, d)
			btx.close()
			if err != nil {
				return err
			}
			if movesSeats(d, left) {
				if err := writeTeamLicenses(ctx, tx, orgOf); err != nil {
					return fmt.Errorf("write team licenses: %w", err)
				}
			}
			if left > 0 {
				r.Removed += left
				if _, err := tx.ExecContext(ctx, `UPDATE sync_runs SET removed = $2 WHERE id = $1`, r.ID, r.Removed); err != nil {
					return fmt.Errorf("count leavers: %w", err)
				}
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE connections SET last_sync_at = $2, status = $3, status_message = '',
			updated_at = $4 WHERE id = $1`, connID, tv(r.EndedAt), roster.StatusActive, tv(db.now()))
		if err != nil {
			return fmt.Errorf("update connection: %w", err)
		}
		if err := writeLicenseDays(ctx, tx, r.EndedAt); err != nil {
			return fmt.Errorf("write license days: %w", err)
		}
		if d.Empty() {
			return nil
		}
		return bumpAccountsVersion(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: apply sync: %w", db.conflict(err))
	}
	r.Status = roster.SyncSucceeded
	*run = r
	return nil
}

// accountCols are the account columns a sync writes, in argument order.
// search is derived (searchText), written with the rest.
const accountCols = `miro_user_id, email, name, org_id, org_role, admin_roles, license, license_exact, active,
	last_activity_at, license_assigned_at, first_seen_at, last_seen_at, left_at, search`

const nAccountCols = 15

func accountArgs(args []any, a *roster.Account) []any {
	return append(args, a.MiroUserID, a.Email, a.Name, a.OrgID, a.OrgRole, lv(a.AdminRoles), a.License, a.LicenseExact,
		a.Active, tv(a.LastActivityAt), tv(a.LicenseAssignedAt), tv(a.FirstSeenAt), tv(a.LastSeenAt), tv(a.LeftAt),
		searchText(a.Email, a.Name))
}

// searchText is the accounts.search column: email and name lower-cased
// here rather than by SQL, because SQLite's lower() knows only ASCII and
// PostgreSQL's depends on the database's locale.
func searchText(email, name string) string {
	return strings.ToLower(email + " " + name)
}

// applyDiff writes d and returns how many people it marked left.
func (db *DB) applyDiff(ctx context.Context, tx *batchTx, connID int64, run roster.SyncRun, d store.Diff) (int, error) {
	ids, err := db.lockAccounts(ctx, tx, d)
	if err != nil {
		return 0, err
	}
	if o := d.Organization; o != nil {
		_, err := tx.ExecContext(ctx, `INSERT INTO organizations (miro_org_id, name, plan, full_licenses_purchased)
			VALUES ($1, $2, $3, $4)
			ON CONFLICT (miro_org_id) DO UPDATE SET name = excluded.name, plan = excluded.plan,
				full_licenses_purchased = excluded.full_licenses_purchased`,
			o.MiroOrgID, o.Name, o.Plan, o.FullLicensesPurchased)
		if err != nil {
			return 0, fmt.Errorf("upsert organization: %w", err)
		}
	}

	if err := db.applyTeams(ctx, tx, connID, d); err != nil {
		return 0, err
	}
	if err := db.applyAccounts(ctx, tx, d, ids); err != nil {
		return 0, err
	}
	id := func(miroUserID string) (int64, error) {
		if v, ok := ids[miroUserID]; ok {
			return v, nil
		}
		return 0, fmt.Errorf("no account has Miro user id %q", miroUserID)
	}

	// Sightings, then who of the unseen left.
	left := 0
	if len(d.Unseen) > 0 {
		accIDs := make([]int64, len(d.Unseen))
		for i, m := range d.Unseen {
			if accIDs[i], err = id(m); err != nil {
				return 0, fmt.Errorf("delete sightings: %w", err)
			}
		}
		if err := deleteIn(ctx, tx, db.batchSize(1, 1), `DELETE FROM connection_accounts WHERE connection_id = $1 AND account_id IN `, connID, accIDs); err != nil {
			return 0, fmt.Errorf("delete sightings: %w", err)
		}
		if left, err = db.markLeft(ctx, tx, connID, run, accIDs); err != nil {
			return 0, fmt.Errorf("mark leavers: %w", err)
		}
	}
	if len(d.Seen) > 0 {
		accIDs := make([]int64, len(d.Seen))
		for i, m := range d.Seen {
			if accIDs[i], err = id(m); err != nil {
				return 0, fmt.Errorf("insert sightings: %w", err)
			}
		}
		err := db.insertRows(ctx, tx, `INSERT INTO connection_accounts (connection_id, account_id)`, `ON CONFLICT DO NOTHING`,
			2, len(accIDs), func(args []any, i int) []any { return append(args, connID, accIDs[i]) })
		if err != nil {
			return 0, fmt.Errorf("insert sightings: %w", err)
		}
	}

	// Memberships: deletions grouped by team, then upserts.
	if len(d.RemovedMemberships) > 0 {
		byTeam := map[string][]int64{}
		for _, m := range d.RemovedMemberships {
			v, err := id(m.MiroUserID)
			if err != nil {
				return 0, fmt.Errorf("delete memberships: %w", err)
			}
			byTeam[m.MiroTeamID] = append(byTeam[m.MiroTeamID], v)
		}
		for team, accIDs := range byTeam {
			if err := deleteIn(ctx, tx, db.batchSize(1, 1), `DELETE FROM memberships WHERE miro_team_id = $1 AND account_id IN `, team, accIDs); err != nil {
				return 0, fmt.Errorf("delete memberships: %w", err)
			}
		}
	}
	if len(d.Memberships) > 0 {
		accIDs := make([]int64, len(d.Memberships))
		for i, m := range d.Memberships {
			if accIDs[i], err = id(m.MiroUserID); err != nil {
				return 0, fmt.Errorf("upsert memberships: %w", err)
			}
		}
		err := db.insertRows(ctx, tx, `INSERT INTO memberships (miro_team_id, account_id, role)`,
			`ON CONFLICT (miro_team_id, account_id) DO UPDATE SET role = excluded.role
				WHERE memberships.role <> excluded.role`,
			3, len(accIDs), func(args []any, i int) []any {
				return append(args, d.Memberships[i].MiroTeamID, accIDs[i], d.Memberships[i].Role)
			})
		if err != nil {
			return 0, fmt.Errorf("upsert memberships: %w", err)
		}
	}

	if len(d.Changes) > 0 {
		accIDs := make([]int64, len(d.Changes))
		for i, c := range d.Changes {
			if accIDs[i], err = id(c.MiroUserID); err != nil {
				return 0, fmt.Errorf("insert changes: %w", err)
			}
		}
		err := db.insertRows(ctx, tx, `INSERT INTO changes (account_id, sync_run_id, kind, miro_team_id, old_value, new_value, at)`, ``,
			7, len(accIDs), func(args []any, i int) []any {
				c := &d.Changes[i]
				at := c.At
				if at.IsZero() {
					at = run.EndedAt
				}
				return append(args, accIDs[i], run.ID, c.Kind, c.MiroTeamID, c.OldValue, c.NewValue, tv(at))
			})
		if err != nil {
			return 0, fmt.Errorf("insert changes: %w", err)
		}
	}
	return left, nil
}

func (db *DB) applyTeams(ctx context.Context, tx *batchTx, connID int64, d store.Diff) error {
	if len(d.Teams) > 0 {
		// The WHERE skips rewriting teams that did not change.
		err := db.insertRows(ctx, tx, `INSERT INTO teams (miro_team_id, org_id, name)`,
			`ON CONFLICT (miro_team_id) DO UPDATE SET org_id = excluded.org_id, name = excluded.name
				WHERE teams.org_id <> excluded.org_id OR teams.name <> excluded.name`,
			3, len(d.Teams), func(args []any, i int) []any {
				t := &d.Teams[i]
				return append(args, t.MiroTeamID, t.OrgID, t.Name)
			})
		if err != nil {
			return fmt.Errorf("upsert teams: %w", err)
		}
		err = db.insertRows(ctx, tx, `INSERT INTO connection_teams (connection_id, miro_team_id)`, `ON CONFLICT DO NOTHING`,
			2, len(d.Teams), func(args []any, i int) []any { return append(args, connID, d.Teams[i].MiroTeamID) })
		if err != nil {
			return fmt.Errorf("cover teams: %w", err)
		}
	}
	if len(d.RemovedTeams) > 0 {
		if err := deleteIn(ctx, tx, db.batchSize(1, 1), `DELETE FROM connection_teams WHERE connection_id = $1 AND miro_team_id IN `, connID, d.RemovedTeams); err != nil {
			return fmt.Errorf("uncover teams: %w", err)
		}
	}
	return nil
}

// lockAccounts resolves the Miro user ids d mentions to the ids of their
// accounts (all but the accounts d inserts, which applyAccounts adds) and,
// on PostgreSQL, locks those accounts before anything is written. Two
// syncs touching the same people then apply one after the other, so that
// markLeft sees the other's sightings as committed; locking in id order
// keeps them from deadlocking. SQLite runs one transaction at a time.
func (db *DB) lockAccounts(ctx context.Context, tx *batchTx, d store.Diff) (map[string]int64, error) {
	ids := make(map[string]int64, len(d.Accounts))
	inserted := map[string]bool{}
	for i := range d.Accounts {
		a := &d.Accounts[i]
		if a.MiroUserID == "" {
			return nil, fmt.Errorf("write accounts: account %d (%s) has no Miro user id", a.ID, a.Email)
		}
		if a.ID == 0 {
			inserted[a.MiroUserID] = true
		} else {
			ids[a.MiroUserID] = a.ID
		}
	}
	var missing []string
	want := func(m string) {
		if _, ok := ids[m]; !ok && !inserted[m] {
			ids[m] = 0 // placeholder, resolved below
			missing = append(missing, m)
		}
	}
	for _, m := range d.Seen {
		want(m)
	}
	for _, m := range d.Unseen {
		want(m)
	}
	for _, m := range d.Memberships {
		want(m.MiroUserID)
	}
	for _, m := range d.RemovedMemberships {
		want(m.MiroUserID)
	}
	for _, c := range d.Changes {
		want(c.MiroUserID)
	}
	for _, m := range missing {
		delete(ids, m)
	}
	err := chunks(missing, db.batchSize(1, 0), func(batch []string) error {
		var b strings.Builder
		b.WriteString(`SELECT id, miro_user_id FROM accounts WHERE miro_user_id IN (`)
		list(&b, len(batch), 1)
		b.WriteString(`)`)
		args := make([]any, len(batch))
		for i, m := range batch {
			args[i] = m
		}
		rows, err := tx.query(ctx, b.String(), args...)
		if err != nil {
			return err
		}
		return scanAccountIDs(rows, ids)
	})
	if err != nil {
		return nil, fmt.Errorf("resolve account ids: %w", err)
	}
	if db.dialect.lockRows == "" {
		return ids, nil
	}

	accIDs := make([]int64, 0, len(ids))
	for _, v := range ids {
		accIDs = append(accIDs, v)
	}
	slices.Sort(accIDs)
	accIDs = slices.Compact(accIDs)
	err = chunks(accIDs, db.batchSize(1, 0), func(batch []int64) error {
		var b strings.Builder
		b.WriteString(`SELECT id FROM accounts WHERE id IN (`)
		list(&b, len(batch), 1)
		b.WriteString(`) ORDER BY id ` + db.dialect.lockRows)
		args := make([]any, len(batch))
		for i, v := range batch {
			args[i] = v
		}
		rows, err := tx.query(ctx, b.String(), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() { // the query locks them; there is nothing to read
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("lock accounts: %w", err)
	}
	return ids, nil
}

// applyAccounts inserts and updates d.Accounts, adding the ids of the
// inserted ones to ids.
func (db *DB) applyAccounts(ctx context.Context, tx *batchTx, d store.Diff, ids map[string]int64) error {
	var inserts, updates []*roster.Account
	for i := range d.Accounts {
		a := &d.Accounts[i]
		if a.ID == 0 {
			inserts = append(inserts, a)
		} else {
			updates = append(updates, a)
		}
	}

	size := db.batchSize(nAccountCols+1, 0)
	err := chunks(inserts, size, func(batch []*roster.Account) error {
		var b strings.Builder
		b.WriteString(`INSERT INTO accounts (` + accountCols + `) VALUES `)
		placeholders(&b, len(batch), nAccountCols, 1)
		b.WriteString(` RETURNING id, miro_user_id`)
		args := make([]any, 0, len(batch)*nAccountCols)
		for _, a := range batch {
			args = accountArgs(args, a)
		}
		rows, err := tx.query(ctx, b.String(), args...)
		if err != nil {
			return err
		}
		return scanAccountIDs(rows, ids)
	})
	if err != nil {
		return fmt.Errorf("insert accounts: %w", err)
	}

	err = chunks(updates, size, func(batch []*roster.Account) error {
		// Every id must exist: the upsert below would otherwise insert it.
		accIDs := make([]any, len(batch))
		for i, a := range batch {
			accIDs[i] = a.ID
		}
		var b strings.Builder
		b.WriteString(`SELECT COUNT(*) FROM accounts WHERE id IN (`)
		list(&b, len(batch), 1)
		b.WriteString(`)`)
		var n int
		rows, err := tx.query(ctx, b.String(), accIDs...)
		if err != nil {
			return err
		}
		rows.Next()
		err = rows.Scan(&n)
		rows.Close()
		if err != nil {
			return err
		}
		if n != len(batch) {
			return fmt.Errorf("%d of %d accounts to update do not exist: %w", len(batch)-n, len(batch), store.ErrNotFound)
		}

		b.Reset()
		b.WriteString(`INSERT INTO accounts (id, ` + accountCols + `) VALUES `)
		placeholders(&b, len(batch), nAccountCols+1, 1)
		b.WriteString(` ON CONFLICT (id) DO UPDATE SET miro_user_id = excluded.miro_user_id,
			email = excluded.email, name = excluded.name, org_id = excluded.org_id, org_role = excluded.org_role,
			admin_roles = excluded.admin_roles, license = excluded.license,
			license_exact = excluded.license_exact, active = excluded.active,
			last_activity_at = excluded.last_activity_at, license_assigned_at = excluded.license_assigned_at,
			first_seen_at = excluded.first_seen_at,
			last_seen_at = COALESCE(excluded.last_seen_at, accounts.last_seen_at),
			left_at = excluded.left_at, search = excluded.search`)
		args := make([]any, 0, len(batch)*(nAccountCols+1))
		for _, a := range batch {
			args = append(args, a.ID)
			args = accountArgs(args, a)
		}
		return tx.exec(ctx, b.String(), args...)
	})
	if err != nil {
		return fmt.Errorf("update accounts: %w", err)
	}
	return nil
}

// markLeft marks left, with a left change, those of accIDs (people this
// connection no longer sees, their sightings just deleted) that no
// connection sees any more, and returns how many. Their last seen is
// this connection's last sync, the last one that saw them.
func (db *DB) markLeft(ctx context.Context, tx *batchTx, connID int64, run roster.SyncRun, accIDs []int64) (int, error) {
	var left []int64
	err := chunks(accIDs, db.batchSize(1, 2), func(batch []int64) error {
		var b strings.Builder
		b.WriteString(`UPDATE accounts SET left_at = $1,
			last_seen_at = COALESCE((SELECT last_sync_at FROM connections WHERE id = $2), last_seen_at)
			WHERE left_at IS NULL
				AND NOT EXISTS (SELECT 1 FROM connection_accounts s WHERE s.account_id = accounts.id)
				AND id IN (`)
		list(&b, len(batch), 3)
		b.WriteString(`) RETURNING id`)
		args := make([]any, 0, len(batch)+2)
		args = append(args, tv(run.EndedAt), connID)
		for _, v := range batch {
			args = append(args, v)
		}
		rows, err := tx.query(ctx, b.String(), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			left = append(left, id)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, err
	}
	slices.Sort(left)
	err = db.insertRows(ctx, tx, `INSERT INTO changes (account_id, sync_run_id, kind, at)`, ``,
		4, len(left), func(args []any, i int) []any {
			return append(args, left[i], run.ID, roster.ChangeLeft, tv(run.EndedAt))
		})
	if err != nil {
		return 0, fmt.Errorf("insert left changes: %w", err)
	}
	return len(left), nil
}

// deleteIn runs "stmt ($2,...)" with first as $1, over keys in batches.
func deleteIn[K any](ctx context.Context, tx *batchTx, size int, stmt string, first any, keys []K) error {
	return chunks(keys, size, func(batch []K) error {
		var b strings.Builder
		b.WriteString(stmt)
		b.WriteString(`(`)
		list(&b, len(batch), 2)
		b.WriteString(`)`)
		args := make([]any, 0, len(batch)+1)
		args = append(args, first)
		for _, k := range batch {
			args = append(args, k)
		}
		return tx.exec(ctx, b.String(), args...)
	})
}

// scanAccountIDs reads (id, miro_user_id) rows into ids and closes rows.
func scanAccountIDs(rows *sql.Rows, ids map[string]int64) error {
	defer rows.Close()
	for rows.Next() {
		var (
			id  int64
			mid string
		)
		if err := rows.Scan(&id, &mid); err != nil {
			return err
		}
		ids[mid] = id
	}
	return rows.Err()
}
