package insights

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"roster"
)

// OrgSummary is one organization's money and ratios under its contract.
type OrgSummary struct {
	Org      roster.OrgOverview
	Contract roster.Contract
	// Priced is false when no license of the contract has a price: money
	// then reads "not set".
	Priced bool
	// MonthlyCost is what is paid each month: per license, the seats
	// bought × the price, or, where no seat count is known, the licenses
	// assigned × the price; a usage-billed license (occasional) costs its
	// price for each person who used Miro in the last 30 days.
	MonthlyCost float64
	Licenses    []LicenseLine // in roster.Licenses order, then others by value
	Savings     Savings
	// Utilisation is the full licenses actively used over those bought
	// (or over those assigned whose usage is known, when the purchase
	// count is unknown), 0..1. Usage unknown counts in neither.
	Utilisation float64
	// Recommendations are what to do about the waste, most money first.
	Recommendations []Recommendation
	// RenewalInDays is the days to the contract's renewal, when HasRenewal.
	RenewalInDays int
	HasRenewal    bool
}

// LicenseLine is one license of one organization.
type LicenseLine struct {
	License string
	Name    string // as people read it (roster.LicenseName)
	// Purchased is the seats bought; 0 when unknown. FromMiro is true when
	// Miro said so, false when the contract did.
	Purchased                                         int
	FromMiro                                          bool
	Assigned, Active, Inactive, UsageUnknown, Leavers int
	// Unassigned is Purchased − Assigned, when positive.
	Unassigned int
	// UsageBilled licenses cost per person who used Miro in the last 30
	// days (UsedThisMonth), not per seat.
	UsageBilled   bool
	UsedThisMonth int
	MonthlyPrice  float64
	MonthlyCost   float64
	// Utilisation is Active over Purchased, or over the assigned whose
	// usage is known when Purchased is unknown.
	Utilisation float64
}

// Savings is the month's waste, in three kinds that do not overlap.
type Savings struct {
	// UnassignedSeats are paid seats nobody holds: cut at renewal.
	UnassignedSeats int
	Unassigned      float64
	// InactiveSeats are paid licenses held by inactive people who are not
	// leavers: reclaim now.
	InactiveSeats int
	Inactive      float64
	// LeaverSeats are paid licenses held by people the directory says
	// left while Miro says active: remove now.
	LeaverSeats int
	Leavers     float64
}

// Total is the three kinds summed.
func (s Savings) Total() float64 { return s.Unassigned + s.Inactive + s.Leavers }

// Recommendation kinds.
const (
	RecommendReclaimInactive  = "reclaim_inactive"
	RecommendRemoveLeavers    = "remove_leavers"
	RecommendCutUnassigned    = "cut_unassigned"
	RecommendReviewGuests     = "review_guests"
	RecommendOccasionalToFull = "occasional_to_full"
	RecommendFullToOccasional = "full_to_occasional"
)

// Recommendation is one thing to do about the waste.
type Recommendation struct {
	Kind   string
	Title  string
	Detail string
	Count  int
	// Monthly is the money it saves each month; 0 when none or unpriced.
	Monthly float64
	// Filter is the users list's query (parameter → value) that lists
	// exactly the people it is about; nil when it is about seats, not
	// people (cut_unassigned).
	Filter map[string]string
	// Action is what "Take action" does to them: a bulk action of the
	// users list ("deactivate"), or "" when it is to review or to act on
	// the contract.
	Action string
}

