package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"roster"
	"roster/internal/workflow"
)

// Enabling a workflow that acts on people in Miro is confirmed first: its
// Enable buttons link to GET /workflows/enable/{id}, which says in words
// what it does on its trigger and how many people it would act on now,
// and whose form posts POST /workflows/{id}/enable with confirm=1. (The
// page is not /workflows/{id}/enable for GET: the ServeMux would refuse
// it as conflicting with GET /workflows/runs/{id}, as for edit.) A
// workflow that only notifies, waits or asks enables at once. The YAML
// editor's save of "enabled: true" is not asked again: it is explicit.

// workflowEnablePage is the confirmation's data.
type workflowEnablePage struct {
	Page
	workflowNav
	Workflow     roster.Workflow
	TriggerWords string
	Enabling     *workflow.Enabling
	Errors       []roster.WorkflowFieldError
}

// workflowEnableConfirm is GET /workflows/enable/{id}: what enabling the
// workflow would do, and the form that does it.
func (s *Server) workflowEnableConfirm(w http.ResponseWriter, r *http.Request) error {
	wf, err := s.loadWorkflow(r)
	if err != nil {
		return err
	}
	href := "/workflows/" + strconv.FormatInt(wf.ID, 10)
	if wf.Enabled {
		http.Redirect(w, r, href, http.StatusSeeOther)
		return nil
	}
	p := workflowEnablePage{Page: s.page(r, "Enable "+wf.Name), workflowNav: workflowNav{"list"}, Workflow: wf,
		TriggerWords: triggerWords(wf.Trigger)}
	en, err := s.wf.PreviewEnable(r.Context(), wf)
	var fe roster.WorkflowErrors
	if errors.As(err, &fe) {
		p.Errors = fe
		s.render(w, r, http.StatusUnprocessableEntity, "workflow_enable", p)
		return nil
	}
	if err != nil {
		return fmt.Errorf("preview enabling workflow %d: %w", wf.ID, err)
	}
	p.Enabling = &en
	s.render(w, r, http.StatusOK, "workflow_enable", p)
	return nil
}

// unconfirmedEnable is the refusal of a POST that would enable wf, which
// acts on people, without the confirmation page's confirm field; nil when
// the request may go on.
func unconfirmedEnable(r *http.Request, wf roster.Workflow) error {
	if wf.Enabled || !workflow.Acts(wf) || r.PostFormValue("confirm") == "1" {
		return nil
	}
	return &httpError{Status: http.StatusBadRequest,
		Message: fmt.Sprintf("%s acts on people in Miro, so enabling it is confirmed first: its confirmation page says what it would do. Nothing was changed; it is still disabled.", wf.Name),
		Href:    "/workflows/enable/" + strconv.FormatInt(wf.ID, 10), HrefLabel: "What enabling it would do"}
}

// Acts says whether the workflow acts on people in Miro, so that its
// Enable button goes to the confirmation page.
func (p workflowPageData) Acts() bool { return workflow.Acts(p.Workflow) }

// Acts says whether the workflow to enable acts on people in Miro.
func (p workflowEnablePage) Acts() bool { return workflow.Acts(p.Workflow) }

// Acts says whether the row's workflow acts on people in Miro.
func (r workflowRow) Acts() bool { return workflow.Acts(r.Workflow) }
