package workflow

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"roster"
	"roster/internal/store"
	"slices"
	"strings"
)

// Planning a bulk run: the checked request, and judging each selected
// person (would run, or left out and why).

// bulkPlan is a checked bulk request with what judging people needs: the
// connections that can act, and for what.
type bulkPlan struct {
	e      *Engine
	action roster.BulkAction
	limit  int
	prices licensePrices

	team     roster.Team       // remove_from_team
	teamConn roster.Connection // remove_from_team: the connection removing from it
	wf       roster.Workflow   // workflow
	wfConn   roster.Connection
	wfNames  map[string]string // the workflow connection's teams
	wfCons   []Consequence

	// deactivators are the connections that can deactivate, by Miro
	// organization id; noDeactivate says why an organization has none.
	deactivators map[string]roster.Connection
	noDeactivate map[string]string
	// managers are the connections that can remove people from each team,
	// by Miro team id: an organization-level one when there is one.
	managers  map[string]roster.Connection
	teamNames map[string]string // every known team
	// installers are the Miro users whose tokens connect roster.
	installers map[string]bool
	admins     map[string]int // admins per team
}

// planBulk checks the request's action, team and workflow, and reads the
// connections.
func (e *Engine) planBulk(ctx context.Context, req BulkRequest) (*bulkPlan, error) {
	if !req.Action.Valid() {
		return nil, bulkErr("action", "action must be deactivate, remove_from_team, remove_from_all_teams or workflow, not %q. Nothing was started.", req.Action)
	}
	if req.Action != roster.BulkRemoveFromTeam && req.TeamID != "" {
		return nil, bulkErr("team_id", "team_id is for remove_from_team only, not %s. Nothing was started.", req.Action)
	}
	if req.Action != roster.BulkWorkflow && req.WorkflowID != 0 {
		return nil, bulkErr("workflow_id", "workflow_id is for the workflow action only, not %s. Nothing was started.", req.Action)
	}
	p := &bulkPlan{e: e, action: req.Action, limit: e.bulkLimit(), deactivators: map[string]roster.Connection{},
		noDeactivate: map[string]string{}, managers: map[string]roster.Connection{}, teamNames: map[string]string{},
		installers: map[string]bool{}}
	var err error
	if p.prices, err = e.loadLicensePrices(ctx); err != nil {
		return nil, err
	}
	conns, err := e.Store.Connections(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the connections: %w", err)
	}
	for _, c := range conns {
		teams, err := e.Store.Teams(ctx, c.ID)
		if err != nil {
			return nil, fmt.Errorf("read the teams of connection %d: %w", c.ID, err)
		}
		for _, t := range teams {
			p.teamNames[t.MiroTeamID] = t.Name
		}
		if c.Status == roster.StatusDisconnected {
			continue
		}
		if c.InstallerID != "" {
			p.installers[c.InstallerID] = true
		}
		deactivate, manage := capability(c, roster.CapDeactivate), capability(c, roster.CapManage)
		if c.Level == roster.LevelOrganization && c.OrgID != "" {
			if deactivate.Available {
				p.deactivators[c.OrgID] = c
			} else {
				p.noDeactivate[c.OrgID] = deactivate.Reason
			}
		}
		if manage.Available {
			for _, t := range teams {
				if old, ok := p.managers[t.MiroTeamID]; !ok || old.Level != roster.LevelOrganization {
					p.managers[t.MiroTeamID] = c
				}
			}
		}
	}
	switch req.Action {
	case roster.BulkRemoveFromTeam:
		if req.TeamID == "" {
			return nil, bulkErr("team_id", "team_id is required: the Miro team to remove people from. Nothing was started.")
		}
		name, known := p.teamNames[req.TeamID]
		if !known {
			return nil, bulkErr("team_id", "roster knows no team %q: check the id, or sync first. Nothing was started.", req.TeamID)
		}
		p.team = roster.Team{MiroTeamID: req.TeamID, Name: name}
		conn, ok := p.managers[req.TeamID]
		if !ok {
			return nil, bulkErr("team_id", "no connection can remove people from team %s: connect its organization (or the team) with the scopes to manage members. Nothing was started.",
				teamWords(req.TeamID, p.teamNames))
		}
		p.teamConn = conn
	}
	if req.Action == roster.BulkRemoveFromTeam || req.Action == roster.BulkRemoveFromAllTeams {
		if p.admins, err = e.Store.TeamAdminCounts(ctx); err != nil {
			return nil, fmt.Errorf("count the teams' admins: %w", err)
		}
	}
	if req.Action == roster.BulkWorkflow {
		if req.WorkflowID <= 0 {
			return nil, bulkErr("workflow_id", "workflow_id is required: the saved workflow to run. Nothing was started.")
		}
		wf, err := e.Store.Workflow(ctx, req.WorkflowID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, bulkErr("workflow_id", "roster has no workflow %d: choose a saved workflow. Nothing was started.", req.WorkflowID)
		}
		if err != nil {
			return nil, fmt.Errorf("read workflow %d: %w", req.WorkflowID, err)
		}
		if err := e.Check(ctx, &wf); errors.Is(err, ErrInvalid) {
			return nil, bulkErr("workflow_id", "workflow %s does not validate any more (%v): edit it first. Nothing was started.", wf.Name, err)
		} else if err != nil {
			return nil, err
		}
		if p.wfConn, err = e.Store.Connection(ctx, wf.ConnectionID); err != nil {
			return nil, fmt.Errorf("read connection %d: %w", wf.ConnectionID, err)
		}
		if p.wfNames, err = e.teamNames(ctx, wf.ConnectionID); err != nil {
			return nil, err
		}
		p.wf, p.wfCons = wf, workflowConsequences(wf, p.wfConn, p.wfNames)
	}
	return p, nil
}

