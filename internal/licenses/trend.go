package licenses

import (
	"context"
	"fmt"
	"slices"
	"time"

	"roster"
	"roster/internal/insights"
)

// TrendDays is how far back the trend reaches by default: the two years
// the store keeps.
const TrendDays = 730

// TrendDay is one organization's licenses on one day: per license, and the
// day's cost at the contract's current prices.
type TrendDay struct {
	Day      time.Time
	Licenses map[string]roster.LicenseDay
	Cost     float64
	// LicenseCost is Cost by license: they add up to Cost.
	LicenseCost map[string]float64
}

// Trend is one organization's daily points, oldest first.
type Trend struct {
	OrgID    string
	Contract roster.Contract
	Days     []TrendDay
	// Licenses are the licenses any day holds, in roster.Licenses order.
	Licenses []string
}

// Trend reads one organization's daily points of the last days days.
func (s *Service) Trend(ctx context.Context, orgID string, days int) (Trend, error) {
	t := Trend{OrgID: orgID}
	if days <= 0 || days > TrendDays {
		return t, fmt.Errorf("days must be from 1 to %d, not %d", TrendDays, days)
	}
	c, err := s.Contract(ctx, orgID)
	if err != nil {
		return t, err
	}
	t.Contract = c
	since := s.now().UTC().AddDate(0, 0, -days)
	points, err := s.Store.LicenseDays(ctx, orgID, since)
	if err != nil {
		return t, fmt.Errorf("load the trend: %w", err)
	}
	held := map[string]bool{}
	for _, p := range points {
		if n := len(t.Days); n == 0 || !t.Days[n-1].Day.Equal(p.Day) {
			t.Days = append(t.Days, TrendDay{Day: p.Day, Licenses: map[string]roster.LicenseDay{}, LicenseCost: map[string]float64{}})
		}
		d := &t.Days[len(t.Days)-1]
		d.Licenses[p.License] = p
		held[p.License] = true
		seats := p.Purchased
		if seats == 0 {
			seats = c.Licenses[p.License].Seats
		}
		// A day keeps no 30-day use: a usage-billed license is priced on
		// the people active that day.
		cost := insights.LineCost(p.License, seats, p.Assigned, p.Active, c)
		d.LicenseCost[p.License] = cost
		d.Cost += cost
	}
	for _, l := range roster.Licenses {
		if held[l] {
			t.Licenses = append(t.Licenses, l)
		}
	}
	var rest []string
	for l := range held {
		if !slices.Contains(roster.Licenses, l) {
			rest = append(rest, l)
		}
	}
	slices.Sort(rest)
	t.Licenses = append(t.Licenses, rest...)
	return t, nil
}
