package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"roster"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/workflow"
	"roster/internal/workflow/workflowtest"
)

// wfFixture is the fixture with a real workflow engine: the fixture's
// store, the real action runner on the simulator, recorded jobs.
type wfFixture struct {
	*fixture
	eng  *workflow.Engine
	jobs *workflowtest.Jobs
}

// withEngine gives a Config a workflow engine on its store and its
// action runner (or none).
func withEngine(jobs *workflowtest.Jobs, out **workflow.Engine) func(*Config) {
	return func(c *Config) {
		e := &workflow.Engine{Store: c.Store, Jobs: jobs, LinkKey: bytes.Repeat([]byte("k"), 32),
			PublicURL: "http://roster.test", Now: c.Now}
		e.Actions = c.Actions
		c.Workflows = e
		if out != nil {
			*out = e
		}
	}
}

func newWFFixture(t *testing.T, db *storeDB) *wfFixture {
	t.Helper()
	wf := &wfFixture{jobs: &workflowtest.Jobs{}}
	wf.fixture = newFixture(t, db, withEngine(wf.jobs, &wf.eng))
	return wf
}

// work runs every due step job, and the jobs they enqueue.
func (f *wfFixture) work(t *testing.T) { f.jobs.Work(t, f.eng, f.clock.Now()) }

// approvalYAML is a manual workflow that asks boss@example.com in the UI,
// then removes the person from team.
func approvalYAML(name string, conn int64, team string) string {
	return fmt.Sprintf(`name: %s
description: Ask, then remove.
connection: %d
trigger:
  kind: manual
steps:
  - id: ask
    kind: approval
    approver: boss@example.com
    timeout: 1h
  - id: remove
    kind: remove
    team: "%s"
`, name, conn, team)
}

// createWorkflow saves a workflow through the editor and returns its id.
func (f *wfFixture) createWorkflow(t *testing.T, br *browser, yaml string) int64 {
	t.Helper()
	p := br.post("/workflows/new", url.Values{"yaml": {yaml}, "op": {"save"}})
	require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
	id, err := strconv.ParseInt(strings.TrimPrefix(p.location(), "/workflows/"), 10, 64)
	require.NoError(t, err, p.location())
	return id
}

// memberTeam is a team of the organization connection acc is in.
func (f *wfFixture) memberTeam(t *testing.T, acc roster.Account) string {
	t.Helper()
	ms, err := f.db.AccountMemberships(context.Background(), acc.ID)
	require.NoError(t, err)
	require.NotEmpty(t, ms)
	return ms[0].MiroTeamID
}

var runLinkRe = regexp.MustCompile(`href="/workflows/runs/(\d+)"`)

// startRun runs workflow id now for email from the workflow page, which
// goes to the run's page, and returns the run's id.
func (f *wfFixture) startRun(t *testing.T, br *browser, id int64, email string) int64 {
	t.Helper()
	p := br.post(fmt.Sprintf("/workflows/%d/run", id), url.Values{"emails": {email}})
	require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
	m := runLinkRe.FindStringSubmatch(`href="` + p.location() + `"`)
	require.NotNil(t, m, p.location())
	run, err := strconv.ParseInt(m[1], 10, 64)
	require.NoError(t, err)
	return run
}

// pendingApproval is the pending approval of a run's ask step.
func (f *wfFixture) pendingApproval(t *testing.T, run int64) roster.Approval {
	t.Helper()
	a, err := f.db.ApprovalFor(context.Background(), run, "ask")
	require.NoError(t, err)
	require.Equal(t, roster.ApprovalPending, a.Status)
	return a
}

func (f *wfFixture) run(t *testing.T, id int64) roster.WorkflowRun {
	t.Helper()
	r, err := f.db.Run(context.Background(), id)
	require.NoError(t, err)
	return r
}

