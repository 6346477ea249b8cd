package web

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/insights"
	"roster/internal/mirosim"
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

		// Deactivate someone never active, in Miro, keeping the license:
		// only the status filter tells them from the never logged in, and
		// the licensed lists from the licensed (not deactivated).
		before, err := db.Accounts(ctx, store.AccountFilter{})
		require.NoError(t, err)
		idx := slices.IndexFunc(before, func(a roster.Account) bool {
			return a.Active && a.LicenseExact && a.LastActivityAt.IsZero() && a.License == roster.LicenseFull
		})
		require.GreaterOrEqual(t, idx, 0, "the fixture should have a full license never used")
		off := false
		_, err = f.sim.UpdateMember(before[idx].MiroUserID, mirosim.UserPatch{Active: &off})
		require.NoError(t, err)
		f.sync(t, f.org.ID)

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
			// The one inactivity rule; usage unknown is neither.
			count("Actively used", full && a.UsageKnown() && !a.Inactive(cut))
			count("Inactive full licenses", full && a.Inactive(cut))
			count("Never logged in", a.Active && a.LastActivityAt.IsZero())
			count("Guests", a.OrgRole == "organization_team_guest_user")
			count("External users", a.OrgRole == "organization_external_user")
			count("Deactivated", !a.Active)
			if a.Active {
				byLicense[a.License]++
			}
			// What the lists must leave out to be exact: the deactivated
			// among the licensed and the never active.
			count("deactivated full", !a.Active && a.License == roster.LicenseFull)
			count("deactivated never", !a.Active && a.LastActivityAt.IsZero())
		}
		// The fixture holds people only the status filter tells apart,
		// so a link without it would list too many.
		require.NotZero(t, want["deactivated full"], "a deactivated full license")
		require.NotZero(t, want["deactivated never"], "a deactivated person never active")
		delete(want, "deactivated full")
		delete(want, "deactivated never")
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
			if as := findAll(val, "a", ""); len(as) == 1 {
				links[label] = attr(as[0], "href")
			}
			if _, ok := want[label]; !ok {
				continue // derived: utilisation, cost
			}
			got[label] = number(t, text(val))
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

		// Potential savings are the inactive full licenses' cost: its link
		// lists them.
		want["Potential savings"] = want["Inactive full licenses"]

		// Every link lists exactly its number, and every number with a
		// list behind it has a link.
		for label := range want {
			if label != "Seats purchased" {
				require.Contains(t, links, label, "%s has no link", label)
			}
		}
		for label, href := range links {
			n, ok := want[label]
			require.True(t, ok, "%s links to %s but has no number to check", label, href)
			require.Equal(t, n, total(t, br.mustGet(href).Body), "%s: %s", label, href)
		}
	})
}
