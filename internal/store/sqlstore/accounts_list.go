package sqlstore

// The users list: keyset paging over a whitelist of sorts, its cursors
// and filters (ListAccounts). The overview, trend and team stats are in
// insights.go.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"roster"
	"roster/internal/store"
)

// Users list limits.
const (
	defaultPageSize = 50
	maxPageSize     = 1000
)

// accountSort is one sort of the users list: the columns it orders by,
// before the id that breaks ties. They come from this whitelist only, never
// from the caller. Each has an index ending in id (00002_operate.sql).
type accountSort struct {
	cols []string // string columns, compared as a row value
	time bool     // last_activity_at, which may be NULL
}

var accountSorts = map[string]accountSort{
	"email":         {cols: []string{"a.email"}},
	"name":          {cols: []string{"a.name"}},
	"license":       {cols: []string{"a.license", "a.email"}},
	"last_activity": {time: true},
}

// listCursor is what a NextCursor encodes: the sort it belongs to and the
// last row's sort key and id. It travels as base64url JSON; it is opaque,
// not secret, and every value in it is bound as a parameter.
type listCursor struct {
	Sort string     `json:"s"`
	Desc bool       `json:"d,omitempty"`
	Keys []string   `json:"k,omitempty"` // the string sort columns' values
	At   *time.Time `json:"t,omitempty"` // last_activity: nil is never
	ID   int64      `json:"i"`
}

// decodeOpaque reads a base64url JSON cursor into v strictly: unknown
// fields or trailing data make it malformed, whichever list it is for.
func decodeOpaque(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}

// notText reports whether a string is not UTF-8 or holds a NUL, which
// no stored text does and PostgreSQL refuses as a parameter: a cursor
// holding one is malformed, and a search, filter or lookup holding one
// matches nothing.
func notText(ss ...string) bool {
	return slices.ContainsFunc(ss, func(s string) bool { return !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 })
}

