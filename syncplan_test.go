package roster

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSyncPlan(t *testing.T) {
	t.Parallel()
	full := []string{"organizations:read", "organizations:teams:read", "auditlogs:read", "team:read"}
	cases := []struct {
		name string
		conn Connection
		src  SyncSource
		note string
		err  string
	}{
		{"org admin", Connection{Level: LevelOrganization, OrgID: "O", Enterprise: true, CompanyAdmin: true, Scopes: full}, SourceOrganization, "", ""},
		{"org admin without audit", Connection{Level: LevelOrganization, OrgID: "O", Enterprise: true, CompanyAdmin: true, Scopes: full[:2]}, SourceOrganization, NoteNoAuditScope, ""},
		{"org non-admin", Connection{Level: LevelOrganization, Enterprise: true, Scopes: full}, SourceLegacyTeam, NoteNotCompanyAdmin, ""},
		{"org not enterprise", Connection{Level: LevelOrganization, CompanyAdmin: true, Scopes: []string{"team:read"}}, SourceLegacyTeam, NoteNotEnterprise, ""},
		{"team admin", Connection{Level: LevelTeam, OrgID: "O", Enterprise: true, CompanyAdmin: true, Scopes: full}, SourceTeamV2, "team-level connection: usage data is unavailable", ""},
		{"team", Connection{Level: LevelTeam, Enterprise: true, Scopes: full}, SourceLegacyTeam, NoteTeamLevel, ""},
		{"org admin, no org id", Connection{Level: LevelOrganization, Enterprise: true, CompanyAdmin: true, Scopes: full}, SourceLegacyTeam,
			"the connection records no organization id, so usage data and organization-wide data are unavailable (reconnect it)", ""},
		{"no scope", Connection{Level: LevelTeam, TeamID: "T", Scopes: []string{"boards:read"}}, "", "", "no way to read team T"},
	}
	for _, tc := range cases {
		p := tc.conn.SyncPlan()
		if tc.err != "" {
			require.ErrorContains(t, p.Err, tc.err, tc.name)
			continue
		}
		require.NoError(t, p.Err, tc.name)
		require.Equal(t, tc.src, p.Source, tc.name)
		require.Equal(t, tc.note, p.Note, tc.name)
	}
}
