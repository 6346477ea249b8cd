// Package insights turns the store's counts and the contracts into the
// dashboard's money and ratios. It is pure: no I/O, no clock.
package insights

import (
	"time"

	"roster"
)

// Summary is the overview's derived numbers: per organization, and the
// totals that add up across organizations.
type Summary struct {
	Orgs []OrgSummary // in the overview's order
	// InactiveBefore is the cut-off of roster.Account.Inactive.
	InactiveBefore time.Time
	// Currency is the organizations' one currency; "" when they differ,
	// and then MonthlyCost and Savings are not summed (Mixed).
	Currency    string
	Mixed       bool
	Priced      bool
	MonthlyCost float64
	Savings     Savings
}

// Summarize derives the summary of an overview: each organization under
// its contract (contracts by organization id; a missing one is the
// settings' default).
func Summarize(o roster.Overview, contracts map[string]roster.Contract, s roster.Settings, now time.Time) Summary {
	sum := Summary{InactiveBefore: InactiveBefore(now, s.InactivityDays)}
	for _, org := range o.Orgs {
		c, ok := contracts[org.OrgID]
		if !ok {
			c = roster.DefaultContract(org.OrgID, s)
		}
		os := SummarizeOrg(org, c, s.InactivityDays, now)
		sum.Orgs = append(sum.Orgs, os)
		switch {
		case sum.Currency == "":
			sum.Currency = c.Currency
		case sum.Currency != c.Currency:
			sum.Mixed = true
		}
		sum.Priced = sum.Priced || os.Priced
		sum.MonthlyCost += os.MonthlyCost
		sum.Savings.UnassignedSeats += os.Savings.UnassignedSeats
		sum.Savings.Unassigned += os.Savings.Unassigned
		sum.Savings.InactiveSeats += os.Savings.InactiveSeats
		sum.Savings.Inactive += os.Savings.Inactive
		sum.Savings.LeaverSeats += os.Savings.LeaverSeats
		sum.Savings.Leavers += os.Savings.Leavers
	}
	if sum.Currency == "" {
		sum.Currency = s.Currency
	}
	if sum.Mixed {
		// Money in different currencies does not add up; seats do.
		sum.Currency, sum.MonthlyCost = "", 0
		sum.Savings.Unassigned, sum.Savings.Inactive, sum.Savings.Leavers = 0, 0, 0
	}
	return sum
}

// UsedSince is the start of the last 30 days: what a usage-billed
// license is charged for.
func UsedSince(now time.Time) time.Time { return now.Add(-30 * 24 * time.Hour) }

// Ratio is n/d, or 0 when d is 0.
func Ratio(n, d int) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// InactiveBefore is the inactivity cut-off: days before now
// (roster.InactiveBefore).
func InactiveBefore(now time.Time, days int) time.Time {
	return roster.InactiveBefore(now, days)
}
