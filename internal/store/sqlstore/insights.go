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
// consistent read: the groups of the accounts_overview index (a few dozen
// per organization, summed here; see overviewGroups for how a process
// keeps them), the leavers (accounts the directory says left, through its
// email index), and the organizations.
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

	groups, err := db.overviewGroups(ctx, tx, q)
	if err != nil {
		return o, fmt.Errorf("sqlstore: overview: %w", err)
	}
	for k, c := range groups {
		g := org(k.orgID)
		g.Accounts += c.n
		if !k.exact {
			g.Inferred += c.n
		}
		switch k.role {
		case roster.OrgRoleTeamGuest:
			g.Guests += c.n
		case roster.OrgRoleExternalUser:
			g.External += c.n
		}
		if !k.active {
			g.Deactivated += c.n
			continue
		}
		lc := g.Licenses[k.license]
		lc.Assigned += c.n
		lc.Active += c.active
		lc.Inactive += c.inactive
		if roster.GuestOrExternal(k.role) {
			lc.InactiveGuests += c.inactive
		}
		lc.UsedThisMonth += c.usedMonth
		lc.NotUsedThisMonth += c.idleMonth
		if k.exact {
			g.NeverActive += c.n - c.everActive
		} else {
			g.UsageUnknown += c.n
			lc.UsageUnknown += c.n
		}
		g.Licenses[k.license] = lc
	}

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
// still hold a license. Inactive guests who left are leavers, not
// guests to review (LicenseCount.InactiveGuests).
func overviewLeavers(ctx context.Context, tx *sql.Tx, inactiveBefore time.Time, org func(string) *roster.OrgOverview) error {
	rows, err := tx.QueryContext(ctx, `SELECT a.org_id, a.license, COUNT(*), COUNT(CASE WHEN `+inactiveSQL("$1")+` THEN 1 END),
		COUNT(CASE WHEN `+inactiveSQL("$1")+` AND a.org_role IN ($2, $3) THEN 1 END)
		FROM accounts a WHERE a.left_at IS NULL AND a.active AND a.id IN (`+leaverIDs+`)
		GROUP BY a.org_id, a.license`, tv(inactiveBefore), roster.OrgRoleTeamGuest, roster.OrgRoleExternalUser)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			orgID, license         string
			n, inactive, guestsOut int
		)
		if err := rows.Scan(&orgID, &license, &n, &inactive, &guestsOut); err != nil {
			return err
		}
		g := org(orgID)
		lc := g.Licenses[license]
		lc.Leavers += n
		lc.InactiveLeavers += inactive
		lc.InactiveGuests -= guestsOut
		g.Licenses[license] = lc
	}
	return rows.Err()
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
