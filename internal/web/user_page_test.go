package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"roster"
	"roster/internal/mirosim"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/workflow/workflowtest"
)

// summaryFacts are the user page's summary, label by label.
func summaryFacts(t *testing.T, body string) map[string]string {
	t.Helper()
	dls := findAll(parseHTML(t, body), "dl", "user-summary")
	require.Len(t, dls, 1, "no summary on the page")
	facts := map[string]string{}
	label := ""
	for n := dls[0].FirstChild; n != nil; n = n.NextSibling {
		switch {
		case n.Type != html.ElementNode:
		case n.Data == "dt":
			label = text(n)
		case n.Data == "dd":
			facts[label] = text(n)
		}
	}
	return facts
}

// historyRows are the user page's history, row by row: its cells' text,
// and the row's datetime.
func historyRows(t *testing.T, body string) (rows [][]string, at []time.Time) {
	t.Helper()
	for _, table := range findAll(parseHTML(t, body), "table", "user-history") {
		for _, tr := range findAll(table, "tr", "") {
			var cells []string
			for _, td := range findAll(tr, "td", "") {
				cells = append(cells, text(td))
			}
			if len(cells) == 0 {
				continue // the head
			}
			ts := findAll(tr, "time", "when")
			require.NotEmpty(t, ts, "a history row without its time: %v", cells)
			when, err := time.Parse(time.RFC3339, attr(ts[0], "datetime"))
			require.NoError(t, err)
			rows, at = append(rows, cells), append(at, when)
		}
	}
	return rows, at
}

func TestUserSummary(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newFixture(t, db)
		ctx := context.Background()
		br := f.loggedIn(t, roster.RoleAdmin)

		// Someone with a full license who last used Miro 40 days ago, as
		// the next sync tells (a sync only moves activity forward: they
		// were idle for longer).
		last := f.clock.Now().Add(-40*24*time.Hour - time.Hour)
		idle, err := db.Accounts(ctx, store.AccountFilter{ConnectionID: f.org.ID, License: roster.LicenseFull,
			OrgRole: roster.OrgRoleInternalUser, InactiveSince: last})
		require.NoError(t, err)
		var acc roster.Account
		for _, a := range idle {
			if ms, err := db.AccountMemberships(ctx, a.ID); err == nil && len(ms) > 0 && a.Email != "" && a.Active {
				acc = a
				break
			}
		}
		require.NotZero(t, acc.ID, "no one idle for 40 days")
		id := strconv.FormatInt(acc.ID, 10)
		_, err = f.sim.UpdateMember(acc.MiroUserID, mirosim.UserPatch{LastActivityAt: &last})
		require.NoError(t, err)
		f.sync(t, f.org.ID)
		// Example Corp's contract: full seats at 240 EUR a year; the
		// default prices (for other organizations) are 10 USD a month.
		settings := roster.DefaultSettings()
		settings.LicensePrices = map[string]float64{roster.LicenseFull: 10}
		require.NoError(t, db.SaveSettings(ctx, settings))
		require.NoError(t, f.srv.licenses.SaveContract(ctx, roster.Contract{OrgID: f.org.OrgID, Currency: "EUR", Billing: roster.BillingYearly,
			Licenses: map[string]roster.LicenseTerms{roster.LicenseFull: {Price: 240}}}, "operator:test"))

		facts := summaryFacts(t, br.mustGet("/users/"+id).Body)
		require.Equal(t, acc.Email, facts["Email"])
		require.Equal(t, "Full · 20.00 EUR a month (the organization's contract)", facts["License"], "the contract's yearly price, a month")
		require.Equal(t, "last active 40 days ago", facts["Activity"])
		require.Equal(t, "Example Corp · member", facts["Organization"])
		ms, err := db.AccountMemberships(ctx, acc.ID)
		require.NoError(t, err)
		require.NotEmpty(t, ms)
		for _, m := range ms {
			tm, err := db.Teams(ctx, f.org.ID)
			require.NoError(t, err)
			for _, team := range tm {
				if team.MiroTeamID == m.MiroTeamID {
					require.Contains(t, facts["Teams"], team.Name+" "+m.Role)
				}
			}
		}
		require.Equal(t, "not in the directory", facts["Directory"])

		// What the directory says: at the company, then left, with the day.
		person := roster.Person{Email: acc.Email, Department: "Design", ManagerEmail: "boss@example-corp.com"}
		require.NoError(t, db.UpsertPerson(ctx, &person))
		facts = summaryFacts(t, br.mustGet("/users/"+id).Body)
		require.Equal(t, "at the company · Design · manager boss@example-corp.com", facts["Directory"])
		person.Status = roster.PersonLeft
		require.NoError(t, db.UpdatePerson(ctx, &person))
		page := br.mustGet("/users/" + id)
		facts = summaryFacts(t, page.Body)
		events, err := db.PersonEventsFor(ctx, person.ID, 1)
		require.NoError(t, err)
		require.Equal(t, "left on "+events[0].At.Format("Jan 2, 2006")+" · Design · manager boss@example-corp.com", facts["Directory"])
		rows, _ := historyRows(t, page.Body)
		require.Equal(t, []string{"Directory", "Left the company"}, rows[0][1:3], "the newest entry")

		// A person of the team-level connection's organization is priced
		// by the default prices, their license inferred.
		other := f.teamMember(t)
		facts = summaryFacts(t, br.mustGet("/users/"+strconv.FormatInt(other.ID, 10)).Body)
		require.Equal(t, "Full · 10.00 USD a month (default prices) inferred from team roles", facts["License"])
		require.Equal(t, "unknown: team-level connections see no usage", facts["Activity"])
	})
}

