package api

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"roster"
)

// loadOpenAPI parses and validates the embedded document.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDoc)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	return doc
}

// TestOpenAPIMatchesRoutes: every route of routeList is in the
// document with the same method and path template, and the document
// has no operation the server does not serve.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	b := setup(t)

	served := map[string]bool{}
	for _, rt := range b.srv.routeList() {
		served[rt.Method+" "+rt.Path] = true
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	keys := func(m map[string]bool) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	require.Equal(t, keys(served), keys(documented), "openapi.json and routeList disagree")

	// The document is what GET /api/v1/openapi.json serves.
	key := b.newAPIKey(t, "reader", roster.ScopeRead)
	a := b.api(t, "GET", "/api/v1/openapi.json", key, nil)
	require.Equal(t, http.StatusOK, a.Status)
	require.Equal(t, openAPIDoc, a.Body)
}

// TestOpenAPIResponses checks real answers, good and bad, against the
// document's schemas.
func TestOpenAPIResponses(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	f := newFixture(t, openSQLite(t))
	read := f.newAPIKey(t, "reader", roster.ScopeRead)
	both := f.newAPIKey(t, "robot", roster.ScopeRead, roster.ScopeAct)
	acc := f.member(t)
	ms, err := f.db.AccountMemberships(t.Context(), acc.ID)
	require.NoError(t, err)
	org := strconv.FormatInt(f.org.ID, 10)
	uid := strconv.FormatInt(acc.ID, 10)

	check := func(method, template, path, key string, body any, want int) apiAnswer {
		t.Helper()
		a := f.api(t, method, path, key, body)
		require.Equal(t, want, a.Status, "%s %s: %s", method, path, a.Body)
		validAnswer(t, doc, f.testBundle, method, template, path, a)
		return a
	}

	check("GET", "/api/v1/users", "/api/v1/users?limit=5", read, nil, 200)
	check("GET", "/api/v1/users", "/api/v1/users?license=full&activity=inactive&sort=last_activity&desc=1", read, nil, 200)
	check("GET", "/api/v1/users", "/api/v1/users?cursor=bogus", read, nil, 400)
	check("GET", "/api/v1/users", "/api/v1/users", "", nil, 401)
	check("GET", "/api/v1/users/{id}", "/api/v1/users/"+uid, read, nil, 200)
	check("GET", "/api/v1/users/{id}", "/api/v1/users/999999", read, nil, 404)
	check("GET", "/api/v1/teams", "/api/v1/teams", read, nil, 200)
	check("GET", "/api/v1/connections", "/api/v1/connections", read, nil, 200)
	check("GET", "/api/v1/connections/{id}/sync-runs", "/api/v1/connections/"+org+"/sync-runs", read, nil, 200)
	check("GET", "/api/v1/changes", "/api/v1/changes?limit=3", read, nil, 200)
	check("GET", "/api/v1/changes", "/api/v1/changes?account="+uid, read, nil, 200)
	check("GET", "/api/v1/insights/overview", "/api/v1/insights/overview", read, nil, 200)

	// Actions: forbidden, bad, done, refused.
	rm := map[string]any{"kind": "remove_from_team", "connection_id": f.org.ID, "team_id": ms[0].MiroTeamID, "user_id": acc.MiroUserID, "idempotency_key": "oa-1"}
	check("POST", "/api/v1/actions", "/api/v1/actions", read, rm, 403)
	check("POST", "/api/v1/actions", "/api/v1/actions", both, map[string]any{"kind": "invite_to_team"}, 400)
	a := check("POST", "/api/v1/actions", "/api/v1/actions", both, rm, 200)
	require.True(t, strings.Contains(string(a.Body), `"succeeded"`), string(a.Body))
	// roster refuses (and records) an action the connection's scopes
	// rule out: take team:write from the team-level connection.
	conn, err := f.db.Connection(t.Context(), f.team.ID)
	require.NoError(t, err)
	conn.Scopes = []string{roster.ScopeTeamRead}
	require.NoError(t, f.db.UpdateConnection(t.Context(), &conn))
	teamMember := f.teamMember(t)
	a = check("POST", "/api/v1/actions", "/api/v1/actions", both, map[string]any{"kind": "change_team_role", "connection_id": f.team.ID,
		"team_id": f.team.TeamID, "user_id": teamMember.MiroUserID, "role": "admin", "idempotency_key": "oa-2"}, 422)
	code, _, _ := a.errorBody(t)
	require.Equal(t, "refused", code)

	check("POST", "/api/v1/connections/{id}/sync", "/api/v1/connections/999/sync", both, nil, 404)
	check("GET", "/api/v1/audit", "/api/v1/audit?limit=1", read, nil, 200)
	check("GET", "/api/v1/audit", "/api/v1/audit?kind=action", read, nil, 200)
}