// capability is conn's capability of that name.
func capability(conn roster.Connection, name string) roster.Capability {
	for _, c := range conn.Capabilities() {
		if c.Name == name {
			return c
		}
	}
	return roster.Capability{Name: name, Reason: "unknown"}
}

// words says what the plan does.
func (p *bulkPlan) words() string {
	switch p.action {
	case roster.BulkRemoveFromTeam:
		return "Remove from team " + teamWords(p.team.MiroTeamID, p.teamNames)
	case roster.BulkWorkflow:
		return "Run the workflow " + p.wf.Name
	}
	return BulkActionWords(p.action)
}

// judged is one person judged: the preview's row, and for a built-in
// action the connection it acts through and the license it frees.
type judged struct {
	PlannedRun
	account roster.Account
	person  *roster.Person
	conn    roster.Connection
	frees   *roster.Account // whose license the run frees
	notes   []string
}

// Why people are left out of a built-in action.
const (
	reasonLeft         = "no longer in Miro: no connection sees them any more"
	reasonDeactivated  = "already deactivated"
	reasonInstaller    = "their Miro account connects roster to Miro: deactivating it would cut roster off"
	reasonTeamLevel    = "seen only through a team-level connection (usage unknown): deactivation needs their organization's connection"
	reasonNoEmailSCIM  = "roster knows no email for them: deactivation and removal from every team go by email"
	reasonNoEmailFlow  = "roster knows no email for them: a workflow acts and reports by email"
	reasonInNoTeam     = "in no team"
	reasonOnlyAdminAll = "the only admin of every team they are in: Miro refuses to remove a team's last admin"
	noteOnlyAdmin      = "stay in a team where they are its only admin: Miro refuses to remove a team's last admin"
	noteOtherConn      = "stay in teams of another organization or connection: removal goes through one connection a person"
)

// judgePage judges a page of people: why each is left out, or what would
// be done and through which connection.
func (p *bulkPlan) judgePage(ctx context.Context, accs []roster.Account) ([]judged, error) {
	ids := make([]int64, len(accs))
	for i, a := range accs {
		ids[i] = a.ID
	}
	var ms map[int64][]roster.Membership
	if p.action != roster.BulkDeactivate {
		var err error
		if ms, err = p.e.Store.MembershipsOf(ctx, ids); err != nil {
			return nil, fmt.Errorf("read the teams of %d people: %w", len(ids), err)
		}
	}
	var people map[string]roster.Person
	if p.action == roster.BulkWorkflow {
		var emails []string
		for _, a := range accs {
			if a.Email != "" {
				emails = append(emails, a.Email)
			}
		}
		var err error
		if people, err = p.e.Store.PeopleForAccounts(ctx, emails); err != nil {
			return nil, fmt.Errorf("look up the directory people of %d accounts: %w", len(emails), err)
		}
	}
	out := make([]judged, 0, len(accs))
	for _, a := range accs {
		j := judged{account: a, PlannedRun: PlannedRun{Email: a.Email, Name: a.Name, License: a.License, AccountID: a.ID,
			LastActivity: a.LastActivityAt, UsageKnown: a.UsageKnown()}}
		if !a.LeftAt.IsZero() {
			j.Reason = reasonLeft
			out = append(out, j)
			continue
		}
		switch p.action {
		case roster.BulkDeactivate:
			p.deactivate(&j)
		case roster.BulkRemoveFromTeam:
			p.removeFromTeam(&j, ms[a.ID])
		case roster.BulkRemoveFromAllTeams:
			p.removeFromAllTeams(&j, ms[a.ID])
		case roster.BulkWorkflow:
			if err := p.workflow(ctx, &j, ms[a.ID], people); err != nil {
				return nil, err
			}
		}
		out = append(out, j)
	}
	return out, nil
}

