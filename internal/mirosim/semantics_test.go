package mirosim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// HTTP-level tests of the simulator's data semantics, through the real
// middleware and the ready installs.

type bundle struct {
	sim  *Sim
	srv  *httptest.Server
	info Info
	k    KnownUsers
	org  string
}

func setup(t *testing.T) *bundle {
	t.Helper()
	sim, err := New(Config{Seed: 7, Members: 400, Teams: 12})
	require.NoError(t, err)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	info := sim.Info(srv.URL)
	return &bundle{sim: sim, srv: srv, info: info, k: sim.w.Known, org: info.OrgID}
}

func (b *bundle) token(kind string) string { return b.info.Installs[kind].AccessToken }

// call sends a request and returns the status and body; a non-nil body is
// sent as JSON.
func (b *bundle) call(t *testing.T, method, path, token string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, b.srv.URL+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, out
}

// getJSON calls and decodes, requiring the status.
func (b *bundle) getJSON(t *testing.T, method, path, token string, body any, status int, v any) {
	t.Helper()
	got, raw := b.call(t, method, path, token, body)
	require.Equal(t, status, got, string(raw))
	if v != nil {
		require.NoError(t, json.Unmarshal(raw, v), string(raw))
	}
}

type errBody struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Type    string `json:"type"`
}

func (b *bundle) requireError(t *testing.T, method, path, token string, body any, status int, code string) errBody {
	t.Helper()
	var e errBody
	b.getJSON(t, method, path, token, body, status, &e)
	require.Equal(t, code, e.Code)
	require.Equal(t, "error", e.Type)
	require.Equal(t, status, e.Status)
	return e
}

type boardOut struct {
	ID    string `json:"id"`
	Owner struct {
		ID string `json:"id"`
	} `json:"owner"`
	Team struct {
		ID string `json:"id"`
	} `json:"team"`
}

// teamBoards lists every board of a team through GET /v2/boards.
func (b *bundle) teamBoards(t *testing.T, teamID string) map[string]boardOut {
	t.Helper()
	out := map[string]boardOut{}
	for offset := 0; ; offset += 50 {
		var page struct {
			Data  []boardOut `json:"data"`
			Total int        `json:"total"`
			Links struct {
				Next string `json:"next"`
			} `json:"links"`
		}
		b.getJSON(t, "GET", fmt.Sprintf("/v2/boards?team_id=%s&limit=50&offset=%d", teamID, offset), b.token(InstallOrgAdmin), nil, 200, &page)
		for _, bd := range page.Data {
			out[bd.ID] = bd
		}
		if page.Links.Next == "" {
			return out
		}
	}
}

// boardOwner finds a plain member of team who owns boards there.
func (b *bundle) boardOwner(t *testing.T, teamID string) (*User, []string) {
	t.Helper()
	b.sim.mu.RLock()
	defer b.sim.mu.RUnlock()
	u := memberWithBoard(b.sim.w, teamID)
	require.NotNil(t, u)
	var ids []string
	for _, bd := range boardsOf(b.sim.w, teamID, u.ID, false) {
		ids = append(ids, bd.ID)
	}
	require.NotEmpty(t, ids, "the chosen member owns boards")
	return u, ids
}

func (b *bundle) connectionID(teamID, userID string) string {
	b.sim.mu.RLock()
	defer b.sim.mu.RUnlock()
	return b.sim.w.Teams[teamID].members[userID].ConnectionID
}

func TestLastAdminRemovalRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	t.Run("V2", func(t *testing.T) {
		t.Parallel()
		// Make the Company Admin the only admin of their team.
		team := b.k.EnterpriseTeamID
		b.sim.mu.Lock()
		for _, m := range b.sim.w.Teams[team].members {
			if m.Role == teamRoleAdmin && m.UserID != b.k.CompanyAdminID {
				m.Role = teamRoleMember
			}
		}
		b.sim.mu.Unlock()
		path := fmt.Sprintf("/v2/orgs/%s/teams/%s/members/%s", b.org, team, b.k.CompanyAdminID)
		b.requireError(t, "DELETE", path, b.token(InstallOrgAdmin), nil, 409, "conflict")
		b.requireError(t, "PATCH", path, b.token(InstallOrgAdmin), map[string]string{"role": "member"}, 409, "conflict")
		var m teamMemberJSON
		b.getJSON(t, "GET", path, b.token(InstallOrgAdmin), nil, 200, &m)
		require.Equal(t, "admin", m.Role)
	})
	t.Run("Legacy", func(t *testing.T) {
		t.Parallel()
		tok := b.token(InstallNonEnterpriseTeam)
		conn := b.connectionID(b.k.NonEnterpriseTeamID, b.k.NonEnterpriseAdminID)
		b.requireError(t, "DELETE", "/v1/team-user-connections/"+conn, tok, nil, 409, "conflict")
		b.requireError(t, "PATCH", "/v1/team-user-connections/"+conn, tok, map[string]string{"role": "member"}, 409, "conflict")
		var c legacyConnJSON
		b.getJSON(t, "GET", "/v1/team-user-connections/"+conn, tok, nil, 200, &c)
		require.Equal(t, "admin", c.Role)
	})
}

func TestLegacyDeleteTrashesBoards(t *testing.T) {
	t.Parallel()
	b := setup(t)
	team := b.k.EnterpriseTeamID
	u, boards := b.boardOwner(t, team)
	before := b.teamBoards(t, team)
	for _, id := range boards {
		require.Contains(t, before, id)
	}

	conn := b.connectionID(team, u.ID)
	code, raw := b.call(t, "DELETE", "/v1/team-user-connections/"+conn, b.token(InstallOrgAdmin), nil)
	require.Equal(t, 204, code, string(raw))

	after := b.teamBoards(t, team)
	for _, id := range boards {
		require.NotContains(t, after, id, "legacy removal sends the boards to the trash")
	}
	trashed, _ := b.sim.Trash(team)
	var trashedIDs []string
	for _, bd := range trashed {
		trashedIDs = append(trashedIDs, bd.ID)
	}
	require.Subset(t, trashedIDs, boards)

	require.NoError(t, b.sim.RestoreFromTrash(team, boards[0]))
	restored := b.teamBoards(t, team)
	require.Contains(t, restored, boards[0])
	require.Equal(t, u.ID, restored[boards[0]].Owner.ID)
}

func TestV2DeleteReassignsBoards(t *testing.T) {
	t.Parallel()
	b := setup(t)
	team := b.k.EnterpriseTeamID
	u, boards := b.boardOwner(t, team)
	b.sim.mu.RLock()
	heir := b.sim.w.Teams[team].oldestAdmin(u.ID).UserID
	b.sim.mu.RUnlock()

	code, raw := b.call(t, "DELETE", fmt.Sprintf("/v2/orgs/%s/teams/%s/members/%s", b.org, team, u.ID), b.token(InstallOrgAdmin), nil)
	require.Equal(t, 204, code, string(raw))

	after := b.teamBoards(t, team)
	for _, id := range boards {
		require.Contains(t, after, id, "v2 removal keeps the boards")
		require.Equal(t, heir, after[id].Owner.ID, "owned by the team's oldest admin")
	}
	trashed, _ := b.sim.Trash(team)
	require.Empty(t, trashed)
	b.requireError(t, "GET", fmt.Sprintf("/v2/orgs/%s/teams/%s/members/%s", b.org, team, u.ID), b.token(InstallOrgAdmin), nil, 404, "notFound")
	// Still in the org.
	var m memberJSON
	b.getJSON(t, "GET", fmt.Sprintf("/v2/orgs/%s/members/%s", b.org, u.ID), b.token(InstallOrgAdmin), nil, 200, &m)
}

func TestInviteOutsideOrg(t *testing.T) {
	t.Parallel()
	b := setup(t)
	path := fmt.Sprintf("/v2/orgs/%s/teams/%s/members", b.org, b.k.EnterpriseTeamID)
	e := b.requireError(t, "POST", path, b.token(InstallOrgAdmin), map[string]string{"email": "stranger@nowhere.example", "role": "member"}, 404, "notFound")
	require.Contains(t, e.Message, "not a member of the organization")

	// Legacy: one bad email refuses the whole request.
	b.sim.mu.RLock()
	neTeam := b.sim.w.Teams[b.k.NonEnterpriseTeamID]
	before := len(neTeam.memberIDs)
	b.sim.mu.RUnlock()
	b.requireError(t, "POST", "/v1/teams/"+b.k.NonEnterpriseTeamID+"/invite", b.token(InstallNonEnterpriseTeam),
		map[string][]string{"emails": {"stranger@nowhere.example"}}, 404, "notFound")
	b.sim.mu.RLock()
	require.Len(t, neTeam.memberIDs, before)
	b.sim.mu.RUnlock()
}

