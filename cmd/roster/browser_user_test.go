package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/miro"
	"roster/internal/mirosim"
	"roster/internal/store"
)

// inviteAndRemove drives the user page's Actions menu as an admin would:
// it invites an organization member to a team they are not in
// (organization API) and removes a member of the team-level connection's
// team (legacy API, boards to the trash), each confirmed on the action's
// own page. It checks each outcome on the user page, the history there
// (the action first, with who did it), the simulator and the audit log;
// and that the menu offers no invite to a team of another organization.
// With dir, it saves the user page with its menu open, the removal's page
// and the user page after it at 1440 px and 390 px.
func (b *browserBundle) inviteAndRemove(ctx context.Context, st store.Store, dir string) {
	t := b.t
	org, team := b.d.org, b.d.team
	names := b.teamNames(ctx, st)
	// The fixture has two organizations: the Enterprise one (its teams are
	// the simulator's TeamIDs) and the team-level connection's.
	require.NotContains(t, b.info.TeamIDs, team.TeamID, "the team-level connection's team is of another organization")
	byAdmin := b.d.adminEmail + " (dashboard)"

	// Invite: a member of the organization to a team they are not in.
	acc, _ := b.inviteCandidate(ctx, st, org)
	menu, who := b.openActions("open the invitee's actions", acc.ID)
	b.saveWidths(dir, "user-menu")
	for _, kind := range []string{"invite", "role", "remove", "remove-all", "deactivate", "signout"} {
		require.False(t, menu["menu-"+kind].Disabled, "%s is offered for %s: %+v", kind, acc.Email, menu)
	}
	require.NotContains(t, menu, "menu-reactivate", "an active person is offered no reactivation")
	b.run("choose Invite",
		chromedp.Click(chromedp.CSS(`#menu-invite`)),
		chromedp.WaitVisible(chromedp.CSS(`#action-invite #confirm-action`)),
	)
	offered := b.dialogTeams("read the teams offered")
	require.NotEmpty(t, offered)
	require.NotEmpty(t, offered[0])
	for _, form := range offered {
		for _, id := range form {
			require.Contains(t, b.info.TeamIDs, id, "%s is offered team %s of another organization", acc.Email, id)
			require.NotEqual(t, team.TeamID, id)
		}
	}
	toTeam := offered[0][0] // chosen by default on the form #confirm-action sends
	b.checkDialog("invite", "Invite "+who+" to a team", "Adds "+who+" to ")
	b.run("confirm the invite",
		chromedp.Click(chromedp.CSS(`#confirm-action`)),
		chromedp.WaitVisible(chromedp.CSS(`#result`)),
	)
	b.requireOutcome("the invite", acc.ID, names[toTeam])
	b.requireLatest("the invitee's history", historyEntry{Kind: "roster", What: "Invite to " + names[toTeam] + " as member", Who: byAdmin, Outcome: "succeeded"})
	m, err := b.client.TeamMember(ctx, b.info.OrgID, toTeam, acc.MiroUserID)
	b.check("the simulator has the invited member", err)
	require.Equal(t, acc.MiroUserID, m.ID)

	// Remove: a member of the team-level connection's team who owns
	// boards there, so that the simulator's trash shows the consequence.
	victim, boards := b.removeCandidate(ctx, st, team)
	menu, who = b.openActions("open the member's actions", victim.ID)
	if e, ok := menu["menu-invite"]; ok && !e.Disabled {
		// Whatever it offers, it is no team of the Enterprise organization.
		b.run("choose Invite for the member", chromedp.Click(chromedp.CSS(`#menu-invite`)), chromedp.WaitVisible(chromedp.CSS(`#action-invite`)))
		for _, form := range b.dialogTeams("read the member's teams offered") {
			for _, id := range form {
				require.NotContains(t, b.info.TeamIDs, id, "%s, of another organization, is offered team %s", victim.Email, id)
			}
		}
		menu, _ = b.openActions("open the member's actions again", victim.ID)
	}
	require.False(t, menu["menu-remove"].Disabled, "remove is offered for %s: %+v", victim.Email, menu)
	b.run("choose Remove",
		chromedp.Click(chromedp.CSS(`#menu-remove`)),
		chromedp.WaitVisible(chromedp.CSS(`#action-remove`)),
	)
	if !value(b, "is the team chosen", chromedp.Evaluate[bool](`!!document.getElementById('confirm-action')`)) {
		// In several teams: pick the connection's.
		b.run("pick the team",
			chromedp.Click(chromedp.CSS(fmt.Sprintf(`#action-remove .team-picks a[href$="?team=%s"]`, team.TeamID))),
			chromedp.WaitVisible(chromedp.CSS(`#action-remove #confirm-action`)),
		)
	}
	b.saveWidths(dir, "user-action-remove")
	statement := b.checkDialog("remove", "Remove "+who+" from "+names[team.TeamID], "Removes "+who+" from "+names[team.TeamID])
	require.Equal(t, 1, strings.Count(strings.ToLower(statement), "restored from the team's trash"), "the consequence, once: %s", statement)
	b.run("confirm the removal",
		chromedp.Click(chromedp.CSS(`#confirm-action`)),
		chromedp.WaitVisible(chromedp.CSS(`#result`)),
	)
	b.requireOutcome("the removal", victim.ID, names[team.TeamID])
	b.requireLatest("the member's history", historyEntry{Kind: "roster", What: "Remove from " + names[team.TeamID], Who: byAdmin, Outcome: "succeeded"})
	b.saveWidths(dir, "user-result")
	trashed, _ := b.d.sim.Trash(team.TeamID)
	var trashedIDs []string
	for _, bd := range trashed {
		trashedIDs = append(trashedIDs, bd.ID)
	}
	require.Subset(t, trashedIDs, boards, "the removed member's boards are in the team's trash")
	for tu, err := range b.teamClient().Legacy().TeamUserConnections(ctx, team.TeamID) {
		require.NoError(t, err)
		require.NotEqual(t, victim.MiroUserID, string(tu.User.ID), "the removed member is still in the team")
	}

	// Both, and the connection added before, are in the audit log.
	b.run("open the audit log", chromedp.Navigate(b.url+"/audit"), chromedp.WaitVisible(chromedp.CSS(`table`)))
	audit := value(b, "read the audit log", chromedp.Text(chromedp.CSS(`main`)))
	for _, want := range []string{"action: invite to team", "action: remove from team", acc.Email, victim.Email, "connection: connect"} {
		if !strings.Contains(audit, want) {
			b.screenshot("audit log")
			t.Fatalf("the audit log lacks %q:\n%s", want, audit)
		}
	}
}

