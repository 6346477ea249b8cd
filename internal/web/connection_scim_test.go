package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"roster"
	"roster/internal/connect"
	"roster/internal/mirosim"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/testkit"
)

// connectionSection is connection id's section of the connections page.
func connectionSection(t *testing.T, body string, id int64) *html.Node {
	t.Helper()
	for _, s := range findAll(parseHTML(t, body), "section", "connection") {
		if attr(s, "id") == "connection-"+strconv.FormatInt(id, 10) {
			return s
		}
	}
	t.Fatalf("no section for connection %d", id)
	return nil
}

// scimInputs are the SCIM token fields in a section.
func scimInputs(n *html.Node) []*html.Node {
	var out []*html.Node
	for _, in := range findAll(n, "input", "") {
		if attr(in, "name") == "scim_token" {
			out = append(out, in)
		}
	}
	return out
}

// scimAudit is connection id's SCIM token audit entries, newest first.
func scimAudit(t *testing.T, db *storeDB, id int64) []roster.AuditEntry {
	t.Helper()
	entries, err := db.AuditEntries(context.Background(), store.AuditFilter{Kind: "connection", ConnectionID: id})
	require.NoError(t, err)
	var out []roster.AuditEntry
	for _, e := range entries {
		if strings.HasPrefix(e.Action, "scim_token_") {
			out = append(out, e)
		}
	}
	return out
}

func TestSCIMTokenFromDashboard(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newConnFixtureOn(t, db)
		ctx := context.Background()
		br := f.loggedIn(t, roster.RoleAdmin)
		id := strconv.FormatInt(f.org.ID, 10)
		scimToken := f.info.SCIMToken
		stored := func() roster.Connection { return f.kit.Connection(t, f.org.ID) }

		// No token yet: the state, a password field, and the capability
		// links to the form instead of sending the admin to the CLI.
		list := br.mustGet("/connections")
		require.NotContains(t, list.Body, "--replace --scim-token")
		sec := connectionSection(t, list.Body, f.org.ID)
		require.Contains(t, text(sec), "not set")
		in := scimInputs(sec)
		require.Len(t, in, 1)
		require.Equal(t, "password", attr(in[0], "type"))
		require.Contains(t, list.Body, `href="/connections#scim-`+id+`"`)
		require.Contains(t, list.Body, `id="scim-`+id+`"`)
		require.Empty(t, scimInputs(connectionSection(t, list.Body, f.team.ID)), "a team-level connection takes no SCIM token")

		t.Run("ErrWrongToken", func(t *testing.T) {
			for _, tok := range []string{"wrong-scim-token", f.info.Installs[mirosim.InstallOrgAdmin].AccessToken} {
				p := br.post("/connections/"+id+"/scim", url.Values{"scim_token": {tok}})
				require.Equal(t, http.StatusBadRequest, p.StatusCode, p.Body)
				require.Contains(t, p.Body, "Miro did not accept this SCIM token (Miro answered 401: SCIM token is invalid)")
				require.Contains(t, p.Body, "Nothing was saved.")
				require.NotContains(t, p.Body, tok, "tokens are never echoed")
			}
			p := br.post("/connections/"+id+"/scim", url.Values{"scim_token": {"  "}})
			require.Equal(t, http.StatusBadRequest, p.StatusCode)
			require.Contains(t, p.Body, "the field was empty")
			require.Empty(t, stored().SealedSCIMToken)
			entries := scimAudit(t, db, f.org.ID)
			require.Len(t, entries, 2)
			require.Equal(t, "refused", entries[0].Result)
			require.NotContains(t, entries[0].Detail, "wrong-scim-token")
		})

		t.Run("ErrCSRF", func(t *testing.T) {
			p := br.post("/connections/"+id+"/scim", url.Values{"scim_token": {scimToken}, "csrf": {"forged"}})
			require.Equal(t, http.StatusForbidden, p.StatusCode)
			require.Empty(t, stored().SealedSCIMToken)
		})

		t.Run("ErrTeamLevel", func(t *testing.T) {
			p := br.post("/connections/"+strconv.FormatInt(f.team.ID, 10)+"/scim", url.Values{"scim_token": {scimToken}})
			require.Equal(t, http.StatusConflict, p.StatusCode)
			require.Contains(t, p.Body, "only an organization-level connection takes a SCIM token")
		})

		t.Run("AddReplaceRemove", func(t *testing.T) {
			before := f.sim.Stats().ByOperation["listUsers"].Calls
			p := br.post("/connections/"+id+"/scim", url.Values{"scim_token": {scimToken}})
			require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
			require.Equal(t, "/connections?scim_added="+id+"#scim-"+id, p.location())
			require.Greater(t, f.sim.Stats().ByOperation["listUsers"].Calls, before, "checked with Miro's SCIM API first")

			c := stored()
			require.NotEmpty(t, c.SealedSCIMToken)
			require.NotContains(t, string(c.SealedSCIMToken), scimToken, "sealed at rest")
			// The saved token is the one the actions use.
			sc, err := f.kit.Clients.SCIM(c, 1)
			require.NoError(t, err)
			for _, err := range sc.Users(ctx, "") {
				require.NoError(t, err)
				break
			}
			for _, cp := range c.Capabilities() {
				if cp.Name == roster.CapDeactivate {
					require.True(t, cp.Available, cp.Reason)
				}
			}

			list := br.mustGet("/connections?scim_added=" + id)
			require.Contains(t, list.Body, "has a SCIM token now")
			require.NotContains(t, list.Body, scimToken)
			sec := connectionSection(t, list.Body, f.org.ID)
			require.Contains(t, text(sec), "Replace SCIM token")
			require.Contains(t, text(sec), "deactivate or reactivate people", "removing states the consequence")

			p = br.post("/connections/"+id+"/scim", url.Values{"scim_token": {scimToken}})
			require.Equal(t, "/connections?scim_replaced="+id+"#scim-"+id, p.location())

			// Removing asks for confirmation first.
			p = br.post("/connections/"+id+"/scim/remove", nil)
			require.Equal(t, http.StatusBadRequest, p.StatusCode)
			require.Contains(t, p.Body, "deactivation and reactivation stop working")
			require.NotEmpty(t, stored().SealedSCIMToken)

			p = br.post("/connections/"+id+"/scim/remove", url.Values{"confirm": {"1"}})
			require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
			require.Equal(t, "/connections?scim_removed="+id+"#scim-"+id, p.location())
			c = stored()
			require.Empty(t, c.SealedSCIMToken)
			require.Equal(t, roster.StatusActive, c.Status, "the connection itself stays")
			require.Contains(t, br.mustGet("/connections?scim_removed="+id).Body, "Deactivation and reactivation stop working")

			var actions []string
			for _, e := range scimAudit(t, db, f.org.ID)[:3] {
				require.Equal(t, "ok", e.Result)
				require.NotContains(t, e.Detail, scimToken)
				actions = append(actions, e.Action)
			}
			require.Equal(t, []string{"scim_token_remove", "scim_token_replace", "scim_token_set"}, actions)
		})

		t.Run("ErrViewer", func(t *testing.T) {
			v := f.loggedIn(t, roster.RoleViewer)
			sec := connectionSection(t, v.mustGet("/connections").Body, f.org.ID)
			require.Contains(t, text(sec), "SCIM token")
			require.Contains(t, text(sec), "not set", "a viewer sees the state")
			require.Empty(t, scimInputs(sec), "but no form")
			require.Equal(t, http.StatusForbidden, v.post("/connections/"+id+"/scim", url.Values{"scim_token": {scimToken}}).StatusCode)
			require.Equal(t, http.StatusForbidden, v.post("/connections/"+id+"/scim/remove", url.Values{"confirm": {"1"}}).StatusCode)
		})
	})
}

