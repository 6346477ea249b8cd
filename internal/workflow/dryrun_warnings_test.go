package workflow_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/miro"
	"roster/internal/store"
	"roster/internal/store/storetest"
	"roster/internal/workflow"
)

// manualWorkflow is a manual workflow on the harness's connection, not saved.
func (h *harness) manualWorkflow(name string, steps ...roster.Step) roster.Workflow {
	return roster.Workflow{Name: name, ConnectionID: h.conn.ID, Trigger: roster.Trigger{Kind: roster.TriggerManual}, Steps: steps}
}

// TestDryRunWarnsAboutChannels: a notify step, an approval asked by a
// channel, and the failure notice, each by a channel that is not set
// (the harness sets email and webhook, not Slack), are said at the top of
// the dry run; the steps stop everyone they would run for, the failure
// notice no one.
func TestDryRunWarnsAboutChannels(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storetest.SQLiteDSN(t), smallOrg())
	ctx := context.Background()
	m, _ := h.plainMember(t)
	// Why Slack cannot send, as the notifier says it, without "slack: ".
	unset := strings.TrimPrefix(h.outbox.Channels()[roster.ChannelSlack], "slack: ")
	require.NotEmpty(t, unset)

	// The approval's channel: the request could not be sent.
	w := h.manualWorkflow("ask-by-slack",
		roster.Step{ID: "ask", Kind: roster.StepApproval, Approver: "boss@example.com", Via: roster.ChannelSlack, Timeout: roster.Duration(time.Hour)},
		roster.Step{ID: "sign-out", Kind: roster.StepSignOut})
	d, err := h.engine.Preview(ctx, w, []string{m.Email})
	require.NoError(t, err)
	require.Equal(t, []string{"Step ask cannot ask for approval by slack: " + unset + ". " +
		"Ask in the dashboard instead (via: ui), or set up slack."}, d.Warnings)
	require.Zero(t, d.Total)
	require.Equal(t, 1, d.Stopped)
	require.Equal(t, []workflow.Exclusion{{Email: m.Email, Reason: "step ask would fail: cannot ask by slack: " + unset}}, d.Excluded)
	// Asked in the dashboard, or by a channel that is set: no warning.
	for _, via := range []string{roster.ChannelUI, roster.ChannelEmail} {
		w.Steps[0].Via = via
		d, err = h.engine.Preview(ctx, w, []string{m.Email})
		require.NoError(t, err)
		require.Empty(t, d.Warnings, via)
		require.Equal(t, 1, d.Total, via)
	}

	// A notify step's channel, said even when no one is considered.
	w = h.manualWorkflow("tell-by-slack", roster.Step{ID: "tell", Kind: roster.StepNotify, Channel: roster.ChannelSlack, Text: "hi"})
	d, err = h.engine.Preview(ctx, w, []string{"nobody@example.com"})
	require.NoError(t, err)
	require.Equal(t, []string{"Step tell cannot send its message by slack: " + unset + "."}, d.Warnings)

	// The failure notice names no step: a warning on the workflow alone,
	// which leaves no one out.
	w = h.manualWorkflow("fail-by-slack", roster.Step{ID: "sign-out", Kind: roster.StepSignOut})
	w.OnFailure = &roster.Step{Kind: roster.StepNotify, Channel: roster.ChannelSlack, Text: "{{.Workflow}} failed"}
	d, err = h.engine.Preview(ctx, w, []string{m.Email})
	require.NoError(t, err)
	require.Equal(t, []string{"If a run fails, no one is told: its failure notice goes by slack, which cannot send: " + unset + "."}, d.Warnings)
	require.Equal(t, 1, d.Total)
	w.OnFailure.Channel = roster.ChannelOutbox
	d, err = h.engine.Preview(ctx, w, []string{m.Email})
	require.NoError(t, err)
	require.Empty(t, d.Warnings)
}

