package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"roster"
	"roster/internal/store"
)

// ActionsFor lists the actions on one person, newest first: those naming
// the Miro user id, and those naming the email (an invite of someone roster
// did not know yet names only the email). Each half reads its own index
// (00018_person_history.sql), so a person's history costs the same at any
// size of the actions table.
func (db *DB) ActionsFor(ctx context.Context, miroUserID, email string, limit int) ([]roster.Action, error) {
	limit, err := pageLimit(limit, 50, 500)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: actions for %s: %w", cmp.Or(miroUserID, email), err)
	}
	var (
		args   params
		halves []string
	)
	if miroUserID != "" {
		halves = append(halves, `SELECT id FROM actions WHERE miro_user_id = `+args.add(miroUserID))
	}
	if email = roster.NormalizeEmail(email); email != "" {
		halves = append(halves, `SELECT id FROM actions WHERE email = `+args.add(email))
	}
	if len(halves) == 0 {
		return nil, fmt.Errorf("sqlstore: actions for a person: neither a Miro user id nor an email: %w", store.ErrInvalid)
	}
	rows, err := db.db.QueryContext(ctx, `SELECT `+actionColumns+` FROM actions WHERE id IN (`+
		strings.Join(halves, " UNION ")+`) ORDER BY id DESC LIMIT `+args.add(limit), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: actions for %s: %w", cmp.Or(miroUserID, email), err)
	}
	defer rows.Close()
	var out []roster.Action
	for rows.Next() {
		a, err := scanAction(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: actions for %s: %w", cmp.Or(miroUserID, email), err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: actions for %s: %w", cmp.Or(miroUserID, email), err)
	}
	return out, nil
}

// PersonEventsFor lists one directory person's joined and left events,
// newest first.
func (db *DB) PersonEventsFor(ctx context.Context, personID int64, limit int) ([]roster.PersonEvent, error) {
	limit, err := pageLimit(limit, 50, 500)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: events of person %d: %w", personID, err)
	}
	rows, err := db.db.QueryContext(ctx, `SELECT id, person_id, email, kind, at FROM person_events
		WHERE person_id = $1 ORDER BY id DESC LIMIT $2`, personID, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: events of person %d: %w", personID, err)
	}
	defer rows.Close()
	var out []roster.PersonEvent
	for rows.Next() {
		var e roster.PersonEvent
		if err := rows.Scan(&e.ID, &e.PersonID, &e.Email, &e.Kind, ts(&e.At)); err != nil {
			return nil, fmt.Errorf("sqlstore: events of person %d: %w", personID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: events of person %d: %w", personID, err)
	}
	return out, nil
}
