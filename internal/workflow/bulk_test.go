package workflow_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/mirosim"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/workflow"
)

// bulkOrg is an organization big enough for a bulk run to have people
// to act on and people to leave out.
func bulkOrg() mirosim.Config {
	return mirosim.Config{Seed: 11, Members: 150, Teams: 6, TeamsPerMember: 2}
}

const bulkActor = "operator:ann@example.com"

// inactiveFull is the users filter "full license, inactive, not
// deactivated" as the users list sends it.
func (h *harness) inactiveFull(t *testing.T) *store.AccountQuery {
	t.Helper()
	s, err := h.DB.Settings(context.Background())
	require.NoError(t, err)
	return &store.AccountQuery{License: roster.LicenseFull, Activity: "inactive", Status: "active", Sort: "email",
		ActiveSince: roster.InactiveBefore(time.Now(), s.InactivityDays)}
}

// listAll is every account q selects.
func (h *harness) listAll(t *testing.T, q store.AccountQuery) []roster.Account {
	t.Helper()
	q.Limit = 1000
	page, err := h.DB.ListAccounts(context.Background(), q)
	require.NoError(t, err)
	require.Empty(t, page.NextCursor)
	return page.Accounts
}

// waitBulk waits until every run of the bulk run has ended, watching its
// progress, and returns it.
func (h *harness) waitBulk(t *testing.T, b roster.BulkRun) workflow.BulkProgress {
	t.Helper()
	var (
		mu   sync.Mutex
		last workflow.BulkProgress
		err  error
	)
	ok := assert.Eventually(t, func() bool {
		p, e := h.engine.Progress(context.Background(), b)
		mu.Lock()
		defer mu.Unlock()
		last, err = p, e
		return e == nil && p.Status == workflow.BulkFinished
	}, 90*time.Second, 50*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.True(t, ok, "bulk run %d did not finish: %+v (last error %v)", b.ID, last, err)
	return last
}

// TestBulkDeactivate selects the inactive full licenses by the users
// filter, previews deactivating them (guests and external users, and
// the account that connects roster, are left out, with why; the seats
// and their price are summed), starts the bulk run, and follows it to
// the simulator's own state; a second start with the same key starts
// nothing.
func TestBulkDeactivate(t *testing.T) {
	t.Parallel()
	eachBackend(t, bulkOrg(), func(t *testing.T, h *harness) {
		ctx := context.Background()
		settings, err := h.DB.Settings(ctx)
		require.NoError(t, err)
		settings.LicensePrices = map[string]float64{roster.LicenseFull: 16}
		require.NoError(t, h.DB.SaveSettings(ctx, settings))

		q := h.inactiveFull(t)
		all := h.listAll(t, *q)
		var want, guests []roster.Account
		for _, a := range all {
			if roster.GuestOrExternal(a.OrgRole) {
				guests = append(guests, a)
			} else {
				want = append(want, a)
			}
		}
		require.NotEmpty(t, want, "inactive full licenses to deactivate")
		require.NotEmpty(t, guests, "external users among them, whom Miro's API cannot deactivate")

		req := workflow.BulkRequest{Action: roster.BulkDeactivate, Selection: workflow.BulkSelection{Filter: q},
			Description: "full license, inactive"}
		calls := h.Sim.Stats().Calls
		pre, err := h.engine.PreviewBulk(ctx, req, workflow.PeopleView{})
		require.NoError(t, err)
		require.Equal(t, calls, h.Sim.Stats().Calls, "a preview calls nothing")
		sum := pre.Summary
		require.Equal(t, len(all), sum.Considered)
		require.Equal(t, len(want), sum.WouldRun)
		require.Equal(t, []workflow.PeopleCount{{Text: "guests and external users cannot be deactivated or reactivated through Miro's API", People: len(guests)}}, sum.Reasons)
		require.Equal(t, []workflow.SeatsFreed{{License: roster.LicenseFull, Seats: len(want), Price: 16, Monthly: 16 * float64(len(want))}}, sum.Seats)
		require.InDelta(t, 16*float64(len(want)), sum.MonthlySaving, 0.001)
		require.Equal(t, "USD", sum.Currency)
		require.Empty(t, sum.PricesMissing)
		require.Len(t, sum.Consequences, 1)
		require.Equal(t, "the organization Example Corp", sum.Consequences[0].Where)
		require.Contains(t, sum.Consequences[0].Text, "their paid license is freed")
		require.Equal(t, len(want), sum.Consequences[0].People)
		require.Len(t, pre.People, min(len(want), workflow.DefaultPeoplePage))
		require.Equal(t, want[0].Email, pre.People[0].Email)
		require.Equal(t, "Deactivate, freeing their Full license", pre.People[0].Plan)
		left, err := h.engine.PreviewBulk(ctx, req, workflow.PeopleView{LeftOut: true})
		require.NoError(t, err)
		require.Len(t, left.People, len(guests))
		require.Equal(t, guests[0].Email, left.People[0].Email)
		require.NotEmpty(t, left.People[0].Reason)

		// Start it.
		req.Key, req.Actor = "bulk-deactivate-1", bulkActor
		start, err := h.engine.StartBulk(ctx, req)
		require.NoError(t, err)
		require.False(t, start.Existed)
		require.Equal(t, len(want), start.Started)
		b := start.Run
		require.Equal(t, len(all), b.Selected)
		require.Equal(t, len(want), b.Runs)
		require.Equal(t, len(guests), b.Excluded)
		require.False(t, b.StartedAt.IsZero())
		require.Equal(t, -b.ID, b.RunsWorkflowID())

		// A double submit: the same key starts nothing.
		again, err := h.engine.StartBulk(ctx, req)
		require.NoError(t, err)
		require.True(t, again.Existed)
		require.Zero(t, again.Started)
		require.Equal(t, b.ID, again.Run.ID)
		// The same key for another action is refused.
		other := req
		other.Action = roster.BulkRemoveFromAllTeams
		_, err = h.engine.StartBulk(ctx, other)
		var be *workflow.BulkError
		require.ErrorAs(t, err, &be)
		require.Equal(t, "key", be.Field)
		require.ErrorIs(t, err, store.ErrConflict)

		p := h.waitBulk(t, b)
		require.Equal(t, workflow.BulkProgress{Run: p.Run, Counts: map[roster.RunStatus]int{roster.RunSucceeded: len(want)},
			Total: len(want), Done: len(want), Status: workflow.BulkFinished}, p)
		// The simulator: each deactivated, its license freed; the guests
		// untouched.
		for _, a := range want {
			m := h.orgMember(t, a.MiroUserID)
			require.False(t, m.Active, a.Email)
			require.Equal(t, roster.LicenseFree, m.License.String(), a.Email)
		}
		for _, a := range guests {
			require.True(t, h.orgMember(t, a.MiroUserID).Active, a.Email)
		}
		require.Equal(t, len(want), h.calls("patchUser"), "one deactivation each")
		page, err := h.DB.BulkRunRuns(ctx, b, store.RunFilter{Limit: 500})
		require.NoError(t, err)
		require.Len(t, page.Runs, len(want))
		for _, r := range page.Runs {
			require.Equal(t, fmt.Sprintf("bulk run %d, by %s", b.ID, bulkActor), r.Trigger)
			require.Equal(t, []roster.Step{{ID: "deactivate", Kind: roster.StepDeactivate}}, r.Definition.Steps)
		}
		entries, err := h.DB.AuditEntries(ctx, store.AuditFilter{Kind: "workflow", Target: fmt.Sprintf("bulk run %d", b.ID)})
		require.NoError(t, err)
		require.Len(t, entries, 1)
		require.Equal(t, bulkActor, entries[0].Actor)
	})
}

// TestBulkRefused: every bad request is refused before anything starts,
// naming what is wrong, by the preview and the start alike.
func TestBulkRefused(t *testing.T) {
	t.Parallel()
	eachBackend(t, smallOrg(), func(t *testing.T, h *harness) {
		ctx := context.Background()
		q := h.inactiveFull(t)
		accs := h.listAll(t, store.AccountQuery{Sort: "email"})
		ids := []int64{accs[0].ID, accs[1].ID, accs[2].ID, accs[3].ID}
		w := h.save(t, roster.Workflow{Name: "sign-out", Trigger: roster.Trigger{Kind: roster.TriggerManual},
			Steps: []roster.Step{{ID: "sign-out", Kind: roster.StepSignOut}}})
		small := &workflow.Engine{Store: h.DB, Actions: h.engine.Actions, Jobs: h.runner, BulkLimit: 3}
		ids4 := workflow.BulkSelection{AccountIDs: ids}
		ids1 := workflow.BulkSelection{AccountIDs: ids[:1]}
		calls := h.Sim.Stats().Calls

		for _, tc := range []struct {
			name   string
			eng    *workflow.Engine
			req    workflow.BulkRequest
			field  string
			saying string
		}{
			{"empty selection", h.engine, workflow.BulkRequest{Action: roster.BulkDeactivate}, "account_ids", "the selection is empty: choose at least one person"},
			{"filter matching no one", h.engine, workflow.BulkRequest{Action: roster.BulkDeactivate,
				Selection: workflow.BulkSelection{Filter: &store.AccountQuery{Search: "no-such-person-anywhere", Sort: "email"}}}, "filter", "no one matches the filter"},
			{"bad filter", h.engine, workflow.BulkRequest{Action: roster.BulkDeactivate,
				Selection: workflow.BulkSelection{Filter: &store.AccountQuery{Status: "sleeping", Sort: "email"}}}, "filter", "status must be"},
			{"unknown ids", h.engine, workflow.BulkRequest{Action: roster.BulkDeactivate,
				Selection: workflow.BulkSelection{AccountIDs: []int64{ids[0], 987654, 987655}}}, "account_ids", "roster knows no account with id 987654, 987655"},
			{"ids over the limit", small, workflow.BulkRequest{Action: roster.BulkDeactivate, Selection: ids4}, "account_ids",
				"4 people are selected, and one bulk run takes at most 3"},
			{"filter over the limit", small, workflow.BulkRequest{Action: roster.BulkDeactivate,
				Selection: workflow.BulkSelection{Filter: &store.AccountQuery{Sort: "email"}}}, "filter",
				fmt.Sprintf("%d people are selected, and one bulk run takes at most 3", len(accs))},
			{"ids and a filter", h.engine, workflow.BulkRequest{Action: roster.BulkDeactivate,
				Selection: workflow.BulkSelection{AccountIDs: ids[:1], Filter: q}}, "account_ids", "not both"},
			{"unknown action", h.engine, workflow.BulkRequest{Action: "delete_everyone", Selection: ids1}, "action",
				`action must be deactivate, remove_from_team, remove_from_all_teams or workflow, not "delete_everyone"`},
			{"no team", h.engine, workflow.BulkRequest{Action: roster.BulkRemoveFromTeam, Selection: ids1}, "team_id", "team_id is required"},
			{"unknown team", h.engine, workflow.BulkRequest{Action: roster.BulkRemoveFromTeam, TeamID: "no-such-team", Selection: ids1}, "team_id",
				`roster knows no team "no-such-team"`},
			{"a team for deactivation", h.engine, workflow.BulkRequest{Action: roster.BulkDeactivate, TeamID: h.Info.TeamIDs[0], Selection: ids1}, "team_id",
				"team_id is for remove_from_team only"},
			{"no workflow", h.engine, workflow.BulkRequest{Action: roster.BulkWorkflow, Selection: ids1}, "workflow_id", "workflow_id is required"},
			{"unknown workflow", h.engine, workflow.BulkRequest{Action: roster.BulkWorkflow, WorkflowID: w.ID + 100, Selection: ids1}, "workflow_id",
				fmt.Sprintf("roster has no workflow %d", w.ID+100)},
		} {
			_, err := tc.eng.PreviewBulk(ctx, tc.req, workflow.PeopleView{})
			var be *workflow.BulkError
			require.ErrorAs(t, err, &be, tc.name)
			require.Equal(t, tc.field, be.Field, tc.name)
			require.Contains(t, be.Message, tc.saying, tc.name)
			require.Contains(t, be.Message, "Nothing was started.", tc.name)
			require.ErrorIs(t, err, store.ErrInvalid, tc.name)

			tc.req.Key, tc.req.Actor = "bulk-"+tc.name, bulkActor
			_, err = tc.eng.StartBulk(ctx, tc.req)
			require.ErrorAs(t, err, &be, tc.name)
			require.Equal(t, tc.field, be.Field, tc.name)
			require.Contains(t, be.Message, tc.saying, tc.name)
		}
		// A start needs a key.
		_, err := h.engine.StartBulk(ctx, workflow.BulkRequest{Action: roster.BulkDeactivate, Selection: ids1, Actor: bulkActor})
		var be *workflow.BulkError
		require.ErrorAs(t, err, &be)
		require.Equal(t, "key", be.Field)

		// Nothing started: no bulk run, no run, no call to Miro.
		list, err := h.DB.BulkRuns(ctx, 0, 10)
		require.NoError(t, err)
		require.Empty(t, list)
		page, err := h.DB.Runs(ctx, store.RunFilter{})
		require.NoError(t, err)
		require.Zero(t, page.Total)
		require.Equal(t, calls, h.Sim.Stats().Calls)
	})
}

// TestBulkRemoveFromTeam leaves out who is not in the team and the team's
// only admin (Miro refuses to remove a team's last admin), and removes the
// others; removal from every team keeps a last admin in their team.
func TestBulkRemoveFromTeam(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storetest.SQLiteDSN(t), bulkOrg())
	ctx := context.Background()
	team, admin, members, outsider := h.teamWithOneAdmin(t)
	sel := workflow.BulkSelection{AccountIDs: []int64{members[0].ID, members[1].ID, admin.ID, outsider.ID}}
	req := workflow.BulkRequest{Action: roster.BulkRemoveFromTeam, TeamID: team.MiroTeamID, Selection: sel}
	pre, err := h.engine.PreviewBulk(ctx, req, workflow.PeopleView{})
	require.NoError(t, err)
	tag := fmt.Sprintf("%s (%s)", team.Name, team.MiroTeamID)
	require.Equal(t, "Remove from team "+tag, pre.Words)
	require.Equal(t, 2, pre.Summary.WouldRun)
	require.Equal(t, []workflow.PeopleCount{
		{Text: "not in team " + tag, People: 1},
		{Text: "the only admin of team " + tag + ": Miro refuses to remove a team's last admin", People: 1},
	}, pre.Summary.Reasons)
	require.Empty(t, pre.Summary.Seats, "a removal frees no seat")
	require.Contains(t, pre.Summary.Consequences[0].Text, "reassigned to the team's admin; nothing is deleted")
	require.Contains(t, pre.Summary.Consequences[0].Text, "keep their license")

	req.Key, req.Actor = "bulk-remove-1", bulkActor
	start, err := h.engine.StartBulk(ctx, req)
	require.NoError(t, err)
	require.Equal(t, 2, start.Started)
	h.waitBulk(t, start.Run)
	for _, m := range members[:2] {
		require.NotContains(t, h.teamsOf(t, m.MiroUserID), team.MiroTeamID, m.Email)
	}
	require.Contains(t, h.teamsOf(t, admin.MiroUserID), team.MiroTeamID, "the last admin stays")

	// Every team: the admin leaves every team but the one they are the
	// only admin of.
	all := workflow.BulkRequest{Action: roster.BulkRemoveFromAllTeams, Selection: workflow.BulkSelection{AccountIDs: []int64{admin.ID}},
		Key: "bulk-remove-all-1", Actor: bulkActor}
	pre, err = h.engine.PreviewBulk(ctx, all, workflow.PeopleView{})
	require.NoError(t, err)
	require.Equal(t, 1, pre.Summary.WouldRun)
	require.Equal(t, []workflow.PeopleCount{{Text: "stay in a team where they are its only admin: Miro refuses to remove a team's last admin", People: 1}}, pre.Summary.Notes)
	start, err = h.engine.StartBulk(ctx, all)
	require.NoError(t, err)
	h.waitBulk(t, start.Run)
	require.Equal(t, []string{team.MiroTeamID}, h.teamsOf(t, admin.MiroUserID))
}