func TestWorkflowEditor(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newWFFixture(t, db)
		ctx := context.Background()
		br := f.loggedIn(t, roster.RoleAdmin)

		// A template, prefilled for the organization connection.
		p := br.mustGet("/workflows/new?template=offboarding")
		require.Contains(t, p.Body, "name: offboarding")
		require.Contains(t, p.Body, fmt.Sprintf("connection: %d", f.org.ID))
		require.Contains(t, br.mustGet("/workflows/new").Body, "name: my-workflow\n")
		require.Equal(t, http.StatusBadRequest, br.get("/workflows/new?template=nope").StatusCode)

		// Bad YAML: every field error beside the text, kept as typed, 422,
		// nothing saved.
		bad := fmt.Sprintf("name: Bad Name!\nconnection: %d\ntrigger:\n  kind: sometimes\nsteps:\n  - id: x\n    kind: remove\n", f.org.ID)
		for _, op := range []string{"check", "dry-run", "save"} {
			p = br.post("/workflows/new", url.Values{"yaml": {bad}, "op": {op}})
			require.Equal(t, http.StatusUnprocessableEntity, p.StatusCode, op)
			errs := findAll(parseHTML(t, p.Body), "ul", "workflow-errors")
			require.Len(t, errs, 1, op)
			lines := text(errs[0])
			require.Contains(t, lines, "name:", op)
			require.Contains(t, lines, "trigger.kind:", op)
			require.Contains(t, lines, "steps[0].team:", op)
			areas := findAll(parseHTML(t, p.Body), "textarea", "")
			require.Equal(t, bad, rawText(areas[0]), "the text is kept")
		}
		// A YAML syntax error and an unknown key are field errors too.
		p = br.post("/workflows/new", url.Values{"yaml": {"name: x\nstepz: []\n"}, "op": {"save"}})
		require.Equal(t, http.StatusUnprocessableEntity, p.StatusCode)
		require.Contains(t, p.Body, "document 1")
		p = br.post("/workflows/new", url.Values{"yaml": {approvalYAML("a", f.org.ID, "t") + "---\n" + approvalYAML("b", f.org.ID, "t")}, "op": {"save"}})
		require.Equal(t, http.StatusUnprocessableEntity, p.StatusCode)
		require.Contains(t, p.Body, "one workflow at a time")
		ws, err := f.db.Workflows(ctx)
		require.NoError(t, err)
		require.Empty(t, ws, "nothing saved")

		// Check, then save.
		acc := f.member(t)
		good := approvalYAML("ask-then-remove", f.org.ID, f.memberTeam(t, acc))
		p = br.post("/workflows/new", url.Values{"yaml": {good}, "op": {"check"}})
		require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
		require.Contains(t, p.Body, "The workflow validates")
		id := f.createWorkflow(t, br, good)
		saved, err := f.db.Workflow(ctx, id)
		require.NoError(t, err)
		require.Equal(t, "ask-then-remove", saved.Name)
		require.False(t, saved.Enabled)
		page := br.mustGet(fmt.Sprintf("/workflows/%d", id))
		require.Contains(t, page.Body, "only when run by hand")
		require.Contains(t, page.Body, "Ask boss@example.com for approval in roster, waiting up to 1 hour; approved → remove, denied → end")

		// A new workflow never overwrites one of its name.
		p = br.post("/workflows/new", url.Values{"yaml": {good}, "op": {"save"}})
		require.Equal(t, http.StatusUnprocessableEntity, p.StatusCode)
		require.Contains(t, p.Body, "is taken by workflow")

		// Edit keeps the id; an invalid edit saves nothing.
		p = br.mustGet(fmt.Sprintf("/workflows/edit/%d", id))
		require.Contains(t, p.Body, "name: ask-then-remove")
		p = br.post(fmt.Sprintf("/workflows/%d/edit", id), url.Values{"yaml": {strings.Replace(good, "timeout: 1h", "timeout: 1000d", 1)}, "op": {"save"}})
		require.Equal(t, http.StatusUnprocessableEntity, p.StatusCode)
		require.Contains(t, p.Body, "steps[0].timeout")
		p = br.post(fmt.Sprintf("/workflows/%d/edit", id), url.Values{"yaml": {strings.Replace(good, "Ask, then remove.", "Changed.", 1)}, "op": {"save"}})
		require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
		require.Equal(t, fmt.Sprintf("/workflows/%d", id), p.location())
		saved, err = f.db.Workflow(ctx, id)
		require.NoError(t, err)
		require.Equal(t, "Changed.", saved.Description)

		// Enable (confirmed: it acts on people) and disable from the list.
		p = br.post(fmt.Sprintf("/workflows/%d/enable", id), url.Values{"confirm": {"1"}})
		require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
		saved, _ = f.db.Workflow(ctx, id)
		require.True(t, saved.Enabled)
		list := br.mustGet("/workflows")
		require.Contains(t, list.Body, "enabled")
		require.Contains(t, list.Body, fmt.Sprintf(`action="/workflows/%d/disable"`, id))
		p = br.post(fmt.Sprintf("/workflows/%d/disable", id), nil)
		require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
		saved, _ = f.db.Workflow(ctx, id)
		require.False(t, saved.Enabled)

		// A definition that stopped validating cannot be enabled: its team
		// is gone from the connection.
		broken := saved
		broken.Steps[1].Team = "no-such-team"
		require.NoError(t, f.db.UpdateWorkflow(ctx, &broken))
		p = br.post(fmt.Sprintf("/workflows/%d/enable", id), url.Values{"confirm": {"1"}})
		require.Equal(t, http.StatusUnprocessableEntity, p.StatusCode, p.Body)
		require.Contains(t, p.Body, "steps[1].team")
		saved, _ = f.db.Workflow(ctx, id)
		require.False(t, saved.Enabled)
		// But it can always be turned off.
		broken.Enabled = true
		require.NoError(t, f.db.UpdateWorkflow(ctx, &broken))
		p = br.post(fmt.Sprintf("/workflows/%d/disable", id), nil)
		require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
		saved, _ = f.db.Workflow(ctx, id)
		require.False(t, saved.Enabled)
		require.Equal(t, "no-such-team", saved.Steps[1].Team, "kept as it was")

		// Export.
		p = br.mustGet("/workflows.yaml")
		require.Equal(t, "application/yaml", p.Header.Get("Content-Type"))
		require.Contains(t, p.Header.Get("Content-Disposition"), "attachment")
		require.Contains(t, p.Body, "name: ask-then-remove")

		// Delete needs the confirmation.
		require.Equal(t, http.StatusBadRequest, br.post(fmt.Sprintf("/workflows/%d/delete", id), nil).StatusCode)
		p = br.post(fmt.Sprintf("/workflows/%d/delete", id), url.Values{"confirm": {"1"}})
		require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
		_, err = f.db.Workflow(ctx, id)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.Equal(t, http.StatusNotFound, br.get(fmt.Sprintf("/workflows/%d", id)).StatusCode)
	})
}

