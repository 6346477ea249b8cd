package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
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

// idleSQL is active by the inactivity rule (cut-off inactive) but not in
// use since used: the activity rule's time (activityAt), so a license
// assigned after used is in use.
func idleSQL(inactive, used string) string {
	return `(` + activeSQL(inactive) + ` AND ` + activityAt + ` < ` + used + `)`
}

// Overview counts the accounts not left, per organization, in one
// consistent read: one grouped scan of the accounts_overview index (a few
// dozen groups per organization, summed here), the leavers (accounts the
// directory says left, through its email index), and the organizations.
func (db *DB) Overview(ctx context.Context, q store.OverviewQuery) (roster.Overview, error) {
	o := roster.Overview{ByLicense: map[string]int{}}
	tx, err := db.db.BeginTx(ctx, db.dialect.readTx)
	if err != nil {
		return o, fmt.Errorf("sqlstore: overview: %w", err)
	}
	defer tx.Rollback()
	orgs, err := overviewOrgs(ctx, tx)
	if err != nil {
		return o, fmt.Errorf("sqlstore: overview: organizations: %w", err)
	}
	org := func(id string) *roster.OrgOverview {
		if _, ok := orgs[id]; !ok {
			orgs[id] = &roster.OrgOverview{OrgID: id, Licenses: map[string]roster.LicenseCount{}}
		}
		return orgs[id]
	}

	// Grouping by the index's leading columns, in its order, needs no
	// sort. A zero cut-off binds NULL and then no one is active or
	// inactive: the comparison is unknown, not true.
	rows, err := tx.QueryContext(ctx, `SELECT a.org_id, a.active, a.license, a.org_role, a.license_exact,
		COUNT(*), COUNT(a.last_activity_at), COUNT(CASE WHEN `+activeSQL("$1")+` THEN 1 END),
		COUNT(CASE WHEN `+inactiveSQL("$1")+` THEN 1 END),
		COUNT(CASE WHEN a.license_exact AND a.last_activity_at >= $2 THEN 1 END),
		COUNT(CASE WHEN `+idleSQL("$1", "$2")+` THEN 1 END)
		FROM accounts a WHERE a.left_at IS NULL
		GROUP BY a.org_id, a.active, a.license, a.org_role, a.license_exact`, tv(q.InactiveBefore), tv(q.UsedSince))
	if err != nil {
		return o, fmt.Errorf("sqlstore: overview: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			orgID, license, role                                    string
			active, exact                                           bool
			n, everActive, activeN, inactiveN, usedMonth, idleMonth int
		)
		if err := rows.Scan(&orgID, &active, &license, &role, &exact, &n, &everActive, &activeN, &inactiveN, &usedMonth, &idleMonth); err != nil {
			return o, fmt.Errorf("sqlstore: overview: %w", err)
		}
		g := org(orgID)
		g.Accounts += n
		if !exact {
			g.Inferred += n
		}
		switch role {
		case roster.OrgRoleTeamGuest:
			g.Guests += n
		case roster.OrgRoleExternalUser:
			g.External += n
		}
		if !active {
			g.Deactivated += n
			continue
		}
		lc := g.Licenses[license]
		lc.Assigned += n
		lc.Active += activeN
		lc.Inactive += inactiveN
		lc.UsedThisMonth += usedMonth
		lc.NotUsedThisMonth += idleMonth
		if exact {
			g.NeverActive += n - everActive
		} else {
			g.UsageUnknown += n
			lc.UsageUnknown += n
		}
		g.Licenses[license] = lc
	}
	if err := rows.Err(); err != nil {
		return o, fmt.Errorf("sqlstore: overview: %w", err)
	}
	rows.Close()

	if err := overviewLeavers(ctx, tx, q.InactiveBefore, org); err != nil {
		return o, fmt.Errorf("sqlstore: overview: leavers: %w", err)
	}
	for _, g := range orgs {
		o.Orgs = append(o.Orgs, *g)
		addOrg(&o, g)
	}
	slices.SortFunc(o.Orgs, func(a, b roster.OrgOverview) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.OrgID, b.OrgID))
	})
	return o, nil
}

// addOrg adds one organization's counts to the totals.
func addOrg(o *roster.Overview, g *roster.OrgOverview) {
	o.Accounts += g.Accounts
	o.Deactivated += g.Deactivated
	o.SeatsBought += g.SeatsFromMiro
	o.UsageUnknown += g.UsageUnknown
	o.NeverActive += g.NeverActive
	o.Guests += g.Guests
	o.External += g.External
	o.Inferred += g.Inferred
	for l, c := range g.Licenses {
		o.ByLicense[l] += c.Assigned
	}
	full := g.Licenses[roster.LicenseFull]
	o.FullAssigned += full.Assigned
	o.FullActive += full.Active
	o.FullInactive += full.Inactive
	o.FullUsageUnknown += full.UsageUnknown
}

