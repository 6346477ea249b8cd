package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"roster"
	"roster/internal/insights"
	"roster/internal/licenses"
	"roster/internal/mirosim"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// moneyFixture is the dashboard fixture (an organization-level and a
// team-level connection, synced) with a contract for the organization,
// prices per year: Full 192 (16 a month, seats from Miro), Advanced 240
// (20 a month, 10 seats bought), Occasional 60 (5 a month per active
// user). Two people with a Full license left per the directory, one still
// using Miro and one inactive; one person is in a department whose name
// is a spreadsheet formula.
type moneyFixture struct {
	*fixture
	orgID, teamOrgID string
	leavers          map[string]bool // emails
	formulaDept      string
	formulaEmail     string
}

// Monthly prices under the fixture's contract.
var fixturePrices = map[string]float64{roster.LicenseFull: 16, "advanced": 20, "occasional": 5}

const fixtureAdvancedSeats = 10

func newMoneyFixture(t *testing.T, db *storeDB) *moneyFixture {
	t.Helper()
	f := newFixture(t, db)
	m := &moneyFixture{fixture: f, orgID: f.info.OrgID, leavers: map[string]bool{}, formulaDept: "=SUM(1+1)"}
	ctx := context.Background()
	c := roster.Contract{OrgID: m.orgID, Currency: "EUR", Billing: roster.BillingYearly, Licenses: map[string]roster.LicenseTerms{
		roster.LicenseFull: {Price: 192}, "advanced": {Seats: fixtureAdvancedSeats, Price: 240}, "occasional": {Price: 60}}}
	require.NoError(t, f.srv.licenses.SaveContract(ctx, c, "test"))

	conns, err := db.Connections(ctx)
	require.NoError(t, err)
	for _, c := range conns {
		if c.ID == f.team.ID {
			m.teamOrgID = c.OrgID
		}
	}
	require.NotEmpty(t, m.teamOrgID)
	require.NotEqual(t, m.orgID, m.teamOrgID)

	cut := m.cut(t)
	var usingLeaver, idleLeaver bool
	for _, a := range m.accounts(t, m.orgID) {
		if a.Email == "" || !a.Active || !a.UsageKnown() {
			continue
		}
		p := roster.Person{Email: a.Email, Name: a.Name, Status: roster.PersonLeft, Department: "Finance"}
		switch {
		case a.License == roster.LicenseFull && !usingLeaver && !a.Inactive(cut):
			usingLeaver = true
		case a.License == roster.LicenseFull && !idleLeaver && a.Inactive(cut):
			idleLeaver = true
		case a.License == "advanced" && m.formulaEmail == "":
			m.formulaEmail = a.Email
			p.Status, p.Department = roster.PersonActive, m.formulaDept
		default:
			continue
		}
		if p.Status == roster.PersonLeft {
			m.leavers[a.Email] = true
		}
		require.NoError(t, db.UpsertPerson(ctx, &p))
	}
	require.True(t, usingLeaver && idleLeaver && m.formulaEmail != "", "the fixture lacks the people the tests need")
	return m
}

func (m *moneyFixture) cut(t *testing.T) time.Time {
	settings, err := m.db.Settings(context.Background())
	require.NoError(t, err)
	return insights.InactiveBefore(m.clock.Now(), settings.InactivityDays)
}

// accounts are one organization's accounts, not left.
func (m *moneyFixture) accounts(t *testing.T, orgID string) []roster.Account {
	t.Helper()
	all, err := m.db.Accounts(context.Background(), store.AccountFilter{})
	require.NoError(t, err)
	var out []roster.Account
	for _, a := range all {
		if a.OrgID == orgID {
			out = append(out, a)
		}
	}
	return out
}

// licenseWant is one license's numbers, counted from the accounts.
type licenseWant struct {
	purchased, assigned, active, inactive, unknown, unassigned int
	used, leavers, inactiveLeavers, inactiveGuests             int
	cost                                                       float64
}

