package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"roster"
	"roster/internal/store"
	"roster/internal/workflow"
)

// runsPageSize is how many runs one page of the runs list shows.
const runsPageSize = 50

// runCounts is the progress of a set of runs: counts by status and a bar.
type runCounts struct {
	Href   string // the fragment's URL, polled while Live
	Total  int
	Live   bool
	Counts []statusCount
}

// statusCount is one status's share of the bar, in percent.
type statusCount struct {
	Status   roster.RunStatus
	Count    int
	X, Width float64
	Fill     string
}

// runFills colour the progress bar (SVG attributes, which the CSP allows).
var runFills = map[roster.RunStatus]string{
	roster.RunSucceeded: "#1e7b34", roster.RunFailed: "#b3261e", roster.RunCancelled: "#8a8f99",
	roster.RunRunning: "#3157d5", roster.RunWaiting: "#d29a00",
}

func newRunCounts(href string, counts map[roster.RunStatus]int) runCounts {
	rc := runCounts{Href: href}
	for _, st := range roster.RunStatuses {
		rc.Total += counts[st]
	}
	x := 0.0
	for _, st := range roster.RunStatuses {
		n := counts[st]
		sc := statusCount{Status: st, Count: n, X: x, Fill: runFills[st]}
		if rc.Total > 0 {
			sc.Width = 100 * float64(n) / float64(rc.Total)
		}
		x += sc.Width
		rc.Counts = append(rc.Counts, sc)
		if st.Live() && n > 0 {
			rc.Live = true
		}
	}
	return rc
}

type workflowRunsPage struct {
	Page
	workflowNav
	Runs      []roster.WorkflowRun
	Progress  runCounts
	Workflows []option
	Statuses  []roster.RunStatus
	// The filter.
	Workflow, Status, Email string
	NextHref, FirstHref     string
	// Bulk is the bulk run whose runs these are (?bulk=<id>); BulkRuns
	// the latest bulk runs, above the unfiltered list.
	Bulk     *bulkProgressView
	BulkRuns []bulkProgressView
}

// bulkProgressView is a bulk run's progress as the runs page shows it.
type bulkProgressView struct {
	workflow.BulkProgress
	Words string    // what it does
	Href  string    // its runs
	Poll  string    // its progress and runs, polled until it finishes
	Bar   runCounts // its runs by status, as a bar
	// Statuses filter its runs by status (those it has).
	Statuses []navLink
}

// Who is who started the bulk run, in plain words.
func (v bulkProgressView) Who() string { return actorName(v.Run.Actor) }

// bulkRunsShown is how many bulk runs the runs page lists above the runs.
const bulkRunsShown = 10

// bulkView is p's progress for the runs page.
func (s *Server) bulkView(r *http.Request, p workflow.BulkProgress) (bulkProgressView, error) {
	v := bulkProgressView{BulkProgress: p, Href: fmt.Sprintf("/workflows/runs?bulk=%d", p.Run.ID),
		Poll: fmt.Sprintf("/workflows/runs?bulk=%d&part=bulk", p.Run.ID), Bar: newRunCounts("", p.Counts)}
	b := p.Run
	switch b.Action {
	case roster.BulkRemoveFromTeam:
		v.Words = "Remove from team " + b.TeamID
		teams, err := s.store.Teams(r.Context(), 0)
		if err != nil {
			return v, fmt.Errorf("list teams: %w", err)
		}
		for _, t := range teams {
			if t.MiroTeamID == b.TeamID && t.Name != "" {
				v.Words = fmt.Sprintf("Remove from team %s (%s)", t.Name, t.MiroTeamID)
			}
		}
	case roster.BulkWorkflow:
		v.Words = fmt.Sprintf("Run workflow %d", b.WorkflowID)
		if wf, err := s.store.Workflow(r.Context(), b.WorkflowID); err == nil {
			v.Words = "Run the workflow " + wf.Name
		} else if !errors.Is(err, store.ErrNotFound) {
			return v, fmt.Errorf("load workflow %d: %w", b.WorkflowID, err)
		}
	default:
		v.Words = workflow.BulkActionWords(b.Action)
	}
	return v, nil
}

