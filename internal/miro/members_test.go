package miro

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster/internal/mirosim"
)

// TestOrgMembersWalkWithFaults walks a 20,000-member organization while 15%
// of member-page calls fail with 500, 503 or 429, and gets every member
// exactly once.
func TestOrgMembersWalkWithFaults(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 20000, Teams: 20, RateWindow: time.Second, RateBudget: 10_000_000})
	ctx := ctxTimeout(t, 2*time.Minute)

	// The reference: a fault-free walk on its own client.
	want := map[string]bool{}
	for m, err := range b.adminClient(t).OrgMembers(ctx, b.info.OrgID, MemberFilter{}) {
		require.NoError(t, err)
		want[m.ID] = true
	}
	require.GreaterOrEqual(t, len(want), 20000)

	b.sim.SetFaults(
		mirosim.Fault{OperationID: "enterprise-get-organization-members", Kind: mirosim.Fault500, Rate: 0.05},
		mirosim.Fault{OperationID: "enterprise-get-organization-members", Kind: mirosim.Fault503, Rate: 0.05},
		mirosim.Fault{OperationID: "enterprise-get-organization-members", Kind: mirosim.Fault429, Rate: 0.05},
	)
	b.sim.ResetStats()
	c := b.adminClient(t, func(c *Config) { c.MaxRetries = 8 })
	seen := map[string]int{}
	for m, err := range c.OrgMembers(ctx, b.info.OrgID, MemberFilter{}) {
		require.NoError(t, err)
		seen[m.ID]++
	}
	for id, n := range seen {
		require.Equalf(t, 1, n, "member %s seen %d times", id, n)
		require.Truef(t, want[id], "member %s is not in the organization", id)
	}
	require.Len(t, seen, len(want), "members missing")

	st := b.sim.Stats().ByOperation["enterprise-get-organization-members"]
	require.Positive(t, st.Statuses[500]+st.Statuses[503], "no 5xx was injected")
	require.Positive(t, st.Statuses[429], "no 429 was injected")
	cs := c.Stats()
	require.Positive(t, cs.Retries)
	require.Equal(t, st.Statuses[429], cs.RateLimited)
	t.Logf("faulty walk: %d members, sim statuses %v, client %+v", len(seen), st.Statuses, cs)
}

func TestOrgMembersFilters(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 500})
	ctx := ctxTimeout(t, time.Minute)
	c := b.adminClient(t)

	all := collect(t, c.OrgMembers(ctx, b.info.OrgID, MemberFilter{}))
	full := collect(t, c.OrgMembers(ctx, b.info.OrgID, MemberFilter{License: "full"}))
	require.NotEmpty(t, full)
	require.Less(t, len(full), len(all))
	for _, m := range full {
		require.Equal(t, LicenseFull, m.License)
		require.True(t, m.License.Equal(LicenseFull))
	}
	inactive := false
	for _, m := range collect(t, c.OrgMembers(ctx, b.info.OrgID, MemberFilter{Active: &inactive})) {
		require.False(t, m.Active)
	}
	for _, m := range collect(t, c.OrgMembers(ctx, b.info.OrgID, MemberFilter{Role: "organization_internal_admin"})) {
		require.Equal(t, OrgRoleInternalAdmin, m.Role)
	}

	one, err := c.OrgMember(ctx, b.info.OrgID, all[7].ID)
	require.NoError(t, err)
	require.Equal(t, all[7].Email, one.Email)

	_, err = c.OrgMember(ctx, b.info.OrgID, "no-such-member")
	require.True(t, IsNotFound(err), "got %v", err)
}

// TestOrgMembersByEmail covers the emails query, which answers with a bare
// array, batched by ten.
func TestOrgMembersByEmail(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 300})
	ctx := ctxTimeout(t, time.Minute)
	c := b.adminClient(t)

	var emails []string
	byEmail := map[string]string{}
	for m, err := range c.OrgMembers(ctx, b.info.OrgID, MemberFilter{}) {
		require.NoError(t, err)
		if len(emails) < 23 {
			emails = append(emails, m.Email)
			byEmail[strings.ToLower(m.Email)] = m.ID
		}
	}
	emails = append(emails, "nobody@nowhere.example")
	b.sim.ResetStats()
	got, err := c.OrgMembersByEmail(ctx, b.info.OrgID, emails)
	require.NoError(t, err)
	require.Len(t, got, 23)
	for _, m := range got {
		require.Equal(t, byEmail[strings.ToLower(m.Email)], m.ID)
	}
	require.Equal(t, 3, b.sim.Stats().ByOperation["enterprise-get-organization-members"].Calls, "24 emails take 3 calls of at most 10")

	// And the raw answer really is a bare array.
	req, _ := http.NewRequest(http.MethodGet, b.info.APIBaseURL+"/v2/orgs/"+b.info.OrgID+"/members?emails="+emails[0], nil)
	req.Header.Set("Authorization", "Bearer "+b.info.Installs[mirosim.InstallOrgAdmin].AccessToken)
	resp, err := b.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var raw json.RawMessage
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&raw))
	require.Equal(t, byte('['), raw[0])
}

