package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"roster"
	"roster/internal/store"
)

// contractLine is one license of contracts.licenses, as JSON.
type contractLine struct {
	Seats int     `json:"seats"`
	Price float64 `json:"price"`
}

const contractSelect = `SELECT org_id, currency, billing, renewal_on, remind_days, reminded_for, licenses, updated_at FROM contracts`

func scanContract(row interface{ Scan(...any) error }) (roster.Contract, error) {
	var (
		c                 roster.Contract
		renewal, reminded string
		licenses          string
		billing           string
	)
	if err := row.Scan(&c.OrgID, &c.Currency, &billing, &renewal, &c.RemindDays, &reminded, &licenses, ts(&c.UpdatedAt)); err != nil {
		return c, err
	}
	c.Billing, c.Saved = roster.Billing(billing), true
	c.RenewalOn, _ = parseDay(renewal)
	c.RemindedFor, _ = parseDay(reminded)
	var lines map[string]contractLine
	if err := json.Unmarshal([]byte(licenses), &lines); err != nil {
		return c, fmt.Errorf("contract of %q: licenses: %w", c.OrgID, err)
	}
	c.Licenses = make(map[string]roster.LicenseTerms, len(lines))
	for l, t := range lines {
		c.Licenses[l] = roster.LicenseTerms{Seats: t.Seats, Price: t.Price}
	}
	return c, nil
}

// day is a date column's text: YYYY-MM-DD, "" for none.
func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

func parseDay(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.DateOnly, s)
}

// Contract returns the organization's saved contract, or the default one
// the settings give.
func (db *DB) Contract(ctx context.Context, orgID string) (roster.Contract, error) {
	c, err := scanContract(db.db.QueryRowContext(ctx, contractSelect+` WHERE org_id = $1`, orgID))
	if errors.Is(err, sql.ErrNoRows) {
		s, err := db.Settings(ctx)
		if err != nil {
			return c, fmt.Errorf("sqlstore: contract: %w", err)
		}
		return roster.DefaultContract(orgID, s), nil
	}
	if err != nil {
		return c, fmt.Errorf("sqlstore: contract: %w", err)
	}
	return c, nil
}

// Contracts lists every saved contract by organization id.
func (db *DB) Contracts(ctx context.Context) ([]roster.Contract, error) {
	rows, err := db.db.QueryContext(ctx, contractSelect+` ORDER BY org_id`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: contracts: %w", err)
	}
	defer rows.Close()
	var out []roster.Contract
	for rows.Next() {
		c, err := scanContract(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: contracts: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: contracts: %w", err)
	}
	return out, nil
}

// SaveContract checks and upserts c with its audit entry. A changed
// renewal date makes the reminder due again.
func (db *DB) SaveContract(ctx context.Context, c roster.Contract, audit roster.AuditEntry) error {
	if err := c.Check(); err != nil {
		return fmt.Errorf("sqlstore: save contract: %w: %w", err, store.ErrInvalid)
	}
	lines := make(map[string]contractLine, len(c.Licenses))
	for l, t := range c.Licenses {
		if t.Seats != 0 || t.Price != 0 {
			lines[l] = contractLine{Seats: t.Seats, Price: t.Price}
		}
	}
	b, err := json.Marshal(lines)
	if err != nil {
		return fmt.Errorf("sqlstore: save contract: %w", err)
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO contracts (org_id, currency, billing, renewal_on, remind_days, licenses, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (org_id) DO UPDATE SET currency = excluded.currency, billing = excluded.billing,
				renewal_on = excluded.renewal_on, remind_days = excluded.remind_days,
				licenses = excluded.licenses, updated_at = excluded.updated_at,
				reminded_for = CASE WHEN contracts.renewal_on = excluded.renewal_on THEN contracts.reminded_for ELSE '' END`,
			c.OrgID, c.Currency, string(c.Billing), day(c.RenewalOn), c.RemindDays, string(b), tv(db.now()))
		if err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, &audit)
	})
	if err != nil {
		return fmt.Errorf("sqlstore: save contract: %w", err)
	}
	return nil
}

// MarkReminded claims the reminder of one renewal date: only the first
// caller for that date gets true.
func (db *DB) MarkReminded(ctx context.Context, orgID string, renewal time.Time) (bool, error) {
	res, err := db.db.ExecContext(ctx, `UPDATE contracts SET reminded_for = $2
		WHERE org_id = $1 AND renewal_on = $2 AND reminded_for <> $2`, orgID, day(renewal))
	if err != nil {
		return false, fmt.Errorf("sqlstore: mark reminded: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: mark reminded: %w", err)
	}
	return n == 1, nil
}

// ReleaseReminder makes the reminder of one renewal date due again.
func (db *DB) ReleaseReminder(ctx context.Context, orgID string, renewal time.Time) error {
	_, err := db.db.ExecContext(ctx, `UPDATE contracts SET reminded_for = '' WHERE org_id = $1 AND reminded_for = $2`,
		orgID, day(renewal))
	if err != nil {
		return fmt.Errorf("sqlstore: release reminder: %w", err)
	}
	return nil
}
