package api

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"roster"
	"roster/internal/action"
	"roster/internal/store"
)

// apiActionRequest is the body of POST /api/v1/actions.
type apiActionRequest struct {
	Kind           string `json:"kind"`
	ConnectionID   int64  `json:"connection_id"`
	TeamID         string `json:"team_id"`
	Email          string `json:"email"`
	UserID         string `json:"user_id"`
	Role           string `json:"role"`
	IdempotencyKey string `json:"idempotency_key"`
}

// maxAPIBody bounds a request body; an action is a few hundred bytes.
const maxAPIBody = 64 << 10

// apiAction is POST /api/v1/actions: invite to, remove from, or change
// the role in a team. The body becomes an action.Request for the runner,
// which validates it (a bad field is a 400 naming it, nothing written),
// makes it idempotent by its key, refuses what the connection cannot do,
// calls Miro and audits.
func (s *Server) apiAction(w http.ResponseWriter, r *http.Request) error {
	var body apiActionRequest
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	key, err := apiIdempotencyKey(r, body.IdempotencyKey)
	if err != nil {
		return err
	}
	if s.actions == nil {
		return errNoActions
	}
	req := action.Request{Key: key, ConnectionID: body.ConnectionID, MiroTeamID: body.TeamID,
		Email: body.Email, MiroUserID: body.UserID, Role: body.Role, Actor: callerOf(r).Actor}
	kind := roster.ActionKind(body.Kind)
	var a roster.Action
	switch kind {
	case roster.ActionInvite:
		a, err = s.actions.Invite(r.Context(), req)
	case roster.ActionRemove:
		a, err = s.actions.Remove(r.Context(), req)
	case roster.ActionChangeRole:
		a, err = s.actions.ChangeRole(r.Context(), req)
	case "":
		return invalidField("kind", "kind is required: invite_to_team, remove_from_team or change_team_role")
	default:
		return invalidField("kind", "kind must be invite_to_team, remove_from_team or change_team_role, got %q", body.Kind)
	}
	return writeActionOutcome(w, kind, a, err)
}

// errNoActions answers an action asked of a process that runs none.
var errNoActions = apiErr(http.StatusServiceUnavailable, "internal", "", "Actions are not available in this roster process.")

// apiIdempotencyKey is a request's idempotency key: the body's, or the
// Idempotency-Key header's (the two must agree when both are sent).
func apiIdempotencyKey(r *http.Request, body string) (string, error) {
	key := strings.TrimSpace(body)
	if h := strings.TrimSpace(r.Header.Get("Idempotency-Key")); h != "" {
		if key != "" && key != h {
			return "", invalidField("idempotency_key", "idempotency_key and the Idempotency-Key header differ; send one of them")
		}
		key = h
	}
	if key == "" {
		// Said here rather than by the runner, to name the header too.
		return "", invalidField("idempotency_key", "idempotency_key (or the Idempotency-Key header) is required: the same key never acts twice, so a retry is safe")
	}
	return key, nil
}

// writeActionOutcome answers with the recorded action a: 200 succeeded,
// 422 refused, 409 still running, 502 failed. With no action recorded
// (a bad field, or roster's own failure) it returns err for fail.
func writeActionOutcome(w http.ResponseWriter, kind roster.ActionKind, a roster.Action, err error) error {
	if a.Key == "" {
		// Nothing was recorded: a bad field, or roster's own failure.
		if err == nil {
			err = fmt.Errorf("%s: the runner returned no action and no error", kind)
		}
		return err
	}
	data := ActionOf(a)
	switch a.Status {
	case roster.ActionSucceeded:
		writeJSON(w, http.StatusOK, One[Action]{data})
		return nil
	case roster.ActionRefused:
		return &apiError{Status: http.StatusUnprocessableEntity, Code: "refused", Message: a.Result, Data: data}
	case roster.ActionPending:
		return &apiError{Status: http.StatusConflict, Code: "conflict", Data: data,
			Message: "An action with this idempotency key is still running; retry later with the same key."}
	}
	// Failed: recorded, and retrying the same key checks Miro first.
	return &apiError{Status: http.StatusBadGateway, Code: "failed", Data: data,
		Message: "The action could not be done (" + a.Result + "); retry with the same idempotency key: roster checks Miro before acting again."}
}