// SummarizeOrg derives one organization's summary.
func SummarizeOrg(o roster.OrgOverview, c roster.Contract, inactivityDays int, now time.Time) OrgSummary {
	sum := OrgSummary{Org: o, Contract: c, Priced: c.Priced()}
	sum.RenewalInDays, sum.HasRenewal = c.DaysToRenewal(now)

	for _, l := range licenseOrder(o.Licenses, c.Licenses) {
		n := o.Licenses[l]
		line := LicenseLine{
			License: l, Name: roster.LicenseName(l),
			Assigned: n.Assigned, Active: n.Active, Inactive: n.Inactive, UsageUnknown: n.UsageUnknown,
			Leavers: n.Leavers, UsedThisMonth: n.UsedThisMonth,
			UsageBilled: roster.UsageBilled(l), MonthlyPrice: c.MonthlyPrice(l),
			Purchased: c.Licenses[l].Seats,
		}
		if l == roster.LicenseFull && o.SeatsFromMiro > 0 {
			line.Purchased, line.FromMiro = o.SeatsFromMiro, true
		}
		if line.UsageBilled {
			line.Purchased = 0
		} else if line.Purchased > 0 {
			line.Unassigned = max(0, line.Purchased-n.Assigned)
		}
		line.MonthlyCost = LineCost(l, line.Purchased, n.Assigned, n.UsedThisMonth, c)
		if line.Purchased > 0 {
			line.Utilisation = Ratio(n.Active, line.Purchased)
		} else {
			line.Utilisation = Ratio(n.Active, n.Assigned-n.UsageUnknown)
		}
		sum.MonthlyCost += line.MonthlyCost

		// Savings: only seats that cost money per seat; a person is
		// either a leaver or inactive, never both.
		if !line.UsageBilled && line.MonthlyPrice > 0 {
			sum.Savings.UnassignedSeats += line.Unassigned
			sum.Savings.Unassigned += float64(line.Unassigned) * line.MonthlyPrice
			inactive := n.Inactive - n.InactiveLeavers
			sum.Savings.InactiveSeats += inactive
			sum.Savings.Inactive += float64(inactive) * line.MonthlyPrice
			sum.Savings.LeaverSeats += n.Leavers
			sum.Savings.Leavers += float64(n.Leavers) * line.MonthlyPrice
		}
		sum.Licenses = append(sum.Licenses, line)
	}
	if full, ok := sum.line(roster.LicenseFull); ok {
		sum.Utilisation = full.Utilisation
	}
	sum.Recommendations = recommend(sum, o, c, inactivityDays)
	return sum
}

// LineCost is one license's monthly cost, the one rule: a usage-billed
// license costs its price per person who used Miro in the month (used);
// another costs the seats bought × the price, or, when no seat count is
// known, the licenses assigned × the price.
func LineCost(license string, purchased, assigned, used int, c roster.Contract) float64 {
	price := c.MonthlyPrice(license)
	switch {
	case roster.UsageBilled(license):
		return float64(used) * price
	case purchased > 0:
		return float64(purchased) * price
	}
	return float64(assigned) * price
}

// line returns the summary's line of one license.
func (s OrgSummary) line(license string) (LicenseLine, bool) {
	i := slices.IndexFunc(s.Licenses, func(l LicenseLine) bool { return l.License == license })
	if i < 0 {
		return LicenseLine{}, false
	}
	return s.Licenses[i], true
}

