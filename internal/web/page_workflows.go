package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"roster"
	"roster/internal/store"
	"roster/internal/workflow"
)

// The workflow pages (page_workflows*.go): the list,
// the YAML editor with check and dry run, a workflow's page with "run
// now", runs with their timelines, approvals, and the public pages an
// approval link opens. Handlers are thin: definitions, previews, runs,
// cancels and answers all go through the workflow engine, s.wf. They are
// registered only when the server has an engine (Config.Workflows).

// workflowRoutes are the workflow pages' routes; routeList adds them when
// s.wf is set. The editor of a saved workflow is GET /workflows/edit/{id},
// not /workflows/{id}/edit, which the ServeMux would refuse as conflicting
// with GET /workflows/runs/{id} (both match /workflows/runs/edit); its
// form posts to POST /workflows/{id}/edit, beside enable and disable
// (POST /workflows/edit/{id} would conflict with those). So too the dry
// run's pages are GET /workflows/dry-run/{id}, its form's POST
// /workflows/{id}/dry-run.
func (s *Server) workflowRoutes() []route {
	return []route{
		{"GET", "/workflows", viewer, s.workflowsPage},
		{"GET", "/workflows.yaml", viewer, s.workflowsExport},
		{"GET", "/workflows/new", admin, s.workflowNew},
		{"POST", "/workflows/new", admin, s.workflowEditSubmit},
		{"GET", "/workflows/edit/{id}", admin, s.workflowEdit},
		{"POST", "/workflows/{id}/edit", admin, s.workflowEditSubmit},
		{"GET", "/workflows/{id}", viewer, s.workflowPage},
		{"GET", "/workflows/enable/{id}", admin, s.workflowEnableConfirm},
		{"POST", "/workflows/{id}/enable", admin, s.workflowEnable},
		{"POST", "/workflows/{id}/disable", admin, s.workflowEnable},
		{"POST", "/workflows/{id}/delete", admin, s.workflowDelete},
		{"GET", "/workflows/dry-run/{id}", admin, s.workflowDryRun},
		{"POST", "/workflows/{id}/dry-run", admin, s.workflowDryRun},
		{"POST", "/workflows/{id}/run", admin, s.workflowRunNow},
		{"GET", "/workflows/runs", viewer, s.workflowRunsPage},
		{"GET", "/workflows/runs/{id}", viewer, s.workflowRunPage},
		{"POST", "/workflows/runs/{id}/cancel", admin, s.workflowRunCancel},
		{"GET", "/workflows/approvals", viewer, s.workflowApprovalsPage},
		{"POST", "/workflows/approvals/{id}/approve", admin, s.workflowApprovalDecide},
		{"POST", "/workflows/approvals/{id}/deny", admin, s.workflowApprovalDecide},

		// Approval links (approval_link.go) are public: the approver
		// follows a link from an email or Slack and has no session. The
		// GET only shows a confirm form (mail scanners prefetch links);
		// the POST answers. Neither checks a CSRF token: the HMAC-signed
		// token in the path is the capability (see approvalLinkPattern).
		{"GET", approvalLinkPattern, public, s.approvalLinkPage},
		{"POST", approvalLinkPattern, public, s.approvalLinkSubmit},
	}
}

// workflowNav is the sub-navigation of the workflow pages.
type workflowNav struct {
	Sub string // "list", "runs" or "approvals"
}

// workflowRow is one line of the workflows list.
type workflowRow struct {
	roster.Workflow
	TriggerWords string
	Runs         map[roster.RunStatus]int
	RunsTotal    int
}

type workflowsPage struct {
	Page
	workflowNav
	Rows      []workflowRow
	Templates []string
	Error     string
	Errors    []roster.WorkflowFieldError
}

// workflowsPage lists the workflows with their runs by status.
func (s *Server) workflowsPage(w http.ResponseWriter, r *http.Request) error {
	p, err := s.workflowsData(r)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "workflows", p)
	return nil
}

func (s *Server) workflowsData(r *http.Request) (workflowsPage, error) {
	ctx := r.Context()
	ws, err := s.store.Workflows(ctx)
	if err != nil {
		return workflowsPage{}, fmt.Errorf("list workflows: %w", err)
	}
	p := workflowsPage{Page: s.page(r, "Workflows"), workflowNav: workflowNav{"list"}, Templates: workflow.Templates}
	for _, wf := range ws {
		page, err := s.store.Runs(ctx, store.RunFilter{WorkflowID: wf.ID, Limit: 1})
		if err != nil {
			return p, fmt.Errorf("count the runs of workflow %d: %w", wf.ID, err)
		}
		p.Rows = append(p.Rows, workflowRow{Workflow: wf, TriggerWords: triggerWords(wf.Trigger), Runs: page.Counts, RunsTotal: page.Total})
	}
	return p, nil
}

