package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"roster"
	"roster/internal/store"
	"roster/internal/workflow"
)

// The workflow routes of the JSON API (routeList): definitions, dry
// runs, manual runs, runs with their timelines, cancels and approvals,
// all through the workflow engine. Without an engine (Config.Workflows
// nil) they answer 404 not_found.
//
// A definition is roster.Workflow as JSON (its json tags): unlike
// connections it holds nothing secret, and the same names are the YAML's.

// apiWorkflowPath is the template of one workflow: GET takes its id or
// its name, PUT its name. One template serves both, since OpenAPI (and a
// reader) cannot tell /workflows/{id} from /workflows/{name}.
const apiWorkflowPath = Prefix + "/workflows/{workflow}"

// apiEngine is the engine, or 404 when this roster runs none.
func (s *Server) apiEngine() (*workflow.Engine, error) {
	if s.wf == nil {
		return nil, apiErr(http.StatusNotFound, "not_found", "", "Workflows are not enabled in this roster process.")
	}
	return s.wf, nil
}

// apiWorkflowErr turns the engine's field errors into a 422 naming each
// field: error.field is the first, error.message lists them all, and
// data.fields has every one.
func apiWorkflowErr(err error) error {
	var fe roster.WorkflowErrors
	if !errors.As(err, &fe) || len(fe) == 0 {
		return err
	}
	return &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid_field", Field: fe[0].Path,
		Message: fe.Error(), Data: FieldErrors{Fields: fe}}
}

// FieldErrors is the data of a 422: every bad field.
type FieldErrors struct {
	Fields []roster.WorkflowFieldError `json:"fields"`
}

// apiWorkflows is GET /api/v1/workflows: every workflow, by name.
func (s *Server) apiWorkflows(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.apiEngine(); err != nil {
		return err
	}
	ws, err := s.store.Workflows(r.Context())
	if err != nil {
		return fmt.Errorf("list workflows: %w", err)
	}
	out := List[roster.Workflow]{Data: make([]roster.Workflow, 0, len(ws))}
	out.Data = append(out.Data, ws...)
	writeJSON(w, http.StatusOK, out)
	return nil
}

// apiLoadWorkflow reads the workflow of the {workflow} path value: a
// number is an id, anything else a name.
func (s *Server) apiLoadWorkflow(r *http.Request, ref string) (roster.Workflow, error) {
	var wf roster.Workflow
	var err error
	if id, perr := strconv.ParseInt(ref, 10, 64); perr == nil && id > 0 {
		wf, err = s.store.Workflow(r.Context(), id)
	} else {
		wf, err = s.store.WorkflowByName(r.Context(), strings.ToLower(ref))
	}
	if errors.Is(err, store.ErrNotFound) {
		return wf, apiErr(http.StatusNotFound, "not_found", "", fmt.Sprintf("No workflow %q.", ref))
	}
	if err != nil {
		return wf, fmt.Errorf("load workflow %s: %w", ref, err)
	}
	return wf, nil
}

// apiWorkflow is GET /api/v1/workflows/{workflow}: one definition.
func (s *Server) apiWorkflow(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.apiEngine(); err != nil {
		return err
	}
	wf, err := s.apiLoadWorkflow(r, r.PathValue("workflow"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, One[roster.Workflow]{wf})
	return nil
}

// apiWorkflowPut is PUT /api/v1/workflows/{workflow}: create or update
// the workflow of that name from the body's definition (the body's name,
// if any, must be the same). 201 when created, 200 when updated; 422
// naming each bad field, with nothing saved.
func (s *Server) apiWorkflowPut(w http.ResponseWriter, r *http.Request) error {
	e, err := s.apiEngine()
	if err != nil {
		return err
	}
	name := strings.ToLower(strings.TrimSpace(r.PathValue("workflow")))
	var wf roster.Workflow
	if err := decodeJSON(w, r, &wf); err != nil {
		return err
	}
	if wf.Name == "" {
		wf.Name = name
	}
	if strings.ToLower(strings.TrimSpace(wf.Name)) != name {
		return apiErr(http.StatusUnprocessableEntity, "invalid_field", "name",
			fmt.Sprintf("name %q differs from the path's %q; to rename, PUT to the new name and delete the old one", wf.Name, name))
	}
	wf.ID = 0 // by name: Save updates the one of this name, or creates it
	status := http.StatusOK
	if _, err := s.store.WorkflowByName(r.Context(), name); errors.Is(err, store.ErrNotFound) {
		status = http.StatusCreated
	} else if err != nil {
		return fmt.Errorf("read workflow %s: %w", name, err)
	}
	saved, err := e.Save(r.Context(), wf)
	if err != nil {
		return apiWorkflowErr(err)
	}
	action := map[int]string{http.StatusCreated: "workflow_created", http.StatusOK: "workflow_updated"}[status]
	s.guard.Audit(r, roster.AuditEntry{Actor: callerOf(r).Actor, Kind: "workflow", Action: action, Target: saved.Name, Result: "ok",
		Detail: fmt.Sprintf("workflow %d, enabled %t (API)", saved.ID, saved.Enabled)})
	writeJSON(w, status, One[roster.Workflow]{saved})
	return nil
}

// apiEmailsBody is the body of the dry-run and runs routes.
type apiEmailsBody struct {
	Emails []string `json:"emails"`
}

// DryRun is workflow.DryRun as JSON.
type DryRun struct {
	Workflow      string       `json:"workflow"`
	Basis         string       `json:"basis"`
	Total         int          `json:"total"`
	Runs          []PlannedRun `json:"runs"`
	ExcludedTotal int          `json:"excluded_total"`
	Excluded      []Exclusion  `json:"excluded"`
	Warnings      []string     `json:"warnings"`
}

type PlannedRun struct {
	Email   string        `json:"email"`
	Name    string        `json:"name"`
	License string        `json:"license"`
	Steps   []PlannedStep `json:"steps"`
}

type PlannedStep struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Plan    string `json:"plan"`
	Blocked bool   `json:"blocked"`
}