// recommend lists what to do, most money first, then most people.
func recommend(sum OrgSummary, o roster.OrgOverview, c roster.Contract, inactivityDays int) []Recommendation {
	var recs []Recommendation
	full := o.Licenses[roster.LicenseFull]
	fullPrice := c.MonthlyPrice(roster.LicenseFull)
	scope := func(kv ...string) map[string]string {
		m := map[string]string{"org": o.OrgID, "status": "active"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	// Inactive people who left are the leavers' recommendation, and
	// inactive guests the review's, not this one: the lists do not
	// overlap, and this one is what a deactivation can reclaim.
	if n := full.Inactive - full.InactiveLeavers - full.InactiveGuests; n > 0 {
		recs = append(recs, Recommendation{
			Kind: RecommendReclaimInactive, Title: "Reclaim inactive Full licenses",
			Detail: plural(n, "member") + " with a Full license did not use Miro in " + plural(inactivityDays, "day") + ", counted from when the license was assigned.",
			Count:  n, Monthly: float64(n) * fullPrice,
			Filter: scope("license", roster.LicenseFull, "activity", "inactive", "directory", "not_left", "members", "1"),
			Action: "deactivate",
		})
	}
	leavers := 0
	for _, lc := range o.Licenses {
		leavers += lc.Leavers
	}
	if leavers > 0 {
		recs = append(recs, Recommendation{
			Kind: RecommendRemoveLeavers, Title: "Deactivate people who left",
			Detail: plural(leavers, "person") + " the directory says left still have an active Miro account.",
			Count:  leavers, Monthly: sum.Savings.Leavers,
			Filter: scope("directory", "left"),
			Action: "deactivate",
		})
	}
	if n := sum.Savings.UnassignedSeats; n > 0 {
		d := plural(n, "paid seat") + " bought and held by nobody. Lower the seat count at renewal"
		if sum.HasRenewal {
			d += " (" + sum.Contract.RenewalOn.Format("Jan 2, 2006") + ")"
		}
		recs = append(recs, Recommendation{
			Kind: RecommendCutUnassigned, Title: "Cut unassigned seats at renewal",
			Detail: d + ".", Count: n, Monthly: sum.Savings.Unassigned,
		})
	}
	if n := o.Guests + o.External; n > 0 {
		// Their inactive paid seats are the inactive savings the reclaim
		// cannot take: here they are money to review.
		idle, idleCost := 0, 0.0
		for _, l := range sum.Licenses {
			if !l.UsageBilled && l.MonthlyPrice > 0 {
				k := o.Licenses[l.License].InactiveGuests
				idle += k
				idleCost += float64(k) * l.MonthlyPrice
			}
		}
		d := plural(n, "guest or external user")
		if idle > 0 {
			d += ", " + strconv.Itoa(idle) + " of them holding a paid license they did not use in " + plural(inactivityDays, "day")
		}
		recs = append(recs, Recommendation{
			Kind: RecommendReviewGuests, Title: "Review guests and external users",
			Detail: d + ". Miro's API cannot deactivate them: remove them from teams, or change their license in Miro.",
			Count:  n, Monthly: idleCost, Filter: map[string]string{"org": o.OrgID, "guests": "1"},
		})
	}
	occ := o.Licenses["occasional"]
	occPrice := c.MonthlyPrice("occasional")
	if occPrice > 0 && fullPrice > 0 {
		if n := occ.UsedThisMonth; n > 0 && occPrice > fullPrice {
			recs = append(recs, Recommendation{
				Kind: RecommendOccasionalToFull, Title: "Move frequent Occasional users to Full",
				Detail: plural(n, "Occasional user") + " used Miro this month, and an Occasional month costs more than a Full seat.",
				Count:  n, Monthly: float64(n) * (occPrice - fullPrice),
				Filter: scope("license", "occasional", "activity", "active"),
			})
		}
		if n := full.NotUsedThisMonth; n > 0 {
			recs = append(recs, Recommendation{
				Kind: RecommendFullToOccasional, Title: "Move rare Full users to Occasional",
				Detail: plural(n, "Full license holder") + " did not use Miro in the last 30 days; on Occasional they cost nothing in a month without use.",
				Count:  n, Monthly: float64(n) * fullPrice,
				Filter: scope("license", roster.LicenseFull, "activity", "idle"),
			})
		}
	}
	slices.SortStableFunc(recs, func(a, b Recommendation) int {
		return cmp.Or(cmp.Compare(b.Monthly, a.Monthly), cmp.Compare(b.Count, a.Count))
	})
	return recs
}

// licenseOrder is every license held or priced, in roster.Licenses order,
// then the others by value.
func licenseOrder(held map[string]roster.LicenseCount, terms map[string]roster.LicenseTerms) []string {
	var out []string
	seen := map[string]bool{}
	add := func(l string) {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	for _, l := range roster.Licenses {
		if held[l].Assigned > 0 || terms[l].Seats > 0 {
			add(l)
		}
	}
	var rest []string
	for l, n := range held {
		if n.Assigned > 0 && !seen[l] {
			rest = append(rest, l)
		}
	}
	slices.Sort(rest)
	for _, l := range rest {
		add(l)
	}
	return out
}

// plural is "1 person", "3 people"-style counting for the words used here.
func plural(n int, word string) string {
	w := word
	if n != 1 {
		switch word {
		case "person":
			w = "people"
		case "guest or external user":
			w = "guests and external users"
		default:
			w = word + "s"
		}
	}
	return Count(n) + " " + w
}

// Count is n with thousands separators: 12,345.
func Count(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
