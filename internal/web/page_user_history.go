package web

import (
	"context"
	"fmt"
	"slices"
	"time"

	"roster"
	"roster/internal/store"
)

// historyCap is how many entries the user page's history shows, the
// newest.
const historyCap = 50

// userHistory is one person's history, newest first: what syncs saw
// change in Miro, roster's own actions on them, the workflow runs about
// them and the directory's joined and left events, in one list.
type userHistory struct {
	Rows []historyRow
	// More is true when older entries were left out (Cap shown).
	More bool
	Cap  int
}

// historyRow is one entry of the history.
type historyRow struct {
	At time.Time
	// Source is the kind of entry (miro, roster, workflow, directory) and
	// Label its name.
	Source, Label string
	What          string
	Href          string // the entry's own page, if it has one
	Who           string
	// Outcome is an action's or a run's status; Detail says more.
	Outcome, Detail string
}

// personHistory merges the person's history from its four sources, each
// read newest first and capped, so that the page costs the same however
// long the history.
func (s *Server) personHistory(ctx context.Context, acc roster.Account, personID int64, teamByID map[string]roster.Team) (userHistory, error) {
	h := userHistory{Cap: historyCap}
	team := func(id string) string { return teamName(teamByID, id) }

	// Miro, as syncs saw it: the store lists a person's changes oldest
	// first; the newest are at the end.
	changes, err := s.store.Changes(ctx, store.ChangeFilter{AccountID: acc.ID})
	if err != nil {
		return h, fmt.Errorf("load the changes: %w", err)
	}
	for _, c := range changes[max(0, len(changes)-historyCap-1):] {
		h.Rows = append(h.Rows, historyRow{At: c.At, Source: "miro", Label: "Miro", What: changeWords(c, team), Who: "seen by a sync"})
	}

	// roster's own actions, whoever asked for them.
	actions, err := s.store.ActionsFor(ctx, acc.MiroUserID, acc.Email, historyCap+1)
	if err != nil {
		return h, fmt.Errorf("load the actions: %w", err)
	}
	for _, a := range actions {
		h.Rows = append(h.Rows, historyRow{At: a.CreatedAt, Source: "roster", Label: "roster", What: actionWords(a, team),
			Who: actorName(a.Actor), Outcome: string(a.Status), Detail: a.Result})
	}

	if acc.Email != "" {
		runs, err := s.store.Runs(ctx, store.RunFilter{Email: acc.Email, Limit: historyCap + 1})
		if err != nil {
			return h, fmt.Errorf("load the workflow runs: %w", err)
		}
		for _, run := range runs.Runs {
			row := historyRow{At: run.CreatedAt, Source: "workflow", Label: "Workflow",
				What: "Workflow " + run.WorkflowName + " ran", Who: run.Trigger, Outcome: string(run.Status), Detail: run.Error}
			if s.wf != nil { // the run pages exist
				row.Href = fmt.Sprintf("/workflows/runs/%d", run.ID)
			}
			h.Rows = append(h.Rows, row)
		}
	}

	if personID > 0 {
		events, err := s.store.PersonEventsFor(ctx, personID, historyCap+1)
		if err != nil {
			return h, fmt.Errorf("load the directory's events: %w", err)
		}
		for _, e := range events {
			what := "Joined the company"
			if e.Kind == roster.PersonEventLeft {
				what = "Left the company"
			}
			h.Rows = append(h.Rows, historyRow{At: e.At, Source: "directory", Label: "Directory", What: what, Who: "the directory"})
		}
	}

	slices.SortStableFunc(h.Rows, func(a, b historyRow) int { return b.At.Compare(a.At) })
	if len(h.Rows) > historyCap {
		h.Rows, h.More = h.Rows[:historyCap], true
	}
	return h, nil
}

// changeWords is a change a sync saw, in words.
func changeWords(c roster.Change, team func(string) string) string {
	from, to := c.OldValue, c.NewValue
	switch c.Kind {
	case roster.ChangeJoined:
		return "Joined the organization"
	case roster.ChangeLeft:
		return "No longer seen in Miro"
	case roster.ChangeDeactivated:
		return "Deactivated in Miro"
	case roster.ChangeReactivated:
		return "Reactivated in Miro"
	case roster.ChangeRoleChanged:
		return "Organization role changed from " + orDash(orgRoleWords(from)) + " to " + orDash(orgRoleWords(to))
	case roster.ChangeLicenseChanged:
		return "License changed from " + orDash(roster.LicenseName(from)) + " to " + orDash(roster.LicenseName(to))
	case roster.ChangeTeamJoined:
		return "Joined " + team(c.MiroTeamID) + " as " + roster.TeamRoleName(to)
	case roster.ChangeTeamLeft:
		return "Left " + team(c.MiroTeamID)
	case roster.ChangeTeamRoleChanged:
		return "Role in " + team(c.MiroTeamID) + " changed from " + roster.TeamRoleName(from) + " to " + roster.TeamRoleName(to)
	case roster.ChangeEmailChanged:
		return "Email changed from " + orDash(from) + " to " + orDash(to)
	case roster.ChangeNameChanged:
		return "Name changed from " + orDash(from) + " to " + orDash(to)
	}
	return humanize(string(c.Kind)) + " " + from + " → " + to
}

// actionWords is one of roster's actions, in words.
func actionWords(a roster.Action, team func(string) string) string {
	switch a.Kind {
	case roster.ActionInvite:
		return "Invite to " + team(a.MiroTeamID) + " as " + roster.TeamRoleName(a.Role)
	case roster.ActionRemove:
		return "Remove from " + team(a.MiroTeamID)
	case roster.ActionChangeRole:
		return "Change role in " + team(a.MiroTeamID) + " to " + roster.TeamRoleName(a.Role)
	case roster.ActionDeactivate:
		return "Deactivate"
	case roster.ActionReactivate:
		return "Reactivate"
	case roster.ActionSignOut:
		return "Sign out of every session"
	}
	return humanize(string(a.Kind))
}

// orDash is s, or a dash for nothing.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
