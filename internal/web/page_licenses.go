package web

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"roster"
	"roster/internal/insights"
	"roster/internal/licenses"
	"roster/internal/store"
)

// The Licenses page's tabs, in order.
var licenseTabs = []struct{ Key, Label string }{
	{"current", "Current"}, {"recommendations", "Recommendations"}, {"trend", "Trend"}, {"chargeback", "Chargeback"},
}

// trendRanges are the trend's choices of days; defaultTrendDays is the
// first shown.
var trendRanges = []struct {
	Days  int
	Label string
}{{30, "30 days"}, {90, "90 days"}, {365, "1 year"}, {licenses.TrendDays, "2 years"}}

const defaultTrendDays = 90

// chargebackPageSize is the chargeback table's rows per page; the CSV has
// them all.
const chargebackPageSize = 100

// licensesPage is the Licenses page's data: the organization, its tabs
// and the chosen tab's data (the others nil).
type licensesPage struct {
	Page
	Scope          orgScope
	HasConnections bool
	Tab            string
	Tabs           []tabLink
	// Hidden are the parameters the organization selector keeps.
	Hidden     []keptField
	Current    *currentTab
	Recs       []recView
	Trend      *trendTab
	Chargeback *chargebackTab
}

// PickerAction is where the organization selector goes.
func (licensesPage) PickerAction() string { return "/licenses" }

// tabLink is one tab (or toggle) as a real link.
type tabLink struct {
	Key, Label, Href string
	Selected         bool
}

// licensesQuery is the page's checked query string.
type licensesQuery struct {
	tab  string
	days int
	by   string
	page int
}

// parseLicensesQuery checks every parameter, whichever tab it belongs
// to: a wrong value is a 400 that says what it takes.
func parseLicensesQuery(r *http.Request) (licensesQuery, error) {
	q := r.URL.Query()
	lq := licensesQuery{tab: cmp.Or(q.Get("tab"), "current"), days: defaultTrendDays, by: store.ChargebackByTeam, page: 1}
	if !slices.ContainsFunc(licenseTabs, func(t struct{ Key, Label string }) bool { return t.Key == lq.tab }) {
		return lq, errBadRequest(fmt.Sprintf("tab must be current, recommendations, trend or chargeback, not %q.", lq.tab))
	}
	var err error
	if lq.days, err = parseTrendDays(q.Get("days")); err != nil {
		return lq, err
	}
	if lq.by, err = parseChargebackBy(q.Get("by")); err != nil {
		return lq, err
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return lq, errBadRequest(fmt.Sprintf("page must be a page number from 1, not %q.", v))
		}
		lq.page = n
	}
	return lq, nil
}

// parseTrendDays reads days: one of the trend's ranges.
func parseTrendDays(v string) (int, error) {
	if v == "" {
		return defaultTrendDays, nil
	}
	n, err := strconv.Atoi(v)
	if err == nil && slices.ContainsFunc(trendRanges, func(r struct {
		Days  int
		Label string
	}) bool {
		return r.Days == n
	}) {
		return n, nil
	}
	return 0, errBadRequest(fmt.Sprintf("days must be 30, 90, 365 or %d, not %q.", licenses.TrendDays, v))
}

// parseChargebackBy reads by: team or department.
func parseChargebackBy(v string) (string, error) {
	switch v {
	case "":
		return store.ChargebackByTeam, nil
	case store.ChargebackByTeam, store.ChargebackByDepartment:
		return v, nil
	}
	return "", errBadRequest(fmt.Sprintf("by must be team or department, not %q.", v))
}

