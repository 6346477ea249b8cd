package connect_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/connect"
	"roster/internal/miro"
	"roster/internal/mirosim"
)

type testBundle struct {
	sim  *mirosim.Sim
	srv  *httptest.Server
	info mirosim.Info
}

func setup(t *testing.T) testBundle {
	t.Helper()
	sim, err := mirosim.New(mirosim.Config{Members: 60, Teams: 4})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return testBundle{sim: sim, srv: srv, info: sim.Info(srv.URL)}
}

func (b testBundle) client(t *testing.T, token string) *miro.Client {
	t.Helper()
	c, err := miro.New(miro.Config{BaseURL: b.info.APIBaseURL, Token: miro.StaticToken(token), HTTPClient: b.srv.Client(), RetryBackoff: time.Millisecond})
	require.NoError(t, err)
	return c
}

func (b testBundle) inspect(t *testing.T, install string, level roster.Level) connect.Report {
	t.Helper()
	r, err := connect.Inspect(context.Background(), b.client(t, b.info.Installs[install].AccessToken), level)
	require.NoError(t, err)
	return r
}

func hasLine(lines []string, sub string) bool {
	return slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, sub) })
}

func TestInspect(t *testing.T) {
	t.Parallel()
	b := setup(t)

	t.Run("OrgAdmin", func(t *testing.T) {
		t.Parallel()
		in := b.info.Installs[mirosim.InstallOrgAdmin]
		r := b.inspect(t, mirosim.InstallOrgAdmin, roster.LevelOrganization)
		require.Equal(t, b.info.OrgID, r.OrgID)
		require.Equal(t, b.info.OrgName, r.OrgName)
		require.Equal(t, in.TeamID, r.TeamID)
		require.NotEmpty(t, r.TeamName)
		require.Equal(t, in.UserID, r.InstallerID)
		require.NotEmpty(t, r.InstallerName)
		require.ElementsMatch(t, in.Scopes, r.Scopes)
		require.True(t, r.Enterprise)
		require.True(t, r.CompanyAdmin)
		require.NotEmpty(t, r.Plan)
		require.Positive(t, r.FullLicensesPurchased)
		require.Empty(t, r.Problems)
		require.Empty(t, r.Unusable)

		c := r.Connection()
		require.Equal(t, roster.LevelOrganization, c.Level)
		require.Equal(t, roster.StatusActive, c.Status)
		for _, cp := range c.Capabilities() {
			if cp.Name != roster.CapDeactivate { // no SCIM token yet
				require.True(t, cp.Available, cp.Name)
			}
		}
	})

	t.Run("OrgNonAdmin", func(t *testing.T) {
		t.Parallel()
		r := b.inspect(t, mirosim.InstallOrgNonAdmin, roster.LevelOrganization)
		require.True(t, r.Enterprise)
		require.False(t, r.CompanyAdmin)
		require.Equal(t, []string{"the connecting user is not a Company Admin, so usage data is unavailable (roster will sync only the installed team)"}, r.Problems)
		require.Empty(t, r.Unusable)
	})

	t.Run("TeamLevel", func(t *testing.T) {
		t.Parallel()
		r := b.inspect(t, mirosim.InstallTeam, roster.LevelTeam)
		require.Equal(t, b.info.Installs[mirosim.InstallTeam].TeamID, r.TeamID)
		require.Equal(t, b.info.OrgID, r.OrgID)
		require.False(t, r.Enterprise, "not probed without organizations:read")
		require.Empty(t, r.Problems)
		require.True(t, hasLine(r.Notes, "licenses are inferred"))
	})

	t.Run("TeamLevelByCompanyAdmin", func(t *testing.T) {
		t.Parallel()
		r := b.inspect(t, mirosim.InstallOrgAdmin, roster.LevelTeam)
		require.True(t, r.Enterprise)
		require.True(t, r.CompanyAdmin)
		require.Empty(t, r.Problems)
		require.True(t, hasLine(r.Notes, "an organization-level connection would cover every team"))
	})

	t.Run("NonEnterpriseAtOrgLevel", func(t *testing.T) {
		t.Parallel()
		r := b.inspect(t, mirosim.InstallNonEnterpriseTeam, roster.LevelOrganization)
		require.False(t, r.Enterprise)
		require.Equal(t, []string{"the organization is not on Miro Enterprise, so the organization level is unavailable; connect at team level"}, r.Problems)
		require.NotEmpty(t, r.Unusable)
	})

	t.Run("NonEnterpriseAtTeamLevel", func(t *testing.T) {
		t.Parallel()
		r := b.inspect(t, mirosim.InstallNonEnterpriseTeam, roster.LevelTeam)
		require.Empty(t, r.Problems)
		require.Empty(t, r.Unusable)
	})

	t.Run("MissingTeamsWrite", func(t *testing.T) {
		t.Parallel()
		admin := b.info.Installs[mirosim.InstallOrgAdmin]
		in, err := b.sim.MintToken(admin.UserID, admin.TeamID, []string{"boards:read", "organizations:read", "organizations:teams:read", "auditlogs:read", "sessions:delete"})
		require.NoError(t, err)
		r, err := connect.Inspect(context.Background(), b.client(t, in.AccessToken), roster.LevelOrganization)
		require.NoError(t, err)
		require.True(t, r.Enterprise)
		require.True(t, r.CompanyAdmin)
		require.Equal(t, []string{"granted scopes lack organizations:teams:write, so invite, remove and role changes are disabled"}, r.Problems)
		caps := r.Connection().Capabilities()
		for _, cp := range caps {
			if cp.Name == roster.CapManage {
				require.False(t, cp.Available)
			}
			if cp.Name == roster.CapSyncUsers {
				require.True(t, cp.Available)
			}
		}
	})

	t.Run("MissingOrgReadScopes", func(t *testing.T) {
		t.Parallel()
		admin := b.info.Installs[mirosim.InstallOrgAdmin]
		in, err := b.sim.MintToken(admin.UserID, admin.TeamID, []string{"boards:read", "team:read", "organizations:teams:write"})
		require.NoError(t, err)
		r, err := connect.Inspect(context.Background(), b.client(t, in.AccessToken), roster.LevelOrganization)
		require.NoError(t, err)
		require.Contains(t, r.Unusable, "without organizations:read and organizations:teams:read")
		require.Equal(t, []string{r.Unusable}, r.Problems)
	})

	t.Run("TeamTokenAtOrgLevel", func(t *testing.T) {
		t.Parallel()
		in := b.info.Installs[mirosim.InstallTeam]
		r := b.inspect(t, mirosim.InstallTeam, roster.LevelOrganization)
		require.Equal(t, b.info.OrgID, r.OrgID, "an Enterprise organization's team")
		// What the token is, what the level needs, what to do: one
		// reason, and no guess about Enterprise beside it.
		require.Equal(t, "this is a team token: Miro granted it for team "+r.TeamName+" ("+in.TeamID+") with boards:read, boards:write, team:read, team:write, "+
			"but without organizations:read and organizations:teams:read, which the organization level needs to read the organization's members, licenses and teams. "+
			"Connect this token at team level instead, or authorize roster again at organization level as a Company Admin of the Enterprise organization, granting the organization scopes",
			r.Unusable)
		require.Equal(t, []string{r.Unusable}, r.Problems)
		require.Empty(t, r.Notes)
		for _, l := range append(r.Problems, r.Notes...) {
			require.NotContains(t, l, "did not say")
			require.NotContains(t, l, "not on Miro Enterprise")
		}
	})

	t.Run("TeamWithoutTeamRead", func(t *testing.T) {
		t.Parallel()
		in := b.info.Installs[mirosim.InstallTeam]
		tok, err := b.sim.MintToken(in.UserID, in.TeamID, []string{"boards:read"})
		require.NoError(t, err)
		r, err := connect.Inspect(context.Background(), b.client(t, tok.AccessToken), roster.LevelTeam)
		require.NoError(t, err)
		require.Equal(t, []string{
			"team:read is missing, so the legacy team API cannot list members",
			"team:write is missing, so invite, remove and role changes are disabled",
		}, r.Problems)
	})

	t.Run("ErrTokenRefused", func(t *testing.T) {
		t.Parallel()
		_, err := connect.Inspect(context.Background(), b.client(t, "not-a-token"), roster.LevelTeam)
		require.ErrorIs(t, err, connect.ErrTokenRefused)
		require.ErrorContains(t, err, "the token was refused by Miro")
		require.NotContains(t, err.Error(), "not-a-token", "tokens are never printed")
	})

	t.Run("ErrBadLevel", func(t *testing.T) {
		t.Parallel()
		_, err := connect.Inspect(context.Background(), b.client(t, "x"), roster.Level("galaxy"))
		require.ErrorContains(t, err, `level "galaxy"`)
	})
}
