package sqlstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

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
