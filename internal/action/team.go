package action

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"roster"
	"roster/internal/miro"
	"roster/internal/store"
)

// Invite invites Request.Email to the team as Request.Role (member when
// empty). The person must already be in the organization: Miro brings
// nobody in through a team invite.
func (r *Runner) Invite(ctx context.Context, req Request) (roster.Action, error) {
	return r.observe(roster.ActionInvite)(r.teamAction(ctx, roster.ActionInvite, req))
}

// Remove removes a person from the team. What happens to their boards
// depends on the API the connection uses; Consequence says it in words.
func (r *Runner) Remove(ctx context.Context, req Request) (roster.Action, error) {
	return r.observe(roster.ActionRemove)(r.teamAction(ctx, roster.ActionRemove, req))
}

// ChangeRole sets a person's role in the team to Request.Role.
func (r *Runner) ChangeRole(ctx context.Context, req Request) (roster.Action, error) {
	return r.observe(roster.ActionChangeRole)(r.teamAction(ctx, roster.ActionChangeRole, req))
}

// Validate checks a request of kind as Invite, Remove, ChangeRole,
// Deactivate, Reactivate or SignOut would, without recording or calling
// anything, so that a form or a command can report a bad request before
// asking to confirm it.
func (r *Runner) Validate(ctx context.Context, kind roster.ActionKind, req Request) error {
	if r.Store == nil {
		return errors.New("action: no store configured")
	}
	switch kind {
	case roster.ActionInvite, roster.ActionRemove, roster.ActionChangeRole:
	case roster.ActionDeactivate, roster.ActionReactivate, roster.ActionSignOut:
		_, err := r.validateOrg(ctx, kind, req)
		return err
	default:
		return invalid("kind", "unknown action %q", kind)
	}
	_, err := r.validate(ctx, kind, req)
	return err
}

// Consequence is what the admin is told before confirming an action of
// kind through conn: for a removal, what becomes of the person's boards,
// which depends on the API the connection acts through. Other kinds have
// no consequence to confirm ("").
func Consequence(conn roster.Connection, kind roster.ActionKind) string {
	if kind != roster.ActionRemove {
		return ""
	}
	if viaOrgAPI(conn) {
		return "boards the person owns in this team are reassigned to the team's admin; nothing is deleted"
	}
	return "boards and projects the person owns in this team are removed too; they can be restored from the team's trash"
}

// viaOrgAPI reports whether conn manages team members through the v2
// organization API, the same test Connection.Capabilities makes: an
// Enterprise organization, a Company Admin installer and
// organizations:teams:write. Any other connection that may manage does
// so through the legacy v1 team API, on its own team only.
func viaOrgAPI(c roster.Connection) bool {
	return c.OrgID != "" && c.Enterprise && c.CompanyAdmin && c.HasScope(roster.ScopeOrgTeamsWrite)
}

// teamTarget is a validated team action: the connection, the team and the
// person, as the store knows them.
type teamTarget struct {
	kind    roster.ActionKind
	conn    roster.Connection
	team    roster.Team
	email   string // lower-case; empty when only the user id is known
	userID  string // empty for an invite of someone the store does not know
	name    string
	role    string
	known   bool // the store has an account for the person
	actor   string
	key     string
	teamTag string // "Design (3458764)" for messages
}

// teamAction validates req, then runs it through execute.
func (r *Runner) teamAction(ctx context.Context, kind roster.ActionKind, req Request) (roster.Action, error) {
	if r.Store == nil {
		return roster.Action{}, errors.New("action: no store configured")
	}
	t, err := r.validate(ctx, kind, req)
	if errors.Is(err, ErrInvalid) {
		return roster.Action{}, err // it names the field already
	}
	if err != nil {
		return roster.Action{}, fmt.Errorf("%s: %w", kind, err)
	}
	j := r.teamJob(t)
	j.grace = req.PendingGrace
	return r.execute(ctx, j)
}

