package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"roster"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

func TestSettings(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	br := b.loggedIn(t, roster.RoleAdmin)
	p := br.mustGet("/settings")
	require.Contains(t, p.Body, `value="60"`, "the default inactivity period")
	for _, l := range []string{"full", "full_trial", "occasional", "advanced", "standard", "basic", "free", "free_restricted", "unknown"} {
		require.Contains(t, p.Body, `name="price_`+l+`"`)
	}

	valid := func() url.Values {
		return url.Values{"inactivity_days": {"90"}, "currency": {"eur"}, "sync_interval_hours": {"12"},
			"price_full": {"16"}, "price_occasional": {"8.5"}, "price_free": {""}}
	}
	t.Run("ErrFields", func(t *testing.T) {
		before := storetest.Dump(t, b.db)
		for _, tc := range []struct{ field, value, want string }{
			{"inactivity_days", "0", "whole number of days from 1 to 3650"},
			{"inactivity_days", "abc", "whole number of days"},
			{"inactivity_days", "99999", "from 1 to 3650"},
			{"currency", "EURO", "three-letter currency code"},
			{"sync_interval_hours", "0", "whole number of hours from 1 to 720"},
			{"sync_interval_hours", "1.5", "whole number of hours"},
			{"price_full", "-1", "monthly price from 0"},
			{"price_full", "NaN", "monthly price from 0"},
			{"price_basic", "1e99", "monthly price from 0"},
			{"price_full", "sixteen", "monthly price from 0"},
		} {
			form := valid()
			form.Set(tc.field, tc.value)
			p := br.post("/settings", form)
			require.Equal(t, http.StatusBadRequest, p.StatusCode, tc.field+"="+tc.value)
			require.Contains(t, p.Body, tc.want, tc.field)
			require.Contains(t, p.Body, "Nothing was saved")
			require.Contains(t, p.Body, `id="f-`+tc.field+`"`)
		}
		require.Equal(t, before, storetest.Dump(t, b.db), "a refused form changed the database")
	})

	p = br.post("/settings", valid())
	require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
	require.Equal(t, "/settings?saved=1", p.location())
	s, err := b.db.Settings(ctx)
	require.NoError(t, err)
	require.Equal(t, 90, s.InactivityDays)
	require.Equal(t, "EUR", s.Currency)
	require.Equal(t, 12*time.Hour, s.DefaultSyncInterval)
	require.Equal(t, map[string]float64{"full": 16, "occasional": 8.5}, s.LicensePrices)
	require.Contains(t, br.mustGet("/settings?saved=1").Body, "Settings saved")

	// The change is audited, in words.
	entries, err := b.db.AuditEntries(ctx, store.AuditFilter{Kind: "settings"})
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.Equal(t, "operator:admin@example.com", entries[0].Actor)
	require.Contains(t, entries[0].Detail, "inactivity period 60 → 90 days")
	require.Contains(t, entries[0].Detail, "price of full none → 16")
}

// teamLinkRe is a teams page row's members link.
var teamLinkRe = regexp.MustCompile(`href="/users\?team=([^"&]+)"`)