// TestDryRunWarnsAboutPeopleAndConnection: a guest, a free license and a
// connection without its SCIM token, in the words the dry run uses.
func TestDryRunWarnsAboutPeopleAndConnection(t *testing.T) {
	t.Parallel()
	h := newHarness(t, storetest.SQLiteDSN(t), smallOrg())
	ctx := context.Background()
	m, _ := h.plainMember(t)
	guest := h.member(t, func(m miro.OrganizationMember) bool {
		return m.Active && m.Role.String() == "organization_team_guest_user"
	})
	free := h.activeFree(t)
	w := h.manualWorkflow("off", roster.Step{ID: "off", Kind: roster.StepDeactivate})

	d, err := h.engine.Preview(ctx, w, []string{m.Email, guest.Email, free.Email})
	require.NoError(t, err)
	require.Empty(t, d.Warnings)
	plans := map[string]string{}
	for _, r := range d.Runs {
		plans[r.Email] = r.Steps[0].Plan
	}
	require.Equal(t, map[string]string{
		m.Email:    "deactivate in the organization, freeing the Full license",
		free.Email: "deactivate in the organization (their license is already free, so no seat is freed)",
	}, plans)
	require.Equal(t, []workflow.Exclusion{{Email: guest.Email,
		Reason: "step off would be refused: guests and external users cannot be deactivated or reactivated through Miro's API"}}, d.Excluded)
	require.Equal(t, []workflow.SeatsFreed{{License: roster.LicenseFull, Seats: 1}}, d.Summary.Seats, "only the paid seat is freed")

	// A bulk deactivation says the same of the free license.
	pre, err := h.engine.PreviewBulk(ctx, workflow.BulkRequest{Action: roster.BulkDeactivate,
		Selection: workflow.BulkSelection{AccountIDs: []int64{free.ID}}, Description: "the free one"}, workflow.PeopleView{})
	require.NoError(t, err)
	require.Len(t, pre.People, 1, "%+v", pre.Summary.Reasons)
	require.Equal(t, "Deactivate (their license is already free, so no seat is freed)", pre.People[0].Plan)

	// The SCIM token removed since: saving is refused, the dry run says
	// what to do instead, for the step and for everyone it would stop.
	conn := h.conn
	conn.SealedSCIMToken = nil
	require.NoError(t, h.DB.UpdateConnection(ctx, &conn))
	_, err = h.engine.Save(ctx, w)
	require.Contains(t, fieldPaths(t, err), "steps[0].kind")
	w.Steps = append(w.Steps, roster.Step{ID: "sign-out", Kind: roster.StepSignOut})
	d, err = h.engine.Preview(ctx, w, []string{m.Email})
	require.NoError(t, err)
	problem := "connection " + strconv.FormatInt(conn.ID, 10) + " cannot deactivate and reactivate users: no SCIM token: add one on the connection's page"
	require.Equal(t, []string{"Step off cannot run: " + problem + "."}, d.Warnings)
	require.Equal(t, []workflow.Exclusion{{Email: m.Email, Reason: "step off would be refused: " + problem}}, d.Excluded)
	left, err := h.engine.PreviewPeople(ctx, w, []string{m.Email}, workflow.PeopleView{LeftOut: true})
	require.NoError(t, err)
	require.Equal(t, workflow.PlannedStep{ID: "off", Kind: roster.StepDeactivate, Plan: "refused: " + problem, Blocked: true}, left.People[0].Steps[0])
	// Any other error still refuses the dry run.
	w.Steps[1].Kind = "moonwalk"
	_, err = h.engine.Preview(ctx, w, []string{m.Email})
	require.Equal(t, []string{"steps[1].kind"}, fieldPaths(t, err))
}

// activeFree is an active, internal account with a free license.
func (h *harness) activeFree(t *testing.T) roster.Account {
	t.Helper()
	accs, err := h.DB.Accounts(context.Background(), store.AccountFilter{License: roster.LicenseFree})
	require.NoError(t, err)
	for _, a := range accs {
		if a.Active && a.Email != "" && !roster.GuestOrExternal(a.OrgRole) {
			return a
		}
	}
	t.Fatal("no active member with a free license")
	return roster.Account{}
}
