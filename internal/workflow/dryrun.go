package workflow

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"roster"
	"roster/internal/action"
)

// DryRun is a workflow's preview: who it would run for now and what each
// step would do for them. It changes nothing and calls nothing.
type DryRun struct {
	Workflow string
	// Basis says which people were considered, in plain words.
	Basis string
	// Warnings say what cannot run as configured, whoever a run is for:
	// a step or the failure notice whose channel cannot send, an action
	// the connection cannot do. They come first.
	Warnings []string
	// Summary counts everyone considered: who would run, who is left out
	// and why, what the actions mean, the seats and money they free.
	Summary Summary
	// Total is how many would run: their conditions hold and no step
	// would be refused. Runs shows the first few.
	Total int
	Runs  []PlannedRun
	// Excluded are people considered whom the conditions leave out, or
	// for whom a step would be refused (a guest cannot be deactivated).
	ExcludedTotal int
	Excluded      []Exclusion
	// Stopped counts those left out because a step would be refused or
	// fail: their runs would start, and stop at that step.
	Stopped int
	// People is the page View asked for: of those who would run, or of
	// those left out (with Reason), in the order they were considered.
	People []PlannedRun
	View   PeopleView
}

// PlannedRun is one subject's preview.
type PlannedRun struct {
	Email     string
	Name      string
	License   string
	AccountID int64 // 0 when no Miro account matches
	// LastActivity is the account's last activity (zero: none or unknown).
	LastActivity time.Time
	UsageKnown   bool
	// Plan says what a built-in bulk action would do; Steps what each
	// step of a workflow would do.
	Plan  string
	Steps []PlannedStep
	// Reason says why the person is left out; "" when they would run.
	Reason string
}

// PlannedStep is what one step would do.
type PlannedStep struct {
	ID   string
	Kind roster.StepKind
	Plan string // plain words
	// Blocked: the step would be refused or fail, and the run stop there.
	Blocked bool
}

// dryRunShown bounds the runs and exclusions Runs and Excluded list.
const dryRunShown = 200

// Preview dry-runs w (saved or not) as of now, with the first page of
// those who would run. See PreviewPeople.
func (e *Engine) Preview(ctx context.Context, w roster.Workflow, emails []string) (DryRun, error) {
	return e.PreviewPeople(ctx, w, emails, PeopleView{})
}

// PreviewPeople dry-runs w (saved or not) as of now and lists the page of
// people view asks for. With emails, it previews those people whatever
// the trigger; otherwise the trigger's current candidates: people who
// left and still hold an active Miro account, people who joined and have
// none, accounts outside the directory, license changes of the last 30
// days, accounts inactive long enough, or every account (schedule,
// manual). A person whose conditions do not hold, or for whom a step
// would be refused or fail, is left out, with why.
func (e *Engine) PreviewPeople(ctx context.Context, w roster.Workflow, emails []string, view PeopleView) (DryRun, error) {
	if err := e.checkPreview(ctx, &w); err != nil {
		return DryRun{}, err
	}
	d := DryRun{Workflow: w.Name, View: view}
	subjects, unknown, basis, err := e.candidates(ctx, w, emails)
	if err != nil {
		return d, err
	}
	d.Basis = basis
	conn, err := e.Store.Connection(ctx, w.ConnectionID)
	if err != nil {
		return d, fmt.Errorf("read connection %d: %w", w.ConnectionID, err)
	}
	d.Warnings = e.warnings(w, conn)
	names, err := e.teamNames(ctx, conn.ID)
	if err != nil {
		return d, err
	}
	prices, err := e.loadLicensePrices(ctx)
	if err != nil {
		return d, err
	}
	sum := newSummary(prices)
	page := &pageOf{view: view}
	leftOut := func(pr PlannedRun) {
		sum.leftOut(pr.Reason)
		d.ExcludedTotal++
		if len(pr.Steps) > 0 {
			d.Stopped++ // their conditions hold: a step stops them
		}
		if len(d.Excluded) < dryRunShown {
			d.Excluded = append(d.Excluded, Exclusion{Email: pr.Email, Reason: pr.Reason})
		}
		page.add(pr)
	}
	for _, em := range unknown {
		leftOut(PlannedRun{Email: em, Reason: reasonUnknownEmail})
	}
	consequences := workflowConsequences(w, conn, names)
	now := e.now()
	for chunk := range slices.Chunk(subjects, bulkPage) {
		if err := e.loadTeams(ctx, chunk); err != nil {
			return d, err
		}
		for _, s := range chunk {
			pr, err := e.judge(ctx, w, s, conn, names, now)
			if err != nil {
				return d, err
			}
			if pr.Reason != "" {
				leftOut(pr)
				continue
			}
			sum.wouldRun(workflowFrees(w, s))
			for _, c := range consequences {
				sum.consequence(c.Where, c.Text)
			}
			d.Total++
			if len(d.Runs) < dryRunShown {
				d.Runs = append(d.Runs, pr)
			}
			page.add(pr)
		}
	}
	d.Summary, d.People = sum.done(), page.rows
	return d, nil
}

