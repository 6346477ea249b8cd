package mirosim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/stretchr/testify/require"
)

// miroSpecPath is Miro's official OpenAPI spec, beside the repository:
// shared/ sits next to the checkout both here and in CI.
const miroSpecPath = "../../../shared/miro/miro-openapi-spec.json"

// scimBase is where the simulator (and Miro) serve SCIM.
const scimBase = "/api/v1/scim"

// loadMiroSpec reads Miro's spec and patches its known defects in memory,
// then loads it with kin-openapi. A missing spec fails the test: the
// contract is the point of the test, so it never skips.
//
// Patches, each applied to the raw JSON before loading:
//  1. Dangling response refs. Operations point at
//     #/components/responses/{400,401,403,404,409,413,425,429,500} and the
//     SCIM-specific createUser400, createUser409, deleteUser404,
//     deleteUser409, getUser404, updateGroup400, updateGroup409,
//     updateUser400, updateUser404 and updateUser409, but the file has no
//     components.responses at all. We add each: the numeric ones as Miro's
//     ErrorResponse (application/json), the SCIM ones as RFC 7644's error
//     (application/scim+json or application/json).
//  2. The mistyped TeamCopyAccessLevelSettings enum value
//     "board_owner            -" becomes "board_owner", wherever it occurs.
//  3. The SCIM paths (/Users, /Groups, /ServiceProviderConfig,
//     /ResourceTypes, /Schemas and their sub-paths) sit under the global
//     https://api.miro.com/ server; they move under /api/v1/scim, Miro's
//     SCIM base. Their numeric error refs (401, 403, 429, ...) are pointed at
//     SCIM-shaped copies ("scim401", ...), since SCIM answers errors in
//     RFC 7644's shape, not Miro's.
//  4. AuditEvent.createdAt is declared "format: date-time" (RFC 3339, colon
//     in the offset), yet the spec's own example is
//     "2023-09-01T09:30:10.840+0000", and Miro sends that. The simulator
//     reproduces it so that the client's lenient parsing is exercised; we
//     drop the format and keep type string.
//  5. UserResource declares the SCIM enterprise extension attribute
//     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", but its
//     "schemas" enum allows only the core URN, so no user carrying the
//     extension could validate (RFC 7643 §3 lists every extension URN in
//     "schemas"). We add the extension URN to every such enum.
func loadMiroSpec(t *testing.T) *openapi3.T {
	t.Helper()
	data, err := os.ReadFile(miroSpecPath)
	require.NoError(t, err, "Miro's spec must be at %s (shared/ beside the repository); the contract test never skips", miroSpecPath)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(data, &raw), "spec is not JSON")
	patched, err := json.Marshal(patchMiroSpec(t, raw))
	require.NoError(t, err)

	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(patched)
	require.NoError(t, err, "loading the patched spec")
	return doc
}