func (p *bulkPlan) deactivate(j *judged) {
	a := j.account
	switch {
	case !a.Active:
		j.Reason = reasonDeactivated
	case roster.GuestOrExternal(a.OrgRole):
		j.Reason = reasonGuest
	case p.installers[a.MiroUserID]:
		j.Reason = reasonInstaller
	case !a.UsageKnown():
		j.Reason = reasonTeamLevel
	case a.Email == "":
		j.Reason = reasonNoEmailSCIM
	}
	if j.Reason != "" {
		return
	}
	conn, ok := p.deactivators[a.OrgID]
	if !ok {
		why := cmp.Or(p.noDeactivate[a.OrgID], "their organization has no organization-level connection")
		j.Reason = "no connection can deactivate people of their organization: " + why
		return
	}
	j.conn = conn
	if paidSeat(a.License) {
		j.frees = &a
	}
	j.Plan = "Deactivate" + freedWords(a.License, "their")
}

func (p *bulkPlan) removeFromTeam(j *judged, ms []roster.Membership) {
	i := slices.IndexFunc(ms, func(m roster.Membership) bool { return m.MiroTeamID == p.team.MiroTeamID })
	switch {
	case i < 0:
		j.Reason = "not in team " + teamWords(p.team.MiroTeamID, p.teamNames)
	case ms[i].Role == roster.TeamRoleAdmin && p.admins[p.team.MiroTeamID] <= 1:
		j.Reason = fmt.Sprintf("the only admin of team %s: Miro refuses to remove a team's last admin", teamWords(p.team.MiroTeamID, p.teamNames))
	default:
		j.conn = p.teamConn
		j.Plan = "Remove from team " + teamWords(p.team.MiroTeamID, p.teamNames)
	}
}

func (p *bulkPlan) removeFromAllTeams(j *judged, ms []roster.Membership) {
	if len(ms) == 0 {
		j.Reason = reasonInNoTeam
		return
	}
	if j.account.Email == "" {
		j.Reason = reasonNoEmailSCIM
		return
	}
	// One connection a person: the one that covers most of their teams,
	// an organization-level one first.
	byConn := map[int64][]roster.Membership{}
	conns := map[int64]roster.Connection{}
	for _, m := range ms {
		if c, ok := p.managers[m.MiroTeamID]; ok {
			byConn[c.ID] = append(byConn[c.ID], m)
			conns[c.ID] = c
		}
	}
	var best roster.Connection
	for id, c := range conns {
		if best.ID == 0 || len(byConn[id]) > len(byConn[best.ID]) ||
			len(byConn[id]) == len(byConn[best.ID]) && c.Level == roster.LevelOrganization && best.Level != roster.LevelOrganization ||
			len(byConn[id]) == len(byConn[best.ID]) && c.Level == best.Level && id < best.ID {
			best = c
		}
	}
	if best.ID == 0 {
		j.Reason = "no connection can remove them from their teams"
		return
	}
	var removed, kept []string
	for _, m := range byConn[best.ID] {
		if m.Role == roster.TeamRoleAdmin && p.admins[m.MiroTeamID] <= 1 {
			kept = append(kept, teamWords(m.MiroTeamID, p.teamNames))
			continue
		}
		removed = append(removed, teamWords(m.MiroTeamID, p.teamNames))
	}
	if len(removed) == 0 {
		j.Reason = reasonOnlyAdminAll
		return
	}
	j.conn = best
	j.Plan = fmt.Sprintf("Remove from %s: %s", plural(len(removed), "team"), strings.Join(removed, ", "))
	if len(kept) > 0 {
		j.Plan += fmt.Sprintf("; stays in %s as its only admin", strings.Join(kept, ", "))
		j.notes = append(j.notes, noteOnlyAdmin)
	}
	if len(byConn[best.ID]) < len(ms) {
		j.notes = append(j.notes, noteOtherConn)
	}
}