// TestAddConnectionTeamTokenAtOrgLevel: a team token offered for the
// organization level is refused with its reason and saves nothing, so the
// Company Admin's token connects the organization right after.
func TestAddConnectionTeamTokenAtOrgLevel(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		ctx := context.Background()
		// A roster with no connection yet: the organization's slot is free.
		k := testkit.New(t, db, mirosim.Config{Seed: 7, Members: 60, Teams: 4})
		svc := &connect.Service{}
		jobs := &fakeJobs{}
		tb := setupOn(t, db, func(c *Config) { c.Connect, c.Jobs = svc, jobs })
		app, err := connect.App{ClientID: k.Info.ClientID, ClientSecret: k.Info.ClientSecret, APIBaseURL: k.Info.APIBaseURL}.Resolve()
		require.NoError(t, err)
		*svc = connect.Service{Store: db, Clients: k.NewClients(db)}
		svc.Clients.App = app
		f := &connFixture{fixture: &fixture{testBundle: tb, kit: k, sim: k.Sim, info: k.Info, admin: k.Admin}, jobs: jobs}
		br := f.loggedIn(t, roster.RoleAdmin)
		admin := f.info.Installs[mirosim.InstallOrgAdmin]

		p := f.connectViaSim(t, br, roster.LevelOrganization, admin.UserID, admin.TeamID, "boards:read", "team:read", "team:write")
		require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
		outcome := text(findAll(parseHTML(t, p.Body), "p", "failure")[0])
		require.Contains(t, outcome, "Not saved: this is a team token")
		require.Contains(t, outcome, "without organizations:read and organizations:teams:read")
		require.Contains(t, outcome, "Connect this token at team level instead")
		require.NotContains(t, p.Body, "did not say whether")
		require.NotContains(t, p.Body, "not on Miro Enterprise", "one true sentence, no guess about the plan")
		require.NotContains(t, p.Body, "What it can do")
		conns, err := db.Connections(ctx)
		require.NoError(t, err)
		require.Empty(t, conns, "nothing was saved")
		entries, err := db.AuditEntries(ctx, store.AuditFilter{Kind: "connection"})
		require.NoError(t, err)
		require.Len(t, entries, 1)
		require.Equal(t, "refused", entries[0].Result)
		require.Contains(t, entries[0].Detail, "this is a team token")

		// The right token is not told the organization is taken.
		p = f.connectViaSim(t, br, roster.LevelOrganization, admin.UserID, admin.TeamID)
		require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
		c, err := db.FindConnection(ctx, roster.LevelOrganization, f.info.OrgID, "")
		require.NoError(t, err)
		require.Contains(t, p.Body, "Saved as connection "+strconv.FormatInt(c.ID, 10)+".")
		// Its missing SCIM token links to the form, not to the CLI.
		require.Contains(t, p.Body, `href="/connections#scim-`+strconv.FormatInt(c.ID, 10)+`"`)
		require.NotContains(t, p.Body, "--replace --scim-token")
	})
}
