package main

import (
	"context"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"roster/internal/miro"
	"roster/internal/mirosim"
)

// TestE2EOffboard offboards a team's last admin through the command: a
// service account takes over, the person leaves every team, is
// deactivated (license free) and signed out; a resumed run repeats
// nothing at Miro.
func TestE2EOffboard(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	ctx := context.Background()
	r := e.roster(t, "connect", "--level", "organization", "--miro-url", e.info.APIBaseURL,
		"--token", e.token(mirosim.InstallOrgAdmin), "--scim-token", e.info.SCIMToken)
	require.NoError(t, r.err, r.stdout+r.stderr)
	r = e.roster(t, "sync")
	require.NoError(t, r.err, r.stdout+r.stderr)

	admin := e.client(t, mirosim.InstallOrgAdmin)
	internal := map[string]string{}
	for m, err := range admin.OrgMembers(ctx, e.info.OrgID, miro.MemberFilter{}) {
		require.NoError(t, err)
		if m.Active && m.Role.String() == "organization_internal_user" && m.License.String() == "full" {
			internal[m.ID] = m.Email
		}
	}
	roles := func(team string) map[string]string {
		out := map[string]string{}
		for m, err := range admin.TeamMembers(ctx, e.info.OrgID, team, "") {
			require.NoError(t, err)
			out[m.ID] = m.Role.String()
		}
		return out
	}
	// A team whose only admin is a licensed internal member.
	var team, id, email string
	for _, tm := range e.info.TeamIDs {
		var admins []string
		for uid, role := range roles(tm) {
			if role == "admin" {
				admins = append(admins, uid)
			}
		}
		if len(admins) == 1 && internal[admins[0]] != "" && admins[0] != e.info.Installs[mirosim.InstallOrgAdmin].UserID {
			team, id, email = tm, admins[0], internal[admins[0]]
			break
		}
	}
	require.NotEmpty(t, team, "a team with a single licensed internal admin")
	var svc string
	for uid, em := range internal {
		if uid != id {
			svc = em
			break
		}
	}

	// No terminal: refused after saying what it will do.
	r = e.roster(t, "offboard", "--connection", "1", "--email", email)
	require.Equal(t, 2, r.code(), r.stdout+r.stderr)
	require.Contains(t, r.err.Error(), "pass --yes to confirm")

	e.sim.ResetStats()
	r = e.roster(t, "offboard", "--connection", "1", "--email", email, "--service-account", svc, "--yes")
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "0 skipped, 0 failed")
	require.Contains(t, r.stdout, "deactivate: done: deactivated "+email)
	require.Contains(t, r.stdout, "sign out: done: signed "+email+" out")
	require.Contains(t, r.stdout, "offboarded "+email)
	for _, tm := range e.info.TeamIDs {
		_, in := roles(tm)[id]
		require.False(t, in, "still in team %s", tm)
	}
	m, err := admin.OrgMember(ctx, e.info.OrgID, id)
	require.NoError(t, err)
	require.False(t, m.Active)
	require.Equal(t, "free", m.License.String())
	require.Equal(t, 1, e.sim.Stats().ByOperation["patchUser"].Calls)
	require.Equal(t, 1, e.sim.Stats().ByOperation["enterprise-post-user-sessions-reset"].Calls)

	// Resume with the printed key: nothing is done twice.
	key := regexp.MustCompile(`--key (\S+)\)`).FindStringSubmatch(r.stdout)
	require.NotNil(t, key, r.stdout)
	r = e.roster(t, "offboard", "--connection", "1", "--email", email, "--service-account", svc, "--yes", "--key", key[1])
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Equal(t, 1, e.sim.Stats().ByOperation["patchUser"].Calls)
	require.Equal(t, 1, e.sim.Stats().ByOperation["enterprise-post-user-sessions-reset"].Calls)

	// Bad input is a usage error.
	r = e.roster(t, "deactivate", "--connection", "1")
	require.Equal(t, 2, r.code())
	require.Contains(t, r.err.Error(), "give --email or --user")
	r = e.roster(t, "signout", "--connection", "1", "--email", "nobody@nowhere.example")
	require.Equal(t, 2, r.code())
	require.Contains(t, r.err.Error(), "roster knows no one with email nobody@nowhere.example")
}