// validate checks req against the store and the connection, reading only:
// a bad request leaves nothing behind.
func (r *Runner) validate(ctx context.Context, kind roster.ActionKind, req Request) (teamTarget, error) {
	t := teamTarget{kind: kind, key: strings.TrimSpace(req.Key), actor: strings.TrimSpace(req.Actor)}
	if err := roster.CheckActionKey(t.key); err != nil {
		return t, invalid("key", "%v", err)
	}
	switch {
	case t.actor == "":
		return t, invalid("actor", "is required: every action records who asked for it")
	case req.ConnectionID <= 0:
		return t, invalid("connection", "is required")
	}

	// Role.
	t.role = strings.TrimSpace(req.Role)
	switch kind {
	case roster.ActionInvite:
		t.role = cmp.Or(t.role, roster.TeamRoleMember)
	case roster.ActionRemove:
		if t.role != "" {
			return t, invalid("role", "a removal takes no role")
		}
	case roster.ActionChangeRole:
		if t.role == "" {
			return t, invalid("role", `is required: "member" or "admin"`)
		}
	}
	if kind != roster.ActionRemove && t.role != roster.TeamRoleMember && t.role != roster.TeamRoleAdmin {
		return t, invalid("role", `must be "member" or "admin", got %q`, req.Role)
	}

	// Who. Syntax first, so a typo is reported before any lookup.
	email := strings.TrimSpace(req.Email)
	t.userID = strings.TrimSpace(req.MiroUserID)
	switch {
	case kind == roster.ActionInvite && email == "":
		return t, invalid("email", "is required: whom to invite")
	case kind == roster.ActionInvite && t.userID != "":
		return t, invalid("user", "an invite goes by email; leave the Miro user id empty")
	case kind != roster.ActionInvite && email == "" && t.userID == "":
		return t, invalid("email", "give the person's email or Miro user id")
	}
	if email != "" {
		var err error
		if t.email, err = roster.ParseEmail(email); err != nil {
			return t, invalid("email", "%v", err)
		}
	}

	// Connection.
	conn, err := r.Store.Connection(ctx, req.ConnectionID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return t, invalid("connection", "no connection %d", req.ConnectionID)
	case err != nil:
		return t, fmt.Errorf("read connection %d: %w", req.ConnectionID, err)
	case conn.Status == roster.StatusDisconnected:
		return t, invalid("connection", "connection %d is disconnected; connect it again to act through it", conn.ID)
	}
	t.conn = conn

	// Team: a team-level connection, or one that can only use the legacy
	// team API, reaches its own team and no other.
	teamID := strings.TrimSpace(req.MiroTeamID)
	ownTeamOnly := conn.Level == roster.LevelTeam || !viaOrgAPI(conn)
	if teamID == "" {
		if !ownTeamOnly {
			return t, invalid("team", "is required: which team of the organization")
		}
		teamID = conn.TeamID
	}
	if ownTeamOnly && teamID != conn.TeamID {
		if conn.Level == roster.LevelTeam {
			return t, invalid("team", "a team-level connection acts only on its own team %s", teamName(conn))
		}
		if ok, _ := capable(conn, roster.CapManage); ok {
			return t, invalid("team", "connection %d reaches only its own team %s, through the legacy team API", conn.ID, teamName(conn))
		}
	}
	teams, err := r.Store.Teams(ctx, conn.ID)
	if err != nil {
		return t, fmt.Errorf("read the teams of connection %d: %w", conn.ID, err)
	}
	found := false
	for _, tm := range teams {
		if tm.MiroTeamID == teamID {
			t.team, found = tm, true
			break
		}
	}
	switch {
	case !found && len(teams) == 0:
		return t, invalid("team", "connection %d has not synced any team yet; run roster sync --connection %d first", conn.ID, conn.ID)
	case !found:
		return t, invalid("team", "team %s is not a team connection %d covers (as of its last sync)", teamID, conn.ID)
	}
	t.teamTag = t.team.MiroTeamID
	if t.team.Name != "" {
		t.teamTag = fmt.Sprintf("%s (%s)", t.team.Name, t.team.MiroTeamID)
	}

	// The person, as the store knows them.
	var acc roster.Account
	switch {
	case t.userID != "":
		accs, err := r.Store.AccountsByMiroIDs(ctx, []string{t.userID})
		if err != nil {
			return t, fmt.Errorf("look up Miro user %s: %w", t.userID, err)
		}
		acc, t.known = accs[t.userID]
	default:
		accs, err := r.Store.AccountsByEmails(ctx, []string{t.email})
		if err != nil {
			return t, fmt.Errorf("look up %s: %w", t.email, err)
		}
		acc, t.known = accs[t.email]
		if !t.known && kind != roster.ActionInvite {
			return t, invalid("email", "roster knows no one with email %s; sync first, or give the Miro user id", t.email)
		}
	}
	if t.known {
		t.userID = acc.MiroUserID
		t.email = cmp.Or(acc.Email, t.email) // the account's, when both were given
		t.name = acc.Name
	}
	return t, nil
}