// reasonUnknownEmail leaves out an email roster knows no one by.
const reasonUnknownEmail = "roster knows no one with this email"

// judge previews w for s: why s is left out (conditions, or a step that
// would be refused or fail), or what each step would do.
func (e *Engine) judge(ctx context.Context, w roster.Workflow, s *subject, conn roster.Connection, names map[string]string, now time.Time) (PlannedRun, error) {
	pr := PlannedRun{Email: s.Email}
	if a := s.Account; a != nil {
		pr.Name, pr.License, pr.AccountID = a.Name, a.License, a.ID
		pr.LastActivity, pr.UsageKnown = a.LastActivityAt, a.UsageKnown()
	}
	if s.Person != nil && s.Person.Name != "" {
		pr.Name = s.Person.Name
	}
	ok, why, err := e.holds(ctx, w.Conditions, s, now)
	if err != nil || !ok {
		pr.Reason = why
		return pr, err
	}
	for i, st := range w.Steps {
		plan, blocked, err := e.plan(ctx, w, i, st, s, conn, names)
		if err != nil {
			return pr, err
		}
		pr.Steps = append(pr.Steps, PlannedStep{ID: st.ID, Kind: st.Kind, Plan: plan, Blocked: blocked})
		if blocked && pr.Reason == "" {
			pr.Reason = blockedReason(st.ID, plan)
		}
	}
	return pr, nil
}

// blockedReason is why a step's blocked plan leaves a person out.
func blockedReason(stepID, plan string) string {
	if rest, ok := strings.CutPrefix(plan, "refused: "); ok {
		return fmt.Sprintf("step %s would be refused: %s", stepID, rest)
	}
	if rest, ok := strings.CutPrefix(plan, "fails: "); ok {
		return fmt.Sprintf("step %s would fail: %s", stepID, rest)
	}
	return fmt.Sprintf("step %s would stop the run: %s", stepID, plan)
}

// workflowFrees is the account whose license w's run frees for s, with a
// deactivate step, when it holds a paid seat and is active (else nil).
func workflowFrees(w roster.Workflow, s *subject) *roster.Account {
	a := s.Account
	if a == nil || !a.Active || !paidSeat(a.License) {
		return nil
	}
	for _, st := range w.Steps {
		if st.Kind == roster.StepDeactivate {
			return a
		}
	}
	return nil
}

// workflowConsequences say what w's action steps do through conn.
func workflowConsequences(w roster.Workflow, conn roster.Connection, names map[string]string) []Consequence {
	var out []Consequence
	where := connectionWords(conn)
	for _, st := range w.Steps {
		if text := stepConsequence(st, conn, names); text != "" {
			// "They are ..." continues "Step deactivate: they are ...".
			text = strings.ToLower(text[:1]) + text[1:]
			out = append(out, Consequence{Where: where, Text: fmt.Sprintf("Step %s: %s", st.ID, text)})
		}
	}
	return out
}

// Consequences in plain words, for the confirmation and the dry run.
const (
	consequenceDeactivate = "They are deactivated in the organization: they can no longer sign in to Miro, " +
		"and their paid license is freed at once. Their boards and content stay where they are, " +
		"and they can be reactivated later with everything intact."
	consequenceKeepLicense = "They stay in the organization and keep their license: removing people from teams frees no seat."
)