func TestInviteExistingMemberConflict(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.sim.mu.RLock()
	admin := b.sim.w.Users[b.k.CompanyAdminID]
	outsider := pick(b.sim.w, func(u *User) bool {
		return u.Role == roleInternal && b.sim.w.Teams[b.k.EnterpriseTeamID].members[u.ID] == nil
	})
	b.sim.mu.RUnlock()
	path := fmt.Sprintf("/v2/orgs/%s/teams/%s/members", b.org, b.k.EnterpriseTeamID)
	b.requireError(t, "POST", path, b.token(InstallOrgAdmin), map[string]string{"email": admin.Email, "role": "member"}, 409, "conflict")
	b.requireError(t, "POST", path, b.token(InstallOrgAdmin), map[string]string{"email": outsider.Email, "role": "owner"}, 400, "invalidParameters")

	var m teamMemberJSON
	b.getJSON(t, "POST", path, b.token(InstallOrgAdmin), map[string]string{"email": strings.ToUpper(outsider.Email), "role": "member"}, 201, &m)
	require.Equal(t, outsider.ID, m.ID)
	require.Equal(t, "team-member", m.Type)
	require.Equal(t, b.k.CompanyAdminID, m.CreatedBy)
	b.requireError(t, "POST", path, b.token(InstallOrgAdmin), map[string]string{"email": outsider.Email, "role": "member"}, 409, "conflict")
}

type scimOut struct {
	ID       string `json:"id"`
	UserName string `json:"userName"`
	UserType string `json:"userType"`
	Active   bool   `json:"active"`
}

func deactivate() map[string]any {
	return map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []map[string]any{{"op": "replace", "path": "active", "value": false}},
	}
}

func TestSCIMDeactivationFreesLicense(t *testing.T) {
	t.Parallel()
	b := setup(t)
	scim := b.info.SCIMToken
	tests := []struct {
		name string
		body map[string]any
	}{
		{"PathActive", deactivate()},
		{"ValueObject", map[string]any{"Operations": []map[string]any{{"op": "Replace", "value": map[string]any{"active": "False"}}}}},
	}
	var used []string
	for _, tc := range tests {
		b.sim.mu.RLock()
		u := pick(b.sim.w, func(u *User) bool {
			return u.Role == roleInternal && u.Active && u.License == "full" && !strings.Contains(strings.Join(used, ","), u.ID)
		})
		b.sim.mu.RUnlock()
		used = append(used, u.ID)

		var s scimOut
		b.getJSON(t, "PATCH", "/api/v1/scim/Users/"+u.ID, scim, tc.body, 200, &s)
		require.False(t, s.Active, tc.name)
		require.Equal(t, "Free", s.UserType, tc.name)

		var m memberJSON
		b.getJSON(t, "GET", fmt.Sprintf("/v2/orgs/%s/members/%s", b.org, u.ID), b.token(InstallOrgAdmin), nil, 200, &m)
		require.False(t, m.Active, tc.name)
		require.Contains(t, []string{"free", "free_restricted"}, m.License, tc.name)
	}

	// Reactivate: the license stays free until upgraded; no downgrade.
	id := used[0]
	up := map[string]any{"Operations": []map[string]any{{"op": "replace", "path": "active", "value": true}}}
	var s scimOut
	b.getJSON(t, "PATCH", "/api/v1/scim/Users/"+id, scim, up, 200, &s)
	require.True(t, s.Active)
	require.Equal(t, "Free", s.UserType)
	full := map[string]any{"Operations": []map[string]any{{"op": "replace", "path": "userType", "value": "Full"}}}
	b.getJSON(t, "PATCH", "/api/v1/scim/Users/"+id, scim, full, 200, &s)
	require.Equal(t, "Full", s.UserType)
	down := map[string]any{"Operations": []map[string]any{{"op": "replace", "path": "userType", "value": "Basic"}}}
	code, raw := b.call(t, "PATCH", "/api/v1/scim/Users/"+id, scim, down)
	require.Equal(t, 400, code)
	require.Contains(t, string(raw), `"scimType":"mutability"`)
}