// want counts the organization's licenses from its accounts, by the rules
// the page states: assigned are held by people not deactivated; active
// and inactive by roster.Account.Inactive, usage unknown neither; cost
// is seats bought × price, or per person active in the last 30 days for
// Occasional.
func (m *moneyFixture) want(t *testing.T) (map[string]*licenseWant, float64) {
	t.Helper()
	cut, usedSince := m.cut(t), insights.UsedSince(m.clock.Now())
	w := map[string]*licenseWant{}
	for _, a := range m.accounts(t, m.orgID) {
		if !a.Active {
			continue
		}
		l := w[a.License]
		if l == nil {
			l = &licenseWant{}
			w[a.License] = l
		}
		l.assigned++
		switch {
		case !a.UsageKnown():
			l.unknown++
		case a.Inactive(cut):
			l.inactive++
		default:
			l.active++
		}
		if a.UsageKnown() && !a.LastActivityAt.IsZero() && !a.LastActivityAt.Before(usedSince) {
			l.used++
		}
		if m.leavers[a.Email] {
			l.leavers++
			if a.Inactive(cut) {
				l.inactiveLeavers++
			}
		} else if a.Inactive(cut) && roster.GuestOrExternal(a.OrgRole) {
			l.inactiveGuests++
		}
	}
	org, err := m.db.Organization(context.Background(), m.orgID)
	require.NoError(t, err)
	require.NotZero(t, org.FullLicensesPurchased)
	w[roster.LicenseFull].purchased = org.FullLicensesPurchased
	w["advanced"].purchased = fixtureAdvancedSeats
	total := 0.0
	for lic, l := range w {
		if l.purchased > 0 {
			l.unassigned = max(0, l.purchased-l.assigned)
		}
		switch {
		case lic == "occasional":
			l.cost = float64(l.used) * fixturePrices[lic]
		case l.purchased > 0:
			l.cost = float64(l.purchased) * fixturePrices[lic]
		default:
			l.cost = float64(l.assigned) * fixturePrices[lic]
		}
		total += l.cost
	}
	require.Greater(t, w[roster.LicenseFull].unassigned, 0, "the fixture should have unassigned Full seats")
	require.Greater(t, w["advanced"].unassigned, 0, "the fixture should have unassigned Advanced seats")
	require.Greater(t, w["occasional"].used, 0)
	return w, total
}

// linkCount is how many people the users list at href holds, asked of
// the store with the list's own query: the users page's parameters
// (org, license, activity, status, role, guests, members, team) as the store
// reads them.
func (m *moneyFixture) linkCount(t *testing.T, href string) int {
	t.Helper()
	u, err := url.Parse(href)
	require.NoError(t, err)
	require.Equal(t, "/users", u.Path, href)
	q := u.Query()
	aq := store.AccountQuery{Org: q.Get("org"), License: q.Get("license"), Activity: q.Get("activity"),
		Status: q.Get("status"), OrgRole: q.Get("role"), Guests: q.Get("guests") == "1", Members: q.Get("members") == "1", MiroTeamID: q.Get("team"), Limit: 1}
	if aq.Activity == "active" || aq.Activity == "inactive" {
		aq.ActiveSince = m.cut(t)
	}
	for k := range q {
		require.Contains(t, []string{"org", "license", "activity", "status", "role", "guests", "members", "team"}, k, "%s: a parameter the check does not read", href)
	}
	page, err := m.db.ListAccounts(context.Background(), aq)
	require.NoError(t, err, href)
	return page.Total
}

// cellNumber reads the first number of a cell ("1,234 from Miro" is 1234).
func cellNumber(t *testing.T, n *html.Node) int {
	t.Helper()
	f := strings.Fields(text(n))
	require.NotEmpty(t, f, "empty cell")
	return number(t, f[0])
}

// cellMoney reads "1,234.50 EUR" as 1234.5.
func cellMoney(t *testing.T, n *html.Node) float64 {
	t.Helper()
	f := strings.Fields(text(n))
	require.GreaterOrEqual(t, len(f), 2, "not money: %q", text(n))
	require.Equal(t, "EUR", f[1], text(n))
	v, err := strconv.ParseFloat(strings.ReplaceAll(f[0], ",", ""), 64)
	require.NoError(t, err)
	return v
}

func cellLink(t *testing.T, n *html.Node) string {
	t.Helper()
	as := findAll(n, "a", "")
	require.Len(t, as, 1, "no link in %q", text(n))
	return attr(as[0], "href")
}

// licenseRows are the Current tab's rows by Miro's license value, and
// the total row.
func licenseRows(t *testing.T, body string) (map[string][]*html.Node, []*html.Node) {
	t.Helper()
	tables := findAll(parseHTML(t, body), "table", "licenses")
	require.Len(t, tables, 1)
	rows := map[string][]*html.Node{}
	for _, tr := range findAll(findAll(tables[0], "tbody", "")[0], "tr", "") {
		span := findAll(findAll(tr, "th", "")[0], "span", "")[0]
		rows[strings.TrimPrefix(attr(span, "title"), "Miro's value: ")] = findAll(tr, "td", "")
	}
	return rows, findAll(findAll(tables[0], "tfoot", "")[0], "td", "")
}

