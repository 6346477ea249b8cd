package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"roster"
	"roster/internal/action"
	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/testkit"
)

// fixture is a dashboard on a store synced from an in-process simulated
// Miro (the shared test kit): an organization-level connection and a
// team-level connection to a team outside the organization (legacy API,
// inferred licenses). Its actions run for real against the simulator.
type fixture struct {
	*testBundle
	kit  *testkit.Kit
	sim  *mirosim.Sim
	info mirosim.Info
	org  roster.Connection
	team roster.Connection
	// admin is the Company Admin's view of the simulator.
	admin *miro.Client
}

func newFixture(t *testing.T, db *sqlstore.DB, opts ...func(*Config)) *fixture {
	t.Helper()
	k := testkit.New(t, db, mirosim.Config{Seed: 7, Members: 120, Teams: 6, TeamsPerMember: 2, NonEnterpriseTeams: 1})
	f := &fixture{kit: k, sim: k.Sim, info: k.Info, admin: k.Admin}
	runner := &action.Runner{Store: db, Clients: k.Clients}
	opts = append([]func(*Config){func(c *Config) { c.Actions = runner }}, opts...)
	f.testBundle = setupOn(t, db, opts...)
	f.org, f.team = k.OrgAndTeam(t)
	return f
}

// sync syncs a connection and requires it to succeed.
func (f *fixture) sync(t *testing.T, connID int64) { f.kit.Sync(t, connID) }

// parseHTML parses a page.
func parseHTML(t *testing.T, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	require.NoError(t, err)
	return doc
}

// findAll returns the elements with tag (any when "") and class (any when "").
func findAll(n *html.Node, tag, class string) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (tag == "" || n.Data == tag) && (class == "" || hasClass(n, class)) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func hasClass(n *html.Node, class string) bool {
	for _, f := range strings.Fields(attr(n, "class")) {
		if f == class {
			return true
		}
	}
	return false
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// text is an element's text, spaces collapsed.
func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// number reads "1,234" as 1234.
func number(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	require.NoError(t, err, "not a number: %q", s)
	return n
}

// total is the users list's total count.
func total(t *testing.T, body string) int {
	t.Helper()
	ts := findAll(parseHTML(t, body), "strong", "total")
	require.Len(t, ts, 1, "no total on the page")
	return number(t, text(ts[0]))
}

var userLinkRe = regexp.MustCompile(`href="/users/(\d+)"`)

// userIDs are the accounts listed on a users page, in order.
func userIDs(body string) []string {
	var out []string
	for _, m := range userLinkRe.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// nextHref is the users page's next-page link ("" on the last page).
func nextHref(t *testing.T, body string) string {
	t.Helper()
	for _, a := range findAll(parseHTML(t, body), "a", "") {
		if attr(a, "rel") == "next" {
			return attr(a, "href")
		}
	}
	return ""
}

// mustGet gets a page as br and requires 200.
func (br *browser) mustGet(path string) page {
	br.t.Helper()
	p := br.get(path)
	require.Equal(br.t, http.StatusOK, p.StatusCode, "GET %s: %s", path, p.Body)
	return p
}

// storeDB is the store type storetest.Backends hands out.
type storeDB = sqlstore.DB

// storeQueryAll counts every account.
func storeQueryAll() store.AccountQuery { return store.AccountQuery{Limit: 1} }

// someAccount is an active member of the organization with an email and
// at least one team, as a path id.
func someAccount(t *testing.T, f *fixture) string {
	t.Helper()
	a := f.member(t)
	return strconv.FormatInt(a.ID, 10)
}

// The kit's people, through the fixture's connections.
func (f *fixture) member(t *testing.T) roster.Account { return f.kit.Member(t, f.org.ID) }
func (f *fixture) licensedMember(t *testing.T) roster.Account {
	return f.kit.LicensedMember(t, f.org.ID)
}
func (f *fixture) teamMember(t *testing.T) roster.Account { return f.kit.TeamMember(t, f.team.TeamID) }
func (f *fixture) writeCalls() int                        { return f.kit.WriteCalls() }
func (f *fixture) withOrgRole(t *testing.T, role string) roster.Account {
	return f.kit.WithOrgRole(t, role)
}
func (f *fixture) simRole(t *testing.T, teamID, userID string) string {
	return f.kit.SimRole(t, teamID, userID)
}
func (f *fixture) teamOutside(t *testing.T, acc roster.Account) string {
	return f.kit.TeamOutside(t, f.org.ID, acc)
}

// formValues reads the inputs of the forms on the user page that post to
// action and satisfy match, as the browser would submit them.
func actionForms(t *testing.T, body, action string) []url.Values {
	t.Helper()
	var out []url.Values
	for _, form := range findAll(parseHTML(t, body), "form", "") {
		if attr(form, "action") != action {
			continue
		}
		v := url.Values{}
		for _, in := range findAll(form, "input", "") {
			if attr(in, "type") == "checkbox" {
				continue // unticked
			}
			v.Set(attr(in, "name"), attr(in, "value"))
		}
		for _, sel := range findAll(form, "select", "") {
			opts := findAll(sel, "option", "")
			if len(opts) == 0 {
				continue
			}
			chosen := attr(opts[0], "value")
			for _, o := range opts {
				if hasAttr(o, "selected") {
					chosen = attr(o, "value")
				}
			}
			v.Set(attr(sel, "name"), chosen)
		}
		out = append(out, v)
	}
	return out
}

func hasAttr(n *html.Node, name string) bool {
	for _, a := range n.Attr {
		if a.Key == name {
			return true
		}
	}
	return false
}

// inviteForm is the invite form of a connection in the invite dialog of
// a user's page.
func inviteForm(t *testing.T, br *browser, acc string, connID int64) url.Values {
	t.Helper()
	p := br.mustGet("/users/" + acc + "/actions/invite")
	for _, v := range actionForms(t, p.Body, "/users/"+acc+"/actions/invite") {
		if v.Get("connection") == strconv.FormatInt(connID, 10) {
			return v
		}
	}
	t.Fatalf("no invite form for connection %d", connID)
	return nil
}
