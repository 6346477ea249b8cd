package web

import (
	"fmt"
	"net/http"
	"time"

	"roster"
	"roster/internal/insights"
)

// overviewPage is the overview's data: one organization's money and
// waste, utilisation, trend and top recommendations, and every
// connection's last sync.
type overviewPage struct {
	Page
	Scope orgScope
	// Connections are every connection with its last sync; none means
	// nothing is connected yet (the empty state).
	Connections []connectionSync
	Settings    roster.Settings
	// Waste is the savings in their three kinds.
	Waste       []wasteCard
	People      []stat
	Utilisation []utilisationRow
	// Chart is the main license's last 90 days.
	Chart        timeChart
	ChartLicense string
	TrendHref    string
	Recs         []recView
	MoreRecs     int
	RecsHref     string
	CurrentHref  string
	// Across is the total over every organization, where it adds up.
	Across acrossOrgs
	// Hidden are the parameters the organization selector keeps: none.
	Hidden []keptField
}

// PickerAction is where the organization selector goes.
func (overviewPage) PickerAction() string { return "/" }

// HasConnections reports whether anything is connected.
func (p overviewPage) HasConnections() bool { return len(p.Connections) > 0 }

// stat is one number and the users list it counts.
type stat struct {
	Label string
	Value int
	Href  string // "" when no list is behind it
	Note  string
}

// wasteCard is one kind of savings: how many seats or licenses, the money
// a month, what to do, and the list behind it.
type wasteCard struct {
	Label, Note, Unit string
	Count             int
	Money             float64
	Href              string
	// Parts are the count by license, when several licenses make it up.
	Parts []wastePart
}

// wastePart is one license's share of a waste card, with its list.
type wastePart struct {
	Name  string
	Count int
	Href  string
}

// utilisationRow is one license's actively used over bought (or over
// assigned whose usage is known, when the purchase count is unknown).
type utilisationRow struct {
	License, Name string
	Active, Base  int
	// BaseLabel is "bought" or "assigned"; Unknown is true when nobody's
	// usage is known.
	BaseLabel  string
	Ratio      float64
	Percent    float64 // Ratio × 100, capped at 100, for the bar
	Unknown    bool
	ActiveHref string
	BaseHref   string
}

// acrossOrgs are the numbers that add up over organizations: people, and
// money when every contract is in one currency.
type acrossOrgs struct {
	Orgs        int
	People      int
	Mixed       bool
	Priced      bool
	Currency    string
	MonthlyCost float64
	Savings     float64
}

// connectionSync is one connection's last sync, for the overview.
type connectionSync struct {
	ID     int64
	Name   string
	OrgID  string
	Status string // the last run's status, or the connection's when it never ran
	OK     bool
	At     time.Time
	Ago    string
	Error  string
}

// Href is the connection on the connections page.
func (c connectionSync) Href() string { return fmt.Sprintf("/connections#connection-%d", c.ID) }

// overviewPage shows one organization's money and waste, linking every
// number to the users behind it.
func (s *Server) overviewPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	sc, err := s.scopeOrg(r)
	if err != nil {
		return err
	}
	p := overviewPage{Page: s.page(r, "Overview"), Scope: sc, Settings: sc.Report.Settings}
	if p.Connections, err = s.connectionSyncs(r); err != nil {
		return err
	}
	if !sc.Found {
		s.render(w, r, http.StatusOK, "overview", p)
		return nil
	}
	org := sc.Org
	id := org.Org.OrgID
	p.RecsHref = licensesHref(id, "recommendations")
	p.CurrentHref = licensesHref(id, "current")
	p.TrendHref = licensesHref(id, "trend")

	sum := sc.Report.Summary
	p.Across = acrossOrgs{Orgs: len(sum.Orgs), People: sc.Report.Overview.Accounts, Mixed: sum.Mixed,
		Priced: sum.Priced, Currency: sum.Currency, MonthlyCost: sum.MonthlyCost, Savings: sum.Savings.Total()}

	p.Waste = wasteCards(org, p.Settings.InactivityDays, p.CurrentHref)
	o := org.Org
	p.People = []stat{
		{Label: "People", Value: o.Accounts, Href: usersLink("org", id), Note: "in this organization, deactivated included"},
		{Label: "Never logged in", Value: o.NeverActive, Href: usersLink("org", id, "activity", "never", "status", "active"), Note: "not deactivated, no activity ever recorded"},
		{Label: "Guests", Value: o.Guests, Href: usersLink("org", id, "role", roster.OrgRoleTeamGuest)},
		{Label: "External users", Value: o.External, Href: usersLink("org", id, "role", roster.OrgRoleExternalUser)},
		{Label: "Deactivated", Value: o.Deactivated, Href: usersLink("org", id, "status", "deactivated")},
	}
	if o.UsageUnknown > 0 {
		p.People = append(p.People, stat{Label: "Usage unknown", Value: o.UsageUnknown,
			Href: usersLink("org", id, "activity", "unknown", "status", "active"), Note: "seen only through team-level connections"})
	}
	for _, l := range org.Licenses {
		if l.Assigned == 0 && l.Purchased == 0 {
			continue
		}
		u := utilisationRow{License: l.License, Name: l.Name, Active: l.Active, Ratio: l.Utilisation,
			Unknown:    l.Assigned > 0 && l.UsageUnknown == l.Assigned,
			ActiveHref: usersLink("org", id, "license", l.License, "activity", "active", "status", "active")}
		if l.Purchased > 0 {
			u.Base, u.BaseLabel = l.Purchased, "bought"
		} else {
			u.Base, u.BaseLabel = l.Assigned-l.UsageUnknown, "assigned"
			u.BaseHref = usersLink("org", id, "license", l.License, "status", "active")
			if l.UsageUnknown > 0 {
				u.BaseHref = ""
			}
		}
		u.Percent = min(100, u.Ratio*100)
		p.Utilisation = append(p.Utilisation, u)
	}

	days := defaultTrendDays
	trend, err := s.licenses.Trend(ctx, id, days)
	if err != nil {
		return err
	}
	if len(trend.Licenses) > 0 {
		// The main license: Full when held, else the first held.
		p.ChartLicense = trend.Licenses[0]
		tt := newTrendTab(trend, org, days, s.now())
		p.Chart = tt.Charts[0].Chart
	} else {
		p.Chart = timeChart{Empty: true}
	}

	recs := recViews(org, p.CanAct)
	if len(recs) > 3 {
		p.MoreRecs = len(recs) - 3
		recs = recs[:3]
	}
	p.Recs = recs
	s.render(w, r, http.StatusOK, "overview", p)
	return nil
}