// TestLicensesCurrent checks each license's numbers on the Current tab
// against counts from the store's accounts and the contract, the total
// row, and that each count links to a list of exactly that many people.
func TestLicensesCurrent(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		m := newMoneyFixture(t, db)
		want, wantTotal := m.want(t)
		br := m.loggedIn(t, roster.RoleViewer)
		p := br.mustGet("/licenses")
		doc := parseHTML(t, p.Body)

		// The default is the organization-level connection's organization,
		// and the selector offers both.
		opts := findAll(doc, "option", "")
		require.Len(t, opts, 2)
		for _, o := range opts {
			require.Equal(t, attr(o, "value") == m.orgID, hasAttr(o, "selected"), "option %s", attr(o, "value"))
		}
		require.NotContains(t, p.Body, `id="no-contract"`, "the contract is saved")
		require.NotContains(t, p.Body, "Usage unknown", "everyone's usage is known in this organization")

		rows, totalRow := licenseRows(t, p.Body)
		require.Len(t, rows, len(want))
		// Bought, Assigned, Active, Inactive, Unassigned, Price, Cost.
		sum := licenseWant{}
		for lic, w := range want {
			cells, ok := rows[lic]
			require.True(t, ok, "no row for %s", lic)
			require.Len(t, cells, 7, lic)
			if w.purchased > 0 {
				require.Equal(t, w.purchased, cellNumber(t, cells[0]), lic)
				require.Equal(t, w.unassigned, cellNumber(t, cells[4]), lic)
			}
			require.Equal(t, w.assigned, number(t, text(cells[1])), lic)
			require.Equal(t, w.active, number(t, text(cells[2])), lic)
			require.Equal(t, w.inactive, number(t, text(cells[3])), lic)
			if price := fixturePrices[lic]; price > 0 {
				require.InDelta(t, price, cellMoney(t, cells[5]), 0.001, lic)
			}
			require.InDelta(t, w.cost, cellMoney(t, cells[6]), 0.001, lic)
			for i, n := range map[int]int{1: w.assigned, 2: w.active, 3: w.inactive} {
				require.Equal(t, n, m.linkCount(t, cellLink(t, cells[i])), "%s column %d", lic, i)
			}
			sum.purchased += w.purchased
			sum.assigned += w.assigned
			sum.active += w.active
			sum.inactive += w.inactive
			sum.unassigned += w.unassigned
		}
		require.Contains(t, text(rows[roster.LicenseFull][0]), "from Miro")
		require.Contains(t, text(rows["advanced"][0]), "from the contract")
		require.Contains(t, text(rows["occasional"][0]), "billed per active user")
		require.Equal(t, "Full", text(findAll(findAll(doc, "table", "licenses")[0], "span", "")[0]), "licenses read as people say them")

		// The total row adds up, and its lists are the whole organization's.
		require.Equal(t, sum.purchased, cellNumber(t, totalRow[0]))
		require.Equal(t, sum.assigned, number(t, text(totalRow[1])))
		require.Equal(t, sum.active, number(t, text(totalRow[2])))
		require.Equal(t, sum.inactive, number(t, text(totalRow[3])))
		require.Equal(t, sum.unassigned, number(t, text(totalRow[4])))
		require.InDelta(t, wantTotal, cellMoney(t, totalRow[6]), 0.001)
		require.Equal(t, sum.assigned, m.linkCount(t, cellLink(t, totalRow[1])))
		require.Equal(t, sum.active, m.linkCount(t, cellLink(t, totalRow[2])))
		require.Equal(t, sum.inactive, m.linkCount(t, cellLink(t, totalRow[3])))

		// The team-level organization: no contract, licenses inferred,
		// usage unknown for all of its people.
		p = br.mustGet("/licenses?org=" + m.teamOrgID)
		require.Contains(t, p.Body, `id="no-contract"`)
		require.Contains(t, p.Body, `href="/settings#contract-`+m.teamOrgID+`"`)
		require.Contains(t, p.Body, `id="usage-unknown"`)
		require.Contains(t, p.Body, "<strong>inferred</strong>")
		rows, _ = licenseRows(t, p.Body)
		full := rows[roster.LicenseFull]
		require.Len(t, full, 8, "with the usage-unknown column")
		team := m.accounts(t, m.teamOrgID)
		require.Equal(t, len(team), number(t, text(full[1])))
		require.Equal(t, "—", text(full[2]), "active is unknown, not 0")
		require.Equal(t, "—", text(full[3]), "inactive is unknown, not 0")
		require.Equal(t, len(team), number(t, text(full[4])))
		require.Equal(t, len(team), m.linkCount(t, cellLink(t, full[4])))
		require.Contains(t, text(findAll(findAll(parseHTML(t, p.Body), "table", "licenses")[0], "th", "")[9]), "inferred")
	})
}

// recItems are the Recommendations tab's items by kind.
func recItems(t *testing.T, body string) map[string]*html.Node {
	t.Helper()
	out := map[string]*html.Node{}
	for _, li := range findAll(parseHTML(t, body), "li", "rec") {
		out[strings.TrimPrefix(attr(li, "id"), "rec-")] = li
	}
	return out
}