func patchMiroSpec(t *testing.T, raw map[string]any) map[string]any {
	t.Helper()
	components := raw["components"].(map[string]any)
	schemas := components["schemas"].(map[string]any)
	responses, _ := components["responses"].(map[string]any)
	if responses == nil {
		responses = map[string]any{}
		components["responses"] = responses
	}

	// Patch 3: re-home SCIM paths and point their errors at SCIM shapes.
	paths := raw["paths"].(map[string]any)
	for p, item := range maps2(paths) {
		if strings.HasPrefix(p, "/v1/") || strings.HasPrefix(p, "/v2/") {
			continue
		}
		delete(paths, p)
		paths[scimBase+p] = retargetRefs(item, func(name string) string {
			if isNumeric(name) {
				return "scim" + name
			}
			return name
		})
	}

	// Patch 1: add every response component that is referenced but missing.
	schemas["SimSCIMError"] = map[string]any{
		"type":     "object",
		"required": []any{"schemas", "status"},
		"properties": map[string]any{
			"schemas":  map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
			"status":   map[string]any{"type": "string"},
			"detail":   map[string]any{"type": "string"},
			"scimType": map[string]any{"type": "string"},
		},
	}
	miroError := map[string]any{"$ref": "#/components/schemas/ErrorResponse"}
	scimError := map[string]any{"$ref": "#/components/schemas/SimSCIMError"}
	for _, name := range referencedResponses(raw) {
		if _, ok := responses[name]; ok {
			continue
		}
		var content map[string]any
		if isNumeric(name) {
			content = map[string]any{"application/json": map[string]any{"schema": miroError}}
		} else {
			content = map[string]any{
				"application/scim+json": map[string]any{"schema": scimError},
				"application/json":      map[string]any{"schema": scimError},
			}
		}
		responses[name] = map[string]any{"description": "added by the mirosim contract test: " + name, "content": content}
	}

	// Patch 2: the mistyped enum value.
	fixed := replaceStrings(raw, "board_owner            -", "board_owner").(map[string]any)

	// Patch 4: the audit event time as Miro sends it.
	audit := schemas["AuditEvent"].(map[string]any)["properties"].(map[string]any)["createdAt"].(map[string]any)
	delete(audit, "format")

	// Patch 5: allow the enterprise extension URN in SCIM "schemas" enums.
	addSCIMExtensionURN(fixed)
	return fixed
}

const (
	scimCoreUserURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	scimEnterpriseUserURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

func addSCIMExtensionURN(v any) {
	switch x := v.(type) {
	case map[string]any:
		if enum, ok := x["enum"].([]any); ok && len(enum) == 1 && enum[0] == scimCoreUserURN {
			x["enum"] = []any{scimCoreUserURN, scimEnterpriseUserURN}
		}
		for _, e := range x {
			addSCIMExtensionURN(e)
		}
	case []any:
		for _, e := range x {
			addSCIMExtensionURN(e)
		}
	}
}

// maps2 copies a map so that it can be changed while ranging.
func maps2(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func isNumeric(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }

const responsesRef = "#/components/responses/"

// retargetRefs renames the response components that v references.
func retargetRefs(v any, rename func(string) string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "$ref" && strings.HasPrefix(s, responsesRef) {
				x[k] = responsesRef + rename(strings.TrimPrefix(s, responsesRef))
				continue
			}
			x[k] = retargetRefs(e, rename)
		}
	case []any:
		for i, e := range x {
			x[i] = retargetRefs(e, rename)
		}
	}
	return v
}

// referencedResponses lists the response components that raw refers to.
func referencedResponses(raw any) []string {
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if s, ok := x["$ref"].(string); ok && strings.HasPrefix(s, responsesRef) {
				seen[strings.TrimPrefix(s, responsesRef)] = true
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(raw)
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func replaceStrings(v any, from, to string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = replaceStrings(e, from, to)
		}
	case []any:
		for i, e := range x {
			x[i] = replaceStrings(e, from, to)
		}
	case string:
		if x == from {
			return to
		}
	}
	return v
}

// contract makes real requests to a simulator and validates each answer
// against the operation in the spec.
type contract struct {
	t   *testing.T
	doc *openapi3.T
	b   *srvBundle
	ops map[string]contractOp
	// seen records which statuses were validated per operation.
	seen map[string][]int
}

type contractOp struct {
	method, path string
	item         *openapi3.PathItem
	op           *openapi3.Operation
}

func newContract(t *testing.T, doc *openapi3.T, b *srvBundle) *contract {
	c := &contract{t: t, doc: doc, b: b, ops: map[string]contractOp{}, seen: map[string][]int{}}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID != "" {
				c.ops[op.OperationID] = contractOp{method: method, path: path, item: item, op: op}
			}
		}
	}
	return c
}

// pathParams matches a concrete path against a template like
// /v2/orgs/{org_id}.
func pathParams(template, path string) map[string]string {
	tp, pp := strings.Split(template, "/"), strings.Split(path, "/")
	out := map[string]string{}
	if len(tp) != len(pp) {
		return out
	}
	for i, seg := range tp {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			v, _ := url.PathUnescape(pp[i])
			out[strings.Trim(seg, "{}")] = v
		}
	}
	return out
}