// workflowRunsPage is GET /workflows/runs: runs filtered by workflow,
// status and email, newest first, with keyset paging, and the progress of
// the filtered set; the counts refresh themselves while runs are live.
func (s *Server) workflowRunsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	p := workflowRunsPage{Page: s.page(r, "Workflow runs"), workflowNav: workflowNav{"runs"}, Statuses: roster.RunStatuses,
		Workflow: q.Get("workflow"), Status: q.Get("status"), Email: strings.TrimSpace(q.Get("email"))}
	f := store.RunFilter{Status: roster.RunStatus(p.Status), Email: roster.NormalizeEmail(p.Email), Limit: runsPageSize}
	var err error
	if f.WorkflowID, err = formID("workflow", p.Workflow); err != nil {
		return err
	}
	if f.BeforeID, err = formID("before", q.Get("before")); err != nil {
		return err
	}
	bulkID, err := formID("bulk", q.Get("bulk"))
	if err != nil {
		return err
	}
	if p.Status != "" && !f.Status.Valid() {
		return errBadRequest(fmt.Sprintf("status must be one of succeeded, failed, cancelled, running or waiting, got %q.", p.Status))
	}
	var page store.RunPage
	if bulkID > 0 {
		// A bulk run's runs: its progress first, then its runs.
		bp, err := s.wf.BulkRunProgress(ctx, bulkID)
		if errors.Is(err, store.ErrNotFound) {
			return errNotFound(fmt.Sprintf("No bulk run %d.", bulkID))
		}
		if err != nil {
			return err
		}
		v, err := s.bulkView(r, bp)
		if err != nil {
			return err
		}
		p.Bulk, p.Title = &v, fmt.Sprintf("Bulk run %d", bulkID)
		if page, err = s.store.BulkRunRuns(ctx, bp.Run, f); err != nil {
			return fmt.Errorf("list the runs of bulk run %d: %w", bulkID, err)
		}
	} else if page, err = s.store.Runs(ctx, f); err != nil {
		return fmt.Errorf("list workflow runs: %w", err)
	}
	link := func(before int64, counts bool) string {
		v := url.Values{}
		for k, val := range map[string]string{"workflow": p.Workflow, "status": p.Status, "email": p.Email, "bulk": q.Get("bulk")} {
			if val != "" {
				v.Set(k, val)
			}
		}
		if before > 0 {
			v.Set("before", strconv.FormatInt(before, 10))
		}
		if counts {
			v.Set("part", "counts")
		}
		if len(v) == 0 {
			return "/workflows/runs"
		}
		return "/workflows/runs?" + v.Encode()
	}
	p.Runs = page.Runs
	// The counts' poll keeps this page of runs (before) to swap it in too.
	p.Progress = newRunCounts(link(f.BeforeID, true), page.Counts)
	if page.NextBefore > 0 {
		p.NextHref = link(page.NextBefore, false)
	}
	if f.BeforeID > 0 {
		p.FirstHref = link(0, false)
	}
	if q.Get("part") == "counts" {
		s.renderFragment(w, r, "workflow_runs", "counts-live", p)
		return nil
	}
	if p.Bulk != nil {
		// The bulk run's progress and its runs refresh together, every 2 s
		// until it finishes; its statuses filter by link.
		p.Bulk.Poll = link(f.BeforeID, false) + "&part=bulk"
		for _, st := range append([]roster.RunStatus{""}, roster.RunStatuses...) {
			v := url.Values{"bulk": {q.Get("bulk")}}
			label, n := "all", 0
			if st != "" {
				v.Set("status", string(st))
				label, n = string(st), page.Counts[st]
			} else {
				for _, c := range page.Counts {
					n += c
				}
			}
			if st == "" || n > 0 {
				p.Bulk.Statuses = append(p.Bulk.Statuses, navLink{Label: fmt.Sprintf("%s (%s)", label, formatThousands(strconv.Itoa(n))),
					Href: "/workflows/runs?" + v.Encode(), Current: string(st) == p.Status})
			}
		}
		if q.Get("part") == "bulk" {
			s.renderFragment(w, r, "workflow_runs", "bulk-live", p)
			return nil
		}
	}
	ws, err := s.store.Workflows(ctx)
	if err != nil {
		return fmt.Errorf("list workflows: %w", err)
	}
	for _, wf := range ws {
		p.Workflows = append(p.Workflows, option{strconv.FormatInt(wf.ID, 10), wf.Name})
	}
	if p.Bulk == nil && p.Workflow == "" && p.Status == "" && p.Email == "" && f.BeforeID == 0 {
		bs, err := s.store.BulkRuns(ctx, 0, bulkRunsShown)
		if err != nil {
			return fmt.Errorf("list bulk runs: %w", err)
		}
		for _, b := range bs {
			bp, err := s.wf.Progress(ctx, b)
			if err != nil {
				return fmt.Errorf("read the progress of bulk run %d: %w", b.ID, err)
			}
			v, err := s.bulkView(r, bp)
			if err != nil {
				return err
			}
			p.BulkRuns = append(p.BulkRuns, v)
		}
	}
	s.render(w, r, http.StatusOK, "workflow_runs", p)
	return nil
}

