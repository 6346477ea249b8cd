package roster_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
)

var (
	fullScopes = []string{"boards:read", "boards:write", "team:read", "team:write",
		"organizations:read", "organizations:teams:read", "organizations:teams:write",
		"auditlogs:read", "sessions:delete"}
	teamScopes = []string{"boards:read", "boards:write", "team:read", "team:write"}
)

// caps maps capability name to (available, reason).
func caps(c roster.Connection) map[string]roster.Capability {
	out := map[string]roster.Capability{}
	for _, cp := range c.Capabilities() {
		out[cp.Name] = cp
	}
	return out
}

func without(scopes []string, drop ...string) []string {
	var out []string
	for _, s := range scopes {
		keep := true
		for _, d := range drop {
			keep = keep && s != d
		}
		if keep {
			out = append(out, s)
		}
	}
	return out
}

func orgConn() roster.Connection {
	return roster.Connection{Level: roster.LevelOrganization, OrgID: "o1", OrgName: "Acme", TeamID: "t1", TeamName: "HQ",
		Scopes: fullScopes, Enterprise: true, CompanyAdmin: true, SealedSCIMToken: []byte("sealed")}
}

func TestCapabilities(t *testing.T) {
	t.Parallel()

	t.Run("OrgAdminHasEverything", func(t *testing.T) {
		t.Parallel()
		got := orgConn().Capabilities()
		require.Len(t, got, 7)
		names := []string{roster.CapSyncUsers, roster.CapExactLic, roster.CapUsage, roster.CapAuditUsage, roster.CapManage, roster.CapDeactivate, roster.CapSignOut}
		for i, c := range got {
			require.Equal(t, names[i], c.Name)
			require.True(t, c.Available, "%s: %s", c.Name, c.Reason)
			require.NotEmpty(t, c.Reason)
		}
	})

	t.Run("OrgWithoutTeamsWriteSyncsButCannotAct", func(t *testing.T) {
		t.Parallel()
		c := orgConn()
		c.Scopes = without(fullScopes, "organizations:teams:write")
		got := caps(c)
		require.True(t, got[roster.CapSyncUsers].Available)
		require.False(t, got[roster.CapManage].Available)
		require.Equal(t, "granted scopes lack organizations:teams:write, so actions are disabled", got[roster.CapManage].Reason)
	})

	t.Run("OrgNotCompanyAdminSyncsInstalledTeamOnly", func(t *testing.T) {
		t.Parallel()
		c := orgConn()
		c.CompanyAdmin = false
		got := caps(c)
		require.True(t, got[roster.CapSyncUsers].Available)
		require.Contains(t, got[roster.CapSyncUsers].Reason, "team HQ only")
		require.Contains(t, got[roster.CapSyncUsers].Reason, "not a Company Admin")
		require.False(t, got[roster.CapUsage].Available)
		require.Equal(t, "the connecting user is not a Company Admin", got[roster.CapUsage].Reason)
		require.False(t, got[roster.CapExactLic].Available)
		require.True(t, got[roster.CapManage].Available, "team:write works on the installed team")
		require.Contains(t, got[roster.CapManage].Reason, "legacy team API")
		require.False(t, got[roster.CapSignOut].Available)
		require.True(t, got[roster.CapDeactivate].Available, "SCIM needs its own token, not a Company Admin OAuth token")
	})

	t.Run("OrgWithoutAuditOrSessionsOrSCIM", func(t *testing.T) {
		t.Parallel()
		c := orgConn()
		c.Scopes = without(fullScopes, "auditlogs:read", "sessions:delete")
		c.SealedSCIMToken = nil
		got := caps(c)
		require.True(t, got[roster.CapUsage].Available)
		require.False(t, got[roster.CapAuditUsage].Available)
		require.Equal(t, "granted scopes lack auditlogs:read, so usage comes from last activity only", got[roster.CapAuditUsage].Reason)
		require.False(t, got[roster.CapSignOut].Available)
		require.Equal(t, "granted scopes lack sessions:delete", got[roster.CapSignOut].Reason)
		require.False(t, got[roster.CapDeactivate].Available)
		require.Contains(t, got[roster.CapDeactivate].Reason, "--scim-token")
	})

	t.Run("OrgMissingReadScopes", func(t *testing.T) {
		t.Parallel()
		c := orgConn()
		c.Scopes = without(fullScopes, "organizations:read", "organizations:teams:read", "team:read")
		got := caps(c)
		require.False(t, got[roster.CapSyncUsers].Available)
		require.Contains(t, got[roster.CapSyncUsers].Reason, "granted scopes lack organizations:read and organizations:teams:read")
		require.Equal(t, "granted scopes lack organizations:read", got[roster.CapUsage].Reason)
	})

	t.Run("TeamLevelLegacy", func(t *testing.T) {
		t.Parallel()
		c := roster.Connection{Level: roster.LevelTeam, OrgID: "o2", TeamID: "t9", TeamName: "Design", Scopes: teamScopes}
		got := caps(c)
		require.True(t, got[roster.CapSyncUsers].Available)
		require.Equal(t, "members of team Design only, through the legacy team API", got[roster.CapSyncUsers].Reason)
		require.False(t, got[roster.CapExactLic].Available)
		require.Contains(t, got[roster.CapExactLic].Reason, "infers licenses")
		require.False(t, got[roster.CapUsage].Available)
		require.True(t, got[roster.CapManage].Available)
		require.False(t, got[roster.CapDeactivate].Available)
		require.Contains(t, got[roster.CapDeactivate].Reason, "organization-level")
		require.False(t, got[roster.CapSignOut].Available)
	})

	t.Run("TeamLevelWithoutTeamScopes", func(t *testing.T) {
		t.Parallel()
		c := roster.Connection{Level: roster.LevelTeam, TeamID: "t9", Scopes: []string{"boards:read"}}
		got := caps(c)
		require.False(t, got[roster.CapSyncUsers].Available)
		require.Equal(t, "team:read is missing, so the legacy team API cannot list members", got[roster.CapSyncUsers].Reason)
		require.False(t, got[roster.CapManage].Available)
		require.Equal(t, "team:write is missing, so the legacy team API cannot change members", got[roster.CapManage].Reason)
		require.Equal(t, "the team belongs to no organization", got[roster.CapSignOut].Reason)
	})

	t.Run("TeamLevelThroughOrgAPI", func(t *testing.T) {
		t.Parallel()
		c := orgConn()
		c.Level = roster.LevelTeam
		c.Scopes = without(fullScopes, "team:read", "team:write")
		got := caps(c)
		require.True(t, got[roster.CapSyncUsers].Available)
		require.Contains(t, got[roster.CapSyncUsers].Reason, "through the organization API")
		require.True(t, got[roster.CapManage].Available)
		require.False(t, got[roster.CapExactLic].Available, "team level stays inferred")
	})

	t.Run("NotEnterprise", func(t *testing.T) {
		t.Parallel()
		c := roster.Connection{Level: roster.LevelOrganization, OrgID: "o2", TeamID: "t9", TeamName: "Design", Scopes: teamScopes}
		got := caps(c)
		require.Equal(t, "the organization is not on Miro Enterprise", got[roster.CapUsage].Reason)
		require.Equal(t, "SCIM needs Miro Enterprise", got[roster.CapDeactivate].Reason)
	})
}
