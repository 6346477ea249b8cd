package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/workflow"
	"roster/internal/workflow/workflowtest"
)

// bulkLimit is the test engine's selection limit: small, so that a
// selection over it is cheap to make.
const bulkLimit = 5

// newBulkFixture is newWFFixture with a bulk selection limit of bulkLimit.
func newBulkFixture(t *testing.T, db *storeDB) *wfFixture {
	t.Helper()
	wf := &wfFixture{jobs: &workflowtest.Jobs{}}
	wf.fixture = newFixture(t, db, func(c *Config) {
		wf.eng = &workflow.Engine{Store: c.Store, Jobs: wf.jobs, LinkKey: bytes.Repeat([]byte("k"), 32),
			PublicURL: "http://roster.test", Now: c.Now, Actions: c.Actions, BulkLimit: bulkLimit}
		c.Workflows = wf.eng
	})
	return wf
}

// inactiveInternal are up to n active internal members whose full license
// is inactive.
func (f *wfFixture) inactiveInternal(t *testing.T, n int) []roster.Account {
	t.Helper()
	page, err := f.db.ListAccounts(t.Context(), store.AccountQuery{License: roster.LicenseFull, Activity: "inactive", Status: "active",
		OrgRole: roster.OrgRoleInternalUser, Sort: "email", Limit: 1000,
		ActiveSince: roster.InactiveBefore(f.clock.Now(), roster.DefaultSettings().InactivityDays)})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(page.Accounts), n, "inactive internal members with a full license")
	return page.Accounts[:n]
}

func TestAPIBulkRuns(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newBulkFixture(t, db)
		f.enableSCIM(t)
		ctx := t.Context()
		doc := loadOpenAPI(t)
		read := f.newAPIKey(t, "reader", roster.ScopeRead)
		act := f.newAPIKey(t, "robot", roster.ScopeRead, roster.ScopeAct)
		const path, one = "/api/v1/bulk-runs", "/api/v1/bulk-runs/{id}"
		call := func(method, template, p, key string, body any, want int) apiAnswer {
			t.Helper()
			a := f.api(t, method, p, key, body)
			require.Equal(t, want, a.Status, "%s %s: %s", method, p, a.Body)
			validAnswer(t, doc, f.testBundle, method, template, p, a)
			return a
		}
		people := f.inactiveInternal(t, 3)
		ids := []int64{people[0].ID, people[1].ID, people[2].ID}

		// A dry run by the users filter: the summary, and nothing started.
		filter := map[string]any{"license": "full", "activity": "inactive", "status": "active", "role": roster.OrgRoleInternalUser, "q": people[0].Email}
		a := call("POST", path, path, act, map[string]any{"action": "deactivate", "filter": filter, "dry_run": true}, 200)
		var dry One[BulkDryRun]
		a.decode(t, &dry)
		require.Equal(t, "Deactivate in Miro", dry.Data.Words)
		require.Equal(t, 1, dry.Data.Summary.Selected)
		require.Equal(t, 1, dry.Data.Summary.WouldRun)
		require.Len(t, dry.Data.People, 1)
		require.Equal(t, people[0].Email, dry.Data.People[0].Email)
		require.Equal(t, []BulkSeats{{License: roster.LicenseFull, Seats: 1}}, dry.Data.Summary.Seats)
		require.Equal(t, []string{roster.LicenseFull}, dry.Data.Summary.PricesMissing)

		// Start it by ids.
		body := map[string]any{"action": "deactivate", "account_ids": ids, "key": "api-bulk-1"}
		call("POST", path, path, read, body, 403)
		a = call("POST", path, path, act, body, 202)
		var started One[BulkRun]
		a.decode(t, &started)
		b := started.Data
		require.False(t, b.Replayed)
		require.Equal(t, "running", b.Status)
		require.Equal(t, 3, b.Runs)
		require.Equal(t, 3, b.Remaining)
		require.Equal(t, "apikey:robot", b.Actor)
		require.Equal(t, fmt.Sprintf("/workflows/runs?bulk=%d", b.ID), b.RunsPath)
		// The same key again: the same bulk run, nothing started twice.
		a = call("POST", path, path, act, body, 202)
		var replay One[BulkRun]
		a.decode(t, &replay)
		require.True(t, replay.Data.Replayed)
		require.Equal(t, b.ID, replay.Data.ID)
		require.Equal(t, 3, replay.Data.Runs)

		f.work(t)
		a = call("GET", one, fmt.Sprintf("%s/%d", path, b.ID), read, nil, 200)
		var done One[BulkRun]
		a.decode(t, &done)
		require.Equal(t, "finished", done.Data.Status)
		require.Equal(t, 3, done.Data.Done)
		require.Zero(t, done.Data.Remaining)
		require.Equal(t, 3, done.Data.Counts["succeeded"])
		for _, acc := range people {
			m, err := f.kit.Admin.OrgMember(ctx, f.info.OrgID, acc.MiroUserID)
			require.NoError(t, err)
			require.False(t, m.Active, acc.Email)
		}
		call("GET", one, path+"/999999", read, nil, 404)

		// Each bad request: 400 (or 409) naming the field, nothing started.
		w := f.saveWorkflow(t)
		before := f.bulkState(t)
		more := f.inactiveInternal(t, bulkLimit+1)
		over := make([]int64, 0, len(more))
		for _, m := range more {
			over = append(over, m.ID)
		}
		for _, tc := range []struct {
			name   string
			body   map[string]any
			status int
			field  string
			saying string
		}{
			{"empty selection", map[string]any{"action": "deactivate", "account_ids": []int64{}, "key": "k1"}, 400, "account_ids", "the selection is empty"},
			{"no selection", map[string]any{"action": "deactivate", "key": "k1"}, 400, "account_ids", "the selection is empty"},
			{"filter matching no one", map[string]any{"action": "deactivate", "filter": map[string]any{"q": "no-such-person-anywhere"}, "key": "k1"}, 400, "filter", "no one matches the filter"},
			{"unknown ids", map[string]any{"action": "deactivate", "account_ids": []int64{ids[0], 987654}, "key": "k1"}, 400, "account_ids", "roster knows no account with id 987654"},
			{"ids over the limit", map[string]any{"action": "deactivate", "account_ids": over, "key": "k1"}, 400, "account_ids",
				fmt.Sprintf("%d people are selected, and one bulk run takes at most %d", len(over), bulkLimit)},
			{"filter over the limit", map[string]any{"action": "deactivate", "filter": map[string]any{"license": "full"}, "key": "k1"}, 400, "filter",
				fmt.Sprintf("one bulk run takes at most %d", bulkLimit)},
			{"unknown action", map[string]any{"action": "delete_everyone", "account_ids": ids, "key": "k1"}, 400, "action", `not "delete_everyone"`},
			{"no team", map[string]any{"action": "remove_from_team", "account_ids": ids, "key": "k1"}, 400, "team_id", "team_id is required"},
			{"unknown team", map[string]any{"action": "remove_from_team", "team_id": "no-such-team", "account_ids": ids, "key": "k1"}, 400, "team_id", `roster knows no team "no-such-team"`},
			{"no workflow", map[string]any{"action": "workflow", "account_ids": ids, "key": "k1"}, 400, "workflow_id", "workflow_id is required"},
			{"unknown workflow", map[string]any{"action": "workflow", "workflow_id": w.ID + 100, "account_ids": ids, "key": "k1"}, 400, "workflow_id",
				fmt.Sprintf("roster has no workflow %d", w.ID+100)},
			{"missing key", map[string]any{"action": "deactivate", "account_ids": ids}, 400, "key", "key is required"},
			{"bad filter value", map[string]any{"action": "deactivate", "filter": map[string]any{"activity": "sometimes"}, "key": "k1"}, 400, "filter.activity", "activity must be"},
			{"unknown filter", map[string]any{"action": "deactivate", "filter": map[string]any{"colour": "blue"}, "key": "k1"}, 400, "filter.colour", "not a filter of the users list"},
			{"ids and a filter", map[string]any{"action": "deactivate", "filter": filter, "account_ids": ids, "key": "k1"}, 400, "account_ids", "not both"},
			{"unknown field", map[string]any{"action": "deactivate", "account_ids": ids, "key": "k1", "everyone": true}, 400, "everyone", ""},
			{"key of another bulk run", map[string]any{"action": "remove_from_all_teams", "account_ids": ids, "key": "api-bulk-1"}, 409, "key", "already started bulk run"},
		} {
			a := call("POST", path, path, act, tc.body, tc.status)
			_, field, msg := a.errorBody(t)
			require.Equal(t, tc.field, field, "%s: %s", tc.name, msg)
			require.Contains(t, msg, tc.saying, tc.name)
			require.Equal(t, before, f.bulkState(t), "%s started something", tc.name)
		}
		require.Empty(t, f.jobs.Due(f.clock.Now().Add(24*60*60*1e9)), "no step was queued")
	})
}

