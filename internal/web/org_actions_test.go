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
	"roster/internal/mirosim"
	"roster/internal/store"
	"roster/internal/store/storetest"
)

// --- helpers ---

// enableSCIM gives the organization connection the simulator's SCIM
// token, as roster connect --scim-token does.
func (f *fixture) enableSCIM(t *testing.T) {
	t.Helper()
	f.org = f.kit.WithSCIM(t, f.kit.Connection(t, f.org.ID))
}

// orgForm is the form of an organization-wide kind through a connection,
// in its dialog or a result's retry: its values as the browser sends them
// (without the confirmation its button sends), and the form itself.
func orgForm(t *testing.T, body string, id string, kind string, connID int64) (url.Values, *html.Node) {
	t.Helper()
	action := "/users/" + id + "/actions/" + kind
	for _, form := range findAll(parseHTML(t, body), "form", "") {
		if attr(form, "action") != action {
			continue
		}
		v := url.Values{}
		for _, in := range findAll(form, "input", "") {
			if attr(in, "type") != "checkbox" { // unticked
				v.Set(attr(in, "name"), attr(in, "value"))
			}
		}
		if v.Get("connection") == strconv.FormatInt(connID, 10) {
			return v, form
		}
	}
	t.Fatalf("no %s form for connection %d", kind, connID)
	return nil, nil
}

// dialog is the dialog of an action kind on a user's page.
func (br *browser) dialog(id, kind string) page {
	br.t.Helper()
	return br.mustGet("/users/" + id + "/actions/" + kind)
}

// menuEntry is the actions menu's entry of kind (nil when the menu does
// not offer it): a link, or a disabled entry saying why.
func menuEntry(t *testing.T, body, kind string) *html.Node {
	t.Helper()
	for _, n := range findAll(parseHTML(t, body), "", "menu-item") {
		if attr(n, "id") == "menu-"+kind {
			return n
		}
	}
	return nil
}

// disabledEntry requires the menu's entry of kind to be there, disabled,
// and returns its text (the reason).
func disabledEntry(t *testing.T, body, kind string) string {
	t.Helper()
	n := menuEntry(t, body, kind)
	require.NotNil(t, n, "the menu has no %s entry", kind)
	require.Equal(t, "true", attr(n, "aria-disabled"), "the %s entry is enabled", kind)
	return text(n)
}

// orgPost is a crafted organization-wide post through a connection, as a
// stale page or a script would send it.
func orgPost(key string, connID int64) url.Values {
	return url.Values{"key": {key}, "connection": {strconv.FormatInt(connID, 10)}, "confirm": {"1"}}
}

// result follows an action's redirect to the outcome on the user page.
func (br *browser) result(p page) page {
	br.t.Helper()
	require.Equal(br.t, http.StatusSeeOther, p.StatusCode, p.Body)
	return br.mustGet(strings.TrimSuffix(p.location(), "#result"))
}

func TestDeactivateFromUserPage(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newFixture(t, db)
		ctx := context.Background()
		br := f.loggedIn(t, roster.RoleAdmin)
		acc := f.licensedMember(t)
		id := strconv.FormatInt(acc.ID, 10)

		// Without a SCIM token the menu's entry is disabled, saying why
		// and where to add one; its dialog has no form.
		page := br.mustGet("/users/" + id)
		require.Contains(t, disabledEntry(t, page.Body, "deactivate"), "needs a SCIM token: add one on the connection's page")
		require.Contains(t, page.Body, `href="/connections#scim-`+strconv.FormatInt(f.org.ID, 10)+`"`)
		require.Empty(t, actionForms(t, br.dialog(id, "deactivate").Body, "/users/"+id+"/actions/deactivate"))

		f.enableSCIM(t)
		page = br.mustGet("/users/" + id)
		require.Equal(t, "/users/"+id+"/actions/deactivate", attr(menuEntry(t, page.Body, "deactivate"), "href"))
		form1, node := orgForm(t, br.dialog(id, "deactivate").Body, id, "deactivate", f.org.ID)
		require.Contains(t, text(node), "their paid license is freed")

		// Without its confirmation nothing happens.
		p := br.post("/users/"+id+"/actions/deactivate", form1)
		require.Equal(t, http.StatusBadRequest, p.StatusCode)
		require.Contains(t, p.Body, "Confirm the action with its button")
		require.Zero(t, f.sim.Stats().ByOperation["patchUser"].Calls)

		form1.Set("confirm", "1")
		res := br.result(br.post("/users/"+id+"/actions/deactivate", form1))
		require.Contains(t, res.Body, "Deactivate user succeeded.")
		require.Contains(t, res.Body, "license now free")
		require.Contains(t, res.Body, `href="/audit?kind=action"`)
		m, err := f.admin.OrgMember(ctx, f.info.OrgID, acc.MiroUserID)
		require.NoError(t, err)
		require.False(t, m.Active, "Miro deactivated them")
		require.Equal(t, roster.LicenseFree, m.License.String())
		stored, err := f.db.Account(ctx, acc.ID)
		require.NoError(t, err)
		require.False(t, stored.Active)
		require.Equal(t, roster.LicenseFree, stored.License)

		// A double submit does nothing twice.
		p = br.post("/users/"+id+"/actions/deactivate", form1)
		require.Equal(t, http.StatusSeeOther, p.StatusCode)
		require.Equal(t, 1, f.sim.Stats().ByOperation["patchUser"].Calls)

		// Now the menu offers reactivate, not deactivate; reactivate
		// undoes it.
		page = br.mustGet("/users/" + id)
		require.Nil(t, menuEntry(t, page.Body, "deactivate"))
		require.Contains(t, br.dialog(id, "deactivate").Body, "already deactivated")
		require.NotNil(t, menuEntry(t, page.Body, "reactivate"))
		form2, _ := orgForm(t, br.dialog(id, "reactivate").Body, id, "reactivate", f.org.ID)
		form2.Set("confirm", "1")
		res = br.result(br.post("/users/"+id+"/actions/reactivate", form2))
		require.Contains(t, res.Body, "Reactivate user succeeded.")
		m, err = f.admin.OrgMember(ctx, f.info.OrgID, acc.MiroUserID)
		require.NoError(t, err)
		require.True(t, m.Active)

		entries, err := db.AuditEntries(ctx, store.AuditFilter{Kind: "action"})
		require.NoError(t, err)
		require.Len(t, entries, 2)
		require.Equal(t, "operator:admin@example.com", entries[0].Actor)
	})
}

