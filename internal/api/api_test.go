package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/httpauth"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// apiPath fills an API route's pattern with plausible values.
func apiPath(rt route) string {
	return strings.ReplaceAll(rt.Path, "{id}", "1")
}

func TestAPIRefusesAnonymous(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.operator(t, "ann@example.com", roster.RoleAdmin)
	routes := b.srv.routeList()
	require.Greater(t, len(routes), 10)
	for _, rt := range routes {
		for _, auth := range []string{"", "Bearer rk_not-a-key", "Bearer not-even-a-key", "Basic YWRtaW46YWRtaW4="} {
			var hdr []string
			if auth != "" {
				hdr = []string{"Authorization", auth}
			}
			var body any
			if rt.Method == http.MethodPost {
				body = map[string]any{}
			}
			a := b.api(t, rt.Method, apiPath(rt), "", body, hdr...)
			require.Equal(t, http.StatusUnauthorized, a.Status, "%s %s with %q: %s", rt.Method, rt.Path, auth, a.Body)
			code, _, _ := a.errorBody(t)
			require.Equal(t, "unauthorized", code)
			require.Equal(t, "application/json", a.Header.Get("Content-Type"))
		}
	}
	// A forged session cookie, and one whose session expired, are no
	// login either.
	forged := &http.Cookie{Name: httpauth.SessionCookie, Value: strings.Repeat("A", 43)}
	br := b.loggedIn(t, roster.RoleAdmin)
	require.Equal(t, http.StatusOK, b.browserCall(t, br, "GET", "/api/v1/users", nil).Status)
	b.clock.Add(httpauth.DefaultSessionTTL + time.Minute)
	for _, c := range []*http.Cookie{forged, br.cookie} {
		for _, rt := range routes {
			a := b.call(t, rt.Method, apiPath(rt), "", c, nil, httpauth.CSRFHeader, br.csrf)
			require.Equal(t, http.StatusUnauthorized, a.Status, "%s %s: %s", rt.Method, rt.Path, a.Body)
		}
	}

	// Unknown API paths answer in JSON too, after authentication, and
	// whatever the key's scopes.
	a := b.api(t, "GET", "/api/v1/nope", "", nil)
	require.Equal(t, http.StatusUnauthorized, a.Status)
	a = b.api(t, "POST", "/api/v1/nope", b.newAPIKey(t, "reader", roster.ScopeRead), map[string]any{})
	require.Equal(t, http.StatusNotFound, a.Status, string(a.Body))
	code, _, msg := a.errorBody(t)
	require.Equal(t, "not_found", code)
	require.Contains(t, msg, "openapi.json")
}

func TestAPIReadKeyCannotAct(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newFixture(t, db)
		read := f.newAPIKey(t, "reader", roster.ScopeRead)
		acc := f.member(t)
		before := storetest.Dump(t, db)
		writes := f.writeCalls()

		for _, tc := range []struct {
			path string
			body any
		}{
			{"/api/v1/actions", map[string]any{"kind": "remove_from_team", "connection_id": f.org.ID, "user_id": acc.MiroUserID,
				"team_id": "x", "idempotency_key": "k1"}},
			{"/api/v1/actions", map[string]any{"kind": "invite_to_team", "connection_id": f.org.ID, "email": "x@example.com",
				"team_id": "x", "idempotency_key": "k2"}},
			{"/api/v1/connections/" + strconv.FormatInt(f.org.ID, 10) + "/sync", nil},
		} {
			a := f.api(t, "POST", tc.path, read, tc.body)
			require.Equal(t, http.StatusForbidden, a.Status, "POST %s: %s", tc.path, a.Body)
			code, _, msg := a.errorBody(t)
			require.Equal(t, "insufficient_scope", code)
			require.Contains(t, msg, "act")
		}
		require.Equal(t, before, storetest.Dump(t, db), "a refused request changed the store")
		require.Equal(t, writes, f.writeCalls(), "a refused request reached Miro")

		// The read key reads, and an act-only key does not.
		require.Equal(t, http.StatusOK, f.api(t, "GET", "/api/v1/users", read, nil).Status)
		act := f.newAPIKey(t, "actor", roster.ScopeAct)
		a := f.api(t, "GET", "/api/v1/users", act, nil)
		require.Equal(t, http.StatusForbidden, a.Status)
		code, _, _ := a.errorBody(t)
		require.Equal(t, "insufficient_scope", code)
	})
}

