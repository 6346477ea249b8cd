package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"roster/internal/store"

	"github.com/stretchr/testify/require"

	"roster"
)

// The Bearer scheme is matched whatever its case (RFC 7235 §2.1).
func TestBearerSchemeCase(t *testing.T) {
	t.Parallel()
	b := setup(t)
	key := b.newAPIKey(t, "ci", roster.ScopeRead)
	for _, h := range []string{"Bearer " + key, "bearer " + key, "BEARER " + key, "  Bearer   " + key + " "} {
		a := b.api(t, "GET", Prefix+"/connections", "", nil, "Authorization", h)
		require.Equal(t, http.StatusOK, a.Status, "%q: %s", h, a.Body)
	}
	for _, h := range []string{"Basic " + key, key, "Bearer", "Bearerx " + key} {
		a := b.api(t, "GET", Prefix+"/connections", "", nil, "Authorization", h)
		require.Equal(t, http.StatusUnauthorized, a.Status, "%q: %s", h, a.Body)
	}
}

// A query parameter a route does not take is refused by name, with the
// ones it does take, on every route; it is never silently ignored.
func TestUnknownQueryParameter(t *testing.T) {
	t.Parallel()
	b := setup(t)
	key := b.newAPIKey(t, "ci", roster.ScopeRead, roster.ScopeAct)
	for _, rt := range b.srv.routes {
		path := strings.NewReplacer("{id}", "1", "{workflow}", "offboarding").Replace(rt.Path)
		a := b.api(t, rt.Method, path+"?bogus_param=1", key, nil)
		require.Equal(t, http.StatusBadRequest, a.Status, "%s %s: %s", rt.Method, path, a.Body)
		code, field, msg := a.errorBody(t)
		require.Equal(t, "invalid_field", code)
		require.Equal(t, "bogus_param", field)
		require.Contains(t, msg, `unknown query parameter "bogus_param"`)
	}

	// The case the probe found: q on the people list, which searches by
	// "search", listed everyone.
	a := b.api(t, "GET", Prefix+"/people?q=x", key, nil)
	require.Equal(t, http.StatusBadRequest, a.Status, string(a.Body))
	_, field, msg := a.errorBody(t)
	require.Equal(t, "q", field)
	require.Contains(t, msg, "search")

	// Known parameters still work.
	a = b.api(t, "GET", Prefix+"/people?search=x&limit=5", key, nil)
	require.Equal(t, http.StatusOK, a.Status, string(a.Body))
}

// A body of the wrong JSON shape is explained in JSON's words: no Go
// type, package or kind name reaches the caller.
func TestJSONErrorsNameNoGoType(t *testing.T) {
	t.Parallel()
	b := newWFFixture(t, openSQLite(t))
	key := b.newAPIKey(t, "ci", roster.ScopeRead, roster.ScopeAct)
	for _, tc := range []struct{ method, path, body, field string }{
		{"POST", Prefix + "/actions", `[]`, "body"},
		{"POST", Prefix + "/actions", `"x"`, "body"},
		{"POST", Prefix + "/actions", `{"connection_id": "one"}`, "connection_id"},
		{"PUT", Prefix + "/workflows/offboarding", `[1]`, "body"},
		{"PUT", Prefix + "/workflows/offboarding", `{"steps": {}}`, "steps"},
		{"POST", Prefix + "/actions/deactivate", `{"email": ["a"]}`, "email"},
		{"POST", Prefix + "/actions", `{"kind": 1}`, "kind"},
	} {
		a := b.api(t, tc.method, tc.path, key, json.RawMessage(tc.body))
		require.Equal(t, http.StatusBadRequest, a.Status, "%s %s: %s", tc.method, tc.body, a.Body)
		_, field, msg := a.errorBody(t)
		require.Equal(t, tc.field, field, "%s: %s", tc.body, msg)
		for _, goism := range []string{"Go ", "struct", "slice", "roster.", "directory.", "api.", "int64", "json:"} {
			require.NotContains(t, msg, goism, "%s %s", tc.path, tc.body)
		}
	}
}

// The overview says how many people's usage is unknown: those seen only
// through the team-level connection, counted from the store by hand.
func TestOverviewUsageUnknown(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSQLite(t))
	key := f.newAPIKey(t, "ci", roster.ScopeRead)
	all, err := f.db.Accounts(t.Context(), store.AccountFilter{})
	require.NoError(t, err)
	unknown, fullUnknown := 0, 0
	for _, a := range all {
		if !a.Active || a.UsageKnown() {
			continue
		}
		unknown++
		if a.License == roster.LicenseFull {
			fullUnknown++
		}
	}
	require.Positive(t, unknown, "the team-level connection's people")

	a := f.api(t, "GET", Prefix+"/insights/overview", key, nil)
	require.Equal(t, http.StatusOK, a.Status, string(a.Body))
	var o One[Overview]
	a.decode(t, &o)
	require.Equal(t, unknown, o.Data.UsageUnknown)
	require.Equal(t, fullUnknown, o.Data.FullUsageUnknown)
}
