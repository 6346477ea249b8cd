package insights

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
)

var now = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// bigCo is an organization-level organization: 100 full seats bought per
// Miro, 80 assigned (60 active, 20 inactive, of whom 3 left; 2 more
// leavers are active), 10 occasional (4 used this month), 500 free.
func bigCo() roster.OrgOverview {
	return roster.OrgOverview{
		OrgID: "o1", Name: "Big Co", Exact: true, SeatsFromMiro: 100, Guests: 3, External: 2,
		Licenses: map[string]roster.LicenseCount{
			"full":       {Assigned: 80, Active: 60, Inactive: 20, Leavers: 5, InactiveLeavers: 3, InactiveGuests: 2, NotUsedThisMonth: 7},
			"occasional": {Assigned: 10, Active: 6, Inactive: 4, UsedThisMonth: 4},
			"free":       {Assigned: 500, Active: 100, Inactive: 400},
		},
	}
}

func TestSummarizeOrg(t *testing.T) {
	t.Parallel()
	c := roster.Contract{OrgID: "o1", Currency: "EUR", Billing: roster.BillingYearly,
		RenewalOn: now.AddDate(0, 0, 45),
		Licenses:  map[string]roster.LicenseTerms{"full": {Seats: 90, Price: 192}, "occasional": {Price: 120}}}
	sum := SummarizeOrg(bigCo(), c, 60, now)

	// Miro's 100 seats win over the contract's 90; 192 a year is 16 a month.
	full := sum.Licenses[0]
	require.Equal(t, "full", full.License)
	require.Equal(t, "Full", full.Name)
	require.Equal(t, 100, full.Purchased)
	require.True(t, full.FromMiro)
	require.Equal(t, 20, full.Unassigned)
	require.InDelta(t, 16, full.MonthlyPrice, 1e-9)
	require.InDelta(t, 1600, full.MonthlyCost, 1e-9)
	require.InDelta(t, 0.6, full.Utilisation, 1e-9)
	// Occasional is billed per person who used Miro this month: 4 × 10.
	occ := sum.Licenses[1]
	require.True(t, occ.UsageBilled)
	require.InDelta(t, 40, occ.MonthlyCost, 1e-9)
	require.Zero(t, occ.Unassigned)
	require.Equal(t, "free", sum.Licenses[2].License)
	require.Zero(t, sum.Licenses[2].MonthlyCost)

	require.InDelta(t, 1640, sum.MonthlyCost, 1e-9)
	require.InDelta(t, 0.6, sum.Utilisation, 1e-9)
	// Savings do not overlap: 20 inactive of whom 3 are leavers, 5 leavers.
	require.Equal(t, Savings{UnassignedSeats: 20, Unassigned: 320, InactiveSeats: 17, Inactive: 272, LeaverSeats: 5, Leavers: 80}, sum.Savings)
	require.InDelta(t, 672, sum.Savings.Total(), 1e-9)
	require.True(t, sum.HasRenewal)
	require.Equal(t, 45, sum.RenewalInDays)

	kinds := []string{}
	for _, r := range sum.Recommendations {
		kinds = append(kinds, r.Kind)
	}
	// By money: unassigned 20 × 16, reclaim the 15 inactive members who
	// did not leave × 16, full → occasional 7 × 16, leavers 80, then the
	// guests, 2 of whom hold an inactive Full license (32). Occasional
	// (10) costs less than full (16), so no occasional → full. Reclaim and
	// review add up to the inactive savings (272).
	require.Equal(t, []string{RecommendCutUnassigned, RecommendReclaimInactive, RecommendFullToOccasional, RecommendRemoveLeavers, RecommendReviewGuests}, kinds)
	require.Nil(t, sum.Recommendations[0].Filter, "unassigned seats are no one's")
	reclaim := sum.Recommendations[1]
	require.Equal(t, 15, reclaim.Count)
	require.InDelta(t, 240, reclaim.Monthly, 1e-9)
	require.Equal(t, map[string]string{"org": "o1", "status": "active", "license": "full", "activity": "inactive", "directory": "not_left",
		"members": "1"}, reclaim.Filter)
	require.Equal(t, "deactivate", reclaim.Action)
	require.Equal(t, 5, sum.Recommendations[3].Count)
	require.Equal(t, map[string]string{"org": "o1", "status": "active", "directory": "left"}, sum.Recommendations[3].Filter)
	require.Equal(t, 5, sum.Recommendations[4].Count)
	require.InDelta(t, 32, sum.Recommendations[4].Monthly, 1e-9)
	require.InDelta(t, sum.Savings.Inactive, reclaim.Monthly+sum.Recommendations[4].Monthly, 1e-9)
}

