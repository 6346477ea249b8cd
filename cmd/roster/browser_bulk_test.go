package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/insights"
	"roster/internal/store"
)

// bulkPicked is how many people the bulk test ticks.
const bulkPicked = 30

// TestBrowserBulk reclaims licenses in bulk as an admin would: filter the
// users list to inactive full licenses, tick 30 people, choose
// Deactivate, read the confirmation's summary, confirm, and follow the
// bulk run's progress to its end; the simulator's own state (over HTTP)
// then has all 30 deactivated with their licenses freed, and the runs
// page shows the bulk run finished. With ROSTER_TEST_SCREENSHOTS=<dir>
// (or go test -artifacts) it saves the users list with its selection, the
// confirmation and the runs page at 1440 px and 390 px.
func TestBrowserBulk(t *testing.T) {
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

	b.logIn()

	// What the store says the filter holds, and its first page as the
	// list shows it: 30 people of it whom Miro's API can deactivate.
	settings, err := st.Settings(ctx)
	require.NoError(t, err)
	q := store.AccountQuery{License: roster.LicenseFull, Activity: "inactive", Status: "active", Sort: "email", Limit: 50,
		ActiveSince: insights.InactiveBefore(time.Now(), settings.InactivityDays)}
	first, err := st.ListAccounts(ctx, q)
	require.NoError(t, err)
	var picked []roster.Account
	for _, a := range first.Accounts {
		if !roster.GuestOrExternal(a.OrgRole) && a.UsageKnown() && len(picked) < bulkPicked {
			picked = append(picked, a)
		}
	}
	require.Len(t, picked, bulkPicked, "the first page holds %d people to deactivate", bulkPicked)

	// Filter the list with its own form.
	b.run("open the users list", chromedp.Navigate(b.url+"/users"), chromedp.WaitVisible(chromedp.CSS(`#f-license`)))
	_ = value(b, "filter by license, activity and status", chromedp.Evaluate[bool](`(() => {
		const set = (id, v) => { document.getElementById(id).value = v; };
		set('f-license', 'full'); set('f-activity', 'inactive'); set('f-status', 'active');
		return document.getElementById('f-status').dispatchEvent(new Event('change', {bubbles: true}));
	})()`))
	b.run("see the filtered list", waitText(`strong.total`, thousands(first.Total)), chromedp.WaitVisible(chromedp.CSS(`#bulk-bar`)))
	for _, a := range picked {
		b.run("tick "+a.Email, chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="id"][value="%d"]`, a.ID))))
	}
	b.run("see the selection counted", waitText(`#bulk-count`, fmt.Sprintf("%d selected on this page, or", bulkPicked)))
	require.Equal(t, "Select "+picked[0].Email, value(b, "read a box's label", chromedp.Evaluate[string](
		fmt.Sprintf(`document.querySelector('input[name="id"][value="%d"]').getAttribute('aria-label')`, picked[0].ID))))
	b.saveWidths(dir, "bulk-users-selected")

	// Deactivate…: the confirmation, summary first.
	b.run("choose Deactivate",
		chromedp.Click(chromedp.CSS(`#bulk-bar button[value="deactivate"]`)),
		chromedp.WaitVisible(chromedp.CSS(`section.summary`)),
	)
	require.Equal(t, b.url+"/users/bulk", value(b, "the confirmation's address", chromedp.Location()))
	counts := value(b, "read the summary", chromedp.Evaluate[map[string]string](`Object.fromEntries(['selected-count', 'would-run', 'left-out', 'seats-freed', 'monthly-saving']
		.map(c => [c, (document.querySelector('section.summary .' + c)?.textContent ?? '').trim()]))`))
	require.Equal(t, map[string]string{"selected-count": "30", "would-run": "30", "left-out": "0", "seats-freed": "30",
		"monthly-saving": fmt.Sprintf("%.2f %s", 16.0*bulkPicked, settings.Currency)}, counts)
	words := value(b, "read what it means", chromedp.Text(chromedp.CSS(`section.summary .consequences`)))
	require.Contains(t, words, "can no longer sign in to Miro")
	require.Contains(t, words, "paid license is freed")
	require.Equal(t, fmt.Sprintf("Deactivate %d people", bulkPicked), strings.TrimSpace(value(b, "read the button", chromedp.Text(chromedp.CSS(`#confirm-button`)))))
	listed := value(b, "read the people", chromedp.Evaluate[[]string](`[...document.querySelectorAll('table.bulk-people tbody tr td:first-child a')].map(a => a.textContent.trim())`))
	var want []string
	for _, a := range picked {
		want = append(want, a.Email)
	}
	require.ElementsMatch(t, want, listed)
	b.saveWidths(dir, "bulk-confirm")

	// Confirm, and follow the progress until the bulk run finishes.
	progress := b.confirmBulk()
	require.Equal(t, map[string]string{"bulk-done": "30", "bulk-failed": "0", "bulk-remaining": "0", "bulk-total": "30"}, progress)

	// The simulator's own state: all 30 deactivated, their licenses freed.
	for _, a := range picked {
		m, err := b.client.OrgMember(ctx, b.info.OrgID, a.MiroUserID)
		require.NoError(t, err, a.Email)
		require.False(t, m.Active, "%s is deactivated at Miro", a.Email)
		require.Equal(t, roster.LicenseFree, m.License.String(), "%s's license is freed", a.Email)
	}
	b.saveWidths(dir, "bulk-run")

	// The runs page lists it, finished.
	bs, err := st.BulkRuns(ctx, 0, 1)
	require.NoError(t, err)
	require.Len(t, bs, 1)
	row := fmt.Sprintf(`#bulk-run-%d`, bs[0].ID)
	b.run("open the runs page", chromedp.Navigate(b.url+"/workflows/runs"), chromedp.WaitVisible(chromedp.CSS(row)))
	require.Contains(t, value(b, "read its row", chromedp.Text(chromedp.CSS(row))), "finished 30 done, 0 failed, 0 remaining of 30")
	b.saveWidths(dir, "bulk-runs")
	if dir != "" {
		t.Logf("screenshots in %s", dir)
	}
}

// confirmBulk confirms a bulk confirmation page, follows the bulk run's
// progress until it finishes and returns its counts by class
// (bulk-done, bulk-failed, bulk-remaining, bulk-total).
func (b *browserBundle) confirmBulk() map[string]string {
	b.t.Helper()
	b.run("confirm",
		chromedp.Click(chromedp.CSS(`#confirm-button`)),
		chromedp.WaitVisible(chromedp.CSS(`#bulk-progress`)),
	)
	require.Contains(b.t, value(b, "the bulk run's page", chromedp.Location()), "/workflows/runs?bulk=")
	b.runWithin("the bulk run finishes", runTimeout, waitText(`#bulk-progress .bulk-status`, "finished"))
	return value(b, "read the progress", chromedp.Evaluate[map[string]string](`Object.fromEntries(['bulk-done', 'bulk-failed', 'bulk-remaining', 'bulk-total']
		.map(c => [c, document.querySelector('#bulk-progress .' + c).textContent.trim()]))`))
}

// saveWidths checks the page at 1440 px and 390 px wide (nothing wider than
// the window) and, with dir, saves each as name-<width>.png; it leaves
// the window at 1440 px.
func (b *browserBundle) saveWidths(dir, name string) {
	b.t.Helper()
	for _, width := range []int64{1440, 390} {
		step := fmt.Sprintf("%s at %d px", name, width)
		b.run(step, chromedp.EmulateViewport(width, 900))
		// From the top, as the page opens, once the layout has settled at
		// the new width. The width is the page's, without the scrollbar.
		_ = value(b, step, chromedp.Evaluate[bool](`new Promise(r => { window.scrollTo(0, 0); requestAnimationFrame(() => requestAnimationFrame(() => r(true))); })`, chromedp.EvalAwaitPromise))
		overflow := value(b, step, chromedp.Evaluate[int](`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
		if overflow > 0 {
			b.screenshot(step)
		}
		require.LessOrEqual(b.t, overflow, 0, "%s: the page is %d px wider than the window", step, overflow)
		if dir != "" {
			shot := value(b, step, chromedp.FullScreenshot(100))
			require.NoError(b.t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.png", name, width)), shot, 0o644))
		}
	}
	b.run(name+" back to 1440 px", chromedp.EmulateViewport(1440, 900))
}

// thousands writes n as the dashboard does: 1,234.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
