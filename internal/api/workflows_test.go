package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store/storetest"
)

// apiWorkflowDef is a definition as the API takes it: ask in the UI,
// then remove from team.
func apiWorkflowDef(conn int64, team string) map[string]any {
	return map[string]any{
		"description": "Ask, then remove.",
		"connection":  conn,
		"trigger":     map[string]any{"kind": "manual"},
		"steps": []any{
			map[string]any{"id": "ask", "kind": "approval", "approver": "boss@example.com", "timeout": "1h"},
			map[string]any{"id": "remove", "kind": "remove", "team": team},
		},
	}
}

func TestAPIWorkflows(t *testing.T) {
	t.Parallel()
	storetest.Backends(t, func(t *testing.T, db *storeDB) {
		t.Parallel()
		f := newWFFixture(t, db)
		doc := loadOpenAPI(t)
		read := f.newAPIKey(t, "reader", roster.ScopeRead)
		act := f.newAPIKey(t, "robot", roster.ScopeRead, roster.ScopeAct)
		acc := f.member(t)
		team := f.memberTeam(t, acc)

		// call calls the API and checks the answer against openapi.json.
		call := func(method, template, path, key string, body any, want int) apiAnswer {
			t.Helper()
			a := f.api(t, method, path, key, body)
			require.Equal(t, want, a.Status, "%s %s: %s", method, path, a.Body)
			validAnswer(t, doc, f.testBundle, method, template, path, a)
			return a
		}
		const one = "/api/v1/workflows/{workflow}"
		before := storetest.Dump(t, db)

		// Scopes: a read key reads, and cannot act.
		call("GET", "/api/v1/workflows", "/api/v1/workflows", read, nil, 200)
		def := apiWorkflowDef(f.org.ID, team)
		a := call("PUT", one, "/api/v1/workflows/ask-then-remove", read, def, 403)
		code, _, _ := a.errorBody(t)
		require.Equal(t, "insufficient_scope", code)

		// 422 names every bad field; nothing is saved.
		bad := apiWorkflowDef(f.org.ID, "no-such-team")
		bad["trigger"] = map[string]any{"kind": "sometimes"}
		a = call("PUT", one, "/api/v1/workflows/ask-then-remove", act, bad, 422)
		code, field, msg := a.errorBody(t)
		require.Equal(t, "invalid_field", code)
		require.Equal(t, "trigger.kind", field)
		require.Contains(t, msg, "steps[1].team")
		var fields struct {
			Data struct {
				Fields []struct{ Field, Message string }
			}
		}
		a.decode(t, &fields)
		require.Len(t, fields.Data.Fields, 2, string(a.Body))
		def2 := apiWorkflowDef(f.org.ID, team)
		def2["name"] = "another-name"
		a = call("PUT", one, "/api/v1/workflows/ask-then-remove", act, def2, 422)
		_, field, _ = a.errorBody(t)
		require.Equal(t, "name", field)
		a = call("PUT", one, "/api/v1/workflows/ask-then-remove", act, map[string]any{"stepz": 1}, 400)
		_, field, _ = a.errorBody(t)
		require.Equal(t, "stepz", field)
		require.Equal(t, before, storetest.Dump(t, db), "nothing saved")

		// Create, then update.
		a = call("PUT", one, "/api/v1/workflows/ask-then-remove", act, def, 201)
		var got struct{ Data roster.Workflow }
		a.decode(t, &got)
		id := got.Data.ID
		require.NotZero(t, id)
		require.Equal(t, "ask-then-remove", got.Data.Name)
		def["description"] = "Changed."
		a = call("PUT", one, "/api/v1/workflows/ask-then-remove", act, def, 200)
		a.decode(t, &got)
		require.Equal(t, id, got.Data.ID)
		require.Equal(t, "Changed.", got.Data.Description)
		a = call("GET", one, "/api/v1/workflows/ask-then-remove", read, nil, 200)
		a.decode(t, &got)
		require.Equal(t, id, got.Data.ID)
		require.Equal(t, roster.Duration(3600e9), got.Data.Steps[0].Timeout)
		sid := strconv.FormatInt(id, 10)
		call("GET", one, "/api/v1/workflows/"+sid, read, nil, 200)
		call("GET", one, "/api/v1/workflows/nope", read, nil, 404)

		// Dry run: changes nothing.
		a = call("POST", "/api/v1/workflows/{id}/dry-run", "/api/v1/workflows/"+sid+"/dry-run", act,
			map[string]any{"emails": []string{acc.Email, "nobody@example.com"}}, 200)
		var dry struct {
			Data struct {
				Total int
				Runs  []struct{ Email string }
			}
		}
		a.decode(t, &dry)
		require.Equal(t, 1, dry.Data.Total)
		require.Equal(t, acc.Email, dry.Data.Runs[0].Email)
		call("POST", "/api/v1/workflows/{id}/dry-run", "/api/v1/workflows/"+sid+"/dry-run", read, nil, 403)

		// Runs: start, wait, approve.
		call("POST", "/api/v1/workflows/{id}/runs", "/api/v1/workflows/"+sid+"/runs", read, map[string]any{"emails": []string{acc.Email}}, 403)
		call("POST", "/api/v1/workflows/{id}/runs", "/api/v1/workflows/"+sid+"/runs", act, map[string]any{"emails": []string{}}, 400)
		a = call("POST", "/api/v1/workflows/{id}/runs", "/api/v1/workflows/"+sid+"/runs", act,
			map[string]any{"emails": []string{acc.Email, "nobody@example.com"}}, 201)
		var started struct {
			Data struct {
				Started  []struct{ ID int64 }
				Excluded []struct{ Email, Reason string }
			}
		}
		a.decode(t, &started)
		require.Len(t, started.Data.Started, 1)
		require.Equal(t, "nobody@example.com", started.Data.Excluded[0].Email)
		run := started.Data.Started[0].ID
		f.work(t)
		rid := strconv.FormatInt(run, 10)
		a = call("GET", "/api/v1/workflow-runs", "/api/v1/workflow-runs?workflow_id="+sid, read, nil, 200)
		var list struct {
			Data   []struct{ ID int64 }
			Total  int
			Counts map[string]int
		}
		a.decode(t, &list)
		require.Equal(t, 1, list.Total)
		require.Equal(t, 1, list.Counts["waiting"])
		call("GET", "/api/v1/workflow-runs", "/api/v1/workflow-runs?status=bogus", read, nil, 400)
		call("GET", "/api/v1/workflow-runs", "/api/v1/workflow-runs?cursor=bogus", read, nil, 400)
		a = call("GET", "/api/v1/workflow-runs/{id}", "/api/v1/workflow-runs/"+rid, read, nil, 200)
		var detail struct {
			Data struct {
				Status   string
				Step     string
				Steps    []struct{ Status string }
				Approval *struct{ ID int64 }
			}
		}
		a.decode(t, &detail)
		require.Equal(t, "waiting", detail.Data.Status)
		require.Equal(t, "ask", detail.Data.Step)
		require.NotNil(t, detail.Data.Approval)
		aid := strconv.FormatInt(detail.Data.Approval.ID, 10)
		call("POST", "/api/v1/approvals/{id}/approve", "/api/v1/approvals/"+aid+"/approve", read, nil, 403)
		a = call("POST", "/api/v1/approvals/{id}/approve", "/api/v1/approvals/"+aid+"/approve", act, nil, 200)
		require.Contains(t, string(a.Body), `"decided_by":"apikey:robot"`)
		call("POST", "/api/v1/approvals/{id}/deny", "/api/v1/approvals/"+aid+"/deny", act, nil, 409)
		call("POST", "/api/v1/approvals/{id}/deny", "/api/v1/approvals/999999/deny", act, nil, 404)
		f.work(t)
		a = call("GET", "/api/v1/workflow-runs/{id}", "/api/v1/workflow-runs/"+rid, read, nil, 200)
		a.decode(t, &detail)
		require.Equal(t, "succeeded", detail.Data.Status)
		require.Len(t, detail.Data.Steps, 2)
		call("POST", "/api/v1/workflow-runs/{id}/cancel", "/api/v1/workflow-runs/"+rid+"/cancel", act, nil, 409)

		// Deny, and cancel.
		other := f.memberOf(t, team, acc.ID)
		for _, verb := range []string{"deny", "cancel"} {
			a = call("POST", "/api/v1/workflows/{id}/runs", "/api/v1/workflows/"+sid+"/runs", act, map[string]any{"emails": []string{other.Email}}, 201)
			a.decode(t, &started)
			r := strconv.FormatInt(started.Data.Started[0].ID, 10)
			f.work(t)
			if verb == "cancel" {
				call("POST", "/api/v1/workflow-runs/{id}/cancel", "/api/v1/workflow-runs/"+r+"/cancel", read, nil, 403)
				a = call("POST", "/api/v1/workflow-runs/{id}/cancel", "/api/v1/workflow-runs/"+r+"/cancel", act, nil, 200)
				require.Contains(t, string(a.Body), `"status":"cancelled"`)
				continue
			}
			a = call("GET", "/api/v1/workflow-runs/{id}", "/api/v1/workflow-runs/"+r, read, nil, 200)
			a.decode(t, &detail)
			call("POST", "/api/v1/approvals/{id}/deny", fmt.Sprintf("/api/v1/approvals/%d/deny", detail.Data.Approval.ID), act, nil, 200)
			f.work(t)
		}
		a = call("GET", "/api/v1/workflow-runs", "/api/v1/workflow-runs?limit=1&email="+other.Email, read, nil, 200)
		var page struct {
			Data       []json.RawMessage
			Total      int
			NextCursor string `json:"next_cursor"`
			Counts     map[string]int
		}
		a.decode(t, &page)
		require.Equal(t, 2, page.Total)
		require.Len(t, page.Data, 1)
		require.Equal(t, 1, page.Counts["succeeded"])
		require.Equal(t, 1, page.Counts["cancelled"])
		require.NotEmpty(t, page.NextCursor)
		a = call("GET", "/api/v1/workflow-runs", "/api/v1/workflow-runs?limit=1&email="+other.Email+"&cursor="+page.NextCursor, read, nil, 200)
		page.NextCursor = ""
		a.decode(t, &page)
		require.Len(t, page.Data, 1)
		require.Empty(t, page.NextCursor)
		call("GET", "/api/v1/workflows", "/api/v1/workflows", act, nil, 200)
	})
}

// TestAPIWorkflowsWithoutEngine: without an engine the routes say so.
func TestAPIWorkflowsWithoutEngine(t *testing.T) {
	t.Parallel()
	b := setup(t)
	key := b.newAPIKey(t, "reader", roster.ScopeRead)
	a := b.api(t, "GET", "/api/v1/workflows", key, nil)
	require.Equal(t, http.StatusNotFound, a.Status)
	code, _, msg := a.errorBody(t)
	require.Equal(t, "not_found", code)
	require.Contains(t, msg, "not enabled")
}