// teamName names the connection's own team in messages.
func teamName(c roster.Connection) string {
	if c.TeamName != "" {
		return fmt.Sprintf("%s (%s)", c.TeamName, c.TeamID)
	}
	return c.TeamID
}

// who names a person in messages: the email when known.
func who(email, userID string) string {
	if email != "" {
		return email
	}
	return "Miro user " + userID
}

// teamJob turns a validated team action into a job.
func (r *Runner) teamJob(t teamTarget) job {
	a := roster.Action{
		Key: t.key, Kind: t.kind, ConnectionID: t.conn.ID, MiroTeamID: t.team.MiroTeamID,
		MiroUserID: t.userID, Email: t.email, Role: t.role, Actor: t.actor,
	}
	// The client is built only when Miro is called: a key that already
	// finished never opens the token.
	var api teamAPI
	connect := func() (teamAPI, error) {
		if api != nil {
			return api, nil
		}
		c, err := r.client(t.conn)
		if err != nil {
			return nil, err
		}
		if viaOrgAPI(t.conn) {
			api = v2Team{c: c, orgID: t.conn.OrgID, canReadOrg: t.conn.HasScope(roster.ScopeOrgRead)}
		} else {
			api = legacyTeam{l: c.Legacy()}
		}
		return api, nil
	}
	s := teamSteps{r: r, t: t, connect: connect}
	j := job{action: a, conn: t.conn, capability: roster.CapManage, target: who(t.email, t.userID)}
	var check func(context.Context) (outcome, bool)
	switch t.kind {
	case roster.ActionInvite:
		check, j.act = s.checkInvite, s.invite
	case roster.ActionRemove:
		check, j.act = s.checkRemove, s.remove
	case roster.ActionChangeRole:
		check, j.act = s.checkRole, s.changeRole
	}
	// A team's member list is the state to check, whenever it changed.
	j.check = func(ctx context.Context, _ roster.Action) (outcome, bool) { return check(ctx) }
	return j
}

// teamSteps are the checks and calls of the team actions.
type teamSteps struct {
	r       *Runner
	t       teamTarget
	connect func() (teamAPI, error)
}

func (s teamSteps) who() string { return who(s.t.email, s.t.userID) }

// presence is whether the person is in the team at Miro.
type presence int

const (
	cannotTell presence = iota // the connection cannot look them up
	present
	absent
)

// lookup finds the person in the team at Miro; fail is set when asking
// failed.
func (s teamSteps) lookup(ctx context.Context) (m member, p presence, fail *outcome) {
	api, err := s.connect()
	if err != nil {
		out := failure(err, "reach Miro")
		return member{}, cannotTell, &out
	}
	m, in, err := api.find(ctx, s.t.team.MiroTeamID, s.t.userID, s.t.email)
	switch {
	case errors.Is(err, errCannotTell):
		return member{}, cannotTell, nil
	case err != nil:
		out := failure(err, "check team "+s.t.teamTag+" before retrying")
		return member{}, cannotTell, &out
	case in:
		return m, present, nil
	}
	return member{}, absent, nil
}