// TestLicensesRecommendations checks each recommendation's count and
// money against the fixture, and where its button leads: the bulk
// confirmation page with the recommendation's filter for an action, the
// users list to review, the contract for seats.
func TestLicensesRecommendations(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		m := newMoneyFixture(t, db)
		want, _ := m.want(t)
		br := m.loggedIn(t, roster.RoleAdmin)
		p := br.mustGet("/licenses?tab=recommendations&org=" + m.orgID)
		require.Contains(t, p.Body, `aria-selected="true" aria-current="page">Recommendations</a>`)
		recs := recItems(t, p.Body)
		full, adv := want[roster.LicenseFull], want["advanced"]

		figures := func(kind string) (int, float64, *html.Node) {
			li, ok := recs[kind]
			require.True(t, ok, "no %s recommendation: %v", kind, recs)
			fig := findAll(li, "div", "rec-figures")[0]
			n := cellNumber(t, findAll(fig, "span", "count")[0])
			money := 0.0
			if s := text(findAll(fig, "span", "money")[0]); strings.HasSuffix(s, "a month") {
				money = cellMoney(t, findAll(fig, "span", "money")[0])
			}
			return n, money, findAll(findAll(li, "div", "rec-action")[0], "a", "button")[0]
		}
		back := "/licenses?org=" + m.orgID + "&tab=recommendations"

		// The inactive who left are the leavers' recommendation, inactive
		// guests the review's: the reclaim is what a deactivation takes.
		require.Positive(t, full.inactiveGuests, "the fixture should have an inactive guest with a Full license")
		reclaim := full.inactive - full.inactiveLeavers - full.inactiveGuests
		n, money, button := figures(insights.RecommendReclaimInactive)
		require.Equal(t, reclaim, n)
		require.InDelta(t, float64(reclaim)*16, money, 0.001)
		require.Equal(t, "Take action", text(button))
		bulk, err := url.Parse(attr(button, "href"))
		require.NoError(t, err)
		require.Equal(t, "/users/bulk", bulk.Path)
		require.Equal(t, url.Values{"action": {"deactivate"}, "license": {"full"}, "activity": {"inactive"}, "status": {"active"},
			"directory": {"not_left"}, "members": {"1"}, "org": {m.orgID}, "return": {back}}, bulk.Query())
		require.Contains(t, attr(button, "href"), "return=%2Flicenses%3Forg%3D"+m.orgID+"%26tab%3Drecommendations", "the return address is one encoded parameter")

		n, money, button = figures(insights.RecommendRemoveLeavers)
		require.Equal(t, full.leavers+adv.leavers, n)
		require.Equal(t, 2, n)
		require.InDelta(t, 2*16.0, money, 0.001)
		bulk, err = url.Parse(attr(button, "href"))
		require.NoError(t, err)
		require.Equal(t, url.Values{"action": {"deactivate"}, "directory": {"left"}, "status": {"active"}, "org": {m.orgID}, "return": {back}}, bulk.Query())

		n, money, button = figures(insights.RecommendCutUnassigned)
		require.Equal(t, full.unassigned+adv.unassigned, n)
		require.InDelta(t, float64(full.unassigned)*16+float64(adv.unassigned)*20, money, 0.001)
		require.Equal(t, "/settings#contract-"+m.orgID, attr(button, "href"))

		guests := 0
		for _, a := range m.accounts(t, m.orgID) {
			if a.OrgRole == roster.OrgRoleTeamGuest || a.OrgRole == roster.OrgRoleExternalUser {
				guests++
			}
		}
		n, money, button = figures(insights.RecommendReviewGuests)
		require.Equal(t, guests, n)
		require.InDelta(t, float64(full.inactiveGuests)*16+float64(adv.inactiveGuests)*20, money, 0.001)
		require.Equal(t, "Review", text(button))
		require.Equal(t, url.Values{"guests": {"1"}, "org": {m.orgID}}, mustQuery(t, attr(button, "href"), "/users"))

		// Most money first.
		var order []float64
		for _, li := range findAll(parseHTML(t, p.Body), "li", "rec") {
			s := text(findAll(li, "span", "money")[0])
			v := 0.0
			if strings.HasSuffix(s, "a month") {
				v = cellMoney(t, findAll(li, "span", "money")[0])
			}
			order = append(order, v)
		}
		require.True(t, slices.IsSortedFunc(order, func(a, b float64) int { return int(b - a) }), "%v", order)

		// A viewer sees the action disabled, saying why.
		vp := m.loggedIn(t, roster.RoleViewer).mustGet("/licenses?tab=recommendations")
		li := recItems(t, vp.Body)[insights.RecommendReclaimInactive]
		btn := findAll(li, "button", "")
		require.Len(t, btn, 1)
		require.True(t, hasAttr(btn[0], "disabled"))
		require.Contains(t, text(li), ViewerReason)
	})
}

