package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"roster"
	"roster/internal/store"
)

// AppendAudit inserts e and sets its ID (and At when zero).
func (db *DB) AppendAudit(ctx context.Context, e *roster.AuditEntry) error {
	if err := db.appendAudit(ctx, db.db, e); err != nil {
		return fmt.Errorf("sqlstore: append audit: %w", err)
	}
	return nil
}

// appendAudit inserts e with q, a transaction or the database.
func (db *DB) appendAudit(ctx context.Context, q querier, e *roster.AuditEntry) error {
	if e.Actor == "" || e.Kind == "" || e.Action == "" {
		return fmt.Errorf("actor, kind and action are required: %w", store.ErrInvalid)
	}
	at := e.At
	if at.IsZero() {
		at = db.now()
	}
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO audit_log (at, actor, kind, action, target, connection_id, result, detail, miro_answer)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		tv(at), e.Actor, e.Kind, e.Action, e.Target, nullID(e.ConnectionID), e.Result, e.Detail, e.MiroAnswer).Scan(&id)
	if err != nil {
		return err
	}
	e.ID, e.At = id, at.UTC().Truncate(time.Microsecond)
	return nil
}

// nullID stores the id 0 as NULL.
func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// AuditEntries lists entries matching f, newest first; Limit 0 lists all.
func (db *DB) AuditEntries(ctx context.Context, f store.AuditFilter) ([]roster.AuditEntry, error) {
	if f.Limit < 0 || f.BeforeID < 0 {
		return nil, fmt.Errorf("sqlstore: audit entries: negative limit or before id: %w", store.ErrInvalid)
	}
	var (
		where []string
		args  params
	)
	arg := args.add
	if f.Kind != "" {
		where = append(where, `kind = `+arg(f.Kind))
	}
	if f.ConnectionID != 0 {
		where = append(where, `connection_id = `+arg(f.ConnectionID))
	}
	if f.Target != "" {
		where = append(where, `target = `+arg(f.Target))
	}
	contains := func(column, part string) string {
		return `LOWER(` + column + `) LIKE ` + arg("%"+escapeLike(strings.ToLower(part))+"%") + ` ESCAPE '\'`
	}
	if f.TargetContains != "" {
		where = append(where, contains("target", f.TargetContains))
	}
	if f.ActorContains != "" {
		where = append(where, contains("actor", f.ActorContains))
	}
	if f.BeforeID > 0 {
		where = append(where, `id < `+arg(f.BeforeID))
	}
	q := `SELECT id, at, actor, kind, action, target, connection_id, result, detail, miro_answer FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY id DESC`
	if f.Limit > 0 {
		q += ` LIMIT ` + arg(f.Limit)
	}
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: audit entries: %w", err)
	}
	defer rows.Close()
	var out []roster.AuditEntry
	for rows.Next() {
		var (
			e    roster.AuditEntry
			conn sql.NullInt64
		)
		if err := rows.Scan(&e.ID, ts(&e.At), &e.Actor, &e.Kind, &e.Action, &e.Target, &conn, &e.Result,
			&e.Detail, &e.MiroAnswer); err != nil {
			return nil, fmt.Errorf("sqlstore: audit entries: %w", err)
		}
		e.ConnectionID = conn.Int64
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: audit entries: %w", err)
	}
	return out, nil
}
