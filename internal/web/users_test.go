package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/insights"
	"roster/internal/store"
)

func TestUsers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSQLite(t))
	ctx := context.Background()
	br := f.loggedIn(t, roster.RoleViewer)
	all, err := f.db.Accounts(ctx, store.AccountFilter{})
	require.NoError(t, err)
	settings, err := f.db.Settings(ctx)
	require.NoError(t, err)
	cut := insights.InactiveBefore(f.clock.Now(), settings.InactivityDays)
	teams, err := f.db.Teams(ctx, f.org.ID)
	require.NoError(t, err)
	team := teams[0].MiroTeamID
	inTeam := map[int64]bool{}
	for _, a := range all {
		ms, err := f.db.AccountMemberships(ctx, a.ID)
		require.NoError(t, err)
		for _, m := range ms {
			if m.MiroTeamID == team {
				inTeam[a.ID] = true
			}
		}
	}
	someone := all[len(all)/2]

	// ids is the accounts of all matching keep, as the list's ids.
	ids := func(keep func(roster.Account) bool) []string {
		var out []string
		for _, a := range all {
			if keep(a) {
				out = append(out, strconv.FormatInt(a.ID, 10))
			}
		}
		return out
	}
	// walk follows "next" from path and returns every id listed.
	walk := func(t *testing.T, path string) (listed []string, total_ int) {
		t.Helper()
		p := br.mustGet(path)
		total_ = total(t, p.Body)
		for {
			listed = append(listed, userIDs(p.Body)...)
			next := nextHref(t, p.Body)
			if next == "" {
				return listed, total_
			}
			p = br.mustGet(next)
		}
	}

	cases := []struct {
		name  string
		query string
		keep  func(roster.Account) bool
	}{
		{"All", "", func(roster.Account) bool { return true }},
		{"License", "license=full", func(a roster.Account) bool { return a.License == "full" }},
		{"Role", "role=organization_internal_admin", func(a roster.Account) bool { return a.OrgRole == "organization_internal_admin" }},
		{"Team", "team=" + team, func(a roster.Account) bool { return inTeam[a.ID] }},
		{"Inactive", "activity=inactive", func(a roster.Account) bool { return a.Inactive(cut) }},
		{"Active", "activity=active&license=full", func(a roster.Account) bool { return a.UsageKnown() && !a.Inactive(cut) && a.License == "full" }},
		{"Guests", "guests=1", func(a roster.Account) bool {
			return a.OrgRole == "organization_team_guest_user" || a.OrgRole == "organization_external_user"
		}},
		{"Deactivated", "status=deactivated", func(a roster.Account) bool { return !a.Active }},
		{"NotDeactivated", "status=active&license=full", func(a roster.Account) bool { return a.Active && a.License == "full" }},
		// Never logged in is among people whose usage is known: the team
		// connection reports no activity for anyone.
		{"Never", "activity=never", func(a roster.Account) bool { return a.UsageKnown() && a.LastActivityAt.IsZero() }},
		{"NeverLoggedIn", "activity=never&status=active", func(a roster.Account) bool {
			return a.Active && a.UsageKnown() && a.LastActivityAt.IsZero()
		}},
		{"UsageUnknown", "activity=unknown", func(a roster.Account) bool { return !a.UsageKnown() }},
		{"Org", "org=" + url.QueryEscape(f.org.OrgID), func(a roster.Account) bool { return a.OrgID == f.org.OrgID }},
		{"OrgOfTheTeam", "org=" + url.QueryEscape(f.team.OrgID) + "&status=active", func(a roster.Account) bool {
			return a.OrgID == f.team.OrgID && a.Active
		}},
		{"SearchEmail", "q=" + url.QueryEscape(strings.ToUpper(someone.Email)), func(a roster.Account) bool {
			return strings.Contains(a.Email, someone.Email) || strings.Contains(strings.ToLower(a.Name), someone.Email)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := ids(tc.keep)
			require.NotEmpty(t, want, "the fixture should have people for %s", tc.query)
			// Small pages, so that paging is exercised.
			listed, n := walk(t, "/users?limit=7&"+tc.query)
			require.Equal(t, len(want), n, "total")
			require.Len(t, listed, len(want), "paging lists everyone once")
			require.ElementsMatch(t, want, listed)

			// The CSV export (the API's, which the page links to) holds
			// the whole filter, not one page; the old address redirects.
			old := br.get("/users.csv?limit=7&" + tc.query)
			require.Equal(t, http.StatusMovedPermanently, old.StatusCode)
			require.Equal(t, strings.TrimSuffix("/api/v1/users.csv?"+reencode(t, tc.query), "?"), old.location())
			p := br.mustGet(old.location())
			require.Equal(t, "text/csv; charset=utf-8", p.Header.Get("Content-Type"))
			rows, err := csv.NewReader(strings.NewReader(p.Body)).ReadAll()
			require.NoError(t, err)
			require.Equal(t, []string{"id", "miro_user_id", "email"}, rows[0][:3])
			var got []string
			for _, r := range rows[1:] {
				got = append(got, r[0])
			}
			require.ElementsMatch(t, want, got)
		})
	}

	t.Run("Sort", func(t *testing.T) {
		for _, sort := range []string{"email", "name", "license", "last_activity"} {
			for _, desc := range []string{"", "&desc=1"} {
				listed, n := walk(t, "/users?limit=13&sort="+sort+desc)
				require.Equal(t, len(all), n)
				require.ElementsMatch(t, ids(func(roster.Account) bool { return true }), listed, sort+desc)
			}
		}
		listed, _ := walk(t, "/users?limit=500&sort=email&desc=1")
		byEmail := ids(func(roster.Account) bool { return true }) // the store lists by email
		slices.Reverse(byEmail)
		require.Equal(t, byEmail, listed)
	})

	t.Run("Fragment", func(t *testing.T) {
		p := br.get("/users?license=full", "HX-Request", "true", "HX-Target", "users-results")
		require.Equal(t, http.StatusOK, p.StatusCode)
		require.True(t, strings.HasPrefix(strings.TrimSpace(p.Body), `<div id="users-results">`), p.Body[:100])
		require.NotContains(t, p.Body, "<html")
	})

	t.Run("ErrBadCursor", func(t *testing.T) {
		for _, cursor := range []string{"garbage", "eyJzIjoiZW1haWwiLCJpIjowfQ", url.QueryEscape("' OR 1=1 --")} {
			p := br.get("/users?cursor=" + cursor)
			require.Equal(t, http.StatusBadRequest, p.StatusCode, cursor)
			require.Contains(t, p.Body, "The page cursor is not valid")
			require.Contains(t, p.Body, "Back to the first page")
			p = br.get("/api/v1/users.csv?cursor=" + cursor)
			require.Equal(t, http.StatusBadRequest, p.StatusCode, "the export takes no cursor: it is always all pages")
			require.Contains(t, p.Body, `unknown query parameter \"cursor\"`)
		}
		// A cursor of another sort is refused too.
		p := br.mustGet("/users?limit=5")
		next := nextHref(t, p.Body)
		u, err := url.Parse(next)
		require.NoError(t, err)
		p = br.get("/users?limit=5&sort=name&cursor=" + url.QueryEscape(u.Query().Get("cursor")))
		require.Equal(t, http.StatusBadRequest, p.StatusCode)
	})

	t.Run("ErrBadFilter", func(t *testing.T) {
		for q, want := range map[string]string{
			"connection=abc":  "connection must be a connection id",
			"activity=sleepy": "activity must be active, inactive, never, unknown or idle",
			"status=left":     "status must be active or deactivated",
			"status=1":        "status must be active or deactivated",
			"sort=password":   "sort must be email, name, license or last_activity",
			"limit=0":         "limit must be a number",
		} {
			p := br.get("/users?" + q)
			require.Equal(t, http.StatusBadRequest, p.StatusCode, q)
			require.Contains(t, p.Body, want)
		}
	})
}

// reencode is a query as url.Values.Encode writes it (sorted keys).
func reencode(t *testing.T, q string) string {
	t.Helper()
	v, err := url.ParseQuery(q)
	require.NoError(t, err)
	return v.Encode()
}
