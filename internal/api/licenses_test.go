package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/httpauth"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// TestAPIContracts: the organizations roster reaches, reading and
// replacing one's contract (scopes, sessions, audit), and every bad field
// named with nothing changed, on both databases.
func TestAPIContracts(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newFixture(t, db)
		ctx := context.Background()
		read := f.newAPIKey(t, "reader", roster.ScopeRead)
		act := f.newAPIKey(t, "robot", roster.ScopeRead, roster.ScopeAct)
		call := func(method, template, path, key string, body any, want int, headers ...string) apiAnswer {
			t.Helper()
			a := f.api(t, method, path, key, body, headers...)
			require.Equal(t, want, a.Status, "%s %s: %s", method, path, a.Body)
			validAnswer(t, doc, f.testBundle, method, template, path, a)
			return a
		}
		const contractPath = "/api/v1/organizations/{org_id}/contract"
		orgID, teamOrgID := f.org.OrgID, f.team.OrgID
		seats := seatsFromMiro(t, f)
		require.NotEqual(t, orgID, teamOrgID, "the fixture's team is outside the organization")

		// Both organizations the connections reach, the default contract.
		var orgs List[Organization]
		call("GET", "/api/v1/organizations", "/api/v1/organizations", read, nil, http.StatusOK).decode(t, &orgs)
		byID := map[string]Organization{}
		for _, o := range orgs.Data {
			byID[o.ID] = o
		}
		require.Len(t, byID, 2)
		require.True(t, byID[orgID].Exact)
		require.False(t, byID[teamOrgID].Exact, "reached by a team-level connection only")
		require.Equal(t, seats, byID[orgID].SeatsFromMiro)
		require.Positive(t, byID[orgID].SeatsFromMiro, "the simulator says how many full seats were bought")
		require.False(t, byID[orgID].Contract.Saved)
		require.Equal(t, "USD", byID[orgID].Contract.Currency, "the settings' currency")
		require.Equal(t, "month", byID[orgID].Contract.Billing)

		var one One[Contract]
		call("GET", contractPath, "/api/v1/organizations/"+orgID+"/contract", read, nil, http.StatusOK).decode(t, &one)
		require.False(t, one.Data.Saved)
		require.Nil(t, one.Data.RenewalOn)

		// Replace it: a read key may not, an act key may.
		put := map[string]any{"currency": "EUR", "billing": "year", "renewal_on": "2027-03-31", "remind_days": 30,
			"licenses": map[string]any{"full": map[string]any{"seats": 40, "price": 192}, "occasional": map[string]any{"price": 120}}}
		a := call("PUT", contractPath, "/api/v1/organizations/"+orgID+"/contract", read, put, http.StatusForbidden)
		code, _, _ := a.errorBody(t)
		require.Equal(t, "insufficient_scope", code)
		audits := contractAudits(t, db)
		require.Empty(t, audits)

		call("PUT", contractPath, "/api/v1/organizations/"+orgID+"/contract", act, put, http.StatusOK).decode(t, &one)
		require.True(t, one.Data.Saved)
		require.Equal(t, "EUR", one.Data.Currency)
		require.Equal(t, "year", one.Data.Billing)
		require.Equal(t, "2027-03-31", *one.Data.RenewalOn)
		require.Equal(t, 30, one.Data.RemindDays)
		require.Nil(t, one.Data.ReminderSentFor)
		require.Equal(t, map[string]ContractLine{"full": {Seats: 40, Price: 192}, "occasional": {Price: 120}}, one.Data.Licenses)
		stored, err := db.Contract(ctx, orgID)
		require.NoError(t, err)
		require.True(t, stored.Saved)
		require.Equal(t, roster.LicenseTerms{Seats: 40, Price: 192}, stored.Licenses[roster.LicenseFull])
		audits = contractAudits(t, db)
		require.Len(t, audits, 1)
		require.Equal(t, "apikey:robot", audits[0].Actor)
		require.Equal(t, "organization "+orgID, audits[0].Target)
		require.Contains(t, audits[0].Detail, "EUR, prices per year")

		// The organization's numbers are priced by it: Miro's seat count
		// wins over the contract's 40, at a yearly price over 12 months.
		var lic One[OrgOverview]
		call("GET", "/api/v1/insights/licenses", "/api/v1/insights/licenses?org="+orgID, read, nil, http.StatusOK).decode(t, &lic)
		require.Equal(t, "EUR", lic.Data.Currency)
		require.True(t, lic.Data.Priced)
		require.Equal(t, "2027-03-31", *lic.Data.RenewalOn)
		full := licenseLine(t, lic.Data, "full")
		require.Equal(t, seats, full.Purchased)
		require.True(t, full.FromMiro)
		require.InDelta(t, 16, full.MonthlyPrice, 1e-9)
		require.InDelta(t, float64(seats)*16, full.MonthlyCost, 1e-6)
		occ := licenseLine(t, lic.Data, "occasional")
		require.InDelta(t, float64(occ.UsedThisMonth)*10, occ.MonthlyCost, 1e-6, "occasional is billed per person who used Miro this month")
		// The overview carries the same organization.
		var ov One[Overview]
		call("GET", "/api/v1/insights/overview", "/api/v1/insights/overview", read, nil, http.StatusOK).decode(t, &ov)
		require.Nil(t, ov.Data.MonthlyCost, "EUR and USD do not add up")
		require.Nil(t, ov.Data.Savings)
		require.Empty(t, ov.Data.Currency)
		require.Len(t, ov.Data.Organizations, 2)

		// Bad input: the field is named, nothing changes.
		before, err := db.Contracts(ctx)
		require.NoError(t, err)
		valid := func() map[string]any {
			return map[string]any{"currency": "EUR", "billing": "year", "renewal_on": "2028-01-31", "remind_days": 10,
				"licenses": map[string]any{"full": map[string]any{"seats": 10, "price": 100}}}
		}
		for _, tc := range []struct {
			name  string
			edit  func(m map[string]any)
			field string
		}{
			{"currency", func(m map[string]any) { m["currency"] = "euro" }, "currency"},
			{"currency missing", func(m map[string]any) { delete(m, "currency") }, "currency"},
			{"billing", func(m map[string]any) { m["billing"] = "week" }, "billing"},
			{"date format", func(m map[string]any) { m["renewal_on"] = "31/01/2028" }, "renewal_on"},
			{"date out of range", func(m map[string]any) { m["renewal_on"] = "1999-12-31" }, "renewal_on"},
			{"date not a date", func(m map[string]any) { m["renewal_on"] = "2028-02-30" }, "renewal_on"},
			{"date a number", func(m map[string]any) { m["renewal_on"] = 20280131 }, "renewal_on"},
			{"reminder without renewal", func(m map[string]any) { delete(m, "renewal_on") }, "remind_days"},
			{"reminder too far", func(m map[string]any) { m["remind_days"] = 366 }, "remind_days"},
			{"reminder negative", func(m map[string]any) { m["remind_days"] = -1 }, "remind_days"},
			{"price negative", func(m map[string]any) { m["licenses"] = map[string]any{"full": map[string]any{"price": -1}} }, "licenses.full.price"},
			{"price over the limit", func(m map[string]any) {
				m["licenses"] = map[string]any{"basic": map[string]any{"price": roster.MaxSeatPrice + 1}}
			}, "licenses.basic.price"},
			{"price text", func(m map[string]any) { m["licenses"] = map[string]any{"full": map[string]any{"price": "192"}} }, "licenses.full.price"},
			{"seats negative", func(m map[string]any) { m["licenses"] = map[string]any{"full": map[string]any{"seats": -5}} }, "licenses.full.seats"},
			{"seats fraction", func(m map[string]any) { m["licenses"] = map[string]any{"full": map[string]any{"seats": 1.5}} }, "licenses.full.seats"},
			{"seats text", func(m map[string]any) { m["licenses"] = map[string]any{"full": map[string]any{"seats": "ten"}} }, "licenses.full.seats"},
			{"unknown license", func(m map[string]any) { m["licenses"] = map[string]any{"gold": map[string]any{"price": 1}} }, "licenses.gold"},
			{"line not an object", func(m map[string]any) { m["licenses"] = map[string]any{"full": 192} }, "licenses.full"},
			{"unknown line field", func(m map[string]any) { m["licenses"] = map[string]any{"full": map[string]any{"cost": 1}} }, "licenses.full.cost"},
			{"unknown field", func(m map[string]any) { m["colour"] = "blue" }, "colour"},
		} {
			body := valid()
			tc.edit(body)
			a := call("PUT", contractPath, "/api/v1/organizations/"+orgID+"/contract", act, body, http.StatusBadRequest)
			code, field, msg := a.errorBody(t)
			require.Equal(t, "invalid_field", code, tc.name)
			require.Equal(t, tc.field, field, "%s: %s", tc.name, msg)
			require.NotContains(t, msg, "roster.", "%s: the message names no Go type", tc.name)
		}
		// An organization no connection reaches: 404, nothing saved.
		a = call("PUT", contractPath, "/api/v1/organizations/999/contract", act, valid(), http.StatusNotFound)
		_, field, _ := a.errorBody(t)
		require.Equal(t, "org_id", field)
		a = call("GET", contractPath, "/api/v1/organizations/999/contract", read, nil, http.StatusNotFound)
		_, field, _ = a.errorBody(t)
		require.Equal(t, "org_id", field)
		after, err := db.Contracts(ctx)
		require.NoError(t, err)
		require.Equal(t, before, after, "a refused contract changed nothing")
		require.Len(t, contractAudits(t, db), 1, "and audited nothing")

		// A browser session: viewers may read, not write; an admin writes
		// with the CSRF token.
		viewer, admin := f.loggedIn(t, roster.RoleViewer), f.loggedIn(t, roster.RoleAdmin)
		path := "/api/v1/organizations/" + teamOrgID + "/contract"
		body := map[string]any{"currency": "GBP", "billing": "month", "licenses": map[string]any{"full": map[string]any{"seats": 25, "price": 12}}}
		require.Equal(t, http.StatusOK, f.browserCall(t, viewer, "GET", path, nil).Status)
		require.Equal(t, http.StatusForbidden, f.browserCall(t, viewer, "PUT", path, body, httpauth.CSRFHeader, viewer.csrf).Status)
		require.Equal(t, http.StatusForbidden, f.browserCall(t, admin, "PUT", path, body).Status, "no CSRF token")
		a = f.browserCall(t, admin, "PUT", path, body, httpauth.CSRFHeader, admin.csrf)
		require.Equal(t, http.StatusOK, a.Status, string(a.Body))
		audits = contractAudits(t, db)
		require.Len(t, audits, 2)
		require.Equal(t, "operator:admin@example.com", audits[0].Actor)
		call("GET", "/api/v1/insights/licenses", "/api/v1/insights/licenses?org="+teamOrgID, read, nil, http.StatusOK).decode(t, &lic)
		require.Equal(t, "GBP", lic.Data.Currency)
		full = licenseLine(t, lic.Data, "full")
		require.Equal(t, 25, full.Purchased, "without Miro's count, the contract's seats")
		require.False(t, full.FromMiro)
		require.InDelta(t, 25*12, full.MonthlyCost, 1e-9)

		// The licenses summary's own bad input.
		for _, tc := range []struct {
			query string
			want  int
			field string
		}{
			{"", http.StatusBadRequest, "org"},
			{"?org=999", http.StatusNotFound, "org"},
			{"?org=" + orgID + "&days=3", http.StatusBadRequest, "days"},
		} {
			a := call("GET", "/api/v1/insights/licenses", "/api/v1/insights/licenses"+tc.query, read, nil, tc.want)
			_, field, _ := a.errorBody(t)
			require.Equal(t, tc.field, field, tc.query)
		}
	})
}