func TestUserMenuOffersOnlyWhatCanWork(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSQLite(t))
	ctx := context.Background()
	br := f.loggedIn(t, roster.RoleAdmin)
	acc := f.member(t)
	id := strconv.FormatInt(acc.ID, 10)

	// Two organizations: Example Corp (organization level) and the
	// team-level connection's, another one.
	require.NotEqual(t, f.org.OrgID, f.team.OrgID)
	page := br.mustGet("/users/" + id)
	require.Len(t, findAll(parseHTML(t, page.Body), "details", "menu"), 1)
	for _, kind := range []string{"invite", "role", "remove", "remove-all", "signout"} {
		require.Equal(t, "/users/"+id+"/actions/"+kind, attr(menuEntry(t, page.Body, kind), "href"), kind)
	}
	require.Nil(t, menuEntry(t, page.Body, "reactivate"), "reactivate for someone active")

	// The invite offers the teams of their organization they are not in,
	// and no team of the other organization.
	dialog := br.dialog(id, "invite")
	require.Empty(t, formsThrough(t, dialog.Body, "/users/"+id+"/actions/invite", f.team.ID))
	forms := formsThrough(t, dialog.Body, "/users/"+id+"/actions/invite", f.org.ID)
	require.Len(t, forms, 1)
	var offered []string
	for _, o := range findAll(parseHTML(t, dialog.Body), "option", "") {
		if v := attr(o, "value"); v != "member" && v != "admin" {
			offered = append(offered, v)
		}
	}
	orgTeams, err := f.db.Teams(ctx, f.org.ID)
	require.NoError(t, err)
	ms, err := f.db.AccountMemberships(ctx, acc.ID)
	require.NoError(t, err)
	var want []string
	for _, tm := range orgTeams {
		in := false
		for _, m := range ms {
			in = in || m.MiroTeamID == tm.MiroTeamID
		}
		if !in {
			want = append(want, tm.MiroTeamID)
		}
	}
	require.ElementsMatch(t, want, offered)
	require.NotContains(t, offered, f.team.TeamID)

	// A member of the other organization's one team: nothing to invite
	// them to, so no invite; not through the organization connection.
	other := f.teamMember(t)
	otherID := strconv.FormatInt(other.ID, 10)
	require.Nil(t, menuEntry(t, br.mustGet("/users/"+otherID).Body, "invite"))
	dialog = br.dialog(otherID, "invite")
	require.Empty(t, actionForms(t, dialog.Body, "/users/"+otherID+"/actions/invite"))
	require.Contains(t, dialog.Body, "already in every team of their organization")

	// Deactivate needs the connection's SCIM token: disabled, saying so.
	require.Contains(t, disabledEntry(t, page.Body, "deactivate"), "needs a SCIM token: add one on the connection's page")
	f.enableSCIM(t)
	require.NotNil(t, menuEntry(t, br.mustGet("/users/"+id).Body, "deactivate"))
	require.False(t, hasAttr(menuEntry(t, br.mustGet("/users/"+id).Body, "deactivate"), "aria-disabled"))
}

func TestUserViewerSeesNoActions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSQLite(t))
	br := f.loggedIn(t, roster.RoleViewer)
	acc := f.member(t)
	id := strconv.FormatInt(acc.ID, 10)

	page := br.mustGet("/users/" + id)
	doc := parseHTML(t, page.Body)
	require.Empty(t, findAll(doc, "details", "menu"), "no actions menu")
	for _, form := range findAll(doc, "form", "") {
		require.NotContains(t, attr(form, "action"), "/actions/", "a viewer's page has a form posting an action")
	}
	for _, n := range findAll(findAll(doc, "main", "")[0], "", "") {
		require.False(t, hasAttr(n, "disabled") || hasAttr(n, "aria-disabled") || hasClass(n, "disabled"), "shown disabled: %s", text(n))
	}
	// The same page otherwise: the summary and the history.
	require.Equal(t, acc.Email, summaryFacts(t, page.Body)["Email"])
	rows, _ := historyRows(t, page.Body)
	require.NotEmpty(t, rows)
	// No dialog either.
	require.Equal(t, http.StatusForbidden, br.get("/users/"+id+"/actions/remove").StatusCode)
}

