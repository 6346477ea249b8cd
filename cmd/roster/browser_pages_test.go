package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"roster/internal/store"
	"roster/internal/store/sqlstore"
)

// TestBrowserPages opens every main page of the dashboard at a desktop
// width (1440 px) and a phone's (390 px), as a logged-in admin, and checks
// that each renders its content with nothing wider than the window: a
// table too wide for a phone scrolls inside its own box, never the page.
// With ROSTER_TEST_SCREENSHOTS=<dir> (or go test -artifacts) it saves each as
// a PNG, for a person to look at.
func TestBrowserPages(t *testing.T) {
	b := setupBrowser(t)
	ctx := context.Background()
	b.logIn()
	accs, err := b.d.app.store.Accounts(ctx, store.AccountFilter{ConnectionID: b.d.org.ID, Limit: 50})
	require.NoError(t, err)
	user := ""
	for _, a := range accs {
		if ms, err := b.d.app.store.AccountMemberships(ctx, a.ID); err == nil && len(ms) > 1 && a.Email != "" {
			user = fmt.Sprintf("/users/%d", a.ID)
			break
		}
	}
	require.NotEmpty(t, user, "no member of two teams in the demo")
	reclaim, err := b.d.app.store.WorkflowByName(ctx, "license-reclaim")
	require.NoError(t, err)

	dir := screenshotDir(t)
	seedLicenseHistory(t, b.d.app.store)
	pages := []struct{ name, path string }{
		{"overview", "/"},
		{"licenses-current", "/licenses"}, {"licenses-recommendations", "/licenses?tab=recommendations"},
		{"licenses-trend", "/licenses?tab=trend"}, {"licenses-trend-2y", "/licenses?tab=trend&days=730"},
		{"licenses-chargeback", "/licenses?tab=chargeback"}, {"licenses-chargeback-department", "/licenses?tab=chargeback&by=department"},
		{"users", "/users"}, {"users-inactive", "/users?license=full&activity=inactive&status=active"},
		{"user", user}, {"user-remove-pick", user + "/actions/remove"}, {"teams", "/teams"}, {"connections", "/connections"}, {"directory", "/directory"},
		{"audit", "/audit"}, {"settings", "/settings"}, {"api-keys", "/settings/api-keys"},
		{"workflows", "/workflows"}, {"workflow-enable-reclaim", fmt.Sprintf("/workflows/enable/%d", reclaim.ID)},
		{"workflow-runs", "/workflows/runs"}, {"approvals", "/workflows/approvals"},
	}
	for _, width := range []int64{1440, 390} {
		b.run(fmt.Sprintf("%d px wide", width), chromedp.EmulateViewport(width, 900))
		for _, p := range pages {
			step := fmt.Sprintf("%s at %d px", p.name, width)
			b.run(step, chromedp.Navigate(b.url+p.path), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
			overflow := value(b, step, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
			if overflow > 0 {
				b.screenshot(step)
			}
			require.LessOrEqual(t, overflow, 0, "%s: the page is %d px wider than the window", step, overflow)
			if dir != "" {
				shot := value(b, step, chromedp.FullScreenshot(100))
				name := filepath.Join(dir, fmt.Sprintf("%s-%d.png", p.name, width))
				require.NoError(t, os.WriteFile(name, shot, 0o644))
			}
		}
	}
}

// seedLicenseHistory gives the demo's organizations a year of daily
// license points before today's, so that the trend has a history to look
// at (the demo synced once): today's counts drifting back in time, with
// a few days missing, as when syncs failed. Only the screenshots read it.
func seedLicenseHistory(t *testing.T, st store.Store) {
	t.Helper()
	db, ok := st.(*sqlstore.DB)
	require.True(t, ok, "the demo's store is %T", st)
	ctx := context.Background()
	today, err := st.LicenseDays(ctx, "", time.Now().UTC().AddDate(0, 0, -1))
	require.NoError(t, err)
	require.NotEmpty(t, today)
	for back := 1; back <= 365; back++ {
		if back%29 == 3 || back%29 == 4 {
			continue // no sync those days
		}
		for _, p := range today {
			// Fewer licenses assigned, and more of them used, further back.
			drift := func(n int, per float64) int { return max(0, n-int(float64(n)*per*float64(back)/365)) }
			assigned := drift(p.Assigned, 0.25)
			active := min(assigned, drift(p.Active, 0.1)+(back/40)%3)
			inactive := max(0, assigned-active-p.UsageUnknown)
			_, err := db.SQL().ExecContext(ctx, `INSERT INTO license_days (day, org_id, license, purchased, assigned, active, inactive, usage_unknown)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, p.Day.AddDate(0, 0, -back).Format("2006-01-02"), p.OrgID, p.License,
				p.Purchased, assigned, active, inactive, min(p.UsageUnknown, assigned))
			require.NoError(t, err)
		}
	}
}
