package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/action"
	"roster/internal/store/storetest"
	"roster/internal/testkit"
)

// validAnswer checks an answer against the document's schema for the
// operation (method, template).
func validAnswer(t *testing.T, doc *openapi3.T, b *testBundle, method, template, path string, a apiAnswer) {
	t.Helper()
	item := doc.Paths.Value(template)
	require.NotNil(t, item, template)
	op := item.GetOperation(method)
	require.NotNil(t, op, "%s %s", method, template)
	req, err := http.NewRequest(method, b.ts.URL+path, nil)
	require.NoError(t, err)
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req,
			Route:   &routers.Route{Spec: doc, Path: template, PathItem: item, Method: method, Operation: op},
		},
		Status: a.Status, Header: a.Header, Body: io.NopCloser(bytes.NewReader(a.Body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	require.NoError(t, openapi3filter.ValidateResponse(context.Background(), input), "%s %s: %s", method, path, a.Body)
}

// apiRaw calls the API with a raw body of contentType.
func (b *testBundle) apiRaw(t *testing.T, method, path, key, contentType string, body []byte) apiAnswer {
	t.Helper()
	req, err := http.NewRequest(method, b.ts.URL+path, bytes.NewReader(body))
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := b.ts.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return apiAnswer{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

func TestAPIOrgActions(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newFixture(t, db)
		f.enableSCIM(t)
		ctx := context.Background()
		read := f.newAPIKey(t, "reader", roster.ScopeRead)
		act := f.newAPIKey(t, "robot", roster.ScopeRead, roster.ScopeAct)
		acc := f.licensedMember(t)
		check := func(path, key string, body any, want int, headers ...string) apiAnswer {
			t.Helper()
			a := f.api(t, "POST", path, key, body, headers...)
			require.Equal(t, want, a.Status, "POST %s: %s", path, a.Body)
			validAnswer(t, doc, f.testBundle, "POST", path, path, a)
			return a
		}

		// A read key cannot act, on any of them; nothing is written.
		before := storetest.Dump(t, db)
		for _, path := range []string{"/api/v1/actions/deactivate", "/api/v1/actions/reactivate", "/api/v1/actions/sign-out", "/api/v1/actions/remove-from-all-teams"} {
			a := check(path, read, map[string]any{"connection_id": f.org.ID, "email": acc.Email, "idempotency_key": "r-1"}, http.StatusForbidden)
			code, _, _ := a.errorBody(t)
			require.Equal(t, "insufficient_scope", code)

			// Bad bodies name the field.
			for _, tc := range []struct {
				body  any
				field string
			}{
				{map[string]any{"connection_id": f.org.ID, "email": acc.Email}, "idempotency_key"},
				{map[string]any{"email": acc.Email, "idempotency_key": "b-1"}, "connection_id"},
				{map[string]any{"connection_id": f.org.ID, "idempotency_key": "b-1"}, "email"},
				{map[string]any{"connection_id": f.org.ID, "email": "not-an-email", "idempotency_key": "b-1"}, "email"},
				{map[string]any{"connection_id": "one", "email": acc.Email, "idempotency_key": "b-1"}, "connection_id"},
				{map[string]any{"connection_id": f.org.ID, "email": acc.Email, "idempotency_key": "b-1", "team_id": "t"}, "team_id"},
			} {
				a := check(path, act, tc.body, http.StatusBadRequest)
				code, field, _ := a.errorBody(t)
				require.Equal(t, "invalid_field", code, "%s %v", path, tc.body)
				require.Equal(t, tc.field, field, "%s %v", path, tc.body)
			}
		}
		a := check("/api/v1/actions/remove-from-all-teams", act, map[string]any{"connection_id": f.org.ID, "email": acc.Email,
			"idempotency_key": "b-2", "service_account_email": "nope"}, http.StatusBadRequest)
		_, field, _ := a.errorBody(t)
		require.Equal(t, "service_account_email", field)
		a = check("/api/v1/actions/sign-out", act, map[string]any{"connection_id": f.org.ID, "email": acc.Email,
			"idempotency_key": "b-3", "service_account_email": "x@example.com"}, http.StatusBadRequest)
		_, field, _ = a.errorBody(t)
		require.Equal(t, "service_account_email", field, "unknown fields are refused by name")
		require.Equal(t, before, storetest.Dump(t, db), "a refused request wrote")
		require.Zero(t, f.sim.Stats().ByOperation["patchUser"].Calls)

		// Deactivate, by the Idempotency-Key header; the same key again is
		// its first outcome, with no second SCIM call.
		body := map[string]any{"connection_id": f.org.ID, "user_id": acc.MiroUserID}
		a = check("/api/v1/actions/deactivate", act, body, http.StatusOK, "Idempotency-Key", "api-d-1")
		var got struct{ Data Action }
		a.decode(t, &got)
		require.Equal(t, string(roster.ActionDeactivate), got.Data.Kind)
		require.Equal(t, "succeeded", got.Data.Status)
		require.Equal(t, "apikey:robot", got.Data.Actor)
		m, err := f.kit.Admin.OrgMember(ctx, f.info.OrgID, acc.MiroUserID)
		require.NoError(t, err)
		require.False(t, m.Active)
		check("/api/v1/actions/deactivate", act, body, http.StatusOK, "Idempotency-Key", "api-d-1")
		require.Equal(t, 1, f.sim.Stats().ByOperation["patchUser"].Calls)

		// Reactivate.
		check("/api/v1/actions/reactivate", act, map[string]any{"connection_id": f.org.ID, "email": acc.Email, "idempotency_key": "api-r-1"}, http.StatusOK)
		m, err = f.kit.Admin.OrgMember(ctx, f.info.OrgID, acc.MiroUserID)
		require.NoError(t, err)
		require.True(t, m.Active)

		// A guest: refused (422) and recorded.
		guest := f.withOrgRole(t, "organization_team_guest_user")
		a = check("/api/v1/actions/deactivate", act, map[string]any{"connection_id": f.org.ID, "email": guest.Email, "idempotency_key": "api-g-1"}, http.StatusUnprocessableEntity)
		code, _, msg := a.errorBody(t)
		require.Equal(t, "refused", code)
		require.Contains(t, msg, "guest")

		// A team-level connection cannot deactivate: refused.
		tm := f.teamMember(t)
		if tm.Email != "" {
			a = check("/api/v1/actions/deactivate", act, map[string]any{"connection_id": f.team.ID, "user_id": tm.MiroUserID, "idempotency_key": "api-t-1"}, http.StatusUnprocessableEntity)
			_, _, msg = a.errorBody(t)
			require.Contains(t, msg, "organization-level connection")
		}

		// Sign out.
		a = check("/api/v1/actions/sign-out", act, map[string]any{"connection_id": f.org.ID, "email": acc.Email, "idempotency_key": "api-s-1"}, http.StatusOK)
		a.decode(t, &got)
		require.Equal(t, string(roster.ActionSignOut), got.Data.Kind)
		require.Equal(t, 1, f.sim.Stats().ByOperation["enterprise-post-user-sessions-reset"].Calls)

		// Remove from every team.
		ms, err := db.AccountMemberships(ctx, acc.ID)
		require.NoError(t, err)
		a = check("/api/v1/actions/remove-from-all-teams", act, map[string]any{"connection_id": f.org.ID, "email": acc.Email,
			"idempotency_key": "api-a-1", "service_account_email": f.withOrgRole(t, "organization_internal_admin").Email}, http.StatusOK)
		var all struct{ Data AllTeams }
		a.decode(t, &all)
		require.Len(t, all.Data.Teams, len(ms))
		require.Equal(t, len(ms), all.Data.Removed, string(a.Body))
		for _, tm := range all.Data.Teams {
			require.Equal(t, action.TeamRemoved, tm.Outcome)
			require.NotEmpty(t, tm.Actions)
			require.Equal(t, "api-a-1:"+tm.TeamID, tm.Actions[len(tm.Actions)-1].IdempotencyKey)
			require.Empty(t, f.simRole(t, tm.TeamID, acc.MiroUserID))
		}
		// Again: no team left, nothing repeated.
		a = check("/api/v1/actions/remove-from-all-teams", act, map[string]any{"connection_id": f.org.ID, "email": acc.Email, "idempotency_key": "api-a-1"}, http.StatusOK)
		a.decode(t, &all)
		require.Empty(t, all.Data.Teams)
	})
}

func TestAPIOrgActionsUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Actions = nil })
	act := b.newAPIKey(t, "robot", roster.ScopeAct)
	a := b.api(t, "POST", "/api/v1/actions/deactivate", act, map[string]any{"connection_id": 1, "email": "a@example.com", "idempotency_key": "k"})
	require.Equal(t, http.StatusServiceUnavailable, a.Status, string(a.Body))
}

