package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

func TestActions(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newFixture(t, db)
		ctx := context.Background()
		br := f.loggedIn(t, roster.RoleAdmin)
		acc := f.member(t)
		id := strconv.FormatInt(acc.ID, 10)
		team := f.teamOutside(t, acc)

		// Invite through the organization connection, to a chosen team.
		form := inviteForm(t, br, id, f.org.ID)
		form.Set("team", team)
		form.Set("role", "admin")
		p := br.post("/users/"+id+"/actions/invite", form)
		require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
		require.Equal(t, "/users/"+id+"?done="+url.QueryEscape(form.Get("key"))+"#result", p.location())
		require.Equal(t, "admin", f.simRole(t, team, acc.MiroUserID))
		calls := f.writeCalls()
		res := br.mustGet(strings.TrimSuffix(p.location(), "#result"))
		require.Contains(t, res.Body, "Invite to team succeeded.")
		ms, err := f.db.AccountMemberships(ctx, acc.ID)
		require.NoError(t, err)
		require.Contains(t, ms, roster.Membership{MiroUserID: acc.MiroUserID, MiroTeamID: team, Role: "admin"}, "the store shows the action at once")

		// A double submit (same key) does nothing twice.
		p = br.post("/users/"+id+"/actions/invite", form)
		require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
		require.Equal(t, calls, f.writeCalls())

		// Change the role, in the dialog of the team.
		page := br.mustGet("/users/" + id + "/actions/role?team=" + team)
		roleForm := formFor(t, page.Body, "/users/"+id+"/actions/role", team)
		roleForm.Set("role", "member")
		p = br.post("/users/"+id+"/actions/role", roleForm)
		require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
		require.Equal(t, "member", f.simRole(t, team, acc.MiroUserID))

		// Remove: the dialog states the consequence, and the removal needs
		// its confirmation (the dialog's button sends it).
		page = br.mustGet("/users/" + id + "/actions/remove?team=" + team)
		require.Contains(t, page.Body, "reassigned to the team&#39;s admin")
		rm := formFor(t, page.Body, "/users/"+id+"/actions/remove", team)
		p = br.post("/users/"+id+"/actions/remove", rm)
		require.Equal(t, http.StatusBadRequest, p.StatusCode)
		require.Contains(t, p.Body, "Confirm the removal with its button")
		require.Equal(t, "member", f.simRole(t, team, acc.MiroUserID))
		rm.Set("confirm", "1")
		p = br.post("/users/"+id+"/actions/remove", rm)
		require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
		require.Empty(t, f.simRole(t, team, acc.MiroUserID))

		// Every action is in the audit log, with who did it.
		audit := br.mustGet("/audit?kind=action")
		for _, what := range []string{"invite to team", "change team role", "remove from team"} {
			require.Contains(t, audit.Body, what)
		}
		require.Contains(t, audit.Body, "admin@example.com (dashboard)")
		entries, err := db.AuditEntries(ctx, store.AuditFilter{Kind: "action"})
		require.NoError(t, err)
		require.Len(t, entries, 3)
	})
}

// formsThrough are the action forms posting to action through a
// connection.
func formsThrough(t *testing.T, body, action string, connID int64) []url.Values {
	t.Helper()
	var out []url.Values
	for _, v := range actionForms(t, body, action) {
		if v.Get("connection") == strconv.FormatInt(connID, 10) {
			out = append(out, v)
		}
	}
	return out
}

// formFor is the action form posting to action for a team.
func formFor(t *testing.T, body, action, team string) url.Values {
	t.Helper()
	for _, v := range actionForms(t, body, action) {
		if v.Get("team") == team {
			return v
		}
	}
	t.Fatalf("no form %s for team %s", action, team)
	return nil
}

func TestActionRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSQLite(t))
	br := f.loggedIn(t, roster.RoleAdmin)
	acc := f.member(t)
	id := strconv.FormatInt(acc.ID, 10)

	// Miro brings no one into the organization through a team invite:
	// the refusal is shown in plain words, with Miro's answer.
	form := inviteForm(t, br, id, f.org.ID)
	form.Set("email", "stranger@elsewhere.example")
	p := br.post("/users/"+id+"/actions/invite", form)
	require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
	res := br.mustGet(strings.TrimSuffix(p.location(), "#result"))
	require.Contains(t, res.Body, "Invite to team refused.")
	a, err := f.db.ActionByKey(context.Background(), form.Get("key"))
	require.NoError(t, err)
	require.Equal(t, roster.ActionRefused, a.Status)
	require.Contains(t, res.Body, htmlEscape(a.Result))
}

func TestActionBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSQLite(t))
	br := f.loggedIn(t, roster.RoleAdmin)
	acc := f.member(t)
	id := strconv.FormatInt(acc.ID, 10)
	before := storetest.Dump(t, f.db)
	calls := f.writeCalls()

	for _, tc := range []struct {
		name  string
		edit  func(url.Values)
		field string
	}{
		{"ErrEmail", func(v url.Values) { v.Set("email", "not-an-email") }, "&#34;not-an-email&#34; is not an email address"},
		{"ErrEmptyEmail", func(v url.Values) { v.Set("email", "") }, "Email is required"},
		{"ErrUnknownTeam", func(v url.Values) { v.Set("team", "999999") }, "Team 999999 is not a team connection"},
		{"ErrTeamOfOtherConnection", func(v url.Values) { v.Set("team", f.team.TeamID) }, "is not a team connection"},
		{"ErrRole", func(v url.Values) { v.Set("role", "owner") }, "Role must be &#34;member&#34; or &#34;admin&#34;"},
		{"ErrConnection", func(v url.Values) { v.Set("connection", "42") }, "No connection 42"},
		{"ErrNoKey", func(v url.Values) { v.Del("key") }, "idempotency key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := inviteForm(t, br, id, f.org.ID)
			tc.edit(form)
			p := br.post("/users/"+id+"/actions/invite", form)
			require.Equal(t, http.StatusBadRequest, p.StatusCode)
			require.Contains(t, p.Body, tc.field)
			require.Contains(t, p.Body, "not run")
		})
	}
	// A team-level connection acts on its own team only. Its team is in
	// another organization, so the dialog offers no invite through it; a
	// crafted post is refused by the runner's one validation.
	require.Empty(t, formsThrough(t, br.mustGet("/users/"+id+"/actions/invite").Body, "/users/"+id+"/actions/invite", f.team.ID))
	form := inviteForm(t, br, id, f.org.ID)
	form.Set("connection", strconv.FormatInt(f.team.ID, 10))
	form.Set("team", f.teamOutside(t, acc))
	p := br.post("/users/"+id+"/actions/invite", form)
	require.Equal(t, http.StatusBadRequest, p.StatusCode)
	require.Contains(t, p.Body, "A team-level connection acts only on its own team")

	// Unknown user and action.
	require.Equal(t, http.StatusNotFound, br.post("/users/999999/actions/invite", url.Values{}).StatusCode)
	require.Equal(t, http.StatusNotFound, br.post("/users/"+id+"/actions/explode", url.Values{}).StatusCode)

	require.Equal(t, before, storetest.Dump(t, f.db), "bad input changed the database")
	require.Equal(t, calls, f.writeCalls(), "bad input reached Miro")
}

func TestActionDisabledByCapability(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSQLite(t))
	ctx := context.Background()
	// Narrow the team-level connection to read only.
	conn := f.team
	conn.Scopes = []string{roster.ScopeTeamRead}
	require.NoError(t, f.db.UpdateConnection(ctx, &conn))
	br := f.loggedIn(t, roster.RoleAdmin)
	acc := f.member(t)
	id := strconv.FormatInt(acc.ID, 10)

	// A member of the team says why the menu cannot act on their team.
	member := f.teamMember(t)
	p := br.mustGet("/users/" + strconv.FormatInt(member.ID, 10))
	remove := menuEntry(t, p.Body, "remove")
	require.NotNil(t, remove)
	require.Equal(t, "true", attr(remove, "aria-disabled"))
	require.Contains(t, text(remove), "team:write is missing")

	// Posting through it anyway (a stale page, a crafted post): the
	// action layer refuses it, records and audits the refusal, and calls
	// nothing at Miro, as it would for the API or the CLI.
	form := url.Values{"key": {"k-disabled"}, "connection": {strconv.FormatInt(f.team.ID, 10)}, "team": {f.team.TeamID},
		"email": {acc.Email}, "role": {"member"}}
	calls := f.writeCalls()
	p = br.post("/users/"+id+"/actions/invite", form)
	require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
	res := br.mustGet(strings.TrimSuffix(p.location(), "#result"))
	require.Contains(t, res.Body, "Invite to team refused.")
	require.Contains(t, res.Body, "team:write is missing")
	a, err := f.db.ActionByKey(ctx, form.Get("key"))
	require.NoError(t, err)
	require.Equal(t, roster.ActionRefused, a.Status)
	require.Equal(t, calls, f.writeCalls())
}

// htmlEscape escapes s as html/template does in text.
func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}