func TestSummarizeOrgWithoutSeatCount(t *testing.T) {
	t.Parallel()
	// A team-level organization: 6 full licenses, 2 of them usage
	// unknown; no seat count, so cost is per assigned license.
	o := roster.OrgOverview{OrgID: "o2", Licenses: map[string]roster.LicenseCount{
		"full": {Assigned: 6, Active: 3, Inactive: 1, UsageUnknown: 2},
	}}
	c := roster.DefaultContract("o2", roster.Settings{Currency: "USD", LicensePrices: map[string]float64{"full": 10}})
	sum := SummarizeOrg(o, c, 60, now)
	require.InDelta(t, 60, sum.MonthlyCost, 1e-9)
	require.InDelta(t, 0.75, sum.Utilisation, 1e-9, "usage unknown counts in neither")
	require.Equal(t, Savings{InactiveSeats: 1, Inactive: 10}, sum.Savings)

	unpriced := SummarizeOrg(o, roster.DefaultContract("o2", roster.DefaultSettings()), 60, now)
	require.False(t, unpriced.Priced)
	require.Zero(t, unpriced.MonthlyCost)
}

func TestOccasionalToFull(t *testing.T) {
	t.Parallel()
	c := roster.Contract{Currency: "USD", Billing: roster.BillingMonthly,
		Licenses: map[string]roster.LicenseTerms{"full": {Price: 10}, "occasional": {Price: 12}}}
	sum := SummarizeOrg(bigCo(), c, 60, now)
	i := slicesIndex(sum.Recommendations, RecommendOccasionalToFull)
	require.GreaterOrEqual(t, i, 0)
	require.Equal(t, 4, sum.Recommendations[i].Count)
	require.InDelta(t, 8, sum.Recommendations[i].Monthly, 1e-9)
}

func slicesIndex(recs []Recommendation, kind string) int {
	for i, r := range recs {
		if r.Kind == kind {
			return i
		}
	}
	return -1
}

func TestSummarizeTotals(t *testing.T) {
	t.Parallel()
	other := roster.OrgOverview{OrgID: "o2", Licenses: map[string]roster.LicenseCount{"full": {Assigned: 20, UsageUnknown: 20}}}
	o := roster.Overview{Orgs: []roster.OrgOverview{bigCo(), other}}
	s := roster.Settings{InactivityDays: 60, Currency: "USD", LicensePrices: map[string]float64{"full": 16}}
	sum := Summarize(o, nil, s, now)
	require.Len(t, sum.Orgs, 2)
	require.False(t, sum.Mixed)
	require.Equal(t, "USD", sum.Currency)
	// Big Co: 100 seats × 16; the other: 20 assigned × 16, none inactive.
	require.InDelta(t, 1600+320, sum.MonthlyCost, 1e-9)
	require.Equal(t, 17, sum.Savings.InactiveSeats)
	require.Equal(t, now.AddDate(0, 0, -60), sum.InactiveBefore)

	eur := map[string]roster.Contract{"o1": {OrgID: "o1", Currency: "EUR", Billing: roster.BillingMonthly, Licenses: map[string]roster.LicenseTerms{"full": {Price: 15}}}}
	mixed := Summarize(o, eur, s, now)
	require.True(t, mixed.Mixed)
	require.Zero(t, mixed.MonthlyCost, "euros and dollars do not add up")
	require.Equal(t, 17, mixed.Savings.InactiveSeats, "seats do")
}

func TestCount(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4200: "-4,200"} {
		require.Equal(t, want, Count(n))
	}
}