// teamWithOneAdmin is a team with exactly one admin, that admin (who is
// in another team too), two plain members of it, and an active internal
// member outside it.
func (h *harness) teamWithOneAdmin(t *testing.T) (roster.Team, roster.Account, []roster.Account, roster.Account) {
	t.Helper()
	ctx := context.Background()
	teams, err := h.DB.Teams(ctx, h.conn.ID)
	require.NoError(t, err)
	accs := h.listAll(t, store.AccountQuery{Sort: "email", Status: "active"})
	ids := make([]int64, len(accs))
	for i, a := range accs {
		ids[i] = a.ID
	}
	ms, err := h.DB.MembershipsOf(ctx, ids)
	require.NoError(t, err)
	for _, tm := range teams {
		var admins, members []roster.Account
		var outsider roster.Account
		for _, a := range accs {
			i := slices.IndexFunc(ms[a.ID], func(m roster.Membership) bool { return m.MiroTeamID == tm.MiroTeamID })
			switch {
			case i < 0 && a.OrgRole == roster.OrgRoleInternalUser:
				outsider = a
			case i < 0:
			case ms[a.ID][i].Role == roster.TeamRoleAdmin:
				admins = append(admins, a)
			case ms[a.ID][i].Role == roster.TeamRoleMember && a.Email != "" && a.MiroUserID != h.Info.Installs[mirosim.InstallOrgAdmin].UserID:
				members = append(members, a)
			}
		}
		if len(admins) == 1 && len(members) >= 2 && outsider.ID != 0 && len(ms[admins[0].ID]) >= 2 &&
			admins[0].MiroUserID != h.Info.Installs[mirosim.InstallOrgAdmin].UserID && admins[0].Email != "" {
			return tm, admins[0], members, outsider
		}
	}
	t.Fatal("no team with one admin and two members")
	return roster.Team{}, roster.Account{}, nil, roster.Account{}
}