func mustQuery(t *testing.T, href, path string) url.Values {
	t.Helper()
	u, err := url.Parse(href)
	require.NoError(t, err)
	require.Equal(t, path, u.Path)
	return u.Query()
}

// TestLicensesTrend syncs on three days spread over 40 days and checks
// the trend: points placed by date, distinct date labels, a y axis just
// above the data, the table and the CSV with the store's daily numbers.
func TestLicensesTrend(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		m := newMoneyFixture(t, db)
		ctx := context.Background()
		// Later syncs run on the test's clock: 10 and 40 days on, with a
		// Full license holder deactivated in Miro in between.
		m.kit.Syncer.Now = m.clock.Now
		m.clock.Add(10 * 24 * time.Hour)
		acc := m.licensedMember(t)
		off := false
		_, err := m.sim.UpdateMember(acc.MiroUserID, mirosim.UserPatch{Active: &off})
		require.NoError(t, err)
		m.sync(t, m.org.ID)
		m.clock.Add(30 * 24 * time.Hour)
		m.sync(t, m.org.ID)

		days, err := db.LicenseDays(ctx, m.orgID, m.clock.Now().AddDate(0, 0, -90))
		require.NoError(t, err)
		assigned := map[string]int{} // Full, by day
		for _, d := range days {
			if d.License == roster.LicenseFull {
				assigned[d.Day.Format(time.DateOnly)] = d.Assigned
			}
		}
		require.Len(t, assigned, 3, "three days with a sync: %v", assigned)

		br := m.loggedIn(t, roster.RoleViewer)
		p := br.mustGet("/licenses?tab=trend&org=" + m.orgID)
		doc := parseHTML(t, p.Body)
		var fullChart *html.Node
		for _, fig := range findAll(doc, "figure", "chart-card") {
			if spans := findAll(findAll(fig, "figcaption", "")[0], "span", ""); len(spans) > 0 && attr(spans[0], "title") == "Miro's value: full" {
				fullChart = fig
			}
		}
		require.NotNil(t, fullChart, "no Full chart")

		// The x labels are distinct dates.
		var labels []string
		for _, tx := range findAll(fullChart, "text", "x") {
			labels = append(labels, text(tx))
		}
		require.NotEmpty(t, labels)
		require.Len(t, labels, len(slices.Compact(slices.Clone(labels))), "repeated labels: %v", labels)

		// Points sit by date: 10 days, then 30 days.
		var xs []float64
		for _, c := range findAll(fullChart, "circle", "s-assigned") {
			x, err := strconv.ParseFloat(attr(c, "cx"), 64)
			require.NoError(t, err)
			xs = append(xs, x)
		}
		require.Len(t, xs, 3)
		require.InDelta(t, 3, (xs[2]-xs[1])/(xs[1]-xs[0]), 0.05, "30 days are three times 10 days: %v", xs)
		require.Len(t, findAll(fullChart, "rect", "hover"), 3, "a tooltip per day")

		// The y axis tops the data, within 1.5 times it.
		dataMax := 0
		for _, n := range assigned {
			dataMax = max(dataMax, n)
		}
		var top int
		for _, tx := range findAll(fullChart, "text", "y") {
			top = max(top, number(t, text(tx)))
		}
		require.GreaterOrEqual(t, top, dataMax)
		require.LessOrEqual(t, float64(top), 1.5*float64(dataMax))

		// The table: a row per day (none of them equal), Full first.
		table := findAll(findAll(doc, "details", "trend-table")[0], "tbody", "")[0]
		trs := findAll(table, "tr", "")
		require.Len(t, trs, 3)
		for _, tr := range trs {
			day, err := time.Parse("Jan 2, 2006", text(findAll(tr, "th", "")[0]))
			require.NoError(t, err)
			require.Equal(t, assigned[day.Format(time.DateOnly)], number(t, text(findAll(tr, "td", "")[0])), "Full assigned on %s", day)
		}

		// 30 days hold the last two syncs.
		p30 := parseHTML(t, br.mustGet("/licenses?tab=trend&days=30&org="+m.orgID).Body)
		require.Len(t, findAll(findAll(findAll(p30, "details", "trend-table")[0], "tbody", "")[0], "tr", ""), 2)

		// The CSV: a row per day and license.
		resp := br.get("/licenses/trend.csv?days=90&org=" + m.orgID)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
		require.Contains(t, resp.Header.Get("Content-Disposition"), "attachment")
		recs, err := csv.NewReader(strings.NewReader(resp.Body)).ReadAll()
		require.NoError(t, err)
		require.Equal(t, []string{"date", "license", "license_name", "purchased", "assigned", "active", "inactive", "usage_unknown", "monthly_cost", "currency"}, recs[0])
		require.Len(t, recs, 1+len(days), "one row per day and license")
		org, err := db.Organization(ctx, m.orgID)
		require.NoError(t, err)
		seen := 0
		for _, r := range recs[1:] {
			if r[1] != roster.LicenseFull {
				continue
			}
			seen++
			require.Equal(t, "Full", r[2])
			require.Equal(t, strconv.Itoa(assigned[r[0]]), r[4], r[0])
			require.Equal(t, fmt.Sprintf("%.2f", float64(org.FullLicensesPurchased)*16), r[8], "seats from Miro × the monthly price")
			require.Equal(t, "EUR", r[9])
		}
		require.Equal(t, 3, seen)
	})
}