// formID reads an optional positive id of a query or form.
func formID(name, v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, errBadRequest(fmt.Sprintf("%s must be an id, got %q.", name, v))
	}
	return id, nil
}

type workflowRunPage struct {
	Page
	workflowNav
	Run      roster.WorkflowRun
	Steps    []roster.RunStep
	Approval *roster.Approval // the current step's, while pending
	// Context is the pending approval's who, why, what and savings.
	Context *approvalView
	// WorkflowExists is false when the workflow was deleted since.
	WorkflowExists bool
	// BulkID is the bulk run the run belongs to, if any.
	BulkID int64
	Live   bool
	Href   string
}

// Outcome says how an ended run ended, in words ("" while it is live).
func (p workflowRunPage) Outcome() string {
	switch p.Run.Status {
	case roster.RunSucceeded:
		return "It finished: every step it reached is done."
	case roster.RunFailed:
		return "It failed: the timeline shows the step that stopped it."
	case roster.RunCancelled:
		return "It was cancelled: no step runs after that."
	}
	return ""
}

// loadRun reads the run of the {id} path value.
func (s *Server) loadRun(r *http.Request) (roster.WorkflowRun, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return roster.WorkflowRun{}, errNotFound("No such run.")
	}
	run, err := s.store.Run(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return run, errNotFound(fmt.Sprintf("No run %d.", id))
	}
	if err != nil {
		return run, fmt.Errorf("load run %d: %w", id, err)
	}
	return run, nil
}

// workflowRunPage is GET /workflows/runs/{id}: the run, its timeline and
// its pending approval; while live, the page refreshes its live part
// every 2 s (?part=live).
func (s *Server) workflowRunPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	run, err := s.loadRun(r)
	if err != nil {
		return err
	}
	p := workflowRunPage{Page: s.page(r, fmt.Sprintf("Run %d", run.ID)), workflowNav: workflowNav{"runs"}, Run: run,
		Live: run.Status.Live(), Href: fmt.Sprintf("/workflows/runs/%d", run.ID)}
	if p.Steps, err = s.store.RunSteps(ctx, run.ID); err != nil {
		return fmt.Errorf("load the timeline of run %d: %w", run.ID, err)
	}
	if p.Live && run.Position >= 0 && run.Position < len(run.Definition.Steps) {
		if st := run.Definition.Steps[run.Position]; st.Kind == roster.StepApproval {
			a, err := s.store.ApprovalFor(ctx, run.ID, st.ID)
			switch {
			case err == nil && a.Status == roster.ApprovalPending:
				p.Approval = &a
				c, err := s.wf.ExplainApproval(ctx, a, run)
				if err != nil {
					return fmt.Errorf("explain the approval of run %d: %w", run.ID, err)
				}
				v := s.approvalView(c)
				p.Context = &v
			case err != nil && !errors.Is(err, store.ErrNotFound):
				return fmt.Errorf("load the approval of run %d: %w", run.ID, err)
			}
		}
	}
	if r.URL.Query().Get("part") == "live" {
		s.renderFragment(w, r, "workflow_run", "live", p)
		return nil
	}
	p.BulkID = bulkRunOf(run)
	if run.WorkflowID <= 0 {
		// A built-in bulk action: no saved workflow.
	} else if _, err := s.store.Workflow(ctx, run.WorkflowID); err == nil {
		p.WorkflowExists = true
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("load workflow %d: %w", run.WorkflowID, err)
	}
	s.render(w, r, http.StatusOK, "workflow_run", p)
	return nil
}

