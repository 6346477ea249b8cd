package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/notify/notifytest"
	"roster/internal/store"
)

// runTimeout bounds a wait for a workflow run: the trigger tick, then a
// job per step, on a busy machine under -race.
const runTimeout = 90 * time.Second

// TestBrowserWorkflows drives the workflow pages in chromium: the demo's
// templates listed disabled, offboarding's dry run compared with the
// store, offboarding enabled through its confirmation page and fired by a
// directory CSV import whose run goes through to the simulator and the
// outbox, and a workflow written in the YAML editor (a broken version
// refused first), run now for one person and approved on the run's page.
// With ROSTER_TEST_SCREENSHOTS=<dir> (or go test -artifacts) it saves the
// confirmation of enabling at 1440 px and 390 px.
func TestBrowserWorkflows(t *testing.T) {
	const secret = "browser-test-webhook-secret"
	hook := notifytest.NewWebhook(t, secret)
	auto := defaultAutomation()
	auto.tick, auto.lease, auto.retryBase = time.Second, 5*time.Second, 100*time.Millisecond
	auto.notify.WebhookURL, auto.notify.WebhookSecret = hook.URL(), secret
	require.NoError(t, auto.check("test"))

	b := setupBrowserWith(t, auto)
	ctx := t.Context()
	st := b.d.app.store

	dir := screenshotDir(t)
	b.logIn()

	off := b.templatesListed(ctx, st)
	leavers := b.offboardingDryRun(ctx, st, off)
	leaver := b.offboardLeaver(ctx, st, off, leavers, hook, dir)
	b.approveInUI(ctx, st, leaver)
}

// runWithin is run with its own timeout, for waits on workflow runs.
func (b *browserBundle) runWithin(step string, d time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	b.check(step, chromedp.Do(ctx, actions...))
}

// waitRunEnded waits, on a run's page (which updates itself while the
// run is live), until the run's status is no longer live, and returns it.
// The page must get there by itself: a reload fails the step.
func (b *browserBundle) waitRunEnded(step string) string {
	b.t.Helper()
	b.markPage(step)
	const js = `(() => { const s = (document.querySelector('.run-status')?.textContent ?? '').trim();
		return ['succeeded', 'failed', 'cancelled'].includes(s) ? s : ''; })()`
	ctx, cancel := context.WithTimeout(b.ctx, runTimeout)
	defer cancel()
	status, err := chromedp.Run(ctx, chromedp.Poll[string](js, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(runTimeout)))
	b.check(step, err)
	b.requireMarked(step)
	return status
}

// markPage marks the page's document, so that requireMarked can tell it
// was not reloaded or left since.
func (b *browserBundle) markPage(step string) {
	b.t.Helper()
	_ = value(b, step+": mark the page", chromedp.Evaluate[bool](`window.rosterTestMark = true`))
}

// requireMarked checks that the page is still the document markPage
// marked: it updated itself in place.
func (b *browserBundle) requireMarked(step string) {
	b.t.Helper()
	require.True(b.t, value(b, step+": is the page the same", chromedp.Evaluate[bool](`window.rosterTestMark === true`)),
		"%s: the page was reloaded or left", step)
}

// timeline reads a run page's timeline: step id → status, and the rows'
// text for messages.
func (b *browserBundle) timeline(step string) (map[string]string, string) {
	b.t.Helper()
	rows := value(b, step, chromedp.Evaluate[[][]string](`[...document.querySelectorAll('table.timeline tbody tr')].map(tr =>
		[...tr.querySelectorAll('td')].map(td => td.textContent.trim()))`))
	got := map[string]string{}
	var text strings.Builder
	for _, r := range rows {
		require.GreaterOrEqual(b.t, len(r), 6, "a timeline row: %v", r)
		got[r[0]] = r[2]
		fmt.Fprintln(&text, strings.Join(r, " | "))
	}
	return got, text.String()
}

