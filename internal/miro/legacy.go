package miro

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// LegacyTeamAPI is Miro's v1 team API (team-user-connections).
//
// Deprecated: v1 reached end-of-life in 2024; it stays because a
// team-level connection on a non-Enterprise team has no v2 way to list or
// manage members. Everything legacy lives in this file and behind this
// interface so that it can be deleted in one go when Miro drops it.
// Note that deleting a connection through v1 also deletes the boards and
// projects the user owns in the team (they go to the team's trash).
type LegacyTeamAPI interface {
	// TeamUserConnections walks a team's members, 100 per call, following
	// nextLink.
	TeamUserConnections(ctx context.Context, teamID string) iter.Seq2[TeamUserConnection, error]
	// InviteToTeam invites emails to the team. Never resent after a 5xx,
	// reset or timeout.
	InviteToTeam(ctx context.Context, teamID string, emails []string) ([]TeamUserConnection, error)
	// UpdateConnectionRole sets a connection's role (member or admin).
	UpdateConnectionRole(ctx context.Context, connectionID, role string) (TeamUserConnection, error)
	// DeleteConnection removes the user from the team, with their boards.
	DeleteConnection(ctx context.Context, connectionID string) error
}

// TeamUserConnection is a v1 team membership. Unlike v2's TeamMember it
// carries the user's name and email.
//
// Deprecated: legacy v1 shape, see LegacyTeamAPI.
type TeamUserConnection struct {
	Type       string     `json:"type"` // "team-user-connection"
	ID         string     `json:"id"`   // the connection id, not the user id
	User       LegacyUser `json:"user"`
	Team       LegacyRef  `json:"team"`
	Role       TeamRole   `json:"role"`
	CreatedAt  Time       `json:"createdAt"`
	ModifiedAt Time       `json:"modifiedAt"`
	CreatedBy  *LegacyRef `json:"createdBy,omitempty"`
	ModifiedBy *LegacyRef `json:"modifiedBy,omitempty"`
}

// LegacyUser is the user of a v1 connection.
//
// Deprecated: legacy v1 shape, see LegacyTeamAPI.
type LegacyUser struct {
	Type  string     `json:"type"`
	ID    FlexString `json:"id"`
	Name  string     `json:"name"`
	Email string     `json:"email"`
}

// LegacyRef is a v1 {type, id, name} reference.
//
// Deprecated: legacy v1 shape, see LegacyTeamAPI.
type LegacyRef struct {
	Type string     `json:"type"`
	ID   FlexString `json:"id"`
	Name string     `json:"name"`
}

// legacyList is the v1 list shape.
type legacyList struct {
	Type     string               `json:"type"`
	Limit    int                  `json:"limit"`
	Offset   int                  `json:"offset"`
	Size     int                  `json:"size"`
	Total    int                  `json:"total"`
	Data     []TeamUserConnection `json:"data"`
	NextLink string               `json:"nextLink"`
}

// legacyAPI implements LegacyTeamAPI on a Client (same token, same pacer).
type legacyAPI struct{ c *Client }

// Legacy returns the v1 team API on the client's token.
//
// Deprecated: see LegacyTeamAPI.
func (c *Client) Legacy() LegacyTeamAPI { return legacyAPI{c} }

var _ LegacyTeamAPI = legacyAPI{}

const legacyPageLimit = 100

func (l legacyAPI) TeamUserConnections(ctx context.Context, teamID string) iter.Seq2[TeamUserConnection, error] {
	first := "/v1/teams/" + seg(teamID) + "/user-connections"
	return paginate(ctx, func(ctx context.Context, next string) (page[TeamUserConnection], error) {
		r := &request{op: "legacy-get-team-user-connections", method: http.MethodGet, level: L1, idempotent: true}
		if next == "" {
			r.path = first
			r.query = url.Values{"limit": {strconv.Itoa(legacyPageLimit)}, "offset": {"0"}}
		} else {
			r.rawURL = next // checked to be on the API host before use
		}
		var list legacyList
		if err := l.c.eng.do(ctx, r, &list); err != nil {
			return page[TeamUserConnection]{}, err
		}
		p := page[TeamUserConnection]{items: list.Data}
		if len(list.Data) > 0 {
			p.next = list.NextLink
		}
		return p, nil
	})
}

func (l legacyAPI) InviteToTeam(ctx context.Context, teamID string, emails []string) ([]TeamUserConnection, error) {
	r := &request{op: "legacy-invite-team-users", method: http.MethodPost, path: "/v1/teams/" + seg(teamID) + "/invite",
		level: L2, body: map[string][]string{"emails": emails}}
	if len(emails) == 0 {
		return nil, l.c.eng.wrap(r, "invalid input", errors.New("no emails to invite"))
	}
	var out []TeamUserConnection
	err := l.c.eng.do(ctx, r, &out)
	return out, err
}

func (l legacyAPI) UpdateConnectionRole(ctx context.Context, connectionID, role string) (TeamUserConnection, error) {
	r := &request{op: "legacy-update-team-user-connection", method: http.MethodPatch, path: "/v1/team-user-connections/" + seg(connectionID),
		level: L2, body: map[string]string{"role": role}, idempotent: true}
	if err := checkInviteRole(role); err != nil {
		return TeamUserConnection{}, l.c.eng.wrap(r, "invalid input", err)
	}
	var out TeamUserConnection
	err := l.c.eng.do(ctx, r, &out)
	return out, err
}

func (l legacyAPI) DeleteConnection(ctx context.Context, connectionID string) error {
	return l.c.eng.do(ctx, &request{op: "legacy-delete-team-user-connection", method: http.MethodDelete,
		path: "/v1/team-user-connections/" + seg(connectionID), level: L1, idempotent: true, goneOK: true}, nil)
}