type Exclusion struct {
	Email  string `json:"email"`
	Reason string `json:"reason"`
}

func ExclusionsOf(ex []workflow.Exclusion) []Exclusion {
	out := make([]Exclusion, 0, len(ex))
	for _, x := range ex {
		out = append(out, Exclusion{Email: x.Email, Reason: x.Reason})
	}
	return out
}

func DryRunOf(d workflow.DryRun) DryRun {
	out := DryRun{Workflow: d.Workflow, Basis: d.Basis, Total: d.Total, ExcludedTotal: d.ExcludedTotal,
		Runs: make([]PlannedRun, 0, len(d.Runs)), Excluded: ExclusionsOf(d.Excluded), Warnings: append([]string{}, d.Warnings...)}
	for _, pr := range d.Runs {
		j := PlannedRun{Email: pr.Email, Name: pr.Name, License: pr.License, Steps: make([]PlannedStep, 0, len(pr.Steps))}
		for _, st := range pr.Steps {
			j.Steps = append(j.Steps, PlannedStep{ID: st.ID, Kind: string(st.Kind), Plan: st.Plan, Blocked: st.Blocked})
		}
		out.Runs = append(out.Runs, j)
	}
	return out
}

// apiOptionalEmails reads an optional {"emails": [...]} body.
func apiOptionalEmails(w http.ResponseWriter, r *http.Request) ([]string, error) {
	var body apiEmailsBody
	if r.ContentLength == 0 {
		return nil, nil
	}
	if err := decodeJSON(w, r, &body); err != nil {
		return nil, err
	}
	for _, e := range body.Emails {
		if !roster.ValidEmail(roster.NormalizeEmail(e)) {
			return nil, invalidField("emails", "emails: %q is not an email address", e)
		}
	}
	return body.Emails, nil
}

// apiWorkflowDryRun is POST /api/v1/workflows/{id}/dry-run: what the
// stored workflow would do now, for its trigger's candidates or for the
// body's emails. It changes nothing.
func (s *Server) apiWorkflowDryRun(w http.ResponseWriter, r *http.Request) error {
	e, err := s.apiEngine()
	if err != nil {
		return err
	}
	id, err := pathIDOf(r, "workflow")
	if err != nil {
		return err
	}
	wf, err := s.apiLoadWorkflow(r, strconv.FormatInt(id, 10))
	if err != nil {
		return err
	}
	emails, err := apiOptionalEmails(w, r)
	if err != nil {
		return err
	}
	d, err := e.Preview(r.Context(), wf, emails)
	if err != nil {
		return apiWorkflowErr(err)
	}
	writeJSON(w, http.StatusOK, One[DryRun]{DryRunOf(d)})
	return nil
}

// ManualRuns is what POST .../runs started and left out.
type ManualRuns struct {
	Started  []Run       `json:"started"`
	Excluded []Exclusion `json:"excluded"`
}