func TestTeamsAndAudit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSQLite(t))
	ctx := context.Background()
	br := f.loggedIn(t, roster.RoleViewer)

	p := br.mustGet("/teams")
	teams, err := f.db.Teams(ctx, 0)
	require.NoError(t, err)
	for _, tm := range teams {
		require.Contains(t, p.Body, "/users?team="+tm.MiroTeamID)
	}
	// A team's member count links to exactly its members.
	stats, err := f.db.TeamStats(ctx, store.TeamStatsQuery{InactiveBefore: f.clock.Now().AddDate(0, 0, -60)})
	require.NoError(t, err)
	require.Equal(t, len(teams), stats.Total)
	require.Contains(t, p.Body, strconv.Itoa(len(teams))+" teams")
	for _, st := range stats.Teams[:2] {
		require.Equal(t, st.Members, total(t, br.mustGet("/users?team="+st.Team.MiroTeamID).Body))
		require.Equal(t, st.Licensed, total(t, br.mustGet("/users?team="+st.Team.MiroTeamID+"&license=full&status=active").Body))
		require.Equal(t, st.Inactive, total(t, br.mustGet("/users?team="+st.Team.MiroTeamID+"&license=full&activity=inactive&status=active").Body))
		page := br.mustGet("/teams").Body
		require.Contains(t, page, "/users?team="+st.Team.MiroTeamID+"&amp;license=full&amp;status=active", "the teams page links to exactly its counts")
	}

	// Search narrows by name; a changed cursor is a 400 with a way back.
	one := stats.Teams[0].Team
	found := br.mustGet("/teams?q=" + url.QueryEscape(strings.ToUpper(one.Name))).Body
	require.Contains(t, found, "/users?team="+one.MiroTeamID+`"`)
	require.NotContains(t, found, "/users?team="+stats.Teams[1].Team.MiroTeamID+`"`)
	require.Contains(t, br.mustGet("/teams?q=no-such-team-at-all").Body, "No team matches.")
	bad := br.get("/teams?cursor=nonsense")
	require.Equal(t, http.StatusBadRequest, bad.StatusCode)
	require.Contains(t, bad.Body, `href="/teams"`)

	// More teams than a page: a next link walks them all, each once.
	run := roster.SyncRun{ConnectionID: f.org.ID, Source: roster.SourceOrganization, StartedAt: f.clock.Now()}
	require.NoError(t, f.db.StartSyncRun(ctx, &run))
	run.EndedAt = f.clock.Now()
	var more store.Diff
	for i := range 60 {
		more.Teams = append(more.Teams, roster.Team{MiroTeamID: fmt.Sprintf("extra%02d", i), OrgID: one.OrgID, Name: fmt.Sprintf("Extra %02d", i)})
	}
	require.NoError(t, f.db.ApplySync(ctx, &run, more))
	seenTeams := map[string]bool{}
	next := "/teams"
	for pages := 0; next != ""; pages++ {
		require.Less(t, pages, 5)
		body := br.mustGet(next).Body
		require.Contains(t, body, strconv.Itoa(len(teams)+60)+" teams")
		for _, m := range teamLinkRe.FindAllStringSubmatch(body, -1) {
			require.False(t, seenTeams[m[1]], "team %s on two pages", m[1])
			seenTeams[m[1]] = true
		}
		if pages > 0 {
			require.Contains(t, body, "First page")
		}
		next = nextHref(t, body)
	}
	require.Len(t, seenTeams, len(teams)+60)

	// Audit: the fixture's own syncs plus 120 entries, page 50 at a time,
	// newest first, each once.
	synced, err := f.db.AuditEntries(ctx, store.AuditFilter{Kind: "sync"})
	require.NoError(t, err)
	require.NotEmpty(t, synced, "the fixture's syncs are audited")
	for i := range 120 {
		require.NoError(t, f.db.AppendAudit(ctx, &roster.AuditEntry{Actor: "system", Kind: "sync", Action: "sync", Target: "connection 1",
			Result: "ok", Detail: "run " + strconv.Itoa(i), At: f.clock.Now()}))
	}
	seen := map[string]bool{}
	path := "/audit?kind=sync"
	pages := 0
	for path != "" {
		p := br.mustGet(path)
		pages++
		for _, tr := range findAll(parseHTML(t, p.Body), "tr", "") {
			tds := findAll(tr, "td", "")
			if len(tds) == 7 {
				d := text(tds[5])
				require.False(t, seen[d], "%s listed twice", d)
				seen[d] = true
			}
		}
		path = ""
		for _, a := range findAll(parseHTML(t, p.Body), "a", "") {
			if attr(a, "rel") == "next" {
				path = attr(a, "href")
			}
		}
	}
	require.Len(t, seen, 120+len(synced))
	require.Equal(t, 3, pages)
	// The target filter is exact, and paging keeps it.
	require.NoError(t, f.db.AppendAudit(ctx, &roster.AuditEntry{Actor: "workflow:offboarding", Kind: "workflow", Action: "step:deactivate",
		Target: "ann@example.com", Result: "ok", Detail: "only-ann", At: f.clock.Now()}))
	p = br.mustGet("/audit?kind=workflow&target=ann%40example.com")
	require.Contains(t, p.Body, "only-ann")
	require.NotContains(t, p.Body, "run 1")
	require.NotContains(t, br.mustGet("/audit?target=bob%40example.com").Body, "only-ann")
	require.Equal(t, http.StatusBadRequest, br.get("/audit?kind=nope").StatusCode)
	require.Equal(t, http.StatusBadRequest, br.get("/audit?before=x").StatusCode)
}

// byID is the element of the page with that id, or nil.
func byID(doc *html.Node, id string) *html.Node {
	for _, n := range findAll(doc, "", "") {
		if attr(n, "id") == id {
			return n
		}
	}
	return nil
}