// licensesHref is the Licenses page of one organization and tab, with
// extra parameters in pairs.
func licensesHref(orgID, tab string, kv ...string) string {
	q := url.Values{}
	if tab != "" && tab != "current" {
		q.Set("tab", tab)
	}
	if orgID != "" {
		q.Set("org", orgID)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	if len(q) == 0 {
		return "/licenses"
	}
	return "/licenses?" + q.Encode()
}

// licensesPage shows one organization's licenses: what it holds and
// pays, what to do about the waste, the trend and the chargeback.
func (s *Server) licensesPage(w http.ResponseWriter, r *http.Request) error {
	lq, err := parseLicensesQuery(r)
	if err != nil {
		return err
	}
	sc, err := s.scopeOrg(r)
	if err != nil {
		return err
	}
	p := licensesPage{Page: s.page(r, "Licenses"), Scope: sc, Tab: lq.tab}
	if !sc.Found {
		conns, err := s.store.Connections(r.Context())
		if err != nil {
			return fmt.Errorf("load connections: %w", err)
		}
		p.HasConnections = len(conns) > 0
		s.render(w, r, http.StatusOK, "licenses", p)
		return nil
	}
	orgID := sc.Org.Org.OrgID
	for _, t := range licenseTabs {
		p.Tabs = append(p.Tabs, tabLink{Key: t.Key, Label: t.Label, Href: licensesHref(orgID, t.Key), Selected: t.Key == lq.tab})
	}
	if lq.tab != "current" {
		p.Hidden = append(p.Hidden, keptField{"tab", lq.tab})
	}
	switch lq.tab {
	case "current":
		p.Current = newCurrentTab(sc.Org)
	case "recommendations":
		p.Recs = recViews(sc.Org, p.CanAct)
	case "trend":
		t, err := s.licenses.Trend(r.Context(), orgID, lq.days)
		if err != nil {
			return err
		}
		p.Trend = newTrendTab(t, sc.Org, lq.days, s.now())
		p.Hidden = append(p.Hidden, keptField{"days", strconv.Itoa(lq.days)})
	case "chargeback":
		cb, err := s.licenses.Chargeback(r.Context(), sc.Org, lq.by)
		if err != nil {
			return err
		}
		if p.Chargeback, err = newChargebackTab(cb, sc.Org, lq.page); err != nil {
			return err
		}
		p.Hidden = append(p.Hidden, keptField{"by", lq.by})
	}
	s.render(w, r, http.StatusOK, "licenses", p)
	return nil
}

// currentTab is what each license holds and costs, and the total.
type currentTab struct {
	Rows  []licenseRow
	Total licenseRow
	// ShowUnknown shows the usage-unknown column: someone's usage is
	// unknown (seen only through team-level connections).
	ShowUnknown bool
	Priced      bool
	Currency    string
	// Saved is false when nobody entered this organization's contract.
	Saved bool
}

// licenseRow is one license's line with the users lists behind its
// counts.
type licenseRow struct {
	insights.LicenseLine
	// Source says where Purchased comes from: "from Miro", "from the
	// contract", or "billed per active user" for a usage-billed license;
	// "" when unknown.
	Source                                              string
	AssignedHref, ActiveHref, InactiveHref, UnknownHref string
	// Unknown is true when nobody's usage is known: active and inactive
	// read "unknown", not 0.
	Unknown bool
	// The table's: whether it shows usage unknown and money, and in what
	// currency.
	ShowUnknown, Priced bool
	Currency            string
}

func newCurrentTab(org insights.OrgSummary) *currentTab {
	id := org.Org.OrgID
	c := &currentTab{Priced: org.Priced, Currency: org.Contract.Currency, Saved: org.Contract.Saved}
	c.Total = licenseRow{
		LicenseLine: insights.LicenseLine{Name: "Total", MonthlyCost: org.MonthlyCost},
		// The deactivated hold no license that counts; so the lists leave
		// them out.
		AssignedHref: usersLink("org", id, "status", "active"),
		ActiveHref:   usersLink("org", id, "activity", "active", "status", "active"),
		InactiveHref: usersLink("org", id, "activity", "inactive", "status", "active"),
		UnknownHref:  usersLink("org", id, "activity", "unknown", "status", "active"),
	}
	t := &c.Total
	for _, l := range org.Licenses {
		row := licenseRow{
			LicenseLine:  l,
			AssignedHref: usersLink("org", id, "license", l.License, "status", "active"),
			ActiveHref:   usersLink("org", id, "license", l.License, "activity", "active", "status", "active"),
			InactiveHref: usersLink("org", id, "license", l.License, "activity", "inactive", "status", "active"),
			UnknownHref:  usersLink("org", id, "license", l.License, "activity", "unknown", "status", "active"),
			Unknown:      l.Assigned > 0 && l.UsageUnknown == l.Assigned,
		}
		switch {
		case l.UsageBilled:
			row.Source = "billed per active user"
		case l.Purchased > 0 && l.FromMiro:
			row.Source = "from Miro"
		case l.Purchased > 0:
			row.Source = "from the contract"
		}
		t.Purchased += l.Purchased
		t.Assigned += l.Assigned
		t.Active += l.Active
		t.Inactive += l.Inactive
		t.UsageUnknown += l.UsageUnknown
		t.Unassigned += l.Unassigned
		c.ShowUnknown = c.ShowUnknown || l.UsageUnknown > 0
		c.Rows = append(c.Rows, row)
	}
	t.Unknown = t.Assigned > 0 && t.UsageUnknown == t.Assigned
	for _, r := range append([]*licenseRow{t}, pointers(c.Rows)...) {
		r.ShowUnknown, r.Priced, r.Currency = c.ShowUnknown, c.Priced, c.Currency
	}
	return c
}

func pointers[T any](s []T) []*T {
	out := make([]*T, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

// recView is one recommendation with its button.
type recView struct {
	insights.Recommendation
	ID string // the anchor, rec-<kind>
	// Unit counts what Count is: people, or seats for the contract.
	Unit string
	// Button and Href are the button's words and link; ListHref is the
	// users list of the people it is about ("" when about seats).
	Button, Href, ListHref string
	// Disabled says why a viewer cannot take the action ("" when they can,
	// or when there is no action).
	Disabled string
}

// recViews turns the recommendations into buttons: a bulk action's
// confirmation page (which shows a dry run first) for those with an
// action, the users list for those to review, the contract for seats.
func recViews(org insights.OrgSummary, canAct bool) []recView {
	var out []recView
	back := licensesHref(org.Org.OrgID, "recommendations")
	for _, rec := range org.Recommendations {
		v := recView{Recommendation: rec, ID: "rec-" + rec.Kind, Unit: "people"}
		if rec.Count == 1 {
			v.Unit = "person"
		}
		switch {
		case rec.Filter == nil:
			v.Unit, v.Button, v.Href = "seats", "Change the contract", contractHref(org.Org.OrgID)
			if rec.Count == 1 {
				v.Unit = "seat"
			}
		case rec.Action != "":
			v.ListHref = usersFilterLink(rec.Filter)
			q := url.Values{"action": {rec.Action}, "return": {back}}
			for k, val := range rec.Filter {
				q.Set(k, val)
			}
			v.Button, v.Href = "Take action", "/users/bulk?"+q.Encode()
			if !canAct {
				v.Disabled = ViewerReason
			}
		default:
			v.ListHref = usersFilterLink(rec.Filter)
			v.Button, v.Href = "Review", v.ListHref
		}
		out = append(out, v)
	}
	return out
}

// trendTab is the licenses over time: the cost, one small chart per
// license, the table behind them and the CSV.
type trendTab struct {
	Days     int
	Ranges   []tabLink
	Cost     timeChart
	Priced   bool
	Currency string
	Charts   []licenseChart
	// Table is the days, runs of identical days merged.
	Table   []trendRow
	Columns []string // license names, in Table's cell order
	CSVHref string
	// First and Last are the first and last days with data.
	First, Last time.Time
	Points      int
}

// licenseChart is one license's assigned, active and inactive.
type licenseChart struct {
	License, Name string
	Chart         timeChart
}

// trendRow is one run of days with the same numbers.
type trendRow struct {
	From, To time.Time
	Cells    []trendCell
	Cost     float64
}

type trendCell struct{ Assigned, Active, Inactive int }

func newTrendTab(t licenses.Trend, org insights.OrgSummary, days int, now time.Time) *trendTab {
	id := t.OrgID
	tt := &trendTab{Days: days, Priced: org.Priced, Currency: t.Contract.Currency, Points: len(t.Days),
		CSVHref: "/licenses/trend.csv?" + url.Values{"org": {id}, "days": {strconv.Itoa(days)}}.Encode()}
	for _, r := range trendRanges {
		tt.Ranges = append(tt.Ranges, tabLink{Key: strconv.Itoa(r.Days), Label: r.Label,
			Href: licensesHref(id, "trend", "days", strconv.Itoa(r.Days)), Selected: r.Days == days})
	}
	if len(t.Days) == 0 {
		return tt
	}
	tt.First, tt.Last = t.Days[0].Day, t.Days[len(t.Days)-1].Day
	today := now.UTC().Truncate(24 * time.Hour)
	dates := make([]time.Time, len(t.Days))
	cost := make([]float64, len(t.Days))
	for i, d := range t.Days {
		dates[i], cost[i] = d.Day, d.Cost
	}
	money := func(v float64) string { return formatMoney(v, t.Contract.Currency) }
	tt.Cost = newTimeChart(chartData{Label: "Monthly cost at today's prices", Days: dates, Until: today, Format: money,
		Lines: []chartLine{{Name: "Monthly cost", Class: "s-cost", Values: cost}}})
	for _, l := range t.Licenses {
		var assigned, active, inactive []float64
		for _, d := range t.Days {
			p := d.Licenses[l]
			assigned = append(assigned, float64(p.Assigned))
			active = append(active, float64(p.Active))
			inactive = append(inactive, float64(p.Inactive))
		}
		name := roster.LicenseName(l)
		tt.Charts = append(tt.Charts, licenseChart{License: l, Name: name, Chart: newTimeChart(chartData{
			Label: name + " licenses: assigned, active and inactive", Days: dates, Until: today, Whole: true,
			Lines: []chartLine{
				{Name: "Assigned", Class: "s-assigned", Values: assigned},
				{Name: "Active", Class: "s-active", Values: active},
				{Name: "Inactive", Class: "s-inactive", Values: inactive},
			}})})
		tt.Columns = append(tt.Columns, name)
	}
	// The table, newest first, a run of equal days in one row.
	for i := len(t.Days) - 1; i >= 0; i-- {
		d := t.Days[i]
		row := trendRow{From: d.Day, To: d.Day, Cost: d.Cost}
		for _, l := range t.Licenses {
			p := d.Licenses[l]
			row.Cells = append(row.Cells, trendCell{p.Assigned, p.Active, p.Inactive})
		}
		if n := len(tt.Table); n > 0 && slices.Equal(tt.Table[n-1].Cells, row.Cells) && tt.Table[n-1].Cost == row.Cost {
			tt.Table[n-1].From = d.Day
			continue
		}
		tt.Table = append(tt.Table, row)
	}
	return tt
}

// chargebackTab is one page of the cost by team or department.
type chargebackTab struct {
	By     string
	Toggle []tabLink
	Lines  []chargebackRow // this page's
	// Rows is how many lines there are on every page.
	Rows int
	// People is the organization's people with a license (each once, also
	// by team); Seats and Cost the lines' sums.
	People   int
	Seats    float64
	Cost     float64
	OrgCost  float64
	Currency string
	Priced   bool
	// Page and Pages; PrevHref and NextHref are "" at the ends.
	Page, Pages        int
	PrevHref, NextHref string
	CSVHref            string
}

// AddsUp reports whether the lines add up to the organization's monthly
// cost, to the cent; they do unless more licenses are assigned than
// bought.
func (c chargebackTab) AddsUp() bool {
	return fmt.Sprintf("%.2f", c.Cost) == fmt.Sprintf("%.2f", c.OrgCost)
}

// chargebackRow is one line with its share of the cost.
type chargebackRow struct {
	licenses.ChargebackLine
	Share float64 // of the total cost, 0..1
	// PeopleHref is the users list of a team's people ("" otherwise).
	PeopleHref string
}

func newChargebackTab(cb licenses.Chargeback, org insights.OrgSummary, page int) (*chargebackTab, error) {
	id := org.Org.OrgID
	c := &chargebackTab{By: cb.By, Cost: cb.Total, OrgCost: org.MonthlyCost, Currency: cb.Contract.Currency,
		Priced: org.Priced, People: org.Org.Accounts - org.Org.Deactivated, Page: page,
		CSVHref: "/licenses/chargeback.csv?" + url.Values{"org": {id}, "by": {cb.By}}.Encode()}
	for _, by := range []struct{ key, label string }{{store.ChargebackByTeam, "By team"}, {store.ChargebackByDepartment, "By department"}} {
		c.Toggle = append(c.Toggle, tabLink{Key: by.key, Label: by.label, Href: licensesHref(id, "chargeback", "by", by.key), Selected: by.key == cb.By})
	}
	lines := sortChargeback(cb.Lines)
	c.Rows = len(lines)
	c.Pages = max(1, (len(lines)+chargebackPageSize-1)/chargebackPageSize)
	if page > c.Pages {
		return nil, &httpError{Status: http.StatusBadRequest,
			Message: fmt.Sprintf("page must be from 1 to %d, not %d.", c.Pages, page),
			Href:    licensesHref(id, "chargeback", "by", cb.By), HrefLabel: "First page"}
	}
	for _, l := range lines {
		c.Seats += l.Seats
	}
	lo := (page - 1) * chargebackPageSize
	for _, l := range lines[lo:min(len(lines), lo+chargebackPageSize)] {
		row := chargebackRow{ChargebackLine: l}
		if cb.Total > 0 {
			row.Share = l.Cost / cb.Total
		}
		if cb.By == store.ChargebackByTeam && l.Key != "" {
			row.PeopleHref = usersLink("org", id, "team", l.Key, "status", "active")
		}
		c.Lines = append(c.Lines, row)
	}
	pageHref := func(n int) string {
		if n == 1 {
			return licensesHref(id, "chargeback", "by", cb.By)
		}
		return licensesHref(id, "chargeback", "by", cb.By, "page", strconv.Itoa(n))
	}
	if page > 1 {
		c.PrevHref = pageHref(page - 1)
	}
	if page < c.Pages {
		c.NextHref = pageHref(page + 1)
	}
	return c, nil
}

// sortChargeback puts the costliest teams or departments first; the
// catch-all lines (no team, not in the directory, seats held by nobody)
// stay last, in their order.
func sortChargeback(lines []licenses.ChargebackLine) []licenses.ChargebackLine {
	out := slices.Clone(lines)
	slices.SortStableFunc(out, func(a, b licenses.ChargebackLine) int {
		if (a.Key == "") != (b.Key == "") {
			if a.Key == "" {
				return 1
			}
			return -1
		}
		if a.Key == "" {
			return 0
		}
		return cmp.Or(cmp.Compare(b.Cost, a.Cost), cmp.Compare(b.Seats, a.Seats), cmp.Compare(a.Label, b.Label))
	})
	return out
}

// formatMoney is an amount with its currency, as the money template
// function writes it.
func formatMoney(amount float64, currency string) string {
	return formatThousands(strconv.FormatFloat(amount, 'f', 2, 64)) + " " + currency
}
