package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"roster"
	"roster/internal/store"
	"roster/internal/workflow"
)

// workflowEditor is the editor's data: the definition's YAML as typed
// (in the YAML view, its textarea; in the form view, a hidden field the
// form's values are written onto), the form view, field errors, and the
// outcome of Check or Dry run.
type workflowEditor struct {
	Page
	workflowNav
	Action string // where the form posts
	ID     int64  // 0 for a new workflow
	Name   string
	YAML   string
	// View is "form" or "yaml"; Form is the form view's inputs.
	View string
	Form *workflowForm
	// Errors are the definition's field errors, "path: message".
	Errors []roster.WorkflowFieldError
	// Checked says the definition validated (Check, or before a dry run).
	Checked bool
	DryRun  *dryRunView
	// New from a template: the template and connection it was built with.
	Template    string
	Templates   []string
	Connection  int64
	Connections []option
}

// blankWorkflow is the "blank" template: the smallest workflow that says
// what each part is for.
func blankWorkflow(conn int64) roster.Workflow {
	return roster.Workflow{Name: "my-workflow", Description: "What this workflow is for.", ConnectionID: conn,
		Trigger: roster.Trigger{Kind: roster.TriggerManual},
		Steps:   []roster.Step{{ID: "sign-out", Kind: roster.StepSignOut}}}
}

// workflowNew is GET /workflows/new?template=NAME&connection=ID: the
// editor, prefilled with a ready template (not saved).
func (s *Server) workflowNew(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	conns, err := s.store.Connections(ctx)
	if err != nil {
		return fmt.Errorf("list connections: %w", err)
	}
	q := r.URL.Query()
	ed := workflowEditor{Page: s.page(r, "New workflow"), workflowNav: workflowNav{"list"}, Action: "/workflows/new",
		Template: q.Get("template"), Templates: workflow.Templates}
	if ed.Template == "" {
		ed.Template = "blank"
	}
	if v := q.Get("connection"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || !slices.ContainsFunc(conns, func(c roster.Connection) bool { return c.ID == id }) {
			return errBadRequest(fmt.Sprintf("connection must be the id of a connection, got %q.", v))
		}
		ed.Connection = id
	}
	for _, c := range conns {
		ed.Connections = append(ed.Connections, option{strconv.FormatInt(c.ID, 10), connLabel(c)})
		if ed.Connection == 0 && c.Level == roster.LevelOrganization && c.Status != roster.StatusDisconnected {
			ed.Connection = c.ID
		}
	}
	if ed.Connection == 0 && len(conns) > 0 {
		ed.Connection = conns[0].ID
	}
	var wf roster.Workflow
	if ed.Template == "blank" {
		wf = blankWorkflow(ed.Connection)
		if wf.Name, err = s.wf.FreeName(ctx, wf.Name); err != nil {
			return err
		}
	} else if wf, err = s.wf.NewFromTemplate(ctx, ed.Template, workflow.TemplateOptions{ConnectionID: ed.Connection}); err != nil {
		return errBadRequest(err.Error())
	}
	y, err := workflow.MarshalYAML([]roster.Workflow{wf})
	if err != nil {
		return err
	}
	ed.YAML = string(y)
	return s.renderOpened(w, r, &ed)
}

// workflowEdit is GET /workflows/edit/{id}: the editor on a stored
// workflow's YAML.
func (s *Server) workflowEdit(w http.ResponseWriter, r *http.Request) error {
	wf, err := s.loadWorkflow(r)
	if err != nil {
		return err
	}
	y, err := workflow.MarshalYAML([]roster.Workflow{wf})
	if err != nil {
		return err
	}
	ed := workflowEditor{Page: s.page(r, "Edit "+wf.Name), workflowNav: workflowNav{"list"},
		Action: "/workflows/" + strconv.FormatInt(wf.ID, 10) + "/edit", ID: wf.ID, Name: wf.Name, YAML: string(y)}
	return s.renderOpened(w, r, &ed)
}

// renderOpened shows a definition just opened: in the form, or, with
// ?view=yaml, as YAML.
func (s *Server) renderOpened(w http.ResponseWriter, r *http.Request, ed *workflowEditor) error {
	if r.URL.Query().Get("view") == "yaml" {
		ed.View = "yaml"
		s.render(w, r, http.StatusOK, "workflow_edit", ed)
		return nil
	}
	return s.renderForm(w, r, ed, http.StatusOK, nil, nil)
}