func TestAPIUsersPaging(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSQLite(t))
	key := f.newAPIKey(t, "reader", roster.ScopeRead)
	for _, query := range []string{"limit=7", "limit=9&sort=last_activity&desc=true", "limit=5&license=full", "limit=3&team=" + f.team.TeamID,
		"limit=4&activity=never&status=active", "limit=6&license=full&status=active", "limit=2&status=deactivated"} {
		seen := map[int64]bool{}
		total, pages := -1, 0
		next := ""
		for {
			path := "/api/v1/users?" + query
			if next != "" {
				path += "&cursor=" + url.QueryEscape(next)
			}
			a := f.api(t, "GET", path, key, nil)
			require.Equal(t, http.StatusOK, a.Status, "%s: %s", path, a.Body)
			var page List[User]
			a.decode(t, &page)
			require.NotNil(t, page.Total)
			if total < 0 {
				total = *page.Total
			}
			require.Equal(t, total, *page.Total, "the total changed between pages")
			for _, u := range page.Data {
				require.False(t, seen[u.ID], "%s: user %d listed twice", query, u.ID)
				seen[u.ID] = true
			}
			pages++
			require.Less(t, pages, 200, "paging does not end")
			if page.NextCursor == "" {
				break
			}
			next = page.NextCursor
		}
		require.Len(t, seen, total, query)
		require.Greater(t, total, 0, query)
		if strings.HasPrefix(query, "limit=7") {
			all, err := f.db.ListAccounts(t.Context(), store.AccountQuery{Limit: 1})
			require.NoError(t, err)
			require.Equal(t, all.Total, total, "the unfiltered list must hold every account")
			require.Greater(t, pages, 2)
		}
	}
}

func TestAPIBadInput(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newFixture(t, db)
		key := f.newAPIKey(t, "robot", roster.ScopeRead, roster.ScopeAct)
		acc := f.member(t)
		ms, err := f.db.AccountMemberships(t.Context(), acc.ID)
		require.NoError(t, err)
		// A team of the organization the person is not in, to invite to.
		teams, err := f.db.Teams(t.Context(), f.org.ID)
		require.NoError(t, err)
		var other string
		for _, tm := range teams {
			in := false
			for _, m := range ms {
				in = in || m.MiroTeamID == tm.MiroTeamID
			}
			if !in {
				other = tm.MiroTeamID
			}
		}
		require.NotEmpty(t, other)
		before := storetest.Dump(t, db)
		writes := f.writeCalls()

		for _, tc := range []struct {
			name, method, path string
			body               any
			headers            []string
			field              string
		}{
			{"UsersCursor", "GET", "/api/v1/users?cursor=not-a-cursor", nil, nil, "cursor"},
			{"UsersCursorEdited", "GET", "/api/v1/users?cursor=eyJ4IjoxfQ", nil, nil, "cursor"},
			{"ChangesCursor", "GET", "/api/v1/changes?cursor=!!!", nil, nil, "cursor"},
			{"ChangesCursorOfAudit", "GET", "/api/v1/changes?cursor=" + encodeIDCursor("audit", 5), nil, nil, "cursor"},
			{"AuditCursor", "GET", "/api/v1/audit?cursor=bad", nil, nil, "cursor"},
			{"UsersSort", "GET", "/api/v1/users?sort=password", nil, nil, "sort"},
			{"UsersLimit", "GET", "/api/v1/users?limit=0", nil, nil, "limit"},
			{"UsersGuests", "GET", "/api/v1/users?guests=maybe", nil, nil, "guests"},
			{"UsersActivity", "GET", "/api/v1/users?activity=sometimes", nil, nil, "activity"},
			{"UsersStatus", "GET", "/api/v1/users?status=left", nil, nil, "status"},
			{"UsersStatusContradicted", "GET", "/api/v1/users?status=active&deactivated=true", nil, nil, "deactivated"},
			{"ChangesAccount", "GET", "/api/v1/changes?account=-1", nil, nil, "account"},
			{"AuditKind", "GET", "/api/v1/audit?kind=secret", nil, nil, "kind"},
			{"InvalidEmail", "POST", "/api/v1/actions", map[string]any{"kind": "invite_to_team", "connection_id": f.org.ID,
				"team_id": other, "email": "not an email", "idempotency_key": "bad-email"}, nil, "email"},
			{"EmailWithName", "POST", "/api/v1/actions", map[string]any{"kind": "invite_to_team", "connection_id": f.org.ID,
				"team_id": other, "email": "Ann <ann@example.com>", "idempotency_key": "bad-email-2"}, nil, "email"},
			{"UnknownTeam", "POST", "/api/v1/actions", map[string]any{"kind": "invite_to_team", "connection_id": f.org.ID,
				"team_id": "3458764000000000", "email": acc.Email, "idempotency_key": "bad-team"}, nil, "team_id"},
			{"UnknownConnection", "POST", "/api/v1/actions", map[string]any{"kind": "invite_to_team", "connection_id": 999,
				"team_id": other, "email": acc.Email, "idempotency_key": "bad-conn"}, nil, "connection_id"},
			{"UnknownKind", "POST", "/api/v1/actions", map[string]any{"kind": "delete_everyone", "connection_id": f.org.ID,
				"idempotency_key": "bad-kind"}, nil, "kind"},
			{"NoKey", "POST", "/api/v1/actions", map[string]any{"kind": "invite_to_team", "connection_id": f.org.ID,
				"team_id": other, "email": acc.Email}, nil, "idempotency_key"},
			{"KeysDiffer", "POST", "/api/v1/actions", map[string]any{"kind": "invite_to_team", "connection_id": f.org.ID,
				"team_id": other, "email": acc.Email, "idempotency_key": "a"}, []string{"Idempotency-Key", "b"}, "idempotency_key"},
			{"BadRole", "POST", "/api/v1/actions", map[string]any{"kind": "change_team_role", "connection_id": f.org.ID,
				"team_id": ms[0].MiroTeamID, "user_id": acc.MiroUserID, "role": "owner", "idempotency_key": "bad-role"}, nil, "role"},
			{"UnknownField", "POST", "/api/v1/actions", map[string]any{"kind": "invite_to_team", "connection_id": f.org.ID,
				"team": other, "email": acc.Email, "idempotency_key": "typo"}, nil, "team"},
			{"WrongType", "POST", "/api/v1/actions", map[string]any{"kind": "invite_to_team", "connection_id": "one",
				"team_id": other, "email": acc.Email, "idempotency_key": "type"}, nil, "connection_id"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a := f.api(t, tc.method, tc.path, key, tc.body, tc.headers...)
				require.Equal(t, http.StatusBadRequest, a.Status, string(a.Body))
				code, field, msg := a.errorBody(t)
				require.Equal(t, "invalid_field", code)
				require.Equal(t, tc.field, field, msg)
				require.Contains(t, msg, tc.field, "the message must name the field")
			})
		}
		require.Equal(t, before, storetest.Dump(t, db), "bad input changed the store")
		require.Equal(t, writes, f.writeCalls(), "bad input reached Miro")

		// A path id that names nothing is a JSON 404.
		a := f.api(t, "GET", "/api/v1/users/999999", key, nil)
		require.Equal(t, http.StatusNotFound, a.Status)
		code, _, _ := a.errorBody(t)
		require.Equal(t, "not_found", code)
	})
}

