package main

import (
	"context"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"roster/internal/miro"
	"roster/internal/mirosim"
)

// TestE2EActions invites, promotes and removes through the commands, and
// checks the simulator after each.
func TestE2EActions(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	ctx := context.Background()
	r := e.roster(t, "connect", "--level", "organization", "--miro-url", e.info.APIBaseURL, "--token", e.token(mirosim.InstallOrgAdmin))
	require.NoError(t, r.err, r.stdout+r.stderr)
	r = e.roster(t, "connect", "--level", "team", "--miro-url", e.info.APIBaseURL, "--token", e.token(mirosim.InstallTeam))
	require.NoError(t, r.err, r.stdout+r.stderr)
	r = e.roster(t, "sync")
	require.NoError(t, r.err, r.stdout+r.stderr)

	// Someone in the organization but not in the team.
	admin := e.client(t, mirosim.InstallOrgAdmin)
	team := e.info.TeamIDs[0]
	if team == e.info.Installs[mirosim.InstallTeam].TeamID {
		team = e.info.TeamIDs[1]
	}
	in := map[string]bool{}
	for m, err := range admin.TeamMembers(ctx, e.info.OrgID, team, "") {
		require.NoError(t, err)
		in[m.ID] = true
	}
	var id, email string
	for m, err := range admin.OrgMembers(ctx, e.info.OrgID, miro.MemberFilter{}) {
		require.NoError(t, err)
		if !in[m.ID] && m.Active && m.Role.String() == "organization_internal_user" && id == "" {
			id, email = m.ID, m.Email
		}
	}
	require.NotEmpty(t, id)
	roleAtMiro := func() string {
		m, err := admin.TeamMember(ctx, e.info.OrgID, team, id)
		if miro.IsNotFound(err) {
			return ""
		}
		require.NoError(t, err)
		return m.Role.String()
	}

	e.sim.ResetStats()
	r = e.roster(t, "invite", "--connection", "1", "--team", team, "--email", email)
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "done: invited "+email)
	require.Contains(t, r.stdout, "Miro answered: 201")
	require.Equal(t, "member", roleAtMiro())
	key := regexp.MustCompile(`--key (\S+)\)`).FindStringSubmatch(r.stdout)
	require.NotNil(t, key, r.stdout)

	// The same key again: the first outcome, no second call.
	r = e.roster(t, "invite", "--connection", "1", "--team", team, "--email", email, "--key", key[1])
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "done: invited "+email)
	require.Equal(t, 1, e.sim.Stats().ByOperation["enterprise-invite-team-member"].Calls)

	r = e.roster(t, "role", "--connection", "1", "--team", team, "--email", email, "--role", "admin")
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "done: "+email+" is now admin")
	require.Equal(t, "admin", roleAtMiro())

	// No terminal to confirm on: refused after saying the consequence.
	r = e.roster(t, "remove", "--connection", "1", "--team", team, "--user", id)
	require.Equal(t, 2, r.code(), r.stdout+r.stderr)
	require.Contains(t, r.stdout, "Consequence: boards the person owns in this team are reassigned to the team's admin")
	require.Contains(t, r.err.Error(), "pass --yes to confirm")
	require.Equal(t, "admin", roleAtMiro())

	r = e.roster(t, "remove", "--connection", "1", "--team", team, "--user", id, "--yes")
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "done: removed "+email)
	require.Equal(t, "", roleAtMiro())

	// Refusals and bad input.
	r = e.roster(t, "invite", "--connection", "1", "--team", team, "--email", "stranger@elsewhere.example")
	require.Equal(t, 1, r.code(), r.stdout+r.stderr)
	require.Contains(t, r.stdout, "refused: stranger@elsewhere.example is not a member of the organization")
	require.Contains(t, r.stdout, "Miro answered: 404")

	r = e.roster(t, "invite", "--connection", "2", "--team", team, "--email", email)
	require.Equal(t, 2, r.code(), r.stdout+r.stderr)
	require.Contains(t, r.err.Error(), "team: a team-level connection acts only on its own team")

	r = e.roster(t, "remove", "--connection", "2", "--user", id)
	require.Equal(t, 2, r.code())
	require.Contains(t, r.stdout, "Consequence: boards and projects the person owns in this team are removed too; they can be restored from the team's trash")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"invite", "--connection", "1", "--team", team, "--email", "not-an-email"}, `email: "not-an-email" is not an email address`},
		{[]string{"invite", "--connection", "1", "--team", team, "--email", email, "--role", "owner"}, `role: must be "member" or "admin"`},
		{[]string{"invite", "--team", team, "--email", email}, "--connection is required"},
		{[]string{"role", "--connection", "1", "--team", team, "--email", email}, "--role is required"},
		{[]string{"remove", "--connection", "1", "--team", team}, "give --email or --user"},
		{[]string{"remove", "--connection", "1", "--team", "999", "--user", id, "--yes"}, "team: team 999 is not a team connection 1 covers"},
		{[]string{"remove", "--connection", "1", "--team", team, "--email", "nobody@nowhere.example"}, "email: roster knows no one with email nobody@nowhere.example"},
		{[]string{"remove", "--connection", "7", "--user", id, "--yes"}, "connection: no connection 7"},
	} {
		r := e.roster(t, tc.args...)
		require.Equal(t, 2, r.code(), "%v: %s", tc.args, r.stdout+r.stderr)
		require.Contains(t, r.err.Error(), tc.want)
		require.NotContains(t, r.stdout, "Consequence", "a bad request is not offered for confirmation")
	}
}
