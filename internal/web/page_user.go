package web

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"roster"
	"roster/internal/store"
)

// userPage is the user detail's data.
type userPage struct {
	Page
	Account     roster.Account
	Memberships []membershipRow
	Changes     []changeRow
	// Invites are one invite form per connection.
	Invites []actionForm
	// Result is the outcome of the action just run (?done=<key>).
	Result *roster.Action
	// FormError is a problem with the submitted action that is not about
	// one field (e.g. the action is disabled).
	FormError string
}

// membershipRow is one team of the user, with the forms acting on it.
type membershipRow struct {
	TeamID, TeamName, Role string
	Remove, ChangeRole     actionForm
}

// changeRow is one change of the history, in words.
type changeRow struct {
	At       string
	Kind     string
	TeamName string
	Old, New string
}

// actionForm is one action form: where it posts, its fixed fields, and
// why it is disabled, if it is.
type actionForm struct {
	Kind         string // "invite", "remove", "role"
	Action       string // the URL it posts to
	Key          string // a fresh idempotency key
	ConnectionID int64
	Connection   string // the connection in words
	// TeamID is the team, fixed for removals, role changes and team-level
	// invites; Teams are the choices of an organization-level invite.
	TeamID, TeamName string
	Teams            []option
	Email            string
	Role             string
	Roles            []string
	Disabled         bool
	Reason           string // why it is disabled
	Consequence      string // what a removal does, shown before confirming
	Errors           map[string]string
	CSRF             string
}

// Team roles an action can set.
var teamRoles = []string{"member", "admin"}

// Kinds of user action, as they appear in /users/{id}/actions/{kind}.
var actionKinds = map[string]roster.ActionKind{
	"invite": roster.ActionInvite,
	"remove": roster.ActionRemove,
	"role":   roster.ActionChangeRole,
}

// userPage shows one person: license, roles, teams, history and actions.
func (s *Server) userPage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := s.loadUserPage(r, id, nil)
	if err != nil {
		return err
	}
	if key := r.URL.Query().Get("done"); key != "" {
		a, err := s.store.ActionByKey(r.Context(), key)
		switch {
		case err == nil:
			p.Result = &a
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("load the action's outcome: %w", err)
		}
	}
	s.render(w, r, http.StatusOK, "user", p)
	return nil
}

// pathID reads the {id} of the path.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errNotFound("No such user.")
	}
	return id, nil
}

// submitted is an action form that came back with errors, so that the
// page shows it again with them.
type submitted struct {
	kind         string
	connectionID int64
	teamID       string
	values       map[string]string
	errors       map[string]string
}

