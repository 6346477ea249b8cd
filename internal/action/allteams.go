package action

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"roster"
	"roster/internal/store"
)

// Team outcomes of RemoveFromAllTeams.
const (
	TeamRemoved = "removed"
	TeamSkipped = "skipped"
	TeamFailed  = "failed"
)

// TeamOutcome is what RemoveFromAllTeams did in one team.
type TeamOutcome struct {
	MiroTeamID string
	TeamName   string
	Outcome    string // TeamRemoved, TeamSkipped or TeamFailed
	Reason     string // plain words: the removal's result, or why not
	// Actions are the actions run for the team under derived keys: the
	// service account's invite or promotion, if any, then the removal.
	Actions []roster.Action
}

// AllTeamsSummary is RemoveFromAllTeams' outcome, team by team.
type AllTeamsSummary struct {
	Teams []TeamOutcome
}

// Counts are the summary's removed, skipped and failed teams.
func (s AllTeamsSummary) Counts() (removed, skipped, failed int) {
	for _, t := range s.Teams {
		switch t.Outcome {
		case TeamRemoved:
			removed++
		case TeamSkipped:
			skipped++
		default:
			failed++
		}
	}
	return
}

// RemoveFromAllTeams removes the person (Request.Email or MiroUserID) from
// every team of the connection the store has them in, each through Remove
// under the derived key Key+":"+teamID, so a resumed run repeats no team.
// Where the person is the team's last admin, Request.ServiceAccountEmail is
// made admin first (invite or promotion, key Key+":"+teamID+":service"); with
// no service account the team is skipped and the reason audited. The error
// is only for a bad request or an unreadable store: per-team failures are
// in the summary.
func (r *Runner) RemoveFromAllTeams(ctx context.Context, req Request) (AllTeamsSummary, error) {
	sum, err := r.removeFromAllTeams(ctx, req)
	r.observeAllTeams(sum, err)
	return sum, err
}

// observeAllTeams tells Observe about every action run for every team
// (the service account's invite or promotion, the removal). A team
// skipped (last admin, no service account) counts as a refused removal;
// a team that failed before any action was recorded, or a request turned
// away as a whole, as a removal not run.
func (r *Runner) observeAllTeams(sum AllTeamsSummary, err error) {
	if r.Observe == nil {
		return
	}
	if err != nil {
		r.Observe(roster.ActionRemove, roster.Action{}, err)
		return
	}
	for _, t := range sum.Teams {
		for _, a := range t.Actions {
			r.Observe(a.Kind, a, nil)
		}
		switch {
		case t.Outcome == TeamSkipped:
			r.Observe(roster.ActionRemove, roster.Action{Kind: roster.ActionRemove, Status: roster.ActionRefused}, nil)
		case len(t.Actions) == 0:
			r.Observe(roster.ActionRemove, roster.Action{}, errors.New(t.Reason))
		}
	}
}

func (r *Runner) removeFromAllTeams(ctx context.Context, req Request) (AllTeamsSummary, error) {
	var sum AllTeamsSummary
	if r.Store == nil {
		return sum, errors.New("action: no store configured")
	}
	org := req
	org.Role, org.MiroTeamID = "", ""
	t, err := r.validateOrg(ctx, roster.ActionRemove, org)
	if err != nil {
		return sum, err
	}
	if req.Role != "" || req.MiroTeamID != "" {
		return sum, invalid("team", "removal from every team takes no team and no role")
	}
	svc := roster.NormalizeEmail(req.ServiceAccountEmail)
	if svc != "" {
		if err := roster.CheckEmail(svc); err != nil {
			return sum, invalid("service account", "%v", err)
		}
	}
	if svc != "" && svc == t.acc.Email {
		return sum, invalid("service account", "the service account cannot be the person removed")
	}
	teams, err := r.Store.Teams(ctx, t.conn.ID)
	if err != nil {
		return sum, fmt.Errorf("read the teams of connection %d: %w", t.conn.ID, err)
	}
	names := map[string]string{}
	for _, tm := range teams {
		names[tm.MiroTeamID] = tm.Name
	}
	ms, err := r.Store.AccountMemberships(ctx, t.acc.ID)
	if err != nil {
		return sum, fmt.Errorf("read the teams of %s: %w", t.acc.Email, err)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].MiroTeamID < ms[j].MiroTeamID })
	for _, m := range ms {
		name, ok := names[m.MiroTeamID]
		if !ok {
			continue // a team another connection covers
		}
		sum.Teams = append(sum.Teams, r.removeFromTeam(ctx, req, t, m, name, svc))
	}
	return sum, nil
}