// templatesListed checks that the Workflows page lists the demo's three
// templates, disabled, and returns offboarding.
func (b *browserBundle) templatesListed(ctx context.Context, st store.Store) roster.Workflow {
	t := b.t
	b.run("open Workflows",
		chromedp.Navigate(b.url+"/"),
		chromedp.Click(chromedp.CSS(`a[href="/workflows"]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.workflows`)),
	)
	rows := value(b, "read the workflows", chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll('table.workflows tbody tr')].map(tr =>
		[tr.querySelector('td a').textContent.trim(), tr.querySelectorAll('td')[2].textContent.trim()]))`))
	require.Equal(t, map[string]string{"onboarding": "disabled", "offboarding": "disabled", "license-reclaim": "disabled"}, rows)
	off, err := st.WorkflowByName(ctx, "offboarding")
	require.NoError(t, err)
	require.False(t, off.Enabled)
	return off
}

// offboardingDryRun opens offboarding and dry-runs it: the people listed
// are the directory's leavers who still hold an active account, each with
// the plan of every step. It returns how many they are.
func (b *browserBundle) offboardingDryRun(ctx context.Context, st store.Store, off roster.Workflow) int {
	t := b.t
	// What the store says: people who left, with an active account.
	want := map[string]roster.Account{}
	page, err := st.People(ctx, store.PeopleFilter{Status: roster.PersonLeft, Limit: 1000})
	require.NoError(t, err)
	for _, p := range page.People {
		emails := append([]string{p.Email}, p.Aliases...)
		accs, err := st.AccountsByEmails(ctx, emails)
		require.NoError(t, err)
		for _, e := range emails {
			if a, ok := accs[e]; ok {
				if a.Active && a.LeftAt.IsZero() {
					want[p.Email] = a
				}
				break
			}
		}
	}
	require.NotEmpty(t, want, "the demo has leavers who still hold an account")

	b.run("open offboarding",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`table.workflows a[href="/workflows/%d"]`, off.ID))),
		chromedp.WaitVisible(chromedp.CSS(`dd.trigger`)),
	)
	require.Contains(t, value(b, "read the trigger", chromedp.Text(chromedp.CSS(`dd.trigger`))), "leaves the company")
	b.run("dry run",
		chromedp.Click(chromedp.CSS(`form[action$="/dry-run"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#dry-run`)),
	)
	require.Equal(t, fmt.Sprint(len(want)), value(b, "read the total", chromedp.Text(chromedp.CSS(`#dry-run .dry-total`))))
	type planned struct {
		Email string
		Steps []string
	}
	rows := value(b, "read the dry run", chromedp.Evaluate[[]planned](`[...document.querySelectorAll('table.dry-runs tbody tr')].map(tr => ({
		Email: tr.querySelector('td').firstChild.textContent.trim(),
		Steps: [...tr.querySelectorAll('ol.plan li')].map(li => li.textContent.trim().replace(/\s+/g, ' ')),
	}))`))
	var got, wantEmails []string
	for e := range want {
		wantEmails = append(wantEmails, e)
	}
	for _, r := range rows {
		got = append(got, r.Email)
		a, ok := want[r.Email]
		require.True(t, ok, "the dry run lists %s, who did not leave or holds no active account", r.Email)
		require.Len(t, r.Steps, 4, "%s: %v", r.Email, r.Steps)
		ms, err := st.AccountMemberships(ctx, a.ID)
		require.NoError(t, err)
		teams := "nothing to do: in no team of the connection"
		if len(ms) > 0 {
			teams = strings.Replace(fmt.Sprintf("remove from %d teams: ", len(ms)), "from 1 teams", "from 1 team", 1)
		}
		require.Contains(t, r.Steps[0], "remove-from-teams (")
		require.Contains(t, r.Steps[0], teams, r.Email)
		require.Contains(t, r.Steps[1], "deactivate in the organization"+freedWords(a.License), r.Email)
		require.Contains(t, r.Steps[2], "sign out of every Miro session", r.Email)
		require.Contains(t, r.Steps[3], "tell-it (", r.Email)
		for _, s := range r.Steps {
			require.NotContains(t, s, "blocked", r.Email)
		}
	}
	sort.Strings(got)
	sort.Strings(wantEmails)
	require.Equal(t, wantEmails, got)
	require.Contains(t, value(b, "read the dry run's words", chromedp.Text(chromedp.CSS(`#dry-run`))), "Nothing was changed and Miro was not called.")
	return len(want)
}

