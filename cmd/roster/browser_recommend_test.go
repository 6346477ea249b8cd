package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/insights"
	"roster/internal/miro"
	"roster/internal/store"
)

// Why the bulk confirmation leaves someone out of a deactivation, in its
// words (the workflow package's reasons a reclaim can meet: everyone it
// lists holds a Full license, is active, and has known usage).
const (
	leftOutGuest     = "guests and external users cannot be deactivated or reactivated through Miro's API"
	leftOutInstaller = "their Miro account connects roster to Miro: deactivating it would cut roster off"
	leftOutNoEmail   = "roster knows no email for them: deactivation and removal from every team go by email"
)

// TestBrowserRecommendation takes the Licenses page's advice as an admin
// would: open the recommendations, read "Reclaim inactive Full licenses"
// (its people and money, checked against the store's own list of the
// people its filter names and the organization's price of a Full seat),
// take action, read the confirmation's summary (the same people and
// money, with who is left out and why), confirm, and follow the bulk
// run to its end. The simulator's own state (over HTTP) then has
// everyone who ran deactivated with their license freed, and the
// recommendation, read again, has followed: only the people left out
// remain. With ROSTER_TEST_SCREENSHOTS=<dir> (or go test -artifacts) it
// saves the card, the confirmation and the run at 1440 px and 390 px.
func TestBrowserRecommendation(t *testing.T) {
	auto := defaultAutomation()
	auto.retryBase = 100 * time.Millisecond
	require.NoError(t, auto.check("test"))
	b := setupBrowserWith(t, auto)
	ctx := t.Context()
	st := b.d.app.store
	dir := os.Getenv("ROSTER_TEST_SCREENSHOTS")
	if dir == "" && testingArtifacts() {
		dir = t.ArtifactDir()
	}
	orgID := b.info.OrgID

	b.logIn()

	// What the store says: everyone the recommendation is about (its
	// filter: the organization's members, not guests or external users,
	// with an active Full license, inactive, not left per the directory),
	// the organization's price of a Full seat, and which of them a
	// deactivation must leave out.
	settings, err := st.Settings(ctx)
	require.NoError(t, err)
	contract, err := st.Contract(ctx, orgID)
	require.NoError(t, err)
	price := contract.MonthlyPrice(roster.LicenseFull)
	require.Positive(t, price, "the demo prices a Full seat")
	held := reclaimable(t, st, store.AccountQuery{Org: orgID, License: roster.LicenseFull, Activity: "inactive",
		Directory: "not_left", Status: "active", Members: true, ActiveSince: insights.InactiveBefore(time.Now(), settings.InactivityDays)})
	require.NotEmpty(t, held, "the demo has inactive Full licenses to reclaim")
	conns, err := st.Connections(ctx)
	require.NoError(t, err)
	installers := map[string]bool{}
	for _, c := range conns {
		if c.Status != roster.StatusDisconnected && c.InstallerID != "" {
			installers[c.InstallerID] = true
		}
	}
	var wouldRun []roster.Account
	leftOut := map[string]int{}
	for _, a := range held {
		switch {
		case roster.GuestOrExternal(a.OrgRole):
			leftOut[leftOutGuest]++
		case installers[a.MiroUserID]:
			leftOut[leftOutInstaller]++
		case a.Email == "":
			leftOut[leftOutNoEmail]++
		default:
			wouldRun = append(wouldRun, a)
		}
	}
	require.NotEmpty(t, wouldRun)
	require.Zero(t, leftOut[leftOutGuest], "guests and external users are the review's recommendation, not the reclaim's")
	t.Logf("the recommendation: %d people, %d would be deactivated, left out %v", len(held), len(wouldRun), leftOut)

	// The card, as the store says it should read.
	card := `#rec-` + insights.RecommendReclaimInactive
	b.run("open the recommendations", chromedp.Navigate(b.url+"/licenses?tab=recommendations"), chromedp.WaitVisible(chromedp.CSS(card)))
	shown := readCard(b, card)
	require.Equal(t, map[string]string{
		"title": "Reclaim inactive Full licenses",
		"count": thousands(len(held)) + " people",
		"money": dashboardMoney(float64(len(held))*price, contract.Currency) + " a month",
	}, shown)
	href := value(b, "read the card's link", chromedp.AttributeValue(chromedp.CSS(card+` .rec-action a.button`), "href"))
	require.True(t, href.Exists, "the card has a Take action link")
	require.Contains(t, href.Value, "org="+orgID)
	b.saveWidths(dir, "rec-card")

	// Take action: the confirmation, summary first.
	b.run("take action",
		chromedp.Click(chromedp.CSS(card+` .rec-action a.button`)),
		chromedp.WaitVisible(chromedp.CSS(`section.summary`)),
	)
	require.True(t, strings.HasPrefix(value(b, "the confirmation's address", chromedp.Location()), b.url+"/users/bulk?"))
	counts := value(b, "read the summary", chromedp.Evaluate[map[string]string](`Object.fromEntries(['selected-count', 'would-run', 'left-out', 'seats-freed', 'monthly-saving']
		.map(c => [c, (document.querySelector('section.summary .' + c)?.textContent ?? '').trim()]))`))
	require.Equal(t, map[string]string{
		"selected-count": thousands(len(held)),
		"would-run":      thousands(len(wouldRun)),
		"left-out":       thousands(len(held) - len(wouldRun)),
		"seats-freed":    thousands(len(wouldRun)),
		"monthly-saving": dashboardMoney(float64(len(wouldRun))*price, contract.Currency),
	}, counts)
	reasons := value(b, "read who is left out, and why", chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll('section.summary table.reasons tbody tr')]
		.map(tr => [tr.cells[1].textContent.trim(), tr.cells[0].textContent.trim()]))`))
	wantReasons := map[string]string{}
	for why, n := range leftOut {
		wantReasons[why] = thousands(n)
	}
	require.Equal(t, wantReasons, reasons)
	// The card and the confirmation speak of the same people, and the
	// card's money is what confirming saves, but for anyone left out
	// (the account that connects roster, say).
	require.Equal(t, strings.TrimSuffix(shown["count"], " people"), counts["selected-count"], "the card's people are the confirmation's")
	gap := readMoney(t, strings.TrimSuffix(shown["money"], " a month"), contract.Currency) - readMoney(t, counts["monthly-saving"], contract.Currency)
	require.InDelta(t, float64(len(held)-len(wouldRun))*price, gap, 0.005,
		"the card's money (%s) is what confirming saves (%s) but the left-out people's seats", shown["money"], counts["monthly-saving"])
	require.Equal(t, "Deactivate "+thousands(len(wouldRun))+" people", strings.TrimSpace(value(b, "read the button", chromedp.Text(chromedp.CSS(`#confirm-button`)))))
	b.saveWidths(dir, "rec-confirm")

	// Confirm, and follow the progress until the bulk run finishes.
	progress := b.confirmBulk()
	n := thousands(len(wouldRun))
	require.Equal(t, map[string]string{"bulk-done": n, "bulk-failed": "0", "bulk-remaining": "0", "bulk-total": n}, progress)
	b.saveWidths(dir, "rec-run")

	// The simulator's own state, listed once: everyone who ran is
	// deactivated with their license freed; those left out are not.
	members := map[string]miro.OrganizationMember{}
	for m, err := range b.client.OrgMembers(ctx, orgID, miro.MemberFilter{}) {
		require.NoError(t, err)
		members[m.ID] = m
	}
	ran := map[string]bool{}
	for _, a := range wouldRun {
		ran[a.MiroUserID] = true
		m, ok := members[a.MiroUserID]
		require.True(t, ok, "%s is a member at Miro", a.Email)
		require.False(t, m.Active, "%s is deactivated at Miro", a.Email)
		require.Equal(t, roster.LicenseFree, m.License.String(), "%s's license is freed", a.Email)
	}
	for _, a := range held {
		if !ran[a.MiroUserID] {
			require.True(t, members[a.MiroUserID].Active, "%s, left out, is still active at Miro", a.Email)
		}
	}

	// The recommendation followed: only those left out remain, or, when
	// no one was, it is gone.
	b.run("open the recommendations again", chromedp.Navigate(b.url+"/licenses?tab=recommendations"), chromedp.WaitVisible(chromedp.CSS(`#tab-panel`)))
	remaining := len(held) - len(wouldRun)
	if remaining == 0 {
		require.False(t, value(b, "look for the card", chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q) !== null`, card))),
			"the reclaim recommendation is gone once everyone is deactivated")
	} else {
		unit := "people"
		if remaining == 1 {
			unit = "person"
		}
		after := readCard(b, card)
		require.Equal(t, thousands(remaining)+" "+unit, after["count"])
		require.Equal(t, dashboardMoney(float64(remaining)*price, contract.Currency)+" a month", after["money"])
		// Taking action again has nothing left to do: all are left out.
		b.run("take action again",
			chromedp.Click(chromedp.CSS(card+` .rec-action a.button`)),
			chromedp.WaitVisible(chromedp.CSS(`section.summary`)),
		)
		again := value(b, "read the summary again", chromedp.Evaluate[map[string]string](`Object.fromEntries(['selected-count', 'would-run', 'left-out']
			.map(c => [c, (document.querySelector('section.summary .' + c)?.textContent ?? '').trim()]))`))
		require.Equal(t, map[string]string{"selected-count": thousands(remaining), "would-run": "0", "left-out": thousands(remaining)}, again)
		require.False(t, value(b, "look for the confirm button", chromedp.Evaluate[bool](`document.querySelector('#confirm-button') !== null`)),
			"no one would run, so there is nothing to confirm")
	}
	if dir != "" {
		t.Logf("screenshots in %s", dir)
	}
}

// reclaimable is everyone q matches, every page of it.
func reclaimable(t *testing.T, st store.Store, q store.AccountQuery) []roster.Account {
	t.Helper()
	q.Limit = 1000
	var out []roster.Account
	for {
		page, err := st.ListAccounts(t.Context(), q)
		require.NoError(t, err)
		out = append(out, page.Accounts...)
		if page.NextCursor == "" {
			require.Len(t, out, page.Total, "every page of the list")
			return out
		}
		q.Cursor = page.NextCursor
	}
}

// readCard reads a recommendation card's title, count and money.
func readCard(b *browserBundle, card string) map[string]string {
	b.t.Helper()
	return value(b, "read the card "+card, chromedp.Evaluate[map[string]string](fmt.Sprintf(`(() => {
		const c = document.querySelector(%q);
		const text = s => (c.querySelector(s)?.textContent ?? '').trim().replace(/\s+/g, ' ');
		return {title: text('h2'), count: text('.count'), money: text('.money')};
	})()`, card)))
}

// readMoney reads an amount the dashboard wrote in currency.
func readMoney(t *testing.T, text, currency string) float64 {
	t.Helper()
	amount, ok := strings.CutSuffix(text, " "+currency)
	require.True(t, ok, "%q is in %s", text, currency)
	v, err := strconv.ParseFloat(strings.ReplaceAll(amount, ",", ""), 64)
	require.NoError(t, err, text)
	return v
}

// dashboardMoney writes an amount as the dashboard does: 1,234.50 USD.
func dashboardMoney(amount float64, currency string) string {
	whole, cents, _ := strings.Cut(strconv.FormatFloat(amount, 'f', 2, 64), ".")
	n, err := strconv.Atoi(whole)
	if err != nil {
		panic(err)
	}
	return thousands(n) + "." + cents + " " + currency
}