// overviewOrgs are the organizations connections reach, keyed by Miro
// id: named by Miro's organization record, else by a connection; Exact
// when an organization-level connection covers one.
func overviewOrgs(ctx context.Context, tx *sql.Tx) (map[string]*roster.OrgOverview, error) {
	rows, err := tx.QueryContext(ctx, `SELECT c.org_id, c.level, c.org_name, c.team_name,
		COALESCE(o.name, ''), COALESCE(o.full_licenses_purchased, 0)
		FROM connections c LEFT JOIN organizations o ON o.miro_org_id = c.org_id
		ORDER BY c.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	orgs := map[string]*roster.OrgOverview{}
	for rows.Next() {
		var (
			id, level, orgName, teamName, miroName string
			seats                                  int
		)
		if err := rows.Scan(&id, &level, &orgName, &teamName, &miroName, &seats); err != nil {
			return nil, err
		}
		g, ok := orgs[id]
		if !ok {
			g = &roster.OrgOverview{OrgID: id, Licenses: map[string]roster.LicenseCount{}}
			orgs[id] = g
		}
		if roster.Level(level) == roster.LevelOrganization {
			g.Exact = true
			g.SeatsFromMiro = seats
		}
		switch {
		case miroName != "":
			g.Name = miroName
		case g.Name == "" && orgName != "":
			g.Name = orgName
		case g.Name == "" && id == "":
			g.Name = "Teams outside an organization"
		case g.Name == "":
			g.Name = teamName
		}
	}
	return orgs, rows.Err()
}

// leaverIDs are the ids of accounts whose email is a directory person's
// who left, or one of their aliases. It starts from the people who left
// (people_status), usually few, and finds accounts by their email index.
const leaverIDs = `SELECT l.id FROM people p JOIN accounts l ON l.email = lower(p.email) WHERE p.status = 'left'
	UNION SELECT l.id FROM people p JOIN person_aliases pa ON pa.person_id = p.id
		JOIN accounts l ON l.email = lower(pa.email) WHERE p.status = 'left'`

// overviewLeavers counts, per organization and license, the accounts not
// deactivated that the directory says left (by email or alias): they
// still hold a license.
func overviewLeavers(ctx context.Context, tx *sql.Tx, inactiveBefore time.Time, org func(string) *roster.OrgOverview) error {
	rows, err := tx.QueryContext(ctx, `SELECT a.org_id, a.license, COUNT(*), COUNT(CASE WHEN `+inactiveSQL("$1")+` THEN 1 END)
		FROM accounts a WHERE a.left_at IS NULL AND a.active AND a.id IN (`+leaverIDs+`)
		GROUP BY a.org_id, a.license`, tv(inactiveBefore))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			orgID, license string
			n, inactive    int
		)
		if err := rows.Scan(&orgID, &license, &n, &inactive); err != nil {
			return err
		}
		g := org(orgID)
		lc := g.Licenses[license]
		lc.Leavers += n
		lc.InactiveLeavers += inactive
		g.Licenses[license] = lc
	}
	return rows.Err()
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

// licenseDaysKept is how long daily license points are kept.
const licenseDaysKept = 2 * 365 * 24 * time.Hour

// writeLicenseDays records the accounts as a sync leaves them, per
// organization and license, as the point of the sync's day (UTC): the
// last sync of a day overwrites the day's earlier ones. One grouped scan
// of the accounts_overview index, whatever the diff.
func writeLicenseDays(ctx context.Context, tx *sql.Tx, at time.Time) error {
	today := day(at)
	if _, err := tx.ExecContext(ctx, `DELETE FROM license_days WHERE day = $1 OR day < $2`,
		today, day(at.Add(-licenseDaysKept))); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO license_days (day, org_id, license, purchased, assigned, active, inactive, usage_unknown)
		SELECT $1, a.org_id, a.license, 0, COUNT(*), COUNT(CASE WHEN `+activeSQL("$2")+` THEN 1 END),
			COUNT(CASE WHEN `+inactiveSQL("$2")+` THEN 1 END), COUNT(CASE WHEN NOT a.license_exact THEN 1 END)
		FROM accounts a WHERE a.left_at IS NULL AND a.active
		GROUP BY a.org_id, a.license`, today, tv(at.Add(-trendActivityWindow)))
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE license_days SET purchased = (SELECT o.full_licenses_purchased
			FROM organizations o WHERE o.miro_org_id = license_days.org_id)
		WHERE day = $1 AND license = $2 AND org_id IN (SELECT miro_org_id FROM organizations)`, today, roster.LicenseFull)
	return err
}

// teamLicensesSQL computes team_licenses for the organization $1. The
// team count of a member is a probe of memberships_account_id per
// membership, cheaper than joining a grouped count of every membership.
const teamLicensesSQL = `SELECT a.org_id, m.miro_team_id, a.license, COUNT(*),
		SUM(1.0 / (SELECT COUNT(*) FROM memberships x WHERE x.account_id = a.id))
	FROM accounts a JOIN memberships m ON m.account_id = a.id
	WHERE a.org_id = $1 AND a.left_at IS NULL AND a.active
	GROUP BY a.org_id, m.miro_team_id, a.license
	UNION ALL
	SELECT a.org_id, '', a.license, COUNT(*), COUNT(*) FROM accounts a
	WHERE a.org_id = $1 AND a.left_at IS NULL AND a.active
		AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.account_id = a.id)
	GROUP BY a.org_id, a.license`

// chargebackChanges are the change kinds that move a seat between teams,
// licenses or people: only a diff with one of them (or memberships, or
// leavers) recomputes team_licenses, so a sync that only saw activity
// does not pay for it.
var chargebackChanges = map[roster.ChangeKind]bool{
	roster.ChangeJoined: true, roster.ChangeLeft: true, roster.ChangeLicenseChanged: true,
	roster.ChangeDeactivated: true, roster.ChangeReactivated: true,
	roster.ChangeTeamJoined: true, roster.ChangeTeamLeft: true,
}

// movesSeats reports whether a diff (with left people marked left) can
// change the chargeback by team.
func movesSeats(d store.Diff, left int) bool {
	if left > 0 || len(d.Memberships) > 0 || len(d.RemovedMemberships) > 0 {
		return true
	}
	for _, c := range d.Changes {
		if chargebackChanges[c.Kind] {
			return true
		}
	}
	return false
}

// writeTeamLicenses recomputes one organization's chargeback by team, so
// that the page reads a thousand rows rather than group 300,000
// memberships. A sync that changed something calls it; actions' effects
// show from the next sync.
func writeTeamLicenses(ctx context.Context, tx *sql.Tx, orgID string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM team_licenses WHERE org_id = $1`, orgID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO team_licenses (org_id, miro_team_id, license, people, shares) `+teamLicensesSQL, orgID)
	return err
}

// LicenseDays lists the daily points of one organization (every one when
// orgID is ""), from since on, by day.
func (db *DB) LicenseDays(ctx context.Context, orgID string, since time.Time) ([]roster.LicenseDay, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT day, org_id, license, purchased, assigned, active, inactive, usage_unknown
		FROM license_days WHERE day >= $1 AND ($2 = '' OR org_id = $2) ORDER BY day, org_id, license`, day(since), orgID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: license days: %w", err)
	}
	defer rows.Close()
	var out []roster.LicenseDay
	for rows.Next() {
		var (
			d roster.LicenseDay
			s string
		)
		if err := rows.Scan(&s, &d.OrgID, &d.License, &d.Purchased, &d.Assigned, &d.Active, &d.Inactive, &d.UsageUnknown); err != nil {
			return nil, fmt.Errorf("sqlstore: license days: %w", err)
		}
		if d.Day, err = parseDay(s); err != nil {
			return nil, fmt.Errorf("sqlstore: license days: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: license days: %w", err)
	}
	return out, nil
}

