package sqlstore

import (
	"context"
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

// activityAt is roster.Account.ActivityAt in SQL: the later of the last
// activity and the license's assignment, or first sight where Miro gives
// neither.
const activityAt = `(CASE WHEN a.last_activity_at IS NULL THEN COALESCE(a.license_assigned_at, a.first_seen_at)
	WHEN a.license_assigned_at IS NULL OR a.last_activity_at >= a.license_assigned_at THEN a.last_activity_at
	ELSE a.license_assigned_at END)`

// inactiveSQL is roster.Account.Inactive in SQL, the one inactivity rule:
// usage known (license_exact: the organization API described the account)
// and activityAt before cutoff, a placeholder. A NULL cutoff makes no one
// inactive.
func inactiveSQL(cutoff string) string {
	return `(a.license_exact AND ` + activityAt + ` < ` + cutoff + `)`
}

// activeSQL is its complement among accounts whose usage is known; usage
// unknown is neither active nor inactive.
func activeSQL(cutoff string) string {
	return `(a.license_exact AND ` + activityAt + ` >= ` + cutoff + `)`
}

// Overview counts the accounts not left in one consistent read: one
// grouped scan of the accounts_overview index (a few dozen groups, summed
// here) and one sum of seats.
func (db *DB) Overview(ctx context.Context, inactiveBefore time.Time) (roster.Overview, error) {
	o := roster.Overview{ByLicense: map[string]int{}}
	tx, err := db.db.BeginTx(ctx, db.dialect.readTx)
	if err != nil {
		return o, fmt.Errorf("sqlstore: overview: %w", err)
	}
	defer tx.Rollback()

	// Grouping by the index's leading columns, in its order, needs no
	// sort. A zero inactiveBefore binds NULL and then no one is active or
	// inactive: the comparison is unknown, not true.
	rows, err := tx.QueryContext(ctx, `SELECT a.active, a.license, a.org_role, a.license_exact,
		COUNT(*), COUNT(a.last_activity_at), COUNT(CASE WHEN `+activeSQL("$1")+` THEN 1 END),
		COUNT(CASE WHEN `+inactiveSQL("$1")+` THEN 1 END)
		FROM accounts a WHERE a.left_at IS NULL
		GROUP BY a.active, a.license, a.org_role, a.license_exact`, tv(inactiveBefore))
	if err != nil {
		return o, fmt.Errorf("sqlstore: overview: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			active, exact                     bool
			license, role                     string
			n, everActive, activeN, inactiveN int
		)
		if err := rows.Scan(&active, &license, &role, &exact, &n, &everActive, &activeN, &inactiveN); err != nil {
			return o, fmt.Errorf("sqlstore: overview: %w", err)
		}
		o.Accounts += n
		if !exact {
			o.Inferred += n
		}
		switch role {
		case roster.OrgRoleTeamGuest:
			o.Guests += n
		case roster.OrgRoleExternalUser:
			o.External += n
		}
		if !active {
			o.Deactivated += n
			continue
		}
		o.ByLicense[license] += n
		o.NeverActive += n - everActive
		if !exact {
			o.UsageUnknown += n
		}
		if license == roster.LicenseFull {
			o.FullAssigned += n
			o.FullActive += activeN
			o.FullInactive += inactiveN
			if !exact {
				o.FullUsageUnknown += n
			}
		}
	}
	if err := rows.Err(); err != nil {
		return o, fmt.Errorf("sqlstore: overview: %w", err)
	}

	err = tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(full_licenses_purchased), 0) FROM organizations`).Scan(&o.SeatsBought)
	if err != nil {
		return o, fmt.Errorf("sqlstore: overview: seats: %w", err)
	}
	return o, nil
}

// Trend lists the points of the last limit successful syncs (all when
// limit is 0), oldest first.
func (db *DB) Trend(ctx context.Context, limit int) ([]roster.TrendPoint, error) {
	if limit < 0 {
		return nil, fmt.Errorf("sqlstore: trend: negative limit %d: %w", limit, store.ErrInvalid)
	}
	q := `SELECT sync_run_id, at, accounts, full_assigned, full_active FROM trend_points ORDER BY at DESC, sync_run_id DESC`
	var args []any
	if limit > 0 {
		q += ` LIMIT $1`
		args = append(args, limit)
	}
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: trend: %w", err)
	}
	defer rows.Close()
	var out []roster.TrendPoint
	for rows.Next() {
		var p roster.TrendPoint
		if err := rows.Scan(&p.SyncRunID, ts(&p.At), &p.Accounts, &p.FullAssigned, &p.FullActive); err != nil {
			return nil, fmt.Errorf("sqlstore: trend: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: trend: %w", err)
	}
	slices.Reverse(out)
	return out, nil
}

// Team stats page limits.
const (
	defaultTeamPageSize = 50
	maxTeamPageSize     = 500
)

// teamCursor is what a team stats NextCursor encodes: the last team's name
// and id, the keyset of the teams_name index. Base64url JSON, opaque, not
// secret; both values are bound as parameters.
type teamCursor struct {
	Name string `json:"n"`
	ID   string `json:"i"`
}

func encodeTeamCursor(c teamCursor) string {
	b, _ := json.Marshal(c) // strings cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeTeamCursor(s string) (teamCursor, error) {
	var c teamCursor
	if err := decodeOpaque(s, &c); err != nil || c.ID == "" || notText(c.Name, c.ID) {
		return c, fmt.Errorf("cursor is malformed: %w", store.ErrInvalid)
	}
	return c, nil
}

// TeamStats is one page of teams by (name, miro_team_id) with each team's
// members (accounts not left, any role), admins (of them), licensed
// members (active, full license, not left) and those of them inactive
// before q.InactiveBefore or never active. ConnectionID is the
// lowest-numbered connection covering the team, 0 for none.
//
// The page's teams come first, a range of the teams_name index from the
// cursor on; then only their memberships are counted (the memberships
// primary key leads with the team id), so a page costs the same on any
// depth, whatever the number of teams.
func (db *DB) TeamStats(ctx context.Context, q store.TeamStatsQuery) (store.TeamStatsPage, error) {
	page, err := db.teamStats(ctx, q)
	if err != nil {
		return store.TeamStatsPage{}, fmt.Errorf("sqlstore: team stats: %w", err)
	}
	return page, nil
}

func (db *DB) teamStats(ctx context.Context, q store.TeamStatsQuery) (store.TeamStatsPage, error) {
	var page store.TeamStatsPage
	limit, err := pageLimit(q.Limit, defaultTeamPageSize, maxTeamPageSize)
	if err != nil {
		return page, err
	}
	var (
		where []string
		args  params
	)
	arg := args.add
	if search := strings.TrimSpace(q.Search); search != "" {
		where = append(where, `LOWER(t.name) LIKE `+arg("%"+escapeLike(strings.ToLower(search))+"%")+` ESCAPE '\'`)
	}
	count := `SELECT COUNT(*) FROM teams t`
	if len(where) > 0 {
		count += ` WHERE ` + strings.Join(where, ` AND `)
	}
	countArgs := slices.Clone(args)
	if q.Cursor != "" {
		c, err := decodeTeamCursor(q.Cursor)
		if err != nil {
			return page, err
		}
		where = append(where, `(t.name, t.miro_team_id) > (`+arg(c.Name)+`, `+arg(c.ID)+`)`)
	}
	if notText(q.Search) {
		return page, nil
	}
	query := `SELECT t.miro_team_id, t.org_id, t.name FROM teams t`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	// One row more than the page tells whether another page follows.
	query += ` ORDER BY t.name, t.miro_team_id LIMIT ` + arg(limit+1)

	// One read transaction: the page, its counts and its total agree.
	tx, err := db.db.BeginTx(ctx, db.dialect.readTx)
	if err != nil {
		return page, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		var s roster.TeamStat
		if err := rows.Scan(&s.Team.MiroTeamID, &s.Team.OrgID, &s.Team.Name); err != nil {
			return page, err
		}
		page.Teams = append(page.Teams, s)
	}
	if err := rows.Err(); err != nil {
		return page, err
	}
	rows.Close()
	if len(page.Teams) > limit {
		page.Teams = page.Teams[:limit]
		last := page.Teams[limit-1].Team
		page.NextCursor = encodeTeamCursor(teamCursor{Name: last.Name, ID: last.MiroTeamID})
	}
	if err := tx.QueryRowContext(ctx, count, countArgs...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("count: %w", err)
	}
	if len(page.Teams) == 0 {
		return page, nil
	}

	byID := make(map[string]*roster.TeamStat, len(page.Teams))
	ids := make([]any, 0, len(page.Teams)+2)
	ids = append(ids, roster.LicenseFull, tv(q.InactiveBefore))
	params := make([]string, 0, len(page.Teams))
	for i := range page.Teams {
		s := &page.Teams[i]
		byID[s.Team.MiroTeamID] = s
		ids = append(ids, s.Team.MiroTeamID)
		params = append(params, "$"+strconv.Itoa(len(ids)))
	}
	in := `(` + strings.Join(params, `, `) + `)`
	// The connections' query binds the ids alone, from $1.
	connParams := make([]string, len(page.Teams))
	for i := range connParams {
		connParams[i] = "$" + strconv.Itoa(i+1)
	}

	// Left accounts count nowhere; Licensed and Inactive also need the
	// account active (not deactivated) on a full license; Inactive is the
	// one rule (inactiveSQL). A zero InactiveBefore binds NULL: no one is
	// inactive then.
	rows, err = tx.QueryContext(ctx, `SELECT m.miro_team_id,
		COUNT(*),
		COUNT(CASE WHEN m.role = 'admin' THEN 1 END),
		COUNT(CASE WHEN a.active AND a.license = $1 THEN 1 END),
		COUNT(CASE WHEN a.active AND a.license = $1 AND `+inactiveSQL("$2")+` THEN 1 END)
		FROM memberships m
		JOIN accounts a ON a.id = m.account_id AND a.left_at IS NULL
		WHERE m.miro_team_id IN `+in+`
		GROUP BY m.miro_team_id`, ids...)
	if err != nil {
		return page, fmt.Errorf("counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id                                  string
			members, admins, licensed, inactive int
		)
		if err := rows.Scan(&id, &members, &admins, &licensed, &inactive); err != nil {
			return page, fmt.Errorf("counts: %w", err)
		}
		if s := byID[id]; s != nil {
			s.Members, s.Admins, s.Licensed, s.Inactive = members, admins, licensed, inactive
		}
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("counts: %w", err)
	}
	rows.Close()

	rows, err = tx.QueryContext(ctx, `SELECT ct.miro_team_id, MIN(ct.connection_id) FROM connection_teams ct
		WHERE ct.miro_team_id IN (`+strings.Join(connParams, `, `)+`) GROUP BY ct.miro_team_id`, ids[2:]...)
	if err != nil {
		return page, fmt.Errorf("connections: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id   string
			conn int64
		)
		if err := rows.Scan(&id, &conn); err != nil {
			return page, fmt.Errorf("connections: %w", err)
		}
		if s := byID[id]; s != nil {
			s.ConnectionID = conn
		}
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("connections: %w", err)
	}
	return page, nil
}

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
