package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/httpauth"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

var newKeyRe = regexp.MustCompile(`<code id="new-key">(rk_[A-Za-z0-9_-]+)</code>`)

func TestAPIKeysPage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	admin := b.loggedIn(t, roster.RoleAdmin)
	require.Contains(t, admin.mustGet("/settings").Body, `href="/settings/api-keys"`)
	require.Contains(t, admin.mustGet("/settings/api-keys").Body, "No API keys yet.")

	// Bad forms create nothing and say why beside the field.
	for _, form := range []url.Values{
		{"name": {""}, "scopes": {"read"}},
		{"name": {"robot"}},
		{"name": {"robot"}, "scopes": {"admin"}},
	} {
		p := admin.post("/settings/api-keys", form)
		require.Equal(t, http.StatusBadRequest, p.StatusCode, p.Body)
		require.Contains(t, p.Body, "field-error")
	}
	keys, err := b.db.APIKeys(t.Context())
	require.NoError(t, err)
	require.Empty(t, keys)

	// Created: shown once, stored as a hash.
	p := admin.post("/settings/api-keys", url.Values{"name": {"okta-sync"}, "scopes": {"read", "act"}})
	require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
	require.Equal(t, "no-store", p.Header.Get("Cache-Control"))
	m := newKeyRe.FindStringSubmatch(p.Body)
	require.NotNil(t, m, "the new key is not shown")
	key := m[1]
	keys, err = b.db.APIKeys(t.Context())
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.Equal(t, httpauth.APIKeyHash(key), keys[0].Hash)
	require.Equal(t, []string{"read", "act"}, keys[0].Scopes)
	require.True(t, strings.HasPrefix(key, keys[0].Prefix))
	for table, rows := range storetest.Dump(t, b.db) {
		require.NotContains(t, strings.Join(rows, "\n"), key, "the key is stored in %s", table)
	}
	list := admin.mustGet("/settings/api-keys").Body
	require.NotContains(t, list, key, "the key is shown again")
	require.Contains(t, list, keys[0].Prefix)

	// It authenticates (as the API and the SCIM server check keys), and
	// its use is recorded.
	guard := &httpauth.Guard{Store: b.db, Now: b.clock.Now}
	bearer := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/api/v1/teams", nil)
		r.Header.Set("Authorization", "Bearer "+key)
		return r
	}
	_, err = guard.APIKey(bearer(), roster.ScopeRead)
	require.NoError(t, err)
	used, err := b.db.APIKeys(t.Context())
	require.NoError(t, err)
	require.False(t, used[0].LastUsedAt.IsZero())

	// Names are unique: the audit log names keys.
	p = admin.post("/settings/api-keys", url.Values{"name": {"okta-sync"}, "scopes": {"read"}})
	require.Equal(t, http.StatusBadRequest, p.StatusCode, p.Body)

	// Viewers cannot see or make keys; forms need the CSRF token.
	viewer := b.loggedIn(t, roster.RoleViewer)
	require.Equal(t, http.StatusForbidden, viewer.get("/settings/api-keys").StatusCode)
	require.Equal(t, http.StatusForbidden, viewer.post("/settings/api-keys", url.Values{"name": {"v"}, "scopes": {"read"}}).StatusCode)
	require.NotContains(t, viewer.mustGet("/settings").Body, `href="/settings/api-keys"`)
	p = admin.do(http.MethodPost, "/settings/api-keys/"+strconv.FormatInt(keys[0].ID, 10)+"/delete", url.Values{})
	require.Equal(t, http.StatusForbidden, p.StatusCode)

	// Deleted: the key no longer authenticates.
	p = admin.post("/settings/api-keys/"+strconv.FormatInt(keys[0].ID, 10)+"/delete", nil)
	require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
	_, err = guard.APIKey(bearer(), roster.ScopeRead)
	var refused *httpauth.KeyRefusal
	require.ErrorAs(t, err, &refused)
	require.Equal(t, http.StatusUnauthorized, refused.Status)
	require.Equal(t, http.StatusNotFound, admin.post("/settings/api-keys/"+strconv.FormatInt(keys[0].ID, 10)+"/delete", nil).StatusCode)

	entries, err := b.db.AuditEntries(t.Context(), store.AuditFilter{Kind: "settings"})
	require.NoError(t, err)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
		require.NotContains(t, e.Detail+e.Target, key)
	}
	require.Equal(t, []string{"delete_api_key", "create_api_key"}, actions)
}
