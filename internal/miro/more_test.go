package miro

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster/internal/mirosim"
)

func TestAuditLogs(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 300})
	ctx := ctxTimeout(t, time.Minute)
	c := b.adminClient(t)

	// Make some events now, so that the window is certainly not empty.
	for i := range 3 {
		_, err := b.sim.AddMember(mirosim.NewUser{Email: "audit" + string(rune('a'+i)) + "@example.com"})
		require.NoError(t, err)
	}
	q := AuditQuery{CreatedAfter: time.Now().Add(-89 * 24 * time.Hour), CreatedBefore: time.Now().Add(time.Minute)}
	events := collect(t, c.AuditLogs(ctx, q))
	require.NotEmpty(t, events)
	created := 0
	for i, ev := range events {
		require.False(t, ev.CreatedAt.IsZero(), "event %s has no createdAt", ev.ID)
		if i > 0 {
			require.False(t, ev.CreatedAt.Before(events[i-1].CreatedAt.Time), "ASC order")
		}
		if ev.Event == "user_created" && ev.Object != nil && strings.HasPrefix(ev.Object.Name, "audit") {
			created++
		}
	}
	require.Equal(t, 3, created)

	q.Sorting = "DESC"
	desc := collect(t, c.AuditLogs(ctx, q))
	require.Len(t, desc, len(events))
	require.Equal(t, events[0].ID, desc[len(desc)-1].ID)

	// Both bounds are required, checked before any call.
	calls := c.Stats().Calls
	for _, bad := range []AuditQuery{{CreatedBefore: time.Now()}, {CreatedAfter: time.Now()}} {
		for _, err := range c.AuditLogs(ctx, bad) {
			require.ErrorContains(t, err, "CreatedAfter and CreatedBefore are both required")
		}
	}
	require.Equal(t, calls, c.Stats().Calls)
}

// TestLenientTime parses every timestamp shape Miro sends.
func TestLenientTime(t *testing.T) {
	t.Parallel()
	want := time.Date(2023, 9, 1, 9, 30, 10, 840_000_000, time.UTC)
	for _, s := range []string{
		"2023-09-01T09:30:10.840+0000", // audit example: no colon in the offset
		"2023-09-01T09:30:10.840Z",
		"2023-09-01T09:30:10.840+00:00",
		"2023-09-01T11:30:10.840+0200",
		"2023-09-01T09:30:10.840687Z",
	} {
		var tm Time
		require.NoError(t, jsonUnmarshal(`"`+s+`"`, &tm), s)
		require.True(t, tm.Truncate(time.Millisecond).Equal(want), "%s gave %v", s, tm)
	}
	var tm Time
	require.NoError(t, jsonUnmarshal(`"2023-09-01T09:30:10+0000"`, &tm), "without millis")
	require.True(t, tm.Equal(want.Truncate(time.Second)))
	require.NoError(t, jsonUnmarshal(`""`, &tm))
	require.True(t, tm.IsZero(), "empty lastActivityAt is the zero time")
	require.ErrorContains(t, jsonUnmarshal(`"last tuesday"`, &tm), `unrecognised timestamp "last tuesday"`)

	var ev AuditEvent
	require.NoError(t, jsonUnmarshal(`{"id":"e","createdAt":"2023-09-01T09:30:10.840+0000","createdBy":{"type":"robot"}}`, &ev))
	require.True(t, ev.CreatedAt.Equal(want))
}

func TestBoardsOffsetPaging(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 2000, Teams: 10})
	ctx := ctxTimeout(t, time.Minute)
	c := b.adminClient(t)

	boards := collect(t, c.Boards(ctx, BoardQuery{}))
	require.Greater(t, len(boards), 50, "more than one page")
	seen := map[string]bool{}
	for _, bd := range boards {
		require.False(t, seen[bd.ID], "board %s twice", bd.ID)
		seen[bd.ID] = true
	}
	calls := c.Stats().Calls
	require.Equal(t, (len(boards)+49)/50, calls, "50 per call")

	teamID := b.info.TeamIDs[0]
	for _, bd := range collect(t, c.Boards(ctx, BoardQuery{TeamID: teamID})) {
		require.NotNil(t, bd.Team)
		require.Equal(t, teamID, bd.Team.ID)
	}
	owner := boards[0].Owner
	require.NotNil(t, owner)
	for _, bd := range collect(t, c.Boards(ctx, BoardQuery{Owner: owner.ID})) {
		require.Equal(t, owner.ID, bd.Owner.ID)
	}
}