// TestBulkWorkflow runs a saved workflow for chosen people: its
// conditions, and a step that would be refused, leave people out; the
// runs are the workflow's own.
func TestBulkWorkflow(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storetest.SQLiteDSN(t), bulkOrg())
	ctx := context.Background()
	w := h.save(t, roster.Workflow{Name: "reclaim-now", Trigger: roster.Trigger{Kind: roster.TriggerManual},
		Conditions: []roster.Condition{{Field: roster.CondLicense, Op: "is", Value: roster.LicenseFull}},
		Steps:      []roster.Step{{ID: "deactivate", Kind: roster.StepDeactivate}}})
	all := h.listAll(t, *h.inactiveFull(t))
	var member, external roster.Account
	for _, a := range all {
		switch a.OrgRole {
		case roster.OrgRoleInternalUser:
			member = a
		case roster.OrgRoleExternalUser:
			external = a
		}
	}
	require.NotZero(t, member.ID)
	require.NotZero(t, external.ID)
	free := h.listAll(t, store.AccountQuery{License: roster.LicenseFree, Status: "active", Sort: "email"})[0]
	req := workflow.BulkRequest{Action: roster.BulkWorkflow, WorkflowID: w.ID,
		Selection: workflow.BulkSelection{AccountIDs: []int64{member.ID, external.ID, free.ID}}}
	pre, err := h.engine.PreviewBulk(ctx, req, workflow.PeopleView{})
	require.NoError(t, err)
	require.Equal(t, "Run the workflow reclaim-now", pre.Words)
	require.Equal(t, 1, pre.Summary.WouldRun)
	require.ElementsMatch(t, []workflow.PeopleCount{
		{Text: `does not meet the condition "license is full"`, People: 1},
		{Text: "step deactivate would be refused: guests and external users cannot be deactivated or reactivated through Miro's API", People: 1},
	}, pre.Summary.Reasons)
	require.Equal(t, []workflow.SeatsFreed{{License: roster.LicenseFull, Seats: 1}}, pre.Summary.Seats)
	require.Equal(t, member.Email, pre.People[0].Email)
	require.Equal(t, "deactivate in the organization, freeing the Full license", pre.People[0].Steps[0].Plan)

	req.Key, req.Actor = "bulk-workflow-1", bulkActor
	start, err := h.engine.StartBulk(ctx, req)
	require.NoError(t, err)
	require.Equal(t, 1, start.Started)
	require.Equal(t, w.ID, start.Run.RunsWorkflowID())
	runs := h.waitRuns(t, w.ID, 1)
	require.Equal(t, roster.RunSucceeded, runs[0].Status, runs[0].Error)
	require.Equal(t, member.Email, runs[0].Email)
	require.False(t, h.orgMember(t, member.MiroUserID).Active)
	require.True(t, h.orgMember(t, external.MiroUserID).Active)
	require.Equal(t, workflow.BulkFinished, h.waitBulk(t, start.Run).Status)
}