func TestAPIActions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSQLite(t))
	key := f.newAPIKey(t, "hr-robot", roster.ScopeRead, roster.ScopeAct)
	acc := f.member(t)
	ms, err := f.db.AccountMemberships(t.Context(), acc.ID)
	require.NoError(t, err)
	team := ms[0].MiroTeamID
	writes := f.writeCalls()

	// Remove by Miro user id; the key goes in the header.
	body := map[string]any{"kind": "remove_from_team", "connection_id": f.org.ID, "team_id": team, "user_id": acc.MiroUserID}
	a := f.api(t, "POST", "/api/v1/actions", key, body, "Idempotency-Key", "offboard-1")
	require.Equal(t, http.StatusOK, a.Status, string(a.Body))
	var got One[Action]
	a.decode(t, &got)
	require.Equal(t, "succeeded", got.Data.Status)
	require.Equal(t, "apikey:hr-robot", got.Data.Actor)
	require.Equal(t, "offboard-1", got.Data.IdempotencyKey)
	require.Equal(t, writes+1, f.writeCalls())

	// The same key again returns the same action and calls Miro no more.
	a = f.api(t, "POST", "/api/v1/actions", key, body, "Idempotency-Key", "offboard-1")
	require.Equal(t, http.StatusOK, a.Status, string(a.Body))
	var again One[Action]
	a.decode(t, &again)
	require.Equal(t, got.Data.ID, again.Data.ID)
	require.Equal(t, writes+1, f.writeCalls())

	// The user shows the removal at once; the audit log names the key.
	a = f.api(t, "GET", "/api/v1/users/"+strconv.FormatInt(acc.ID, 10), key, nil)
	require.Equal(t, http.StatusOK, a.Status, string(a.Body))
	var user One[UserDetail]
	a.decode(t, &user)
	for _, m := range user.Data.Memberships {
		require.NotEqual(t, team, m.TeamID)
	}
	a = f.api(t, "GET", "/api/v1/audit?kind=action", key, nil)
	var audit List[AuditEntry]
	a.decode(t, &audit)
	require.NotEmpty(t, audit.Data)
	require.Equal(t, "apikey:hr-robot", audit.Data[0].Actor)
	require.Equal(t, "remove_from_team", audit.Data[0].Action)

	// Inviting them back through the team-level connection's team is
	// refused by roster: that connection cannot reach an organization team.
	a = f.api(t, "POST", "/api/v1/actions", key, map[string]any{"kind": "invite_to_team", "connection_id": f.team.ID,
		"team_id": team, "email": acc.Email, "idempotency_key": "back"})
	require.Equal(t, http.StatusBadRequest, a.Status, string(a.Body))
	_, field, _ := a.errorBody(t)
	require.Equal(t, "team_id", field)

	// "Sync now" is accepted for a real connection when jobs run, and is
	// unavailable in a process without them.
	a = f.api(t, "POST", "/api/v1/connections/"+strconv.FormatInt(f.org.ID, 10)+"/sync", key, nil)
	require.Equal(t, http.StatusServiceUnavailable, a.Status, string(a.Body))
	a = f.api(t, "POST", "/api/v1/connections/999/sync", key, nil)
	require.Equal(t, http.StatusNotFound, a.Status, string(a.Body))
}