// contractAudits are the audit log's saved contracts, newest first.
func contractAudits(t *testing.T, db *storeDB) []roster.AuditEntry {
	t.Helper()
	entries, err := db.AuditEntries(context.Background(), store.AuditFilter{Kind: "settings"})
	require.NoError(t, err)
	var out []roster.AuditEntry
	for _, e := range entries {
		if e.Action == "save_contract" {
			out = append(out, e)
		}
	}
	return out
}

// seatsFromMiro is the full licenses the simulated organization bought,
// as Miro itself says.
func seatsFromMiro(t *testing.T, f *fixture) int {
	t.Helper()
	org, err := f.kit.Admin.GetOrganization(context.Background(), f.info.OrgID)
	require.NoError(t, err)
	require.Positive(t, org.FullLicensesPurchased)
	return org.FullLicensesPurchased
}

func licenseLine(t *testing.T, o OrgOverview, license string) LicenseLine {
	t.Helper()
	for _, l := range o.Licenses {
		if l.License == license {
			return l
		}
	}
	t.Fatalf("no %s line in %s", license, o.OrgID)
	return LicenseLine{}
}

// TestAPITrendAndChargeback: the daily points after a sync, and the
// chargeback by team and by department, JSON and CSV, adding up to the
// organization's monthly cost.
func TestAPITrendAndChargeback(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newFixture(t, db)
		ctx := context.Background()
		read := f.newAPIKey(t, "reader", roster.ScopeRead)
		call := func(template, query string, want int, headers ...string) apiAnswer {
			t.Helper()
			a := f.api(t, "GET", template+query, read, nil, headers...)
			require.Equal(t, want, a.Status, "GET %s%s: %s", template, query, a.Body)
			validAnswer(t, doc, f.testBundle, "GET", template, template+query, a)
			return a
		}
		orgID := f.org.OrgID
		seats := seatsFromMiro(t, f)
		require.NoError(t, db.SaveContract(ctx, roster.Contract{OrgID: orgID, Currency: "EUR", Billing: roster.BillingMonthly,
			Licenses: map[string]roster.LicenseTerms{roster.LicenseFull: {Price: 16}, "occasional": {Price: 10}, "basic": {Price: 4}}},
			roster.AuditEntry{At: time.Now(), Actor: "test", Kind: "settings", Action: "save_contract", Result: "ok"}))
		var lic One[OrgOverview]
		call("/api/v1/insights/licenses", "?org="+orgID, http.StatusOK).decode(t, &lic)

		// The trend: today's point holds the synced counts.
		var tr One[Trend]
		call("/api/v1/insights/trend", "?org="+orgID, http.StatusOK).decode(t, &tr)
		require.Equal(t, defaultTrendDays, tr.Data.Days)
		require.Equal(t, "EUR", tr.Data.Currency)
		require.NotEmpty(t, tr.Data.Points, "the fixture's sync recorded a day")
		last := tr.Data.Points[len(tr.Data.Points)-1]
		require.Equal(t, time.Now().UTC().Format(time.DateOnly), last.Day)
		full := licenseLine(t, lic.Data, "full")
		require.Equal(t, full.Assigned, last.Licenses["full"].Assigned)
		require.Equal(t, seats, last.Licenses["full"].Purchased)
		require.Contains(t, tr.Data.Licenses, "full")
		require.InDelta(t, float64(seats)*16, last.MonthlyCost-float64(last.Licenses["basic"].Assigned)*4-
			float64(last.Licenses["occasional"].Active)*10, 1e-6, "the day's full seats at today's price")
		call("/api/v1/insights/trend", "?org="+orgID+"&days=730", http.StatusOK).decode(t, &tr)
		require.Equal(t, 730, tr.Data.Days)
		for _, tc := range []struct {
			query string
			want  int
			field string
		}{
			{"?org=" + orgID + "&days=0", http.StatusBadRequest, "days"},
			{"?org=" + orgID + "&days=731", http.StatusBadRequest, "days"},
			{"?org=" + orgID + "&days=week", http.StatusBadRequest, "days"},
			{"?days=30", http.StatusBadRequest, "org"},
			{"?org=nope", http.StatusNotFound, "org"},
		} {
			_, field, _ := call("/api/v1/insights/trend", tc.query, tc.want).errorBody(t)
			require.Equal(t, tc.field, field, tc.query)
		}

		// Chargeback by team: the lines add up to the organization's cost.
		var cb One[Chargeback]
		call("/api/v1/insights/chargeback", "?org="+orgID, http.StatusOK).decode(t, &cb)
		require.Equal(t, "team", cb.Data.By)
		require.Equal(t, "EUR", cb.Data.Currency)
		require.NotEmpty(t, cb.Data.Lines)
		sum := 0.0
		for _, l := range cb.Data.Lines {
			sum += l.Cost
		}
		require.InDelta(t, cb.Data.Total, sum, 1e-6)
		require.InDelta(t, lic.Data.MonthlyCost, cb.Data.Total, 1e-6, "the chargeback adds up to the organization's monthly cost")
		require.Equal(t, "Seats held by nobody", cb.Data.Lines[len(cb.Data.Lines)-1].Label, "the %d seats nobody holds", full.Unassigned)

		// By department: nobody is in the directory yet, one catch-all line
		// and the unassigned seats, the same total.
		var dep One[Chargeback]
		call("/api/v1/insights/chargeback", "?org="+orgID+"&by=department", http.StatusOK).decode(t, &dep)
		require.Equal(t, "department", dep.Data.By)
		require.Len(t, dep.Data.Lines, 2)
		require.Equal(t, "Not in the directory", dep.Data.Lines[0].Label)
		require.InDelta(t, cb.Data.Total, dep.Data.Total, 1e-6)

		// CSV, asked either way: a row per line under the header.
		for _, ask := range []struct {
			query   string
			headers []string
		}{
			{"?org=" + orgID + "&format=csv", nil},
			{"?org=" + orgID, []string{"Accept", "text/csv"}},
			{"?org=" + orgID + "&by=team", []string{"Accept", "application/json;q=0.5, text/csv"}},
		} {
			a := call("/api/v1/insights/chargeback", ask.query, http.StatusOK, ask.headers...)
			require.True(t, strings.HasPrefix(a.Header.Get("Content-Type"), "text/csv"), a.Header.Get("Content-Type"))
			require.Contains(t, a.Header.Get("Content-Disposition"), "roster-chargeback-"+orgID+"-team.csv")
			rows, err := csv.NewReader(bytes.NewReader(a.Body)).ReadAll()
			require.NoError(t, err)
			require.Equal(t, ChargebackCSVHeader, rows[0])
			require.Len(t, rows, 1+len(cb.Data.Lines))
			total := 0.0
			for _, row := range rows[1:] {
				v, err := strconv.ParseFloat(row[4], 64)
				require.NoError(t, err)
				total += v
				require.Equal(t, "EUR", row[5])
			}
			require.InDelta(t, cb.Data.Total, total, 0.01*float64(len(rows)))
		}
		// format=json wins over Accept.
		a := call("/api/v1/insights/chargeback", "?org="+orgID+"&format=json", http.StatusOK, "Accept", "text/csv")
		require.True(t, strings.HasPrefix(a.Header.Get("Content-Type"), "application/json"))
		for _, tc := range []struct {
			query string
			want  int
			field string
		}{
			{"?org=" + orgID + "&by=cost-centre", http.StatusBadRequest, "by"},
			{"?org=" + orgID + "&format=xml", http.StatusBadRequest, "format"},
			{"?by=team", http.StatusBadRequest, "org"},
			{"?org=" + url.QueryEscape("=1+1"), http.StatusNotFound, "org"},
		} {
			_, field, _ := call("/api/v1/insights/chargeback", tc.query, tc.want).errorBody(t)
			require.Equal(t, tc.field, field, tc.query)
		}

		// An organization a new connection reaches, not synced yet: empty
		// answers, not 404s.
		fresh := roster.Connection{Level: roster.LevelTeam, OrgID: "3458764999000000001", OrgName: "New Corp", TeamID: "t-new",
			TeamName: "New", InstallerID: "u-1", Scopes: []string{roster.ScopeTeamRead}, APIBaseURL: f.info.APIBaseURL,
			SealedToken: []byte{1}, Status: roster.StatusActive, SyncInterval: time.Hour}
		require.NoError(t, db.CreateConnection(ctx, &fresh))
		call("/api/v1/insights/chargeback", "?org="+fresh.OrgID, http.StatusOK).decode(t, &cb)
		require.Equal(t, fresh.OrgID, cb.Data.OrgID)
		require.Empty(t, cb.Data.Lines)
		call("/api/v1/insights/trend", "?org="+fresh.OrgID, http.StatusOK).decode(t, &tr)
		require.Empty(t, tr.Data.Points)
		call("/api/v1/insights/licenses", "?org="+fresh.OrgID, http.StatusOK).decode(t, &lic)
		require.Equal(t, "New Corp", lic.Data.Name)
		require.Zero(t, lic.Data.Accounts)
	})
}

// TestChargebackCSVFormulaGuard: a team name a spreadsheet would run is
// written inert.
func TestChargebackCSVFormulaGuard(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, WriteChargebackCSV(csv.NewWriter(&buf), Chargeback{Currency: "EUR", Lines: []ChargebackLine{
		{Key: "t1", Label: "=HYPERLINK(\"http://evil\")", People: 2, Seats: 1.5, Cost: 24},
		{Key: "-t2", Label: "@SUM(A1)", People: 1, Seats: 0.333333, Cost: 5.333333},
	}}))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"t1", "'=HYPERLINK(\"http://evil\")", "2", "1.50", "24.00", "EUR"}, rows[1])
	require.Equal(t, []string{"'-t2", "'@SUM(A1)", "1", "0.33", "5.33", "EUR"}, rows[2])
}