// menuEntry is one entry of the user page's Actions menu as shown: a link
// to the action's page, or disabled with the reason.
type menuEntry struct {
	ID, Href, Reason string
	Disabled         bool
}

// openActions opens the user page of account id and its Actions menu,
// and returns the menu's entries by id ("menu-invite"), checking that
// each links to its action's page or says why it cannot, and the name
// the page gives the person.
func (b *browserBundle) openActions(step string, id int64) (map[string]menuEntry, string) {
	b.t.Helper()
	b.run(step,
		chromedp.Navigate(fmt.Sprintf("%s/users/%d", b.url, id)),
		chromedp.WaitVisible(chromedp.CSS(`#user-summary`)),
		chromedp.Click(chromedp.CSS(`#actions-menu > summary`)),
		chromedp.WaitVisible(chromedp.CSS(`#actions-menu .menu-list`)),
	)
	entries := value(b, step, chromedp.Evaluate[[]menuEntry](`[...document.querySelectorAll('#actions-menu .menu-item')].map(e => ({
		ID: e.id, Href: e.getAttribute('href') ?? '', Disabled: e.getAttribute('aria-disabled') === 'true',
		Reason: (e.querySelector('.menu-reason')?.textContent ?? '').trim()}))`))
	out := map[string]menuEntry{}
	for _, e := range entries {
		out[e.ID] = e
		if e.Disabled {
			require.NotEmpty(b.t, e.Reason, "%s: a disabled entry says why", e.ID)
			require.Empty(b.t, e.Href, "%s: a disabled entry links nowhere", e.ID)
			continue
		}
		require.Equal(b.t, fmt.Sprintf("/users/%d/actions/%s", id, strings.TrimPrefix(e.ID, "menu-")), e.Href, "%s", e.ID)
	}
	require.NotEmpty(b.t, out, "the menu offers something")
	return out, value(b, step+": read the name", chromedp.Text(chromedp.CSS(`.user-name h1`)))
}

// dialogTeams are the teams each form of an action's page offers, in
// order (a fixed team is a hidden field).
func (b *browserBundle) dialogTeams(step string) [][]string {
	b.t.Helper()
	return value(b, step, chromedp.Evaluate[[][]string](`[...document.querySelectorAll('section.dialog form.dialog-form')].map(f =>
		[...f.querySelectorAll('select[name=team] option, input[name=team]')].map(e => e.value))`))
}

// checkDialog checks the open action page of kind: its title, one
// confirm button, and what it does stated once, starting with does; it
// returns that statement.
func (b *browserBundle) checkDialog(kind, title, does string) string {
	b.t.Helper()
	t := b.t
	section := fmt.Sprintf(`section.dialog#action-%s`, kind)
	require.Equal(t, title, value(b, "read the title", chromedp.Text(chromedp.CSS(section+` #dialog-title`))))
	got := value(b, "read the page", chromedp.Evaluate[[]string](fmt.Sprintf(`(() => { const s = document.querySelector(%q);
		return [String(s.querySelectorAll('#confirm-action').length), String(s.querySelectorAll('.statement').length), s.querySelector('.statement')?.textContent.trim() ?? '', s.textContent]; })()`, section)))
	require.Equal(t, []string{"1", "1"}, got[:2], "one confirm button, one statement")
	statement := got[2]
	require.True(t, strings.HasPrefix(statement, does), "the statement %q starts with %q", statement, does)
	require.Equal(t, 1, strings.Count(got[3], statement), "the statement appears once")
	return statement
}

