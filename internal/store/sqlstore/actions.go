package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"roster"
	"roster/internal/store"
)

const actionColumns = `id, key, kind, connection_id, miro_team_id, miro_user_id, email, role, actor, status,
	result, miro_answer, created_at, finished_at`

func scanAction(row interface{ Scan(...any) error }) (roster.Action, error) {
	var a roster.Action
	err := row.Scan(&a.ID, &a.Key, &a.Kind, &a.ConnectionID, &a.MiroTeamID, &a.MiroUserID, &a.Email, &a.Role,
		&a.Actor, &a.Status, &a.Result, &a.MiroAnswer, ts(&a.CreatedAt), ts(&a.FinishedAt))
	return a, err
}

func validKind(k roster.ActionKind) bool {
	switch k {
	case roster.ActionInvite, roster.ActionRemove, roster.ActionChangeRole,
		roster.ActionDeactivate, roster.ActionReactivate, roster.ActionSignOut:
		return true
	}
	return false
}

// StartAction inserts a as pending, or, when its key was used, fills a
// with the stored action and reports existed. ON CONFLICT DO NOTHING makes
// two concurrent starts with one key safe on both dialects: PostgreSQL
// makes the second wait for the first to commit, then skip; SQLite has
// one writer. ErrNotFound when the connection does not exist.
func (db *DB) StartAction(ctx context.Context, a *roster.Action) (bool, error) {
	if a.Key == "" {
		return false, fmt.Errorf("sqlstore: start action: the idempotency key is empty: %w", store.ErrInvalid)
	}
	if !validKind(a.Kind) {
		return false, fmt.Errorf("sqlstore: start action %s: unknown kind %q: %w", a.Key, a.Kind, store.ErrInvalid)
	}
	created := a.CreatedAt
	if created.IsZero() {
		created = db.now()
	}
	// INSERT ... SELECT from the connection: no row means no connection,
	// or the key exists. (SQLite needs the WHERE to tell the SELECT from
	// the upsert clause.)
	var id int64
	err := db.db.QueryRowContext(ctx, `INSERT INTO actions (key, kind, connection_id, miro_team_id, miro_user_id,
		email, role, actor, status, result, miro_answer, created_at)
		SELECT $1, $2, id, $4, $5, $6, $7, $8, $9, '', '', $10 FROM connections WHERE id = $3
		ON CONFLICT (key) DO NOTHING
		RETURNING id`,
		a.Key, a.Kind, a.ConnectionID, a.MiroTeamID, a.MiroUserID, a.Email, a.Role, a.Actor,
		roster.ActionPending, tv(created)).Scan(&id)
	if err == nil {
		a.ID, a.Status, a.CreatedAt = id, roster.ActionPending, created.UTC().Truncate(time.Microsecond)
		a.Result, a.MiroAnswer, a.FinishedAt = "", "", time.Time{}
		return false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("sqlstore: start action %s: %w", a.Key, err)
	}
	stored, err := scanAction(db.db.QueryRowContext(ctx, `SELECT `+actionColumns+` FROM actions WHERE key = $1`, a.Key))
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("sqlstore: start action %s: connection %d: %w", a.Key, a.ConnectionID, store.ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("sqlstore: start action %s: %w", a.Key, err)
	}
	*a = stored
	return true, nil
}

// ActionByKey reads the action with an idempotency key.
func (db *DB) ActionByKey(ctx context.Context, key string) (roster.Action, error) {
	a, err := scanAction(db.db.QueryRowContext(ctx, `SELECT `+actionColumns+` FROM actions WHERE key = $1`, key))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("sqlstore: action %s: %w", key, store.ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("sqlstore: action %s: %w", key, err)
	}
	return a, nil
}