func TestAPIPeopleImport(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		b := setupOn(t, db)
		ctx := context.Background()
		read := b.newAPIKey(t, "reader", roster.ScopeRead)
		act := b.newAPIKey(t, "robot", roster.ScopeAct)
		const path = "/api/v1/people/import"
		check := func(key, ct string, body []byte, want int) apiAnswer {
			t.Helper()
			a := b.apiRaw(t, "POST", path, key, ct, body)
			require.Equal(t, want, a.Status, "%s", a.Body)
			validAnswer(t, doc, b, "POST", path, path, a)
			return a
		}
		good := "email,name,manager_email,department,status,aliases\n" +
			"ann@example.com,Ann,,Sales,active,ann.lee@example.com\n" +
			"bad-email,Bob,,Sales,active,\n" +
			"carl@example.com,Carl,ann@example.com,Finance,left,\n"

		before := storetest.Dump(t, db)
		check(read, "text/csv", []byte(good), http.StatusForbidden)
		a := check(act, "application/json", []byte(`{}`), http.StatusBadRequest)
		_, field, _ := a.errorBody(t)
		require.Equal(t, "body", field)
		mp, ct := testkit.MultipartCSV(t, "", "")
		a = check(act, ct, mp, http.StatusBadRequest)
		_, field, msg := a.errorBody(t)
		require.Equal(t, "file", field)
		require.Contains(t, msg, "Choose a CSV file")
		a = check(act, "text/csv", []byte("mail,name\nann@example.com,Ann\n"), http.StatusUnprocessableEntity)
		_, field, msg = a.errorBody(t)
		require.Equal(t, "header", field)
		require.Contains(t, msg, "the header lacks email")
		a = check(act, "text/csv", []byte("\x00\x01\x02PK binary"), http.StatusBadRequest)
		_, _, msg = a.errorBody(t)
		require.Contains(t, msg, "not a CSV file")
		require.Equal(t, before, storetest.Dump(t, db), "a refused import wrote")

		// The body as text/csv: good rows apply, the bad one is reported.
		a = check(act, "text/csv", []byte(good), http.StatusOK)
		var rep struct{ Data ImportReport }
		a.decode(t, &rep)
		require.Equal(t, ImportReport{Rows: 3, Created: 2, Failed: 1, Errors: []ImportRowError{{Row: 3, Field: "email", Message: rep.Data.Errors[0].Message}}}, rep.Data)
		p, err := db.PersonByEmail(ctx, "carl@example.com")
		require.NoError(t, err)
		require.Equal(t, roster.PersonLeft, p.Status)

		// The same as a multipart upload: updates now.
		mp, ct = testkit.MultipartCSV(t, "people.csv", good)
		a = check(act, ct, mp, http.StatusOK)
		a.decode(t, &rep)
		require.Equal(t, 2, rep.Data.Updated)
		require.Equal(t, 1, rep.Data.Failed)
	})
}
