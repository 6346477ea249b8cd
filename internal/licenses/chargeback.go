package licenses

import (
	"context"
	"fmt"

	"roster"
	"roster/internal/insights"
	"roster/internal/store"
)

// ChargebackLine is one team's or department's monthly cost.
type ChargebackLine struct {
	store.ChargebackRow
	// Label names the row; catch-all rows read "No team" or "Not in the
	// directory", and the unassigned seats "Seats held by nobody".
	Label string
	// Seats is the paid seats the row holds (fractions for teams).
	Seats float64
	Cost  float64
}

// Chargeback is one organization's cost by team or by department.
type Chargeback struct {
	OrgID    string
	By       string
	Contract roster.Contract
	Lines    []ChargebackLine
	People   int
	Total    float64
}

// Chargeback prices each team's or department's seats: a person's license
// at the contract's monthly price, split equally between their teams.
// Seats bought but held by nobody are a line of their own, so the lines
// add up to the organization's monthly cost.
//
// org is the organization's summary, which the caller already holds (a
// Report's, an Organization's): reading it again would count every
// account a second time.
func (s *Service) Chargeback(ctx context.Context, org insights.OrgSummary, by string) (Chargeback, error) {
	orgID := org.Org.OrgID
	cb := Chargeback{OrgID: orgID, By: by, Contract: org.Contract}
	if by != store.ChargebackByTeam && by != store.ChargebackByDepartment {
		return cb, fmt.Errorf("group by must be %q or %q, not %q", store.ChargebackByTeam, store.ChargebackByDepartment, by)
	}
	rows, err := s.Store.Chargeback(ctx, store.ChargebackQuery{OrgID: orgID, By: by})
	if err != nil {
		return cb, fmt.Errorf("load the chargeback: %w", err)
	}
	for _, r := range rows {
		line := ChargebackLine{ChargebackRow: r, Label: r.Name}
		if r.Key == "" {
			line.Label = "No team"
			if by == store.ChargebackByDepartment {
				line.Label = "Not in the directory"
			}
		} else if line.Label == "" {
			line.Label = r.Key
		}
		for l, n := range r.Shares {
			price := org.Contract.MonthlyPrice(l)
			if roster.UsageBilled(l) {
				// Billed for the month's users, not per seat: spread the
				// month's cost over its holders.
				if lc := org.Org.Licenses[l]; lc.Assigned > 0 {
					price = price * float64(lc.UsedThisMonth) / float64(lc.Assigned)
				}
			}
			if price > 0 {
				line.Seats += n
			}
			line.Cost += n * price
		}
		cb.People += r.People
		cb.Total += line.Cost
		cb.Lines = append(cb.Lines, line)
	}
	var unassigned ChargebackLine
	for _, l := range org.Licenses {
		if l.Unassigned > 0 && l.MonthlyPrice > 0 {
			unassigned.Seats += float64(l.Unassigned)
			unassigned.Cost += float64(l.Unassigned) * l.MonthlyPrice
		}
	}
	if unassigned.Seats > 0 {
		unassigned.Label = "Seats held by nobody"
		cb.Total += unassigned.Cost
		cb.Lines = append(cb.Lines, unassigned)
	}
	return cb, nil
}
