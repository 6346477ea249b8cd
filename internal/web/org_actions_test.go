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

// orgForm is the user page's form of an organization-wide kind through
// a connection: its values as the browser sends them (the box
// unticked), and the form itself.
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

// disabledButton reports whether the form's submit button is disabled.
func disabledButton(form *html.Node) bool {
	for _, b := range findAll(form, "button", "") {
		return hasAttr(b, "disabled")
	}
	return false
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

		// Without a SCIM token the form is there, disabled, saying why.
		page := br.mustGet("/users/" + id)
		_, form := orgForm(t, page.Body, id, "deactivate", f.org.ID)
		require.True(t, disabledButton(form))
		require.Contains(t, text(form), "no SCIM token")

		f.enableSCIM(t)
		page = br.mustGet("/users/" + id)
		form1, node := orgForm(t, page.Body, id, "deactivate", f.org.ID)
		require.False(t, disabledButton(node))
		require.Contains(t, text(node), "their paid license is freed")

		// The box must be ticked: nothing happens otherwise.
		p := br.post("/users/"+id+"/actions/deactivate", form1)
		require.Equal(t, http.StatusBadRequest, p.StatusCode)
		require.Contains(t, p.Body, "Tick the box to confirm")
		require.Zero(t, f.sim.Stats().ByOperation["patchUser"].Calls)

		form1.Set("confirm", "1")
		res := br.result(br.post("/users/"+id+"/actions/deactivate", form1))
		require.Contains(t, res.Body, "deactivate user: succeeded.")
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

		// Now deactivate is off and reactivate on; reactivate undoes it.
		page = br.mustGet("/users/" + id)
		_, node = orgForm(t, page.Body, id, "deactivate", f.org.ID)
		require.True(t, disabledButton(node))
		require.Contains(t, text(node), "already deactivated")
		form2, _ := orgForm(t, page.Body, id, "reactivate", f.org.ID)
		form2.Set("confirm", "1")
		res = br.result(br.post("/users/"+id+"/actions/reactivate", form2))
		require.Contains(t, res.Body, "reactivate user: succeeded.")
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
		form, node := orgForm(t, page.Body, id, "deactivate", f.org.ID)
		require.True(t, disabledButton(node))
		require.Contains(t, text(node), "cannot deactivate or reactivate guests")

		// Posted anyway: the runner refuses, records and audits it, with
		// no SCIM call, and the page says why.
		f.sim.ResetStats()
		form.Set("confirm", "1")
		res := br.result(br.post("/users/"+id+"/actions/deactivate", form))
		require.Contains(t, res.Body, "deactivate user: refused.")
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

	form, node := orgForm(t, page.Body, id, "deactivate", f.team.ID)
	require.True(t, disabledButton(node))
	require.Contains(t, text(node), "needs an organization-level connection")
	_, node = orgForm(t, page.Body, id, "signout", f.team.ID)
	require.True(t, disabledButton(node))
	require.Contains(t, text(node), "Disabled:")

	// Posting the disabled form anyway is refused by the action layer,
	// recorded and audited, with no call to Miro.
	form.Set("confirm", "1")
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

		form, node := orgForm(t, br.mustGet("/users/"+id).Body, id, "signout", f.org.ID)
		require.False(t, disabledButton(node))
		form.Set("confirm", "1")
		res := br.result(br.post("/users/"+id+"/actions/signout", form))
		require.Contains(t, res.Body, "sign out all sessions: succeeded.")
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

		form, node := orgForm(t, br.mustGet("/users/"+id).Body, id, "remove-all", f.org.ID)
		require.False(t, disabledButton(node))
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

		// Now the form is disabled: in no team.
		_, node = orgForm(t, br.mustGet("/users/"+id).Body, id, "remove-all", f.org.ID)
		require.True(t, disabledButton(node))
		require.Contains(t, text(node), "in no team this connection covers")
	})
}

func TestViewerSeesOrgActionsDisabled(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSQLite(t))
	br := f.loggedIn(t, roster.RoleViewer)
	acc := f.member(t)
	id := strconv.FormatInt(acc.ID, 10)
	page := br.mustGet("/users/" + id)
	for _, kind := range []string{"deactivate", "reactivate", "signout", "remove-all"} {
		form, node := orgForm(t, page.Body, id, kind, f.org.ID)
		require.True(t, disabledButton(node), kind)
		require.Contains(t, text(node), ViewerReason, kind)
		form.Set("confirm", "1")
		p := br.post("/users/"+id+"/actions/"+kind, form)
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
		form, _ := orgForm(t, br.mustGet("/users/"+id).Body, id, "deactivate", f.org.ID)
		form.Set("confirm", "1")
		res := br.result(br.post("/users/"+id+"/actions/deactivate", form))
		require.Contains(t, res.Body, "deactivate user: failed.")
		require.Contains(t, res.Body, "It may work if you try again")
		retry, node := orgForm(t, res.Body, id, "deactivate", f.org.ID)
		require.Contains(t, text(node), "Retry")
		require.Equal(t, form.Get("key"), retry.Get("key"))

		// The retry asks SCIM first and does not PATCH again.
		res = br.result(br.post("/users/"+id+"/actions/deactivate", retry))
		require.Contains(t, res.Body, "deactivate user: succeeded.")
		require.Contains(t, res.Body, "found in SCIM before retrying")
		require.Equal(t, 1, f.sim.Stats().ByOperation["patchUser"].Calls)
	})
}