// ActionCounts counts the actions by kind and status.
func (db *DB) ActionCounts(ctx context.Context) ([]store.ActionCount, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT kind, status, COUNT(*) FROM actions GROUP BY kind, status ORDER BY kind, status`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: action counts: %w", err)
	}
	defer rows.Close()
	var out []store.ActionCount
	for rows.Next() {
		var c store.ActionCount
		if err := rows.Scan(&c.Kind, &c.Status, &c.N); err != nil {
			return nil, fmt.Errorf("sqlstore: action counts: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: action counts: %w", err)
	}
	return out, nil
}

// FinishAction records a's outcome, applies effect and appends audit in
// one transaction: all of it is written, or none. The action must be
// pending, or failed (a failed action is retried under its key); a
// succeeded or refused outcome is never overwritten (ErrConflict).
// ErrNotFound when a.ID does not exist; the new status must be final.
//
// The effect is what Miro now holds, shown at once and confirmed by the
// next sync:
//   - Account is inserted when its Miro user id is unknown. An account
//     the store knows (by Miro user id, or by email when the id is empty)
//     keeps what syncs wrote; only an empty email or name is filled in,
//     because an action knows less of a person than a sync does.
//   - Membership is upserted; its account must exist or be effect.Account
//     (ErrNotFound otherwise). A team the store has not synced yet gets
//     its row, with the connection's organization.
//   - RemoveMembership is deleted; one already gone is no error, as Miro
//     answering "not a member" counts as done.
//   - AccountUpdate sets the known account's Active flag and, when not
//     empty, its License (deactivate, reactivate).
func (db *DB) FinishAction(ctx context.Context, a roster.Action, effect store.ActionEffect, audit roster.AuditEntry) error {
	switch a.Status {
	case roster.ActionSucceeded, roster.ActionRefused, roster.ActionFailed:
	default:
		return fmt.Errorf("sqlstore: finish action %d: status %q is not final: %w", a.ID, a.Status, store.ErrInvalid)
	}
	if a.FinishedAt.IsZero() {
		a.FinishedAt = db.now()
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var connID int64
		err := tx.QueryRowContext(ctx, `UPDATE actions SET status = $2, result = $3, miro_answer = $4, finished_at = $5
			WHERE id = $1 AND status IN ($6, $7) RETURNING connection_id`,
			a.ID, a.Status, a.Result, a.MiroAnswer, tv(a.FinishedAt), roster.ActionPending, roster.ActionFailed).Scan(&connID)
		if errors.Is(err, sql.ErrNoRows) {
			var st string
			err := tx.QueryRowContext(ctx, `SELECT status FROM actions WHERE id = $1`, a.ID).Scan(&st)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("action %d: %w", a.ID, store.ErrNotFound)
			}
			if err != nil {
				return err
			}
			return fmt.Errorf("action %d has already %s: %w", a.ID, st, store.ErrConflict)
		}
		if err != nil {
			return err
		}
		if err := db.applyEffect(ctx, tx, connID, effect); err != nil {
			return err
		}
		if err := db.appendAudit(ctx, tx, &audit); err != nil {
			return fmt.Errorf("append audit: %w", err)
		}
		if effect.Account == nil && effect.AccountUpdate == nil {
			return nil
		}
		return bumpAccountsVersion(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: finish action %d: %w", a.ID, err)
	}
	return nil
}

func (db *DB) applyEffect(ctx context.Context, tx *sql.Tx, connID int64, e store.ActionEffect) error {
	var accountID int64 // of e.Account, once written
	if acc := e.Account; acc != nil {
		var err error
		if accountID, err = db.ensureAccount(ctx, tx, connID, *acc); err != nil {
			return fmt.Errorf("account: %w", err)
		}
	}
	if m := e.Membership; m != nil {
		if m.MiroTeamID == "" || m.Role == "" {
			return fmt.Errorf("membership: team and role are required: %w", store.ErrInvalid)
		}
		id := accountID
		if m.MiroUserID != "" && (e.Account == nil || e.Account.MiroUserID != m.MiroUserID) {
			err := tx.QueryRowContext(ctx, `SELECT id FROM accounts WHERE miro_user_id = $1`, m.MiroUserID).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("membership: no account has Miro user id %q: %w", m.MiroUserID, store.ErrNotFound)
			}
			if err != nil {
				return fmt.Errorf("membership: %w", err)
			}
		}
		if id == 0 {
			return fmt.Errorf("membership of team %s names no account: %w", m.MiroTeamID, store.ErrInvalid)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO teams (miro_team_id, org_id, name)
			SELECT $1, org_id, '' FROM connections WHERE id = $2
			ON CONFLICT (miro_team_id) DO NOTHING`, m.MiroTeamID, connID); err != nil {
			return fmt.Errorf("membership: ensure team %s: %w", m.MiroTeamID, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO memberships (miro_team_id, account_id, role) VALUES ($1, $2, $3)
			ON CONFLICT (miro_team_id, account_id) DO UPDATE SET role = excluded.role`,
			m.MiroTeamID, id, m.Role); err != nil {
			return fmt.Errorf("membership: %w", err)
		}
	}
	if k := e.RemoveMembership; k != nil {
		if _, err := tx.ExecContext(ctx, `DELETE FROM memberships WHERE miro_team_id = $1
			AND account_id = (SELECT id FROM accounts WHERE miro_user_id = $2)`, k.MiroTeamID, k.MiroUserID); err != nil {
			return fmt.Errorf("remove membership: %w", err)
		}
	}
	if u := e.AccountUpdate; u != nil {
		if u.MiroUserID == "" {
			return fmt.Errorf("account update names no Miro user id: %w", store.ErrInvalid)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET active = $2,
			license = CASE WHEN $3 = '' THEN license ELSE $3 END WHERE miro_user_id = $1`,
			u.MiroUserID, u.Active, u.License); err != nil {
			return fmt.Errorf("account update: %w", err)
		}
	}
	return nil
}

