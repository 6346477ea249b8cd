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
)

// FieldError is a bad action request: the field and why. An
// ActionRunner returns it (the cmd/roster adapter converts
// internal/action's) so the form can show it beside the field.
type FieldError struct {
	Field  string // "email", "team", "role", "connection", "key", "user"
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// AllTeamsResult is what ActionRunner.RemoveFromAllTeams did, team by
// team.
type AllTeamsResult struct {
	Teams []TeamResult
}

// TeamResult is a removal from every team's outcome in one team.
type TeamResult struct {
	TeamID, TeamName string
	Outcome          string // TeamRemoved, TeamSkipped or TeamFailed
	Reason           string // plain words: the removal's result, or why not
	// Actions are the actions run for the team under keys derived from
	// the request's: the service account's invite or promotion, if any,
	// then the removal.
	Actions []roster.Action
}

// Outcomes of a team in AllTeamsResult (internal/action's words).
const (
	TeamRemoved = "removed"
	TeamSkipped = "skipped"
	TeamFailed  = "failed"
)

// Counts are the removed, skipped and failed teams.
func (r AllTeamsResult) Counts() (removed, skipped, failed int) {
	for _, t := range r.Teams {
		switch t.Outcome {
		case TeamRemoved:
			removed++
		case TeamSkipped:
			skipped++
		default:
			failed++
		}
	}
	return removed, skipped, failed
}

// userAction runs invite, remove or change-role for a user from the user
// page's forms. Input is checked here first, so that a bad form changes
// nothing and gets its errors beside its fields; the runner then makes
// the action idempotent (the form's key) and audits it. The browser is
// sent to the user page showing the outcome (Post/Redirect/Get, so a
// reload does not post again). The organization-wide kinds (deactivate,
// reactivate, signout, remove-all) go to userOrgAction.
func (s *Server) userAction(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		return err
	}
	kindName := r.PathValue("kind")
	if _, ok := orgKinds[kindName]; ok {
		return s.userOrgAction(w, r, id, kindName)
	}
	kind, ok := actionKinds[kindName]
	if !ok {
		return errNotFound("No such action: " + kindName + " (invite, remove, role, deactivate, reactivate, signout or remove-all).")
	}
	acc, err := s.store.Account(ctx, id)
	if err != nil {
		return fmt.Errorf("load account %d: %w", id, err)
	}

	// A double submit, or a retry after a lost answer, carries a key
	// already used: show its outcome rather than judge the form again
	// against a store the first submit already changed.
	key := r.PostFormValue("key")
	if key != "" {
		done, err := s.store.ActionByKey(ctx, key)
		if err == nil && done.Kind == kind {
			http.Redirect(w, r, resultURL(id, done.Key), http.StatusSeeOther)
			return nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("look up action key: %w", err)
		}
	}

	sub := &submitted{kind: kindName, values: map[string]string{}, errors: map[string]string{}}
	fail := func(field, msg string) {
		if _, ok := sub.errors[field]; !ok {
			sub.errors[field] = msg
		}
	}
	sub.teamID = strings.TrimSpace(r.PostFormValue("team"))
	sub.values["team"] = sub.teamID
	role := r.PostFormValue("role")
	sub.values["role"] = role
	email := roster.NormalizeEmail(r.PostFormValue("email"))
	if kind == roster.ActionInvite {
		sub.values["email"] = r.PostFormValue("email")
	}
	if key == "" || len(key) > 100 {
		fail("", "The form has no valid idempotency key; reload the page and try again.")
	}

	// The connection must exist and be able to act.
	var conn roster.Connection
	connID, err := strconv.ParseInt(r.PostFormValue("connection"), 10, 64)
	if err == nil {
		sub.connectionID = connID
		conn, err = s.store.Connection(ctx, connID)
	}
	if err != nil {
		fail("", "Unknown connection; reload the page and try again.")
	} else if off, why := s.disabled(authOf(r), conn); off {
		fail("", "This action is disabled: "+why+".")
	}

	// The team must be one the connection covers.
	switch {
	case sub.teamID == "":
		fail("team", "Choose a team.")
	case conn.ID != 0:
		covered, err := s.store.Teams(ctx, conn.ID)
		if err != nil {
			return fmt.Errorf("list the teams of connection %d: %w", conn.ID, err)
		}
		known := slices.ContainsFunc(covered, func(t roster.Team) bool { return t.MiroTeamID == sub.teamID })
		if conn.Level == roster.LevelTeam {
			known = sub.teamID == conn.TeamID
		}
		if !known {
			fail("team", fmt.Sprintf("Unknown team %q: %s does not cover it.", sub.teamID, connLabel(conn)))
		}
	}

	members, err := s.store.AccountMemberships(ctx, id)
	if err != nil {
		return fmt.Errorf("load memberships: %w", err)
	}
	isMember := slices.ContainsFunc(members, func(m roster.Membership) bool { return m.MiroTeamID == sub.teamID })
	switch kind {
	case roster.ActionInvite:
		if !roster.ValidEmail(email) {
			fail("email", "Enter an email address, like ann@example.com.")
		}
		if !slices.Contains(roster.AssignableTeamRoles, role) {
			fail("role", "Choose member or admin.")
		}
		if isMember && sub.errors["team"] == "" {
			fail("team", "Already a member of this team.")
		}
	case roster.ActionChangeRole:
		if !slices.Contains(roster.AssignableTeamRoles, role) {
			fail("role", "Choose member or admin.")
		}
		if !isMember && sub.errors["team"] == "" {
			fail("team", "Not a member of this team.")
		}
	case roster.ActionRemove:
		if !isMember && sub.errors["team"] == "" {
			fail("team", "Not a member of this team.")
		}
		if r.PostFormValue("confirm") == "" {
			fail("confirm", "Tick the box to confirm the removal.")
		}
	}
	if len(sub.errors) > 0 {
		return s.showActionErrors(w, r, id, sub)
	}

	req := ActionRequest{Key: key, ConnectionID: conn.ID, MiroTeamID: sub.teamID, MiroUserID: acc.MiroUserID, Role: role, Actor: authOf(r).actor()}
	var a roster.Action
	switch kind {
	case roster.ActionInvite:
		// An invite goes by email: Miro matches it to the person.
		req.Email, req.MiroUserID = email, ""
		a, err = s.actions.Invite(ctx, req)
	case roster.ActionRemove:
		req.Email, req.Role = acc.Email, ""
		a, err = s.actions.Remove(ctx, req)
	case roster.ActionChangeRole:
		req.Email = acc.Email
		a, err = s.actions.ChangeRole(ctx, req)
	}
	// A recorded action (succeeded, refused by Miro or roster, failed, or
	// still running elsewhere) is shown on the user page, whatever err.
	if a.Key != "" {
		http.Redirect(w, r, resultURL(id, a.Key), http.StatusSeeOther)
		return nil
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		field := fe.Field
		if field != "email" && field != "team" && field != "role" {
			field = ""
		}
		fail(field, fe.Reason)
		return s.showActionErrors(w, r, id, sub)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	return fmt.Errorf("%s: the runner returned no action and no error", kind)
}

// showActionErrors shows the user page again, 400, with the submitted
// form's errors beside its fields.
func (s *Server) showActionErrors(w http.ResponseWriter, r *http.Request, id int64, sub *submitted) error {
	p, err := s.loadUserPage(r, id, sub)
	if err != nil {
		return err
	}
	if p.FormError == "" {
		p.FormError = "The action was not run: correct the fields marked below."
	} else {
		p.FormError = "The action was not run: " + p.FormError
	}
	s.render(w, r, http.StatusBadRequest, "user", p)
	return nil
}

// resultURL is the user page showing the outcome of the action with key.
func resultURL(userID int64, key string) string {
	return fmt.Sprintf("/users/%d?done=%s#result", userID, url.QueryEscape(key))
}

// userOrgAction runs an organization-wide action from the user page:
// deactivate, reactivate, sign out, or remove from every team of a
// connection. As userAction: the form is checked first (nothing written
// when bad), then the runner records, acts and audits under the form's
// key. A guest's deactivation is left to the runner, which refuses and
// records it, so the refusal shows with its reason. Removal from every
// team has no single action to redirect to: its team-by-team outcome is
// shown at once, and posting it again repeats no finished team.
func (s *Server) userOrgAction(w http.ResponseWriter, r *http.Request, id int64, kindName string) error {
	ctx := r.Context()
	k := orgKinds[kindName]
	acc, err := s.store.Account(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound("No such user.")
	}
	if err != nil {
		return fmt.Errorf("load account %d: %w", id, err)
	}

	// A double submit shows the first outcome; a failed key is retried
	// (the runner asks Miro first whether it was done).
	key := r.PostFormValue("key")
	if key != "" && kindName != kindRemoveAll {
		done, err := s.store.ActionByKey(ctx, key)
		if err == nil && done.Kind == k.kind && done.Status != roster.ActionFailed {
			http.Redirect(w, r, resultURL(id, done.Key), http.StatusSeeOther)
			return nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("look up action key: %w", err)
		}
	}

	sub := &submitted{kind: kindName, values: map[string]string{}, errors: map[string]string{}}
	fail := func(field, msg string) {
		if _, ok := sub.errors[field]; !ok {
			sub.errors[field] = msg
		}
	}
	if key == "" || len(key) > 100 {
		fail("", "The form has no valid idempotency key; reload the page and try again.")
	}
	var conn roster.Connection
	connID, err := strconv.ParseInt(r.PostFormValue("connection"), 10, 64)
	if err == nil {
		sub.connectionID = connID
		conn, err = s.store.Connection(ctx, connID)
	}
	if err != nil {
		fail("", "Unknown connection; reload the page and try again.")
	} else if off, why := s.disabledFor(authOf(r), conn, k.capability); off {
		fail("", "This action is disabled: "+why+".")
	}
	svc := roster.NormalizeEmail(r.PostFormValue("service_account"))
	if kindName == kindRemoveAll {
		sub.values["service_account"] = r.PostFormValue("service_account")
		if svc != "" && !roster.ValidEmail(svc) {
			fail("service_account", "Enter the service account's email, like miro-admin@example.com, or leave it empty.")
		}
	}
	if r.PostFormValue("confirm") == "" {
		fail("confirm", "Tick the box to confirm.")
	}
	if len(sub.errors) > 0 {
		return s.showActionErrors(w, r, id, sub)
	}

	req := ActionRequest{Key: key, ConnectionID: conn.ID, MiroUserID: acc.MiroUserID, Actor: authOf(r).actor()}
	var a roster.Action
	switch kindName {
	case "deactivate":
		a, err = s.actions.Deactivate(ctx, req)
	case "reactivate":
		a, err = s.actions.Reactivate(ctx, req)
	case "signout":
		a, err = s.actions.SignOut(ctx, req)
	case kindRemoveAll:
		req.ServiceAccountEmail = svc
		var res AllTeamsResult
		if res, err = s.actions.RemoveFromAllTeams(ctx, req); err == nil {
			return s.showAllTeams(w, r, id, key, conn.ID, svc, res)
		}
	}
	if a.Key != "" {
		http.Redirect(w, r, resultURL(id, a.Key), http.StatusSeeOther)
		return nil
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		field := ""
		if fe.Field == "service account" {
			field = "service_account"
		}
		fail(field, fe.Reason)
		return s.showActionErrors(w, r, id, sub)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", k.kind, err)
	}
	return fmt.Errorf("%s: the runner returned no action and no error", k.kind)
}

// showAllTeams shows the user page with a removal from every team's
// outcome, team by team.
func (s *Server) showAllTeams(w http.ResponseWriter, r *http.Request, id int64, key string, connID int64, svc string, res AllTeamsResult) error {
	p, err := s.loadUserPage(r, id, nil)
	if err != nil {
		return err
	}
	v := &allTeamsView{Email: p.Account.Email, Teams: res.Teams}
	v.Removed, v.Skipped, v.Failed = res.Counts()
	if v.Failed > 0 {
		// The same key again: finished teams are not repeated, and a
		// failed team's removal asks Miro first.
		v.Retry = &actionForm{Kind: kindRemoveAll, Label: "Retry the failed teams", Action: fmt.Sprintf("/users/%d/actions/%s", id, kindRemoveAll),
			Key: key, ConnectionID: connID, ServiceAccount: svc, CSRF: p.CSRF}
	}
	p.AllTeams = v
	s.render(w, r, http.StatusOK, "user", p)
	return nil
}