// rawText is an element's text as it is, a textarea's as submitted.
func rawText(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

func TestWorkflowDryRunAndRunNow(t *testing.T) {
	t.Parallel()
	f := newWFFixture(t, openSQLite(t))
	br := f.loggedIn(t, roster.RoleAdmin)
	acc := f.member(t)
	team := f.memberTeam(t, acc)
	good := approvalYAML("ask-then-remove", f.org.ID, team)

	// The editor's dry run previews the unsaved text.
	p := br.post("/workflows/new", url.Values{"yaml": {good}, "op": {"dry-run"}})
	require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
	require.Contains(t, p.Body, "every synced Miro account")
	require.NotEmpty(t, findAll(parseHTML(t, p.Body), "table", "dry-runs"))
	ws, err := f.db.Workflows(context.Background())
	require.NoError(t, err)
	require.Empty(t, ws, "a dry run saves nothing")

	id := f.createWorkflow(t, br, good)
	p = br.post(fmt.Sprintf("/workflows/%d/dry-run", id), url.Values{"emails": {acc.Email + ", nobody@example.com"}})
	require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
	require.Contains(t, p.Body, "the people named")
	plans := text(findAll(parseHTML(t, p.Body), "table", "dry-runs")[0])
	require.Contains(t, plans, acc.Email)
	require.Contains(t, plans, "ask boss@example.com by ui")
	require.Contains(t, plans, "remove from team")
	// The summary comes first: one would run, one is left out, and why.
	summary := text(findAll(parseHTML(t, p.Body), "section", "summary")[0])
	require.Contains(t, summary, "People considered2")
	require.Contains(t, summary, "Would run1")
	require.Contains(t, summary, "Left out1")
	require.Contains(t, summary, "1roster knows no one with this email")
	require.Less(t, strings.Index(p.Body, `class="summary"`), strings.Index(p.Body, `class="dry-runs`), "the summary before the people")
	// Who is left out is the other tab, a page of its own.
	tab := findAll(parseHTML(t, p.Body), "nav", "tabs")[0]
	require.Contains(t, text(tab), "Would run (1)Left out (1)")
	left := br.get(fmt.Sprintf("/workflows/dry-run/%d?emails=%s&show=left_out", id, url.QueryEscape(acc.Email+",nobody@example.com")))
	require.Equal(t, http.StatusOK, left.StatusCode, left.Body)
	require.Contains(t, text(findAll(parseHTML(t, left.Body), "table", "dry-excluded")[0]), "nobody@example.com - roster knows no one with this email")
	require.Empty(t, findAll(parseHTML(t, left.Body), "table", "dry-runs"))

	// A step the connection cannot do is blocked: change_role for someone
	// not in the team.
	other := f.teamOutside(t, acc)
	blocked := strings.Replace(good, "kind: remove\n    team", "kind: change_role\n    role: admin\n    team", 1)
	blocked = strings.Replace(blocked, team, other, 1)
	// Those it would stop for are left out, with their plan: the
	// editor's tabs post the unsaved text again.
	p = br.post("/workflows/new?show=left_out", url.Values{"yaml": {strings.Replace(blocked, "ask-then-remove", "blocked", 1)}, "op": {"dry-run"}})
	require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
	require.NotEmpty(t, findAll(parseHTML(t, p.Body), "li", "blocked"))
	require.Contains(t, text(findAll(parseHTML(t, p.Body), "table", "dry-excluded")[0]), "step remove would be refused: not in team")

	// Run now: started runs link to their pages; unknown people are left
	// out with the reason.
	p = br.post(fmt.Sprintf("/workflows/%d/run", id), url.Values{"emails": {acc.Email + "\nnobody@example.com"}})
	require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
	require.Equal(t, "1", text(findAll(parseHTML(t, p.Body), "strong", "started")[0]))
	require.Contains(t, text(findAll(parseHTML(t, p.Body), "div", "manual-result")[0]), "1 run started, 1 person left out.")
	require.Regexp(t, `href="/workflows/runs/\d+"`, p.Body)
	require.Contains(t, text(findAll(parseHTML(t, p.Body), "table", "excluded")[0]), "nobody@example.comroster knows no one with this email")
	require.Len(t, f.jobs.Due(f.clock.Now()), 1, "the first step is enqueued")

	// No email: 422.
	p = br.post(fmt.Sprintf("/workflows/%d/run", id), url.Values{"emails": {"  "}})
	require.Equal(t, http.StatusUnprocessableEntity, p.StatusCode)
	require.Contains(t, p.Body, "name at least one person")
}

func TestWorkflowRunsApproveDenyCancel(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newWFFixture(t, db)
		br := f.loggedIn(t, roster.RoleAdmin)
		acc := f.member(t)
		team := f.memberTeam(t, acc)
		id := f.createWorkflow(t, br, approvalYAML("ask-then-remove", f.org.ID, team))

		// Approve in the UI: the run goes on and removes at Miro.
		run := f.startRun(t, br, id, acc.Email)
		f.work(t)
		require.Equal(t, roster.RunWaiting, f.run(t, run).Status)
		href := fmt.Sprintf("/workflows/runs/%d", run)
		p := br.mustGet(href)
		require.Contains(t, p.Body, `hx-trigger="every 2s"`, "a live run refreshes itself")
		require.Contains(t, p.Body, "Waiting for <strong>boss@example.com</strong>")
		a := f.pendingApproval(t, run)
		require.Contains(t, p.Body, fmt.Sprintf(`action="/workflows/approvals/%d/approve"`, a.ID))
		require.Contains(t, br.mustGet(href+"?part=live").Body, `id="run-live"`)

		// The runs list: the filtered set's progress, refreshing while live.
		p = br.mustGet(fmt.Sprintf("/workflows/runs?workflow=%d", id))
		require.Contains(t, p.Body, `hx-trigger="every 2s"`)
		require.Equal(t, "1", countOf(t, p.Body, "waiting"))
		require.Equal(t, []string{strconv.FormatInt(run, 10)}, runIDs(p.Body))
		frag := br.mustGet(fmt.Sprintf("/workflows/runs?workflow=%d&part=counts", id))
		require.NotContains(t, frag.Body, "<html")
		require.Contains(t, frag.Body, `id="run-counts"`)

		p = br.post(fmt.Sprintf("/workflows/approvals/%d/approve", a.ID), nil)
		require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
		require.Equal(t, href, p.location())
		f.work(t)
		done := f.run(t, run)
		require.Equal(t, roster.RunSucceeded, done.Status, done.Error)
		require.Empty(t, f.simRole(t, team, acc.MiroUserID), "removed at Miro")
		p = br.mustGet(href)
		require.NotContains(t, p.Body, `hx-trigger="every 2s"`, "an ended run stops refreshing")
		timeline := text(findAll(parseHTML(t, p.Body), "table", "timeline")[0])
		require.Contains(t, timeline, "approved by operator:admin@example.com")
		require.Contains(t, timeline, "approved → remove")
		require.Contains(t, timeline, "remove succeeded")
		require.NotContains(t, p.Body, "/cancel", "no cancel for an ended run")
		// A second answer is refused.
		p = br.post(fmt.Sprintf("/workflows/approvals/%d/deny", a.ID), nil)
		require.Equal(t, http.StatusConflict, p.StatusCode)
		require.Contains(t, p.Body, "already answered")

		// Deny from the approvals page: the run ends without removing.
		acc2 := f.memberOf(t, team, acc.ID)
		run2 := f.startRun(t, br, id, acc2.Email)
		f.work(t)
		a2 := f.pendingApproval(t, run2)
		p = br.mustGet("/workflows/approvals")
		require.Contains(t, p.Body, acc2.Email)
		p = br.post(fmt.Sprintf("/workflows/approvals/%d/deny", a2.ID), url.Values{"next": {"/workflows/approvals"}})
		require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
		require.Equal(t, "/workflows/approvals", p.location())
		f.work(t)
		require.Equal(t, roster.RunSucceeded, f.run(t, run2).Status)
		require.NotEmpty(t, f.simRole(t, team, acc2.MiroUserID), "denied: still in the team")
		require.Contains(t, br.mustGet(fmt.Sprintf("/workflows/runs/%d", run2)).Body, "denied → end")
		require.NotContains(t, br.mustGet("/workflows/approvals").Body, acc2.Email)

		// Cancel a waiting run.
		run3 := f.startRun(t, br, id, acc2.Email)
		f.work(t)
		p = br.post(fmt.Sprintf("/workflows/runs/%d/cancel", run3), nil)
		require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
		c := f.run(t, run3)
		require.Equal(t, roster.RunCancelled, c.Status)
		require.Contains(t, c.Error, "operator:admin@example.com")
		require.Equal(t, http.StatusConflict, br.post(fmt.Sprintf("/workflows/runs/%d/cancel", run3), nil).StatusCode)
		require.NotContains(t, br.mustGet("/workflows/approvals").Body, acc2.Email, "a cancelled run's question is not listed")

		// Filters and counts: by status, by email.
		p = br.mustGet(fmt.Sprintf("/workflows/runs?workflow=%d&status=cancelled", id))
		require.Equal(t, []string{strconv.FormatInt(run3, 10)}, runIDs(p.Body))
		require.Equal(t, "2", countOf(t, p.Body, "succeeded"), "counts ignore the status filter")
		require.Equal(t, "1", countOf(t, p.Body, "cancelled"))
		require.NotContains(t, p.Body, `hx-trigger="every 2s"`, "nothing live")
		p = br.mustGet("/workflows/runs?email=" + url.QueryEscape(acc2.Email))
		require.Equal(t, []string{strconv.FormatInt(run3, 10), strconv.FormatInt(run2, 10)}, runIDs(p.Body))
		require.Equal(t, http.StatusBadRequest, br.get("/workflows/runs?status=bogus").StatusCode)
	})
}

