package workflow_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roster"
	"roster/internal/miro"
	"roster/internal/notify"
	"roster/internal/store"
	"roster/internal/workflow"
)

// plainMember is an active internal member with a full license who is a
// plain member (not admin) of at least one team, so no last-admin guard
// applies to removing them.
func (h *harness) plainMember(t *testing.T, exclude ...string) (miro.OrganizationMember, []string) {
	t.Helper()
	for m, err := range h.Admin.OrgMembers(context.Background(), h.Info.OrgID, miro.MemberFilter{}) {
		require.NoError(t, err)
		if !m.Active || m.Role.String() != "organization_internal_user" || m.License.String() != roster.LicenseFull || slices.Contains(exclude, m.ID) {
			continue
		}
		teams, admin := []string{}, false
		for tm, err := range h.Admin.Teams(context.Background(), h.Info.OrgID, "") {
			require.NoError(t, err)
			for tmm, err := range h.Admin.TeamMembers(context.Background(), h.Info.OrgID, tm.ID, "") {
				require.NoError(t, err)
				if tmm.ID == m.ID {
					teams = append(teams, tm.ID)
					admin = admin || tmm.Role.String() == "admin"
				}
			}
		}
		if len(teams) > 0 && !admin {
			return m, teams
		}
	}
	t.Fatal("no plain member in a team")
	return miro.OrganizationMember{}, nil
}

func TestOffboardingTemplate(t *testing.T) {
	t.Parallel()
	eachBackend(t, smallOrg(), func(t *testing.T, h *harness) {
		ctx := context.Background()
		w, err := workflow.Template("offboarding", workflow.TemplateOptions{NotifyChannel: roster.ChannelWebhook})
		require.NoError(t, err)
		w = h.save(t, w)
		m, teams := h.plainMember(t)
		require.NotEmpty(t, teams)

		p := h.person(t, roster.Person{Email: strings.ToUpper(m.Email), Name: "Leaver", Status: roster.PersonActive})
		n, err := h.engine.Evaluate(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "a person joining does not start offboarding")
		p.Status = roster.PersonLeft
		require.NoError(t, h.DB.UpdatePerson(ctx, &p))
		// Someone without a Miro account leaves too: nothing to run.
		h.person(t, roster.Person{Email: "never-used-miro@example.com", Status: roster.PersonActive})
		h.person(t, roster.Person{Email: "never-used-miro@example.com", Status: roster.PersonLeft})
		n, err = h.engine.Evaluate(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)

		runs := h.waitRuns(t, w.ID, 1)
		run := runs[0]
		require.Equal(t, roster.RunSucceeded, run.Status, run.Error)
		tl := h.timeline(t, run.ID)
		for _, id := range []string{"remove-from-teams", "deactivate", "sign-out", "tell-it"} {
			require.Equal(t, roster.StepSucceeded, tl[id].Status, "%s: %s", id, tl[id].Detail)
		}
		require.Contains(t, tl["remove-from-teams"].Detail, strings.Replace(fmt.Sprintf("removed from %d teams", len(teams)), "from 1 teams", "from 1 team", 1))

		// Miro's final state: in no team, deactivated with the license
		// freed, sessions reset once.
		require.Empty(t, h.teamsOf(t, m.ID))
		after := h.orgMember(t, m.ID)
		require.False(t, after.Active)
		require.Equal(t, roster.LicenseFree, after.License.String())
		require.Equal(t, 1, h.calls("enterprise-post-user-sessions-reset"))
		// The steps' actions are in the metrics, as the dashboard's are.
		out := h.scrape(t)
		for _, line := range []string{
			fmt.Sprintf(`roster_actions_total{kind="remove_from_team",status="succeeded"} %d`, len(teams)),
			`roster_actions_total{kind="deactivate_user",status="succeeded"} 1`,
			`roster_actions_total{kind="sign_out_all_sessions",status="succeeded"} 1`,
		} {
			require.Contains(t, out, line)
		}

		// IT was told, by a signed webhook carrying the step's key.
		got := h.hook.Wait(t, 1, 10*time.Second)
		require.Empty(t, h.hook.Rejected())
		require.Equal(t, workflow.ActionKey(run.ID, "tell-it"), got[0].Header.Get(notify.HeaderIdempotencyKey))
		var body notify.WebhookBody
		require.NoError(t, json.Unmarshal(got[0].Body, &body))
		require.Equal(t, "workflow.notify", body.Event)
		require.Contains(t, body.Text, m.Email)
		require.Contains(t, body.Text, "deactivate: succeeded")

		// Evaluating again starts nothing: the event was consumed.
		n, err = h.engine.Evaluate(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		audit, err := h.DB.AuditEntries(ctx, store.AuditFilter{Kind: "workflow"})
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(audit), 5, "run start and four steps are audited")
	})
}