// do sends a request for operation opID and validates the answer. want is
// the status the scenario expects, or 0 for any status the spec declares
// (where Miro's exact choice is not documented); the body is returned for
// chaining.
func (c *contract) do(opID, method, target, token, contentType string, body any, want int) []byte {
	c.t.Helper()
	co, ok := c.ops[opID]
	if !ok {
		c.t.Errorf("%s: operation not in the spec", opID)
		return nil
	}
	var rd io.Reader
	if body != nil {
		js, err := json.Marshal(body)
		require.NoError(c.t, err)
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, c.b.srv.URL+target, rd)
	require.NoError(c.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(c.t, err)

	name := fmt.Sprintf("%s %s -> %d", method, target, resp.StatusCode)
	if want != 0 && resp.StatusCode != want {
		c.t.Errorf("%s (%s): want status %d; body %s", opID, name, want, clip(data))
	}
	if !strings.EqualFold(co.method, method) {
		c.t.Errorf("%s: spec method is %s, scenario used %s", opID, co.method, method)
	}

	vreq, _ := http.NewRequest(method, c.b.srv.URL+target, nil)
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    vreq,
			PathParams: pathParams(co.path, req.URL.Path),
			Route:      &routers.Route{Spec: c.doc, Path: co.path, PathItem: co.item, Method: co.method, Operation: co.op},
		},
		Status: resp.StatusCode,
		Header: resp.Header,
		Body:   io.NopCloser(bytes.NewReader(data)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		msg := err.Error()
		if len(msg) > 1500 {
			msg = msg[:1500] + "..."
		}
		c.t.Errorf("CONTRACT %s (%s): %s\nbody: %s", opID, name, msg, clip(data))
	}
	c.seen[opID] = append(c.seen[opID], resp.StatusCode)
	return data
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "..."
	}
	return string(b)
}

func (c *contract) get(opID, target, token string, want int) []byte {
	c.t.Helper()
	return c.do(opID, "GET", target, token, "", nil, want)
}