func TestDeactivateGuestRefused(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newFixture(t, db)
		f.enableSCIM(t)
		br := f.loggedIn(t, roster.RoleAdmin)
		guest := f.withOrgRole(t, "organization_team_guest_user")
		id := strconv.FormatInt(guest.ID, 10)

		// Shown disabled, with the plain reason.
		page := br.mustGet("/users/" + id)
		require.Contains(t, disabledEntry(t, page.Body, "deactivate"), "cannot deactivate or reactivate guests")

		// Posted anyway: the runner refuses, records and audits it, with
		// no SCIM call, and the page says why.
		f.sim.ResetStats()
		form := orgPost("k-guest", f.org.ID)
		res := br.result(br.post("/users/"+id+"/actions/deactivate", form))
		require.Contains(t, res.Body, "Deactivate user refused.")
		require.Contains(t, res.Body, "is a guest")
		require.Zero(t, f.sim.Stats().Calls)
		a, err := db.ActionByKey(context.Background(), form.Get("key"))
		require.NoError(t, err)
		require.Equal(t, roster.ActionRefused, a.Status)
	})
}

func TestOrgActionsDisabledOnTeamConnection(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSQLite(t))
	br := f.loggedIn(t, roster.RoleAdmin)
	acc := f.teamMember(t)
	id := strconv.FormatInt(acc.ID, 10)
	page := br.mustGet("/users/" + id)

	require.Contains(t, disabledEntry(t, page.Body, "deactivate"), "needs an organization-level connection")
	require.Contains(t, disabledEntry(t, page.Body, "signout"), "not on Miro Enterprise")

	// Posting through it anyway is refused by the action layer, recorded
	// and audited, with no call to Miro.
	form := orgPost("k-team", f.team.ID)
	p := br.post("/users/"+id+"/actions/deactivate", form)
	require.Equal(t, http.StatusSeeOther, p.StatusCode, p.Body)
	res := br.mustGet(strings.TrimSuffix(p.location(), "#result"))
	require.Contains(t, res.Body, "refused")
	require.Contains(t, res.Body, "organization-level connection")
	require.Zero(t, f.writeCalls())
}

func TestSignOutFromUserPage(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newFixture(t, db)
		br := f.loggedIn(t, roster.RoleAdmin)
		acc := f.member(t)
		id := strconv.FormatInt(acc.ID, 10)
		f.sim.ResetStats()

		form, _ := orgForm(t, br.dialog(id, "signout").Body, id, "signout", f.org.ID)
		form.Set("confirm", "1")
		res := br.result(br.post("/users/"+id+"/actions/signout", form))
		require.Contains(t, res.Body, "Sign out all sessions succeeded.")
		require.Equal(t, 1, f.sim.Stats().ByOperation["enterprise-post-user-sessions-reset"].Calls)
	})
}

