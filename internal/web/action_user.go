package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"roster"
	"roster/internal/action"
)

// userAction runs one of the user page's action dialogs' forms. It reads
// the form into an action.Request and hands it to the action runner,
// which holds the one validation every entry point reaches: a bad request
// comes back as an *action.FieldError, nothing written, and the dialog is
// shown again with the error. A recorded action (succeeded, refused,
// failed or still running) sends the browser to the user page showing it
// (Post/Redirect/Get, so a reload does not post again). The form's key,
// made when the dialog was rendered, makes a double submit or a retry
// after a lost answer return the first outcome. Only the operator's
// confirmation (confirm, sent by the dialog's button) is the form's own
// check.
func (s *Server) userAction(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		return err
	}
	name := r.PathValue("kind")
	k, ok := userActionKinds[name]
	if !ok {
		return errNotFound("No such action: " + name + " (invite, remove, role, deactivate, reactivate, signout or remove-all).")
	}
	if s.actions == nil {
		return &httpError{Status: http.StatusServiceUnavailable, Message: "Actions are not available in this roster process."}
	}
	acc, err := s.store.Account(ctx, id)
	if err != nil {
		return fmt.Errorf("load account %d: %w", id, err)
	}

	sub := &submitted{teamID: strings.TrimSpace(r.PostFormValue("team")), values: map[string]string{}, errors: map[string]string{}}
	sub.connectionID, _ = strconv.ParseInt(r.PostFormValue("connection"), 10, 64)
	for _, field := range []string{"team", "role", "email", "service_account"} {
		if v, ok := r.PostForm[field]; ok {
			sub.values[field] = strings.Join(v, "")
		}
	}
	if k.confirm != "" && r.PostFormValue("confirm") == "" {
		sub.errors["confirm"] = k.confirm
		return s.showActionErrors(w, r, id, sub)
	}

	key := r.PostFormValue("key")
	req := action.Request{Key: key, ConnectionID: sub.connectionID, MiroTeamID: sub.teamID,
		MiroUserID: acc.MiroUserID, Role: r.PostFormValue("role"), Actor: authOf(r).Actor()}
	if k.kind == roster.ActionInvite {
		// An invite goes by email: Miro matches it to the person.
		req.Email, req.MiroUserID = r.PostFormValue("email"), ""
	}
	if name == kindRemoveAll {
		req.MiroTeamID, req.ServiceAccountEmail = "", r.PostFormValue("service_account")
		sum, err := s.actions.RemoveFromAllTeams(ctx, req)
		if err == nil {
			return s.showAllTeams(w, r, id, key, sub.connectionID, req.ServiceAccountEmail, sum)
		}
		return s.actionFailed(w, r, id, sub, k.kind, err)
	}
	a, err := k.run(s.actions, r, req)
	// A recorded action is shown on the user page, whatever err.
	if a.Key != "" {
		http.Redirect(w, r, resultURL(id, a.Key), http.StatusSeeOther)
		return nil
	}
	return s.actionFailed(w, r, id, sub, k.kind, err)
}

// actionFailed answers an action the runner did not record: a bad
// request is shown beside its field, anything else is roster's failure.
func (s *Server) actionFailed(w http.ResponseWriter, r *http.Request, id int64, sub *submitted, kind roster.ActionKind, err error) error {
	var fe *action.FieldError
	if errors.As(err, &fe) {
		sub.errors[formField(fe.Field)] = fieldMessage(fe)
		return s.showActionErrors(w, r, id, sub)
	}
	if err == nil {
		err = errors.New("the runner returned no action and no error")
	}
	return fmt.Errorf("%s: %w", kind, err)
}

// formField is the form field an action.FieldError names; the key, the
// connection, the user and the actor are not fields the operator can
// change, so their errors are the form's ("").
func formField(actionField string) string {
	switch actionField {
	case "team", "email", "role":
		return actionField
	case "service account":
		return "service_account"
	}
	return ""
}

// fieldMessage puts an action's field error in a sentence: "Email is
// required: whom to invite." for a reason that continues the field's
// name, the reason alone otherwise.
func fieldMessage(fe *action.FieldError) string {
	msg := fe.Reason
	for _, start := range []string{"is ", "must ", "was "} {
		if strings.HasPrefix(msg, start) {
			msg = fe.Field + " " + msg
			break
		}
	}
	return sentence(msg)
}

// userActionKind is one action of the user page, as it appears in
// /users/{id}/actions/{kind}.
type userActionKind struct {
	kind       roster.ActionKind
	capability string // the connection capability it needs
	label      string // the button of organization-wide kinds
	confirm    string // the error when it comes without its confirmation
	run        func(*action.Runner, *http.Request, action.Request) (roster.Action, error)
}