// TestLicensesChargeback checks the cost by team against each person's
// license split between their teams, by department against the
// directory, that both add up to the organization's monthly cost, and
// the CSV with its formula guard.
func TestLicensesChargeback(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		m := newMoneyFixture(t, db)
		ctx := context.Background()
		want, wantTotal := m.want(t)
		// A person's monthly price: Occasional's is the month's cost spread
		// over its holders.
		occ := want["occasional"]
		price := func(l string) float64 {
			if l == "occasional" {
				return fixturePrices[l] * float64(occ.used) / float64(occ.assigned)
			}
			return fixturePrices[l]
		}
		teamCost, teamPeople, deptCost, deptPeople := map[string]float64{}, map[string]int{}, map[string]float64{}, map[string]int{}
		people := 0
		for _, a := range m.accounts(t, m.orgID) {
			if !a.Active {
				continue
			}
			people++
			ms, err := db.AccountMemberships(ctx, a.ID)
			require.NoError(t, err)
			// Split equally between the person's teams.
			for _, team := range ms {
				teamCost[team.MiroTeamID] += price(a.License) / float64(len(ms))
				teamPeople[team.MiroTeamID]++
			}
			dept := "Not in the directory"
			switch {
			case m.leavers[a.Email]:
				dept = "Finance"
			case a.Email == m.formulaEmail:
				dept = m.formulaDept
			}
			deptCost[dept] += price(a.License)
			deptPeople[dept]++
		}
		unassigned := float64(want[roster.LicenseFull].unassigned)*16 + float64(want["advanced"].unassigned)*20

		br := m.loggedIn(t, roster.RoleViewer)
		rowsOf := func(body string) (map[string][]*html.Node, []*html.Node) {
			doc := parseHTML(t, body)
			tbl := findAll(doc, "table", "chargeback")
			require.Len(t, tbl, 1)
			rows := map[string][]*html.Node{}
			for _, tr := range findAll(findAll(tbl[0], "tbody", "")[0], "tr", "") {
				rows[text(findAll(tr, "th", "")[0])] = findAll(tr, "td", "")
			}
			return rows, findAll(findAll(tbl[0], "tfoot", "")[0], "td", "")
		}

		// By team.
		rows, total := rowsOf(br.mustGet("/licenses?tab=chargeback&org=" + m.orgID).Body)
		teamRows := len(rows)
		teams, err := db.Teams(ctx, m.org.ID)
		require.NoError(t, err)
		sum := 0.0
		for _, team := range teams {
			if teamPeople[team.MiroTeamID] == 0 {
				continue
			}
			cells, ok := rows[team.Name]
			require.True(t, ok, "no row for team %s", team.Name)
			require.Equal(t, teamPeople[team.MiroTeamID], number(t, text(cells[0])), team.Name)
			require.Equal(t, teamPeople[team.MiroTeamID], m.linkCount(t, cellLink(t, cells[0])), team.Name)
			require.InDelta(t, math.Round(teamCost[team.MiroTeamID]*100)/100, cellMoney(t, cells[2]), 0.006, team.Name)
			sum += cellMoney(t, cells[2])
		}
		nobody, ok := rows["Seats held by nobody"]
		require.True(t, ok)
		require.InDelta(t, unassigned, cellMoney(t, nobody[2]), 0.001)
		sum += cellMoney(t, nobody[2])
		if cells, ok := rows["No team"]; ok {
			sum += cellMoney(t, cells[2])
		}
		require.InDelta(t, wantTotal, sum, 0.05, "the lines add up to the monthly cost")
		require.InDelta(t, wantTotal, cellMoney(t, total[2]), 0.001, "the total is the monthly cost")
		require.Equal(t, people, cellNumber(t, total[0]), "the total counts each person once")

		// By department.
		rows, total = rowsOf(br.mustGet("/licenses?tab=chargeback&by=department&org=" + m.orgID).Body)
		for dept, n := range deptPeople {
			cells, ok := rows[dept]
			require.True(t, ok, "no row for %s: %v", dept, rows)
			require.Equal(t, n, number(t, text(cells[0])), dept)
			require.InDelta(t, math.Round(deptCost[dept]*100)/100, cellMoney(t, cells[2]), 0.006, dept)
		}
		require.InDelta(t, wantTotal, cellMoney(t, total[2]), 0.001)
		require.Equal(t, people, cellNumber(t, total[0]))

		// The CSV has every line; a department named like a formula is
		// defused.
		resp := br.get("/licenses/chargeback.csv?by=department&org=" + m.orgID)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		recs, err := csv.NewReader(strings.NewReader(resp.Body)).ReadAll()
		require.NoError(t, err)
		require.Equal(t, []string{"department", "people", "paid_seats", "monthly_cost", "currency"}, recs[0])
		require.Len(t, recs, 1+len(deptPeople)+1, "the departments and the seats held by nobody")
		got := map[string][]string{}
		csvTotal := 0.0
		for _, r := range recs[1:] {
			got[r[0]] = r
			v, err := strconv.ParseFloat(r[3], 64)
			require.NoError(t, err)
			csvTotal += v
		}
		require.Contains(t, got, "'"+m.formulaDept, "the formula is defused: %v", got)
		require.NotContains(t, got, m.formulaDept)
		require.Equal(t, "1", got["'"+m.formulaDept][1])
		require.InDelta(t, wantTotal, csvTotal, 0.05)

		resp = br.get("/licenses/chargeback.csv?org=" + m.orgID)
		recs, err = csv.NewReader(strings.NewReader(resp.Body)).ReadAll()
		require.NoError(t, err)
		require.Equal(t, []string{"team", "team_id", "people", "paid_seats", "monthly_cost", "currency"}, recs[0])
		require.Len(t, recs, 1+teamRows, "every line of the page")
	})
}

