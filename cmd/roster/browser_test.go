package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/insights"
	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/store"
)

// chromiumPath finds Debian's chromium (ROSTER_TEST_CHROMIUM overrides it).
func chromiumPath() string {
	if p := os.Getenv("ROSTER_TEST_CHROMIUM"); p != "" {
		p, _ = exec.LookPath(p)
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserBundle is a roster demo (simulator, store, dashboard) served
// in-process and a headless chromium driving it.
type browserBundle struct {
	t      *testing.T
	d      *demo
	url    string
	ctx    context.Context // chromedp's tab
	shots  string          // where failure screenshots go
	client *miro.Client    // the Company Admin's view of the simulator
	info   mirosim.Info
}

// setupBrowser starts a small demo and a browser. It skips, saying why,
// when chromium is missing, and fails instead under ROSTER_REQUIRE_BROWSER=1.
func setupBrowser(t *testing.T) *browserBundle {
	t.Helper()
	return setupBrowserWith(t, nil)
}

// setupBrowserWith is setupBrowser with the demo's serveApp running
// workflows and notifications as auto says (nil: the defaults).
func setupBrowserWith(t *testing.T, auto *automationFlags) *browserBundle {
	t.Helper()
	chromium := chromiumPath()
	if chromium == "" {
		if os.Getenv("ROSTER_REQUIRE_BROWSER") == "1" {
			t.Fatal("chromium is not installed (apt-get install chromium) and ROSTER_REQUIRE_BROWSER=1")
		}
		t.Skip("browser tests skipped: chromium is not installed (apt-get install chromium; ROSTER_TEST_CHROMIUM names another binary)")
	}
	ctx := t.Context()

	// A demo as `roster demo` builds it, smaller so that it syncs at once.
	d, err := startDemo(ctx, demoOptions{
		dataDir: filepath.Join(t.TempDir(), "demo"), logLevel: "error",
		members: 400, teams: 8, seed: 11, simListen: "127.0.0.1:0",
	}, io.Discard, io.Discard)
	require.NoError(t, err)
	t.Cleanup(d.Close)

	srvCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	ready, served := make(chan string, 1), make(chan error, 1)
	go func() {
		served <- serveApp(srvCtx, d.app, serveOptions{listen: "127.0.0.1:0", workers: 2, miro: d.miro, automation: auto}, func(u string) { ready <- u })
	}()
	b := &browserBundle{t: t, d: d, info: d.sim.Info(d.simURL)}
	select {
	case b.url = <-ready:
	case err := <-served:
		t.Fatalf("serve: %v", err)
	}
	t.Cleanup(func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.WithoutCancel(ctx), opts...)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	b.ctx = tab
	require.NoError(t, chromedp.Do(tab), "start chromium (%s)", chromium)

	b.client, err = miro.New(miro.Config{BaseURL: d.simURL, Token: miro.StaticToken(b.info.Installs[mirosim.InstallOrgAdmin].AccessToken)})
	require.NoError(t, err)
	return b
}

// stepTimeout bounds one step, so that a missing element fails fast.
const stepTimeout = 15 * time.Second

// run runs a step's browser actions; on failure it saves a screenshot
// and stops the test.
func (b *browserBundle) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	b.check(step, chromedp.Do(ctx, actions...))
}

// value runs one step that reads a value, like run.
func value[T any](b *browserBundle, step string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	b.check(step, err)
	return v
}

// logIn signs in with the demo admin's printed credentials and waits for
// the overview.
func (b *browserBundle) logIn() {
	b.t.Helper()
	b.run("log in",
		chromedp.Navigate(b.url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#f-email`)),
		chromedp.SendKeys(chromedp.CSS(`#f-email`), b.d.adminEmail),
		chromedp.SendKeys(chromedp.CSS(`#f-password`), b.d.adminPassword),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`section.stats`)),
	)
}

// check fails the test with a screenshot when err is not nil.
func (b *browserBundle) check(step string, err error) {
	b.t.Helper()
	if err != nil {
		b.screenshot(step)
		b.t.Fatalf("%s: %v", step, err)
	}
}