// memberOf is another active member of the organization in team.
func (f *wfFixture) memberOf(t *testing.T, team string, not int64) roster.Account {
	return f.kit.MemberOf(t, team, not)
}

// runIDs are the runs a runs table lists, in order.
func runIDs(body string) []string {
	var out []string
	for _, m := range runLinkRe.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// countOf is a status's count in the runs list's progress.
func countOf(t *testing.T, body, status string) string {
	t.Helper()
	for _, n := range findAll(parseHTML(t, body), "span", "tag") {
		if attr(n, "data-status") == status {
			return text(findAll(n, "span", "count")[0])
		}
	}
	t.Fatalf("no count of %s", status)
	return ""
}

func TestApprovalLinks(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newWFFixture(t, db)
		br := f.loggedIn(t, roster.RoleAdmin)
		acc := f.member(t)
		team := f.memberTeam(t, acc)
		id := f.createWorkflow(t, br, approvalYAML("ask-then-remove", f.org.ID, team))
		run := f.startRun(t, br, id, acc.Email)
		f.work(t)
		a := f.pendingApproval(t, run)

		anon := f.browser(t) // the approver has no session
		link := "/approvals/" + f.eng.LinkToken(a, false)
		require.Equal(t, "http://roster.test"+link, f.eng.LinkURL(a, false))

		// GET only asks: a mail scanner fetching the link decides nothing.
		p := anon.get(link)
		require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
		require.Contains(t, p.Body, "Deny ask-then-remove for "+acc.Email+"?")
		forms := findAll(parseHTML(t, p.Body), "form", "")
		require.Len(t, forms, 1)
		require.Equal(t, link, attr(forms[0], "action"))
		require.Equal(t, "post", attr(forms[0], "method"))
		require.Equal(t, roster.ApprovalPending, f.pendingApproval(t, run).Status)

		// POST answers, with no session and no CSRF token.
		p = anon.do(http.MethodPost, link, url.Values{})
		require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
		require.Contains(t, p.Body, "Thank you")
		require.Contains(t, p.Body, "You denied")
		got, err := f.db.Approval(context.Background(), a.ID)
		require.NoError(t, err)
		require.Equal(t, roster.ApprovalDenied, got.Status)
		require.Equal(t, "link:boss@example.com", got.DecidedBy)

		// A second answer, by either link, is 409.
		for _, tok := range []string{f.eng.LinkToken(a, false), f.eng.LinkToken(a, true)} {
			p = anon.do(http.MethodPost, "/approvals/"+tok, url.Values{})
			require.Equal(t, http.StatusConflict, p.StatusCode, p.Body)
			require.Contains(t, p.Body, "already answered")
			require.Contains(t, p.Body, "denied by link:boss@example.com")
			require.Equal(t, http.StatusConflict, anon.get("/approvals/"+tok).StatusCode)
		}

		// Forged or altered: 403, GET and POST.
		tok := f.eng.LinkToken(a, true)
		for _, bad := range []string{"nope", tok[:len(tok)-2] + "AA", strings.Replace(tok, ".", "x.", 1)} {
			require.Equal(t, http.StatusForbidden, anon.get("/approvals/"+bad).StatusCode, bad)
			p = anon.do(http.MethodPost, "/approvals/"+bad, url.Values{})
			require.Equal(t, http.StatusForbidden, p.StatusCode, bad)
			require.Contains(t, p.Body, "not valid")
			require.NotContains(t, p.Body, "CSRF")
		}

		// Expired: 410, and nothing decided.
		run2 := f.startRun(t, br, id, f.memberOf(t, team, acc.ID).Email)
		f.work(t)
		a2 := f.pendingApproval(t, run2)
		f.clock.Add(2 * time.Hour)
		tok2 := f.eng.LinkToken(a2, true)
		p = anon.get("/approvals/" + tok2)
		require.Equal(t, http.StatusGone, p.StatusCode, p.Body)
		require.Contains(t, p.Body, "expired")
		p = anon.do(http.MethodPost, "/approvals/"+tok2, url.Values{})
		require.Equal(t, http.StatusGone, p.StatusCode, p.Body)
		require.Equal(t, roster.ApprovalPending, f.pendingApproval(t, run2).Status)

		// 20 answers at once, approvals and denials from their links:
		// exactly one wins, the others are told it was answered.
		run3 := f.startRun(t, br, id, f.memberOf(t, team, acc.ID).Email)
		f.work(t)
		a3 := f.pendingApproval(t, run3)
		codes := make(chan int, 20)
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, err := http.NewRequest(http.MethodPost, f.ts.URL+"/approvals/"+f.eng.LinkToken(a3, i%2 == 0), strings.NewReader(""))
				if err != nil {
					codes <- 0
					return
				}
				resp, err := f.ts.Client().Do(req)
				if err != nil {
					codes <- 0
					return
				}
				resp.Body.Close()
				codes <- resp.StatusCode
			}()
		}
		wg.Wait()
		close(codes)
		won := 0
		for c := range codes {
			switch c {
			case http.StatusOK:
				won++
			case http.StatusConflict:
			default:
				t.Errorf("a simultaneous answer got %d", c)
			}
		}
		require.Equal(t, 1, won, "exactly one of 20 simultaneous answers wins")
		got3, err := f.db.Approval(context.Background(), a3.ID)
		require.NoError(t, err)
		require.NotEqual(t, roster.ApprovalPending, got3.Status)
	})
}