// TestLegacyTeamAPI pages a team through nextLink and manages members
// through the v1 API, as a team-level connection does.
func TestLegacyTeamAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 1500, Teams: 4, TeamsPerMember: 1})
	ctx := ctxTimeout(t, time.Minute)
	install := b.info.Installs[mirosim.InstallTeam]
	legacy := b.client(t, StaticToken(install.AccessToken)).Legacy()

	// The v2 view of the same team, for comparison.
	admin := b.adminClient(t)
	want := map[string]bool{}
	for m, err := range admin.TeamMembers(ctx, b.info.OrgID, install.TeamID, "") {
		require.NoError(t, err)
		want[m.ID] = true
	}
	require.Greater(t, len(want), 100, "the team needs more than one page")

	got := map[string]TeamUserConnection{}
	for conn, err := range legacy.TeamUserConnections(ctx, install.TeamID) {
		require.NoError(t, err)
		_, dup := got[string(conn.User.ID)]
		require.False(t, dup, "user %s twice", conn.User.ID)
		got[string(conn.User.ID)] = conn
		require.Equal(t, "team-user-connection", conn.Type)
		require.NotEmpty(t, conn.User.Email)
		require.Equal(t, install.TeamID, string(conn.Team.ID))
	}
	require.Len(t, got, len(want))
	for id := range want {
		require.Contains(t, got, id)
	}

	_, err := b.sim.AddMember(mirosim.NewUser{Email: "legacy.invitee@example.com"})
	require.NoError(t, err)
	conns, err := legacy.InviteToTeam(ctx, install.TeamID, []string{"legacy.invitee@example.com"})
	require.NoError(t, err)
	require.Len(t, conns, 1)
	require.Equal(t, "legacy.invitee@example.com", conns[0].User.Email)

	conn, err := legacy.UpdateConnectionRole(ctx, conns[0].ID, "admin")
	require.NoError(t, err)
	require.Equal(t, TeamRoleAdmin, conn.Role)
	require.NoError(t, legacy.DeleteConnection(ctx, conns[0].ID))
	err = legacy.DeleteConnection(ctx, conns[0].ID)
	require.True(t, IsNotFound(err), "got %v", err)

	// Another team is not this token's.
	var other string
	for _, id := range b.info.TeamIDs {
		if id != install.TeamID {
			other = id
			break
		}
	}
	for _, err := range legacy.TeamUserConnections(ctx, other) {
		require.True(t, IsForbidden(err), "got %v", err)
	}
}

// TestLegacyNonEnterpriseTeam reads the Business-plan team, which only the
// legacy API reaches.
func TestLegacyNonEnterpriseTeam(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 200})
	install := b.info.Installs[mirosim.InstallNonEnterpriseTeam]
	c := b.client(t, StaticToken(install.AccessToken))
	conns := collect(t, c.Legacy().TeamUserConnections(ctxTimeout(t, time.Minute), install.TeamID))
	require.NotEmpty(t, conns)

	info, err := c.TokenInfo(ctxTimeout(t, time.Minute))
	require.NoError(t, err)
	require.Equal(t, install.TeamID, string(info.Team.ID))
	_, err = c.GetOrganization(context.Background(), install.OrgID)
	require.Error(t, err, "no v2 org endpoints outside Enterprise")
}

func (b testBundle) scim(t *testing.T) *SCIMClient {
	t.Helper()
	s, err := NewSCIM(SCIMConfig{BaseURL: b.info.SCIMBaseURL, Token: b.info.SCIMToken, HTTPClient: b.srv.Client(), RetryBackoff: 5 * time.Millisecond})
	require.NoError(t, err)
	return s
}

