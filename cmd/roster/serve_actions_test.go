package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/metrics"
	"roster/internal/web"
)

// stubActions answers the organization-wide actions with fixed outcomes.
type stubActions struct {
	web.ActionRunner // the team actions are not called
	action           roster.Action
	allTeams         web.AllTeamsResult
	err              error
}

func (s stubActions) Deactivate(context.Context, web.ActionRequest) (roster.Action, error) {
	return s.action, s.err
}

func (s stubActions) Reactivate(context.Context, web.ActionRequest) (roster.Action, error) {
	return s.action, s.err
}

func (s stubActions) SignOut(context.Context, web.ActionRequest) (roster.Action, error) {
	return s.action, s.err
}

func (s stubActions) RemoveFromAllTeams(context.Context, web.ActionRequest) (web.AllTeamsResult, error) {
	return s.allTeams, s.err
}

// scrapeMetrics is what /metrics serves.
func scrapeMetrics(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	return rec.Body.String()
}

// TestObservedOrgActions: every organization-wide action the dashboard
// or the API runs is counted, and a removal from every team counts each
// team's actions, its skips and its failures.
func TestObservedOrgActions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := metrics.New()
	ok := roster.Action{Key: "k", Status: roster.ActionSucceeded}
	o := observedActions{stubActions{action: ok}, m}
	_, err := o.Deactivate(ctx, web.ActionRequest{})
	require.NoError(t, err)
	_, err = o.Reactivate(ctx, web.ActionRequest{})
	require.NoError(t, err)
	_, err = o.SignOut(ctx, web.ActionRequest{})
	require.NoError(t, err)
	bad := observedActions{stubActions{err: &web.FieldError{Field: "email", Reason: "bad"}}, m}
	_, err = bad.SignOut(ctx, web.ActionRequest{})
	require.Error(t, err)

	all := observedActions{stubActions{allTeams: web.AllTeamsResult{Teams: []web.TeamResult{
		{TeamID: "1", Outcome: web.TeamRemoved, Actions: []roster.Action{
			{Key: "k:1:service", Kind: roster.ActionInvite, Status: roster.ActionSucceeded},
			{Key: "k:1", Kind: roster.ActionRemove, Status: roster.ActionSucceeded}}},
		{TeamID: "2", Outcome: web.TeamSkipped, Reason: "last admin"},
		{TeamID: "3", Outcome: web.TeamFailed, Reason: "store unreadable"},
		{TeamID: "4", Outcome: web.TeamFailed, Actions: []roster.Action{{Key: "k:4", Kind: roster.ActionRemove, Status: roster.ActionFailed}}},
	}}}, m}
	_, err = all.RemoveFromAllTeams(ctx, web.ActionRequest{})
	require.NoError(t, err)
	_, err = observedActions{stubActions{err: errors.New("bad request")}, m}.RemoveFromAllTeams(ctx, web.ActionRequest{})
	require.Error(t, err)

	out := scrapeMetrics(t, m)
	for _, line := range []string{
		`roster_actions_total{kind="deactivate_user",status="succeeded"} 1`,
		`roster_actions_total{kind="reactivate_user",status="succeeded"} 1`,
		`roster_actions_total{kind="sign_out_all_sessions",status="succeeded"} 1`,
		`roster_actions_total{kind="sign_out_all_sessions",status="not_run"} 1`,
		`roster_actions_total{kind="invite_to_team",status="succeeded"} 1`,
		`roster_actions_total{kind="remove_from_team",status="succeeded"} 1`,
		`roster_actions_total{kind="remove_from_team",status="refused"} 1`,
		`roster_actions_total{kind="remove_from_team",status="failed"} 1`,
		`roster_actions_total{kind="remove_from_team",status="not_run"} 2`,
	} {
		require.Contains(t, out, line)
	}
}