func (s teamSteps) checkInvite(ctx context.Context) (outcome, bool) {
	m, p, fail := s.lookup(ctx)
	switch {
	case fail != nil:
		return *fail, true
	case p != present:
		return outcome{}, false
	case s.t.role == roster.TeamRoleAdmin && m.role == roster.TeamRoleMember:
		// The legacy API invites members only, and an admin invite
		// promotes after; the earlier run stopped in between.
		return s.setRole(ctx, "invite "+s.who()+" to team "+s.t.teamTag+" as admin", m.userID), true
	}
	return outcome{status: roster.ActionSucceeded,
		result: fmt.Sprintf("%s is in team %s as %s (found in Miro before retrying)", s.who(), s.t.teamTag, m.role),
		answer: m.answer, effect: s.r.joinEffect(s.t, m)}, true
}

func (s teamSteps) invite(ctx context.Context, retry bool) outcome {
	doing := "invite " + s.who() + " to team " + s.t.teamTag
	api, err := s.connect()
	if err != nil {
		return failure(err, doing)
	}
	m, err := api.invite(ctx, s.t.team.MiroTeamID, s.t.email, s.t.role)
	var ae *miro.APIError
	switch {
	case err == nil:
		return outcome{status: roster.ActionSucceeded,
			result: fmt.Sprintf("invited %s to team %s as %s", s.who(), s.t.teamTag, m.role),
			answer: m.answer, effect: s.r.joinEffect(s.t, m)}
	case errors.As(err, &ae) && ae.Status == 409 && retry:
		// Miro could not be asked before this retry; the earlier run of
		// this key is what made them a member. The next sync records it.
		return outcome{status: roster.ActionSucceeded,
			result: fmt.Sprintf("%s is a member of team %s (an earlier run of this action invited them)", s.who(), s.t.teamTag),
			answer: answerOf(err)}
	case errors.As(err, &ae) && ae.Status == 409:
		return outcome{status: roster.ActionRefused,
			result: fmt.Sprintf("%s is already a member of team %s", s.who(), s.t.teamTag), answer: answerOf(err)}
	case errors.As(err, &ae) && (ae.Status == 404 || ae.Status == 400 && strings.Contains(strings.ToLower(ae.Message), "organization")):
		return outcome{status: roster.ActionRefused,
			result: fmt.Sprintf("%s is not a member of the organization; people join the organization through SCIM or your identity provider", s.who()),
			answer: answerOf(err)}
	}
	return failure(err, doing)
}

func (s teamSteps) checkRemove(ctx context.Context) (outcome, bool) {
	_, p, fail := s.lookup(ctx)
	switch {
	case fail != nil:
		return *fail, true
	case p != absent:
		return outcome{}, false
	}
	return outcome{status: roster.ActionSucceeded,
		result: fmt.Sprintf("%s is not in team %s (found in Miro before retrying)", s.who(), s.t.teamTag),
		answer: "not a member of team " + s.t.team.MiroTeamID, effect: s.leaveEffect()}, true
}

func (s teamSteps) remove(ctx context.Context, _ bool) outcome {
	doing := "remove " + s.who() + " from team " + s.t.teamTag
	api, err := s.connect()
	if err != nil {
		return failure(err, doing)
	}
	answer, err := api.remove(ctx, s.t.team.MiroTeamID, s.t.userID, s.t.email)
	var ae *miro.APIError
	switch {
	case err == nil:
		return outcome{status: roster.ActionSucceeded,
			result: fmt.Sprintf("removed %s from team %s; %s", s.who(), s.t.teamTag, removedContent(s.t.conn)),
			answer: answer, effect: s.leaveEffect()}
	case errors.Is(err, errNotMember) || errors.As(err, &ae) && ae.Status == 404:
		return outcome{status: roster.ActionSucceeded,
			result: fmt.Sprintf("%s was not in team %s; nothing to remove", s.who(), s.t.teamTag),
			answer: notMemberAnswer(err, s.t.team.MiroTeamID), effect: s.leaveEffect()}
	case errors.As(err, &ae) && ae.Status == 409:
		return outcome{status: roster.ActionRefused,
			result: fmt.Sprintf("cannot remove the last admin of team %s; make someone else admin first", s.t.teamTag),
			answer: answerOf(err)}
	}
	return failure(err, doing)
}

