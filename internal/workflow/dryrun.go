package workflow

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"roster"
	"roster/internal/store"
)

// DryRun is a workflow's preview: who it would run for now and what each
// step would do for them. It changes nothing and calls nothing.
type DryRun struct {
	Workflow string
	// Basis says which people were considered, in plain words.
	Basis string
	// Total is how many would run; Runs shows the first few.
	Total int
	Runs  []PlannedRun
	// Excluded are people considered whom the conditions leave out.
	ExcludedTotal int
	Excluded      []Exclusion
}

// PlannedRun is one subject's preview.
type PlannedRun struct {
	Email   string
	Name    string
	License string
	Steps   []PlannedStep
}

// PlannedStep is what one step would do.
type PlannedStep struct {
	ID   string
	Kind roster.StepKind
	Plan string // plain words
	// Blocked: the step would be refused or fail, and the run stop there.
	Blocked bool
}

// dryRunShown bounds the runs and exclusions a preview details.
const dryRunShown = 200

// Preview dry-runs w (saved or not) as of now. With emails, it previews
// those people whatever the trigger; otherwise the trigger's current
// candidates: people who left and still hold an active Miro account,
// people who joined and have none, accounts outside the directory,
// license changes of the last 30 days, accounts inactive long enough, or
// every account (schedule, manual).
func (e *Engine) Preview(ctx context.Context, w roster.Workflow, emails []string) (DryRun, error) {
	if err := e.Check(ctx, &w); err != nil {
		return DryRun{}, err
	}
	d := DryRun{Workflow: w.Name}
	subjects, basis, err := e.candidates(ctx, w, emails, &d)
	if err != nil {
		return d, err
	}
	d.Basis = basis
	conn, err := e.Store.Connection(ctx, w.ConnectionID)
	if err != nil {
		return d, fmt.Errorf("read connection %d: %w", w.ConnectionID, err)
	}
	teams, err := e.Store.Teams(ctx, conn.ID)
	if err != nil {
		return d, fmt.Errorf("read the teams of connection %d: %w", conn.ID, err)
	}
	names := map[string]string{}
	for _, t := range teams {
		names[t.MiroTeamID] = t.Name
	}
	now := e.now()
	for _, s := range subjects {
		ok, why, err := e.holds(ctx, w.Conditions, s, now)
		if err != nil {
			return d, err
		}
		if !ok {
			d.ExcludedTotal++
			if len(d.Excluded) < dryRunShown {
				d.Excluded = append(d.Excluded, Exclusion{Email: s.Email, Reason: why})
			}
			continue
		}
		d.Total++
		if len(d.Runs) >= dryRunShown {
			continue
		}
		pr := PlannedRun{Email: s.Email}
		if s.Account != nil {
			pr.Name, pr.License = s.Account.Name, s.Account.License
		}
		if s.Person != nil && s.Person.Name != "" {
			pr.Name = s.Person.Name
		}
		for i, st := range w.Steps {
			plan, blocked, err := e.plan(ctx, w, i, st, s, conn, names)
			if err != nil {
				return d, err
			}
			pr.Steps = append(pr.Steps, PlannedStep{ID: st.ID, Kind: st.Kind, Plan: plan, Blocked: blocked})
		}
		d.Runs = append(d.Runs, pr)
	}
	return d, nil
}