// requireOutcome checks the user page after an action on account id: it
// is the person's page, and the outcome says it succeeded on team.
func (b *browserBundle) requireOutcome(what string, id int64, team string) {
	b.t.Helper()
	loc := value(b, what+": where", chromedp.Location())
	require.True(b.t, strings.HasPrefix(loc, fmt.Sprintf("%s/users/%d?done=", b.url, id)), loc)
	result := value(b, what+": read the outcome", chromedp.Text(chromedp.CSS(`#result`)))
	if !strings.Contains(result, "succeeded") {
		b.screenshot(what)
	}
	require.Contains(b.t, result, "succeeded", result)
	require.Contains(b.t, result, team, result)
}

// historyEntry is one row of the user page's history.
type historyEntry struct {
	At, Kind, What, Who, Outcome string
}

// requireLatest checks that the user page's history is newest first and
// that its newest entry is want (At aside; Outcome its start).
func (b *browserBundle) requireLatest(step string, want historyEntry) {
	b.t.Helper()
	t := b.t
	b.run(step, chromedp.WaitVisible(chromedp.CSS(`#history`)))
	rows := value(b, step, chromedp.Evaluate[[]historyEntry](`[...document.querySelectorAll('table.user-history tbody tr')].map(tr => {
		const td = [...tr.querySelectorAll('td')].map(td => td.textContent.trim().replace(/\s+/g, ' '));
		return {At: tr.querySelector('time')?.getAttribute('datetime') ?? '', Kind: td[1] ?? '', What: td[2] ?? '', Who: td[3] ?? '', Outcome: td[4] ?? ''};
	})`))
	require.NotEmpty(t, rows, "%s: the history is empty", step)
	for i := 1; i < len(rows); i++ {
		// RFC 3339 in UTC: the text orders as the time does.
		require.GreaterOrEqual(t, rows[i-1].At, rows[i].At, "%s: newest first: %+v", step, rows)
	}
	got := rows[0]
	require.True(t, strings.HasPrefix(got.Outcome, want.Outcome), "%s: %+v", step, got)
	got.At, got.Outcome = "", want.Outcome
	require.Equal(t, want, got, "%s: the newest entry of %+v", step, rows)
}

// teamNames are the teams' names by Miro id, as the store knows them.
func (b *browserBundle) teamNames(ctx context.Context, st store.Store) map[string]string {
	teams, err := st.Teams(ctx, 0)
	require.NoError(b.t, err)
	out := map[string]string{}
	for _, tm := range teams {
		out[tm.MiroTeamID] = cmp.Or(tm.Name, tm.MiroTeamID)
	}
	return out
}

// teamClient is the team-level install's view of the simulator.
func (b *browserBundle) teamClient() *miro.Client {
	c, err := miro.New(miro.Config{BaseURL: b.d.simURL, Token: miro.StaticToken(b.d.sim.Info(b.d.simURL).Installs[mirosim.InstallNonEnterpriseTeam].AccessToken)})
	require.NoError(b.t, err)
	return c
}

// inviteCandidate is an active internal member of the organization and a
// team of the organization they are not in.
func (b *browserBundle) inviteCandidate(ctx context.Context, st store.Store, org roster.Connection) (roster.Account, string) {
	t := b.t
	teams, err := st.Teams(ctx, org.ID)
	require.NoError(t, err)
	accs, err := st.Accounts(ctx, store.AccountFilter{ConnectionID: org.ID, OrgRole: "organization_internal_user"})
	require.NoError(t, err)
	for _, a := range accs {
		if !a.Active || a.Email == "" {
			continue
		}
		ms, err := st.AccountMemberships(ctx, a.ID)
		require.NoError(t, err)
		in := map[string]bool{}
		for _, m := range ms {
			in[m.MiroTeamID] = true
		}
		for _, tm := range teams {
			if !in[tm.MiroTeamID] {
				return a, tm.MiroTeamID
			}
		}
	}
	t.Fatal("no one to invite")
	return roster.Account{}, ""
}

// removeCandidate is a plain member of the connection's team who owns
// boards in it, and those boards.
func (b *browserBundle) removeCandidate(ctx context.Context, st store.Store, team roster.Connection) (roster.Account, []string) {
	t := b.t
	accs, err := st.Accounts(ctx, store.AccountFilter{ConnectionID: team.ID})
	require.NoError(t, err)
	client := b.teamClient()
	for _, a := range accs {
		if a.MiroUserID == team.InstallerID || a.Email == "" {
			continue
		}
		ms, err := st.AccountMemberships(ctx, a.ID)
		require.NoError(t, err)
		if !slices.ContainsFunc(ms, func(m roster.Membership) bool { return m.MiroTeamID == team.TeamID && m.Role == "member" }) {
			continue
		}
		var boards []string
		// Miro ignores owner beside team_id: filter here.
		for bd, err := range client.Boards(ctx, miro.BoardQuery{TeamID: team.TeamID}) {
			require.NoError(t, err)
			if bd.Owner != nil && bd.Owner.ID == a.MiroUserID {
				boards = append(boards, bd.ID)
			}
		}
		if len(boards) > 0 {
			return a, boards
		}
	}
	t.Fatal("no member of the team owns boards")
	return roster.Account{}, nil
}