// workflowsExport is GET /workflows.yaml: every workflow as YAML, the
// form `roster workflow apply` and the editor read.
func (s *Server) workflowsExport(w http.ResponseWriter, r *http.Request) error {
	b, err := s.wf.Export(r.Context(), "")
	if err != nil {
		return fmt.Errorf("export workflows: %w", err)
	}
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Content-Disposition", `attachment; filename="workflows.yaml"`)
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(b)
	return err
}

// loadWorkflow reads the workflow of the {id} path value.
func (s *Server) loadWorkflow(r *http.Request) (roster.Workflow, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return roster.Workflow{}, errNotFound("No such workflow.")
	}
	wf, err := s.store.Workflow(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return wf, errNotFound(fmt.Sprintf("No workflow %d.", id))
	}
	if err != nil {
		return wf, fmt.Errorf("load workflow %d: %w", id, err)
	}
	return wf, nil
}

// workflowEnable is POST /workflows/{id}/enable and /disable. Both save
// through the engine, so enabling a definition that no longer validates
// (a team gone, a capability lost) is refused with its field errors;
// disabling one is not refused: it is stored off, as it is.
func (s *Server) workflowEnable(w http.ResponseWriter, r *http.Request) error {
	wf, err := s.loadWorkflow(r)
	if err != nil {
		return err
	}
	if strings.HasSuffix(r.URL.Path, "/enable") {
		if err := unconfirmedEnable(r, wf); err != nil {
			return err
		}
	}
	wf.Enabled = strings.HasSuffix(r.URL.Path, "/enable")
	saved, err := s.wf.SetEnabled(r.Context(), wf, wf.Enabled)
	var fe roster.WorkflowErrors
	if errors.As(err, &fe) {
		p, lerr := s.workflowsData(r)
		if lerr != nil {
			return lerr
		}
		verb := map[bool]string{true: "enable", false: "disable"}[wf.Enabled]
		p.Error = fmt.Sprintf("Cannot %s %s: its definition does not validate any more; edit it first. Nothing was changed.", verb, wf.Name)
		p.Errors = fe
		s.render(w, r, http.StatusUnprocessableEntity, "workflows", p)
		return nil
	}
	if err != nil {
		return fmt.Errorf("save workflow %d: %w", wf.ID, err)
	}
	action := map[bool]string{true: "workflow_enabled", false: "workflow_disabled"}[saved.Enabled]
	s.guard.Audit(r, roster.AuditEntry{Actor: authOf(r).Actor(), Kind: "workflow", Action: action, Target: saved.Name, Result: "ok",
		Detail: fmt.Sprintf("workflow %d", saved.ID)})
	http.Redirect(w, r, "/workflows", http.StatusSeeOther)
	return nil
}

// workflowDelete is POST /workflows/{id}/delete (confirmed). Its runs
// stay, with the definition they started with.
func (s *Server) workflowDelete(w http.ResponseWriter, r *http.Request) error {
	wf, err := s.loadWorkflow(r)
	if err != nil {
		return err
	}
	if r.PostFormValue("confirm") != "1" {
		return &httpError{Status: http.StatusBadRequest, Message: "confirm: tick the box to confirm deleting " + wf.Name + "; nothing was changed.",
			Href: "/workflows/" + strconv.FormatInt(wf.ID, 10), HrefLabel: "Back to the workflow"}
	}
	if err := s.store.DeleteWorkflow(r.Context(), wf.ID); err != nil {
		return fmt.Errorf("delete workflow %d: %w", wf.ID, err)
	}
	s.guard.Audit(r, roster.AuditEntry{Actor: authOf(r).Actor(), Kind: "workflow", Action: "workflow_deleted", Target: wf.Name, Result: "ok",
		Detail: fmt.Sprintf("workflow %d deleted; its runs are kept", wf.ID)})
	http.Redirect(w, r, "/workflows", http.StatusSeeOther)
	return nil
}

// workflowPageData is a workflow's page.
type workflowPageData struct {
	Page
	workflowNav
	Workflow     roster.Workflow
	Connection   string // in words
	TriggerWords string
	Conditions   []string
	Steps        []stepLine
	OnFailure    string // the failure notice in words, or ""
	YAML         string
	Runs         []roster.WorkflowRun
	Counts       map[roster.RunStatus]int
	RunsTotal    int
	RunsHref     string
	// Run now: what was typed, and what happened.
	Emails   string
	Manual   *workflow.ManualResult
	RunError string
	Errors   []roster.WorkflowFieldError
}

// stepLine is a step as a sentence (workflow.StepSentences).
type stepLine struct {
	ID, Kind, Words string
}

// workflowPage is GET /workflows/{id}: the definition in words and as
// YAML, recent runs, dry run and run now.
func (s *Server) workflowPage(w http.ResponseWriter, r *http.Request) error {
	wf, err := s.loadWorkflow(r)
	if err != nil {
		return err
	}
	p, err := s.workflowData(r, wf)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "workflow", p)
	return nil
}

