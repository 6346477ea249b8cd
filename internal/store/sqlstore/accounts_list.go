package sqlstore

// The users list: keyset paging over a whitelist of sorts, its cursors
// and filters (ListAccounts). The overview, trend and team stats are in
// insights.go.

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
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
// from the caller. Each has an index ending in id (00002_operate.sql;
// display_name's in 00009_search.sql).
type accountSort struct {
	cols  []string // string columns, compared as a row value
	time  bool     // last_activity_at, which may be NULL
	index string   // the index in the sort's order
}

var accountSorts = map[string]accountSort{
	"email":         {cols: []string{"a.email"}, index: "accounts_email"},
	"name":          {cols: []string{"a.display_name"}, index: "accounts_display_name"}, // the name the list shows
	"license":       {cols: []string{"a.license", "a.email"}, index: "accounts_license_email"},
	"last_activity": {time: true, index: "accounts_last_activity_at"},
}

// sqliteWalkFrom is the total from which a page on SQLite walks its
// sort's index. SQLite keeps no statistics: it takes any filter with an
// index (an organization, a license, never active) to be selective, reads
// every row that passes it and sorts them, 100,000 for an organization
// that holds everyone. Walking the sort's index instead stops after a
// page: about limit × accounts ÷ total rows, a few thousand at most from
// here on. Below it, the filters' indexes find the few rows quicker.
// PostgreSQL has statistics and chooses itself.
const sqliteWalkFrom = 1000

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
	if q.Org != "" {
		where = append(where, `a.org_id = `+arg(q.Org))
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
		// activeSQL and inactiveSQL on the stored activity_at (00009_search.sql),
		// so that the accounts_filters index holds the range.
		op := ` >= `
		if q.Activity == "inactive" {
			op = ` < `
		}
		where = append(where, `a.license_exact = TRUE AND a.activity_at`+op+arg(tv(q.ActiveSince)))
	case "never":
		// No cut-off: never active is a fact, not a period. Only where
		// usage is known: a team-level connection reports no activity.
		where = append(where, `a.license_exact = TRUE AND a.last_activity_at IS NULL`)
	case "unknown":
		where = append(where, `a.license_exact = FALSE`)
	case "idle":
		if q.ActiveSince.IsZero() || q.UsedSince.IsZero() {
			return page, fmt.Errorf("activity %q needs ActiveSince and UsedSince: %w", q.Activity, store.ErrInvalid)
		}
		where = append(where, `a.license_exact = TRUE AND a.activity_at >= `+arg(tv(q.ActiveSince))+
			` AND a.activity_at < `+arg(tv(q.UsedSince)))
	default:
		return page, fmt.Errorf("activity %q is not active, inactive, never, unknown or idle: %w", q.Activity, store.ErrInvalid)
	}
	switch q.Directory {
	case "":
	case "left":
		where = append(where, `a.id IN (`+leaverIDs+`)`)
	case "not_left":
		where = append(where, `a.id NOT IN (`+leaverIDs+`)`)
	default:
		return page, fmt.Errorf("directory %q is neither left nor not_left: %w", q.Directory, store.ErrInvalid)
	}
	if q.Guests {
		where = append(where, `a.org_role IN (`+arg(roster.OrgRoleTeamGuest)+`, `+arg(roster.OrgRoleExternalUser)+`)`)
	}
	if q.Members {
		if q.Guests {
			return page, store.AccountQuery{Guests: true, Members: true}.Check()
		}
		where = append(where, `a.org_role NOT IN (`+arg(roster.OrgRoleTeamGuest)+`, `+arg(roster.OrgRoleExternalUser)+`)`)
	}
	switch q.Status {
	case "":
	case "active": // an equality, which an index takes
		where = append(where, `a.active = TRUE`)
	case "deactivated":
		where = append(where, `a.active = FALSE`)
	default:
		return page, fmt.Errorf("status %q is neither active nor deactivated: %w", q.Status, store.ErrInvalid)
	}
	if !q.IncludeLeft {
		where = append(where, `a.left_at IS NULL`)
	}

	var cursor *listCursor
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor, q.Sort, q.Desc)
		if err != nil {
			return page, err
		}
		cursor = &c
	}
	if notText(q.Search, q.Org, q.License, q.OrgRole, q.MiroTeamID) {
		return page, nil
	}

	// One read transaction: the page and its total agree, and SQLite's
	// single connection is taken once.
	tx, err := db.db.BeginTx(ctx, db.dialect.readTx)
	if err != nil {
		return page, err
	}
	defer tx.Rollback()
	if db.dialect.name == "postgres" {
		// Plan each query for its values: a statement prepared once and
		// planned for any pattern would read a two-character search, which
		// no trigram narrows, through the whole trigram index (six times
		// slower than a scan), and any organization as if it were small.
		if _, err := tx.ExecContext(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`); err != nil {
			return page, err
		}
	}
	// Outer spaces would match the one between every email and name.
	if search := strings.TrimSpace(q.Search); search != "" {
		cond, err := db.searchSQL(ctx, tx, strings.ToLower(search), arg)
		if err != nil {
			return page, fmt.Errorf("search: %w", err)
		}
		where = append(where, cond)
	}

	// The total ignores the cursor: it is the same on every page. It comes
	// first: it tells SQLite's page how to read (sqliteWalkFrom). A
	// search's stops past store.SearchCountLimit.
	count := `SELECT COUNT(*) FROM accounts a`
	if len(where) > 0 {
		count += ` WHERE ` + strings.Join(where, ` AND `)
	}
	searching := strings.TrimSpace(q.Search) != ""
	if searching {
		count = `SELECT COUNT(*) FROM (` + strings.Replace(count, `COUNT(*)`, `1`, 1) +
			` LIMIT ` + strconv.Itoa(store.SearchCountLimit+1) + `) c`
	}
	if err := tx.QueryRowContext(ctx, count, args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("count: %w", err)
	}
	if searching && page.Total > store.SearchCountLimit {
		page.Total, page.TotalMore = store.SearchCountLimit, true
	}
	if cursor != nil {
		where = append(where, keysetAfter(srt, *cursor, q.Desc, arg))
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

	query := accountDisplaySelect
	// Except by last activity among the never active, who are one end of
	// that index, which SQLite reads them by.
	if db.dialect.name == "sqlite" && page.Total >= sqliteWalkFrom && !(srt.time && q.Activity == "never") {
		query += ` INDEXED BY ` + srt.index
	}
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	// One row more than the page tells whether another page follows.
	query += ` ORDER BY ` + strings.Join(order, `, `) + ` LIMIT ` + arg(limit+1)
	err = queryAccounts(ctx, tx, query, args, func(a roster.Account) { page.Accounts = append(page.Accounts, a) })
	if err != nil {
		return page, err
	}
	if len(page.Accounts) > limit {
		page.Accounts = page.Accounts[:limit]
		last := page.Accounts[limit-1]
		c := listCursor{Sort: q.Sort, Desc: q.Desc, ID: last.ID}
		for _, col := range srt.cols {
			switch col {
			case "a.email":
				c.Keys = append(c.Keys, last.Email)
			case "a.display_name":
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

// searchSQL is the condition "the email, Miro's name or the directory's
// name holds s", s lower-cased as search and dir_search are (by Go, not
// by the database).
//
// On SQLite a search of three characters or more is a phrase of the
// trigram index (accounts_search, 00009_search.sql): FTS5 finds a phrase
// in the index alone, where its LIKE would recheck every candidate row.
// But a phrase that most rows hold (the company's domain) lists tens of
// thousands of rows to look up one by one, which reading every row beats:
// the first sqliteSearchSample matches, in rowid order, tell which. A
// shorter search reads every row. PostgreSQL's planner takes LIKE to its
// trigram indexes, or not, itself.
func (db *DB) searchSQL(ctx context.Context, tx *sql.Tx, s string, arg func(any) string) (string, error) {
	like := func() string {
		p := arg("%" + escapeLike(s) + "%")
		return `(a.search LIKE ` + p + ` ESCAPE '\' OR a.dir_search LIKE ` + p + ` ESCAPE '\')`
	}
	if db.dialect.name != "sqlite" || utf8.RuneCountInString(s) < 3 {
		return like(), nil
	}
	phrase := `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	var n, last sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*), MAX(rowid) FROM (SELECT rowid FROM accounts_search
		WHERE accounts_search MATCH $1 LIMIT $2)`, phrase, sqliteSearchSample).Scan(&n, &last)
	if err != nil {
		return "", err
	}
	if n.Int64 == sqliteSearchSample && n.Int64*4 > last.Int64 {
		return like(), nil // more than a quarter of the rows so far
	}
	return `a.id IN (SELECT rowid FROM accounts_search WHERE accounts_search MATCH ` + arg(phrase) + `)`, nil
}

// sqliteSearchSample is how many matches of a search SQLite reads to
// judge how many rows hold it.
const sqliteSearchSample = 2000

// escapeLike makes s match itself in a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