// workflowEditSubmit is POST /workflows/new and /workflows/{id}/edit,
// from either view (view=form or yaml; yaml when not said). The form
// view's values are first written onto its YAML (page_workflows_form.go).
// op=check validates, op=dry-run previews the unsaved definition, and
// op=save saves it; view-form and view-yaml switch views; the form's row
// operations (add-condition, remove-step:1, step-up:2...) change its rows.
// A definition that does not validate is shown again as typed, with each
// field error, as 422; nothing is saved.
func (s *Server) workflowEditSubmit(w http.ResponseWriter, r *http.Request) error {
	ed := workflowEditor{Page: s.page(r, "New workflow"), workflowNav: workflowNav{"list"}, Action: "/workflows/new",
		YAML: oneNewline(r.PostFormValue("yaml")), View: "yaml"}
	if r.PathValue("id") != "" {
		old, err := s.loadWorkflow(r)
		if err != nil {
			return err
		}
		ed.ID, ed.Name, ed.Action = old.ID, old.Name, "/workflows/"+strconv.FormatInt(old.ID, 10)+"/edit"
		ed.Page = s.page(r, "Edit "+old.Name)
	}
	op := r.PostFormValue("op")
	if r.PostFormValue("view") == "form" {
		return s.workflowFormSubmit(w, r, &ed, op)
	}
	switch op {
	case "view-form":
		_, errs, err := s.parseOne(r, ed.YAML)
		if err != nil {
			return err
		}
		if errs != nil {
			// Text the form cannot show stays here, with why.
			ed.Errors = errs
			s.render(w, r, http.StatusUnprocessableEntity, "workflow_edit", ed)
			return nil
		}
		return s.renderForm(w, r, &ed, http.StatusOK, nil, nil)
	case "view-yaml", "refresh":
		s.render(w, r, http.StatusOK, "workflow_edit", ed)
		return nil
	case "check", "dry-run", "save":
		return s.workflowDecide(w, r, &ed, op)
	}
	return errBadRequest(fmt.Sprintf("op must be check, dry-run or save, got %q.", op))
}

// workflowDecide checks, dry runs or saves the editor's YAML, and shows
// the outcome in the view it came from.
func (s *Server) workflowDecide(w http.ResponseWriter, r *http.Request, ed *workflowEditor, op string) error {
	ctx := r.Context()
	invalid := func(errs roster.WorkflowErrors) error {
		return s.renderEditor(w, r, ed, http.StatusUnprocessableEntity, errs)
	}
	wf, errs, err := s.parseOne(r, ed.YAML)
	if err != nil {
		return err
	}
	if errs != nil {
		return invalid(errs)
	}
	wf.ID = ed.ID
	if ed.ID == 0 {
		// A new workflow never overwrites one of the same name.
		wf.Normalize()
		old, err := s.store.WorkflowByName(ctx, wf.Name)
		switch {
		case err == nil:
			return invalid(roster.WorkflowErrors{{Path: "name", Message: fmt.Sprintf("%q is taken by workflow %d; edit that one, or choose another name", wf.Name, old.ID)}})
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("read workflow %s: %w", wf.Name, err)
		}
	}

	switch op {
	case "check":
		if err := s.wf.Check(ctx, &wf); err != nil {
			return fieldErrsOr(err, invalid)
		}
		ed.Checked = true
	case "dry-run":
		view, err := peopleViewOf(r.URL.Query())
		if err != nil {
			return err
		}
		d, err := s.wf.PreviewPeople(ctx, wf, nil, view)
		if err != nil {
			return fieldErrsOr(err, invalid)
		}
		// Its pages post the definition again: it is saved nowhere.
		ed.Checked, ed.DryRun = true, newDryRunView(d, func(v workflow.PeopleView) navLink {
			return navLink{Href: ed.Action + "?" + peopleViewQuery(v).Encode() + "#dry-people",
				Post: []hiddenField{{"csrf", ed.CSRF}, {"op", "dry-run"}, {"view", ed.View}, {"yaml", ed.YAML}}}
		})
	case "save":
		saved, err := s.wf.Save(ctx, wf)
		if err != nil {
			return fieldErrsOr(err, invalid)
		}
		action := "workflow_updated"
		if ed.ID == 0 {
			action = "workflow_created"
		}
		s.guard.Audit(r, roster.AuditEntry{Actor: authOf(r).Actor(), Kind: "workflow", Action: action, Target: saved.Name, Result: "ok",
			Detail: fmt.Sprintf("workflow %d, enabled %t", saved.ID, saved.Enabled)})
		http.Redirect(w, r, "/workflows/"+strconv.FormatInt(saved.ID, 10), http.StatusSeeOther)
		return nil
	}
	return s.renderEditor(w, r, ed, http.StatusOK, nil)
}