func (r *Runner) removeFromTeam(ctx context.Context, req Request, t orgTarget, m roster.Membership, name, svc string) TeamOutcome {
	out := TeamOutcome{MiroTeamID: m.MiroTeamID, TeamName: name}
	key := strings.TrimSpace(req.Key) + ":" + m.MiroTeamID
	tag := m.MiroTeamID
	if name != "" {
		tag = fmt.Sprintf("%s (%s)", name, m.MiroTeamID)
	}
	fail := func(err error) TeamOutcome {
		out.Outcome, out.Reason = TeamFailed, err.Error()
		return out
	}
	// A finished removal under this key is the team's outcome: no check.
	done, err := r.Store.ActionByKey(ctx, key)
	finished := err == nil && done.Status != roster.ActionPending && done.Status != roster.ActionFailed
	if m.Role == roster.TeamRoleAdmin && !finished {
		last, err := r.lastAdmin(ctx, m.MiroTeamID, t.acc.MiroUserID)
		if err != nil {
			return fail(err)
		}
		if last {
			if svc == "" {
				out.Outcome = TeamSkipped
				out.Reason = fmt.Sprintf("%s is the last admin of team %s and no service account is set to take over", t.acc.Email, tag)
				entry := roster.AuditEntry{At: r.now(), Actor: strings.TrimSpace(req.Actor), Kind: "action",
					Action: string(roster.ActionRemove), Target: t.acc.Email, ConnectionID: t.conn.ID,
					Result: "refused", Detail: "skipped: " + out.Reason}
				if err := r.Store.AppendAudit(ctx, &entry); err != nil {
					return fail(fmt.Errorf("record the skip of team %s: %w", tag, err))
				}
				return out
			}
			a, err := r.makeAdmin(ctx, req, t.conn.ID, m.MiroTeamID, key+":service", svc)
			if a.Key != "" {
				out.Actions = append(out.Actions, a)
			}
			if err != nil {
				return fail(fmt.Errorf("make %s admin of team %s first: %w", svc, tag, err))
			}
		}
	}
	rm := Request{Key: key, ConnectionID: t.conn.ID, MiroTeamID: m.MiroTeamID, MiroUserID: t.acc.MiroUserID, Actor: req.Actor,
		PendingGrace: req.PendingGrace}
	a, err := r.teamAction(ctx, roster.ActionRemove, rm)
	if a.Key != "" {
		out.Actions = append(out.Actions, a)
	}
	if err != nil {
		return fail(err)
	}
	out.Outcome, out.Reason = TeamRemoved, a.Result
	return out
}

// lastAdmin reports whether userID is the only admin of the team the
// store knows (as of the last sync and the actions since).
func (r *Runner) lastAdmin(ctx context.Context, teamID, userID string) (bool, error) {
	accs, err := r.Store.Accounts(ctx, store.AccountFilter{MiroTeamID: teamID})
	if err != nil {
		return false, fmt.Errorf("read the members of team %s: %w", teamID, err)
	}
	for _, acc := range accs {
		if acc.MiroUserID == userID {
			continue
		}
		ms, err := r.Store.AccountMemberships(ctx, acc.ID)
		if err != nil {
			return false, fmt.Errorf("read the teams of %s: %w", acc.Email, err)
		}
		for _, m := range ms {
			if m.MiroTeamID == teamID && m.Role == roster.TeamRoleAdmin {
				return false, nil
			}
		}
	}
	return true, nil
}

// makeAdmin makes email admin of the team: a promotion when the store has
// them in it, an invite as admin otherwise.
func (r *Runner) makeAdmin(ctx context.Context, req Request, connID int64, teamID, key, email string) (roster.Action, error) {
	in := Request{Key: key, ConnectionID: connID, MiroTeamID: teamID, Email: email, Role: roster.TeamRoleAdmin, Actor: req.Actor,
		PendingGrace: req.PendingGrace}
	accs, err := r.Store.AccountsByEmails(ctx, []string{email})
	if err != nil {
		return roster.Action{}, err
	}
	if acc, ok := accs[email]; ok {
		ms, err := r.Store.AccountMemberships(ctx, acc.ID)
		if err != nil {
			return roster.Action{}, err
		}
		for _, m := range ms {
			if m.MiroTeamID == teamID {
				if m.Role == roster.TeamRoleAdmin {
					return roster.Action{}, nil
				}
				return r.teamAction(ctx, roster.ActionChangeRole, in)
			}
		}
	}
	return r.teamAction(ctx, roster.ActionInvite, in)
}