func TestUserHistory(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newFixture(t, db, withEngine(&workflowtest.Jobs{}, nil))
		ctx := context.Background()
		br := f.loggedIn(t, roster.RoleAdmin)
		acc := f.member(t)
		id := strconv.FormatInt(acc.ID, 10)
		ms, err := db.AccountMemberships(ctx, acc.ID)
		require.NoError(t, err)
		team := ms[0].MiroTeamID
		teams, err := db.Teams(ctx, f.org.ID)
		require.NoError(t, err)
		name := team
		for _, tm := range teams {
			if tm.MiroTeamID == team {
				name = tm.Name
			}
		}

		// A workflow run about them (waiting for its approval).
		wf := &wfFixture{fixture: f}
		run := wf.startRun(t, br, wf.createWorkflow(t, br, approvalYAML("ask-then-remove", f.org.ID, team)), acc.Email)

		// A removal through the dashboard's dialog.
		rm := formFor(t, br.mustGet("/users/"+id+"/actions/remove?team="+team).Body, "/users/"+id+"/actions/remove", team)
		rm.Set("confirm", "1")
		res := br.result(br.post("/users/"+id+"/actions/remove", rm))
		require.Contains(t, res.Body, "Remove from team succeeded.")

		rows, at := historyRows(t, res.Body)
		require.Equal(t, []string{"roster", "Remove from " + name, "admin@example.com (dashboard)"}, rows[0][1:4], "the newest first, with who did it")
		require.True(t, strings.HasPrefix(rows[0][4], "succeeded"), rows[0][4])
		for i := 1; i < len(at); i++ {
			require.False(t, at[i].After(at[i-1]), "row %d is newer than the row above it", i)
		}
		joined, ran := -1, -1
		for i, r := range rows {
			switch {
			case r[1] == "Miro" && r[2] == "Joined "+name+" as "+ms[0].Role:
				joined = i
			case r[1] == "Workflow" && strings.Contains(r[2], "ask-then-remove"):
				ran = i
			}
		}
		require.Greater(t, joined, 0, "the Miro change the first sync saw, after the removal: %v", rows)
		require.Greater(t, ran, 0, "the workflow run: %v", rows)
		require.Contains(t, res.Body, `href="/workflows/runs/`+strconv.FormatInt(run, 10)+`"`)
		require.NotContains(t, res.Body, "newest entries are shown")
	})
}

func TestUserHistoryCapped(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSQLite(t))
	ctx := context.Background()
	br := f.loggedIn(t, roster.RoleViewer)
	acc := f.member(t)
	for i := range historyCap + 5 {
		a := roster.Action{Key: "k" + strconv.Itoa(i), Kind: roster.ActionSignOut, ConnectionID: f.org.ID,
			MiroUserID: acc.MiroUserID, Email: acc.Email, Actor: "apikey:ci"}
		_, err := f.db.StartAction(ctx, &a)
		require.NoError(t, err)
	}
	page := br.mustGet("/users/" + strconv.FormatInt(acc.ID, 10))
	rows, _ := historyRows(t, page.Body)
	require.Len(t, rows, historyCap)
	require.Equal(t, "ci (API key)", rows[0][3])
	require.Contains(t, page.Body, "The 50 newest entries are shown")
}

func TestUserDialogStatesTheConsequenceOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, openSQLite(t))
	br := f.loggedIn(t, roster.RoleAdmin)
	acc := f.member(t)
	id := strconv.FormatInt(acc.ID, 10)
	const consequence = "reassigned to the team&#39;s admin"

	page := br.mustGet("/users/" + id)
	require.NotContains(t, page.Body, consequence, "the page itself states no consequence")
	require.Contains(t, page.Body, `id="actions-menu"`)
	require.Contains(t, page.Body, `id="menu-remove"`)

	// With several teams, the dialog first asks which; then it states
	// the consequence once, with one button.
	ms, err := f.db.AccountMemberships(context.Background(), acc.ID)
	require.NoError(t, err)
	dialog := br.dialog(id, "remove")
	if len(ms) > 1 {
		require.NotContains(t, dialog.Body, consequence)
		require.Contains(t, dialog.Body, "Which team?")
		dialog = br.mustGet("/users/" + id + "/actions/remove?team=" + ms[0].MiroTeamID)
	}
	require.Equal(t, 1, strings.Count(dialog.Body, consequence))
	doc := parseHTML(t, dialog.Body)
	sections := findAll(doc, "section", "dialog")
	require.Len(t, sections, 1)
	require.Equal(t, "action-remove", attr(sections[0], "id"))
	buttons := findAll(sections[0], "button", "")
	require.Len(t, buttons, 1)
	require.Equal(t, "confirm-action", attr(buttons[0], "id"))
	require.Contains(t, text(sections[0]), "Removes "+acc.Email+" from ")

	// Organization-wide removal: once too.
	dialog = br.dialog(id, "remove-all")
	require.Equal(t, 1, strings.Count(dialog.Body, "reassigned to the team"))
	require.Contains(t, dialog.Body, `id="confirm-action"`)

	require.Equal(t, http.StatusNotFound, br.get("/users/"+id+"/actions/explode").StatusCode)
}