func TestAPISession(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSQLite(t))
	viewer := f.loggedIn(t, roster.RoleViewer)
	a := f.browserCall(t, viewer, "GET", "/api/v1/insights/overview", nil)
	require.Equal(t, http.StatusOK, a.Status, string(a.Body))
	require.Contains(t, string(a.Body), `"seats_purchased"`)
	acc := f.member(t)
	ms, err := f.db.AccountMemberships(t.Context(), acc.ID)
	require.NoError(t, err)
	body := map[string]any{"kind": "change_team_role", "connection_id": f.org.ID, "team_id": ms[0].MiroTeamID,
		"user_id": acc.MiroUserID, "role": "admin", "idempotency_key": "s1"}
	// A viewer cannot act, even with the CSRF token.
	a = f.browserCall(t, viewer, "POST", "/api/v1/actions", body, httpauth.CSRFHeader, viewer.csrf)
	require.Equal(t, http.StatusForbidden, a.Status, string(a.Body))
	require.Contains(t, string(a.Body), `"forbidden"`)

	admin := f.loggedIn(t, roster.RoleAdmin)
	writes := f.writeCalls()
	a = f.browserCall(t, admin, "POST", "/api/v1/actions", body) // no CSRF header: a cross-site form cannot act
	require.Equal(t, http.StatusForbidden, a.Status, string(a.Body))
	require.Equal(t, writes, f.writeCalls())
	a = f.browserCall(t, admin, "POST", "/api/v1/actions", body, httpauth.CSRFHeader, admin.csrf)
	require.Equal(t, http.StatusOK, a.Status, string(a.Body))
	require.Contains(t, string(a.Body), `"actor":"operator:admin@example.com"`)
	require.Equal(t, writes+1, f.writeCalls())
}

func TestAPIConnectionsHideTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSQLite(t))
	key := f.newAPIKey(t, "reader", roster.ScopeRead)
	a := f.api(t, "GET", "/api/v1/connections", key, nil)
	require.Equal(t, http.StatusOK, a.Status, string(a.Body))
	var conns List[Connection]
	a.decode(t, &conns)
	require.Len(t, conns.Data, 2)
	require.NotEmpty(t, conns.Data[0].Capabilities)
	for _, in := range f.info.Installs {
		require.NotContains(t, string(a.Body), in.AccessToken)
		require.NotContains(t, string(a.Body), in.RefreshToken)
	}
	require.NotContains(t, strings.ToLower(string(a.Body)), "sealed")
	require.NotContains(t, string(a.Body), "access_token")

	// Sync runs and the changes of the first one, paged.
	a = f.api(t, "GET", "/api/v1/connections/"+strconv.FormatInt(f.org.ID, 10)+"/sync-runs", key, nil)
	require.Equal(t, http.StatusOK, a.Status, string(a.Body))
	var runs List[SyncRun]
	a.decode(t, &runs)
	require.Len(t, runs.Data, 1)
	run := runs.Data[0]
	require.Equal(t, "succeeded", run.Status)
	seen := map[int64]bool{}
	next := ""
	for range 100 {
		path := "/api/v1/changes?limit=25&sync_run=" + strconv.FormatInt(run.ID, 10)
		if next != "" {
			path += "&cursor=" + next
		}
		a = f.api(t, "GET", path, key, nil)
		require.Equal(t, http.StatusOK, a.Status, string(a.Body))
		var page List[Change]
		a.decode(t, &page)
		for _, c := range page.Data {
			require.False(t, seen[c.ID])
			require.Equal(t, run.ID, c.SyncRunID)
			seen[c.ID] = true
		}
		if next = page.NextCursor; next == "" {
			break
		}
	}
	all, err := f.db.Changes(t.Context(), store.ChangeFilter{SyncRunID: run.ID})
	require.NoError(t, err)
	require.Len(t, seen, len(all))
	require.Greater(t, len(all), 25)
}
