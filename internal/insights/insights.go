// Package insights turns the store's counts and the admin's settings into
// the dashboard's money and ratios. It is pure: no I/O, no clock.
package insights

import (
	"slices"
	"time"

	"roster"
)

// Summary is the overview's derived numbers.
type Summary struct {
	// Utilisation is FullActive / SeatsBought (or / the full licenses
	// whose usage is known, when no purchase count is known), 0..1; zero
	// when there is nothing to divide by. Usage unknown counts in neither.
	Utilisation float64
	// MonthlyCost is Σ price(license) × count(license).
	MonthlyCost float64
	// PotentialSavings is price(full) × FullInactive: what reclaiming the
	// inactive full seats would save each month. Usage unknown is never
	// inactive, so never counted here.
	PotentialSavings float64
	Currency         string
	// InactiveBefore is the cut-off of roster.Account.Inactive.
	InactiveBefore time.Time
	// Priced is false when no license has a price, so cost reads "not set".
	Priced bool
}

// Summarize derives the summary of an overview under settings.
func Summarize(o roster.Overview, s roster.Settings, now time.Time) Summary {
	sum := Summary{
		MonthlyCost:      MonthlyCost(s.LicensePrices, o.ByLicense),
		PotentialSavings: Savings(s.LicensePrices, o.FullInactive),
		Currency:         s.Currency,
		InactiveBefore:   InactiveBefore(now, s.InactivityDays),
	}
	for _, p := range s.LicensePrices {
		if p > 0 {
			sum.Priced = true
		}
	}
	seats := o.SeatsBought
	if seats == 0 {
		seats = o.FullAssigned - o.FullUsageUnknown
	}
	sum.Utilisation = Ratio(o.FullActive, seats)
	return sum
}

// MonthlyCost is Σ price(license) × count(license); licenses without a
// price cost nothing.
func MonthlyCost(prices map[string]float64, byLicense map[string]int) float64 {
	var total float64
	// A fixed order keeps the float sum the same on every call.
	keys := make([]string, 0, len(byLicense))
	for k := range byLicense {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		total += prices[k] * float64(byLicense[k])
	}
	return total
}

// Savings is price(full) × the full licenses held by inactive people.
func Savings(prices map[string]float64, fullInactive int) float64 {
	return prices[roster.LicenseFull] * float64(fullInactive)
}

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