// parseOne reads the editor's YAML, which must hold exactly one workflow.
// errs are the field errors of a bad text; err is roster's own failure.
func (s *Server) parseOne(r *http.Request, text string) (roster.Workflow, roster.WorkflowErrors, error) {
	if strings.TrimSpace(text) == "" {
		return roster.Workflow{}, roster.WorkflowErrors{{Path: "document 1", Message: "is empty: write a workflow, or start from a template"}}, nil
	}
	ws, err := workflow.ParseYAML(strings.NewReader(text))
	var fe roster.WorkflowErrors
	if errors.As(err, &fe) {
		return roster.Workflow{}, fe, nil
	}
	if err != nil {
		return roster.Workflow{}, nil, fmt.Errorf("parse the workflow: %w", err)
	}
	if len(ws) != 1 {
		return roster.Workflow{}, roster.WorkflowErrors{{Path: "document 2",
			Message: fmt.Sprintf("the editor saves one workflow at a time, and this text holds %d; use roster workflow apply for several", len(ws))}}, nil
	}
	return ws[0], nil, nil
}

// fieldErrsOr hands field errors to invalid, and returns any other error.
func fieldErrsOr(err error, invalid func(roster.WorkflowErrors) error) error {
	var fe roster.WorkflowErrors
	if errors.As(err, &fe) {
		return invalid(fe)
	}
	return err
}

// workflowDryRun is POST /workflows/{id}/dry-run, and its pages GET
// /workflows/dry-run/{id}: the stored
// workflow's preview (workflow.PreviewPeople), optionally for the emails
// given (a form field, or, on its GET pages, a comma-separated query
// parameter): the summary first, then the people a page at a time
// (show=left_out, from=<n>).
func (s *Server) workflowDryRun(w http.ResponseWriter, r *http.Request) error {
	wf, err := s.loadWorkflow(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	view, err := peopleViewOf(q)
	if err != nil {
		return err
	}
	emails := parseEmails(q.Get("emails"))
	if r.Method == http.MethodPost {
		emails = parseEmails(r.PostFormValue("emails"))
	}
	ed := workflowEditor{Page: s.page(r, "Dry run of "+wf.Name), workflowNav: workflowNav{"list"}, ID: wf.ID, Name: wf.Name}
	d, err := s.wf.PreviewPeople(r.Context(), wf, emails, view)
	var fe roster.WorkflowErrors
	if errors.As(err, &fe) {
		ed.Errors = fe
		s.render(w, r, http.StatusUnprocessableEntity, "workflow_dryrun", ed)
		return nil
	}
	if err != nil {
		return fmt.Errorf("preview workflow %d: %w", wf.ID, err)
	}
	ed.Checked, ed.DryRun = true, newDryRunView(d, func(v workflow.PeopleView) navLink {
		u := peopleViewQuery(v)
		if len(emails) > 0 {
			u.Set("emails", strings.Join(emails, ","))
		}
		href := fmt.Sprintf("/workflows/dry-run/%d", wf.ID)
		if len(u) > 0 {
			href += "?" + u.Encode()
		}
		return navLink{Href: href + "#dry-people"}
	})
	s.render(w, r, http.StatusOK, "workflow_dryrun", ed)
	return nil
}

// dryRunView is a dry run as the "dry-run" template shows it: the
// summary first, then its page of people with their tabs and pager.
type dryRunView struct {
	*workflow.DryRun
	Summary   summaryView
	PeopleNav peopleNav
}

func newDryRunView(d workflow.DryRun, link func(workflow.PeopleView) navLink) *dryRunView {
	return &dryRunView{DryRun: &d, Summary: summaryView{Summary: d.Summary, Selected: "People considered", Would: "Would run"},
		PeopleNav: newPeopleNav(d.Summary, d.View, "Would run", link)}
}

// peopleViewOf reads the page of people a preview lists: show=left_out
// and from=<people to skip>.
func peopleViewOf(q url.Values) (workflow.PeopleView, error) {
	v := workflow.PeopleView{LeftOut: q.Get("show") == "left_out"}
	if f := q.Get("from"); f != "" {
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return v, errBadRequest(fmt.Sprintf("from must be a number of people to skip, got %q.", f))
		}
		v.Offset = n
	}
	return v, nil
}

// peopleViewQuery is the query of a page of people.
func peopleViewQuery(v workflow.PeopleView) url.Values {
	u := url.Values{}
	if v.LeftOut {
		u.Set("show", "left_out")
	}
	if v.Offset > 0 {
		u.Set("from", strconv.Itoa(v.Offset))
	}
	return u
}