func TestOnboardingTemplate(t *testing.T) {
	t.Parallel()
	eachBackend(t, smallOrg(), func(t *testing.T, h *harness) {
		ctx := context.Background()
		teams, err := h.DB.Teams(ctx, h.conn.ID)
		require.NoError(t, err)
		target := teams[0].MiroTeamID
		// Someone of the organization who is not in the target team.
		var newcomer miro.OrganizationMember
		for m, err := range h.Admin.OrgMembers(ctx, h.Info.OrgID, miro.MemberFilter{}) {
			require.NoError(t, err)
			if m.Active && m.Role.String() == "organization_internal_user" && !slices.Contains(h.teamsOf(t, m.ID), target) {
				newcomer = m
				break
			}
		}
		require.NotEmpty(t, newcomer.ID)
		w, err := workflow.Template("onboarding", workflow.TemplateOptions{Team: target})
		require.NoError(t, err)
		w = h.save(t, w)

		h.person(t, roster.Person{Email: newcomer.Email, Name: "Newcomer", Department: "Design"})
		n, err := h.engine.Evaluate(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		run := h.waitRuns(t, w.ID, 1)[0]
		require.Equal(t, roster.RunSucceeded, run.Status, run.Error)
		require.Contains(t, h.teamsOf(t, newcomer.ID), target)
		tm, err := h.Admin.TeamMember(ctx, h.Info.OrgID, target, newcomer.ID)
		require.NoError(t, err)
		require.Equal(t, "member", tm.Role.String())
		require.Equal(t, 1, h.calls("enterprise-invite-team-member"))
	})
}

func TestLicenseReclaimTemplate(t *testing.T) {
	t.Parallel()
	eachBackend(t, smallOrg(), func(t *testing.T, h *harness) {
		ctx := context.Background()
		// Three people with an unused full license and a manager: one
		// approved, one denied, one left unanswered.
		var cands []roster.Account
		accs, err := h.DB.Accounts(ctx, store.AccountFilter{License: roster.LicenseFull, InactiveSince: time.Now().AddDate(0, 0, -90)})
		require.NoError(t, err)
		for _, a := range accs {
			if a.Active && a.OrgRole == "organization_internal_user" {
				cands = append(cands, a)
			}
		}
		require.GreaterOrEqual(t, len(cands), 3, "the simulator has few inactive full licenses")
		approved, denied, silent := cands[0], cands[1], cands[2]
		h.person(t, roster.Person{Email: approved.Email, ManagerEmail: "boss@example.com", Department: "Sales"})
		h.person(t, roster.Person{Email: denied.Email, ManagerEmail: "boss@example.com", Department: "Sales"})
		h.person(t, roster.Person{Email: silent.Email, ManagerEmail: "quiet@example.com", Department: "Ops"})

		w, err := workflow.Template("license-reclaim", workflow.TemplateOptions{Approval: roster.ChannelEmail, NotifyChannel: roster.ChannelWebhook})
		require.NoError(t, err)
		w.Conditions = append(w.Conditions, roster.Condition{Field: roster.CondDepartment, Op: "is", Value: "Sales"})
		w = h.save(t, w)
		// The same workflow with a short deadline, for the timeout branch.
		fast := w
		fast.ID, fast.Name = 0, "license-reclaim-fast"
		fast.Conditions = []roster.Condition{{Field: roster.CondLicense, Op: "is", Value: "full"}, {Field: roster.CondDepartment, Op: "is", Value: "Ops"}}
		fast.Steps = slices.Clone(w.Steps)
		fast.Steps[0].Timeout = roster.Duration(2 * time.Second)
		fast = h.save(t, fast)

		n, err := h.engine.Evaluate(ctx)
		require.NoError(t, err)
		require.Equal(t, 3, n)

		// The managers are asked by email, with signed links.
		mails := h.smtp.Wait(t, 3, 20*time.Second)
		byTo := map[string][]string{}
		for _, m := range mails {
			byTo[m.To[0]] = append(byTo[m.To[0]], m.Body)
		}
		require.Len(t, byTo["boss@example.com"], 2)
		require.Len(t, byTo["quiet@example.com"], 1)
		links := map[string]string{} // subject email -> body
		for _, body := range byTo["boss@example.com"] {
			for _, e := range []string{approved.Email, denied.Email} {
				if strings.Contains(body, e) {
					links[e] = body
				}
			}
		}
		require.Len(t, links, 2)

		approveTok := tokenOf(linkFrom(t, links[approved.Email], "Approve"))
		denyTok := tokenOf(linkFrom(t, links[denied.Email], "Deny"))
		// A forged token (the answer flipped, the signature kept) is refused.
		forged := flipAnswer(t, approveTok)
		_, err = h.engine.DecideByLink(ctx, forged)
		require.ErrorIs(t, err, workflow.ErrLinkInvalid)
		_, err = h.engine.DecideByLink(ctx, approveTok[:len(approveTok)-2]+"xx")
		require.ErrorIs(t, err, workflow.ErrLinkInvalid)

		a, err := h.engine.DecideByLink(ctx, approveTok)
		require.NoError(t, err)
		require.Equal(t, roster.ApprovalApproved, a.Status)
		_, err = h.engine.DecideByLink(ctx, approveTok)
		require.ErrorIs(t, err, workflow.ErrDecided, "a link answers once")
		_, err = h.engine.DecideByLink(ctx, denyTok)
		require.NoError(t, err)

		runs := h.waitRuns(t, w.ID, 2)
		byEmail := map[string]roster.WorkflowRun{}
		for _, r := range runs {
			require.Equal(t, roster.RunSucceeded, r.Status, r.Error)
			byEmail[r.Email] = r
		}
		// Approved: deactivated, the license freed.
		tl := h.timeline(t, byEmail[approved.Email].ID)
		require.Equal(t, "approved → deactivate", tl["ask-manager"].Branch)
		require.Equal(t, roster.StepSucceeded, tl["deactivate"].Status)
		require.NotContains(t, tl, "tell-denied")
		m := h.orgMember(t, approved.MiroUserID)
		require.False(t, m.Active)
		require.Equal(t, roster.LicenseFree, m.License.String())
		// Denied: the license kept, and the denial reported.
		tl = h.timeline(t, byEmail[denied.Email].ID)
		require.Equal(t, "denied → tell-denied", tl["ask-manager"].Branch)
		require.NotContains(t, tl, "deactivate")
		m = h.orgMember(t, denied.MiroUserID)
		require.True(t, m.Active)
		require.Equal(t, roster.LicenseFull, m.License.String())
		got := h.hook.Wait(t, 1, 10*time.Second)
		require.Contains(t, string(got[0].Body), denied.Email)

		// Unanswered: the deadline takes the timeout branch, which ends.
		silentRun := h.waitRuns(t, fast.ID, 1)[0]
		require.Equal(t, roster.RunSucceeded, silentRun.Status, silentRun.Error)
		tl = h.timeline(t, silentRun.ID)
		require.Equal(t, "timed out → end", tl["ask-manager"].Branch)
		appr, err := h.DB.ApprovalFor(ctx, silentRun.ID, "ask-manager")
		require.NoError(t, err)
		require.Equal(t, roster.ApprovalTimedOut, appr.Status)
		require.True(t, h.orgMember(t, silent.MiroUserID).Active)
		// Its link has expired.
		_, err = h.engine.DecideByLink(ctx, tokenOf(linkFrom(t, byTo["quiet@example.com"][0], "Approve")))
		require.ErrorIs(t, err, workflow.ErrLinkExpired)
		require.Equal(t, 1, h.calls("patchUser"), "one deactivation reached Miro")
	})
}

// flipAnswer turns an approve token into a deny token with the approve
// token's signature.
func flipAnswer(t *testing.T, tok string) string {
	t.Helper()
	enc, sig, ok := strings.Cut(tok, ".")
	require.True(t, ok)
	raw, err := b64.DecodeString(enc)
	require.NoError(t, err)
	flipped := strings.Replace(string(raw), ".approve.", ".deny.", 1)
	require.NotEqual(t, string(raw), flipped)
	return b64.EncodeToString([]byte(flipped)) + "." + sig
}

var b64 = base64.RawURLEncoding

func TestDefaultConnection(t *testing.T) {
	org := func(id int64, st roster.ConnectionStatus) roster.Connection {
		return roster.Connection{ID: id, Level: roster.LevelOrganization, Status: st}
	}
	team := roster.Connection{ID: 9, Level: roster.LevelTeam, Status: roster.StatusActive}

	id, err := workflow.DefaultConnection([]roster.Connection{team, org(2, roster.StatusError), org(3, roster.StatusDisconnected)})
	require.NoError(t, err)
	require.Equal(t, int64(2), id, "the only organization connection not disconnected, even in error")

	_, err = workflow.DefaultConnection([]roster.Connection{team, org(3, roster.StatusDisconnected)})
	require.ErrorIs(t, err, workflow.ErrNoDefaultConnection)
	_, err = workflow.DefaultConnection(nil)
	require.ErrorIs(t, err, workflow.ErrNoDefaultConnection)

	_, err = workflow.DefaultConnection([]roster.Connection{org(1, roster.StatusActive), team, org(4, roster.StatusActive)})
	var amb *workflow.AmbiguousConnectionError
	require.ErrorAs(t, err, &amb)
	require.Equal(t, []int64{1, 4}, amb.IDs)
	require.EqualError(t, err, "one of 1, 4")
}