// apiWorkflowStart is POST /api/v1/workflows/{id}/runs: start the
// workflow now for the body's emails, whatever its trigger.
func (s *Server) apiWorkflowStart(w http.ResponseWriter, r *http.Request) error {
	e, err := s.apiEngine()
	if err != nil {
		return err
	}
	id, err := pathIDOf(r, "workflow")
	if err != nil {
		return err
	}
	if _, err := s.apiLoadWorkflow(r, strconv.FormatInt(id, 10)); err != nil {
		return err
	}
	var body apiEmailsBody
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if len(body.Emails) == 0 {
		return invalidField("emails", "emails is required: the people to run the workflow for")
	}
	for _, em := range body.Emails {
		if !roster.ValidEmail(roster.NormalizeEmail(em)) {
			return invalidField("emails", "emails: %q is not an email address", em)
		}
	}
	res, err := e.RunManual(r.Context(), id, body.Emails, callerOf(r).Actor)
	if err != nil {
		return apiWorkflowErr(err)
	}
	out := ManualRuns{Started: make([]Run, 0, len(res.Started)), Excluded: ExclusionsOf(res.Excluded)}
	for _, run := range res.Started {
		out.Started = append(out.Started, RunOf(run))
	}
	writeJSON(w, http.StatusCreated, One[ManualRuns]{out})
	return nil
}