func (s *Server) workflowData(r *http.Request, wf roster.Workflow) (workflowPageData, error) {
	p := workflowPageData{Page: s.page(r, wf.Name), workflowNav: workflowNav{"list"}, Workflow: wf,
		TriggerWords: triggerWords(wf.Trigger), RunsHref: "/workflows/runs?workflow=" + strconv.FormatInt(wf.ID, 10)}
	teams, err := s.store.Teams(r.Context(), wf.ConnectionID)
	if err != nil {
		return p, fmt.Errorf("read the teams of connection %d: %w", wf.ConnectionID, err)
	}
	names := map[string]string{}
	for _, t := range teams {
		names[t.MiroTeamID] = t.Name
	}
	for _, c := range wf.Conditions {
		p.Conditions = append(p.Conditions, workflow.ConditionSentence(c, names))
	}
	for i, words := range workflow.StepSentences(wf, names) {
		p.Steps = append(p.Steps, stepLine{ID: wf.Steps[i].ID, Kind: string(wf.Steps[i].Kind), Words: words})
	}
	if wf.OnFailure != nil {
		p.OnFailure = workflow.StepSentence(*wf.OnFailure, workflow.SentenceContext{Teams: names})
	}
	y, err := workflow.MarshalYAML([]roster.Workflow{wf})
	if err != nil {
		return p, err
	}
	p.YAML = string(y)
	p.Connection = fmt.Sprintf("#%d (gone)", wf.ConnectionID)
	if c, err := s.store.Connection(r.Context(), wf.ConnectionID); err == nil {
		p.Connection = connLabel(c)
	} else if !errors.Is(err, store.ErrNotFound) {
		return p, fmt.Errorf("load connection %d: %w", wf.ConnectionID, err)
	}
	page, err := s.store.Runs(r.Context(), store.RunFilter{WorkflowID: wf.ID, Limit: 20})
	if err != nil {
		return p, fmt.Errorf("list the runs of workflow %d: %w", wf.ID, err)
	}
	p.Runs, p.Counts, p.RunsTotal = page.Runs, page.Counts, page.Total
	return p, nil
}

// parseEmails reads a list of emails, one a line or separated by commas,
// semicolons or spaces.
func parseEmails(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == '\n' || r == '\r' || r == ' ' || r == '\t'
	}) {
		if f = roster.NormalizeEmail(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// workflowRunNow is POST /workflows/{id}/run: start the workflow now for
// the emails typed, whatever its trigger (workflow.RunManual): one run
// started for one person goes to that run's page; otherwise the page
// shows the runs started and the people left out with why.
func (s *Server) workflowRunNow(w http.ResponseWriter, r *http.Request) error {
	wf, err := s.loadWorkflow(r)
	if err != nil {
		return err
	}
	emails := r.PostFormValue("emails")
	res, runErr := s.wf.RunManual(r.Context(), wf.ID, parseEmails(emails), authOf(r).Actor())
	var fe roster.WorkflowErrors
	if runErr != nil && !errors.As(runErr, &fe) && len(res.Started) == 0 {
		return fmt.Errorf("run workflow %d: %w", wf.ID, runErr)
	}
	if runErr == nil && len(res.Started) == 1 && len(res.Excluded) == 0 {
		// One run, no one left out: follow it on its page, live.
		http.Redirect(w, r, fmt.Sprintf("/workflows/runs/%d", res.Started[0].ID), http.StatusSeeOther)
		return nil
	}
	p, err := s.workflowData(r, wf)
	if err != nil {
		return err
	}
	p.Emails, p.Manual, p.Errors = emails, &res, fe
	code := http.StatusOK
	switch {
	case fe != nil:
		code = http.StatusUnprocessableEntity
	case runErr != nil:
		// Some runs started before the failure: show them, and the error.
		s.logger.ErrorContext(r.Context(), "run workflow now", "workflow", wf.ID, "error", runErr)
		p.RunError = "Some runs could not be started; the details are in roster's log."
		code = http.StatusInternalServerError
	}
	s.render(w, r, code, "workflow", p)
	return nil
}

// triggerWords is a trigger in plain words.
func triggerWords(t roster.Trigger) string {
	switch t.Kind {
	case roster.TriggerPersonJoined:
		return "when someone joins the company (the directory)"
	case roster.TriggerPersonLeft:
		return "when someone leaves the company (the directory)"
	case roster.TriggerInactive:
		return fmt.Sprintf("when a paid Miro license is unused for %d days", t.Days)
	case roster.TriggerNewAccount:
		return "when a sync finds a Miro account outside the directory"
	case roster.TriggerLicenseChanged:
		if t.License != "" {
			return "when a sync sees a license change to " + t.License
		}
		return "when a sync sees a license change"
	case roster.TriggerSchedule:
		return "on a schedule: " + t.Cron
	case roster.TriggerManual:
		return "only when run by hand"
	}
	return string(t.Kind)
}
