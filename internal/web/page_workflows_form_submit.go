package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"roster"
	"roster/internal/workflow"
)

// workflowFormSubmit is a post from the editor's form view: its values
// are written onto the YAML it carries (workflow.EditYAML), its row
// operation applied, then the op: a view switch, or check, dry run, save.
func (s *Server) workflowFormSubmit(w http.ResponseWriter, r *http.Request, ed *workflowEditor, op string) error {
	ed.View = "form"
	fop, rowOp, err := parseFormOp(op, r.PostFormValue("add-step-kind"))
	if err != nil {
		return err
	}
	values := formValues(r)
	text, errs, err := workflow.EditYAML(ed.YAML, values, fop)
	if errors.Is(err, workflow.ErrFormOp) {
		return errBadRequest(err.Error())
	}
	if err != nil {
		return err
	}
	ed.YAML = text
	if errs != nil {
		// A value that cannot be written (a duration that is none) is
		// shown as typed beside its input; the others are written.
		return s.renderForm(w, r, ed, http.StatusUnprocessableEntity, errs, values)
	}
	switch {
	case op == "view-yaml":
		ed.View = "yaml"
		s.render(w, r, http.StatusOK, "workflow_edit", ed)
		return nil
	case rowOp, op == "view-form", op == "refresh":
		return s.renderForm(w, r, ed, http.StatusOK, nil, nil)
	case op == "check", op == "dry-run", op == "save":
		return s.workflowDecide(w, r, ed, op)
	}
	return errBadRequest(fmt.Sprintf("op must be check, dry-run, save, view-yaml or a change to the form's rows, got %q.", op))
}

// renderEditor shows the editor in its view, with errs.
func (s *Server) renderEditor(w http.ResponseWriter, r *http.Request, ed *workflowEditor, code int, errs roster.WorkflowErrors) error {
	if ed.View == "form" {
		return s.renderForm(w, r, ed, code, errs, nil)
	}
	ed.Errors = errs
	s.render(w, r, code, "workflow_edit", ed)
	return nil
}

// renderForm shows the editor's form view of ed.YAML, with errs beside
// their inputs (posted: what was typed into them); a text the form
// cannot show is shown in the YAML view.
func (s *Server) renderForm(w http.ResponseWriter, r *http.Request, ed *workflowEditor, code int, errs roster.WorkflowErrors, posted map[string]string) error {
	f, ok, err := s.buildWorkflowForm(r.Context(), ed.YAML, errs, posted)
	if err != nil {
		return err
	}
	ed.Errors, ed.Form, ed.View = errs, f, "form"
	if !ok {
		ed.Form, ed.View = nil, "yaml"
		if errs == nil {
			_, ed.Errors, err = s.parseOne(r, ed.YAML)
			if err != nil {
				return err
			}
		}
	}
	s.render(w, r, code, "workflow_edit", ed)
	return nil
}

// formFields are the editor's own fields, not the form's inputs.
var formFields = map[string]bool{"csrf": true, "op": true, "view": true, "yaml": true, "add-step-kind": true}

// formValues are the form's inputs by path, each its last value (so a
// checkbox's value follows the hidden "false" before it), line breaks as
// "\n".
func formValues(r *http.Request) map[string]string {
	out := map[string]string{}
	for k, vs := range r.PostForm {
		if !formFields[k] && len(vs) > 0 {
			out[k] = oneNewline(vs[len(vs)-1])
		}
	}
	return out
}

// oneNewline writes a form's line breaks (CRLF) as "\n".
func oneNewline(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// parseFormOp reads a row operation: "add-condition", "add-step" (of
// kind), "remove-condition:0", "remove-step:1", "step-up:2",
// "step-down:2", "add-on-failure", "remove-on-failure". rowOp is false
// for any other op.
func parseFormOp(op, kind string) (fop workflow.FormOp, rowOp bool, err error) {
	name, index, indexed := strings.Cut(op, ":")
	switch name {
	case workflow.OpAddCondition, workflow.OpAddOnFailure, workflow.OpRemoveOnFailure, workflow.OpAddStep:
		if indexed {
			break
		}
		return workflow.FormOp{Do: name, Kind: roster.StepKind(kind)}, true, nil
	case workflow.OpRemoveCondition, workflow.OpRemoveStep, workflow.OpStepUp, workflow.OpStepDown:
		n, err := strconv.Atoi(index)
		if !indexed || err != nil || n < 0 {
			break
		}
		return workflow.FormOp{Do: name, Index: n}, true, nil
	default:
		return workflow.FormOp{}, false, nil
	}
	return workflow.FormOp{}, false, errBadRequest(fmt.Sprintf("op %q names no row: e.g. remove-step:1.", op))
}