// screenshot saves the page as PNG into the test's artifact directory
// (go test -artifacts) or, since t.TempDir is deleted, a kept temporary
// directory, and logs its path.
func (b *browserBundle) screenshot(step string) {
	b.t.Helper()
	if b.shots == "" {
		if testingArtifacts() {
			b.shots = b.t.ArtifactDir()
		} else {
			dir, err := os.MkdirTemp("", "roster-browser-")
			if err != nil {
				b.t.Logf("no screenshot: %v", err)
				return
			}
			b.shots = dir
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("no screenshot of %q: %v", step, err)
		return
	}
	name := filepath.Join(b.shots, strings.NewReplacer(" ", "-", "/", "-").Replace(step)+".png")
	if err := os.WriteFile(name, png, 0o644); err != nil {
		b.t.Logf("no screenshot of %q: %v", step, err)
		return
	}
	b.t.Logf("screenshot of the failed step %q (at %s): %s", step, loc, name)
}

// testingArtifacts reports whether go test -artifacts keeps what tests
// write to t.ArtifactDir.
func testingArtifacts() bool {
	f := flag.Lookup("test.artifacts")
	return f != nil && f.Value.String() == "true"
}

// waitText waits until the text of the element sel (CSS) is want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	js := fmt.Sprintf(`(document.querySelector(%q)?.textContent ?? "").trim() === %q`, sel, want)
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Poll[bool](js, chromedp.WithPollingInterval(50*time.Millisecond))(ctx, t)
		return err
	})
}

// TestBrowser drives the dashboard in chromium as an admin would: log in,
// add a connection through Miro's OAuth pages (the simulator's), compare
// the overview with the store, filter users and export them, invite and
// remove someone through the user page's Actions menu and see it in the
// history and the simulator, and find it all in the audit log. With
// ROSTER_TEST_SCREENSHOTS=<dir> (or go test -artifacts) it saves the user
// page and an action's page at 1440 px and 390 px.
func TestBrowser(t *testing.T) {
	b := setupBrowser(t)
	ctx := t.Context()
	st := b.d.app.store
	dir := screenshotDir(t)

	// Log in with the demo admin's printed credentials.
	b.logIn()
	require.Equal(t, b.url+"/", value(b, "log in", chromedp.Location()))

	b.overview(ctx, st)
	b.addConnection(ctx, st)
	b.filterAndExport(ctx, st)
	b.inviteAndRemove(ctx, st, dir)
}

// screenshotDir is where a test saves pages for a person to look at:
// ROSTER_TEST_SCREENSHOTS, else go test -artifacts' directory, else none.
func screenshotDir(t *testing.T) string {
	if dir := os.Getenv("ROSTER_TEST_SCREENSHOTS"); dir != "" {
		require.NoError(t, os.MkdirAll(dir, 0o755))
		t.Logf("screenshots in %s", dir)
		return dir
	}
	if testingArtifacts() {
		return t.ArtifactDir()
	}
	return ""
}