// kindRemoveAll is the removal from every team of a connection. Each
// team's removal is recorded under its own key (key:team).
const kindRemoveAll = "remove-all"

// userActionKinds are the user page's actions.
var userActionKinds = map[string]userActionKind{
	"invite": {kind: roster.ActionInvite, capability: roster.CapManage,
		run: func(a *action.Runner, r *http.Request, q action.Request) (roster.Action, error) {
			return a.Invite(r.Context(), q)
		}},
	"remove": {kind: roster.ActionRemove, capability: roster.CapManage, confirm: "Confirm the removal with its button.",
		run: func(a *action.Runner, r *http.Request, q action.Request) (roster.Action, error) {
			q.Role = ""
			return a.Remove(r.Context(), q)
		}},
	"role": {kind: roster.ActionChangeRole, capability: roster.CapManage,
		run: func(a *action.Runner, r *http.Request, q action.Request) (roster.Action, error) {
			return a.ChangeRole(r.Context(), q)
		}},
	"deactivate": {kind: roster.ActionDeactivate, capability: roster.CapDeactivate, label: "Deactivate", confirm: confirmFirst,
		run: func(a *action.Runner, r *http.Request, q action.Request) (roster.Action, error) {
			return a.Deactivate(r.Context(), orgWide(q))
		}},
	"reactivate": {kind: roster.ActionReactivate, capability: roster.CapDeactivate, label: "Reactivate", confirm: confirmFirst,
		run: func(a *action.Runner, r *http.Request, q action.Request) (roster.Action, error) {
			return a.Reactivate(r.Context(), orgWide(q))
		}},
	"signout": {kind: roster.ActionSignOut, capability: roster.CapSignOut, label: "Sign out of every session", confirm: confirmFirst,
		run: func(a *action.Runner, r *http.Request, q action.Request) (roster.Action, error) {
			return a.SignOut(r.Context(), orgWide(q))
		}},
	kindRemoveAll: {kind: roster.ActionRemove, capability: roster.CapManage, label: "Remove from every team", confirm: confirmFirst},
}

// confirmFirst is the error of an organization-wide form posted without
// its confirmation (the dialog's button sends it).
const confirmFirst = "Confirm the action with its button."

// orgKindNames are the organization-wide kinds, in the page's order.
var orgKindNames = []string{"deactivate", "reactivate", "signout", kindRemoveAll}

// orgWide is a request for an organization-wide action: no team, no role.
func orgWide(q action.Request) action.Request {
	q.MiroTeamID, q.Role = "", ""
	return q
}

// showActionErrors shows the action's dialog again, 400, with the
// submission's errors.
func (s *Server) showActionErrors(w http.ResponseWriter, r *http.Request, id int64, sub *submitted) error {
	return s.showDialog(w, r, id, http.StatusBadRequest, sub)
}

// submitted is an action form that came back with errors, so that its
// dialog shows it again with them.
type submitted struct {
	connectionID int64
	teamID       string
	values       map[string]string
	errors       map[string]string
}

// resultURL is the user page showing the outcome of the action with key.
func resultURL(userID int64, key string) string {
	return fmt.Sprintf("/users/%d?done=%s#result", userID, url.QueryEscape(key))
}

// showAllTeams shows the user page with a removal from every team's
// outcome, team by team.
func (s *Server) showAllTeams(w http.ResponseWriter, r *http.Request, id int64, key string, connID int64, svc string, sum action.AllTeamsSummary) error {
	p, err := s.loadUserPage(r, id)
	if err != nil {
		return err
	}
	v := &allTeamsView{Email: p.Account.Email, Teams: sum.Teams}
	v.Removed, v.Skipped, v.Failed = sum.Counts()
	if v.Failed > 0 {
		// The same key again: finished teams are not repeated, and a
		// failed team's removal asks Miro first.
		v.Retry = &actionForm{Kind: kindRemoveAll, Button: "Retry the failed teams", Action: fmt.Sprintf("/users/%d/actions/%s", id, kindRemoveAll),
			Key: key, ConnectionID: connID, ServiceAccount: svc, CSRF: p.CSRF}
	}
	p.AllTeams = v
	s.render(w, r, http.StatusOK, "user", p)
	return nil
}

// allTeamsView is a removal from every team's outcome, team by team.
type allTeamsView struct {
	Email                    string
	Teams                    []action.TeamOutcome
	Removed, Skipped, Failed int
	Retry                    *actionForm // the same key again, when a team failed
}