// freedWords end a deactivation's plan with what it frees: a paid
// license, or why no seat is.
func freedWords(license string) string {
	switch license {
	case roster.LicenseFree, "free_restricted":
		return " (their license is already free, so no seat is freed)"
	case "", roster.LicenseUnknown:
		return " (their license is not a paid seat, so no seat is freed)"
	}
	return ", freeing the " + roster.LicenseName(license) + " license"
}

// leaverCandidate is an active directory person whose active, licensed
// internal account is a plain member of some teams (so removing them
// skips no team for want of another admin) and not the connection's
// installer; with their teams.
func (b *browserBundle) leaverCandidate(ctx context.Context, st store.Store, except ...string) (roster.Person, roster.Account, []string) {
	t := b.t
	installer := b.info.Installs[mirosim.InstallOrgAdmin].UserID
	page, err := st.People(ctx, store.PeopleFilter{Status: roster.PersonActive, Limit: 1000})
	require.NoError(t, err)
	for _, p := range page.People {
		if slices.Contains(except, p.Email) {
			continue
		}
		accs, err := st.AccountsByEmails(ctx, []string{p.Email})
		require.NoError(t, err)
		a, ok := accs[p.Email]
		if !ok || !a.Active || a.MiroUserID == installer ||
			a.License != roster.LicenseFull || a.OrgRole != "organization_internal_user" {
			continue
		}
		ms, err := st.AccountMemberships(ctx, a.ID)
		require.NoError(t, err)
		if len(ms) == 0 || slices.ContainsFunc(ms, func(m roster.Membership) bool {
			return m.Role != "member" || !slices.Contains(b.info.TeamIDs, m.MiroTeamID)
		}) {
			continue
		}
		var teams []string
		for _, m := range ms {
			teams = append(teams, m.MiroTeamID)
		}
		return p, a, teams
	}
	t.Fatal("no active directory person with a full license who is a plain member of some teams")
	return roster.Person{}, roster.Account{}, nil
}

// peopleWords is n people as the dashboard says it: "no one",
// "1 person", "12 people".
func peopleWords(n int) string {
	switch n {
	case 0:
		return "no one"
	case 1:
		return "1 person"
	}
	return fmt.Sprintf("%d people", n)
}

