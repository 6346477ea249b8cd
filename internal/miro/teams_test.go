package miro

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster/internal/mirosim"
)

func TestTeamsAndTeamMembers(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 2000, Teams: 130, TeamsPerMember: 2})
	ctx := ctxTimeout(t, time.Minute)
	c := b.adminClient(t)

	teams := collect(t, c.Teams(ctx, b.info.OrgID, ""))
	require.Len(t, teams, len(b.info.TeamIDs), "two pages of teams")
	ids := map[string]bool{}
	for _, tm := range teams {
		require.False(t, ids[tm.ID])
		ids[tm.ID] = true
	}
	one, err := c.Team(ctx, b.info.OrgID, teams[3].ID)
	require.NoError(t, err)
	require.Equal(t, teams[3].Name, one.Name)
	named := collect(t, c.Teams(ctx, b.info.OrgID, teams[3].Name))
	require.NotEmpty(t, named)

	_, err = c.Team(ctx, b.info.OrgID, "no-such-team")
	require.True(t, IsNotFound(err), "got %v", err)

	total := 0
	for _, tm := range teams[:5] {
		members := collect(t, c.TeamMembers(ctx, b.info.OrgID, tm.ID, ""))
		total += len(members)
		for _, m := range members {
			require.Equal(t, tm.ID, m.TeamID)
			require.True(t, m.Role.IsKnown(), m.Role.Raw())
		}
		for _, m := range collect(t, c.TeamMembers(ctx, b.info.OrgID, tm.ID, "admin")) {
			require.Equal(t, TeamRoleAdmin, m.Role)
		}
	}
	require.Positive(t, total)

	members := collect(t, c.TeamMembers(ctx, b.info.OrgID, teams[0].ID, ""))
	got, err := c.TeamMember(ctx, b.info.OrgID, teams[0].ID, members[0].ID)
	require.NoError(t, err)
	require.Equal(t, members[0].ID, got.ID)

	settings, err := c.TeamSettings(ctx, b.info.OrgID, teams[0].ID)
	require.NoError(t, err)
	require.Equal(t, teams[0].ID, settings.TeamID)
	require.NotNil(t, settings.TeamCopyAccessLevelSettings)
}

// TestTeamMemberActions: invite, change role, remove, and the last-admin
// conflict.
func TestTeamMemberActions(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 200, Teams: 5})
	ctx := ctxTimeout(t, time.Minute)
	c := b.adminClient(t)
	teamID := b.info.TeamIDs[1]

	u, err := b.sim.AddMember(mirosim.NewUser{Email: "new.hire@example.com", GivenName: "New", FamilyName: "Hire"})
	require.NoError(t, err)

	m, err := c.InviteTeamMember(ctx, b.info.OrgID, teamID, "new.hire@example.com", "member")
	require.NoError(t, err)
	require.Equal(t, u.ID, m.ID)
	require.Equal(t, TeamRoleMember, m.Role)

	_, err = c.InviteTeamMember(ctx, b.info.OrgID, teamID, "new.hire@example.com", "member")
	require.True(t, IsConflict(err), "inviting a member again: %v", err)
	_, err = c.InviteTeamMember(ctx, b.info.OrgID, teamID, "stranger@elsewhere.example", "member")
	require.Error(t, err, "an email outside the organization")
	_, err = c.InviteTeamMember(ctx, b.info.OrgID, teamID, "new.hire@example.com", "owner")
	require.ErrorContains(t, err, `role must be "member" or "admin"`)

	m, err = c.UpdateTeamMemberRole(ctx, b.info.OrgID, teamID, u.ID, "admin")
	require.NoError(t, err)
	require.Equal(t, TeamRoleAdmin, m.Role)
	require.NoError(t, c.DeleteTeamMember(ctx, b.info.OrgID, teamID, u.ID))
	_, err = c.TeamMember(ctx, b.info.OrgID, teamID, u.ID)
	require.True(t, IsNotFound(err), "got %v", err)

	// Remove every admin but one, then the last one is refused with 409.
	admins := collect(t, c.TeamMembers(ctx, b.info.OrgID, teamID, "admin"))
	require.NotEmpty(t, admins)
	for _, a := range admins[1:] {
		require.NoError(t, c.DeleteTeamMember(ctx, b.info.OrgID, teamID, a.ID))
	}
	err = c.DeleteTeamMember(ctx, b.info.OrgID, teamID, admins[0].ID)
	require.True(t, IsConflict(err), "last admin: %v", err)
	require.Contains(t, err.Error(), "409 conflict")
}