// loadUserPage gathers the user page. sub, when not nil, is a failed
// submission to show with its errors.
func (s *Server) loadUserPage(r *http.Request, id int64, sub *submitted) (userPage, error) {
	ctx := r.Context()
	acc, err := s.store.Account(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return userPage{}, errNotFound("No such user.")
	}
	if err != nil {
		return userPage{}, fmt.Errorf("load account %d: %w", id, err)
	}
	p := userPage{Page: s.page(r, cmp.Or(acc.Email, acc.Name, acc.MiroUserID)), Account: acc}
	p.Nav = "users"

	members, err := s.store.AccountMemberships(ctx, id)
	if err != nil {
		return p, fmt.Errorf("load memberships: %w", err)
	}
	teams, err := s.store.Teams(ctx, 0)
	if err != nil {
		return p, fmt.Errorf("list teams: %w", err)
	}
	teamByID := map[string]roster.Team{}
	for _, t := range teams {
		teamByID[t.MiroTeamID] = t
	}
	conns, err := s.store.Connections(ctx)
	if err != nil {
		return p, fmt.Errorf("list connections: %w", err)
	}
	changes, err := s.store.Changes(ctx, store.ChangeFilter{AccountID: id})
	if err != nil {
		return p, fmt.Errorf("load the history: %w", err)
	}
	// Newest first reads best; the store lists oldest first.
	for _, c := range slices.Backward(changes) {
		p.Changes = append(p.Changes, changeRow{At: c.At.UTC().Format("2006-01-02 15:04"), Kind: string(c.Kind),
			TeamName: teamName(teamByID, c.MiroTeamID), Old: c.OldValue, New: c.NewValue})
	}

	auth := authOf(r)
	base := fmt.Sprintf("/users/%d/actions/", id)
	inTeam := map[string]bool{}
	for _, m := range members {
		inTeam[m.MiroTeamID] = true
		row := membershipRow{TeamID: m.MiroTeamID, TeamName: teamName(teamByID, m.MiroTeamID), Role: m.Role}
		conn, ok := connectionFor(conns, teamByID[m.MiroTeamID], m.MiroTeamID)
		for _, kind := range []string{"remove", "role"} {
			f := actionForm{Kind: kind, Action: base + kind, Key: randomToken(), CSRF: p.CSRF, TeamID: m.MiroTeamID, TeamName: row.TeamName, Role: m.Role, Roles: teamRoles}
			if ok {
				f.ConnectionID, f.Connection = conn.ID, connLabel(conn)
				f.Disabled, f.Reason = s.disabled(auth, conn)
				if kind == "remove" && s.actions != nil {
					f.Consequence = s.actions.Consequence(conn, roster.ActionRemove)
				}
			} else {
				f.Disabled, f.Reason = true, "no connection covers this team"
			}
			f.fill(sub)
			if kind == "remove" {
				row.Remove = f
			} else {
				row.ChangeRole = f
			}
		}
		p.Memberships = append(p.Memberships, row)
	}

	for _, c := range conns {
		if c.Status == roster.StatusDisconnected {
			continue
		}
		f := actionForm{Kind: "invite", Action: base + "invite", Key: randomToken(), CSRF: p.CSRF, ConnectionID: c.ID, Connection: connLabel(c),
			Email: acc.Email, Role: "member", Roles: teamRoles}
		f.Disabled, f.Reason = s.disabled(auth, c)
		if c.Level == roster.LevelTeam {
			// A team-level connection reaches its own team only.
			f.TeamID, f.TeamName = c.TeamID, cmp.Or(c.TeamName, teamName(teamByID, c.TeamID))
			if inTeam[c.TeamID] && !f.Disabled {
				f.Disabled, f.Reason = true, "already a member of this team"
			}
		} else {
			covered, err := s.store.Teams(ctx, c.ID)
			if err != nil {
				return p, fmt.Errorf("list the teams of connection %d: %w", c.ID, err)
			}
			for _, t := range covered {
				if !inTeam[t.MiroTeamID] {
					f.Teams = append(f.Teams, option{t.MiroTeamID, cmp.Or(t.Name, t.MiroTeamID)})
				}
			}
			if len(f.Teams) == 0 && !f.Disabled {
				f.Disabled, f.Reason = true, "already a member of every team this connection covers"
			}
		}
		f.fill(sub)
		p.Invites = append(p.Invites, f)
	}
	if sub != nil {
		p.FormError = sub.errors[""]
	}
	return p, nil
}

// fill shows a failed submission again on the form it came from.
func (f *actionForm) fill(sub *submitted) {
	if sub == nil || sub.kind != f.Kind || sub.connectionID != f.ConnectionID {
		return
	}
	if f.Kind != "invite" && sub.teamID != f.TeamID {
		return
	}
	f.Errors = sub.errors
	if v, ok := sub.values["email"]; ok {
		f.Email = v
	}
	if v, ok := sub.values["role"]; ok {
		f.Role = v
	}
	if v, ok := sub.values["team"]; ok && f.Kind == "invite" && len(f.Teams) > 0 {
		f.TeamID = v
	}
}

// disabled says whether an operator may act through conn, and why not.
func (s *Server) disabled(a *auth, conn roster.Connection) (bool, string) {
	switch {
	case !a.isAdmin():
		return true, ViewerReason
	case s.actions == nil:
		return true, "actions are not available in this roster process"
	case conn.Status == roster.StatusDisconnected:
		return true, "the connection is disconnected"
	}
	for _, c := range conn.Capabilities() {
		if c.Name == roster.CapManage && !c.Available {
			return true, c.Reason
		}
	}
	return false, ""
}

// connectionFor picks the connection that acts on a team: one that may
// manage it if any, else the first that covers it (to say why not).
func connectionFor(conns []roster.Connection, team roster.Team, teamID string) (roster.Connection, bool) {
	var first *roster.Connection
	for i, c := range conns {
		covers := c.Status != roster.StatusDisconnected &&
			((c.Level == roster.LevelTeam && c.TeamID == teamID) ||
				(c.Level == roster.LevelOrganization && c.OrgID != "" && c.OrgID == team.OrgID))
		if !covers {
			continue
		}
		for _, cp := range c.Capabilities() {
			if cp.Name == roster.CapManage && cp.Available {
				return c, true
			}
		}
		if first == nil {
			first = &conns[i]
		}
	}
	if first == nil {
		return roster.Connection{}, false
	}
	return *first, true
}

// teamName is a team's name, or its id when unknown.
func teamName(teams map[string]roster.Team, id string) string {
	if t, ok := teams[id]; ok && t.Name != "" {
		return t.Name
	}
	return id
}
