package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"roster/internal/store"
)

// The overview's counts come from one grouped scan of every account, tens
// of milliseconds at 100,000 accounts. A process keeps the groups it last
// counted with the accounts' data version (data_versions) and the cut-offs
// it counted with. While the version stands, a later overview recounts
// only the accounts whose activity lies between the old and the new
// cut-offs, a few index ranges, and corrects the kept groups by the
// difference: the result is what a full scan would count, at any time.

// groupKey is one group of the overview's scan.
type groupKey struct {
	orgID, license, role string
	active, exact        bool
}

// groupCounts are a group's accounts and, of them, those the cut-offs
// sort (see Overview).
type groupCounts struct {
	n, everActive, active, inactive, usedMonth, idleMonth int
}

func (c groupCounts) add(d groupCounts, sign int) groupCounts {
	c.n += sign * d.n
	c.everActive += sign * d.everActive
	c.active += sign * d.active
	c.inactive += sign * d.inactive
	c.usedMonth += sign * d.usedMonth
	c.idleMonth += sign * d.idleMonth
	return c
}

// keptGroups is what a process remembers of its last scan.
type keptGroups struct {
	mu      sync.Mutex
	version int64
	q       store.OverviewQuery
	groups  map[groupKey]groupCounts
	scans   int // full scans, for tests
}

// maxRecountWindow bounds the move of a cut-off that a recount of the
// accounts in between corrects; past it, a full scan is cheaper.
const maxRecountWindow = 7 * 24 * time.Hour

// overviewGroups counts the accounts not left per group, under q, in tx.
func (db *DB) overviewGroups(ctx context.Context, tx *sql.Tx, q store.OverviewQuery) (map[groupKey]groupCounts, error) {
	var version int64
	if err := tx.QueryRowContext(ctx, `SELECT version FROM data_versions WHERE name = 'accounts'`).Scan(&version); err != nil {
		return nil, fmt.Errorf("accounts version: %w", err)
	}
	kept := &db.kept
	kept.mu.Lock()
	base, baseQ, ok := kept.groups, kept.q, kept.version == version && kept.groups != nil
	kept.mu.Unlock()

	var groups map[groupKey]groupCounts
	if ok && recountable(baseQ, q) {
		var err error
		if groups, err = recount(ctx, tx, base, baseQ, q); err != nil {
			return nil, err
		}
	} else {
		var err error
		if groups, err = scanGroups(ctx, tx, q, "", nil); err != nil {
			return nil, err
		}
	}
	kept.mu.Lock()
	kept.version, kept.q, kept.groups = version, q, groups
	if !ok || !recountable(baseQ, q) {
		kept.scans++
	}
	kept.mu.Unlock()
	return maps.Clone(groups), nil
}

// recountable reports whether the cut-offs moved little enough from
// those of the kept groups for a recount of the accounts in between.
// A zero cut-off counts no one: the groups then differ wholesale.
func recountable(from, to store.OverviewQuery) bool {
	for _, p := range [][2]time.Time{{from.InactiveBefore, to.InactiveBefore}, {from.UsedSince, to.UsedSince}} {
		if p[0].IsZero() || p[1].IsZero() || p[0].Sub(p[1]).Abs() > maxRecountWindow {
			return false
		}
	}
	return true
}

// recount corrects base, counted under from, to what a scan under to
// counts: only accounts whose activity lies between the two cut-offs can
// be counted differently, so their groups are counted under both and the
// difference applied.
func recount(ctx context.Context, tx *sql.Tx, base map[groupKey]groupCounts, from, to store.OverviewQuery) (map[groupKey]groupCounts, error) {
	groups := maps.Clone(base)
	if from == to {
		return groups, nil
	}
	filter, args := movedAccounts(base, from, to)
	before, err := scanGroups(ctx, tx, from, filter, args)
	if err != nil {
		return nil, err
	}
	after, err := scanGroups(ctx, tx, to, filter, args)
	if err != nil {
		return nil, err
	}
	for k, c := range before {
		groups[k] = groups[k].add(c, -1)
	}
	for k, c := range after {
		groups[k] = groups[k].add(c, 1)
	}
	return groups, nil
}