// TestInviteNeverSentTwice: after a 500 or a dropped connection Miro may
// have acted, so the invite is not resent and the caller gets the error.
// A 429 is resent, because Miro did not process it.
func TestInviteNeverSentTwice(t *testing.T) {
	t.Parallel()
	const op = "enterprise-invite-team-member"
	for _, kind := range []mirosim.FaultKind{mirosim.Fault500, mirosim.Fault502, mirosim.Fault503, mirosim.FaultReset, mirosim.FaultLost} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			b := setup(t, mirosim.Config{Members: 100, Teams: 3})
			ctx := ctxTimeout(t, time.Minute)
			_, err := b.sim.AddMember(mirosim.NewUser{Email: "once@example.com"})
			require.NoError(t, err)
			b.sim.SetFaults(mirosim.Fault{OperationID: op, Kind: kind, Rate: 1})
			b.sim.ResetStats()

			c := b.adminClient(t)
			_, err = c.InviteTeamMember(ctx, b.info.OrgID, b.info.TeamIDs[0], "once@example.com", "member")
			require.Error(t, err)
			require.Contains(t, err.Error(), "miro: POST /v2/orgs/"+b.info.OrgID+"/teams/"+b.info.TeamIDs[0]+"/members")
			require.Equal(t, 1, b.sim.Stats().ByOperation[op].Calls, "the invite was sent more than once")
			require.Zero(t, c.Stats().Retries)

			// Only a lost answer hides an invite that Miro carried out.
			b.sim.SetFaults()
			_, err = c.InviteTeamMember(ctx, b.info.OrgID, b.info.TeamIDs[0], "once@example.com", "member")
			if kind == mirosim.FaultLost {
				require.True(t, IsConflict(err), "the lost invite took effect, so a second one conflicts: %v", err)
			} else {
				require.NoError(t, err, "the failed invite must not have taken effect")
			}
		})
	}

	t.Run("429 is retried", func(t *testing.T) {
		t.Parallel()
		b := setup(t, mirosim.Config{Members: 100, Teams: 3, RateWindow: time.Second})
		ctx := ctxTimeout(t, time.Minute)
		_, err := b.sim.AddMember(mirosim.NewUser{Email: "later@example.com"})
		require.NoError(t, err)
		b.sim.SetFaults(mirosim.Fault{OperationID: op, Kind: mirosim.Fault429, Rate: 0.7})
		b.sim.ResetStats()
		c := b.adminClient(t)
		_, err = c.InviteTeamMember(ctx, b.info.OrgID, b.info.TeamIDs[0], "later@example.com", "member")
		require.NoError(t, err)
		st := b.sim.Stats().ByOperation[op]
		require.Equal(t, 1, st.Statuses[201], "exactly one invite went through: %v", st.Statuses)
		require.Equal(t, st.Statuses[429], c.Stats().RateLimited)
	})
}

// TestDeleteWithLostAnswer: Miro removed the member but the answer was
// lost; the resent DELETE gets 404, which means the first one did it.
func TestDeleteWithLostAnswer(t *testing.T) {
	t.Parallel()
	const op = "enterprise-delete-team-member"
	b := setup(t, mirosim.Config{Members: 200, Teams: 3})
	ctx := ctxTimeout(t, time.Minute)
	c := b.adminClient(t)
	team := b.info.TeamIDs[0]
	var member string
	for m, err := range c.TeamMembers(ctx, b.info.OrgID, team, "member") {
		require.NoError(t, err)
		member = m.ID
		break
	}
	require.NotEmpty(t, member)
	b.sim.SetFaults(mirosim.Fault{OperationID: op, Kind: mirosim.FaultLost, Rate: 1, Times: 1})
	b.sim.ResetStats()
	require.NoError(t, c.DeleteTeamMember(ctx, b.info.OrgID, team, member))
	st := b.sim.Stats().ByOperation[op]
	require.Equal(t, 2, st.Calls, "one lost attempt, one resend: %v", st.Statuses)
	require.Equal(t, 1, st.Statuses[404], "the resend finds the member gone: %v", st.Statuses)
	_, err := c.TeamMember(ctx, b.info.OrgID, team, member)
	require.True(t, IsNotFound(err), "member still in the team: %v", err)
}