// decodeJSON reads a JSON object body, refusing unknown fields by name.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	return decodeJSONUpTo(w, r, v, maxAPIBody)
}

// decodeJSONUpTo is decodeJSON for a body of at most limit bytes.
func decodeJSONUpTo(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return invalidField("body", "the body must be JSON (Content-Type: application/json), got %q", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return apiErr(http.StatusRequestEntityTooLarge, "too_large", "body", fmt.Sprintf("The body is over %d KB.", tooBig.Limit>>10))
		}
		field, msg := roster.JSONProblem(err)
		return invalidField(cmp.Or(field, "body"), "%s", msg)
	}
	if dec.More() {
		return invalidField("body", "the body must hold one JSON object")
	}
	return nil
}

// apiSync is POST /api/v1/connections/{id}/sync: queue a sync now. A
// sync already queued or running absorbs the request (queued false).
func (s *Server) apiSync(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	id, err := pathIDOf(r, "connection")
	if err != nil {
		return err
	}
	conn, err := s.store.Connection(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return apiErr(http.StatusNotFound, "not_found", "", fmt.Sprintf("No connection %d.", id))
	}
	if err != nil {
		return fmt.Errorf("load connection %d: %w", id, err)
	}
	if conn.Status == roster.StatusDisconnected {
		return apiErr(http.StatusConflict, "conflict", "", fmt.Sprintf("Connection %d is disconnected; connect it again before syncing.", id))
	}
	if s.jobs == nil {
		return apiErr(http.StatusServiceUnavailable, "internal", "", "This roster runs no sync workers, so it cannot queue a sync; use roster sync.")
	}
	queued, err := s.jobs.EnqueueSync(ctx, id)
	if err != nil {
		return fmt.Errorf("queue a sync of connection %d: %w", id, err)
	}
	detail := "sync queued"
	if !queued {
		detail = "a sync was already queued or running"
	}
	s.guard.Audit(r, roster.AuditEntry{Actor: callerOf(r).Actor, Kind: "sync", Action: "sync_now",
		Target: fmt.Sprintf("connection %d", id), ConnectionID: id, Result: "ok", Detail: detail})
	writeJSON(w, http.StatusAccepted, One[SyncQueued]{SyncQueued{ConnectionID: id, Queued: queued}})
	return nil
}

type SyncQueued struct {
	ConnectionID int64 `json:"connection_id"`
	Queued       bool  `json:"queued"`
}

// apiOrgActionRequest is the body of the organization-wide actions:
// POST /api/v1/actions/deactivate, /reactivate and /sign-out.
type apiOrgActionRequest struct {
	ConnectionID   int64  `json:"connection_id"`
	Email          string `json:"email"`
	UserID         string `json:"user_id"`
	IdempotencyKey string `json:"idempotency_key"`
}

// apiRemoveAllRequest is the body of POST
// /api/v1/actions/remove-from-all-teams.
type apiRemoveAllRequest struct {
	ConnectionID        int64  `json:"connection_id"`
	Email               string `json:"email"`
	UserID              string `json:"user_id"`
	ServiceAccountEmail string `json:"service_account_email"`
	IdempotencyKey      string `json:"idempotency_key"`
}

// apiDeactivate is POST /api/v1/actions/deactivate: deactivate the person
// in the organization through SCIM, freeing their paid license.
func (s *Server) apiDeactivate(w http.ResponseWriter, r *http.Request) error {
	return s.apiOrgAction(w, r, roster.ActionDeactivate)
}