func TestRemoveFromAllTeamsFromUserPage(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newFixture(t, db)
		ctx := context.Background()
		br := f.loggedIn(t, roster.RoleAdmin)
		acc := f.member(t)
		id := strconv.FormatInt(acc.ID, 10)
		ms, err := db.AccountMemberships(ctx, acc.ID)
		require.NoError(t, err)
		require.NotEmpty(t, ms)
		svc := f.licensedMember(t)
		if svc.ID == acc.ID {
			svc = f.withOrgRole(t, "organization_internal_admin")
		}

		form, node := orgForm(t, br.dialog(id, "remove-all").Body, id, "remove-all", f.org.ID)
		require.Contains(t, text(node), "Service account email")

		// A bad service account is shown beside its field, nothing runs.
		form.Set("confirm", "1")
		form.Set("service_account", "not an email")
		p := br.post("/users/"+id+"/actions/remove-all", form)
		require.Equal(t, http.StatusBadRequest, p.StatusCode)
		require.Contains(t, p.Body, "&#34;not an email&#34; is not an email address")
		require.Zero(t, f.writeCalls())

		// The runner's own refusal of a field shows beside it too.
		form.Set("service_account", acc.Email)
		p = br.post("/users/"+id+"/actions/remove-all", form)
		require.Equal(t, http.StatusBadRequest, p.StatusCode)
		require.Contains(t, p.Body, "cannot be the person removed")
		require.Zero(t, f.writeCalls())

		form.Set("service_account", svc.Email)
		p = br.post("/users/"+id+"/actions/remove-all", form)
		require.Equal(t, http.StatusOK, p.StatusCode, p.Body)
		require.Contains(t, p.Body, "Remove from every team: "+strconv.Itoa(len(ms))+" removed, 0 skipped, 0 failed.")
		for _, m := range ms {
			require.Empty(t, f.simRole(t, m.MiroTeamID, acc.MiroUserID), "still in team %s", m.MiroTeamID)
		}
		left, err := db.AccountMemberships(ctx, acc.ID)
		require.NoError(t, err)
		require.Empty(t, left)

		// Posting it again repeats no team.
		calls := f.writeCalls()
		p = br.post("/users/"+id+"/actions/remove-all", form)
		require.Equal(t, http.StatusOK, p.StatusCode)
		require.Contains(t, p.Body, "0 removed")
		require.Equal(t, calls, f.writeCalls())

		// Now the menu offers it no more: in no team.
		require.Nil(t, menuEntry(t, br.mustGet("/users/"+id).Body, "remove-all"))
		require.Contains(t, br.dialog(id, "remove-all").Body, "in no team")
	})
}

func TestViewerCannotPostOrgActions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSQLite(t))
	br := f.loggedIn(t, roster.RoleViewer)
	acc := f.member(t)
	id := strconv.FormatInt(acc.ID, 10)
	page := br.mustGet("/users/" + id)
	for _, kind := range []string{"deactivate", "reactivate", "signout", "remove-all"} {
		require.Nil(t, menuEntry(t, page.Body, kind), kind)
		require.Equal(t, http.StatusForbidden, br.get("/users/"+id+"/actions/"+kind).StatusCode, kind)
		p := br.post("/users/"+id+"/actions/"+kind, orgPost("k-"+kind, f.org.ID))
		require.Equal(t, http.StatusForbidden, p.StatusCode, kind)
	}
	require.Zero(t, f.writeCalls())
}

func TestDeactivateRetryAfterLostAnswer(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newFixture(t, db)
		f.enableSCIM(t)
		br := f.loggedIn(t, roster.RoleAdmin)
		acc := f.licensedMember(t)
		id := strconv.FormatInt(acc.ID, 10)
		f.sim.SetFaults(mirosim.Fault{OperationID: "patchUser", Kind: mirosim.FaultLost, Rate: 1, Times: 1})

		// SCIM deactivated them, but the answer was lost: failed, with
		// retry advice and a retry button under the same key.
		form, _ := orgForm(t, br.dialog(id, "deactivate").Body, id, "deactivate", f.org.ID)
		form.Set("confirm", "1")
		res := br.result(br.post("/users/"+id+"/actions/deactivate", form))
		require.Contains(t, res.Body, "Deactivate user failed.")
		require.Contains(t, res.Body, "It may work if you try again")
		retry, node := orgForm(t, res.Body, id, "deactivate", f.org.ID)
		require.Contains(t, text(node), "Retry")
		require.Equal(t, form.Get("key"), retry.Get("key"))

		// The retry asks SCIM first and does not PATCH again.
		res = br.result(br.post("/users/"+id+"/actions/deactivate", retry))
		require.Contains(t, res.Body, "Deactivate user succeeded.")
		require.Contains(t, res.Body, "found in SCIM before retrying")
		require.Equal(t, 1, f.sim.Stats().ByOperation["patchUser"].Calls)
	})
}