// overview compares the overview's numbers, for the organization it
// opens on (the one the organization-level connection covers), with
// counts from the store, and the Licenses page's Full line likewise.
func (b *browserBundle) overview(ctx context.Context, st store.Store) {
	t := b.t
	settings, err := st.Settings(ctx)
	require.NoError(t, err)
	cut := insights.InactiveBefore(time.Now(), settings.InactivityDays)
	accounts, err := st.Accounts(ctx, store.AccountFilter{})
	require.NoError(t, err)
	want := map[string]int{}
	for _, a := range accounts {
		if a.OrgID != b.info.OrgID {
			continue
		}
		full := a.Active && a.License == roster.LicenseFull
		count := func(label string, ok bool) {
			if ok {
				want[label]++
			}
		}
		count("People", true)
		count("full assigned", full)
		count("full inactive", full && a.Inactive(cut)) // the one inactivity rule
		count("Guests", a.OrgRole == "organization_team_guest_user")
		count("External users", a.OrgRole == "organization_external_user")
		count("Deactivated", !a.Active)
	}
	org, err := st.Organization(ctx, b.info.OrgID)
	require.NoError(t, err)
	want["full bought"] = org.FullLicensesPurchased
	require.NotZero(t, want["full inactive"])

	b.run("open the overview", chromedp.Navigate(b.url+"/"), chromedp.WaitVisible(chromedp.CSS(`section.stats`)))
	stats := value(b, "read the overview", chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll('section.stats .stat')].map(s =>
		[s.querySelector('.label').textContent.trim(), s.querySelector('.value').textContent.trim()]))`))
	b.run("open the licenses", chromedp.Navigate(b.url+"/licenses"), chromedp.WaitVisible(chromedp.CSS(`table.licenses`)))
	full := value(b, "read the Full line", chromedp.Evaluate[[]string](`[...document.querySelector('table.licenses tbody tr').querySelectorAll('td')].map(td => td.textContent.trim().split(/\s+/)[0])`))
	require.GreaterOrEqual(t, len(full), 4, "%v", full)
	stats["full bought"], stats["full assigned"], stats["full inactive"] = full[0], full[1], full[3]
	got := map[string]int{}
	for label := range want {
		v, ok := stats[label]
		require.True(t, ok, "the overview shows no %q: %v", label, stats)
		n, err := strconv.Atoi(strings.ReplaceAll(v, ",", ""))
		require.NoError(t, err, "%s: %q", label, v)
		got[label] = n
	}
	if !maps.Equal(want, got) {
		b.screenshot("overview numbers")
		require.Equal(t, want, got)
	}
}

// addConnection connects one more team, at team level, through the whole
// OAuth redirect: roster's level page, the simulator's consent page
// (sign in as the Company Admin, pick a team, approve), the callback.
func (b *browserBundle) addConnection(ctx context.Context, st store.Store) {
	t := b.t
	before, err := st.Connections(ctx)
	require.NoError(t, err)
	known := map[string]bool{}
	for _, c := range before {
		known[c.TeamID] = true
	}

	admin := b.info.Installs[mirosim.InstallOrgAdmin].UserID
	b.run("go to Miro's consent page",
		chromedp.Navigate(b.url+"/connections"),
		chromedp.Click(chromedp.CSS(`#add-connection`)),
		chromedp.WaitVisible(chromedp.CSS(`#connect-team`)),
		chromedp.Click(chromedp.CSS(`#connect-team`)),
		chromedp.WaitVisible(chromedp.CSS(`#user_id`)),
		chromedp.SetValue(chromedp.CSS(`#user_id`), admin),
	)
	_ = value(b, "sign in as the Company Admin", chromedp.Evaluate[bool](`document.getElementById('user_id').dispatchEvent(new Event('change'))`))
	// Pick one of the Company Admin's teams that is not connected yet.
	options := value(b, "list the teams", chromedp.Evaluate[[]string](`[...document.querySelectorAll('#team_id optgroup:not([disabled]) option')].map(o => o.value)`))
	var teamID string
	for _, id := range options {
		if !known[id] {
			teamID = id
			break
		}
	}
	require.NotEmpty(t, teamID, "no unconnected team among %v", options)
	b.run("approve in Miro",
		chromedp.SetValue(chromedp.CSS(`#team_id`), teamID),
		chromedp.Click(chromedp.CSS(`button[value=approve]`)),
		chromedp.WaitVisible(chromedp.CSS(`#outcome`)),
	)
	outcome := value(b, "read the outcome", chromedp.Text(chromedp.CSS(`#outcome`)))
	require.True(t, strings.HasPrefix(value(b, "callback URL", chromedp.Location()), b.url+"/connections/callback?"))
	after, err := st.Connections(ctx)
	require.NoError(t, err)
	require.Len(t, after, len(before)+1, outcome)
	added := after[len(after)-1]
	require.Equal(t, roster.LevelTeam, added.Level)
	require.Equal(t, teamID, added.TeamID)
	require.Contains(t, outcome, fmt.Sprintf("Saved as connection %d.", added.ID))
	require.Contains(t, value(b, "read the capabilities", chromedp.Text(chromedp.CSS(`ul.capabilities`))), roster.CapManage)
	// Its first sync was queued; let it finish so that later counts hold still.
	require.Eventually(t, func() bool {
		runs, err := st.SyncRuns(ctx, added.ID, 1)
		return err == nil && len(runs) == 1 && runs[0].Status != roster.SyncRunning
	}, 20*time.Second, 50*time.Millisecond, "the first sync of connection %d", added.ID)
	sel := fmt.Sprintf(`#connection-%d`, added.ID)
	b.run("see it listed",
		chromedp.Navigate(b.url+"/connections"),
		chromedp.WaitVisible(chromedp.CSS(sel)),
	)
	require.Contains(t, value(b, "read its last sync", chromedp.Text(chromedp.CSS(sel+` .last-sync`))), "succeeded")

	// Sync now queues a sync, here of the legacy team connection: one
	// call. (The new one spent most of the Company Admin's credit budget
	// for this minute, so its next sync would wait for the next minute.)
	team := fmt.Sprintf(`#connection-%d`, b.d.team.ID)
	b.run("sync now",
		chromedp.Click(chromedp.CSS(team+` form[action$="/sync"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`#flash`)),
	)
	require.Contains(t, value(b, "read the flash", chromedp.Text(chromedp.CSS(`#flash`))), "queued")
	require.Eventually(t, func() bool {
		runs, err := st.SyncRuns(ctx, b.d.team.ID, 2)
		return err == nil && len(runs) == 2 && runs[0].Status == roster.SyncSucceeded
	}, 20*time.Second, 50*time.Millisecond, "the sync asked for of connection %d", b.d.team.ID)

	// Connecting the organization again is refused in plain words.
	b.run("connect the organization again",
		chromedp.Navigate(b.url+"/connections/new"),
		chromedp.Click(chromedp.CSS(`#connect-organization`)),
		chromedp.WaitVisible(chromedp.CSS(`#user_id`)),
		chromedp.Click(chromedp.CSS(`button[value=approve]`)),
		chromedp.WaitVisible(chromedp.CSS(`#outcome`)),
	)
	require.Contains(t, value(b, "read the refusal", chromedp.Text(chromedp.CSS(`#outcome`))), "is already connected")
	after2, err := st.Connections(ctx)
	require.NoError(t, err)
	require.Len(t, after2, len(after))
}

// filterAndExport filters the users list by license and checks the CSV
// export of the same filter.
func (b *browserBundle) filterAndExport(ctx context.Context, st store.Store) {
	t := b.t
	page, err := st.ListAccounts(ctx, store.AccountQuery{License: roster.LicenseFull, Limit: 1})
	require.NoError(t, err)
	require.NotZero(t, page.Total)
	want := strconv.Itoa(page.Total)
	if page.Total >= 1000 {
		want = fmt.Sprintf("%d,%03d", page.Total/1000, page.Total%1000)
	}

	b.run("filter by license",
		chromedp.Navigate(b.url+"/users"),
		chromedp.WaitVisible(chromedp.CSS(`#f-license`)),
		chromedp.SetValue(chromedp.CSS(`#f-license`), roster.LicenseFull),
	)
	_ = value(b, "apply the filter", chromedp.Evaluate[bool](`document.getElementById('f-license').dispatchEvent(new Event('change', {bubbles: true}))`))
	b.run("see the filtered total", waitText(`strong.total`, want))
	href := value(b, "read the export link", chromedp.AttributeValue(chromedp.CSS(`#users-results a[download]`), "href"))
	require.Contains(t, href.Value, "license=full")
	// The export link, fetched by the page with its session.
	body := value(b, "export CSV", chromedp.Evaluate[string](`fetch(document.querySelector('#users-results a[download]').href).then(r => r.text())`, chromedp.EvalAwaitPromise))
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, page.Total+1, "a header and one row per person")
	col := slices.Index(rows[0], "license")
	require.GreaterOrEqual(t, col, 0, "no license column in %v", rows[0])
	for _, r := range rows[1:] {
		require.True(t, strings.HasPrefix(r[col], roster.LicenseFull), r)
	}
}