// TestSettingsContracts: a contract form per organization, saved on its
// own and audited; every bad field shown beside itself with nothing
// changed; Miro's seat count shown, not asked; viewers read only.
func TestSettingsContracts(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newFixture(t, db)
		ctx := context.Background()
		br := f.loggedIn(t, roster.RoleAdmin)
		org, teamOrg := f.org.OrgID, f.team.OrgID

		// One section per organization; the full license's seats come from
		// Miro for the organization-level one, and are asked for the other.
		p := br.mustGet("/settings")
		require.Contains(t, p.Body, "Default prices, used for organizations without a contract")
		doc := parseHTML(t, p.Body)
		for _, id := range []string{org, teamOrg} {
			sec := byID(doc, "contract-"+id)
			require.NotNil(t, sec, "no section for organization %s", id)
			forms := findAll(sec, "form", "")
			require.Len(t, forms, 1)
			require.Equal(t, "/settings/contracts/"+id, attr(forms[0], "action"))
			require.Contains(t, text(sec), "No contract entered yet")
			require.Contains(t, text(sec), "Free restricted", "licenses by their names")
			require.NotNil(t, byID(sec, "contract-"+id+"-renewal_on"))
			require.Equal(t, "date", attr(byID(sec, "contract-"+id+"-renewal_on"), "type"))
			require.Equal(t, "USD", attr(byID(sec, "contract-"+id+"-currency"), "value"), "the default contract's currency")
		}
		orgSec := byID(doc, "contract-"+org)
		require.Nil(t, byID(orgSec, "contract-"+org+"-seats_full"), "Miro's count is not asked for")
		require.Regexp(t, `Full [0-9,]+ from Miro`, text(orgSec))
		require.NotNil(t, byID(byID(doc, "contract-"+teamOrg), "contract-"+teamOrg+"-seats_full"))
		require.Nil(t, byID(orgSec, "contract-"+org+"-seats_occasional"), "occasional is billed per month of use")

		valid := func() url.Values {
			return url.Values{"currency": {"eur"}, "billing": {"year"}, "renewal_on": {"2027-03-31"}, "remind_days": {"30"},
				"price_full": {"192"}, "seats_basic": {"10"}, "price_basic": {"48"}, "price_occasional": {""},
				"seats_full": {"5"}} // no input for it: Miro's count wins, and this is ignored
		}
		t.Run("ErrFields", func(t *testing.T) {
			before, contracts := storetest.Dump(t, db), storedContracts(t, db)
			for _, tc := range []struct{ field, value, want string }{
				{"currency", "EURO", "three-letter currency code"},
				{"currency", "E1R", "three-letter currency code"},
				{"currency", "", "three-letter currency code"},
				{"billing", "week", "Choose monthly or yearly"},
				{"renewal_on", "31/03/2027", "Enter the date as YYYY-MM-DD"},
				{"renewal_on", "2027-02-30", "Enter the date as YYYY-MM-DD"},
				{"renewal_on", "1999-12-31", "between 2000 and 2200"},
				{"remind_days", "400", "from 0 to 365"},
				{"remind_days", "-1", "from 0 to 365"},
				{"remind_days", "soon", "whole number of days"},
				{"price_full", "-1", "Enter a price from 0 to 1000000"},
				{"price_full", "sixteen", "Enter a price from 0 to 1000000"},
				{"price_full", "NaN", "Enter a price from 0 to 1000000"},
				{"price_basic", "1000001", "Enter a price from 0 to 1000000"},
				{"price_basic", "1e99", "Enter a price from 0 to 1000000"},
				{"seats_basic", "-3", "whole number of seats"},
				{"seats_basic", "ten", "whole number of seats"},
				{"seats_basic", "1.5", "whole number of seats"},
				{"seats_basic", "10000001", "whole number of seats from 0 to 10000000"},
			} {
				form := valid()
				form.Set(tc.field, tc.value)
				p := br.post("/settings/contracts/"+org, form)
				require.Equal(t, http.StatusBadRequest, p.StatusCode, "%s=%s", tc.field, tc.value)
				doc := parseHTML(t, p.Body)
				sec := byID(doc, "contract-"+org)
				require.Contains(t, text(sec), "Nothing was saved", tc.field)
				input := byID(sec, "contract-"+org+"-"+tc.field)
				require.NotNil(t, input, tc.field)
				require.Equal(t, "true", attr(input, "aria-invalid"), "%s=%s is marked", tc.field, tc.value)
				msg := byID(sec, "contract-"+org+"-"+tc.field+"-error")
				require.NotNil(t, msg, "%s=%s: the error is beside its field", tc.field, tc.value)
				require.Contains(t, text(msg), tc.want, tc.field)
				require.NotContains(t, text(byID(doc, "contract-"+teamOrg)), tc.want, "the other organization's form is untouched")
				if tc.field != "billing" {
					require.Equal(t, strings.ToUpper(tc.value), strings.ToUpper(attr(input, "value")), "what was typed is shown again")
				}
			}
			// A reminder without a renewal date.
			form := valid()
			form.Set("renewal_on", "")
			p := br.post("/settings/contracts/"+org, form)
			require.Equal(t, http.StatusBadRequest, p.StatusCode)
			msg := byID(parseHTML(t, p.Body), "contract-"+org+"-remind_days-error")
			require.NotNil(t, msg)
			require.Contains(t, text(msg), "A reminder needs a renewal date")

			// An organization no connection reaches.
			p = br.post("/settings/contracts/999", valid())
			require.Equal(t, http.StatusNotFound, p.StatusCode)
			require.Contains(t, p.Body, "No connection reaches organization &#34;999&#34;: nothing was saved.")

			require.Equal(t, before, storetest.Dump(t, db), "a refused form changed the database")
			require.Equal(t, contracts, storedContracts(t, db), "a refused form changed a contract")
		})

		p = br.post("/settings/contracts/"+org, valid())
		require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
		require.Equal(t, "/settings?contract_saved="+org+"#contract-"+org, p.location())
		c, err := db.Contract(ctx, org)
		require.NoError(t, err)
		require.True(t, c.Saved)
		require.Equal(t, "EUR", c.Currency)
		require.Equal(t, roster.BillingYearly, c.Billing)
		require.Equal(t, "2027-03-31", c.RenewalOn.Format(time.DateOnly))
		require.Equal(t, 30, c.RemindDays)
		require.Equal(t, map[string]roster.LicenseTerms{"full": {Price: 192}, "basic": {Seats: 10, Price: 48}}, c.Licenses)
		entries, err := db.AuditEntries(ctx, store.AuditFilter{Kind: "settings"})
		require.NoError(t, err)
		require.Len(t, entries, 1)
		require.Equal(t, "save_contract", entries[0].Action)
		require.Equal(t, "operator:admin@example.com", entries[0].Actor)
		require.Contains(t, entries[0].Detail, "EUR, prices per year")
		other, err := db.Contract(ctx, teamOrg)
		require.NoError(t, err)
		require.False(t, other.Saved, "one organization's form saves only its contract")

		// Shown as saved.
		doc = parseHTML(t, br.mustGet("/settings?contract_saved="+org).Body)
		orgSec = byID(doc, "contract-"+org)
		require.Contains(t, text(orgSec), "Contract saved.")
		require.NotContains(t, text(byID(doc, "contract-"+teamOrg)), "Contract saved.")
		require.Equal(t, "2027-03-31", attr(byID(orgSec, "contract-"+org+"-renewal_on"), "value"))
		require.Equal(t, "192", attr(byID(orgSec, "contract-"+org+"-price_full"), "value"))
		require.Equal(t, "10", attr(byID(orgSec, "contract-"+org+"-seats_basic"), "value"))

		// The team-level organization enters its full seats itself.
		p = br.post("/settings/contracts/"+teamOrg, url.Values{"currency": {"GBP"}, "billing": {"month"}, "seats_full": {"25"}, "price_full": {"12.50"}})
		require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
		other, err = db.Contract(ctx, teamOrg)
		require.NoError(t, err)
		require.Equal(t, roster.LicenseTerms{Seats: 25, Price: 12.5}, other.Licenses[roster.LicenseFull])

		// Viewers see it all, read-only, and cannot post.
		viewer := f.loggedIn(t, roster.RoleViewer)
		doc = parseHTML(t, viewer.mustGet("/settings").Body)
		orgSec = byID(doc, "contract-"+org)
		require.NotNil(t, orgSec)
		for _, fs := range findAll(orgSec, "fieldset", "") {
			require.True(t, hasAttr(fs, "disabled"), "a viewer's contract fields are disabled")
		}
		for _, b := range findAll(orgSec, "button", "") {
			require.True(t, hasAttr(b, "disabled"))
		}
		before := storedContracts(t, db)
		require.Equal(t, http.StatusForbidden, viewer.post("/settings/contracts/"+org, valid()).StatusCode)
		require.Equal(t, before, storedContracts(t, db))
	})
}

// storedContracts are the saved contracts.
func storedContracts(t *testing.T, db *storeDB) []roster.Contract {
	t.Helper()
	all, err := db.Contracts(context.Background())
	require.NoError(t, err)
	return all
}
