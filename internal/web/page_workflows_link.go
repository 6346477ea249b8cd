package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"roster"
	"roster/internal/store"
	"roster/internal/workflow"
)

// approvalLinkData is the public page an approval link opens.
type approvalLinkData struct {
	Page
	Status   int
	Action   string // the form's URL: the link itself
	Approve  bool
	Workflow string
	Email    string
	Approver string
	Expires  time.Time
	// Answered: the answer was recorded now (Thank you), or earlier
	// (Message says how).
	Answered bool
	Message  string
}

// approvalLinkPage is GET /approvals/{token}: it checks the link and asks
// to confirm. It never decides: mail scanners and link previews fetch
// links, so only the confirm form's POST answers.
func (s *Server) approvalLinkPage(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	a, approve, err := s.wf.OpenLink(r.Context(), token)
	if err != nil {
		return s.approvalLinkFail(w, r, err)
	}
	d := approvalLinkData{Page: s.page(r, "Approval"), Status: http.StatusOK, Action: "/approvals/" + token, Approve: approve, Approver: a.Approver, Expires: a.ExpiresAt}
	run, err := s.store.Run(r.Context(), a.RunID)
	if err != nil {
		return fmt.Errorf("load run %d: %w", a.RunID, err)
	}
	d.Workflow, d.Email = run.WorkflowName, run.Email
	switch {
	case a.Status != roster.ApprovalPending:
		return s.approvalLinkFail(w, r, fmt.Errorf("%w (%s by %s)", workflow.ErrDecided, humanStatus(a.Status), actorName(a.DecidedBy)))
	case !run.Status.Live():
		return s.approvalLinkFail(w, r, fmt.Errorf("%w: its run %d is %s", workflow.ErrDecided, run.ID, run.Status))
	}
	s.render(w, r, http.StatusOK, "approval_link", d)
	return nil
}

// approvalLinkSubmit is POST /approvals/{token}: the confirmed answer
// (workflow.DecideByLink), recorded as "link:<approver>".
func (s *Server) approvalLinkSubmit(w http.ResponseWriter, r *http.Request) error {
	a, err := s.wf.DecideByLink(r.Context(), r.PathValue("token"))
	if err != nil {
		return s.approvalLinkFail(w, r, err)
	}
	d := approvalLinkData{Page: s.page(r, "Approval"), Status: http.StatusOK, Answered: true,
		Approve: a.Status == roster.ApprovalApproved, Approver: a.Approver}
	if run, err := s.store.Run(r.Context(), a.RunID); err == nil {
		d.Workflow, d.Email = run.WorkflowName, run.Email
	}
	s.render(w, r, http.StatusOK, "approval_link", d)
	return nil
}

// approvalLinkFail shows why a link cannot answer: 403 for a link roster
// did not sign (or that was altered), 410 past its expiry, 409 when the
// approval was already answered.
func (s *Server) approvalLinkFail(w http.ResponseWriter, r *http.Request, err error) error {
	d := approvalLinkData{Page: s.page(r, "Approval")}
	switch {
	case errors.Is(err, workflow.ErrLinkInvalid):
		d.Status, d.Message = http.StatusForbidden, "This link is not valid: it was altered, cut short, or not made by this roster. Ask for the approval again, or answer it in roster."
	case errors.Is(err, workflow.ErrLinkExpired):
		d.Status, d.Message = http.StatusGone, capitalize(err.Error())+". Without an answer in time the workflow took its timeout branch."
	case errors.Is(err, workflow.ErrDecided):
		d.Status, d.Message = http.StatusConflict, capitalize(err.Error())+"; nothing was changed."
	case errors.Is(err, store.ErrNotFound):
		d.Status, d.Message = http.StatusNotFound, "This approval no longer exists."
	default:
		return err
	}
	d.Title = "Approval link"
	s.render(w, r, d.Status, "approval_link", d)
	return nil
}

func humanStatus(st roster.ApprovalStatus) string {
	if st == roster.ApprovalTimedOut {
		return "timed out"
	}
	return string(st)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