// TestChargebackPaging pages a thousand teams by a hundred, costliest
// first, with the catch-all lines last and a total over every page.
func TestChargebackPaging(t *testing.T) {
	t.Parallel()
	cb := licenses.Chargeback{OrgID: "o1", By: store.ChargebackByTeam, Contract: roster.Contract{Currency: "EUR"}}
	for i := range 1000 {
		cb.Lines = append(cb.Lines, licenses.ChargebackLine{ChargebackRow: store.ChargebackRow{Key: fmt.Sprintf("t%d", i), People: 1},
			Label: fmt.Sprintf("Team %d", i), Seats: 1, Cost: float64(i % 37)})
		cb.Total += float64(i % 37)
	}
	cb.Lines = append(cb.Lines, licenses.ChargebackLine{Label: "Seats held by nobody", Seats: 3, Cost: 48})
	cb.Total += 48
	org := insights.OrgSummary{Org: roster.OrgOverview{OrgID: "o1", Accounts: 1000}, MonthlyCost: cb.Total, Priced: true}

	first, err := newChargebackTab(cb, org, 1)
	require.NoError(t, err)
	require.Len(t, first.Lines, chargebackPageSize)
	require.Equal(t, 11, first.Pages)
	require.Equal(t, 36.0, first.Lines[0].Cost, "costliest first")
	require.Empty(t, first.PrevHref)
	require.Equal(t, "/licenses?by=team&org=o1&page=2&tab=chargeback", first.NextHref)
	require.True(t, first.AddsUp())
	require.Equal(t, 1003.0, first.Seats, "the total is over every page")

	last, err := newChargebackTab(cb, org, 11)
	require.NoError(t, err)
	require.Len(t, last.Lines, 1)
	require.Equal(t, "Seats held by nobody", last.Lines[0].Label, "the catch-all line is last")
	require.Empty(t, last.NextHref)

	_, err = newChargebackTab(cb, org, 12)
	code, msg, _ := statusOf(err)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, msg, "page must be from 1 to 11")
}

// TestLicensesBadInput: a wrong parameter is a 400 that names it, on the
// page and on the CSV exports.
func TestLicensesBadInput(t *testing.T) {
	t.Parallel()
	m := newMoneyFixture(t, openSQLite(t))
	br := m.loggedIn(t, roster.RoleViewer)
	for path, says := range map[string]string{
		"/licenses?org=nope":                     `No Miro organization with id &#34;nope&#34;`,
		"/?org=nope":                             `No Miro organization with id &#34;nope&#34;`,
		"/licenses?tab=money":                    "tab must be current, recommendations, trend or chargeback",
		"/licenses?tab=trend&days=7":             "days must be 30, 90, 365 or 730",
		"/licenses?tab=trend&days=x":             "days must be 30, 90, 365 or 730",
		"/licenses?tab=chargeback&by=cost":       "by must be team or department",
		"/licenses?tab=chargeback&page=0":        "page must be a page number",
		"/licenses?tab=chargeback&page=9":        "page must be from 1 to 1",
		"/licenses/trend.csv?days=14":            "days must be",
		"/licenses/trend.csv?org=nope":           "No Miro organization",
		"/licenses/chargeback.csv?by=x":          "by must be team or department",
		"/licenses/chargeback.csv?org=" + "9999": "No Miro organization",
	} {
		p := br.get(path)
		require.Equal(t, http.StatusBadRequest, p.StatusCode, path)
		require.Contains(t, p.Body, says, path)
	}
	// The unknown organization's message names the known ones.
	require.Contains(t, br.get("/licenses?org=nope").Body, m.orgID)
}

