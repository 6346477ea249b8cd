package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
)

// inactiveYAML takes people out of every team once their paid license is
// unused for days.
func inactiveYAML(name string, conn int64, days int) string {
	return fmt.Sprintf(`name: %s
connection: %d
trigger:
  kind: inactive
  days: %d
steps:
  - id: out
    kind: remove_all_teams
`, name, conn, days)
}

// TestWorkflowEnableIsConfirmed: a workflow that acts on people is enabled
// from a confirmation page that says what it does and to how many people
// now (the dry run's count); a POST without its confirmation is refused
// and changes nothing; a workflow that only notifies or waits enables at
// once.
func TestWorkflowEnableIsConfirmed(t *testing.T) {
	t.Parallel()
	f := newWFFixture(t, openSQLite(t))
	ctx := context.Background()
	br := f.loggedIn(t, roster.RoleAdmin)
	id := f.createWorkflow(t, br, inactiveYAML("reclaim", f.org.ID, 30))
	wf, err := f.db.Workflow(ctx, id)
	require.NoError(t, err)
	dry, err := f.eng.Preview(ctx, wf, nil)
	require.NoError(t, err)
	acting := dry.Total + dry.Stopped
	require.Positive(t, acting, "the fixture has accounts unused for 30 days")

	// The list and the workflow's page link to the confirmation.
	confirm := fmt.Sprintf("/workflows/enable/%d", id)
	for _, path := range []string{"/workflows", fmt.Sprintf("/workflows/%d", id)} {
		body := br.mustGet(path).Body
		require.Contains(t, body, fmt.Sprintf(`href="%s"`, confirm), path)
		require.NotContains(t, body, fmt.Sprintf(`action="/workflows/%d/enable"`, id), path)
	}
	p := br.mustGet(confirm)
	now := text(findAll(parseHTML(t, p.Body), "p", "enable-now")[0])
	require.Equal(t, fmt.Sprintf("It acts on %d people now: accounts with a paid license unused for 30 days or more.", acting), now)
	require.Contains(t, p.Body, "when a paid Miro license is unused for 30 days")
	require.Contains(t, text(findAll(parseHTML(t, p.Body), "ul", "consequences")[0]), "Step out: they are removed from every team they are in")
	form := findAll(parseHTML(t, p.Body), "form", "enable-form")
	require.Len(t, form, 1)
	require.Equal(t, fmt.Sprintf("/workflows/%d/enable", id), attr(form[0], "action"))
	require.Contains(t, p.Body, `name="confirm" value="1"`)
	require.Contains(t, p.Body, `name="csrf" value="`+br.csrf+`"`)

	// A crafted POST without the confirmation: refused, still disabled.
	p = br.post(fmt.Sprintf("/workflows/%d/enable", id), nil)
	require.Equal(t, http.StatusBadRequest, p.StatusCode)
	require.Contains(t, p.Body, "reclaim acts on people in Miro, so enabling it is confirmed first")
	wf, err = f.db.Workflow(ctx, id)
	require.NoError(t, err)
	require.False(t, wf.Enabled)
	// Without the CSRF token: refused too.
	p = br.do(http.MethodPost, fmt.Sprintf("/workflows/%d/enable", id), url.Values{"confirm": {"1"}})
	require.Equal(t, http.StatusForbidden, p.StatusCode)

	// Confirmed: enabled, and audited as before.
	p = br.post(fmt.Sprintf("/workflows/%d/enable", id), url.Values{"confirm": {"1"}})
	require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
	wf, err = f.db.Workflow(ctx, id)
	require.NoError(t, err)
	require.True(t, wf.Enabled)
	entries, err := f.db.AuditEntries(ctx, store.AuditFilter{Kind: "workflow", Target: "reclaim"})
	require.NoError(t, err)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	require.Equal(t, []string{"workflow_enabled", "workflow_created"}, actions, "the refusals are not audited")
	p = br.get(confirm)
	require.Equal(t, http.StatusSeeOther, p.StatusCode, "enabled already: back to its page")

	// A trigger that waits for what happens: no one now.
	left := f.createWorkflow(t, br, fmt.Sprintf("name: leavers\nconnection: %d\ntrigger: {kind: person_left}\nsteps: [{id: out, kind: remove_all_teams}]\n", f.org.ID))
	now = text(findAll(parseHTML(t, br.mustGet(fmt.Sprintf("/workflows/enable/%d", left)).Body), "p", "enable-now")[0])
	require.Equal(t, "It acts on no one now; it will act on each person who leaves the company (the directory) from now on.", now)

	// An approval before any action: the confirmation says each run asks
	// first.
	asks := f.createWorkflow(t, br, approvalYAML("ask-first", f.org.ID, f.memberTeam(t, f.member(t))))
	note := text(findAll(parseHTML(t, br.mustGet(fmt.Sprintf("/workflows/enable/%d", asks)).Body), "p", "enable-note")[0])
	require.Equal(t, "Each run asks boss@example.com for approval before it acts.", note)

	// Only waiting and telling: enabled at once, no confirmation.
	quiet := f.createWorkflow(t, br, fmt.Sprintf("name: quiet\nconnection: %d\ntrigger: {kind: manual}\n"+
		"steps: [{id: pause, kind: wait, duration: 1h}, {id: tell, kind: notify, channel: outbox, text: hi}]\n", f.org.ID))
	// This dashboard's engine has no notifier: its dry run says so first.
	dryPage := br.mustGet(fmt.Sprintf("/workflows/dry-run/%d", quiet))
	warn := findAll(parseHTML(t, dryPage.Body), "div", "dry-warnings")
	require.Len(t, warn, 1)
	require.Contains(t, text(warn[0]), "Step tell cannot send its message by outbox: no notification channel is configured.")
	require.Less(t, strings.Index(dryPage.Body, "dry-warnings"), strings.Index(dryPage.Body, `class="summary"`))
	require.Contains(t, br.mustGet("/workflows").Body, fmt.Sprintf(`action="/workflows/%d/enable"`, quiet))
	p = br.post(fmt.Sprintf("/workflows/%d/enable", quiet), nil)
	require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
	wf, err = f.db.Workflow(ctx, quiet)
	require.NoError(t, err)
	require.True(t, wf.Enabled)

	// A viewer cannot reach the confirmation.
	viewer := f.loggedIn(t, roster.RoleViewer)
	require.Equal(t, http.StatusForbidden, viewer.get(fmt.Sprintf("/workflows/enable/%d", left)).StatusCode)
}
