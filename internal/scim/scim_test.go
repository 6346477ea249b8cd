package scim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/directory"
	"roster/internal/store"
	"roster/internal/store/sqlstore"
	"roster/internal/store/storetest"
	"roster/internal/testkit"
)

// testBundle is the SCIM server on a real store behind a real HTTP server.
type testBundle struct {
	db    *sqlstore.DB
	ts    *httptest.Server
	clock *testkit.Clock
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	return setupOn(t, storetest.Open(t, storetest.SQLiteDSN(t)))
}

func setupOn(t *testing.T, db *sqlstore.DB) *testBundle {
	t.Helper()
	b := &testBundle{db: db, clock: testkit.NewClock()}
	srv, err := New(Config{Store: db, Now: b.clock.Now})
	require.NoError(t, err)
	b.ts = httptest.NewServer(srv)
	t.Cleanup(b.ts.Close)
	return b
}

// newAPIKey stores an API key with scopes and returns it.
func (b *testBundle) newAPIKey(t *testing.T, name string, scopes ...string) string {
	t.Helper()
	return testkit.APIKey(t, b.db, name, b.clock.Now(), scopes...)
}

// answer is one SCIM answer.
type answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// scim sends a raw SCIM request as an identity provider does.
func (b *testBundle) scim(t *testing.T, method, path, token, body string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, b.ts.URL+path, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := b.ts.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// scimError checks a SCIM error answer and returns its body.
func scimError(t *testing.T, a answer, status int) directory.ErrorBody {
	t.Helper()
	require.Equal(t, status, a.Status, string(a.Body))
	require.Equal(t, "application/scim+json", a.Header.Get("Content-Type"))
	var e directory.ErrorBody
	require.NoError(t, json.Unmarshal(a.Body, &e), string(a.Body))
	require.Equal(t, []string{directory.SchemaError}, e.Schemas)
	require.Equal(t, fmt.Sprint(status), e.Status)
	require.NotEmpty(t, e.Detail)
	return e
}

func scimUser(t *testing.T, a answer, status int) directory.User {
	t.Helper()
	require.Equal(t, status, a.Status, string(a.Body))
	require.Equal(t, "application/scim+json", a.Header.Get("Content-Type"))
	var u directory.User
	require.NoError(t, json.Unmarshal(a.Body, &u), string(a.Body))
	return u
}

const oktaCreate = `{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
  "userName": "Jane.Doe@Example.com",
  "externalId": "00u1abcd",
  "name": {"givenName": "Jane", "familyName": "Doe"},
  "emails": [{"primary": true, "value": "Jane.Doe@Example.com", "type": "work"}, {"value": "jdoe@example.org", "type": "other"}],
  "active": true,
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Finance", "manager": {"value": "Boss@Example.com"}}
}`

// TestSCIMAsIdentityProvider drives the SCIM server as Okta or Entra ID
// would: look up, create, get, filter, deactivate, replace, delete; on
// both backends.
func TestSCIMAsIdentityProvider(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *sqlstore.DB) {
		b := setupOn(t, db)
		ctx := context.Background()
		token := b.newAPIKey(t, "okta", roster.ScopeSCIM)

		// The provider first looks the user up: nobody.
		a := b.scim(t, "GET", "/scim/v2/Users?filter="+url.QueryEscape(`userName eq "jane.doe@example.com"`), token, "")
		require.Equal(t, http.StatusOK, a.Status, string(a.Body))
		var list directory.ListResponse
		require.NoError(t, json.Unmarshal(a.Body, &list))
		require.Equal(t, 0, list.TotalResults)
		require.Equal(t, []string{directory.SchemaListResp}, list.Schemas)

		// Create.
		u := scimUser(t, b.scim(t, "POST", "/scim/v2/Users", token, oktaCreate), http.StatusCreated)
		require.NotEmpty(t, u.ID)
		require.Equal(t, "jane.doe@example.com", u.UserName)
		require.Equal(t, "00u1abcd", u.ExternalID)
		require.True(t, *u.Active)
		require.Equal(t, "Finance", u.Enterprise.Department)
		require.Equal(t, "boss@example.com", u.Enterprise.Manager.Value)
		p, err := db.PersonForAccount(ctx, "JDOE@example.org")
		require.NoError(t, err, "the second email is an alias")
		require.Equal(t, "Jane Doe", p.Name)
		require.Equal(t, roster.PersonActive, p.Status)

		// Creating it again is a uniqueness conflict.
		e := scimError(t, b.scim(t, "POST", "/scim/v2/Users", token, oktaCreate), http.StatusConflict)
		require.Equal(t, "uniqueness", e.SCIMType)

		// Get and filter (case-insensitively, and by externalId).
		got := scimUser(t, b.scim(t, "GET", "/scim/v2/Users/"+u.ID, token, ""), http.StatusOK)
		require.Equal(t, u.UserName, got.UserName)
		for _, f := range []string{`userName eq "JANE.DOE@example.com"`, `externalId eq "00u1abcd"`} {
			a = b.scim(t, "GET", "/scim/v2/Users?filter="+url.QueryEscape(f), token, "")
			require.Equal(t, http.StatusOK, a.Status, string(a.Body))
			require.NoError(t, json.Unmarshal(a.Body, &list))
			require.Equal(t, 1, list.TotalResults, f)
			require.Equal(t, u.ID, list.Resources[0].ID)
		}

		// PATCH active=false (Entra ID sends "False" as a string): left.
		u = scimUser(t, b.scim(t, "PATCH", "/scim/v2/Users/"+u.ID, token,
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`), http.StatusOK)
		require.False(t, *u.Active)
		p, err = db.PersonByEmail(ctx, "jane.doe@example.com")
		require.NoError(t, err)
		require.Equal(t, roster.PersonLeft, p.Status)
		require.Equal(t, "Finance", p.Department, "PATCH changes only what it names")
		// Okta's pathless form brings them back, with a new department.
		u = scimUser(t, b.scim(t, "PATCH", "/scim/v2/Users/"+u.ID, token,
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":true,
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Legal"}}}]}`), http.StatusOK)
		require.True(t, *u.Active)
		require.Equal(t, "Legal", u.Enterprise.Department)

		// PUT replaces: no second email, no manager, active false.
		u = scimUser(t, b.scim(t, "PUT", "/scim/v2/Users/"+u.ID, token, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
			"userName":"jane.doe@example.com","displayName":"Jane Q. Doe","active":false}`), http.StatusOK)
		p, err = db.PersonByEmail(ctx, "jane.doe@example.com")
		require.NoError(t, err)
		require.Equal(t, "Jane Q. Doe", p.Name)
		require.Equal(t, roster.PersonLeft, p.Status)
		require.Empty(t, p.Aliases)
		require.Empty(t, p.ManagerEmail)

		// List pages with startIndex and count.
		second := scimUser(t, b.scim(t, "POST", "/scim/v2/Users", token,
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"sam@example.com"}`), http.StatusCreated)
		a = b.scim(t, "GET", "/scim/v2/Users?startIndex=2&count=1", token, "")
		require.NoError(t, json.Unmarshal(a.Body, &list))
		require.Equal(t, 2, list.TotalResults)
		require.Equal(t, 2, list.StartIndex)
		require.Len(t, list.Resources, 1)
		require.Equal(t, second.ID, list.Resources[0].ID)

		// Delete, then it is gone.
		a = b.scim(t, "DELETE", "/scim/v2/Users/"+u.ID, token, "")
		require.Equal(t, http.StatusNoContent, a.Status, string(a.Body))
		scimError(t, b.scim(t, "GET", "/scim/v2/Users/"+u.ID, token, ""), http.StatusNotFound)
		scimError(t, b.scim(t, "DELETE", "/scim/v2/Users/"+u.ID, token, ""), http.StatusNotFound)
		_, err = db.PersonByEmail(ctx, "jane.doe@example.com")
		require.ErrorIs(t, err, store.ErrNotFound)

		// Service provider config.
		a = b.scim(t, "GET", "/scim/v2/ServiceProviderConfig", token, "")
		require.Equal(t, http.StatusOK, a.Status)
		require.Contains(t, string(a.Body), `"patch":{"supported":true}`)

		// Every request was audited as kind directory.
		entries, err := db.AuditEntries(ctx, store.AuditFilter{Kind: "directory"})
		require.NoError(t, err)
		require.Len(t, entries, 15)
		require.Equal(t, "jane.doe@example.com", entries[12].Target, "a refused create names the user")
		require.Equal(t, "apikey:okta", entries[0].Actor)
	})
}