func TestWorkflowPagesAccess(t *testing.T) {
	t.Parallel()
	f := newWFFixture(t, openSQLite(t))
	adm := f.loggedIn(t, roster.RoleAdmin)
	acc := f.member(t)
	id := f.createWorkflow(t, adm, approvalYAML("ask-then-remove", f.org.ID, f.memberTeam(t, acc)))
	run := f.startRun(t, adm, id, acc.Email)
	f.work(t)
	a := f.pendingApproval(t, run)
	fill := strings.NewReplacer("{id}", "1", "{token}", "x")
	path := func(rt route) string {
		p := fill.Replace(rt.Path)
		switch {
		case strings.HasPrefix(rt.Path, "/workflows/runs/"):
			p = strings.Replace(p, "/1", "/"+strconv.FormatInt(run, 10), 1)
		case strings.HasPrefix(rt.Path, "/workflows/approvals/"):
			p = strings.Replace(p, "/1", "/"+strconv.FormatInt(a.ID, 10), 1)
		default:
			p = strings.Replace(p, "/1", "/"+strconv.FormatInt(id, 10), 1)
		}
		return p
	}

	// The nav shows Workflows, and every workflow page renders for
	// admins and (but the admin ones) viewers.
	viewer := f.loggedIn(t, roster.RoleViewer)
	require.Contains(t, adm.mustGet("/").Body, `href="/workflows"`)
	before := storetest.Dump(t, f.db)
	anon := f.browser(t)
	for _, rt := range f.srv.workflowRoutes() {
		p := path(rt)
		if rt.Access == public {
			continue
		}
		if rt.Method == http.MethodGet {
			require.Equal(t, http.StatusSeeOther, anon.get(p).StatusCode, p)
			if !strings.HasSuffix(p, ".yaml") {
				page := adm.mustGet(p)
				require.Contains(t, page.Body, `aria-current="page"`, p)
			}
			if rt.Access == admin {
				require.Equal(t, http.StatusForbidden, viewer.get(p).StatusCode, p)
			} else {
				viewer.mustGet(p)
			}
			continue
		}
		// Every POST: 401 without a session, 403 without the CSRF token
		// and 403 for a viewer; nothing changes.
		require.Equal(t, http.StatusUnauthorized, anon.do(rt.Method, p, url.Values{"csrf": {"x"}}).StatusCode, p)
		require.Equal(t, http.StatusForbidden, adm.do(rt.Method, p, url.Values{"confirm": {"1"}, "emails": {acc.Email}}).StatusCode, p)
		v := viewer.post(p, url.Values{"confirm": {"1"}, "emails": {acc.Email}})
		require.Equal(t, http.StatusForbidden, v.StatusCode, p)
		require.Contains(t, v.Body, "Viewers cannot act")
	}
	require.Equal(t, before, storetest.Dump(t, f.db), "a refused request changed the database")
	// Viewers see no action buttons.
	page := viewer.mustGet(fmt.Sprintf("/workflows/runs/%d", run))
	require.NotContains(t, page.Body, "/approve\"")
	require.Contains(t, page.Body, ViewerReason)

	// Without an engine the pages do not exist and the nav omits them.
	b := setup(t)
	br := b.loggedIn(t, roster.RoleAdmin)
	require.Equal(t, http.StatusNotFound, br.get("/workflows").StatusCode)
	require.Equal(t, http.StatusNotFound, br.get("/approvals/x").StatusCode)
	require.NotContains(t, br.mustGet("/").Body, `href="/workflows"`)
}