// stepConsequence says what an action step does to a person through
// conn, as sentences ("" for a step that changes nothing lasting).
func stepConsequence(st roster.Step, conn roster.Connection, names map[string]string) string {
	switch st.Kind {
	case roster.StepDeactivate:
		return consequenceDeactivate
	case roster.StepReactivate:
		return "They are reactivated in the organization: they can sign in again."
	case roster.StepRemove:
		return fmt.Sprintf("They are removed from team %s: %s. %s", teamWords(st.Team, names), action.Consequence(conn, roster.ActionRemove), keepWords(conn))
	case roster.StepRemoveAllTeams:
		return fmt.Sprintf("They are removed from every team they are in; in each, %s. %s", action.Consequence(conn, roster.ActionRemove), keepWords(conn))
	case roster.StepSignOut:
		return "They are signed out of every Miro session; they can sign in again."
	case roster.StepInvite:
		return fmt.Sprintf("They are invited to team %s as %s.", teamWords(st.Team, names), st.Role)
	case roster.StepChangeRole:
		return fmt.Sprintf("They are made %s of team %s.", st.Role, teamWords(st.Team, names))
	}
	return ""
}

// keepWords says that a removal keeps the person's license, where the
// connection has an organization to keep them in.
func keepWords(conn roster.Connection) string {
	if conn.Level == roster.LevelOrganization {
		return consequenceKeepLicense
	}
	return "They keep their Miro account."
}

// connectionWords names where a connection acts, in plain words: "the
// organization Example Corp", "the team Design (team-level connection)".
func connectionWords(c roster.Connection) string {
	if c.Level == roster.LevelOrganization {
		return "the organization " + cmp.Or(c.OrgName, c.OrgID)
	}
	return fmt.Sprintf("the team %s (team-level connection)", cmp.Or(c.TeamName, c.TeamID))
}

// teamWords names a team: "Design (3458764)".
func teamWords(id string, names map[string]string) string {
	if n := names[id]; n != "" {
		return fmt.Sprintf("%s (%s)", n, id)
	}
	return id
}

// teamNames are the names of a connection's teams, by Miro team id.
func (e *Engine) teamNames(ctx context.Context, connID int64) (map[string]string, error) {
	teams, err := e.Store.Teams(ctx, connID)
	if err != nil {
		return nil, fmt.Errorf("read the teams of connection %d: %w", connID, err)
	}
	names := map[string]string{}
	for _, t := range teams {
		names[t.MiroTeamID] = t.Name
	}
	return names, nil
}

