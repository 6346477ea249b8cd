package action

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"roster"
	"roster/internal/miro"
)

// teamAPI is how a connection manages a team's members: the v2
// organization API, or the legacy v1 team API for connections without it.
type teamAPI interface {
	// find looks the person up in the team, by user id or else by email;
	// errCannotTell when the connection has no way to.
	find(ctx context.Context, teamID, userID, email string) (m member, in bool, err error)
	invite(ctx context.Context, teamID, email, role string) (member, error)
	// setRole and remove return errNotMember when the person is not in
	// the team (or Miro's 404).
	setRole(ctx context.Context, teamID, userID, email, role string) (member, error)
	remove(ctx context.Context, teamID, userID, email string) (answer string, err error)
}

var (
	errCannotTell = errors.New("cannot look the person up")
	errNotMember  = errors.New("not a member of the team")
)

// member is a person in a team, as Miro answered.
type member struct {
	userID string
	email  string // legacy only; v2 team members carry no email
	name   string // legacy only
	role   string
	ref    string // the legacy team-user-connection id
	answer string // Miro's answer, for the record
}

// v2Team manages members through /v2/orgs/{org}/teams/{team}/members.
type v2Team struct {
	c          *miro.Client
	orgID      string
	canReadOrg bool // organizations:read: emails can be looked up
}

func (v v2Team) find(ctx context.Context, teamID, userID, email string) (member, bool, error) {
	if userID == "" {
		// v2 team members carry no email: find the user id first.
		if !v.canReadOrg {
			return member{}, false, errCannotTell
		}
		found, err := v.c.OrgMembersByEmail(ctx, v.orgID, []string{email})
		if err != nil {
			return member{}, false, err
		}
		for _, m := range found {
			if strings.EqualFold(m.Email, email) {
				userID = m.ID
			}
		}
		if userID == "" {
			return member{}, false, nil // not in the organization, so not in the team
		}
	}
	m, err := v.c.TeamMember(ctx, v.orgID, teamID, userID)
	if miro.IsNotFound(err) {
		return member{}, false, nil
	}
	if err != nil {
		return member{}, false, err
	}
	return v2Member(m, "200: team member %s, role %s"), true, nil
}

func v2Member(m miro.TeamMember, answer string) member {
	return member{userID: m.ID, role: m.Role.String(), answer: fmt.Sprintf(answer, m.ID, m.Role)}
}

func (v v2Team) invite(ctx context.Context, teamID, email, role string) (member, error) {
	m, err := v.c.InviteTeamMember(ctx, v.orgID, teamID, email, role)
	if err != nil {
		return member{}, err
	}
	out := v2Member(m, "201: team member %s, role %s")
	out.email = email
	return out, nil
}

func (v v2Team) setRole(ctx context.Context, teamID, userID, _, role string) (member, error) {
	m, err := v.c.UpdateTeamMemberRole(ctx, v.orgID, teamID, userID, role)
	if err != nil {
		return member{}, err
	}
	return v2Member(m, "200: team member %s, role %s"), nil
}

func (v v2Team) remove(ctx context.Context, teamID, userID, _ string) (string, error) {
	if err := v.c.DeleteTeamMember(ctx, v.orgID, teamID, userID); err != nil {
		return "", err
	}
	return "204: team member " + userID + " deleted", nil
}

// legacyTeam manages members through the v1 team-user-connections. Its
// changes go by connection id, found by listing the team.
type legacyTeam struct{ l miro.LegacyTeamAPI }

func legacyMember(uc miro.TeamUserConnection, answer string) member {
	return member{userID: string(uc.User.ID), email: strings.ToLower(uc.User.Email), name: uc.User.Name,
		role: uc.Role.String(), ref: uc.ID, answer: fmt.Sprintf(answer, uc.ID, uc.Role)}
}

func (l legacyTeam) find(ctx context.Context, teamID, userID, email string) (member, bool, error) {
	for uc, err := range l.l.TeamUserConnections(ctx, teamID) {
		if err != nil {
			return member{}, false, err
		}
		if userID != "" && string(uc.User.ID) == userID || userID == "" && strings.EqualFold(uc.User.Email, email) {
			return legacyMember(uc, "200: team-user-connection %s, role %s"), true, nil
		}
	}
	return member{}, false, nil
}

func (l legacyTeam) invite(ctx context.Context, teamID, email, role string) (member, error) {
	conns, err := l.l.InviteToTeam(ctx, teamID, []string{email})
	if err != nil {
		return member{}, err
	}
	var m member
	for _, uc := range conns {
		if strings.EqualFold(uc.User.Email, email) || len(conns) == 1 {
			m = legacyMember(uc, "200: team-user-connection %s, role %s")
		}
	}
	if m.ref == "" {
		return member{}, fmt.Errorf("miro: the invite answer holds no connection for %s", email)
	}
	// The v1 invite makes members; an admin is promoted next.
	if role == roster.TeamRoleAdmin && m.role == roster.TeamRoleMember {
		uc, err := l.l.UpdateConnectionRole(ctx, m.ref, role)
		if err != nil {
			return member{}, fmt.Errorf("invited as member, but making them admin failed: %w", err)
		}
		promoted := legacyMember(uc, "200: team-user-connection %s, role %s")
		promoted.answer = m.answer + "; then " + promoted.answer
		m = promoted
	}
	return m, nil
}

func (l legacyTeam) setRole(ctx context.Context, teamID, userID, email, role string) (member, error) {
	m, in, err := l.find(ctx, teamID, userID, email)
	if err != nil {
		return member{}, err
	}
	if !in {
		return member{}, errNotMember
	}
	uc, err := l.l.UpdateConnectionRole(ctx, m.ref, role)
	if err != nil {
		return member{}, err
	}
	return legacyMember(uc, "200: team-user-connection %s, role %s"), nil
}

func (l legacyTeam) remove(ctx context.Context, teamID, userID, email string) (string, error) {
	m, in, err := l.find(ctx, teamID, userID, email)
	if err != nil {
		return "", err
	}
	if !in {
		return "", errNotMember
	}
	if err := l.l.DeleteConnection(ctx, m.ref); err != nil {
		return "", err
	}
	return "204: team-user-connection " + m.ref + " deleted", nil
}
