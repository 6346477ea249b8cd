package web

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"roster"
)

// actionPlan is what can be done to one person and through which
// connection, worked out once for the actions menu and for each action's
// dialog, so that both offer the same. The action runner still validates
// every request; the plan only keeps what cannot work out of sight, or
// says why it cannot.
type actionPlan struct {
	acc      roster.Account
	members  []roster.Membership
	teamByID map[string]roster.Team
	conns    []roster.Connection

	// invites are the teams the person can be invited to, by the
	// connection that would invite them; inviteWhy says why none can be
	// offered at all (hidden) or why they cannot be used (disabled).
	invites   []inviteGroup
	inviteWhy string
	// teams are the person's teams, each with the connection acting on it.
	teams []teamTarget
	// allTeams are the connections that cover some of the person's teams,
	// for a removal from every team.
	allTeams []allTeamsTarget
	// org are the organization-wide kinds (deactivate, reactivate,
	// signout).
	org map[string]orgTarget
}

// inviteGroup is the teams one connection can invite the person to.
type inviteGroup struct {
	conn  roster.Connection
	teams []option
	why   string // why it cannot, when it cannot
}

// teamTarget is one of the person's teams and the connection acting on it.
type teamTarget struct {
	id, name, role string
	conn           roster.Connection
	why            string // why it cannot be acted on, when it cannot
}

// allTeamsTarget is a connection covering some of the person's teams.
type allTeamsTarget struct {
	conn  roster.Connection
	teams []string // their names
	why   string
}

// orgTarget is an organization-wide action on the person: whether the
// menu shows it at all, the connection it goes through, and why it cannot
// work (with a link to where that is fixed, if anywhere).
type orgTarget struct {
	show bool
	conn roster.Connection
	why  string
	href string
}

// planActions works out the plan for acc, as the operator of r.
func (s *Server) planActions(r *http.Request, acc roster.Account) (*actionPlan, error) {
	ctx := r.Context()
	plan := &actionPlan{acc: acc, teamByID: map[string]roster.Team{}, org: map[string]orgTarget{}}
	var err error
	if plan.members, err = s.store.AccountMemberships(ctx, acc.ID); err != nil {
		return nil, fmt.Errorf("load memberships: %w", err)
	}
	teams, err := s.store.Teams(ctx, 0)
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	for _, t := range teams {
		plan.teamByID[t.MiroTeamID] = t
	}
	all, err := s.store.Connections(ctx)
	if err != nil {
		return nil, fmt.Errorf("list connections: %w", err)
	}
	for _, c := range all {
		if c.Status != roster.StatusDisconnected {
			plan.conns = append(plan.conns, c)
		}
	}
	a := authOf(r)
	if !a.IsAdmin() {
		return plan, nil // a viewer sees no actions: the summary needs no more
	}
	covered := map[int64][]roster.Team{}
	for _, c := range plan.conns {
		if covered[c.ID], err = s.store.Teams(ctx, c.ID); err != nil {
			return nil, fmt.Errorf("list the teams of connection %d: %w", c.ID, err)
		}
	}
	can := func(c roster.Connection, name string) string { return s.cannot(a, c, name) }
	manage := func(c roster.Connection) string { return can(c, roster.CapManage) }
	plan.planTeams(covered, manage)
	plan.planInvites(covered, manage)
	for _, kind := range []string{"deactivate", "reactivate", "signout"} {
		plan.org[kind] = plan.planOrg(kind, can)
	}
	return plan, nil
}

// cannot says why an operator cannot use the named capability through
// conn, or "" when they can.
func (s *Server) cannot(a *auth, conn roster.Connection, name string) string {
	switch {
	case !a.IsAdmin():
		return ViewerReason
	case s.actions == nil:
		return "actions are not available in this roster process"
	case conn.Status == roster.StatusDisconnected:
		return "the connection is disconnected"
	}
	if ok, why := capability(conn, name); !ok {
		return why
	}
	return ""
}

// inTeam reports whether the person is in team id.
func (p *actionPlan) inTeam(id string) bool {
	return slices.ContainsFunc(p.members, func(m roster.Membership) bool { return m.MiroTeamID == id })
}

