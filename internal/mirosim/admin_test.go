package mirosim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAdminInfo(t *testing.T) {
	t.Parallel()
	b := srvSetup(t, Config{})
	resp, data := b.call(t, "GET", "/_sim/info", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var info Info
	require.NoError(t, json.Unmarshal(data, &info))
	require.Equal(t, b.srv.URL, info.APIBaseURL)
	require.Equal(t, b.srv.URL+"/v1/oauth/token", info.TokenURL)
	require.Equal(t, b.srv.URL+"/oauth/authorize", info.AuthorizeURL)
	require.Equal(t, b.srv.URL+"/api/v1/scim", info.SCIMBaseURL)
	require.Equal(t, b.srv.URL+"/_sim", info.AdminURL)
	require.Equal(t, "roster-sim-client", info.ClientID)
	require.Equal(t, "roster-sim-secret", info.ClientSecret)
	require.NotEmpty(t, info.OrgID)
	require.Len(t, info.TeamIDs, 4)
	require.NotEmpty(t, info.SCIMToken)
	require.Equal(t, 60, info.RateWindowSeconds)
	require.Equal(t, 100000, info.RateBudget)
	require.Len(t, info.Installs, 4)
	k := b.sim.w.Known
	for kind, want := range map[string]struct{ user, team string }{
		InstallOrgAdmin:          {k.CompanyAdminID, k.EnterpriseTeamID},
		InstallOrgNonAdmin:       {k.NonAdminID, k.NonAdminTeamID},
		InstallTeam:              {k.NonAdminID, k.NonAdminTeamID},
		InstallNonEnterpriseTeam: {k.NonEnterpriseAdminID, k.NonEnterpriseTeamID},
	} {
		inst := info.Installs[kind]
		require.Equal(t, kind, inst.Kind)
		require.Equal(t, want.user, inst.UserID, kind)
		require.Equal(t, want.team, inst.TeamID, kind)
		require.NotEmpty(t, inst.AccessToken)
		require.NotEmpty(t, inst.RefreshToken)
		require.Equal(t, 3600, inst.ExpiresIn)
	}
	require.Equal(t, fullScopes, info.Installs[InstallOrgAdmin].Scopes)
	require.Equal(t, fullScopes, info.Installs[InstallOrgNonAdmin].Scopes)
	require.Equal(t, teamScopes, info.Installs[InstallTeam].Scopes)
	require.Equal(t, teamScopes, info.Installs[InstallNonEnterpriseTeam].Scopes)
	require.Equal(t, k.NonEnterpriseOrgID, info.Installs[InstallNonEnterpriseTeam].OrgID)
}

func TestAdminStatsReset(t *testing.T) {
	t.Parallel()
	b := srvSetup(t, Config{})
	tok := b.info.Installs[InstallOrgAdmin].AccessToken
	b.call(t, "GET", "/v1/oauth-token", tok, nil)
	b.call(t, "GET", "/v1/oauth-token", tok, nil)
	b.call(t, "GET", "/v1/oauth-token", "", nil)

	resp, data := b.call(t, "GET", "/_sim/stats", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var st Stats
	require.NoError(t, json.Unmarshal(data, &st))
	require.Equal(t, 3, st.Calls)
	require.Equal(t, 100, st.Credits)
	op := st.ByOperation["token-info"]
	require.Equal(t, 3, op.Calls)
	require.Equal(t, 100, op.Credits)
	require.Equal(t, map[int]int{200: 2, 400: 1}, op.Statuses)

	resp, _ = b.call(t, "POST", "/_sim/stats/reset", "", nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Equal(t, Stats{ByOperation: map[string]OpStats{}}, b.sim.Stats())
}

func TestAdminMembersVisibleThroughAPI(t *testing.T) {
	t.Parallel()
	b := srvSetup(t, Config{})
	tok := b.info.Installs[InstallOrgAdmin].AccessToken
	org := b.info.OrgID

	resp, data := b.call(t, "POST", "/_sim/members", "", map[string]any{
		"email": "New.Hire@example.com", "givenName": "New", "familyName": "Hire",
		"role": "organization_internal_user", "license": "full",
		"teamIds": []string{b.info.TeamIDs[0]}, "teamRole": "member",
	})
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(data))
	var added adminMemberJSON
	require.NoError(t, json.Unmarshal(data, &added))
	require.NotEmpty(t, added.ID)

	resp, data = b.call(t, "GET", "/v2/orgs/"+org+"/members/"+added.ID, tok, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(data))
	var m struct{ ID, Email, License string }
	require.NoError(t, json.Unmarshal(data, &m))
	require.Equal(t, "new.hire@example.com", strings.ToLower(m.Email))
	require.Equal(t, "full", m.License)

	resp, data = b.call(t, "PATCH", "/_sim/members/"+added.ID, "", map[string]any{"license": "free"})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(data))
	_, data = b.call(t, "GET", "/v2/orgs/"+org+"/members/"+added.ID, tok, nil)
	require.NoError(t, json.Unmarshal(data, &m))
	require.Equal(t, "free", m.License)

	resp, _ = b.call(t, "DELETE", "/_sim/members/"+added.ID, "", nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	resp, _ = b.call(t, "GET", "/v2/orgs/"+org+"/members/"+added.ID, tok, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	t.Run("ErrBadJSON", func(t *testing.T) {
		for _, tc := range []struct{ body, want string }{
			{`{"email": 5}`, `email`},
			{`{"givenName": "x"}`, `email`},
			{`{"email": "a@example.com", "licence": "full"}`, `licence`},
			{`{`, `JSON`},
			{``, `empty`},
		} {
			req, _ := http.NewRequest("POST", b.srv.URL+"/_sim/members", strings.NewReader(tc.body))
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, tc.body)
			require.Contains(t, string(data), tc.want, tc.body)
		}
		resp, data := b.call(t, "PATCH", "/_sim/members/"+added.ID, "", map[string]any{"active": "no"})
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		require.Contains(t, string(data), "active")
	})
}

func TestAdminRemoveMemberRevokesTokens(t *testing.T) {
	t.Parallel()
	b := srvSetup(t, Config{})
	k := b.sim.w.Known
	inst := b.info.Installs[InstallTeam]
	require.NoError(t, b.sim.RemoveMember(k.NonAdminID))
	resp, _ := b.call(t, "GET", "/v1/oauth-token", inst.AccessToken, nil)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestAdminTrashAndTokens(t *testing.T) {
	t.Parallel()
	b := srvSetup(t, Config{})
	k := b.sim.w.Known

	resp, data := b.call(t, "GET", "/_sim/teams/"+k.EnterpriseTeamID+"/trash", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.JSONEq(t, `{"boards":[],"projects":[]}`, string(data))
	resp, _ = b.call(t, "GET", "/_sim/teams/nope/trash", "", nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = b.call(t, "POST", "/_sim/teams/"+k.EnterpriseTeamID+"/trash/nope/restore", "", nil)
	require.GreaterOrEqual(t, resp.StatusCode, 400)

	resp, data = b.call(t, "POST", "/_sim/tokens", "", map[string]any{
		"user_id": k.CompanyAdminID, "team_id": k.EnterpriseTeamID, "scopes": []string{"organizations:read"}})
	require.Equal(t, http.StatusOK, resp.StatusCode, string(data))
	var inst Install
	require.NoError(t, json.Unmarshal(data, &inst))
	require.Equal(t, []string{"organizations:read"}, inst.Scopes)
	resp, _ = b.call(t, "GET", "/v2/orgs/"+b.info.OrgID+"/teams", inst.AccessToken, nil)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	resp, data = b.call(t, "POST", "/_sim/tokens", "", map[string]any{"team_id": k.EnterpriseTeamID})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, string(data), "user_id")
	resp, data = b.call(t, "POST", "/_sim/tokens", "", map[string]any{"user_id": k.NonEnterpriseAdminID, "team_id": k.EnterpriseTeamID})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, string(data), "not a member")
}