// TestSCIMRefusals: malformed bodies and filters are 400 SCIM errors;
// a missing, wrong or unscoped token is 401 or 403; all are audited.
func TestSCIMRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	token := b.newAPIKey(t, "entra", roster.ScopeSCIM)
	readKey := b.newAPIKey(t, "reader", roster.ScopeRead)
	id := scimUser(t, b.scim(t, "POST", "/scim/v2/Users", token,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"kim@example.com"}`), http.StatusCreated).ID

	// Authentication.
	e := scimError(t, b.scim(t, "GET", "/scim/v2/Users", "", ""), http.StatusUnauthorized)
	require.Empty(t, e.SCIMType)
	a := b.scim(t, "GET", "/scim/v2/Users", "rk_wrong", "")
	scimError(t, a, http.StatusUnauthorized)
	require.Contains(t, a.Header.Get("WWW-Authenticate"), "Bearer")
	scimError(t, b.scim(t, "POST", "/scim/v2/Users", "not-even-a-key", oktaCreate), http.StatusUnauthorized)
	scimError(t, b.scim(t, "GET", "/scim/v2/Users", readKey, ""), http.StatusForbidden)

	bad := []struct {
		name, method, path, body, scimType string
	}{
		{"not JSON", "POST", "/scim/v2/Users", `{"userName":`, "invalidSyntax"},
		{"an array", "POST", "/scim/v2/Users", `[]`, "invalidSyntax"},
		{"userName a number", "POST", "/scim/v2/Users", `{"userName":7}`, "invalidSyntax"},
		{"no schemas", "POST", "/scim/v2/Users", `{"userName":"a@example.com"}`, "invalidSyntax"},
		{"no userName", "POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]}`, "invalidValue"},
		{"bad userName", "POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"not an email"}`, "invalidValue"},
		{"active not bool", "POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x@example.com","active":"maybe"}`, "invalidSyntax"},
		{"bad manager", "POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"x@example.com",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"999"}}}`, "invalidValue"},
		{"unsupported filter", "GET", "/scim/v2/Users?filter=" + url.QueryEscape(`name.familyName co "x"`), "", "invalidFilter"},
		{"unquoted filter", "GET", "/scim/v2/Users?filter=" + url.QueryEscape(`userName eq x`), "", "invalidFilter"},
		{"bad count", "GET", "/scim/v2/Users?count=many", "", "invalidValue"},
		{"patch not JSON", "PATCH", "/scim/v2/Users/" + id, `[`, "invalidSyntax"},
		{"patch no schemas", "PATCH", "/scim/v2/Users/" + id, `{"Operations":[{"op":"replace","path":"active","value":false}]}`, "invalidSyntax"},
		{"patch no ops", "PATCH", "/scim/v2/Users/" + id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[]}`, "invalidSyntax"},
		{"patch bad op", "PATCH", "/scim/v2/Users/" + id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"move","path":"active"}]}`, "invalidValue"},
		{"patch bad path", "PATCH", "/scim/v2/Users/" + id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"password","value":"x"}]}`, "invalidPath"},
		{"patch bad active", "PATCH", "/scim/v2/Users/" + id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":"perhaps"}]}`, "invalidValue"},
		{"put bad email", "PUT", "/scim/v2/Users/" + id, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"@@"}`, "invalidValue"},
	}
	for _, tc := range bad {
		e := scimError(t, b.scim(t, tc.method, tc.path, token, tc.body), http.StatusBadRequest)
		require.Equal(t, tc.scimType, e.SCIMType, tc.name)
		for _, goism := range []string{"Go ", "struct", "directory.User", "roster.", "json:"} {
			require.NotContains(t, e.Detail, goism, tc.name)
		}
	}
	// Nothing changed.
	p, err := b.db.PersonByEmail(ctx, "kim@example.com")
	require.NoError(t, err)
	require.Equal(t, roster.PersonActive, p.Status)
	page, err := b.db.People(ctx, store.PeopleFilter{})
	require.NoError(t, err)
	require.Equal(t, 1, page.Total)

	scimError(t, b.scim(t, "GET", "/scim/v2/Users/nope", token, ""), http.StatusNotFound)
	scimError(t, b.scim(t, "GET", "/scim/v2/Groups", token, ""), http.StatusNotFound)

	entries, err := b.db.AuditEntries(ctx, store.AuditFilter{Kind: "directory"})
	require.NoError(t, err)
	refused := 0
	for _, e := range entries {
		if e.Result == "refused" {
			refused++
		}
	}
	require.Equal(t, 3, refused, "the 401s are audited as refused")
	require.Len(t, entries, 1+4+len(bad)+2)
}
