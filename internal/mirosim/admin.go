package mirosim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// adminRoutes serves /_sim, the simulator's own control API. It has no
// auth (a local tool), no faults, no rate limit and no accounting, so that
// benchmarks reading the stats do not disturb them.
func (s *Sim) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /_sim/info", s.adminInfo)
	mux.HandleFunc("GET /_sim/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	mux.HandleFunc("POST /_sim/stats/reset", func(w http.ResponseWriter, r *http.Request) {
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("PUT /_sim/faults", s.adminSetFaults)
	mux.HandleFunc("DELETE /_sim/faults", func(w http.ResponseWriter, r *http.Request) {
		s.SetFaults()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sim/members", s.adminAddMember)
	mux.HandleFunc("PATCH /_sim/members/{id}", s.adminUpdateMember)
	mux.HandleFunc("DELETE /_sim/members/{id}", func(w http.ResponseWriter, r *http.Request) {
		if err := s.RemoveMember(r.PathValue("id")); err != nil {
			adminError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /_sim/teams/{team_id}/trash", s.adminTrash)
	mux.HandleFunc("POST /_sim/teams/{team_id}/trash/{item_id}/restore", func(w http.ResponseWriter, r *http.Request) {
		if err := s.RestoreFromTrash(r.PathValue("team_id"), r.PathValue("item_id")); err != nil {
			adminError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /_sim/tokens", s.adminMintToken)
}

// adminError writes a World refusal as is, and anything else as a 400:
// on /_sim a failure is the caller's input.
func adminError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		err = errBadRequest(err.Error())
	}
	writeError(w, err)
}

// decodeAdminJSON reads one JSON value into v, rejecting unknown fields, and
// explains a failure by field.
func decodeAdminJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.EOF):
		return errBadRequest("request body is empty; expected JSON")
	case errors.As(err, &typeErr):
		return errBadRequest(fmt.Sprintf("field %q: expected %s, got JSON %s", typeErr.Field, typeErr.Type, typeErr.Value))
	case errors.As(err, &syntaxErr):
		return errBadRequest(fmt.Sprintf("invalid JSON at byte %d: %v", syntaxErr.Offset, err))
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return errBadRequest(strings.TrimPrefix(err.Error(), "json: "))
	}
	return errBadRequest("invalid JSON body: " + err.Error())
}

// requestBaseURL is where the client reached us.
func requestBaseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Sim) adminInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Info(requestBaseURL(r)))
}

func (s *Sim) adminSetFaults(w http.ResponseWriter, r *http.Request) {
	var faults []Fault
	if err := decodeAdminJSON(r, &faults); err != nil {
		writeError(w, err)
		return
	}
	ops := map[string]bool{}
	for _, rt := range s.routes() {
		ops[rt.OperationID] = true
	}
	for i, f := range faults {
		if err := f.validate(ops); err != nil {
			writeError(w, errBadRequest(fmt.Sprintf("fault %d: %v", i, err)))
			return
		}
	}
	s.SetFaults(faults...)
	writeJSON(w, http.StatusOK, s.Faults())
}

// adminMemberJSON is an org member on /_sim.
type adminMemberJSON struct {
	ID                string     `json:"id"`
	OrgID             string     `json:"orgId"`
	Email             string     `json:"email"`
	GivenName         string     `json:"givenName"`
	FamilyName        string     `json:"familyName"`
	Role              string     `json:"role"`
	License           string     `json:"license"`
	Active            bool       `json:"active"`
	LastActivityAt    *time.Time `json:"lastActivityAt,omitempty"`
	LicenseAssignedAt *time.Time `json:"licenseAssignedAt,omitempty"`
}

func adminMemberOut(u *User) adminMemberJSON {
	m := adminMemberJSON{ID: u.ID, OrgID: u.OrgID, Email: u.Email, GivenName: u.GivenName,
		FamilyName: u.FamilyName, Role: u.Role, License: u.License, Active: u.Active}
	if !u.LastActivityAt.IsZero() {
		t := u.LastActivityAt
		m.LastActivityAt = &t
	}
	if !u.LicenseAssignedAt.IsZero() {
		t := u.LicenseAssignedAt
		m.LicenseAssignedAt = &t
	}
	return m
}

func (s *Sim) adminAddMember(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email      string   `json:"email"`
		GivenName  string   `json:"givenName"`
		FamilyName string   `json:"familyName"`
		Role       string   `json:"role"`
		License    string   `json:"license"`
		TeamIDs    []string `json:"teamIds"`
		TeamRole   string   `json:"teamRole"`
	}
	if err := decodeAdminJSON(r, &in); err != nil {
		writeError(w, err)
		return
	}
	if in.Email == "" {
		writeError(w, errBadRequest("field \"email\" is required"))
		return
	}
	u, err := s.AddMember(NewUser{Email: in.Email, GivenName: in.GivenName, FamilyName: in.FamilyName,
		Role: in.Role, License: in.License, TeamIDs: in.TeamIDs, TeamRole: in.TeamRole})
	if err != nil {
		adminError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, adminMemberOut(u))
}

func (s *Sim) adminUpdateMember(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Role           *string    `json:"role"`
		License        *string    `json:"license"`
		Active         *bool      `json:"active"`
		LastActivityAt *time.Time `json:"lastActivityAt"`
		// LicenseAssignedAt backdates the license's assignment.
		LicenseAssignedAt *time.Time `json:"licenseAssignedAt"`
		Email             *string    `json:"email"`
		GivenName         *string    `json:"givenName"`
		FamilyName        *string    `json:"familyName"`
	}
	if err := decodeAdminJSON(r, &in); err != nil {
		writeError(w, err)
		return
	}
	u, err := s.UpdateMember(r.PathValue("id"), UserPatch{Role: in.Role, License: in.License, Active: in.Active,
		LastActivityAt: in.LastActivityAt, LicenseAssignedAt: in.LicenseAssignedAt, Email: in.Email, GivenName: in.GivenName, FamilyName: in.FamilyName})
	if err != nil {
		adminError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, adminMemberOut(u))
}

func (s *Sim) adminTrash(w http.ResponseWriter, r *http.Request) {
	teamID := r.PathValue("team_id")
	s.mu.RLock()
	_, ok := s.w.Teams[teamID]
	s.mu.RUnlock()
	if !ok {
		writeError(w, errNotFound(fmt.Sprintf("team %s not found", teamID)))
		return
	}
	boards, projects := s.Trash(teamID)
	type item struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		OwnerID string `json:"ownerId"`
	}
	out := struct {
		Boards   []item `json:"boards"`
		Projects []item `json:"projects"`
	}{Boards: []item{}, Projects: []item{}}
	for _, b := range boards {
		out.Boards = append(out.Boards, item{b.ID, b.Name, b.OwnerID})
	}
	for _, p := range projects {
		out.Projects = append(out.Projects, item{p.ID, p.Name, p.OwnerID})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Sim) adminMintToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserID string   `json:"user_id"`
		TeamID string   `json:"team_id"`
		Scopes []string `json:"scopes"`
	}
	if err := decodeAdminJSON(r, &in); err != nil {
		writeError(w, err)
		return
	}
	switch {
	case in.UserID == "":
		writeError(w, errBadRequest("field \"user_id\" is required"))
		return
	case in.TeamID == "":
		writeError(w, errBadRequest("field \"team_id\" is required"))
		return
	}
	inst, err := s.MintToken(in.UserID, in.TeamID, in.Scopes)
	if err != nil {
		writeError(w, errBadRequest(err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, inst)
}