// offboardLeaver enables offboarding through its confirmation page
// (which counts the leavers it leaves alone), makes a directory person
// leave through the directory's CSV import, and follows the run it
// starts to its end: the timeline, the simulator and the outbox.
func (b *browserBundle) offboardLeaver(ctx context.Context, st store.Store, off roster.Workflow, leavers int, hook *notifytest.WebhookServer, dir string) string {
	t := b.t
	link := fmt.Sprintf(`table.workflows a.enable-link[href="/workflows/enable/%d"]`, off.ID)
	b.run("open the confirmation of enabling",
		chromedp.Navigate(b.url+"/workflows"),
		chromedp.WaitVisible(chromedp.CSS(link)),
	)
	require.Equal(t, "Enable…", value(b, "read the Enable link", chromedp.Text(chromedp.CSS(link))))
	b.run("open the confirmation of enabling",
		chromedp.Click(chromedp.CSS(link)),
		chromedp.WaitVisible(chromedp.CSS(`section.enable-confirm`)),
	)
	// It says what it does on its trigger, and how many people it would
	// act on now: none, since it waits for people who leave from now on;
	// the leavers of the dry run are left alone.
	confirm := value(b, "read the confirmation", chromedp.Text(chromedp.CSS(`section.enable-confirm`)))
	require.Contains(t, value(b, "read its lede", chromedp.Text(chromedp.CSS(`.enable-confirm .lede`))), "when someone leaves the company", confirm)
	require.Contains(t, value(b, "read whom it acts on now", chromedp.Text(chromedp.CSS(`.enable-confirm .enable-now`))), "It acts on no one now", confirm)
	require.Contains(t, confirm, fmt.Sprintf("leaves alone the %s found already (who left and still hold an active Miro account)", peopleWords(leavers)), confirm)
	b.saveWidths(dir, "workflow-enable")
	still, err := st.Workflow(ctx, off.ID)
	require.NoError(t, err)
	require.False(t, still.Enabled, "the confirmation page changes nothing")
	b.run("enable offboarding",
		chromedp.Click(chromedp.CSS(`form.enable-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`form[action="/workflows/%d/disable"] button`, off.ID))),
	)
	off, err = st.Workflow(ctx, off.ID)
	require.NoError(t, err)
	require.True(t, off.Enabled)

	person, acc, teams := b.leaverCandidate(ctx, st)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	require.NoError(t, w.WriteAll([][]string{
		{"email", "name", "manager_email", "department", "status"},
		{person.Email, person.Name, person.ManagerEmail, person.Department, string(roster.PersonLeft)},
	}))
	file := filepath.Join(t.TempDir(), "leaver.csv")
	require.NoError(t, os.WriteFile(file, buf.Bytes(), 0o600))
	b.run("import the leaver",
		chromedp.Navigate(b.url+"/directory"),
		chromedp.WaitVisible(chromedp.CSS(`#f-file`)),
		chromedp.SetUploadFiles(chromedp.CSS(`#f-file`), []string{file}),
		chromedp.Click(chromedp.CSS(`form[action="/directory/import"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#result`)),
	)
	result := value(b, "read the import report", chromedp.Text(chromedp.CSS(`#result`)))
	require.Contains(t, result, "1 row: 0 created, 1 updated, 0 failed.", result)
	require.Contains(t, result, "Every row applied.", result)
	p, err := st.PersonByEmail(ctx, person.Email)
	require.NoError(t, err)
	require.Equal(t, roster.PersonLeft, p.Status)

	// The trigger, evaluated every second, starts a run for them.
	var run roster.WorkflowRun
	require.Eventually(t, func() bool {
		page, err := st.Runs(ctx, store.RunFilter{WorkflowID: off.ID, Limit: 10})
		if err != nil {
			return false
		}
		for _, r := range page.Runs {
			if r.Email == person.Email {
				run = r
				return true
			}
		}
		return false
	}, runTimeout, 100*time.Millisecond, "offboarding starts a run for %s", person.Email)
	page, err := st.Runs(ctx, store.RunFilter{WorkflowID: off.ID})
	require.NoError(t, err)
	require.Equal(t, 1, page.Total, "offboarding ran for the leaver only")

	link = fmt.Sprintf(`a[href="/workflows/runs/%d"]`, run.ID)
	b.run("open the run from Runs",
		chromedp.Navigate(b.url+"/workflows"),
		chromedp.Click(chromedp.CSS(`a[href="/workflows/runs"]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.runs `+link)),
	)
	row := value(b, "read the run's row", chromedp.Text(chromedp.CSS(`table.runs `+link)))
	require.Equal(t, fmt.Sprint(run.ID), strings.TrimSpace(row))
	b.run("open the run",
		chromedp.Click(chromedp.CSS(`table.runs `+link)),
		chromedp.WaitVisible(chromedp.CSS(`#run-live`)),
	)
	status := b.waitRunEnded("offboarding run ends")
	steps, text := b.timeline("read the timeline")
	if status != "succeeded" {
		b.screenshot("offboarding run status")
		t.Fatalf("the offboarding run %s:\n%s\n%s", status, value(b, "read the run", chromedp.Text(chromedp.CSS(`#run-live`))), text)
	}
	require.Equal(t, map[string]string{"remove-from-teams": "succeeded", "deactivate": "succeeded", "sign-out": "succeeded", "tell-it": "succeeded"}, steps, text)

	// The simulator: deactivated, license freed, in no team.
	m, err := b.client.OrgMember(ctx, b.info.OrgID, acc.MiroUserID)
	require.NoError(t, err)
	require.False(t, m.Active, "deactivated at Miro")
	require.Equal(t, "free", m.License.String())
	require.NotEmpty(t, teams)
	for _, team := range b.info.TeamIDs {
		_, err := b.client.TeamMember(ctx, b.info.OrgID, team, acc.MiroUserID)
		require.True(t, miro.IsNotFound(err), "still in team %s (was in %v): %v", team, teams, err)
	}

	// IT was told through the outbox, the template's channel when none
	// is named: the message is on the Sent notifications page (and went
	// to no webhook).
	ns, err := st.Notifications(ctx, 0, 50)
	require.NoError(t, err)
	i := slices.IndexFunc(ns, func(n roster.Notification) bool { return n.Key == fmt.Sprintf("wf:%d:tell-it", run.ID) })
	require.GreaterOrEqual(t, i, 0, "no notification of run %d: %+v", run.ID, ns)
	n := ns[i]
	require.Equal(t, roster.ChannelOutbox, n.Channel)
	require.Equal(t, roster.NotificationSent, n.Status)
	require.Equal(t, "workflow.notify", n.Event)
	require.Equal(t, "Offboarded from Miro: "+person.Email, n.Subject)
	require.Contains(t, n.Text, "remove-from-teams: succeeded")
	nrow := fmt.Sprintf(`#notification-%d`, n.ID)
	b.run("open Sent notifications", chromedp.Navigate(b.url+"/workflows/notifications"), chromedp.WaitVisible(chromedp.CSS(nrow)))
	shown := value(b, "read the notice's row", chromedp.Text(chromedp.CSS(nrow)))
	require.Contains(t, shown, "Offboarded from Miro: "+person.Email)
	require.Contains(t, shown, "sent")
	require.Empty(t, hook.Rejected())
	require.Empty(t, hook.Deliveries(), "the outbox sends nowhere else")
	return person.Email
}

// approveInUI writes a workflow in the YAML editor (a broken version is
// refused first, with nothing saved), runs it now for one person, and
// approves its approval step on the run's page: the run goes on to sign
// them out at the simulator.
func (b *browserBundle) approveInUI(ctx context.Context, st store.Store, leaver string) {
	t := b.t
	const name = "ask-then-sign-out"
	good := fmt.Sprintf(`name: %s
description: Ask security, then sign the person out of Miro.
connection: %d
trigger:
  kind: manual
steps:
  - id: ask
    kind: approval
    approver: security@example.com
    via: ui
    timeout: 1h
  - id: sign-out
    kind: sign_out
`, name, b.d.org.ID)
	broken := strings.Replace(good, "timeout: 1h", "timeout: soon", 1)

	b.run("open the editor",
		chromedp.Navigate(b.url+"/workflows"),
		chromedp.Click(chromedp.CSS(`a[href="/workflows/new?template=blank"]`)),
		// The editor opens on its form; the YAML is one switch away.
		chromedp.WaitVisible(chromedp.CSS(`#op-view-yaml`)),
		chromedp.Click(chromedp.CSS(`#op-view-yaml`)),
		chromedp.WaitVisible(chromedp.CSS(`#f-yaml`)),
		chromedp.SetValue(chromedp.CSS(`#f-yaml`), broken),
		chromedp.Click(chromedp.CSS(`form.workflow-editor button[value=save]`)),
		chromedp.WaitVisible(chromedp.CSS(`#workflow-errors`)),
	)
	errs := value(b, "read the field errors", chromedp.Text(chromedp.CSS(`#workflow-errors`)))
	require.Contains(t, errs, "nothing was saved", errs)
	// The YAML decoder's error for a bad duration names the value and the
	// document, not the field (steps[0].timeout).
	require.Contains(t, errs, `"soon" is not a duration`, errs)
	invalid := value(b, "read the editor", chromedp.Evaluate[[]string](`(() => { const ta = document.getElementById('f-yaml');
		return [ta.value, ta.getAttribute('aria-invalid') ?? '', ta.getAttribute('aria-describedby') ?? '']; })()`))
	require.Equal(t, []string{strings.TrimSpace(broken), "true", "workflow-errors"}, []string{strings.TrimSpace(invalid[0]), invalid[1], invalid[2]}, "the text as typed, marked invalid")
	_, err := st.WorkflowByName(ctx, name)
	require.ErrorIs(t, err, store.ErrNotFound, "a broken workflow is not saved")

	b.run("save the good one",
		chromedp.SetValue(chromedp.CSS(`#f-yaml`), good),
		chromedp.Click(chromedp.CSS(`form.workflow-editor button[value=save]`)),
		chromedp.WaitVisible(chromedp.CSS(`#f-emails`)),
	)
	wf, err := st.WorkflowByName(ctx, name)
	require.NoError(t, err, "saved")
	require.Equal(t, fmt.Sprintf("%s/workflows/%d", b.url, wf.ID), value(b, "the workflow's page", chromedp.Location()))
	require.Len(t, wf.Steps, 2)
	require.Equal(t, roster.StepApproval, wf.Steps[0].Kind)
	require.Equal(t, roster.Duration(time.Hour), wf.Steps[0].Timeout)

	// Run it now for someone else who holds an active account.
	target, _, _ := b.leaverCandidate(ctx, st, leaver)
	resets := func() int { return b.d.sim.Stats().ByOperation["enterprise-post-user-sessions-reset"].Calls }
	before := resets()
	// For one person, Run now lands on the run's page.
	b.run("run now",
		chromedp.SetValue(chromedp.CSS(`#f-emails`), target.Email),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="/workflows/%d/run"] button[type=submit]`, wf.ID))),
		chromedp.WaitVisible(chromedp.CSS(`#run-live`)),
	)
	runs, err := st.Runs(ctx, store.RunFilter{WorkflowID: wf.ID})
	require.NoError(t, err)
	require.Len(t, runs.Runs, 1, "one run started")
	require.Equal(t, target.Email, runs.Runs[0].Email)
	require.Equal(t, fmt.Sprintf("%s/workflows/runs/%d", b.url, runs.Runs[0].ID), value(b, "the run's page", chromedp.Location()))
	// The approval shows once its step has run; the page updates itself.
	approve := `#approval form[action$="/approve"] button`
	b.markPage("wait for the approval")
	b.runWithin("wait for the approval", runTimeout, chromedp.WaitVisible(chromedp.CSS(approve)))
	b.requireMarked("wait for the approval")
	require.Contains(t, value(b, "read the approval", chromedp.Text(chromedp.CSS(`#approval`))), "security@example.com")
	require.Equal(t, before, resets(), "nothing signed out before the approval")
	b.run("approve", chromedp.Click(chromedp.CSS(approve)), chromedp.WaitNotPresent(chromedp.CSS(approve)))

	status := b.waitRunEnded("the approved run ends")
	steps, text := b.timeline("read the approved run's timeline")
	if status != "succeeded" {
		b.screenshot("approved run status")
		t.Fatalf("the approved run %s:\n%s\n%s", status, value(b, "read the run", chromedp.Text(chromedp.CSS(`#run-live`))), text)
	}
	require.Equal(t, map[string]string{"ask": "succeeded", "sign-out": "succeeded"}, steps, text)
	require.Contains(t, text, "approved", text)
	require.Contains(t, text, "operator:"+b.d.adminEmail, text)
	require.Equal(t, before+1, resets(), "sign-out reached the simulator once")
}
