package web

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"roster"
	"roster/internal/action"
	"roster/internal/httpauth"
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
	// OrgActions are the organization-wide actions (deactivate,
	// reactivate, sign out, remove from every team), one set per
	// connection that sees the person.
	OrgActions []orgActions
	// Result is the outcome of the action just run (?done=<key>), and
	// Retry, for a failed organization-wide action, the form that retries
	// it under the same key.
	Result *roster.Action
	Retry  *actionForm
	// AllTeams is the outcome of a removal from every team just run.
	AllTeams *allTeamsView
	// FormError is a problem with the submitted action that is not about
	// one field (e.g. the action is disabled).
	FormError string
}

// membershipRow is one team of the user, with the forms acting on it.
type membershipRow struct {
	TeamID, TeamName, Role string
	Remove, ChangeRole     actionForm
}

// orgActions are the organization-wide action forms through one
// connection.
type orgActions struct {
	Connection                                 string
	Deactivate, Reactivate, SignOut, RemoveAll actionForm
}

// allTeamsView is a removal from every team's outcome, team by team.
type allTeamsView struct {
	Email                    string
	Teams                    []action.TeamOutcome
	Removed, Skipped, Failed int
	Retry                    *actionForm // the same key again, when a team failed
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
	Kind         string // a key of userActionKinds
	Label        string // the button, for organization-wide kinds
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
	Confirm          string // what the box to tick says, for organization-wide kinds
	ServiceAccount   string // remove-all: the service account typed
	Errors           map[string]string
	CSRF             string
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
		if p.Result != nil && p.Result.Status == roster.ActionFailed {
			p.Retry = p.retryForm(*p.Result)
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
			f := actionForm{Kind: kind, Action: base + kind, Key: httpauth.RandomToken(), CSRF: p.CSRF, TeamID: m.MiroTeamID, TeamName: row.TeamName, Role: m.Role, Roles: roster.AssignableTeamRoles}
			if ok {
				f.ConnectionID, f.Connection = conn.ID, connLabel(conn)
				f.Disabled, f.Reason = s.disabled(auth, conn)
				if kind == "remove" {
					f.Consequence = action.Consequence(conn, roster.ActionRemove)
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
		f := actionForm{Kind: "invite", Action: base + "invite", Key: httpauth.RandomToken(), CSRF: p.CSRF, ConnectionID: c.ID, Connection: connLabel(c),
			Email: acc.Email, Role: roster.TeamRoleMember, Roles: roster.AssignableTeamRoles}
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
	if err := s.loadOrgActions(r, &p, conns, teamByID, members, sub); err != nil {
		return p, err
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

// disabled says whether an operator may invite, remove and change roles
// through conn, and why not.
func (s *Server) disabled(a *auth, conn roster.Connection) (bool, string) {
	return s.disabledFor(a, conn, roster.CapManage)
}

// disabledFor says whether an operator may use capability through conn,
// and why not.
func (s *Server) disabledFor(a *auth, conn roster.Connection, capability string) (bool, string) {
	switch {
	case !a.IsAdmin():
		return true, ViewerReason
	case s.actions == nil:
		return true, "actions are not available in this roster process"
	case conn.Status == roster.StatusDisconnected:
		return true, "the connection is disconnected"
	}
	for _, c := range conn.Capabilities() {
		if c.Name == capability && !c.Available {
			return true, c.Reason
		}
	}
	return false, ""
}

// loadOrgActions adds the organization-wide action forms, one set per
// connection that sees the person: one covering a team they are in, and
// every organization-level connection when an organization sync saw them
// (they have an org role).
func (s *Server) loadOrgActions(r *http.Request, p *userPage, conns []roster.Connection, teamByID map[string]roster.Team,
	members []roster.Membership, sub *submitted) error {
	acc := p.Account
	auth := authOf(r)
	base := fmt.Sprintf("/users/%d/actions/", acc.ID)
	for _, c := range conns {
		if c.Status == roster.StatusDisconnected {
			continue
		}
		sees := c.Level == roster.LevelOrganization && acc.OrgRole != ""
		for _, m := range members {
			if c.Level == roster.LevelTeam && c.TeamID == m.MiroTeamID ||
				c.Level == roster.LevelOrganization && c.OrgID != "" && c.OrgID == teamByID[m.MiroTeamID].OrgID {
				sees = true
			}
		}
		if !sees {
			continue
		}
		covered, err := s.store.Teams(r.Context(), c.ID)
		if err != nil {
			return fmt.Errorf("list the teams of connection %d: %w", c.ID, err)
		}
		var inTeams []string
		for _, m := range members {
			if slices.ContainsFunc(covered, func(t roster.Team) bool { return t.MiroTeamID == m.MiroTeamID }) {
				inTeams = append(inTeams, teamName(teamByID, m.MiroTeamID))
			}
		}
		who := cmp.Or(acc.Email, acc.Name, acc.MiroUserID)
		set := orgActions{Connection: connLabel(c)}
		for _, kind := range orgKindNames {
			k := userActionKinds[kind]
			f := actionForm{Kind: kind, Label: k.label, Action: base + kind, Key: httpauth.RandomToken(), CSRF: p.CSRF,
				ConnectionID: c.ID, Connection: connLabel(c)}
			f.Disabled, f.Reason = s.disabledFor(auth, c, k.capability)
			why := ""
			switch kind {
			case "deactivate", "reactivate":
				switch {
				case acc.OrgRole == roster.OrgRoleTeamGuest:
					why = "Miro's API cannot deactivate or reactivate guests, and " + who + " is a guest of the organization"
				case acc.OrgRole == roster.OrgRoleExternalUser:
					why = "Miro's API cannot deactivate or reactivate external users, and " + who + " is an external user"
				case acc.Email == "":
					why = "roster knows no email for this person, and SCIM finds people by email"
				case kind == "deactivate" && !acc.Active:
					why = "already deactivated (as of the last sync)"
				case kind == "reactivate" && acc.Active:
					why = "already active (as of the last sync)"
				}
				if kind == "deactivate" {
					f.Confirm = fmt.Sprintf("Deactivate %s in the whole organization through %s: they can no longer log in to Miro, and their paid license is freed. Reactivate undoes it.", who, f.Connection)
				} else {
					f.Confirm = fmt.Sprintf("Reactivate %s through %s: they can log in to Miro again.", who, f.Connection)
				}
			case "signout":
				if acc.Email == "" {
					why = "roster knows no email for this person, and Miro signs people out by email"
				}
				f.Confirm = fmt.Sprintf("Sign %s out of every Miro session on every device; they can log in again at once.", who)
			case kindRemoveAll:
				if len(inTeams) == 0 {
					why = "in no team this connection covers"
				}
				f.Confirm = fmt.Sprintf("Remove %s from every team %s covers (%s).", who, f.Connection, strings.Join(inTeams, ", "))
				f.Consequence = action.Consequence(c, roster.ActionRemove)
			}
			if why != "" && !f.Disabled {
				f.Disabled, f.Reason = true, why
			}
			f.fill(sub)
			if v, ok := sub.value(kind, c.ID, "service_account"); ok {
				f.ServiceAccount = v
			}
			switch kind {
			case "deactivate":
				set.Deactivate = f
			case "reactivate":
				set.Reactivate = f
			case "signout":
				set.SignOut = f
			default:
				set.RemoveAll = f
			}
		}
		p.OrgActions = append(p.OrgActions, set)
	}
	return nil
}

// value is a submitted field of the form of kind through connection.
func (sub *submitted) value(kind string, connectionID int64, field string) (string, bool) {
	if sub == nil || sub.kind != kind || sub.connectionID != connectionID {
		return "", false
	}
	v, ok := sub.values[field]
	return v, ok
}

// retryForm retries a failed organization-wide action under its key:
// the runner then asks Miro whether it was done before acting again.
// Team actions have none: their forms carry the team and role again.
func (p *userPage) retryForm(a roster.Action) *actionForm {
	if !p.CanAct {
		return nil
	}
	for _, kind := range orgKindNames {
		if k := userActionKinds[kind]; k.kind == a.Kind && kind != kindRemoveAll {
			return &actionForm{Kind: kind, Label: "Retry: " + strings.ToLower(k.label),
				Action: fmt.Sprintf("/users/%d/actions/%s", p.Account.ID, kind), Key: a.Key, ConnectionID: a.ConnectionID, CSRF: p.CSRF}
		}
	}
	return nil
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
