package web

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/insights"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
)

// TestOverview checks every overview number against counts computed
// from the store's accounts, and that each number's link lists exactly
// that many people.
func TestOverview(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		t.Parallel()
		f := newFixture(t, db)
		ctx := context.Background()
		settings, err := db.Settings(ctx)
		require.NoError(t, err)
		cut := insights.InactiveBefore(f.clock.Now(), settings.InactivityDays)

		accounts, err := db.Accounts(ctx, store.AccountFilter{})
		require.NoError(t, err)
		want := map[string]int{"People": len(accounts)}
		byLicense := map[string]int{}
		for _, a := range accounts {
			full := a.Active && a.License == roster.LicenseFull
			count := func(label string, ok bool) {
				if ok {
					want[label]++
				}
			}
			count("Full licenses assigned", full)
			count("Actively used", full && !a.LastActivityAt.Before(cut))
			count("Inactive full licenses", full && a.LastActivityAt.Before(cut))
			count("Never logged in", a.Active && a.LastActivityAt.IsZero())
			count("Guests", a.OrgRole == "organization_team_guest_user")
			count("External users", a.OrgRole == "organization_external_user")
			count("Deactivated", !a.Active)
			if a.Active {
				byLicense[a.License]++
			}
		}
		org, err := db.Organization(ctx, f.info.OrgID)
		require.NoError(t, err)
		want["Seats purchased"] = org.FullLicensesPurchased
		require.NotZero(t, want["Inactive full licenses"], "the fixture should have inactive licenses")
		require.NotZero(t, want["Actively used"])

		br := f.loggedIn(t, roster.RoleViewer)
		p := br.mustGet("/")
		doc := parseHTML(t, p.Body)
		got := map[string]int{}
		links := map[string]string{}
		for _, st := range findAll(doc, "div", "stat") {
			labels := findAll(st, "span", "label")
			require.Len(t, labels, 1)
			val := findAll(st, "span", "value")[0]
			label := text(labels[0])
			if _, ok := want[label]; !ok {
				continue // derived: utilisation, cost
			}
			got[label] = number(t, text(val))
			if as := findAll(val, "a", ""); len(as) == 1 {
				links[label] = attr(as[0], "href")
			}
		}
		require.Equal(t, want, got)
		require.Contains(t, p.Body, "licenses")
		require.Contains(t, p.Body, "<strong>inferred</strong>", "the team-level connection's licenses are inferred")
		require.Contains(t, p.Body, "<svg class=\"chart\"")

		// By license.
		gotLicense := map[string]int{}
		for _, row := range findAll(findAll(doc, "table", "compact")[0], "tr", "") {
			tds := findAll(row, "td", "")
			if len(tds) != 2 {
				continue
			}
			gotLicense[text(tds[0])] = number(t, text(tds[1]))
			links["license "+text(tds[0])] = attr(findAll(tds[1], "a", "")[0], "href")
			want["license "+text(tds[0])] = gotLicense[text(tds[0])]
		}
		require.Equal(t, byLicense, gotLicense)

		// Every link lists exactly its number, but where the store's users
		// query cannot yet say "never active" or "not deactivated": there
		// the list holds at least the number.
		approx := map[string]bool{"Never logged in": true}
		for label := range byLicense {
			approx["license "+label] = true
		}
		require.NotEmpty(t, links)
		for label, href := range links {
			n := total(t, br.mustGet(href).Body)
			if approx[label] {
				require.GreaterOrEqual(t, n, want[label], "%s: %s", label, href)
				continue
			}
			require.Equal(t, want[label], n, "%s: %s", label, href)
		}
	})
}