// TestIdempotentCallsRetryResets: a GET survives dropped connections.
func TestIdempotentCallsRetryResets(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 1000})
	b.sim.SetFaults(mirosim.Fault{OperationID: "enterprise-get-organization-members", Kind: mirosim.FaultReset, Rate: 0.3})
	n := len(collect(t, b.adminClient(t).OrgMembers(ctxTimeout(t, time.Minute), b.info.OrgID, MemberFilter{})))
	require.GreaterOrEqual(t, n, 1000)
}

// TestDeadlineEndsPacedWalk: a walk that would need many windows ends
// promptly with the context's error when its deadline passes mid-sleep.
func TestDeadlineEndsPacedWalk(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 5000, RateWindow: 60 * time.Second, RateBudget: 1000})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c := b.adminClient(t)
	start := time.Now()
	n := 0
	var last error
	for _, err := range c.OrgMembers(ctx, b.info.OrgID, MemberFilter{}) {
		if err != nil {
			last = err
			continue
		}
		n++
	}
	require.Error(t, last)
	require.True(t, errors.Is(last, context.DeadlineExceeded), "got %v", last)
	require.Contains(t, last.Error(), "miro: GET /v2/orgs/"+b.info.OrgID+"/members")
	require.Equal(t, 200, n, "two pages fit the budget, then the pacer sleeps")
	require.Less(t, time.Since(start), 10*time.Second, "the walk hung past its deadline")
	require.Zero(t, c.Stats().RateLimited)
}

// TestBreakStopsPaging: a consumer that stops early costs no more calls.
func TestBreakStopsPaging(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 1000})
	c := b.adminClient(t)
	n := 0
	for _, err := range c.OrgMembers(ctxTimeout(t, time.Minute), b.info.OrgID, MemberFilter{}) {
		require.NoError(t, err)
		n++
		if n == 150 {
			break
		}
	}
	require.Equal(t, 2, c.Stats().Calls)
}

// TestPacedWalkFewRateLimits: a walk over a tight budget, with several
// goroutines sharing the client, is paced instead of hitting 429s.
func TestPacedWalkFewRateLimits(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 3000, Teams: 12, TeamsPerMember: 2, RateWindow: time.Second, RateBudget: 2500})
	ctx := ctxTimeout(t, 2*time.Minute)
	c := b.adminClient(t)

	members := len(collect(t, c.OrgMembers(ctx, b.info.OrgID, MemberFilter{})))
	require.GreaterOrEqual(t, members, 3000)

	teams := collect(t, c.Teams(ctx, b.info.OrgID, ""))
	errs := make(chan error, len(teams))
	for _, tm := range teams {
		go func() {
			for _, err := range c.TeamMembers(ctx, b.info.OrgID, tm.ID, "") {
				if err != nil {
					errs <- fmt.Errorf("team %s: %w", tm.ID, err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range teams {
		require.NoError(t, <-errs)
	}
	st := c.Stats()
	share := float64(st.RateLimited) / float64(st.Calls)
	t.Logf("paced: %+v, 429 share %.2f%%", st, 100*share)
	require.LessOrEqual(t, share, 0.01)
	require.Equal(t, b.sim.Stats().RateLimited, st.RateLimited)
}

func TestResetAllSessions(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 100})
	ctx := ctxTimeout(t, time.Minute)
	c := b.adminClient(t)
	members := collect(t, c.OrgMembers(ctx, b.info.OrgID, MemberFilter{}))
	require.NoError(t, c.ResetAllSessions(ctx, members[5].Email))
	require.ErrorContains(t, c.ResetAllSessions(ctx, ""), "email is required")

	teamOnly := b.client(t, StaticToken(b.info.Installs[mirosim.InstallTeam].AccessToken))
	err := teamOnly.ResetAllSessions(ctx, members[5].Email)
	require.True(t, IsForbidden(err), "a team-level token lacks sessions:delete: %v", err)
}
