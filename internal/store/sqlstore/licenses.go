package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"roster"
	"roster/internal/store"
	"slices"
	"strings"
	"time"
)

// The Licenses page's trend and chargeback: daily points and team
// licenses written at sync time, and their reads.

// trendActivityWindow is the activity cut-off of the daily points: active
// means active within this long before the sync ended. It is fixed, not
// Settings.InactivityDays, so that a changed setting does not make old
// points disagree with new ones.
const trendActivityWindow = 60 * 24 * time.Hour

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
// organization. By department, an account's is its directory person's
// (by email or alias, as its directory name), and people the directory
// does not know, or knows in no department, form the row with Key "".
// Rows are by name, the Key "" row last.
func (db *DB) Chargeback(ctx context.Context, q store.ChargebackQuery) ([]store.ChargebackRow, error) {
	var query string
	switch q.By {
	case store.ChargebackByTeam:
		// Kept at sync time (writeTeamLicenses).
		query = `SELECT k.miro_team_id, COALESCE(t.name, ''), k.license, k.people, k.shares
			FROM team_licenses k LEFT JOIN teams t ON t.miro_team_id = k.miro_team_id
			WHERE k.org_id = $1`
	case store.ChargebackByDepartment:
		// Kept on each account by the directory's triggers (00013): a scan
		// of one range of accounts_department's entries, not of rows.
		query = `SELECT a.dir_department, a.dir_department, a.license, COUNT(*), COUNT(*)
			FROM accounts a WHERE a.org_id = $1 AND a.left_at IS NULL AND a.active = TRUE
			GROUP BY a.dir_department, a.license`
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
