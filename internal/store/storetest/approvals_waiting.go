package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/store"
)

// testCountWaitingApprovals checks store.CountWaitingApprovals: it counts
// the pending approvals of live runs only.
func testCountWaitingApprovals(t *testing.T, s store.Store) {
	count := func() int {
		t.Helper()
		n, err := s.CountWaitingApprovals(ctx())
		require.NoError(t, err)
		return n
	}
	require.Zero(t, count(), "an empty store")

	w := newWorkflow(t, s, "offboard", roster.TriggerPersonLeft)
	ask := func(r roster.WorkflowRun, step string) roster.Approval {
		t.Helper()
		a := roster.Approval{RunID: r.ID, StepID: step, Approver: "boss@example.com", ExpiresAt: t0.Add(72 * time.Hour)}
		require.NoError(t, s.CreateApproval(ctx(), &a))
		return a
	}
	running := startRun(t, s, w, "k1", "a@example.com")
	ask(running, "ask")
	waiting := startRun(t, s, w, "k2", "b@example.com")
	waiting.Status = roster.RunWaiting
	ok, err := s.UpdateRun(ctx(), waiting, waiting.Generation, nil, nil)
	require.NoError(t, err)
	require.True(t, ok)
	waitingAsk := ask(waiting, "ask")
	require.Equal(t, 2, count(), "one pending approval on a running run, one on a waiting run")

	// An answered approval is not waiting.
	_, err = s.DecideApproval(ctx(), waitingAsk.ID, roster.ApprovalApproved, "operator:ann@example.com", t0,
		roster.AuditEntry{Actor: "operator:ann@example.com", Kind: "workflow", Action: "approval_approved"})
	require.NoError(t, err)
	require.Equal(t, 1, count())
	// A second question on the live run counts too.
	ask(waiting, "ask2")
	require.Equal(t, 2, count())

	// A pending approval of a run that ended can no longer be answered.
	ended := startRun(t, s, w, "k3", "c@example.com")
	ask(ended, "ask")
	require.Equal(t, 3, count())
	_, err = s.CancelRun(ctx(), ended.ID, "cancelled by ann", roster.AuditEntry{At: t0, Actor: "operator:ann@example.com",
		Kind: "workflow", Action: "run_cancelled", Result: "ok"})
	require.NoError(t, err)
	require.Equal(t, 2, count(), "the cancelled run's question is not counted")

	// The count agrees with the approvals the dashboard lists.
	pending, err := s.Approvals(ctx(), true, 0)
	require.NoError(t, err)
	live := 0
	for _, a := range pending {
		if getRun(t, s, a.RunID).Status.Live() {
			live++
		}
	}
	require.Equal(t, live, count())
}