func (p *bulkPlan) workflow(ctx context.Context, j *judged, ms []roster.Membership, people map[string]roster.Person) error {
	a := j.account
	if a.Email == "" {
		j.Reason = reasonNoEmailFlow
		return nil
	}
	s := &subject{Email: a.Email, Account: &a, loaded: true}
	for _, m := range ms {
		s.teams = append(s.teams, m.MiroTeamID)
	}
	if pp, ok := people[roster.NormalizeEmail(a.Email)]; ok {
		s.Person = &pp
		j.person = &pp
	}
	pr, err := p.e.judge(ctx, p.wf, s, p.wfConn, p.wfNames, p.e.now())
	if err != nil {
		return err
	}
	j.PlannedRun = pr
	j.frees = workflowFrees(p.wf, s)
	j.conn = p.wfConn
	return nil
}

// count adds a judged person to the summary.
func (p *bulkPlan) count(sum *summary, j judged) {
	if j.Reason != "" {
		sum.leftOut(j.Reason)
		return
	}
	sum.wouldRun(j.frees)
	for _, n := range j.notes {
		sum.note(n)
	}
	if p.action == roster.BulkWorkflow {
		for _, c := range p.wfCons {
			sum.consequence(c.Where, c.Text)
		}
		return
	}
	step := roster.Step{Kind: roster.StepDeactivate}
	switch p.action {
	case roster.BulkRemoveFromTeam:
		step = roster.Step{Kind: roster.StepRemove, Team: p.team.MiroTeamID}
	case roster.BulkRemoveFromAllTeams:
		step = roster.Step{Kind: roster.StepRemoveAllTeams}
	}
	sum.consequence(connectionWords(j.conn), stepConsequence(step, j.conn, p.teamNames))
}

// definition is the one-step workflow a built-in action runs as, through
// conn, for bulk run b.
func (p *bulkPlan) definition(b roster.BulkRun, conn roster.Connection) roster.Workflow {
	if p.action == roster.BulkWorkflow {
		return p.wf
	}
	w := roster.Workflow{
		Name:         fmt.Sprintf("bulk-%d-%s", b.ID, strings.ReplaceAll(string(b.Action), "_", "-")),
		Description:  fmt.Sprintf("Bulk run %d: %s, started by %s.", b.ID, p.words(), b.Actor),
		ConnectionID: conn.ID,
		Trigger:      roster.Trigger{Kind: roster.TriggerManual},
	}
	switch p.action {
	case roster.BulkDeactivate:
		w.Steps = []roster.Step{{ID: "deactivate", Kind: roster.StepDeactivate}}
	case roster.BulkRemoveFromTeam:
		w.Steps = []roster.Step{{ID: "remove", Kind: roster.StepRemove, Team: p.team.MiroTeamID}}
	case roster.BulkRemoveFromAllTeams:
		w.Steps = []roster.Step{{ID: "remove-from-teams", Kind: roster.StepRemoveAllTeams}}
	}
	w.Normalize()
	return w
}

// newRun is bulk run b's run for one judged person.
func (p *bulkPlan) newRun(b roster.BulkRun, j judged) roster.WorkflowRun {
	def := p.definition(b, j.conn)
	name := def.Name
	if p.action != roster.BulkWorkflow {
		name = fmt.Sprintf("Bulk run %d: %s", b.ID, BulkActionWords(b.Action))
		if p.action == roster.BulkRemoveFromTeam {
			name = fmt.Sprintf("Bulk run %d: remove from team %s", b.ID, cmp.Or(p.team.Name, p.team.MiroTeamID))
		}
	}
	r := roster.WorkflowRun{WorkflowID: b.RunsWorkflowID(), WorkflowName: name, Definition: def,
		TriggerKey: b.TriggerKey(j.account.ID), Trigger: fmt.Sprintf("bulk run %d, by %s", b.ID, b.Actor),
		Email: j.account.Email, AccountID: j.account.ID}
	if j.person != nil {
		r.PersonID = j.person.ID
	}
	return r
}