// planTeams pairs each of the person's teams with the connection acting
// on it, and each connection covering some of them with those teams.
func (p *actionPlan) planTeams(covered map[int64][]roster.Team, manage func(roster.Connection) string) {
	for _, m := range p.members {
		t := teamTarget{id: m.MiroTeamID, name: teamName(p.teamByID, m.MiroTeamID), role: m.Role}
		if conn, ok := connectionFor(p.conns, p.teamByID[m.MiroTeamID], m.MiroTeamID); ok {
			t.conn, t.why = conn, manage(conn)
		} else {
			t.why = "no connection covers this team"
		}
		p.teams = append(p.teams, t)
	}
	slices.SortFunc(p.teams, func(a, b teamTarget) int { return strings.Compare(a.name, b.name) })
	for _, c := range p.conns {
		target := allTeamsTarget{conn: c, why: manage(c)}
		for _, t := range covered[c.ID] {
			if p.inTeam(t.MiroTeamID) {
				target.teams = append(target.teams, cmp.Or(t.Name, t.MiroTeamID))
			}
		}
		if len(target.teams) > 0 {
			slices.Sort(target.teams)
			p.allTeams = append(p.allTeams, target)
		}
	}
}

// planInvites finds the teams the person can be invited to: teams of
// their own organization (Miro brings no one into an organization through
// a team invite) that they are not in, each through the connection that
// would act on it.
func (p *actionPlan) planInvites(covered map[int64][]roster.Team, manage func(roster.Connection) string) {
	acc := p.acc
	switch {
	case !acc.LeftAt.IsZero():
		p.inviteWhy = "they are no longer in Miro"
		return
	case acc.OrgID == "":
		p.inviteWhy = "roster does not know their Miro organization"
		return
	}
	seen := map[string]bool{}
	groups := map[int64]*inviteGroup{}
	for _, c := range p.conns {
		for _, t := range covered[c.ID] {
			if seen[t.MiroTeamID] || p.inTeam(t.MiroTeamID) || cmp.Or(t.OrgID, c.OrgID) != acc.OrgID {
				continue
			}
			seen[t.MiroTeamID] = true
			conn, ok := connectionFor(p.conns, t, t.MiroTeamID)
			if !ok {
				conn = c
			}
			g := groups[conn.ID]
			if g == nil {
				g = &inviteGroup{conn: conn, why: manage(conn)}
				groups[conn.ID] = g
			}
			g.teams = append(g.teams, option{t.MiroTeamID, cmp.Or(t.Name, t.MiroTeamID)})
		}
	}
	for _, c := range p.conns { // in the connections' order
		if g := groups[c.ID]; g != nil {
			slices.SortFunc(g.teams, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
			p.invites = append(p.invites, *g)
		}
	}
	switch {
	case len(p.invites) == 0 && len(p.members) > 0:
		p.inviteWhy = "they are already in every team of their organization that roster sees"
	case len(p.invites) == 0:
		p.inviteWhy = "no connection covers a team of their organization"
	case acc.Email == "":
		p.inviteWhy = "roster knows no email for this person, and Miro invites by email"
	}
}

// planOrg decides an organization-wide kind: shown only when it makes
// sense for the person, through the first connection seeing them that
// can do it, else saying why none can. can says why a connection cannot
// use a capability ("" when it can).
func (p *actionPlan) planOrg(kind string, can func(roster.Connection, string) string) orgTarget {
	acc := p.acc
	who := cmp.Or(acc.Email, acc.Name, acc.MiroUserID)
	var sees []roster.Connection
	for _, c := range p.conns {
		if p.sees(c) {
			sees = append(sees, c)
		}
	}
	switch {
	case len(sees) == 0:
		return orgTarget{why: "no connection sees this person"}
	case !acc.LeftAt.IsZero():
		return orgTarget{why: "they are no longer in Miro"}
	case kind == "reactivate" && acc.Active:
		return orgTarget{why: "already active (as of the last sync)"}
	case kind != "reactivate" && !acc.Active:
		return orgTarget{why: "already deactivated (as of the last sync)"}
	}

	// What the person rules out, whatever the connection.
	t := orgTarget{show: true, conn: sees[0]}
	switch {
	case kind != "signout" && acc.OrgRole == roster.OrgRoleTeamGuest:
		t.why = "Miro's API cannot deactivate or reactivate guests, and " + who + " is a guest of the organization"
	case kind != "signout" && acc.OrgRole == roster.OrgRoleExternalUser:
		t.why = "Miro's API cannot deactivate or reactivate external users, and " + who + " is an external user"
	case acc.Email == "" && kind == "signout":
		t.why = "roster knows no email for this person, and Miro signs people out by email"
	case acc.Email == "":
		t.why = "roster knows no email for this person, and SCIM finds people by email"
	}
	if t.why != "" {
		return t
	}

	// The first connection that can; else the reason of the likeliest
	// one, an organization-level connection's.
	k := userActionKinds[kind]
	for _, c := range sees {
		if can(c, k.capability) == "" {
			return orgTarget{show: true, conn: c}
		}
	}
	for _, c := range sees {
		if c.Level == roster.LevelOrganization {
			t.conn = c
			break
		}
	}
	t.why = can(t.conn, k.capability)
	if ok, _ := capability(t.conn, k.capability); !ok && k.capability == roster.CapDeactivate &&
		t.conn.Level == roster.LevelOrganization && t.conn.Enterprise && len(t.conn.SealedSCIMToken) == 0 {
		// The one thing missing is a token the admin can add now.
		t.why = "needs a SCIM token: add one on the connection's page"
		t.href = fmt.Sprintf("/connections#scim-%d", t.conn.ID)
	}
	return t
}

// sees reports whether connection c sees the person: an
// organization-level connection to their organization, or one covering
// a team they are in.
func (p *actionPlan) sees(c roster.Connection) bool {
	if c.Level == roster.LevelOrganization && c.OrgID != "" && c.OrgID == p.acc.OrgID {
		return true
	}
	for _, m := range p.members {
		if c.Level == roster.LevelTeam && c.TeamID == m.MiroTeamID ||
			c.Level == roster.LevelOrganization && c.OrgID != "" && c.OrgID == p.teamByID[m.MiroTeamID].OrgID {
			return true
		}
	}
	return false
}

// menuItem is one entry of the actions menu: a link to the action's
// dialog, or, when it cannot work, its label and why.
type menuItem struct {
	Kind, Label, Href string
	Disabled          bool
	Reason            string
	ReasonHref        string // where the reason can be fixed
	Danger            bool
	// Group starts a new group of the menu (organization-wide actions).
	Group bool
}

// menuKinds are the menu's kinds in order, with their labels.
var menuKinds = []struct{ kind, label string }{
	{"invite", "Invite to team…"},
	{"role", "Change role in team…"},
	{"remove", "Remove from team…"},
	{kindRemoveAll, "Remove from every team"},
	{"deactivate", "Deactivate"},
	{"reactivate", "Reactivate"},
	{"signout", "Sign out of every session"},
}

// menu is the actions menu: what makes sense for the person, enabled when
// it can work, else disabled with the reason.
func (p *actionPlan) menu(userID int64) []menuItem {
	var out []menuItem
	for _, mk := range menuKinds {
		show, why, href := p.availability(mk.kind)
		if !show {
			continue
		}
		out = append(out, menuItem{Kind: mk.kind, Label: mk.label, Href: fmt.Sprintf("/users/%d/actions/%s", userID, mk.kind),
			Disabled: why != "", Reason: why, ReasonHref: href,
			Danger: mk.kind != "invite" && mk.kind != "role" && mk.kind != "reactivate",
			Group:  mk.kind == "deactivate" || (mk.kind == "reactivate" && !p.org["deactivate"].show)})
	}
	return out
}

// availability says whether kind makes sense for the person (show), and
// why it cannot work when it cannot, with where to fix that.
func (p *actionPlan) availability(kind string) (show bool, why, href string) {
	switch kind {
	case "invite":
		if len(p.invites) == 0 {
			return false, p.inviteWhy, ""
		}
		if p.inviteWhy != "" {
			return true, p.inviteWhy, ""
		}
		for _, g := range p.invites {
			if g.why == "" {
				return true, "", ""
			}
		}
		return true, p.invites[0].why, ""
	case "role", "remove":
		if len(p.teams) == 0 {
			return false, "they are in no team", ""
		}
		for _, t := range p.teams {
			if t.why == "" {
				return true, "", ""
			}
		}
		return true, p.teams[0].why, ""
	case kindRemoveAll:
		if len(p.allTeams) == 0 {
			return false, "they are in no team a connection covers", ""
		}
		for _, t := range p.allTeams {
			if t.why == "" {
				return true, "", ""
			}
		}
		return true, p.allTeams[0].why, ""
	}
	t, ok := p.org[kind]
	if !ok {
		return false, "no such action", ""
	}
	return t.show, t.why, t.href
}