// failingJobs fails to enqueue, as a job queue that went away would.
type failingJobs struct{}

func (failingJobs) EnqueueSteps(context.Context, []workflow.StepJob) error {
	return errors.New("the job queue is gone")
}

// TestBulkResume: a start interrupted after its runs were recorded goes
// on when started again with its key; nothing starts twice, and the
// reconciler gives the runs their jobs.
func TestBulkResume(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storetest.SQLiteDSN(t), bulkOrg())
	ctx := context.Background()
	var ids []int64
	for _, a := range h.listAll(t, *h.inactiveFull(t)) {
		if a.OrgRole == roster.OrgRoleInternalUser && len(ids) < 3 {
			ids = append(ids, a.ID)
		}
	}
	require.Len(t, ids, 3)
	req := workflow.BulkRequest{Action: roster.BulkDeactivate, Selection: workflow.BulkSelection{AccountIDs: ids},
		Key: "bulk-resume-1", Actor: bulkActor}
	broken := &workflow.Engine{Store: h.DB, Actions: h.engine.Actions, Jobs: failingJobs{}}
	_, err := broken.StartBulk(ctx, req)
	require.ErrorContains(t, err, "the job queue is gone")
	list, err := h.DB.BulkRuns(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.True(t, list[0].StartedAt.IsZero(), "its start did not finish")

	again, err := h.engine.StartBulk(ctx, req)
	require.NoError(t, err)
	require.True(t, again.Existed)
	require.Zero(t, again.Started, "the runs were recorded the first time: none starts twice")
	require.Equal(t, 3, again.Run.Runs)
	require.False(t, again.Run.StartedAt.IsZero())

	// Their first steps were never queued: the reconciler queues runs
	// idle for over a minute.
	later := &workflow.Engine{Store: h.DB, Actions: h.engine.Actions, Jobs: h.runner,
		Now: func() time.Time { return time.Now().Add(2 * time.Minute) }}
	_, err = later.Reconcile(ctx)
	require.NoError(t, err)
	p := h.waitBulk(t, again.Run)
	require.Equal(t, 3, p.Done)
	require.Equal(t, 3, h.calls("patchUser"), "one deactivation each")
	for _, id := range ids {
		a, err := h.DB.Account(ctx, id)
		require.NoError(t, err)
		require.False(t, h.orgMember(t, a.MiroUserID).Active)
	}
}