// TestLicensesEmpty: with nothing connected, the overview and the
// Licenses page say what to do; an admin gets the button.
func TestLicensesEmpty(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.loggedIn(t, roster.RoleAdmin)
	for _, path := range []string{"/", "/licenses", "/licenses?tab=trend"} {
		p := admin.mustGet(path)
		require.Contains(t, p.Body, "Connect Miro to see your licenses", path)
		require.Contains(t, p.Body, `href="/connections/new"`, path)
	}
	viewer := b.loggedIn(t, roster.RoleViewer)
	require.Contains(t, viewer.mustGet("/").Body, "Ask an admin to add a connection")
	require.Equal(t, http.StatusNotFound, viewer.get("/licenses/trend.csv").StatusCode)
}

// TestTimeChart checks the axes on their own: y tops within 1.5 times
// the data, x labels distinct and at most six whatever the span.
func TestTimeChart(t *testing.T) {
	t.Parallel()
	for _, whole := range []bool{true, false} {
		for v := 0.37; v < 2e6; v *= 1.07 {
			if whole {
				v = math.Ceil(v)
			}
			top, step := niceAxis(v, whole)
			require.GreaterOrEqual(t, top, v)
			if !whole || v >= 5 {
				require.Less(t, top, 1.5*v, "max %v: top %v", v, top)
			}
			require.LessOrEqual(t, top/step, 5.0+1e-9, "max %v: %v steps", v, top/step)
			if whole {
				require.Equal(t, math.Trunc(step), step)
			}
		}
	}
	require.Equal(t, 6000.0, must(niceAxis(5001, true)), "not 10,000 for data at 5,000")

	start := time.Date(2025, 3, 17, 0, 0, 0, 0, time.UTC)
	for span := 1; span <= 800; span++ {
		ticks := dateTicks(start, start.AddDate(0, 0, span), maxXTicks)
		require.NotEmpty(t, ticks, "span %d", span)
		require.LessOrEqual(t, len(ticks), maxXTicks, "span %d", span)
		seen := map[string]bool{}
		for _, tk := range ticks {
			require.False(t, seen[tk.label], "span %d: %q twice", span, tk.label)
			seen[tk.label] = true
		}
	}

	// Days 0, 10 and 40: placed by date, not evenly.
	days := []time.Time{start, start.AddDate(0, 0, 10), start.AddDate(0, 0, 40)}
	c := newTimeChart(chartData{Days: days, Whole: true, Lines: []chartLine{{Name: "Assigned", Class: "s-assigned", Values: []float64{40, 45, 51}}}})
	d := c.Series[0].Dots
	require.InDelta(t, 3, (d[2].X-d[1].X)/(d[1].X-d[0].X), 0.02)
	require.Equal(t, 60.0, c.YMax)
	require.Equal(t, "Mar 17, 2025\nAssigned: 40", c.Hovers[0].Title)
	require.True(t, newTimeChart(chartData{}).Empty)

	// Two years: a steady line is one segment, a step keeps its corners,
	// and the tooltips are bands of a few days that cover the plot and
	// tell each band's last day.
	days, steady, step := nil, []float64(nil), []float64(nil)
	for i := range 730 {
		days = append(days, start.AddDate(0, 0, i))
		steady = append(steady, 500)
		step = append(step, float64(100+100*(i/365)))
	}
	c = newTimeChart(chartData{Days: days, Whole: true, Lines: []chartLine{
		{Name: "Steady", Values: steady}, {Name: "Step", Values: step}}})
	require.Equal(t, 1, strings.Count(c.Series[0].Path, "L"), c.Series[0].Path)
	require.Equal(t, 3, strings.Count(c.Series[1].Path, "L"), "start, the two corners of the step, the end: %s", c.Series[1].Path)
	require.LessOrEqual(t, len(c.Hovers), maxHovers)
	require.Greater(t, len(c.Hovers), maxHovers/2)
	require.Equal(t, c.Left, c.Hovers[0].X)
	last := c.Hovers[len(c.Hovers)-1]
	require.InDelta(t, c.Right, last.X+last.W, 0.1)
	require.Equal(t, "Mar 16, 2027\nSteady: 500\nStep: 200", last.Title)
	for i := 1; i < len(c.Hovers); i++ {
		require.InDelta(t, c.Hovers[i-1].X+c.Hovers[i-1].W, c.Hovers[i].X, 0.11, "band %d leaves a gap", i)
	}
}

func must(top, _ float64) float64 { return top }