// loadTeams reads the teams of many subjects in one query, so that a
// preview of thousands costs no query per person.
func (e *Engine) loadTeams(ctx context.Context, subjects []*subject) error {
	var ids []int64
	for _, s := range subjects {
		if s.Account != nil && !s.loaded {
			ids = append(ids, s.Account.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	ms, err := e.Store.MembershipsOf(ctx, ids)
	if err != nil {
		return fmt.Errorf("read the teams of %d people: %w", len(ids), err)
	}
	for _, s := range subjects {
		if s.Account != nil && !s.loaded {
			s.teams = s.teams[:0]
			for _, m := range ms[s.Account.ID] {
				s.teams = append(s.teams, m.MiroTeamID)
			}
			s.loaded = true
		}
	}
	return nil
}

// plan says what step i would do for s. A blocked plan's words name no
// one, so that the summary can count people by them.
func (e *Engine) plan(ctx context.Context, w roster.Workflow, i int, st roster.Step, s *subject, conn roster.Connection, names map[string]string) (string, bool, error) {
	a := s.Account
	team := func(id string) string { return teamWords(id, names) }
	inTeam := func(id string) (bool, error) {
		teams, err := e.teamsOf(ctx, s)
		if err != nil {
			return false, err
		}
		return slices.Contains(teams, id), nil
	}
	if problem := capabilityProblem(conn, st.Kind); problem != "" {
		return "refused: " + problem, true, nil
	}
	if st.Kind.IsAction() && st.Kind != roster.StepInvite && a == nil {
		return "skipped: no Miro account matches " + s.Email, false, nil
	}
	switch st.Kind {
	case roster.StepInvite:
		if a != nil {
			if in, err := inTeam(st.Team); err != nil || in {
				return fmt.Sprintf("nothing to do: already in team %s", team(st.Team)), false, err
			}
		}
		return fmt.Sprintf("invite %s to team %s as %s", s.Email, team(st.Team), st.Role), false, nil
	case roster.StepRemove:
		in, err := inTeam(st.Team)
		if err != nil || !in {
			return fmt.Sprintf("nothing to do: not in team %s", team(st.Team)), false, err
		}
		return fmt.Sprintf("remove from team %s", team(st.Team)), false, nil
	case roster.StepChangeRole:
		in, err := inTeam(st.Team)
		if err != nil || !in {
			return fmt.Sprintf("refused: not in team %s", team(st.Team)), true, err
		}
		return fmt.Sprintf("make %s of team %s", st.Role, team(st.Team)), false, nil
	case roster.StepRemoveAllTeams:
		teams, err := e.teamsOf(ctx, s)
		if err != nil {
			return "", false, err
		}
		var list []string
		for _, t := range teams {
			if _, ok := names[t]; ok {
				list = append(list, team(t))
			}
		}
		if len(list) == 0 {
			return "nothing to do: in no team of the connection", false, nil
		}
		return fmt.Sprintf("remove from %s: %s", plural(len(list), "team"), strings.Join(list, ", ")), false, nil
	case roster.StepDeactivate, roster.StepReactivate:
		if roster.GuestOrExternal(a.OrgRole) {
			return "refused: " + reasonGuest, true, nil
		}
		if st.Kind == roster.StepDeactivate {
			if !a.Active {
				return "nothing to do: already deactivated", false, nil
			}
			return "deactivate in the organization" + freedWords(a.License, "the"), false, nil
		}
		if a.Active {
			return "nothing to do: already active", false, nil
		}
		return "reactivate in the organization", false, nil
	case roster.StepSignOut:
		return "sign out of every Miro session", false, nil
	case roster.StepNotify:
		run := roster.WorkflowRun{WorkflowName: w.Name, Email: s.Email, Definition: w}
		if s.Person != nil {
			run.PersonID = s.Person.ID
		}
		where := st.Channel
		var to []string
		for _, t := range st.To {
			if t == roster.ApproverManager {
				m, err := e.manager(ctx, run)
				if err != nil {
					return "", false, err
				}
				if m == "" {
					return "fails: the directory names no manager for them", true, nil
				}
				t = m
			}
			to = append(to, t)
		}
		if len(to) > 0 {
			where += " to " + strings.Join(to, ", ")
		}
		data := roster.NotifyData{Workflow: w.Name, Email: s.Email, Steps: []string{"…"}}
		if s.Person != nil {
			data.Name, data.Manager, data.Department = s.Person.Name, s.Person.ManagerEmail, s.Person.Department
		}
		if a != nil {
			data.License = a.License
		}
		subject, _ := roster.RenderNotify(ctx, st.Subject, data)
		if subject == "" {
			subject, _ = roster.RenderNotify(ctx, st.Text, data)
			subject, _, _ = strings.Cut(subject, "\n")
		}
		if problem := e.channelProblem(st.Channel); problem != "" {
			// Blocked words name no one: the summary counts people by them.
			return fmt.Sprintf("fails: cannot send by %s: %s", st.Channel, problem), true, nil
		}
		return fmt.Sprintf("send by %s: %q", where, subject), false, nil
	case roster.StepApproval:
		if problem := e.viaProblem(st.Via); problem != "" {
			return fmt.Sprintf("fails: cannot ask by %s: %s", st.Via, problem), true, nil
		}
		approver := st.Approver
		if approver == roster.ApproverManager {
			run := roster.WorkflowRun{Email: s.Email}
			if s.Person != nil {
				run.PersonID = s.Person.ID
			}
			m, err := e.manager(ctx, run)
			if err != nil {
				return "", false, err
			}
			if m == "" {
				return "fails: the directory names no manager for them to approve", true, nil
			}
			approver = m + " (manager)"
		}
		ap, dn, to := w.Branches(i)
		return fmt.Sprintf("ask %s by %s, waiting up to %s; approved → %s, denied → %s, no answer → %s",
			approver, st.Via, st.Timeout, ap, dn, to), false, nil
	case roster.StepWait:
		return fmt.Sprintf("wait %s", st.Duration), false, nil
	}
	return "", false, nil
}

// reasonGuest is why guests and external users are left out of a
// deactivation: Miro's SCIM API refuses them.
const reasonGuest = "guests and external users cannot be deactivated or reactivated through Miro's API"

// plural is "1 team" or "3 teams".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