// movedAccounts is the filter of accounts a cut-off's move can count
// differently, with its arguments from $3 on: an activity (activity_at)
// between the old and new inactivity or 30-day cut-offs, or a last
// activity (last_activity_at) between the 30-day ones. Only accounts
// active with usage known count against a cut-off; the license list lets
// the accounts_filters index serve each activity range.
func movedAccounts(base map[groupKey]groupCounts, from, to store.OverviewQuery) (string, []any) {
	licenses := map[string]bool{}
	for k := range base {
		licenses[k.license] = true
	}
	args := []any{}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args)+2)
	}
	in := make([]string, 0, len(licenses))
	for _, l := range slices.Sorted(maps.Keys(licenses)) {
		in = append(in, arg(l))
	}
	licenseIn := `license IN (` + strings.Join(in, `, `) + `)`
	if len(in) == 0 {
		licenseIn = `FALSE`
	}
	span := func(col string, a, b time.Time) string {
		lo, hi := a, b
		if hi.Before(lo) {
			lo, hi = hi, lo
		}
		return col + ` >= ` + arg(tv(lo)) + ` AND ` + col + ` < ` + arg(tv(hi))
	}
	known := licenseIn + ` AND active = TRUE AND license_exact = TRUE AND `
	filter := `a.id IN (SELECT id FROM accounts WHERE ` + known + span("activity_at", from.InactiveBefore, to.InactiveBefore) + `
		UNION SELECT id FROM accounts WHERE ` + known + span("activity_at", from.UsedSince, to.UsedSince) + `
		UNION SELECT id FROM accounts WHERE ` + span("last_activity_at", from.UsedSince, to.UsedSince) + `)`
	return filter, args
}

// scanGroups counts the accounts not left (and matching filter, when not
// "", whose arguments follow the two cut-offs) per group under q.
// Grouping by the accounts_overview index's leading columns, in its
// order, needs no sort. A zero cut-off binds NULL and then no one is
// active or inactive: the comparison is unknown, not true. Deactivated
// accounts count against no cut-off.
func scanGroups(ctx context.Context, tx *sql.Tx, q store.OverviewQuery, filter string, filterArgs []any) (map[groupKey]groupCounts, error) {
	where := `a.left_at IS NULL`
	if filter != "" {
		where += ` AND ` + filter
	}
	args := append([]any{tv(q.InactiveBefore), tv(q.UsedSince)}, filterArgs...)
	rows, err := tx.QueryContext(ctx, `SELECT a.org_id, a.active, a.license, a.org_role, a.license_exact,
		COUNT(*), COUNT(a.last_activity_at),
		COUNT(CASE WHEN a.active AND `+activeSQL("$1")+` THEN 1 END),
		COUNT(CASE WHEN a.active AND `+inactiveSQL("$1")+` THEN 1 END),
		COUNT(CASE WHEN a.active AND a.license_exact AND a.last_activity_at >= $2 THEN 1 END),
		COUNT(CASE WHEN a.active AND `+idleSQL("$1", "$2")+` THEN 1 END)
		FROM accounts a WHERE `+where+`
		GROUP BY a.org_id, a.active, a.license, a.org_role, a.license_exact`, args...)
	if err != nil {
		return nil, fmt.Errorf("count accounts: %w", err)
	}
	defer rows.Close()
	groups := map[groupKey]groupCounts{}
	for rows.Next() {
		var (
			k groupKey
			c groupCounts
		)
		if err := rows.Scan(&k.orgID, &k.active, &k.license, &k.role, &k.exact,
			&c.n, &c.everActive, &c.active, &c.inactive, &c.usedMonth, &c.idleMonth); err != nil {
			return nil, fmt.Errorf("count accounts: %w", err)
		}
		groups[k] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count accounts: %w", err)
	}
	return groups, nil
}

// bumpAccountsVersion marks the accounts changed for every process's kept
// groups. Transactions call it last: in PostgreSQL the row stays locked
// until commit, so writers of accounts queue on it only briefly, and
// always after their other locks, which keeps them from deadlocking.
func bumpAccountsVersion(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `UPDATE data_versions SET version = version + 1 WHERE name = 'accounts'`); err != nil {
		return fmt.Errorf("raise the accounts version: %w", err)
	}
	return nil
}