func TestSCIMDeactivationOfGuestOrExternalRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.sim.mu.RLock()
	guest := pick(b.sim.w, func(u *User) bool { return u.Role == roleGuest })
	external := pick(b.sim.w, func(u *User) bool { return u.Role == roleExternal && u.Active })
	b.sim.mu.RUnlock()

	// Guests are not SCIM users at all.
	code, raw := b.call(t, "PATCH", "/api/v1/scim/Users/"+guest.ID, b.info.SCIMToken, deactivate())
	require.Equal(t, 404, code, string(raw))
	var e struct {
		Schemas []string `json:"schemas"`
		Status  string   `json:"status"`
		Detail  string   `json:"detail"`
	}
	require.NoError(t, json.Unmarshal(raw, &e))
	require.Equal(t, []string{"urn:ietf:params:scim:api:messages:2.0:Error"}, e.Schemas)
	require.Equal(t, "404", e.Status)

	code, raw = b.call(t, "PATCH", "/api/v1/scim/Users/"+external.ID, b.info.SCIMToken, deactivate())
	require.Equal(t, 400, code, string(raw))
	require.Contains(t, string(raw), "external users cannot be deactivated")

	var m memberJSON
	b.getJSON(t, "GET", fmt.Sprintf("/v2/orgs/%s/members/%s", b.org, external.ID), b.token(InstallOrgAdmin), nil, 200, &m)
	require.True(t, m.Active)
	require.Equal(t, external.License, m.License)
}

func TestSCIMListFilter(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.sim.mu.RLock()
	admin := b.sim.w.Users[b.k.CompanyAdminID]
	b.sim.mu.RUnlock()
	var list struct {
		TotalResults int       `json:"totalResults"`
		StartIndex   int       `json:"startIndex"`
		ItemsPerPage int       `json:"itemsPerPage"`
		Resources    []scimOut `json:"Resources"`
	}
	q := url.Values{"filter": {fmt.Sprintf(`userName eq "%s"`, strings.ToUpper(admin.Email))}}
	b.getJSON(t, "GET", "/api/v1/scim/Users?"+q.Encode(), b.info.SCIMToken, nil, 200, &list)
	require.Equal(t, 1, list.TotalResults)
	require.Equal(t, admin.ID, list.Resources[0].ID)

	q = url.Values{"filter": {`active eq true and userType ne "Full"`}, "count": {"5"}, "startIndex": {"2"}}
	b.getJSON(t, "GET", "/api/v1/scim/Users?"+q.Encode(), b.info.SCIMToken, nil, 200, &list)
	require.Equal(t, 2, list.StartIndex)
	require.Len(t, list.Resources, 5)
	for _, r := range list.Resources {
		require.True(t, r.Active)
		require.NotEqual(t, "Full", r.UserType)
	}
	code, _ := b.call(t, "GET", "/api/v1/scim/Users?filter="+url.QueryEscape(`userName gt "a"`), b.info.SCIMToken, nil)
	require.Equal(t, 400, code)
}

func TestMembersEmailsBareArray(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.sim.mu.RLock()
	a, n := b.sim.w.Users[b.k.CompanyAdminID], b.sim.w.Users[b.k.NonAdminID]
	b.sim.mu.RUnlock()
	emails := strings.ToUpper(a.Email) + "," + n.Email + ",nobody@nowhere.example"
	code, raw := b.call(t, "GET", fmt.Sprintf("/v2/orgs/%s/members?role=organization_external_user&emails=%s", b.org, url.QueryEscape(emails)), b.token(InstallOrgAdmin), nil)
	require.Equal(t, 200, code, string(raw))
	require.Equal(t, byte('['), bytes.TrimSpace(raw)[0], "a bare JSON array")
	var got []memberJSON
	require.NoError(t, json.Unmarshal(raw, &got))
	require.Len(t, got, 2, "other filters are ignored")
	require.Equal(t, a.ID, got[0].ID)

	many := strings.Repeat("x@y.com,", 11)
	b.requireError(t, "GET", fmt.Sprintf("/v2/orgs/%s/members?emails=%s", b.org, url.QueryEscape(many)), b.token(InstallOrgAdmin), nil, 400, "invalidParameters")
}

func TestMembersPagingWalksEveryMemberOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	seen := map[string]int{}
	cursor, pages := "", 0
	for {
		var page membersPage
		path := fmt.Sprintf("/v2/orgs/%s/members?limit=37&cursor=%s", b.org, cursor)
		b.getJSON(t, "GET", path, b.token(InstallOrgAdmin), nil, 200, &page)
		require.Equal(t, "cursor-list", page.Type)
		require.Equal(t, len(page.Data), page.Size)
		pages++
		for _, m := range page.Data {
			seen[m.ID]++
		}
		if page.Cursor == "" {
			break
		}
		require.Equal(t, page.Data[len(page.Data)-1].ID, page.Cursor)
		cursor = page.Cursor
	}
	require.Len(t, seen, 400)
	for id, n := range seen {
		require.Equal(t, 1, n, id)
	}
	require.Equal(t, 11, pages) // ceil(400/37)

	// Filters and bad parameters.
	var active membersPage
	b.getJSON(t, "GET", fmt.Sprintf("/v2/orgs/%s/members?active=false&license=free", b.org), b.token(InstallOrgAdmin), nil, 200, &active)
	for _, m := range active.Data {
		require.False(t, m.Active)
		require.Equal(t, "free", m.License)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "cursor=abc", "active=maybe", "license=gold"} {
		e := b.requireError(t, "GET", fmt.Sprintf("/v2/orgs/%s/members?%s", b.org, q), b.token(InstallOrgAdmin), nil, 400, "invalidParameters")
		name, _, _ := strings.Cut(q, "=")
		require.Contains(t, e.Message, name)
	}
}

func TestTeamsAndTeamMembersPaging(t *testing.T) {
	t.Parallel()
	b := setup(t)
	teams := map[string]bool{}
	cursor := ""
	for {
		var page teamsPage
		b.getJSON(t, "GET", fmt.Sprintf("/v2/orgs/%s/teams?limit=5&cursor=%s", b.org, cursor), b.token(InstallOrgAdmin), nil, 200, &page)
		for _, tm := range page.Data {
			require.False(t, teams[tm.ID])
			teams[tm.ID] = true
		}
		if cursor = page.Cursor; cursor == "" {
			break
		}
	}
	require.Len(t, teams, 12)
	b.requireError(t, "GET", fmt.Sprintf("/v2/orgs/%s/teams?cursor=%%21%%21", b.org), b.token(InstallOrgAdmin), nil, 400, "invalidParameters")
	b.requireError(t, "GET", fmt.Sprintf("/v2/orgs/%s/teams/%s", b.org, b.k.NonEnterpriseTeamID), b.token(InstallOrgAdmin), nil, 404, "notFound")

	team := b.k.EnterpriseTeamID
	b.sim.mu.RLock()
	want := len(b.sim.w.Teams[team].memberIDs)
	b.sim.mu.RUnlock()
	got := map[string]bool{}
	cursor = ""
	for {
		var page teamMembersPage
		b.getJSON(t, "GET", fmt.Sprintf("/v2/orgs/%s/teams/%s/members?limit=100&cursor=%s", b.org, team, cursor), b.token(InstallOrgAdmin), nil, 200, &page)
		for _, m := range page.Data {
			require.False(t, got[m.ID])
			got[m.ID] = true
			require.Equal(t, team, m.TeamID)
		}
		if cursor = page.Cursor; cursor == "" {
			break
		}
	}
	require.Len(t, got, want)
	var admins teamMembersPage
	b.getJSON(t, "GET", fmt.Sprintf("/v2/orgs/%s/teams/%s/members?role=admin", b.org, team), b.token(InstallOrgAdmin), nil, 200, &admins)
	require.NotEmpty(t, admins.Data)
	for _, m := range admins.Data {
		require.Equal(t, "admin", m.Role)
	}
}

