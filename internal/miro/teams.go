package miro

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// Teams walks the organization's teams, 100 per call. A non-empty name
// filters by case-insensitive partial match.
func (c *Client) Teams(ctx context.Context, orgID, name string) iter.Seq2[Team, error] {
	path := "/v2/orgs/" + seg(orgID) + "/teams"
	return paginate(ctx, func(ctx context.Context, cursor string) (page[Team], error) {
		q := url.Values{"limit": {strconv.Itoa(pageLimit)}}
		if name != "" {
			q.Set("name", name)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var list cursorList[Team]
		if err := c.get(ctx, "enterprise-get-teams", L1, path, q, &list); err != nil {
			return page[Team]{}, err
		}
		if err := requireIDs(c.eng, path, list.Data, func(t Team) string { return t.ID }); err != nil {
			return page[Team]{}, err
		}
		return page[Team]{items: list.Data, next: list.Cursor}, nil
	})
}

// Team returns one team.
func (c *Client) Team(ctx context.Context, orgID, teamID string) (Team, error) {
	var t Team
	err := c.get(ctx, "enterprise-get-team", L1, teamPath(orgID, teamID), nil, &t)
	return t, err
}

func teamPath(orgID, teamID string) string {
	return "/v2/orgs/" + seg(orgID) + "/teams/" + seg(teamID)
}

// TeamMembers walks a team's members, 100 per call. A non-empty role
// (member, admin, non_team, team_guest) filters by exact match.
func (c *Client) TeamMembers(ctx context.Context, orgID, teamID, role string) iter.Seq2[TeamMember, error] {
	path := teamPath(orgID, teamID) + "/members"
	return paginate(ctx, func(ctx context.Context, cursor string) (page[TeamMember], error) {
		q := url.Values{"limit": {strconv.Itoa(pageLimit)}}
		if role != "" {
			q.Set("role", role)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var list cursorList[TeamMember]
		if err := c.get(ctx, "enterprise-get-team-members", L2, path, q, &list); err != nil {
			return page[TeamMember]{}, err
		}
		if err := requireIDs(c.eng, path, list.Data, func(m TeamMember) string { return m.ID }); err != nil {
			return page[TeamMember]{}, err
		}
		return page[TeamMember]{items: list.Data, next: list.Cursor}, nil
	})
}

// TeamMember returns one membership by user id.
func (c *Client) TeamMember(ctx context.Context, orgID, teamID, memberID string) (TeamMember, error) {
	var m TeamMember
	err := c.get(ctx, "enterprise-get-team-member", L1, teamPath(orgID, teamID)+"/members/"+seg(memberID), nil, &m)
	return m, err
}

// checkInviteRole accepts the roles invite and update take.
func checkInviteRole(role string) error {
	if role != "member" && role != "admin" {
		return errors.New(`role must be "member" or "admin", got "` + role + `"`)
	}
	return nil
}

// InviteTeamMember adds an organization member to a team by email. The
// call is never resent after a 5xx, a reset or a timeout, because Miro may
// have acted on it; the caller gets the error and decides (its idempotency
// key makes a later retry safe). A 429 is retried: Miro did not process it.
func (c *Client) InviteTeamMember(ctx context.Context, orgID, teamID, email, role string) (TeamMember, error) {
	r := &request{op: "enterprise-invite-team-member", method: http.MethodPost,
		path: teamPath(orgID, teamID) + "/members", level: L2,
		body: map[string]string{"email": email, "role": role}}
	if email == "" {
		return TeamMember{}, c.eng.failf(r, "email is required")
	}
	if err := checkInviteRole(role); err != nil {
		return TeamMember{}, c.eng.failf(r, "%v", err)
	}
	var m TeamMember
	err := c.eng.do(ctx, r, &m)
	return m, err
}

// UpdateTeamMemberRole sets a member's team role (member or admin). Setting
// an absolute value is idempotent, so it is retried like a GET.
func (c *Client) UpdateTeamMemberRole(ctx context.Context, orgID, teamID, memberID, role string) (TeamMember, error) {
	r := &request{op: "enterprise-update-team-member", method: http.MethodPatch,
		path: teamPath(orgID, teamID) + "/members/" + seg(memberID), level: L2,
		body: map[string]string{"role": role}, idempotent: true}
	if err := checkInviteRole(role); err != nil {
		return TeamMember{}, c.eng.failf(r, "%v", err)
	}
	var m TeamMember
	err := c.eng.do(ctx, r, &m)
	return m, err
}

// DeleteTeamMember removes a user from a team. At organization level their
// boards are reassigned to the team's admin. Miro answers 409 for the
// team's last admin (see IsConflict).
func (c *Client) DeleteTeamMember(ctx context.Context, orgID, teamID, memberID string) error {
	return c.eng.do(ctx, &request{op: "enterprise-delete-team-member", method: http.MethodDelete,
		path: teamPath(orgID, teamID) + "/members/" + seg(memberID), level: L1, idempotent: true, goneOK: true}, nil)
}

// TeamSettings returns a team's settings.
func (c *Client) TeamSettings(ctx context.Context, orgID, teamID string) (TeamSettings, error) {
	var s TeamSettings
	err := c.get(ctx, "enterprise-get-team-settings", L1, teamPath(orgID, teamID)+"/settings", nil, &s)
	return s, err
}
