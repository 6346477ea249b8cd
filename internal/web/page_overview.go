package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"roster"
	"roster/internal/insights"
)

// trendPoints is how many syncs the trend chart shows.
const trendPoints = 60

// overviewPage is the overview's data.
type overviewPage struct {
	Page
	Overview roster.Overview
	Summary  insights.Summary
	Settings roster.Settings
	// Headline and Breakdown are the numbers, each with the users list
	// behind it.
	Headline  []stat
	People    []stat
	ByLicense []stat
	Chart     trendChart
	// AllInferred is true when every license is inferred (team-level
	// connections only), SomeInferred when some are.
	AllInferred, SomeInferred bool
	Utilisation               float64
}

// stat is one number of the overview and the users list it counts.
type stat struct {
	Label string
	Value int
	Href  string // "" when no user list is behind it
	Note  string
}

// usersLink is the users list filtered by pairs of query parameters.
func usersLink(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	if len(q) == 0 {
		return "/users"
	}
	return "/users?" + q.Encode()
}

// overviewPage shows the headline numbers, cost and the trend.
func (s *Server) overviewPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	report, err := s.licenses.Report(ctx)
	if err != nil {
		return err
	}
	o, sum, settings := report.Overview, report.Summary, report.Settings
	trend, err := s.store.Trend(ctx, trendPoints)
	if err != nil {
		return fmt.Errorf("load the trend: %w", err)
	}

	days := fmt.Sprintf("%d days", settings.InactivityDays)
	p := overviewPage{
		Page: s.page(r, "Overview"), Overview: o, Summary: sum, Settings: settings,
		Chart:        newTrendChart(trend),
		AllInferred:  o.Inferred > 0 && o.Inferred >= o.Accounts-o.Deactivated,
		SomeInferred: o.Inferred > 0,
	}
	if len(sum.Orgs) == 1 {
		p.Utilisation = sum.Orgs[0].Utilisation
	}
	p.Headline = []stat{
		{Label: "Seats purchased", Value: o.SeatsBought, Note: "full licenses bought, from Miro's organization"},
		// The license counts leave the deactivated out, and so do their lists.
		{Label: "Full licenses assigned", Value: o.FullAssigned, Href: usersLink("license", roster.LicenseFull, "status", "active")},
		{Label: "Actively used", Value: o.FullActive, Href: usersLink("license", roster.LicenseFull, "activity", "active", "status", "active"), Note: "full licenses used in the last " + days},
		{Label: "Inactive full licenses", Value: o.FullInactive, Href: usersLink("license", roster.LicenseFull, "activity", "inactive", "status", "active"), Note: "no activity in " + days + ", counted from when the license was assigned"},
	}
	p.People = []stat{
		{Label: "People", Value: o.Accounts, Href: usersLink()},
		{Label: "Never logged in", Value: o.NeverActive, Href: usersLink("activity", "never", "status", "active"), Note: "not deactivated, no activity ever recorded"},
		{Label: "Guests", Value: o.Guests, Href: usersLink("role", roster.OrgRoleTeamGuest)},
		{Label: "External users", Value: o.External, Href: usersLink("role", roster.OrgRoleExternalUser)},
		{Label: "Deactivated", Value: o.Deactivated, Href: usersLink("status", "deactivated")},
	}
	for _, l := range roster.Licenses {
		if n := o.ByLicense[l]; n > 0 {
			p.ByLicense = append(p.ByLicense, stat{Label: l, Value: n, Href: usersLink("license", l, "status", "active")})
		}
	}
	// Licenses outside the known list still count.
	for l, n := range o.ByLicense {
		if !slices.Contains(roster.Licenses, l) && n > 0 {
			p.ByLicense = append(p.ByLicense, stat{Label: l, Value: n, Href: usersLink("license", l, "status", "active")})
		}
	}
	s.render(w, r, http.StatusOK, "overview", p)
	return nil
}
