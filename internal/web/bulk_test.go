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

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"roster"
	"roster/internal/store"
)

// inactiveFilter is the users filter of inactive, not deactivated full
// licenses.
var inactiveFilter = url.Values{"license": {"full"}, "activity": {"inactive"}, "status": {"active"}}

var (
	idBoxRe   = regexp.MustCompile(`name="id" value="(\d+)"`)
	bulkKeyRe = regexp.MustCompile(`name="key" value="([^"]+)"`)
)

// inactiveInternal are n active internal members whose full license is
// inactive.
func (f *wfFixture) inactiveInternal(t *testing.T, n int) []roster.Account {
	t.Helper()
	page, err := f.db.ListAccounts(context.Background(), store.AccountQuery{License: roster.LicenseFull, Activity: "inactive",
		Status: "active", OrgRole: roster.OrgRoleInternalUser, Sort: "email", Limit: 1000,
		ActiveSince: roster.InactiveBefore(f.clock.Now(), roster.DefaultSettings().InactivityDays)})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(page.Accounts), n)
	return page.Accounts[:n]
}

// rows are the text of each body row of the tables of class.
func rows(t *testing.T, body, class string) []string {
	t.Helper()
	var out []string
	for _, tbl := range findAll(parseHTML(t, body), "table", class) {
		for _, tr := range findAll(tbl, "tr", "") {
			if len(findAll(tr, "td", "")) > 0 {
				out = append(out, text(tr))
			}
		}
	}
	return out
}

// TestBulkFromUsersList: admins tick people on the users list and choose
// an action; the confirmation says first, in sum, what would be done,
// then lists the people; confirming starts one bulk run (a second submit
// starts nothing) whose progress the runs page shows. Viewers see no
// selection.
func TestBulkFromUsersList(t *testing.T) {
	t.Parallel()
	f := newWFFixture(t, openSQLite(t))
	f.enableSCIM(t)
	ctx := context.Background()
	br := f.loggedIn(t, roster.RoleAdmin)

	// The list has a box per row, one for the page and one for everyone
	// matching, and the bar's actions.
	p := br.get("/users?" + inactiveFilter.Encode())
	require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
	doc := parseHTML(t, p.Body)
	require.Len(t, findAll(doc, "form", "bulk-form"), 1)
	boxes := idBoxRe.FindAllStringSubmatch(p.Body, -1)
	require.NotEmpty(t, boxes)
	require.Contains(t, p.Body, `id="bulk-page"`)
	require.Contains(t, text(findAll(doc, "section", "bulk-bar")[0]), "matching this filter")
	require.Contains(t, p.Body, "/bulk.js")
	// The results fragment (htmx) carries the form too.
	frag := br.get("/users?"+inactiveFilter.Encode(), "HX-Request", "true", "HX-Target", "users-results")
	require.Contains(t, frag.Body, `name="id" value="`+boxes[0][1]+`"`)

	// Viewers see no selection and cannot reach the pages.
	viewer := f.loggedIn(t, roster.RoleViewer)
	vp := viewer.get("/users?" + inactiveFilter.Encode())
	require.Equal(t, http.StatusOK, vp.StatusCode)
	require.NotContains(t, vp.Body, `name="id"`)
	require.Empty(t, findAll(parseHTML(t, vp.Body), "section", "bulk-bar"))
	require.Equal(t, http.StatusForbidden, viewer.get("/users/bulk?action=deactivate&"+inactiveFilter.Encode()).StatusCode)

	// Three people ticked: the confirmation, the summary first.
	accs := f.inactiveInternal(t, 3)
	form := url.Values{"action": {"deactivate"}, "filter": {inactiveFilter.Encode()}, "return": {"/users?" + inactiveFilter.Encode()}}
	for _, a := range accs {
		form.Add("id", strconv.FormatInt(a.ID, 10))
	}
	p = br.post("/users/bulk", form)
	require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
	doc = parseHTML(t, p.Body)
	require.Contains(t, text(findAll(doc, "h1", "")[0]), "Confirm: Deactivate in Miro")
	summary := text(findAll(doc, "section", "summary")[0])
	require.Contains(t, summary, "People selected3")
	require.Contains(t, summary, "Would be deactivated3")
	require.Contains(t, summary, "Seats freed3")
	require.Contains(t, summary, "can no longer sign in to Miro")
	require.Less(t, strings.Index(p.Body, `class="summary"`), strings.Index(p.Body, `class="bulk-people`), "the summary before the people")
	require.Equal(t, "Deactivate 3 people", strings.TrimSpace(text(findAll(doc, "button", "danger")[0])))
	people := rows(t, p.Body, "bulk-people")
	require.Len(t, people, 3)
	for i, a := range accs {
		require.Contains(t, people[i], a.Email)
		require.Contains(t, people[i], "Deactivate, freeing their Full license")
	}
	key := bulkKeyRe.FindStringSubmatch(p.Body)
	require.NotNil(t, key)
	require.Zero(t, f.writeCalls(), "the confirmation changes nothing")

	// Confirm, twice: one bulk run, then its progress on the runs page.
	confirm := url.Values{"key": {key[1]}, "action": {"deactivate"}, "selection": {"ids"}}
	for _, a := range accs {
		confirm.Add("id", strconv.FormatInt(a.ID, 10))
	}
	p = br.post("/users/bulk/start", confirm)
	require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
	loc := p.location()
	require.Regexp(t, `^/workflows/runs\?bulk=\d+$`, loc)
	again := br.post("/users/bulk/start", confirm)
	require.Equal(t, loc, again.location(), "a double submit shows the same bulk run")
	bs, err := f.db.BulkRuns(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, bs, 1)
	require.Equal(t, 3, bs[0].Runs)
	require.Equal(t, "operator:admin@example.com", bs[0].Actor)

	p = br.get(loc)
	require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
	progress := text(findAll(parseHTML(t, p.Body), "div", "run-counts")[0])
	require.Contains(t, progress, "running")
	require.Contains(t, progress, "0 done, 0 failed, 3 remaining of 3 runs")
	require.Len(t, rows(t, p.Body, "runs"), 3)
	f.work(t)
	part := br.get(loc + "&part=bulk")
	require.Contains(t, text(parseHTML(t, part.Body)), "finished 3 done, 0 failed, 0 remaining of 3 runs")
	require.NotContains(t, part.Body, "hx-trigger", "a finished bulk run stops refreshing")
	for _, a := range accs {
		m, err := f.kit.Admin.OrgMember(ctx, f.info.OrgID, a.MiroUserID)
		require.NoError(t, err)
		require.False(t, m.Active, a.Email)
	}
	list := br.get("/workflows/runs")
	require.Contains(t, text(findAll(parseHTML(t, list.Body), "table", "bulk-runs")[0]), "finished 3 done, 0 failed, 0 remaining of 3")
	// A run's page says which bulk run it is part of.
	runs := rows(t, p.Body, "runs")
	require.NotEmpty(t, runs)
	m := regexp.MustCompile(`href="/workflows/runs/(\d+)"`).FindStringSubmatch(p.Body)
	require.NotNil(t, m)
	rp := br.get("/workflows/runs/" + m[1])
	require.Contains(t, rp.Body, fmt.Sprintf(`part of <a href="/workflows/runs?bulk=%d">bulk run %d</a>`, bs[0].ID, bs[0].ID))
}