func TestDecodeMemberSearchShapes(t *testing.T) {
	t.Parallel()
	arr, err := decodeMemberSearch([]byte(` [{"id":"1","email":"a@b.c","role":"organization_internal_user","license":"full","active":true}]`))
	require.NoError(t, err)
	require.Len(t, arr, 1)
	obj, err := decodeMemberSearch([]byte(`{"data":[{"id":"2","email":"x@y.z","license":"brand_new","role":"r","active":false}],"cursor":""}`))
	require.NoError(t, err)
	require.Equal(t, "unknown", obj[0].License.String())
	require.Equal(t, "brand_new", obj[0].License.Raw())
	_, err = decodeMemberSearch([]byte(`"nope"`))
	require.ErrorContains(t, err, "expected a JSON array or object")
	_, err = decodeMemberSearch([]byte(`[{"id":`))
	require.Error(t, err)
}

// TestTruncatedBody gets a clear error naming the call, never a panic, and
// recovers when the truncation is intermittent.
func TestTruncatedBody(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 300})
	ctx := ctxTimeout(t, time.Minute)

	b.sim.SetFaults(mirosim.Fault{OperationID: "enterprise-get-organization", Kind: mirosim.FaultTruncate, Rate: 1})
	c := b.adminClient(t, func(c *Config) { c.MaxRetries = 2 })
	_, err := c.GetOrganization(ctx, b.info.OrgID)
	require.Error(t, err)
	require.Contains(t, err.Error(), "miro: GET /v2/orgs/"+b.info.OrgID+": malformed response body")
	var se *json.SyntaxError
	require.True(t, errors.As(err, &se) || strings.Contains(err.Error(), "unexpected end of JSON input"), "got %v", err)
	require.Equal(t, 2, c.Stats().Retries)

	b.sim.SetFaults(mirosim.Fault{OperationID: "enterprise-get-organization-members", Kind: mirosim.FaultTruncate, Rate: 0.3})
	n := 0
	for _, err := range b.adminClient(t).OrgMembers(ctx, b.info.OrgID, MemberFilter{}) {
		require.NoError(t, err)
		n++
	}
	require.GreaterOrEqual(t, n, 300)
}

// TestUnknownEnum shows a license and an org role Miro added after this
// client was written decoding to unknown with the raw value kept: the
// simulator is told to give one member values from a future enum.
func TestUnknownEnum(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 200})
	info := b.info
	c := b.adminClient(t)
	var target string
	for m, err := range c.OrgMembers(ctxTimeout(t, time.Minute), info.OrgID, MemberFilter{}) {
		require.NoError(t, err)
		if m.Role.String() == "organization_internal_user" {
			target = m.ID
			break
		}
	}
	license, role := "mega_plus", "organization_superhero"
	_, err := b.sim.UpdateMember(target, mirosim.UserPatch{License: &license, Role: &role})
	require.NoError(t, err)

	n := 0
	for m, err := range c.OrgMembers(ctxTimeout(t, time.Minute), info.OrgID, MemberFilter{}) {
		require.NoError(t, err)
		if m.License.Raw() == "mega_plus" {
			n++
			require.Equal(t, target, m.ID)
			require.Equal(t, "unknown", m.Role.String())
			require.Equal(t, role, m.Role.Raw())
			require.Equal(t, "unknown", m.License.String())
			require.False(t, m.License.IsKnown())
			require.True(t, m.License.Equal(LicenseUnknown))
			out, err := json.Marshal(m.License)
			require.NoError(t, err)
			require.JSONEq(t, `"mega_plus"`, string(out), "re-encoding keeps the raw value")
		}
	}
	require.Equal(t, 1, n)

	var m OrganizationMember
	require.NoError(t, json.Unmarshal([]byte(`{"id":"1","role":"organization_superhero","license":42,"active":true}`), &m))
	require.Equal(t, "unknown", m.Role.String())
	require.Equal(t, "organization_superhero", m.Role.Raw())
	require.Equal(t, "unknown", m.License.String())
	require.Equal(t, "42", m.License.Raw())
	require.Equal(t, "free_restricted", ParseLicense("free_restricted").String())
	for _, l := range []string{"advanced", "standard", "basic", "full", "occasional", "free", "free_restricted", "full_trial"} {
		require.True(t, ParseLicense(l).IsKnown(), l)
	}
}

func TestGetOrganization(t *testing.T) {
	t.Parallel()
	b := setup(t, mirosim.Config{Members: 200})
	ctx := ctxTimeout(t, time.Minute)
	org, err := b.adminClient(t).GetOrganization(ctx, b.info.OrgID)
	require.NoError(t, err)
	require.Equal(t, b.info.OrgID, org.ID)
	require.Equal(t, b.info.OrgName, org.Name)
	require.True(t, org.Plan.IsKnown(), org.Plan.Raw())
	require.Positive(t, org.FullLicensesPurchased)

	// A non-admin install is refused with a typed 403.
	nonAdmin := b.client(t, StaticToken(b.info.Installs[mirosim.InstallOrgNonAdmin].AccessToken))
	_, err = nonAdmin.GetOrganization(ctx, b.info.OrgID)
	require.True(t, IsForbidden(err), "got %v", err)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, "enterprise-get-organization", ae.Operation)
	require.Contains(t, err.Error(), "miro: GET /v2/orgs/"+b.info.OrgID+": 403")
}
