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

func TestTrendChart(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	c := newTrendChart([]roster.TrendPoint{
		{At: now, Accounts: 100, FullAssigned: 60, FullActive: 40},
		{At: now.Add(24 * time.Hour), Accounts: 120, FullAssigned: 70, FullActive: 35},
	})
	require.False(t, c.Empty)
	require.Len(t, c.Series, 3)
	require.Equal(t, "56.0,108.0 700.0,89.6", c.Series[0].Points, "accounts on a 0..200 axis")
	require.Equal(t, 35, c.Series[2].Last)
	require.True(t, newTrendChart(nil).Empty)
	require.Equal(t, 200, niceCeil(120))
	require.Equal(t, 1, niceCeil(1))
	require.Equal(t, 5000, niceCeil(4001))
}
