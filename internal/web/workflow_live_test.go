package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
)

// livePoll is the polling attribute of a part that refreshes itself.
const livePoll = `hx-trigger="every 2s"`

// TestWorkflowRunPageIsLive: "Run now" for one person goes to the run's
// page, whose live part asks for itself every 2 s while the run is
// running or waiting, shows each change as the run proceeds, and stops
// asking once it has ended; so does the runs list, its counts and its
// page of runs (TestJobsLinks checks its link to the job queue).
func TestWorkflowRunPageIsLive(t *testing.T) {
	t.Parallel()
	f := newWFFixture(t, openSQLite(t))
	br := f.loggedIn(t, roster.RoleAdmin)
	acc := f.member(t)
	team := f.memberTeam(t, acc)
	id := f.createWorkflow(t, br, approvalYAML("ask-then-remove", f.org.ID, team))

	// Run now: to the run's page.
	p := br.post(fmt.Sprintf("/workflows/%d/run", id), url.Values{"emails": {acc.Email}})
	require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
	href := p.location()
	require.Regexp(t, `^/workflows/runs/\d+$`, href)
	var runID int64
	_, err := fmt.Sscanf(href, "/workflows/runs/%d", &runID)
	require.NoError(t, err)
	require.Equal(t, roster.RunRunning, f.run(t, runID).Status)

	page := br.mustGet(href)
	require.Contains(t, page.Body, fmt.Sprintf(`hx-get="%s?part=live"`, href))
	require.Contains(t, page.Body, livePoll)

	// The part of a running run: polling, no step yet.
	part := br.mustGet(href + "?part=live")
	require.NotContains(t, part.Body, "<html", "a fragment, not a page")
	require.Contains(t, part.Body, livePoll)
	require.Equal(t, "running", text(findAll(parseHTML(t, part.Body), "span", "run-status")[0]))
	require.Contains(t, part.Body, "No step has run yet.")

	// The run proceeds: it asks for approval and waits; still polling.
	f.work(t)
	part = br.mustGet(href + "?part=live")
	require.Contains(t, part.Body, livePoll)
	require.Equal(t, "waiting", text(findAll(parseHTML(t, part.Body), "span", "run-status")[0]))
	require.Contains(t, part.Body, "Waiting for <strong>boss@example.com</strong>")
	require.NotContains(t, part.Body, "No step has run yet.")

	// The runs list polls its counts, and its page of runs comes along.
	list := br.mustGet(fmt.Sprintf("/workflows/runs?workflow=%d", id))
	require.Contains(t, list.Body, livePoll)
	require.Contains(t, list.Body, `id="runs-table"`)
	counts := br.mustGet(fmt.Sprintf("/workflows/runs?workflow=%d&part=counts", id))
	require.Contains(t, counts.Body, livePoll)
	require.Contains(t, counts.Body, `<div id="runs-table" hx-swap-oob="true">`)
	require.Contains(t, counts.Body, fmt.Sprintf(`href="/workflows/runs/%d"`, runID))
	require.Contains(t, counts.Body, `<span class="tag waiting">waiting</span>`)

	// Approved, it removes and ends: the part says so and stops polling.
	a := f.pendingApproval(t, runID)
	require.Equal(t, http.StatusSeeOther, br.post(fmt.Sprintf("/workflows/approvals/%d/approve", a.ID), nil).StatusCode)
	f.work(t)
	require.Equal(t, roster.RunSucceeded, f.run(t, runID).Status)
	part = br.mustGet(href + "?part=live")
	require.NotContains(t, part.Body, "hx-trigger")
	require.NotContains(t, part.Body, "hx-get")
	require.Equal(t, "succeeded", text(findAll(parseHTML(t, part.Body), "span", "run-status")[0]))
	require.Equal(t, "It finished: every step it reached is done.", text(findAll(parseHTML(t, part.Body), "p", "run-outcome")[0]))
	timeline := text(findAll(parseHTML(t, part.Body), "table", "timeline")[0])
	require.Contains(t, timeline, "remove succeeded")
	require.NotContains(t, br.mustGet(href).Body, livePoll, "the page of an ended run does not poll")
	counts = br.mustGet(fmt.Sprintf("/workflows/runs?workflow=%d&part=counts", id))
	require.NotContains(t, counts.Body, "hx-trigger", "nothing live: the counts stop polling")
	require.Contains(t, counts.Body, `<span class="tag succeeded ok">succeeded</span>`)

	// Several people, or someone left out: the result stays on the
	// workflow's page, linking to each run.
	other := f.memberOf(t, team, acc.ID)
	p = br.post(fmt.Sprintf("/workflows/%d/run", id), url.Values{"emails": {other.Email + "\nnobody@example.com"}})
	require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
	require.Contains(t, text(findAll(parseHTML(t, p.Body), "div", "manual-result")[0]), "1 run started, 1 person left out.")
	require.True(t, strings.Contains(p.Body, `href="/workflows/runs/`), "links to the run")

	// A viewer sees the run, not the job queue.
	viewer := f.loggedIn(t, roster.RoleViewer)
	require.Empty(t, findAll(parseHTML(t, viewer.mustGet(href).Body), "p", "jobs-link"))
}