func encodeCursor(c listCursor) string {
	b, _ := json.Marshal(c) // cannot fail: strings, a time and ints
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor parses s for the sort and direction of the query it came
// with; anything else is ErrInvalid.
func decodeCursor(s, sort string, desc bool) (listCursor, error) {
	var c listCursor
	if err := decodeOpaque(s, &c); err != nil {
		return c, fmt.Errorf("cursor is malformed: %w", store.ErrInvalid)
	}
	srt := accountSorts[sort]
	switch {
	case c.Sort != sort || c.Desc != desc:
		return c, fmt.Errorf("cursor belongs to another sort order: %w", store.ErrInvalid)
	case c.ID <= 0 || len(c.Keys) != len(srt.cols) || (!srt.time && c.At != nil) || notText(c.Keys...):
		return c, fmt.Errorf("cursor is malformed: %w", store.ErrInvalid)
	case c.At != nil && (c.At.IsZero() || c.At.UTC().Year() > 9999):
		// The zero time is NULL to the store, and SQLite's text order
		// holds for four-digit years only; no page ends on either.
		return c, fmt.Errorf("cursor is malformed: %w", store.ErrInvalid)
	}
	return c, nil
}

// ListAccounts is the users page: search, filters, a sort with keyset
// paging, and the total matching. Each page is an index range scan from
// the cursor on, so a deep page costs what the first does.
func (db *DB) ListAccounts(ctx context.Context, q store.AccountQuery) (store.AccountPage, error) {
	page, err := db.listAccounts(ctx, q)
	if err != nil {
		return store.AccountPage{}, fmt.Errorf("sqlstore: list accounts: %w", err)
	}
	return page, nil
}

func (db *DB) listAccounts(ctx context.Context, q store.AccountQuery) (store.AccountPage, error) {
	var page store.AccountPage
	if q.Sort == "" {
		q.Sort = "email"
	}
	srt, ok := accountSorts[q.Sort]
	if !ok {
		return page, fmt.Errorf("unknown sort %q (email, name, license or last_activity): %w", q.Sort, store.ErrInvalid)
	}
	limit, err := pageLimit(q.Limit, defaultPageSize, maxPageSize)
	if err != nil {
		return page, err
	}

	var (
		where []string
		args  params
	)
	arg := args.add
	// Outer spaces would match the one between every email and name.
	if search := strings.TrimSpace(q.Search); search != "" {
		where = append(where, `a.search LIKE `+arg("%"+escapeLike(strings.ToLower(search))+"%")+` ESCAPE '\'`)
	}
	if q.License != "" {
		where = append(where, `a.license = `+arg(q.License))
	}
	if q.OrgRole != "" {
		where = append(where, `a.org_role = `+arg(q.OrgRole))
	}
	if q.MiroTeamID != "" {
		// A team is small: its members first, then their accounts.
		where = append(where, `a.id IN (SELECT m.account_id FROM memberships m WHERE m.miro_team_id = `+arg(q.MiroTeamID)+`)`)
	}
	if q.ConnectionID != 0 {
		// A connection often sees everyone: walk the sort's index and
		// check each row, which stops at a page.
		where = append(where, `EXISTS (SELECT 1 FROM connection_accounts v WHERE v.account_id = a.id AND v.connection_id = `+arg(q.ConnectionID)+`)`)
	}
	switch q.Activity {
	case "":
	case "active", "inactive":
		if q.ActiveSince.IsZero() {
			return page, fmt.Errorf("activity %q needs ActiveSince: %w", q.Activity, store.ErrInvalid)
		}
		if q.Activity == "active" {
			where = append(where, activeSQL(arg(tv(q.ActiveSince))))
		} else {
			where = append(where, inactiveSQL(arg(tv(q.ActiveSince))))
		}
	case "never":
		// No cut-off: never active is a fact, not a period.
		where = append(where, `a.last_activity_at IS NULL`)
	default:
		return page, fmt.Errorf("activity %q is not active, inactive or never: %w", q.Activity, store.ErrInvalid)
	}
	if q.Guests {
		where = append(where, `a.org_role IN (`+arg(roster.OrgRoleTeamGuest)+`, `+arg(roster.OrgRoleExternalUser)+`)`)
	}
	switch q.Status {
	case "":
	case "active":
		where = append(where, `a.active`)
	case "deactivated":
		where = append(where, `NOT a.active`)
	default:
		return page, fmt.Errorf("status %q is neither active nor deactivated: %w", q.Status, store.ErrInvalid)
	}
	if !q.IncludeLeft {
		where = append(where, `a.left_at IS NULL`)
	}

	// The total ignores the cursor: it is the same on every page.
	count := `SELECT COUNT(*) FROM accounts a`
	if len(where) > 0 {
		count += ` WHERE ` + strings.Join(where, ` AND `)
	}
	countArgs := slices.Clone(args)

	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor, q.Sort, q.Desc)
		if err != nil {
			return page, err
		}
		where = append(where, keysetAfter(srt, c, q.Desc, arg))
	}
	if notText(q.Search, q.License, q.OrgRole, q.MiroTeamID) {
		return page, nil
	}
	dir := ` ASC`
	if q.Desc {
		dir = ` DESC`
	}
	var order []string
	if srt.time {
		// Never active is the oldest: first ascending, last descending,
		// on both dialects (each default differs).
		if q.Desc {
			order = append(order, `a.last_activity_at DESC NULLS LAST`)
		} else {
			order = append(order, `a.last_activity_at ASC NULLS FIRST`)
		}
	}
	for _, col := range srt.cols {
		order = append(order, col+dir)
	}
	order = append(order, `a.id`+dir)

	query := accountSelect
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	// One row more than the page tells whether another page follows.
	query += ` ORDER BY ` + strings.Join(order, `, `) + ` LIMIT ` + arg(limit+1)

	// One read transaction: the page and its total agree, and SQLite's
	// single connection is taken once.
	tx, err := db.db.BeginTx(ctx, db.dialect.readTx)
	if err != nil {
		return page, err
	}
	defer tx.Rollback()
	err = queryAccounts(ctx, tx, query, args, func(a roster.Account) { page.Accounts = append(page.Accounts, a) })
	if err != nil {
		return page, err
	}
	if err := tx.QueryRowContext(ctx, count, countArgs...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("count: %w", err)
	}
	if len(page.Accounts) > limit {
		page.Accounts = page.Accounts[:limit]
		last := page.Accounts[limit-1]
		c := listCursor{Sort: q.Sort, Desc: q.Desc, ID: last.ID}
		for _, col := range srt.cols {
			switch col {
			case "a.email":
				c.Keys = append(c.Keys, last.Email)
			case "a.name":
				c.Keys = append(c.Keys, last.Name)
			case "a.license":
				c.Keys = append(c.Keys, last.License)
			}
		}
		if srt.time && !last.LastActivityAt.IsZero() {
			at := last.LastActivityAt
			c.At = &at
		}
		page.NextCursor = encodeCursor(c)
	}
	return page, nil
}

// keysetAfter is the condition "after the cursor's row" in the sort's
// order. String sorts compare row values, (key..., id) > ($k..., $id),
// which both dialects use as an index range. The activity sort treats
// NULL (never) as older than any time.
func keysetAfter(srt accountSort, c listCursor, desc bool, arg func(any) string) string {
	op := ` > `
	if desc {
		op = ` < `
	}
	if !srt.time {
		params := make([]string, 0, len(c.Keys)+1)
		for _, k := range c.Keys {
			params = append(params, arg(k))
		}
		params = append(params, arg(c.ID))
		return `(` + strings.Join(srt.cols, `, `) + `, a.id)` + op + `(` + strings.Join(params, `, `) + `)`
	}
	id := arg(c.ID)
	switch {
	case c.At == nil && !desc: // among the never active, then every dated row
		return `((a.last_activity_at IS NULL AND a.id > ` + id + `) OR a.last_activity_at IS NOT NULL)`
	case c.At == nil && desc: // the never active come last
		return `(a.last_activity_at IS NULL AND a.id < ` + id + `)`
	case !desc: // NULL compares unknown: the never active are left behind
		return `(a.last_activity_at, a.id) > (` + arg(tv(*c.At)) + `, ` + id + `)`
	default:
		return `((a.last_activity_at, a.id) < (` + arg(tv(*c.At)) + `, ` + id + `) OR a.last_activity_at IS NULL)`
	}
}

// escapeLike makes s match itself in a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
