package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/mirosim"
	"roster/internal/store/sqlstore"
)

// TestCLIConnectTeamTokenAtOrgLevel: a team token given with --level
// organization is refused with the reason in plain words and saves
// nothing, so the Company Admin's token connects the organization next.
func TestCLIConnectTeamTokenAtOrgLevel(t *testing.T) {
	t.Parallel()
	e := newE2E(t)
	team := e.token(mirosim.InstallTeam)

	r := e.roster(t, "connect", "--level", "organization", "--miro-url", e.info.APIBaseURL, "--token", team)
	require.Error(t, r.err)
	require.Equal(t, 1, r.code(), r.err.Error())
	msg := r.err.Error()
	require.Contains(t, msg, "connect: not saved: this is a team token")                          // what the token is
	require.Contains(t, msg, "without organizations:read and organizations:teams:read")           // what the level needs
	require.Contains(t, msg, "Connect this token at team level instead")                          // what to do
	require.NotContains(t, r.stdout+msg, "did not say whether the organization is on Enterprise") // one sentence, no guess
	require.NotContains(t, r.stdout+msg, "not on Miro Enterprise")
	require.NotContains(t, r.stdout+r.stderr+msg, team, "tokens are never printed")

	db, err := sqlstore.Open(context.Background(), filepath.Join(e.dataDir, "roster.db"))
	require.NoError(t, err)
	conns, err := db.Connections(context.Background())
	require.NoError(t, err)
	require.NoError(t, db.Close())
	require.Empty(t, conns, "nothing was saved")

	// The organization's slot is free: the admin's token is not told to --replace.
	r = e.roster(t, "connect", "--level", "organization", "--miro-url", e.info.APIBaseURL, "--token", e.token(mirosim.InstallOrgAdmin))
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "Saved as connection 1.")

	// The same team token still connects its team.
	r = e.roster(t, "connect", "--level", string(roster.LevelTeam), "--miro-url", e.info.APIBaseURL, "--token", team)
	require.NoError(t, r.err, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "Saved as connection 2.")
}