func (s teamSteps) checkRole(ctx context.Context) (outcome, bool) {
	m, p, fail := s.lookup(ctx)
	switch {
	case fail != nil:
		return *fail, true
	case p == absent:
		return s.notMember("not a member of team " + s.t.team.MiroTeamID), true
	case p == present && m.role == s.t.role:
		return outcome{status: roster.ActionSucceeded,
			result: fmt.Sprintf("%s is %s of team %s (found in Miro before retrying)", s.who(), s.t.role, s.t.teamTag),
			answer: m.answer, effect: s.r.joinEffect(s.t, m)}, true
	}
	return outcome{}, false
}

func (s teamSteps) changeRole(ctx context.Context, _ bool) outcome {
	return s.setRole(ctx, "make "+s.who()+" "+s.t.role+" of team "+s.t.teamTag, s.t.userID)
}

// setRole sets the role of userID and reads the answer; an invite's
// retry uses it to finish promoting.
func (s teamSteps) setRole(ctx context.Context, doing, userID string) outcome {
	api, err := s.connect()
	if err != nil {
		return failure(err, doing)
	}
	m, err := api.setRole(ctx, s.t.team.MiroTeamID, userID, s.t.email, s.t.role)
	var ae *miro.APIError
	switch {
	case err == nil:
		return outcome{status: roster.ActionSucceeded,
			result: fmt.Sprintf("%s is now %s of team %s", s.who(), m.role, s.t.teamTag),
			answer: m.answer, effect: s.r.joinEffect(s.t, m)}
	case errors.Is(err, errNotMember) || errors.As(err, &ae) && ae.Status == 404:
		return s.notMember(notMemberAnswer(err, s.t.team.MiroTeamID))
	case errors.As(err, &ae) && ae.Status == 409 && s.t.role != roster.TeamRoleAdmin:
		return outcome{status: roster.ActionRefused,
			result: fmt.Sprintf("cannot demote the last admin of team %s; make someone else admin first", s.t.teamTag),
			answer: answerOf(err)}
	}
	return failure(err, doing)
}

func (s teamSteps) notMember(answer string) outcome {
	return outcome{status: roster.ActionRefused,
		result: fmt.Sprintf("%s is not a member of team %s", s.who(), s.t.teamTag), answer: answer}
}

// notMemberAnswer is Miro's 404, or what roster saw in the team's list.
func notMemberAnswer(err error, teamID string) string {
	if errors.Is(err, errNotMember) {
		return "not in the member list of team " + teamID
	}
	return answerOf(err)
}

// removedContent says, after a removal, what became of the person's boards.
func removedContent(conn roster.Connection) string {
	if viaOrgAPI(conn) {
		return "boards they owned there went to the team's admin"
	}
	return "boards and projects they owned there went to the team's trash"
}

// joinEffect writes the membership Miro reported, and the account when
// the store did not know the person (the store keeps what a sync wrote
// for an account it knows).
func (r *Runner) joinEffect(t teamTarget, m member) store.ActionEffect {
	userID := cmp.Or(m.userID, t.userID)
	if userID == "" {
		return store.ActionEffect{} // the next sync records it
	}
	e := store.ActionEffect{Membership: &roster.Membership{MiroUserID: userID, MiroTeamID: t.team.MiroTeamID, Role: m.role}}
	if !t.known || t.userID != userID {
		now := r.now()
		e.Account = &roster.Account{
			MiroUserID: userID, Email: cmp.Or(m.email, t.email), Name: cmp.Or(m.name, t.name),
			Active: true, FirstSeenAt: now, LastSeenAt: now,
		}
	}
	return e
}

func (s teamSteps) leaveEffect() store.ActionEffect {
	if s.t.userID == "" {
		return store.ActionEffect{}
	}
	return store.ActionEffect{RemoveMembership: &store.MembershipKey{MiroTeamID: s.t.team.MiroTeamID, MiroUserID: s.t.userID}}
}