// Run is a workflow run.
type Run struct {
	ID         int64      `json:"id"`
	WorkflowID int64      `json:"workflow_id"`
	Workflow   string     `json:"workflow"`
	Trigger    string     `json:"trigger"`
	Email      string     `json:"email"`
	AccountID  int64      `json:"account_id"`
	PersonID   int64      `json:"person_id"`
	Status     string     `json:"status"`
	Step       string     `json:"step"` // the current step's id, or "" when ended
	Error      string     `json:"error"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	EndedAt    *time.Time `json:"ended_at"`
}

func RunOf(r roster.WorkflowRun) Run {
	out := Run{ID: r.ID, WorkflowID: r.WorkflowID, Workflow: r.WorkflowName, Trigger: r.Trigger, Email: r.Email,
		AccountID: r.AccountID, PersonID: r.PersonID, Status: string(r.Status), Error: r.Error,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), EndedAt: timeOf(r.EndedAt)}
	if r.Status.Live() && r.Position >= 0 && r.Position < len(r.Definition.Steps) {
		out.Step = r.Definition.Steps[r.Position].ID
	}
	return out
}

type RunStep struct {
	StepID    string     `json:"step_id"`
	Kind      string     `json:"kind"`
	Status    string     `json:"status"`
	Attempts  int        `json:"attempts"`
	Detail    string     `json:"detail"`
	Branch    string     `json:"branch"`
	DueAt     *time.Time `json:"due_at"`
	StartedAt *time.Time `json:"started_at"`
	EndedAt   *time.Time `json:"ended_at"`
}

type Approval struct {
	ID        int64      `json:"id"`
	RunID     int64      `json:"run_id"`
	StepID    string     `json:"step_id"`
	Approver  string     `json:"approver"`
	Status    string     `json:"status"`
	DecidedBy string     `json:"decided_by"`
	ExpiresAt time.Time  `json:"expires_at"`
	CreatedAt time.Time  `json:"created_at"`
	DecidedAt *time.Time `json:"decided_at"`
}

func ApprovalOf(a roster.Approval) Approval {
	return Approval{ID: a.ID, RunID: a.RunID, StepID: a.StepID, Approver: a.Approver, Status: string(a.Status),
		DecidedBy: a.DecidedBy, ExpiresAt: a.ExpiresAt.UTC(), CreatedAt: a.CreatedAt.UTC(), DecidedAt: timeOf(a.DecidedAt)}
}

// RunDetail is a run with its timeline and its pending approval.
type RunDetail struct {
	Run
	Steps    []RunStep `json:"steps"`
	Approval *Approval `json:"approval"`
}

// RunList is a page of runs, with the counts by status of every
// run the filter matches (ignoring status), for progress bars.
type RunList struct {
	Data       []Run          `json:"data"`
	Total      int            `json:"total"`
	NextCursor string         `json:"next_cursor,omitempty"`
	Counts     map[string]int `json:"counts"`
}

// apiRunsMaxLimit is the largest page of runs (the store's).
const apiRunsMaxLimit = 500

// apiWorkflowRunsList is GET /api/v1/workflow-runs: runs, newest first,
// filtered by workflow_id, status and email, with keyset paging.
func (s *Server) apiWorkflowRunsList(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.apiEngine(); err != nil {
		return err
	}
	q := r.URL.Query()
	f := store.RunFilter{Status: roster.RunStatus(q.Get("status")), Email: roster.NormalizeEmail(q.Get("email")), Limit: apiDefaultLimit}
	var err error
	if f.WorkflowID, err = parseID("workflow_id", q.Get("workflow_id")); err != nil {
		return err
	}
	if f.Status != "" && !f.Status.Valid() {
		return invalidField("status", "status must be one of succeeded, failed, cancelled, running or waiting, got %q", f.Status)
	}
	if f.BeforeID, err = decodeIDCursor("workflow-runs", q.Get("cursor")); err != nil {
		return err
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > apiRunsMaxLimit {
			return invalidField("limit", "limit must be a number from 1 to %d, got %q", apiRunsMaxLimit, v)
		}
		f.Limit = n
	}
	page, err := s.store.Runs(r.Context(), f)
	if err != nil {
		return fmt.Errorf("list workflow runs: %w", err)
	}
	out := RunList{Data: make([]Run, 0, len(page.Runs)), Total: page.Total, Counts: map[string]int{}}
	for _, run := range page.Runs {
		out.Data = append(out.Data, RunOf(run))
	}
	for _, st := range roster.RunStatuses {
		out.Counts[string(st)] = page.Counts[st]
	}
	if page.NextBefore > 0 {
		out.NextCursor = encodeIDCursor("workflow-runs", page.NextBefore)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// apiLoadRun reads the run of the {id} path value.
func (s *Server) apiLoadRun(r *http.Request) (roster.WorkflowRun, error) {
	id, err := pathIDOf(r, "run")
	if err != nil {
		return roster.WorkflowRun{}, err
	}
	run, err := s.store.Run(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return run, apiErr(http.StatusNotFound, "not_found", "", fmt.Sprintf("No workflow run %d.", id))
	}
	if err != nil {
		return run, fmt.Errorf("load run %d: %w", id, err)
	}
	return run, nil
}

// apiWorkflowRun is GET /api/v1/workflow-runs/{id}: the run, its
// timeline and, while it waits on one, its pending approval.
func (s *Server) apiWorkflowRun(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if _, err := s.apiEngine(); err != nil {
		return err
	}
	run, err := s.apiLoadRun(r)
	if err != nil {
		return err
	}
	steps, err := s.store.RunSteps(ctx, run.ID)
	if err != nil {
		return fmt.Errorf("load the timeline of run %d: %w", run.ID, err)
	}
	out := RunDetail{Run: RunOf(run), Steps: make([]RunStep, 0, len(steps))}
	for _, st := range steps {
		out.Steps = append(out.Steps, RunStep{StepID: st.StepID, Kind: string(st.Kind), Status: string(st.Status),
			Attempts: st.Attempts, Detail: st.Detail, Branch: st.Branch,
			DueAt: timeOf(st.DueAt), StartedAt: timeOf(st.StartedAt), EndedAt: timeOf(st.EndedAt)})
	}
	if out.Step != "" && run.Definition.Steps[run.Position].Kind == roster.StepApproval {
		a, err := s.store.ApprovalFor(ctx, run.ID, out.Step)
		switch {
		case err == nil && a.Status == roster.ApprovalPending:
			j := ApprovalOf(a)
			out.Approval = &j
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("load the approval of run %d: %w", run.ID, err)
		}
	}
	writeJSON(w, http.StatusOK, One[RunDetail]{out})
	return nil
}

// apiWorkflowRunCancel is POST /api/v1/workflow-runs/{id}/cancel: end a
// live run (409 when it already ended).
func (s *Server) apiWorkflowRunCancel(w http.ResponseWriter, r *http.Request) error {
	e, err := s.apiEngine()
	if err != nil {
		return err
	}
	run, err := s.apiLoadRun(r)
	if err != nil {
		return err
	}
	done, err := e.Cancel(r.Context(), run.ID, callerOf(r).Actor)
	if errors.Is(err, store.ErrConflict) {
		return apiErr(http.StatusConflict, "conflict", "", fmt.Sprintf("Workflow run %d already ended; nothing was changed.", run.ID))
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, One[Run]{RunOf(done)})
	return nil
}

// apiApprovalDecide is POST /api/v1/approvals/{id}/approve and /deny:
// answer an approval as the caller; the run takes its branch at once.
// 409 when it was already answered or timed out.
func (s *Server) apiApprovalDecide(w http.ResponseWriter, r *http.Request) error {
	e, err := s.apiEngine()
	if err != nil {
		return err
	}
	id, err := pathIDOf(r, "approval")
	if err != nil {
		return err
	}
	a, err := e.Decide(r.Context(), id, strings.HasSuffix(r.URL.Path, "/approve"), callerOf(r).Actor)
	switch {
	case errors.Is(err, workflow.ErrDecided):
		return apiErr(http.StatusConflict, "conflict", "", err.Error()+"; nothing was changed.")
	case errors.Is(err, store.ErrNotFound):
		return apiErr(http.StatusNotFound, "not_found", "", fmt.Sprintf("No approval %d.", id))
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, One[Approval]{ApprovalOf(a)})
	return nil
}