// apiReactivate is POST /api/v1/actions/reactivate.
func (s *Server) apiReactivate(w http.ResponseWriter, r *http.Request) error {
	return s.apiOrgAction(w, r, roster.ActionReactivate)
}

// apiSignOut is POST /api/v1/actions/sign-out: sign the person out of
// every Miro session.
func (s *Server) apiSignOut(w http.ResponseWriter, r *http.Request) error {
	return s.apiOrgAction(w, r, roster.ActionSignOut)
}

// apiOrgAction runs an organization-wide action as apiAction runs a team
// action: the body becomes a request for the runner (idempotent by key,
// refusing what the connection or the person's role rules out, audited),
// with the same answers.
func (s *Server) apiOrgAction(w http.ResponseWriter, r *http.Request, kind roster.ActionKind) error {
	var body apiOrgActionRequest
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	req, err := s.apiOrgRequest(r, body)
	if err != nil {
		return err
	}
	var a roster.Action
	switch kind {
	case roster.ActionDeactivate:
		a, err = s.actions.Deactivate(r.Context(), req)
	case roster.ActionReactivate:
		a, err = s.actions.Reactivate(r.Context(), req)
	case roster.ActionSignOut:
		a, err = s.actions.SignOut(r.Context(), req)
	}
	return writeActionOutcome(w, kind, a, err)
}

// apiOrgRequest is the request of an organization-wide body.
func (s *Server) apiOrgRequest(r *http.Request, body apiOrgActionRequest) (action.Request, error) {
	key, err := apiIdempotencyKey(r, body.IdempotencyKey)
	if err != nil {
		return action.Request{}, err
	}
	if s.actions == nil {
		return action.Request{}, errNoActions
	}
	return action.Request{Key: key, ConnectionID: body.ConnectionID, Email: body.Email, MiroUserID: body.UserID,
		Actor: callerOf(r).Actor}, nil
}

// AllTeams is a removal from every team's outcome.
type AllTeams struct {
	Teams   []TeamOutcome `json:"teams"`
	Removed int           `json:"removed"`
	Skipped int           `json:"skipped"`
	Failed  int           `json:"failed"`
}

type TeamOutcome struct {
	TeamID   string   `json:"team_id"`
	TeamName string   `json:"team_name"`
	Outcome  string   `json:"outcome"`
	Reason   string   `json:"reason"`
	Actions  []Action `json:"actions"`
}

// apiRemoveFromAllTeams is POST /api/v1/actions/remove-from-all-teams:
// remove the person from every team of the connection, each team under
// the key idempotency_key + ":" + team id, so a retry with the same key
// repeats no finished team. A valid request answers 200 with each team's
// outcome (removed, skipped: last admin and no service account, failed),
// since one team's failure does not undo another's removal.
func (s *Server) apiRemoveFromAllTeams(w http.ResponseWriter, r *http.Request) error {
	var body apiRemoveAllRequest
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	req, err := s.apiOrgRequest(r, apiOrgActionRequest{ConnectionID: body.ConnectionID, Email: body.Email, UserID: body.UserID, IdempotencyKey: body.IdempotencyKey})
	if err != nil {
		return err
	}
	req.ServiceAccountEmail = body.ServiceAccountEmail
	sum, err := s.actions.RemoveFromAllTeams(r.Context(), req)
	if err != nil {
		return err
	}
	out := AllTeams{Teams: make([]TeamOutcome, 0, len(sum.Teams))}
	out.Removed, out.Skipped, out.Failed = sum.Counts()
	for _, t := range sum.Teams {
		o := TeamOutcome{TeamID: t.MiroTeamID, TeamName: t.TeamName, Outcome: t.Outcome, Reason: t.Reason, Actions: make([]Action, 0, len(t.Actions))}
		for _, a := range t.Actions {
			o.Actions = append(o.Actions, ActionOf(a))
		}
		out.Teams = append(out.Teams, o)
	}
	writeJSON(w, http.StatusOK, One[AllTeams]{out})
	return nil
}