// TestSCIMDeactivateFreesLicense: SetActive(false) is what frees a paid
// license; guests and external users cannot be deactivated.
func TestSCIMDeactivateFreesLicense(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 400})
	ctx := ctxTimeout(t, time.Minute)
	c := b.adminClient(t)
	s := b.scim(t)

	full := collect(t, c.OrgMembers(ctx, b.info.OrgID, MemberFilter{License: "full", Role: "organization_internal_user"}))
	require.NotEmpty(t, full)
	target := full[0]

	u, err := s.FindUserByEmail(ctx, target.Email)
	require.NoError(t, err)
	require.Equal(t, target.ID, u.ID)
	require.True(t, u.Active)
	require.Equal(t, "Full", u.UserType)

	u, err = s.SetActive(ctx, target.ID, false)
	require.NoError(t, err)
	require.False(t, u.Active)

	after, err := c.OrgMember(ctx, b.info.OrgID, target.ID)
	require.NoError(t, err)
	require.False(t, after.Active)
	require.Contains(t, []License{LicenseFree, LicenseFreeRestricted}, after.License, "license freed, got %s", after.License.Raw())

	again, err := s.User(ctx, target.ID)
	require.NoError(t, err)
	require.False(t, again.Active)

	// External users cannot be deactivated; the error is typed and clear.
	ext := collect(t, c.OrgMembers(ctx, b.info.OrgID, MemberFilter{Role: "organization_external_user"}))
	require.NotEmpty(t, ext, "the seeded org has external users")
	_, err = s.SetActive(ctx, ext[0].ID, false)
	var se *SCIMError
	require.ErrorAs(t, err, &se)
	require.Equal(t, 400, se.Status)
	require.Contains(t, err.Error(), "miro scim: PATCH /api/v1/scim/Users/"+ext[0].ID+": 400")
	guests := collect(t, c.OrgMembers(ctx, b.info.OrgID, MemberFilter{Role: "organization_team_guest_user"}))
	require.NotEmpty(t, guests, "the seeded org has guests")
	_, err = s.SetActive(ctx, guests[0].ID, false)
	require.Error(t, err, "guests cannot be deactivated")
	require.True(t, IsNotFound(err) || hasStatus(err, 400), "got %v", err)

	_, err = s.FindUserByEmail(ctx, "nobody@nowhere.example")
	require.True(t, IsNotFound(err), "got %v", err)
}

func TestSCIMUsersPagingAndDelete(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 450})
	ctx := ctxTimeout(t, time.Minute)
	s := b.scim(t)

	users := collect(t, s.Users(ctx, ""))
	require.Greater(t, len(users), 300)
	ids := map[string]bool{}
	for _, u := range users {
		require.False(t, ids[u.ID])
		ids[u.ID] = true
	}
	require.Equal(t, (len(users)+99)/100, s.Stats().Calls)

	active := collect(t, s.Users(ctx, "active eq true"))
	require.NotEmpty(t, active)
	for _, u := range active {
		require.True(t, u.Active)
	}

	// Delete someone who is no team's last admin: a fresh user.
	nu, err := b.sim.AddMember(mirosim.NewUser{Email: "leaver@example.com", TeamIDs: b.info.TeamIDs[:1]})
	require.NoError(t, err)
	require.NoError(t, s.DeleteUser(ctx, nu.ID))
	_, err = s.User(ctx, nu.ID)
	require.True(t, IsNotFound(err), "got %v", err)
	var se *SCIMError
	require.ErrorAs(t, err, &se)

	bad, err := NewSCIM(SCIMConfig{BaseURL: b.info.SCIMBaseURL, Token: "wrong", HTTPClient: b.srv.Client()})
	require.NoError(t, err)
	_, err = bad.User(ctx, nu.ID)
	require.True(t, IsUnauthorized(err), "got %v", err)
}

// TestSCIMRateLimited: with our own bucket opened wide, the simulator's
// SCIM limit answers 429 and the client waits for the reset and carries on.
func TestSCIMRateLimited(t *testing.T) {
	t.Parallel()
	// SCIM windows of 5 s: more than 200 GETs in one of them needs only
	// 40 a second, which a loaded machine still sends.
	b := setup(t, mirosim.Config{Members: 200, RateWindow: 10 * time.Second})
	ctx := ctxTimeout(t, time.Minute)
	s, err := NewSCIM(SCIMConfig{BaseURL: b.info.SCIMBaseURL, Token: b.info.SCIMToken, HTTPClient: b.srv.Client(),
		Limits: &SCIMLimits{Get: 100_000}})
	require.NoError(t, err)
	users := collect(t, s.Users(ctx, ""))
	// Until the simulator says 429, which the client waits out and retries.
	for i := 0; i < 1000 && s.Stats().RateLimited == 0; i++ {
		u := users[i%len(users)]
		got, err := s.User(ctx, u.ID)
		require.NoError(t, err)
		require.Equal(t, u.ID, got.ID)
	}
	require.Positive(t, s.Stats().RateLimited, "the simulator's SCIM limit was never reached")
	u := users[0] // and the client goes on after it
	got, err := s.User(ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, u.ID, got.ID)
}