// Chargeback groups one organization's accounts (not left, not
// deactivated) by team or by department, with the license seats each
// holds. By team, a person in n teams counts 1/n in each, and people in
// no team form a row of their own (Key ""), so rows add up to the
// organization. By department, people the directory does not know form
// the row with Key "". Rows are by name.
func (db *DB) Chargeback(ctx context.Context, q store.ChargebackQuery) ([]store.ChargebackRow, error) {
	var query string
	switch q.By {
	case store.ChargebackByTeam:
		// Kept at sync time (writeTeamLicenses).
		query = `SELECT k.miro_team_id, COALESCE(t.name, ''), k.license, k.people, k.shares
			FROM team_licenses k LEFT JOIN teams t ON t.miro_team_id = k.miro_team_id
			WHERE k.org_id = $1`
	case store.ChargebackByDepartment:
		// One probe of the people_email index per account.
		query = `SELECT d.department, d.department, d.license, COUNT(*), COUNT(*) FROM (
				SELECT COALESCE((SELECT p.department FROM people p WHERE lower(p.email) = lower(a.email)), '') AS department, a.license
				FROM accounts a WHERE a.org_id = $1 AND a.left_at IS NULL AND a.active) d
			GROUP BY d.department, d.license`
	default:
		return nil, fmt.Errorf("sqlstore: chargeback: group by %q, not team or department: %w", q.By, store.ErrInvalid)
	}
	rows, err := db.db.QueryContext(ctx, query, q.OrgID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: chargeback: %w", err)
	}
	defer rows.Close()
	byKey := map[string]*store.ChargebackRow{}
	for rows.Next() {
		var (
			key, name, license string
			n                  int
			share              float64
		)
		if err := rows.Scan(&key, &name, &license, &n, &share); err != nil {
			return nil, fmt.Errorf("sqlstore: chargeback: %w", err)
		}
		r, ok := byKey[key]
		if !ok {
			r = &store.ChargebackRow{Key: key, Name: name, Shares: map[string]float64{}}
			byKey[key] = r
		}
		r.People += n
		r.Shares[license] += share
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: chargeback: %w", err)
	}
	out := make([]store.ChargebackRow, 0, len(byKey))
	for _, r := range byKey {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b store.ChargebackRow) int {
		// The catch-all row ("no team", "not in the directory") comes last.
		return cmp.Or(cmp.Compare(boolInt(a.Key == ""), boolInt(b.Key == "")),
			cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.Key, b.Key))
	})
	return out, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