func (e *Engine) candidates(ctx context.Context, w roster.Workflow, emails []string, d *DryRun) ([]*subject, string, error) {
	var out []*subject
	if len(emails) > 0 {
		for _, em := range emails {
			s, err := e.subjectForEmail(ctx, em)
			if errors.Is(err, store.ErrNotFound) {
				d.ExcludedTotal++
				d.Excluded = append(d.Excluded, Exclusion{Email: roster.NormalizeEmail(em), Reason: "roster knows no one with this email"})
				continue
			}
			if err != nil {
				return nil, "", err
			}
			out = append(out, s)
		}
		return out, "the people named", nil
	}
	now := e.now()
	switch w.Trigger.Kind {
	case roster.TriggerPersonLeft, roster.TriggerPersonJoined:
		status := roster.PersonLeft
		if w.Trigger.Kind == roster.TriggerPersonJoined {
			status = roster.PersonActive
		}
		err := e.eachPerson(ctx, status, func(p roster.Person) error {
			s, err := e.subjectForPerson(ctx, p)
			if err != nil {
				return err
			}
			active := s.Account != nil && s.Account.Active && s.Account.LeftAt.IsZero()
			if (status == roster.PersonLeft && active) || (status == roster.PersonActive && s.Account == nil) {
				out = append(out, s)
			}
			return nil
		})
		if status == roster.PersonLeft {
			return out, "directory people who left and still hold an active Miro account", err
		}
		return out, "directory people who are active and have no Miro account yet", err
	case roster.TriggerNewAccount:
		accs, err := e.Store.Accounts(ctx, store.AccountFilter{})
		if err != nil {
			return nil, "", fmt.Errorf("read accounts: %w", err)
		}
		all, err := e.subjectsForAccounts(ctx, accs)
		if err != nil {
			return nil, "", err
		}
		for _, s := range all {
			if s.Person == nil {
				out = append(out, s)
			}
		}
		return out, "Miro accounts that match no directory person", nil
	case roster.TriggerLicenseChanged:
		accs, err := e.recentLicenseChanges(ctx, w, now.AddDate(0, 0, -30))
		if err != nil {
			return nil, "", err
		}
		out, err = e.subjectsForAccounts(ctx, accs)
		return out, "accounts whose license changed in the last 30 days", err
	case roster.TriggerInactive:
		accs, err := e.inactiveAccounts(ctx, w.Trigger.Days, now)
		if err != nil {
			return nil, "", err
		}
		out, err = e.subjectsForAccounts(ctx, accs)
		return out, fmt.Sprintf("accounts with a paid license inactive for %d days or more", w.Trigger.Days), err
	}
	accs, err := e.Store.Accounts(ctx, store.AccountFilter{})
	if err != nil {
		return nil, "", fmt.Errorf("read accounts: %w", err)
	}
	out, err = e.subjectsForAccounts(ctx, accs)
	return out, "every synced Miro account", err
}

func (e *Engine) eachPerson(ctx context.Context, status roster.PersonStatus, fn func(roster.Person) error) error {
	cursor := ""
	for {
		page, err := e.Store.People(ctx, store.PeopleFilter{Status: status, Cursor: cursor, Limit: 1000})
		if err != nil {
			return fmt.Errorf("read the directory: %w", err)
		}
		for _, p := range page.People {
			if err := fn(p); err != nil {
				return err
			}
		}
		if page.NextCursor == "" {
			return nil
		}
		cursor = page.NextCursor
	}
}

func (e *Engine) recentLicenseChanges(ctx context.Context, w roster.Workflow, since time.Time) ([]roster.Account, error) {
	seen := map[int64]bool{}
	var out []roster.Account
	var after int64
	for {
		chs, err := e.Store.Changes(ctx, store.ChangeFilter{AfterID: after, Limit: batch})
		if err != nil {
			return nil, fmt.Errorf("read changes: %w", err)
		}
		if len(chs) == 0 {
			return out, nil
		}
		for _, ch := range chs {
			if ch.Kind != roster.ChangeLicenseChanged || ch.At.Before(since) || seen[ch.AccountID] ||
				(w.Trigger.License != "" && ch.NewValue != w.Trigger.License) {
				continue
			}
			seen[ch.AccountID] = true
			a, err := e.Store.Account(ctx, ch.AccountID)
			if err != nil {
				return nil, fmt.Errorf("read account %d: %w", ch.AccountID, err)
			}
			if a.Email != "" {
				out = append(out, a)
			}
		}
		after = chs[len(chs)-1].ID
	}
}

// plan says what step i would do for s.
func (e *Engine) plan(ctx context.Context, w roster.Workflow, i int, st roster.Step, s *subject, conn roster.Connection, names map[string]string) (string, bool, error) {
	a := s.Account
	team := func(id string) string {
		if n := names[id]; n != "" {
			return fmt.Sprintf("%s (%s)", n, id)
		}
		return id
	}
	inTeam := func(id string) (bool, error) {
		teams, err := e.teamsOf(ctx, s)
		if err != nil {
			return false, err
		}
		for _, t := range teams {
			if t == id {
				return true, nil
			}
		}
		return false, nil
	}
	if name := stepCapability(st.Kind); name != "" {
		for _, c := range conn.Capabilities() {
			if c.Name == name && !c.Available {
				return fmt.Sprintf("refused: connection %d cannot %s: %s", conn.ID, name, c.Reason), true, nil
			}
		}
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
			return "refused: guests and external users cannot be deactivated or reactivated through Miro's API", true, nil
		}
		if st.Kind == roster.StepDeactivate {
			if !a.Active {
				return "nothing to do: already deactivated", false, nil
			}
			return fmt.Sprintf("deactivate through SCIM, freeing the %s license", a.License), false, nil
		}
		if a.Active {
			return "nothing to do: already active", false, nil
		}
		return "reactivate through SCIM", false, nil
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
					return "fails: the directory names no manager for " + s.Email, true, nil
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
		return fmt.Sprintf("send by %s: %q", where, subject), false, nil
	case roster.StepApproval:
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
				return "fails: the directory names no manager for " + s.Email + " to approve", true, nil
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

// plural is "1 team" or "3 teams".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