// ensureAccount returns the id of the account a stands for, inserting it
// when the store does not know it. See FinishAction.
func (db *DB) ensureAccount(ctx context.Context, tx *sql.Tx, connID int64, a roster.Account) (int64, error) {
	a.ID, a.Email = 0, roster.NormalizeEmail(a.Email)
	var (
		id          int64
		email, name string
		err         error
	)
	switch {
	case a.MiroUserID != "":
		err = tx.QueryRowContext(ctx, `SELECT id, email, name FROM accounts WHERE miro_user_id = $1`, a.MiroUserID).
			Scan(&id, &email, &name)
	case a.Email != "":
		// An account not left wins, then the oldest, as in AccountsByEmails.
		err = tx.QueryRowContext(ctx, `SELECT id, email, name FROM accounts WHERE email = $1
			ORDER BY CASE WHEN left_at IS NULL THEN 0 ELSE 1 END, id LIMIT 1`, a.Email).Scan(&id, &email, &name)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("no account has email %s, and without a Miro user id none can be added: %w", a.Email, store.ErrInvalid)
		}
	default:
		return 0, fmt.Errorf("neither Miro user id nor email: %w", store.ErrInvalid)
	}
	if err == nil {
		if (email == "" && a.Email != "") || (name == "" && a.Name != "") {
			if email == "" {
				email = a.Email
			}
			if name == "" {
				name = a.Name
			}
			_, err = tx.ExecContext(ctx, `UPDATE accounts SET email = $2, name = $3, search = $4 WHERE id = $1`,
				id, email, name, searchText(email, name))
		}
		return id, err
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	if a.FirstSeenAt.IsZero() {
		a.FirstSeenAt = db.now()
	}
	if a.OrgID == "" {
		// Until a sync describes them, the person belongs to the
		// organization of the connection that invited them.
		if err := tx.QueryRowContext(ctx, `SELECT org_id FROM connections WHERE id = $1`, connID).Scan(&a.OrgID); err != nil {
			return 0, err
		}
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO accounts (` + accountCols + `) VALUES `)
	placeholders(&b, 1, nAccountCols, 1)
	err = tx.QueryRowContext(ctx, b.String()+` RETURNING id`, accountArgs(nil, &a)...).Scan(&id)
	return id, err
}