func TestContract(t *testing.T) {
	t.Parallel()
	doc := loadMiroSpec(t)
	b := srvSetup(t, Config{Members: 150, Teams: 5})
	c := newContract(t, doc, b)
	k := b.sim.w.Known
	org := b.info.OrgID
	admin := b.info.Installs[InstallOrgAdmin].AccessToken
	nonAdmin := b.info.Installs[InstallOrgNonAdmin].AccessToken
	nonEnt := b.info.Installs[InstallNonEnterpriseTeam]

	// Token info.
	c.get("token-info", "/v1/oauth-token", admin, 200)
	c.get("token-info", "/v1/oauth-token", b.info.Installs[InstallTeam].AccessToken, 200)
	c.get("token-info", "/v1/oauth-token", nonEnt.AccessToken, 200)
	c.get("token-info", "/v1/oauth-token", "not-a-token", 400)

	// Organization.
	c.get("enterprise-get-organization", "/v2/orgs/"+org, admin, 200)
	c.get("enterprise-get-organization", "/v2/orgs/"+org, nonAdmin, 403)
	c.get("enterprise-get-organization", "/v2/orgs/"+org, "", 401)
	c.get("enterprise-get-organization", "/v2/orgs/"+org, "revoked-or-unknown", 401)
	c.get("enterprise-get-organization", "/v2/orgs/"+nonEnt.OrgID, nonEnt.AccessToken, 403)

	// Organization members: paged, every filter, and the emails bare array.
	var page struct {
		Data   []struct{ ID, Email string }
		Cursor string
	}
	require.NoError(t, json.Unmarshal(c.get("enterprise-get-organization-members", "/v2/orgs/"+org+"/members?limit=20", admin, 200), &page))
	require.NotEmpty(t, page.Cursor)
	c.get("enterprise-get-organization-members", "/v2/orgs/"+org+"/members?limit=20&cursor="+url.QueryEscape(page.Cursor), admin, 200)
	c.get("enterprise-get-organization-members", "/v2/orgs/"+org+"/members", admin, 200)
	c.get("enterprise-get-organization-members", "/v2/orgs/"+org+"/members?role=organization_internal_admin&license=full&active=true&limit=100", admin, 200)
	c.get("enterprise-get-organization-members", "/v2/orgs/"+org+"/members?license=free_restricted", admin, 200)
	emails := page.Data[0].Email + "," + page.Data[1].Email
	c.get("enterprise-get-organization-members", "/v2/orgs/"+org+"/members?emails="+url.QueryEscape(emails), admin, 200)
	c.get("enterprise-get-organization-members", "/v2/orgs/"+org+"/members?emails=nobody%40example.invalid", admin, 200)
	c.get("enterprise-get-organization-members", "/v2/orgs/"+org+"/members?limit=1000", admin, 400)

	// One member.
	c.get("enterprise-get-organization-member", "/v2/orgs/"+org+"/members/"+k.CompanyAdminID, admin, 200)
	for _, m := range page.Data {
		c.get("enterprise-get-organization-member", "/v2/orgs/"+org+"/members/"+m.ID, admin, 200)
	}
	c.get("enterprise-get-organization-member", "/v2/orgs/"+org+"/members/999", admin, 404)

	// Teams.
	var teams struct {
		Data   []struct{ ID string }
		Cursor string
	}
	require.NoError(t, json.Unmarshal(c.get("enterprise-get-teams", "/v2/orgs/"+org+"/teams?limit=2", admin, 200), &teams))
	if teams.Cursor != "" {
		c.get("enterprise-get-teams", "/v2/orgs/"+org+"/teams?limit=2&cursor="+url.QueryEscape(teams.Cursor), admin, 200)
	}
	c.get("enterprise-get-teams", "/v2/orgs/"+org+"/teams?name=a", admin, 200)
	c.get("enterprise-get-team", "/v2/orgs/"+org+"/teams/"+k.EnterpriseTeamID, admin, 200)
	c.get("enterprise-get-team", "/v2/orgs/"+org+"/teams/999", admin, 404)
	c.get("enterprise-get-team-settings", "/v2/orgs/"+org+"/teams/"+k.EnterpriseTeamID+"/settings", admin, 200)

	// Team members.
	teamPath := "/v2/orgs/" + org + "/teams/" + k.EnterpriseTeamID + "/members"
	var tm struct {
		Data   []struct{ ID, Role string }
		Cursor string
	}
	require.NoError(t, json.Unmarshal(c.get("enterprise-get-team-members", teamPath+"?limit=5", admin, 200), &tm))
	if tm.Cursor != "" {
		c.get("enterprise-get-team-members", teamPath+"?limit=5&cursor="+url.QueryEscape(tm.Cursor), admin, 200)
	}
	c.get("enterprise-get-team-members", teamPath+"?role=admin", admin, 200)
	c.get("enterprise-get-team-member", teamPath+"/"+k.CompanyAdminID, admin, 200)
	c.get("enterprise-get-team-member", teamPath+"/999", admin, 404)

	// Invite someone from the org who is not in the team, then change and
	// remove them; refusals for an existing member and an outsider.
	b.sim.mu.RLock()
	var outsider *User
	team := b.sim.w.Teams[k.EnterpriseTeamID]
	for _, id := range b.sim.w.Orgs[org].memberIDs {
		if _, in := team.members[id]; !in && b.sim.w.Users[id].Active && b.sim.w.Users[id].Role == "organization_internal_user" {
			outsider = b.sim.w.Users[id]
			break
		}
	}
	b.sim.mu.RUnlock()
	require.NotNil(t, outsider, "need an org member outside the team")
	c.do("enterprise-invite-team-member", "POST", teamPath, admin, "application/json", map[string]string{"email": outsider.Email, "role": "member"}, 201)
	c.do("enterprise-invite-team-member", "POST", teamPath, admin, "application/json", map[string]string{"email": outsider.Email, "role": "member"}, 409)
	c.do("enterprise-invite-team-member", "POST", teamPath, admin, "application/json", map[string]string{"email": "stranger@elsewhere.invalid", "role": "member"}, 0)
	c.do("enterprise-invite-team-member", "POST", teamPath, admin, "application/json", map[string]string{"email": outsider.Email, "role": "owner"}, 400)
	c.do("enterprise-update-team-member", "PATCH", teamPath+"/"+outsider.ID, admin, "application/json", map[string]string{"role": "admin"}, 200)
	c.do("enterprise-update-team-member", "PATCH", teamPath+"/"+outsider.ID, admin, "application/json", map[string]string{"role": "boss"}, 400)
	c.do("enterprise-update-team-member", "PATCH", teamPath+"/"+outsider.ID, admin, "application/json", map[string]string{"role": "member"}, 200)
	c.do("enterprise-delete-team-member", "DELETE", teamPath+"/"+outsider.ID, admin, "", nil, 204)
	c.do("enterprise-delete-team-member", "DELETE", teamPath+"/"+outsider.ID, admin, "", nil, 404)
	c.do("enterprise-delete-team-member", "DELETE", teamPath+"/"+outsider.ID, nonAdmin, "", nil, 403)

	// Last admin: demote every other admin of the team, then try to remove
	// the one left.
	b.sim.mu.RLock()
	var admins []string
	for _, id := range team.memberIDs {
		if team.members[id].Role == "admin" {
			admins = append(admins, id)
		}
	}
	b.sim.mu.RUnlock()
	last := k.CompanyAdminID
	for _, id := range admins {
		if id != last {
			c.do("enterprise-update-team-member", "PATCH", teamPath+"/"+id, admin, "application/json", map[string]string{"role": "member"}, 200)
		}
	}
	c.do("enterprise-delete-team-member", "DELETE", teamPath+"/"+last, admin, "", nil, 409)
	c.do("enterprise-update-team-member", "PATCH", teamPath+"/"+last, admin, "application/json", map[string]string{"role": "member"}, 409)

	// Audit logs.
	now := b.clock.Now().UTC()
	after := now.Add(-30 * 24 * time.Hour).Format("2006-01-02T15:04:05.000Z")
	before := now.Add(time.Hour).Format("2006-01-02T15:04:05.000Z")
	var audit struct{ Cursor string }
	require.NoError(t, json.Unmarshal(c.get("enterprise-get-audit-logs", "/v2/audit/logs?createdAfter="+after+"&createdBefore="+before+"&limit=20", admin, 200), &audit))
	if audit.Cursor != "" {
		c.get("enterprise-get-audit-logs", "/v2/audit/logs?createdAfter="+after+"&createdBefore="+before+"&limit=20&cursor="+url.QueryEscape(audit.Cursor), admin, 200)
	}
	c.get("enterprise-get-audit-logs", "/v2/audit/logs?createdAfter="+after+"&createdBefore="+before+"&sorting=DESC", admin, 200)
	c.get("enterprise-get-audit-logs", "/v2/audit/logs", admin, 400)
	c.get("enterprise-get-audit-logs", "/v2/audit/logs?createdAfter="+after+"&createdBefore="+before, b.info.Installs[InstallTeam].AccessToken, 403)

	// Sessions reset.
	c.do("enterprise-post-user-sessions-reset", "POST", "/v2/sessions/reset_all?email="+url.QueryEscape(outsider.Email), admin, "", nil, 200)
	c.do("enterprise-post-user-sessions-reset", "POST", "/v2/sessions/reset_all?email=nobody%40example.invalid", admin, "", nil, 0)

	// Boards, with offset paging; the non-Enterprise team too.
	var boards struct{ Total int }
	require.NoError(t, json.Unmarshal(c.get("get-boards", "/v2/boards?team_id="+k.EnterpriseTeamID+"&limit=5", admin, 200), &boards))
	c.get("get-boards", "/v2/boards?team_id="+k.EnterpriseTeamID+"&limit=5&offset=5", admin, 200)
	c.get("get-boards", "/v2/boards?owner="+k.CompanyAdminID, admin, 200)
	c.get("get-boards", "/v2/boards?team_id="+nonEnt.TeamID, nonEnt.AccessToken, 200)
	c.get("get-boards", "/v2/boards?limit=500", admin, 400)

	// SCIM.
	scim := b.info.SCIMToken
	var users struct {
		Resources []struct{ ID string }
	}
	require.NoError(t, json.Unmarshal(c.get("listUsers", scimBase+"/Users?startIndex=1&count=5", scim, 200), &users))
	c.get("listUsers", scimBase+"/Users?filter="+url.QueryEscape(`userName eq "`+outsider.Email+`"`), scim, 200)
	c.get("listUsers", scimBase+"/Users?filter="+url.QueryEscape(`userType ne "Full"`)+"&count=3", scim, 200)
	c.get("listUsers", scimBase+"/Users", "wrong", 401)
	require.NotEmpty(t, users.Resources)
	c.get("getUser", scimBase+"/Users/"+outsider.ID, scim, 200)
	c.get("getUser", scimBase+"/Users/999", scim, 404)
	deactivate := map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []map[string]any{{"op": "replace", "path": "active", "value": false}},
	}
	c.do("patchUser", "PATCH", scimBase+"/Users/"+outsider.ID, scim, "application/scim+json", deactivate, 200)
	c.do("patchUser", "PATCH", scimBase+"/Users/999", scim, "application/scim+json", deactivate, 404)
	c.do("deleteUser", "DELETE", scimBase+"/Users/"+outsider.ID, scim, "", nil, 204)
	c.do("deleteUser", "DELETE", scimBase+"/Users/"+outsider.ID, scim, "", nil, 404)

	// Rate limiting, real and injected.
	b.sim.SetFaults(Fault{OperationID: "enterprise-get-teams", Kind: Fault429, Rate: 1})
	c.get("enterprise-get-teams", "/v2/orgs/"+org+"/teams", admin, 429)
	b.sim.SetFaults(Fault{OperationID: "listUsers", Kind: Fault429, Rate: 1})
	c.get("listUsers", scimBase+"/Users", scim, 429)
	b.sim.SetFaults()

	// Revoke last, since it ends the admin token.
	c.do("revoke-token-v2", "POST", "/v2/oauth/revoke", "", "application/json",
		map[string]string{"accessToken": admin, "clientId": b.info.ClientID, "clientSecret": b.info.ClientSecret}, 204)
	c.do("revoke-token-v2", "POST", "/v2/oauth/revoke", "", "application/json",
		map[string]string{"accessToken": admin, "clientId": b.info.ClientID, "clientSecret": b.info.ClientSecret}, 404)

	// Every operation the client uses was exercised.
	for _, op := range []string{"token-info", "enterprise-get-organization", "enterprise-get-organization-members",
		"enterprise-get-organization-member", "enterprise-get-teams", "enterprise-get-team", "enterprise-get-team-members",
		"enterprise-get-team-member", "enterprise-invite-team-member", "enterprise-update-team-member",
		"enterprise-delete-team-member", "enterprise-get-team-settings", "enterprise-get-audit-logs",
		"enterprise-post-user-sessions-reset", "get-boards", "revoke-token-v2", "listUsers", "getUser", "patchUser", "deleteUser"} {
		require.NotEmpty(t, c.seen[op], "operation %s was not exercised", op)
	}
	var summary []string
	for op, st := range c.seen {
		slices.Sort(st)
		summary = append(summary, fmt.Sprintf("%s %v", op, slices.Compact(st)))
	}
	sort.Strings(summary)
	t.Logf("validated:\n%s", strings.Join(summary, "\n"))
}

func TestContractSpecMissingFails(t *testing.T) {
	t.Parallel()
	// The guard: the spec path is fixed and the loader fails (not skips)
	// when the file is absent.
	_, err := os.Stat(miroSpecPath)
	require.NoError(t, err, "Miro's spec must be present at %s", miroSpecPath)
}