// bulkRunOf is the id of the bulk run a run belongs to (its trigger key
// is roster.BulkRun.TriggerKey), or 0.
func bulkRunOf(run roster.WorkflowRun) int64 {
	rest, ok := strings.CutPrefix(run.TriggerKey, "bulk:")
	if !ok {
		return 0
	}
	id, _, _ := strings.Cut(rest, ":")
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// workflowRunCancel is POST /workflows/runs/{id}/cancel: end a live run;
// its queued jobs then do nothing.
func (s *Server) workflowRunCancel(w http.ResponseWriter, r *http.Request) error {
	run, err := s.loadRun(r)
	if err != nil {
		return err
	}
	href := fmt.Sprintf("/workflows/runs/%d", run.ID)
	_, err = s.wf.Cancel(r.Context(), run.ID, authOf(r).Actor())
	if errors.Is(err, store.ErrConflict) {
		return &httpError{Status: http.StatusConflict, Message: fmt.Sprintf("Run %d already ended; nothing was changed.", run.ID), Href: href, HrefLabel: "Back to the run"}
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, href, http.StatusSeeOther)
	return nil
}

// approvalView is a pending approval with its run and its context, as
// the approvals page and the run page show it.
type approvalView struct {
	workflow.ApprovalContext
	roster.Approval
	Activity string // the last activity in words, as of the page
}

func (s *Server) approvalView(c workflow.ApprovalContext) approvalView {
	return approvalView{ApprovalContext: c, Approval: c.Approval, Activity: c.ActivityWords(s.now())}
}

type workflowApprovalsPage struct {
	Page
	workflowNav
	Approvals []approvalView
}

// workflowApprovalsPage is GET /workflows/approvals: approvals waiting
// for an answer, newest first. Those of runs that ended (cancelled while
// waiting) are left out: they can no longer be answered.
func (s *Server) workflowApprovalsPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if r.URL.Query().Get("part") == "badge" {
		return s.approvalsBadge(w, r)
	}
	as, err := s.store.Approvals(ctx, true, 200)
	if err != nil {
		return fmt.Errorf("list approvals: %w", err)
	}
	p := workflowApprovalsPage{Page: s.page(r, "Approvals"), workflowNav: workflowNav{"approvals"}}
	var asks []workflow.ApprovalContext
	for _, a := range as {
		run, err := s.store.Run(ctx, a.RunID)
		if err != nil {
			return fmt.Errorf("load run %d: %w", a.RunID, err)
		}
		if !run.Status.Live() {
			continue // the engine closes an ended run's question; never offer one
		}
		asks = append(asks, workflow.ApprovalContext{Approval: a, Run: run})
	}
	explained, err := s.wf.ExplainApprovals(ctx, asks)
	if err != nil {
		return fmt.Errorf("explain the approvals: %w", err)
	}
	for _, c := range explained {
		p.Approvals = append(p.Approvals, s.approvalView(c))
	}
	s.render(w, r, http.StatusOK, "workflow_approvals", p)
	return nil
}

// approvalsBadge is GET /workflows/approvals?part=badge: the count of
// approvals waiting, which the navigation's Workflows link loads on
// every page and refreshes (the layout's data is every page's, so the
// count comes as a fragment rather than through each handler).
func (s *Server) approvalsBadge(w http.ResponseWriter, r *http.Request) error {
	n, err := s.store.CountWaitingApprovals(r.Context())
	if err != nil {
		return fmt.Errorf("count the approvals waiting: %w", err)
	}
	label := fmt.Sprintf("%d approvals waiting", n)
	if n == 1 {
		label = "1 approval waiting"
	}
	s.renderFragment(w, r, "workflow_approvals", "approvals-badge", approvalsBadge{Count: n, Label: label})
	return nil
}

// approvalsBadge is the navigation badge's data.
type approvalsBadge struct {
	Count int
	Label string
}

// workflowApprovalDecide is POST /workflows/approvals/{id}/approve and
// /deny: an operator answers in the dashboard (workflow.Decide), and the
// run takes its branch at once.
func (s *Server) workflowApprovalDecide(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return errNotFound("No such approval.")
	}
	approve := strings.HasSuffix(r.URL.Path, "/approve")
	a, err := s.wf.Decide(r.Context(), id, approve, authOf(r).Actor())
	back := localPath(r.PostFormValue("next"))
	if back == "/" {
		back = fmt.Sprintf("/workflows/runs/%d", a.RunID)
	}
	switch {
	case errors.Is(err, workflow.ErrDecided):
		return &httpError{Status: http.StatusConflict, Message: err.Error() + ". Nothing was changed.", Href: back, HrefLabel: "Back"}
	case errors.Is(err, store.ErrNotFound):
		return errNotFound(fmt.Sprintf("No approval %d.", id))
	case err != nil:
		return err
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
	return nil
}
