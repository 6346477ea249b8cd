package web

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"roster"
	"roster/internal/store/storetest"
)

// TestOverview checks the overview's money, waste, utilisation, people,
// top recommendations and last syncs against counts from the store's
// accounts and the contract, and that each number links to a list of
// exactly its people.
func TestOverview(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		m := newMoneyFixture(t, db)
		want, wantTotal := m.want(t)
		full, adv := want[roster.LicenseFull], want["advanced"]
		br := m.loggedIn(t, roster.RoleViewer)
		p := br.mustGet("/")
		doc := parseHTML(t, p.Body)

		byID := func(id string) *html.Node {
			for _, n := range findAll(doc, "", "") {
				if attr(n, "id") == id {
					return n
				}
			}
			t.Fatalf("no #%s", id)
			return nil
		}
		value := func(n *html.Node) *html.Node { return findAll(n, "span", "value")[0] }

		// The headline: the monthly cost and the savings in three kinds.
		require.InDelta(t, wantTotal, cellMoney(t, value(byID("monthly-cost"))), 0.001)
		unassigned := float64(full.unassigned)*16 + float64(adv.unassigned)*20
		inactiveFull, inactiveAdv := full.inactive-full.inactiveLeavers, adv.inactive-adv.inactiveLeavers
		inactive := float64(inactiveFull)*16 + float64(inactiveAdv)*20
		leavers := float64(full.leavers)*16 + float64(adv.leavers)*20
		require.InDelta(t, unassigned+inactive+leavers, cellMoney(t, value(byID("savings"))), 0.001)

		cards := map[string]*html.Node{}
		for _, c := range findAll(doc, "div", "waste") {
			cards[text(findAll(c, "span", "label")[0])] = c
		}
		require.Len(t, cards, 3)
		check := func(label string, count int, money float64) string {
			c := cards[label]
			require.NotNil(t, c, label)
			require.Equal(t, count, cellNumber(t, value(c)), label)
			require.InDelta(t, money, cellMoney(t, findAll(c, "span", "money")[0]), 0.001, label)
			return cellLink(t, value(c))
		}
		href := check("Unassigned seats", full.unassigned+adv.unassigned, unassigned)
		require.Equal(t, url.Values{"org": {m.orgID}}, mustQuery(t, href, "/licenses"), "seats are no people: the license table")
		check("Inactive licenses", inactiveFull+inactiveAdv, inactive)
		href = check("People who left", full.leavers, leavers)
		require.Equal(t, url.Values{"org": {m.orgID}, "license": {"full"}, "directory": {"left"}, "status": {"active"}}, mustQuery(t, href, "/users"))
		// Inactive licenses are two licenses: each its own list. Each list
		// is the license's inactive people, those who left too (the users
		// list cannot leave them out): the card counts those under "People
		// who left".
		parts := map[string]string{}
		for _, a := range findAll(findAll(cards["Inactive licenses"], "ul", "breakdown")[0], "a", "") {
			parts[text(a)] = attr(a, "href")
		}
		require.Len(t, parts, 2, "%v", parts)
		require.Equal(t, full.inactive, m.linkCount(t, parts[strconv.Itoa(inactiveFull)+" Full"]))
		require.Equal(t, adv.inactive, m.linkCount(t, parts[strconv.Itoa(inactiveAdv)+" Advanced"]))

		// Utilisation: Full is active over bought; a license with no seat
		// count is active over assigned.
		util := map[string][]*html.Node{}
		for _, tr := range findAll(findAll(findAll(doc, "table", "utilisation")[0], "tbody", "")[0], "tr", "") {
			span := findAll(findAll(tr, "th", "")[0], "span", "")[0]
			util[strings.TrimPrefix(attr(span, "title"), "Miro's value: ")] = findAll(tr, "td", "")
		}
		require.Len(t, util, len(want))
		fu := util[roster.LicenseFull]
		require.Equal(t, full.active, m.linkCount(t, cellLink(t, fu[0])))
		require.Equal(t, full.active, number(t, text(fu[0])))
		require.Equal(t, full.purchased, cellNumber(t, fu[1]))
		require.Contains(t, text(fu[1]), "bought")
		require.Contains(t, text(fu[2]), percentOf(full.active, full.purchased))
		free := util[roster.LicenseFree]
		require.Equal(t, want[roster.LicenseFree].assigned, m.linkCount(t, cellLink(t, free[1])))
		require.Contains(t, text(free[2]), percentOf(want[roster.LicenseFree].active, want[roster.LicenseFree].assigned))

		// People: each number is its list's count.
		people := map[string]int{}
		for _, st := range findAll(findAll(doc, "section", "stats")[0], "div", "stat") {
			v := value(st)
			people[text(findAll(st, "span", "label")[0])] = number(t, text(v))
			require.Equal(t, number(t, text(v)), m.linkCount(t, cellLink(t, v)), text(st))
		}
		require.Len(t, people, 5, "usage unknown only shows when someone's is")
		require.Equal(t, len(m.accounts(t, m.orgID)), people["People"])

		// The top three recommendations, linking to the Licenses page.
		items := findAll(findAll(doc, "ol", "top-recs")[0], "li", "")
		require.Len(t, items, 3)
		for _, li := range items {
			u, err := url.Parse(cellLink(t, li))
			require.NoError(t, err)
			require.Equal(t, "/licenses", u.Path)
			require.Equal(t, url.Values{"org": {m.orgID}, "tab": {"recommendations"}}, u.Query())
			require.True(t, strings.HasPrefix(u.Fragment, "rec-"), u.Fragment)
		}

		// Every connection's last sync.
		syncs := findAll(findAll(findAll(doc, "table", "syncs")[0], "tbody", "")[0], "tr", "")
		require.Len(t, syncs, 2)
		for _, tr := range syncs {
			require.Contains(t, text(tr), "succeeded")
			require.Regexp(t, `^/connections#connection-\d+$`, cellLink(t, tr))
		}

		// Across organizations only people add up here, with money in one
		// currency only: the team-level organization is priced in the
		// settings' currency, not the contract's.
		across := text(findAll(doc, "p", "across")[0])
		require.Contains(t, across, "All 2 organizations together")
		require.Contains(t, across, "different currencies")

		// The team-level organization: usage unknown, said why.
		p = br.mustGet("/?org=" + m.teamOrgID)
		require.Contains(t, p.Body, `id="usage-unknown"`)
		require.Contains(t, p.Body, "Miro gives team-level connections no license or activity data")
		require.Contains(t, p.Body, "usage unknown")
	})
}

// percentOf is n/d as the page writes a percentage.
func percentOf(n, d int) string { return fmt.Sprintf("%.1f%%", float64(n)/float64(d)*100) }