func TestAuditLogsRequireDates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok := b.token(InstallOrgAdmin)
	e := b.requireError(t, "GET", "/v2/audit/logs?createdBefore=2030-01-01T00:00:00.000Z", tok, nil, 400, "invalidParameters")
	require.Contains(t, e.Message, "createdAfter")
	e = b.requireError(t, "GET", "/v2/audit/logs?createdAfter=2020-01-01T00:00:00.000Z", tok, nil, 400, "invalidParameters")
	require.Contains(t, e.Message, "createdBefore")

	// Walk everything in both orders with the opaque cursor.
	walk := func(sorting string) []string {
		var ids []string
		cursor := ""
		for {
			var page struct {
				Cursor string `json:"cursor"`
				Data   []struct {
					ID        string `json:"id"`
					CreatedAt string `json:"createdAt"`
				} `json:"data"`
			}
			q := url.Values{"createdAfter": {"2020-01-01T00:00:00.000Z"}, "createdBefore": {"2099-01-01T00:00:00.000Z"},
				"limit": {"500"}, "sorting": {sorting}, "cursor": {cursor}}
			b.getJSON(t, "GET", "/v2/audit/logs?"+q.Encode(), tok, nil, 200, &page)
			for _, ev := range page.Data {
				ids = append(ids, ev.ID)
				require.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$`, ev.CreatedAt)
			}
			if cursor = page.Cursor; cursor == "" {
				return ids
			}
		}
	}
	asc, desc := walk("ASC"), walk("DESC")
	require.NotEmpty(t, asc)
	require.Len(t, desc, len(asc))
	require.Equal(t, asc[0], desc[len(desc)-1])
	b.requireError(t, "GET", "/v2/audit/logs?createdAfter=2020-01-01T00:00:00.000Z&createdBefore=2099-01-01T00:00:00.000Z&limit=501", tok, nil, 400, "invalidParameters")
}

func TestLegacyPagingReachesEveryMember(t *testing.T) {
	t.Parallel()
	b := setup(t)
	team := b.k.EnterpriseTeamID
	b.sim.mu.RLock()
	want := len(b.sim.w.Teams[team].memberIDs)
	b.sim.mu.RUnlock()
	require.Greater(t, want, 20)

	seen := map[string]bool{}
	next := b.srv.URL + "/v1/teams/" + team + "/user-connections?limit=20"
	for next != "" {
		require.True(t, strings.HasPrefix(next, b.srv.URL), next)
		var page legacyListJSON
		b.getJSON(t, "GET", strings.TrimPrefix(next, b.srv.URL), b.token(InstallOrgAdmin), nil, 200, &page)
		require.Equal(t, want, page.Total)
		for _, c := range page.Data {
			require.Equal(t, "team-user-connection", c.Type)
			require.NotEmpty(t, c.User.Email)
			require.False(t, seen[c.User.ID])
			seen[c.User.ID] = true
		}
		next = page.NextLink
	}
	require.Len(t, seen, want)

	// Only the token's own team.
	b.requireError(t, "GET", "/v1/teams/"+b.k.NonAdminTeamID+"/user-connections", b.token(InstallOrgAdmin), nil, 403, "forbiddenAccess")
}

func TestLegacyInviteAndRole(t *testing.T) {
	t.Parallel()
	b := setup(t)
	team, tok := b.k.NonEnterpriseTeamID, b.token(InstallNonEnterpriseTeam)
	b.sim.mu.Lock()
	u, err := b.sim.w.addUser(b.k.NonEnterpriseOrgID, NewUser{Email: "late.joiner@smallco.example"}, b.sim.now())
	b.sim.mu.Unlock()
	require.NoError(t, err)

	var conns []legacyConnJSON
	b.getJSON(t, "POST", "/v1/teams/"+team+"/invite", tok, map[string][]string{"emails": {"Late.Joiner@smallco.example"}}, 200, &conns)
	require.Len(t, conns, 1)
	require.Equal(t, u.ID, conns[0].User.ID)
	require.Equal(t, "member", conns[0].Role)

	b.requireError(t, "POST", "/v1/teams/"+team+"/invite", tok, map[string][]string{"emails": {u.Email}}, 409, "conflict")
	b.requireError(t, "POST", "/v1/teams/"+team+"/invite", tok, map[string][]string{"emails": {}}, 400, "invalidParameters")

	var c legacyConnJSON
	b.getJSON(t, "PATCH", "/v1/team-user-connections/"+conns[0].ID, tok, map[string]string{"role": "admin"}, 200, &c)
	require.Equal(t, "admin", c.Role)
}

func TestBoardsVisibilityAndPaging(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var all, mine boardsPage
	b.getJSON(t, "GET", "/v2/boards?limit=50", b.token(InstallOrgAdmin), nil, 200, &all)
	b.getJSON(t, "GET", "/v2/boards?limit=50", b.token(InstallTeam), nil, 200, &mine)
	require.Greater(t, all.Total, mine.Total, "a Company Admin sees every board of the org")
	require.Equal(t, "list", all.Type)
	require.NotEmpty(t, all.Links.Next)
	require.True(t, strings.HasPrefix(all.Links.Next, b.srv.URL+"/v2/boards?"))
	require.Empty(t, all.Links.Prev)

	var last boardsPage
	b.getJSON(t, "GET", strings.TrimPrefix(all.Links.Last, b.srv.URL), b.token(InstallOrgAdmin), nil, 200, &last)
	require.Empty(t, last.Links.Next)
	require.Equal(t, all.Total, last.Offset+last.Size)

	for _, q := range []string{"limit=0", "limit=51", "offset=-1"} {
		b.requireError(t, "GET", "/v2/boards?"+q, b.token(InstallOrgAdmin), nil, 400, "invalidParameters")
	}
}

func TestSCIMReplaceAndDelete(t *testing.T) {
	t.Parallel()
	b := setup(t)
	scim := b.info.SCIMToken
	b.sim.mu.RLock()
	u := pick(b.sim.w, func(u *User) bool { return u.Role == roleInternal && u.Active && u.License == "basic" })
	b.sim.mu.RUnlock()
	require.NotNil(t, u)

	var s struct {
		scimOut
		Name struct {
			GivenName string `json:"givenName"`
		} `json:"name"`
		Groups []struct {
			Value string `json:"value"`
		} `json:"groups"`
	}
	put := map[string]any{"userName": u.Email, "name": map[string]string{"givenName": "Renamed", "familyName": "Person"}, "active": true, "userType": "Full"}
	b.getJSON(t, "PUT", "/api/v1/scim/Users/"+u.ID, scim, put, 200, &s)
	require.Equal(t, "Renamed", s.Name.GivenName)
	require.Equal(t, "Full", s.UserType, "upgrade to Full is allowed")
	require.NotEmpty(t, s.Groups)

	code, raw := b.call(t, "DELETE", "/api/v1/scim/Users/"+u.ID, scim, nil)
	require.Equal(t, 204, code, string(raw))
	b.requireError(t, "GET", fmt.Sprintf("/v2/orgs/%s/members/%s", b.org, u.ID), b.token(InstallOrgAdmin), nil, 404, "notFound")
	code, _ = b.call(t, "GET", "/api/v1/scim/Users/"+u.ID, scim, nil)
	require.Equal(t, 404, code)
}

func TestAuditRecordsActions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.sim.mu.RLock()
	outsider := pick(b.sim.w, func(u *User) bool {
		return u.Role == roleInternal && b.sim.w.Teams[b.k.EnterpriseTeamID].members[u.ID] == nil
	})
	b.sim.mu.RUnlock()
	path := fmt.Sprintf("/v2/orgs/%s/teams/%s/members", b.org, b.k.EnterpriseTeamID)
	b.getJSON(t, "POST", path, b.token(InstallOrgAdmin), map[string]string{"email": outsider.Email}, 201, nil)

	var page struct {
		Data []struct {
			Event    string `json:"event"`
			Category string `json:"category"`
			Object   struct {
				ID string `json:"id"`
			} `json:"object"`
			CreatedBy struct {
				ID string `json:"id"`
			} `json:"createdBy"`
		} `json:"data"`
	}
	q := url.Values{"createdAfter": {"2020-01-01T00:00:00.000Z"}, "createdBefore": {"2099-01-01T00:00:00.000Z"}, "sorting": {"DESC"}, "limit": {"1"}}
	b.getJSON(t, "GET", "/v2/audit/logs?"+q.Encode(), b.token(InstallOrgAdmin), nil, 200, &page)
	require.Len(t, page.Data, 1)
	ev := page.Data[0]
	require.Equal(t, "team_member_invited", ev.Event)
	require.Equal(t, "teams", ev.Category)
	require.Equal(t, outsider.ID, ev.Object.ID)
	require.Equal(t, b.k.CompanyAdminID, ev.CreatedBy.ID)
}
