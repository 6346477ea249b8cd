package mirosim

import (
	"fmt"
	"net/http"
	"strings"
)

// Legacy v1 team API: end-of-life at Miro, but it is what a team-level
// connection on a non-Enterprise team relies on. A token may use it only on
// its own team. Shapes follow the v1 docs (API-NOTES §6.10).

type legacyUserJSON struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

type legacyConnJSON struct {
	Type       string         `json:"type"`
	ID         string         `json:"id"`
	User       legacyUserJSON `json:"user"`
	Team       teamJSON       `json:"team"`
	Role       string         `json:"role"`
	CreatedAt  string         `json:"createdAt"`
	ModifiedAt string         `json:"modifiedAt"`
	CreatedBy  legacyUserJSON `json:"createdBy"`
	ModifiedBy legacyUserJSON `json:"modifiedBy"`
}

type legacyListJSON struct {
	Type     string           `json:"type"`
	Limit    int              `json:"limit"`
	Offset   int              `json:"offset"`
	Size     int              `json:"size"`
	Total    int              `json:"total"`
	Data     []legacyConnJSON `json:"data"`
	NextLink string           `json:"nextLink,omitempty"`
}

func (s *Sim) legacyUser(id string, withEmail bool) legacyUserJSON {
	out := legacyUserJSON{Type: "user", ID: id, Name: "Deleted user"}
	if u := s.w.Users[id]; u != nil {
		out.Name = u.Name()
		if withEmail {
			out.Email = u.Email
		}
	}
	return out
}

func (s *Sim) toConn(m *TeamMember) legacyConnJSON {
	t := s.w.Teams[m.TeamID]
	return legacyConnJSON{
		Type:       "team-user-connection",
		ID:         m.ConnectionID,
		User:       s.legacyUser(m.UserID, true),
		Team:       toTeam(t),
		Role:       m.Role,
		CreatedAt:  fmtTime(m.CreatedAt),
		ModifiedAt: fmtTime(m.ModifiedAt),
		CreatedBy:  s.legacyUser(m.CreatedBy, false),
		ModifiedBy: s.legacyUser(m.ModifiedBy, false),
	}
}

// legacyTeam is the {team_id} of the request, which must be the token's team.
func (s *Sim) legacyTeam(r *http.Request, teamID string) (*Team, error) {
	g := grantFrom(r)
	if g == nil || g.TeamID != teamID {
		return nil, errForbidden(fmt.Sprintf("Access denied: the token is not authorized for team %s", teamID))
	}
	t := s.w.Teams[teamID]
	if t == nil {
		return nil, errNotFound(fmt.Sprintf("team %s not found", teamID))
	}
	return t, nil
}

// legacyConn is the {id} connection of the request, on the token's team.
func (s *Sim) legacyConn(r *http.Request) (*TeamMember, error) {
	id := r.PathValue("id")
	m := s.w.connections[id]
	if m == nil {
		return nil, errNotFound(fmt.Sprintf("team user connection %s not found", id))
	}
	if _, err := s.legacyTeam(r, m.TeamID); err != nil {
		return nil, err
	}
	return m, nil
}

func (s *Sim) handleLegacyListConnections(w http.ResponseWriter, r *http.Request) {
	limit, err := queryInt(r, "limit", 20, 1, 100)
	if err != nil {
		writeError(w, err)
		return
	}
	offset, err := queryInt(r, "offset", 0, 0, 1<<31-1)
	if err != nil {
		writeError(w, err)
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, err := s.legacyTeam(r, r.PathValue("team_id"))
	if err != nil {
		writeError(w, err)
		return
	}
	total := len(t.memberIDs)
	out := legacyListJSON{Type: "list", Limit: limit, Offset: offset, Total: total, Data: []legacyConnJSON{}}
	for i := offset; i < total && i < offset+limit; i++ {
		out.Data = append(out.Data, s.toConn(t.members[t.memberIDs[i]]))
	}
	out.Size = len(out.Data)
	if offset+limit < total {
		out.NextLink = pageLink(r, limit, offset+limit)
	}
	writeJSON(w, http.StatusOK, out)
}

// handleLegacyInvite invites every email as a member. It checks them all
// before changing anything, so a refusal has no partial effect.
func (s *Sim) handleLegacyInvite(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Emails []string `json:"emails"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeError(w, err)
		return
	}
	var emails []string
	seen := map[string]bool{}
	for _, e := range body.Emails {
		e = strings.ToLower(strings.TrimSpace(e))
		if e != "" && !seen[e] {
			seen[e] = true
			emails = append(emails, e)
		}
	}
	if len(emails) == 0 {
		writeError(w, errBadRequest("emails: at least one email is required"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.legacyTeam(r, r.PathValue("team_id"))
	if err != nil {
		writeError(w, err)
		return
	}
	for _, e := range emails {
		u := s.w.userByEmail(e)
		if u == nil || u.OrgID != t.OrgID {
			writeError(w, errNotFound(fmt.Sprintf("user %s is not a member of the organization", e)))
			return
		}
		if t.members[u.ID] != nil {
			writeError(w, errConflict(fmt.Sprintf("user %s is already a member of team %s", e, t.ID)))
			return
		}
	}
	out := make([]legacyConnJSON, 0, len(emails))
	for _, e := range emails {
		m, err := s.w.inviteToTeam(actorID(r), t.ID, e, teamRoleMember, s.now())
		if err != nil {
			writeError(w, err) // unreachable: everything was checked above
			return
		}
		out = append(out, s.toConn(m))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Sim) handleLegacyGetConnection(w http.ResponseWriter, r *http.Request) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, err := s.legacyConn(r)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.toConn(m))
}

func (s *Sim) handleLegacyUpdateConnection(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Role string `json:"role"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeError(w, err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.legacyConn(r)
	if err != nil {
		writeError(w, err)
		return
	}
	m, err = s.w.setTeamRole(actorID(r), m.TeamID, m.UserID, body.Role, s.now())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.toConn(m))
}

func (s *Sim) handleLegacyDeleteConnection(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, err := s.legacyConn(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if err := s.w.removeFromTeam(actorID(r), m.TeamID, m.UserID, removeViaLegacy, s.now()); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