// saveWorkflow saves a manual workflow that signs people out.
func (f *wfFixture) saveWorkflow(t *testing.T) roster.Workflow {
	t.Helper()
	w, err := f.eng.Save(context.Background(), roster.Workflow{Name: "sign-out", ConnectionID: f.org.ID,
		Trigger: roster.Trigger{Kind: roster.TriggerManual}, Steps: []roster.Step{{ID: "sign-out", Kind: roster.StepSignOut}}})
	require.NoError(t, err)
	return w
}

// bulkState is what a started bulk run would change: the bulk runs, the
// workflow runs and the audit log.
func (f *wfFixture) bulkState(t *testing.T) []string {
	t.Helper()
	ctx := context.Background()
	bs, err := f.db.BulkRuns(ctx, 0, 500)
	require.NoError(t, err)
	runs, err := f.db.Runs(ctx, store.RunFilter{Limit: 500})
	require.NoError(t, err)
	audit, err := f.db.AuditEntries(ctx, store.AuditFilter{})
	require.NoError(t, err)
	out := []string{strconv.Itoa(len(bs)), strconv.Itoa(runs.Total), strconv.Itoa(len(audit))}
	for _, b := range bs {
		out = append(out, fmt.Sprintf("%+v", b))
	}
	return out
}

// TestAPIBulkRunsWithoutEngine: without workflows, the routes say so.
func TestAPIBulkRunsWithoutEngine(t *testing.T) {
	t.Parallel()
	b := setup(t)
	key := b.newAPIKey(t, "robot", roster.ScopeRead, roster.ScopeAct)
	a := b.api(t, "POST", "/api/v1/bulk-runs", key, map[string]any{"action": "deactivate", "account_ids": []int64{1}, "key": "k"})
	require.Equal(t, http.StatusNotFound, a.Status, string(a.Body))
}