// TestBulkAllMatching: "all matching" goes to the GET confirmation of
// the filter, whose people come 50 a page; links with return lead back.
func TestBulkAllMatching(t *testing.T) {
	t.Parallel()
	f := newWFFixture(t, openSQLite(t))
	f.enableSCIM(t)
	br := f.loggedIn(t, roster.RoleAdmin)
	p := br.post("/users/bulk", url.Values{"action": {"deactivate"}, "scope": {"all"}, "filter": {inactiveFilter.Encode()}, "return": {"/licenses"}})
	require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
	loc, err := url.Parse(p.location())
	require.NoError(t, err)
	require.Equal(t, "/users/bulk", loc.Path)
	require.Equal(t, "deactivate", loc.Query().Get("action"))
	require.Equal(t, "inactive", loc.Query().Get("activity"))
	require.Equal(t, "/licenses", loc.Query().Get("return"))

	all, err := f.db.ListAccounts(context.Background(), store.AccountQuery{License: roster.LicenseFull, Activity: "inactive", Status: "active",
		Sort: "email", Limit: 1000, ActiveSince: roster.InactiveBefore(f.clock.Now(), roster.DefaultSettings().InactivityDays)})
	require.NoError(t, err)
	p = br.get(p.location())
	require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
	doc := parseHTML(t, p.Body)
	require.Contains(t, text(findAll(doc, "section", "summary")[0]), fmt.Sprintf("People selected%d", len(all.Accounts)))
	require.Contains(t, p.Body, `href="/licenses"`, "the way back")
	require.Contains(t, p.Body, `name="selection" value="filter"`)
	page := rows(t, p.Body, "bulk-people")
	require.LessOrEqual(t, len(page), 50)
	// The left-out tab lists the external users, and why.
	left := br.get(loc.String() + "&show=left_out")
	require.Equal(t, http.StatusOK, left.StatusCode, left.Body)
	leftRows := rows(t, left.Body, "bulk-people")
	require.NotEmpty(t, leftRows, "external users hold full licenses too")
	for _, r := range leftRows {
		require.Contains(t, r, "guests and external users cannot be deactivated")
	}
	require.Equal(t, len(all.Accounts), len(page)+len(leftRows), "everyone would run or is left out")

	// Refused requests say why and start nothing.
	for _, tc := range []struct{ path, saying string }{
		{"/users/bulk?action=delete_everyone", `not "delete_everyone"`},
		{"/users/bulk?action=remove_from_team", "Choose the team to remove people from"},
		{"/users/bulk?action=remove_from_team&team=no-such-team", `roster knows no team "no-such-team"`},
		{"/users/bulk?action=workflow&workflow=999", "roster has no workflow 999"},
		{"/users/bulk?action=deactivate&q=no-such-person-anywhere", "no one matches the filter"},
	} {
		p := br.get(tc.path)
		require.Equal(t, http.StatusBadRequest, p.StatusCode, tc.path)
		require.Contains(t, html.UnescapeString(p.Body), tc.saying, tc.path)
	}
	p = br.post("/users/bulk", url.Values{"action": {"deactivate"}, "filter": {inactiveFilter.Encode()}})
	require.Equal(t, http.StatusBadRequest, p.StatusCode)
	require.Contains(t, p.Body, "No one is selected")
	p = br.post("/users/bulk/start", url.Values{"action": {"deactivate"}, "selection": {"ids"}, "id": {"987654"}, "key": {"k-1"}})
	require.Equal(t, http.StatusBadRequest, p.StatusCode)
	require.Contains(t, p.Body, "roster knows no account with id 987654")
	bs, err := f.db.BulkRuns(context.Background(), 0, 10)
	require.NoError(t, err)
	require.Empty(t, bs)
	require.Zero(t, f.writeCalls())
}