// wasteCards are the savings in their three kinds. A card links to the
// users list of exactly its people when one license makes up all of it
// (the list filters one license), else to the Licenses page, where each
// license's count links to its list. Unassigned seats are seats, not
// people: they link to the Licenses page.
func wasteCards(org insights.OrgSummary, inactivityDays int, currentHref string) []wasteCard {
	id := org.Org.OrgID
	sv := org.Savings
	// The paid, per-seat licenses make up the inactive and leaver savings
	// (insights.SummarizeOrg's rule); without prices, none is paid, and
	// the cards count the Full licenses, with no money.
	paid := func(l insights.LicenseLine) bool { return !l.UsageBilled && l.MonthlyPrice > 0 }
	if !org.Priced {
		paid = func(l insights.LicenseLine) bool { return l.License == roster.LicenseFull }
		sv = insights.Savings{}
	}
	var inactive, leavers []wastePart
	for _, l := range org.Licenses {
		if !paid(l) {
			continue
		}
		n := org.Org.Licenses[l.License]
		if k := n.Inactive - n.InactiveLeavers; k > 0 {
			inactive = append(inactive, wastePart{Name: l.Name, Count: k,
				Href: usersLink("org", id, "license", l.License, "activity", "inactive", "status", "active")})
			if !org.Priced {
				sv.InactiveSeats += k
			}
		}
		if n.Leavers > 0 {
			leavers = append(leavers, wastePart{Name: l.Name, Count: n.Leavers,
				Href: usersLink("org", id, "license", l.License, "directory", "left", "status", "active")})
			if !org.Priced {
				sv.LeaverSeats += n.Leavers
			}
		}
		if !org.Priced {
			sv.UnassignedSeats += l.Unassigned
		}
	}
	card := func(c wasteCard, parts []wastePart) wasteCard {
		switch len(parts) {
		case 0:
			c.Href = currentHref
		case 1:
			c.Href = parts[0].Href
		default:
			c.Href, c.Parts = currentHref, parts
		}
		return c
	}
	return []wasteCard{
		{Label: "Unassigned seats", Unit: "seats", Count: sv.UnassignedSeats, Money: sv.Unassigned, Href: currentHref,
			Note: "Bought but held by nobody. Lower the seat count at renewal."},
		card(wasteCard{Label: "Inactive licenses", Unit: "licenses", Count: sv.InactiveSeats, Money: sv.Inactive,
			Note: "Not used in " + plural(inactivityDays, "day") + ". Reclaim them now."}, inactive),
		card(wasteCard{Label: "People who left", Unit: "licenses", Count: sv.LeaverSeats, Money: sv.Leavers,
			Note: "Left per the directory, still active in Miro. Deactivate them."}, leavers),
	}
}

// connectionSyncs are every connection with its last sync run.
func (s *Server) connectionSyncs(r *http.Request) ([]connectionSync, error) {
	conns, err := s.store.Connections(r.Context())
	if err != nil {
		return nil, fmt.Errorf("load connections: %w", err)
	}
	now := s.now()
	var out []connectionSync
	for _, c := range conns {
		cs := connectionSync{ID: c.ID, Name: connectionName(c), OrgID: c.OrgID, Status: string(c.Status), OK: c.Status == roster.StatusActive, Error: c.StatusMessage}
		runs, err := s.store.SyncRuns(r.Context(), c.ID, 1)
		if err != nil {
			return nil, fmt.Errorf("load the last sync of connection %d: %w", c.ID, err)
		}
		if len(runs) > 0 && c.Status != roster.StatusDisconnected {
			run := runs[0]
			cs.Status, cs.OK, cs.At, cs.Error = string(run.Status), run.Status == roster.SyncSucceeded, run.StartedAt, run.Error
			if !run.EndedAt.IsZero() {
				cs.At = run.EndedAt
			}
		}
		if !cs.At.IsZero() {
			cs.Ago = ago(now, cs.At)
		}
		out = append(out, cs)
	}
	return out, nil
}
